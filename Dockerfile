# syntax=docker/dockerfile:1
#
# lpbridge: a static Go binary (./cmd/bridge) on a distroless base, running
# as the non-root user 65532, as the Helm chart in deploy/helm expects.
#
# NOT BUILT YET: the development machine has no Docker engine, so this file
# has never been run. Build it with BuildKit:
#   docker build -t lpbridge --build-arg VERSION=$(git describe --always) .
# and keep the build context small with a .dockerignore (.git, bin/).
#
# Before publishing, pin both base images by digest (image@sha256:...).

ARG GO_VERSION=1.26

# Build on the builder's own platform and cross-compile: no emulation for
# multi-arch images (docker buildx build --platform linux/amd64,linux/arm64).
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# -mod=mod as in .ci/run: go.mod lists modules as indirect until it is tidied.
ENV CGO_ENABLED=0 GOFLAGS=-mod=mod

# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/lpbridge ./cmd/bridge

# static: no libc (CGO_ENABLED=0), CA certificates for https to LivePerson,
# tzdata, a writable /tmp; "nonroot" runs as 65532:65532 and has no shell.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="lpbridge" \
      org.opencontainers.image.description="LivePerson Chat Agent API to NATS JetStream bridge" \
      org.opencontainers.image.source="https://github.com/lpbridge/lpbridge" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/lpbridge /lpbridge
USER 65532:65532
# /metrics, /livez, /readyz (BRIDGE_HTTP_ADDR, :8080 in the chart).
EXPOSE 8080
ENTRYPOINT ["/lpbridge"]
