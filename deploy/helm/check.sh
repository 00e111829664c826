#!/usr/bin/env bash
# Checks the lpbridge Helm chart: helm lint, helm template with default
# values, with the ServiceMonitor enabled and with values-cluster.yaml (the
# clustered setup: 3 replicas, R3, PDB, topology spread), then the Go tests in this
# directory that decode the rendered objects (probes, Secret references,
# PDB, ServiceMonitor only when enabled, no secrets in plain text, refused
# unsafe values, replicas and strategy under the ownership lease, the grace
# period around the shutdown bound, config keys against the README, NOTES).
#
# helm is built from the module cache with `go install helm@version`, the
# same mechanism as `go run helm@version`: it never enters go.mod. The first
# build downloads and compiles helm (about 3.5 minutes on 2 shared cores);
# later runs reuse Go's build cache (seconds). Installing once lets the ~20
# helm invocations share one binary instead of linking it per `go run`.
set -euo pipefail
cd "$(dirname "$0")/../.."

HELM_MODULE=helm.sh/helm/v3/cmd/helm@v3.22.0
CHART=deploy/helm/lpbridge
# A helm built from source reports Kubernetes v1.20 (releases set the real
# version with ldflags); the chart requires >=1.23.
KUBE_VERSION=1.31.0
export GOFLAGS=-mod=mod

bin=$(mktemp -d)
out=$(mktemp -d)
trap 'rm -rf "$bin" "$out"' EXIT

echo "== build $HELM_MODULE"
start=$(date +%s)
GOBIN="$bin" go install "$HELM_MODULE"
echo "   built in $(( $(date +%s) - start ))s"
helm() { "$bin/helm" "$@"; }

echo "== helm lint"
helm lint --strict "$CHART"
helm lint --strict "$CHART" --set serviceMonitor.enabled=true
helm lint --strict "$CHART" -f "$CHART/values-cluster.yaml"

echo "== helm template (default values, serviceMonitor enabled)"
helm template lpbridge "$CHART" --kube-version "$KUBE_VERSION" >"$out/default.yaml"
helm template lpbridge "$CHART" --kube-version "$KUBE_VERSION" \
  --set serviceMonitor.enabled=true >"$out/servicemonitor.yaml"
kinds() { sed -n 's/^kind: //p' "$1" | sort | tr '\n' ' '; }
echo "   default:        $(kinds "$out/default.yaml")"
echo "   serviceMonitor: $(kinds "$out/servicemonitor.yaml")"
echo "== helm template (values-cluster.yaml: 3 replicas, R3, PDB, topology spread)"
helm template lpbridge "$CHART" --kube-version "$KUBE_VERSION" -f "$CHART/values-cluster.yaml" \
  --set config.BRIDGE_LP_ACCOUNT=12345678 --set agents.secretName=lpbridge-agents >"$out/cluster.yaml"
echo "   cluster:        $(kinds "$out/cluster.yaml")"
for want in '^  replicas: 3$' 'BRIDGE_STREAM_REPLICAS: "3"' '^kind: PodDisruptionBudget$' 'topologySpreadConstraints:' \
  'BRIDGE_NATS_URL: "nats://nats-0' 'type: RollingUpdate'; do
  if ! grep -q -- "$want" "$out/cluster.yaml"; then
    echo "values-cluster.yaml: rendered objects lack $want" >&2; exit 1
  fi
done
if grep -q '^kind: ServiceMonitor' "$out/default.yaml"; then
  echo "ServiceMonitor rendered with default values" >&2; exit 1
fi
if ! grep -q '^kind: ServiceMonitor' "$out/servicemonitor.yaml"; then
  echo "no ServiceMonitor with serviceMonitor.enabled=true" >&2; exit 1
fi
if grep -q '^kind: Secret' "$out/default.yaml" "$out/servicemonitor.yaml"; then
  echo "the chart renders a Secret: secrets must be created outside it" >&2; exit 1
fi

echo "== chart tests (go test ./deploy/helm/)"
LPBRIDGE_HELM=1 HELM="$bin/helm" go test -count=1 ./deploy/helm/

echo "== chart OK"
