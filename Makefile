# lpbridge — common tasks. `make run` needs no configuration at all.
GO ?= go
GOLANGCI_LINT_VERSION ?= v2.15.0
FUZZTIME ?= 10s

.PHONY: run sim test lint fmt vet bench scale chaos fuzz ci image

## run: the bridge on its embedded default (embedded NATS + simulator, events printed live)
run:
	$(GO) run ./cmd/bridge

## sim: the LivePerson simulator alone on 127.0.0.1:8280
sim:
	$(GO) run ./cmd/lpsim

## test: every test with the race detector
test:
	$(GO) test -race -count=1 ./...

## lint: gofmt, go vet and golangci-lint
lint: fmt vet
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt wants to change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## bench: the Go benchmarks (client overhead per poll, poller tick, ...)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## scale: the scale bench (cmd/scalebench): nats-server, lpsim and the bridge as processes, one table.
## Knobs: AGENTS, CHATS (per agent), LINE_EVERY (per chat), POLL, DURATION, WARMUP, TLS (true/false);
## e.g. make scale AGENTS=1000 DURATION=45s. See README, Performance.
scale:
	$(GO) run ./cmd/scalebench $(if $(AGENTS),-agents $(AGENTS)) $(if $(CHATS),-chats $(CHATS)) \
	  $(if $(LINE_EVERY),-line-every $(LINE_EVERY)) $(if $(POLL),-poll $(POLL)) $(if $(DURATION),-duration $(DURATION)) \
	  $(if $(WARMUP),-warmup $(WARMUP)) $(if $(TLS),-tls=$(TLS))

## chaos: the chaos run (cmd/chaos): a 3-node NATS cluster, lpsim and three bridges as processes, SIGKILLs of
## bridges and NATS nodes, a rolling restart; one table, exit 1 when anything was lost, doubled or out of order.
## Knobs: DURATION (default 3m; 60s is the CI form), CHAOS_FLAGS (e.g. -sim-faults -outage -keep).
chaos:
	$(GO) run ./cmd/chaos $(if $(DURATION),-duration $(DURATION)) $(CHAOS_FLAGS)

## fuzz: a short run of every fuzz target (FUZZTIME each)
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## ci: what .ci/run does
ci: lint test fuzz

## image: the container image, without a Docker engine (tools/imagebuild): $(IMAGE_DIR)/oci (OCI layout),
## $(IMAGE_DIR)/lpbridge.tar (docker-archive for podman load / kind load image-archive), its digest printed.
## Needs Debian's ca-certificates and tzdata; reproducible: same commit, same digest.
# -buildvcs=false: Go stamps VCS data in a clone but not in a git worktree, which
# would make the digest depend on how the tree was checked out; the image's
# revision label carries the commit instead.
IMAGE_DIR ?= bin/image
IMAGE_REPO ?= ghcr.io/lpbridge/lpbridge
# The chart's appVersion, so that the chart's default image is this one.
IMAGE_TAG ?= $(shell sed -n 's/^appVersion: *"*\([^"]*\)"*$$/\1/p' deploy/helm/lpbridge/Chart.yaml)
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
image:
	@mkdir -p $(IMAGE_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o $(IMAGE_DIR)/lpbridge ./cmd/bridge
	cd tools/imagebuild && SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) $(GO) run . \
	  -binary $(abspath $(IMAGE_DIR))/lpbridge -out $(abspath $(IMAGE_DIR)) \
	  -repo $(IMAGE_REPO) -tag $(IMAGE_TAG) -arch $(IMAGE_ARCH) \
	  -revision $$(git rev-parse HEAD) -version $$(git describe --tags --always --dirty)
