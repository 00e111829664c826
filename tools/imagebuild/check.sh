#!/usr/bin/env bash
# Checks the container image (CI): builds it twice with `make image` and
# fails unless both digests are equal, prints the digest, lints and tests
# tools/imagebuild (TestImageContents reads the image just built: binary,
# CA certificates, zoneinfo, passwd; user, entrypoint, port, labels), then,
# when podman is installed, loads the docker-archive, starts the image on
# its embedded default and reads /livez.
#
# Needs Debian's ca-certificates and tzdata (the base layer's files), and
# podman with runc for the smoke test; .ci/run installs them.
#
# On this sandbox podman runs the image only with runc and lowered ulimits:
# with its defaults, crun fails with
#   crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted
# (the sandbox lacks CAP_SYS_RESOURCE, and podman asks for nofile 1048576),
# and with lower ulimits crun still refuses the machine's cgroups:
#   crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2
# runc handles the cgroup v1 + v2 hybrid. --network=host: the bridge's
# HTTP port is then on this machine's 127.0.0.1, and no traffic leaves the
# loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export GOFLAGS=-mod=mod
GOLANGCI_LINT=github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
LIVEZ_TIMEOUT=${LIVEZ_TIMEOUT:-60} # seconds until the container answers /livez

first=bin/image
second=bin/image-again
echo "== make image (twice)"
make --no-print-directory image IMAGE_DIR="$first"
make --no-print-directory image IMAGE_DIR="$second"
digest=$(cat "$first/digest")
if [ "$digest" != "$(cat "$second/digest")" ]; then
  echo "FAIL: two builds of one commit differ: $digest and $(cat "$second/digest")" >&2
  exit 1
fi
echo "image digest: $digest (two builds, equal)"
rm -rf "$second"

echo "== tools/imagebuild: vet, lint, tests on the image just built"
(
  cd tools/imagebuild
  go vet ./...
  go run "$GOLANGCI_LINT" run ./...
  LPBRIDGE_IMAGE_DIR="$root/$first" go test -race -count=1 -v ./...
)

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  echo "SKIP smoke test: podman or runc is not installed (apt-get install -y podman runc)"
  exit 0
fi

echo "== smoke test: podman run, then /livez"
ref=$(podman load -q -i "$first/lpbridge.tar" | sed -n 's/^Loaded image[^:]*: //p' | tail -1)
echo "loaded $ref"
name="lpbridge-smoke-$$"
podman_run=(podman --runtime runc run -d --name "$name" --network=host
  --ulimit nofile=1024:1024 --ulimit nproc=4096:4096
  -e BRIDGE_HTTP_ADDR=127.0.0.1:0 -e BRIDGE_LOG_FORMAT=json "$ref")
echo "${podman_run[*]}"
"${podman_run[@]}" >/dev/null
trap 'podman rm -f "$name" >/dev/null 2>&1 || true' EXIT

addr=""
for _ in $(seq 1 $((LIVEZ_TIMEOUT * 10))); do
  addr=$(podman logs "$name" 2>&1 | grep -o '"msg":"serving /metrics, /livez, /readyz".*"addr":"[^"]*"' |
    sed 's/.*"addr":"\([^"]*\)"/\1/' | head -1 || true)
  [ -n "$addr" ] && curl -fsS -m 2 "http://$addr/livez" >/dev/null 2>&1 && break
  if [ "$(podman inspect -f '{{.State.Running}}' "$name")" != true ]; then
    echo "FAIL: the container exited:" >&2; podman logs "$name" >&2; exit 1
  fi
  sleep 0.1
done
if [ -z "$addr" ] || ! livez=$(curl -fsS -m 2 "http://$addr/livez"); then
  echo "FAIL: no /livez within ${LIVEZ_TIMEOUT}s:" >&2; podman logs "$name" >&2; exit 1
fi
user=$(podman top "$name" user 2>/dev/null | sed -n 2p || true)
echo "OK: /livez on $addr answered $livez (container user: ${user:-?})"
