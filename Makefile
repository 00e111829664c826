# lpbridge — common tasks. `make run` needs no configuration at all.
GO ?= go
GOLANGCI_LINT_VERSION ?= v2.15.0
FUZZTIME ?= 10s

.PHONY: run sim test lint fmt vet bench fuzz ci image

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

## fuzz: a short run of every fuzz target (FUZZTIME each)
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## ci: what .ci/run does
ci: lint test fuzz

## image: the container image (needs a Docker engine; CI has none, so this is not run there)
IMAGE ?= lpbridge:dev
image:
	docker build -t $(IMAGE) .
