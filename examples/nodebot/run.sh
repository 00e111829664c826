#!/usr/bin/env bash
# Runs examples/nodebot against a bridge and checks that it answered visitor
# lines through request-reply commands. For CI:
#
#   examples/nodebot/run.sh                 # builds and starts cmd/bridge on its embedded default
#   NATS_URL=nats://host:4222 examples/nodebot/run.sh   # uses a bridge that is already running
#
# Knobs: MAX (lines to answer, 2), TIMEOUT (seconds, 120), LP_ACCOUNT
# (55500011), LP_AGENT (bot_one). Needs node >= 18 and npm.
set -euo pipefail
cd "$(dirname "$0")"
MAX="${MAX:-2}"
TIMEOUT="${TIMEOUT:-120}"

npm ci --no-audit --no-fund

if [ -z "${NATS_URL:-}" ]; then
  root="$(cd ../.. && pwd)"
  tmp="$(mktemp -d)"
  (cd "$root" && go build -o "$tmp/bridge" ./cmd/bridge)
  # The embedded default, with JSON logs to find the embedded NATS URL in.
  env $(env | grep -o '^BRIDGE_[A-Z0-9_]*' | sed 's/^/-u /') \
    BRIDGE_LOG_FORMAT=json BRIDGE_SHOW_EVENTS=false BRIDGE_SIM_VISITORS_PER_MINUTE=120 \
    BRIDGE_EMBEDDED_NATS_DIR="$tmp/nats" BRIDGE_HTTP_ADDR=127.0.0.1:0 "$tmp/bridge" >/dev/null 2>"$tmp/bridge.log" &
  bridge=$!
  trap 'kill -TERM "$bridge" 2>/dev/null || true; wait "$bridge" 2>/dev/null || true; rm -rf "$tmp"' EXIT
  for _ in $(seq 1 600); do
    NATS_URL="$(grep -o '"msg":"bridge running".*"nats":"nats://[^"]*"' "$tmp/bridge.log" | grep -o 'nats://[^"]*' | head -1 || true)"
    [ -n "$NATS_URL" ] && break
    if ! kill -0 "$bridge" 2>/dev/null; then
      echo "bridge exited:"; cat "$tmp/bridge.log"; exit 1
    fi
    sleep 0.1
  done
  if [ -z "$NATS_URL" ]; then
    echo "bridge did not start in time:"; cat "$tmp/bridge.log"; exit 1
  fi
fi

echo "nodebot against $NATS_URL"
status=0
out="$(timeout "$TIMEOUT" node bot.js --nats "$NATS_URL" --account "${LP_ACCOUNT:-55500011}" \
  --agent "${LP_AGENT:-bot_one}" --max "$MAX" 2>&1)" || status=$?
echo "$out"
answered="$(grep -c 'answered line' <<<"$out" || true)"
if [ "$status" -ne 0 ] || [ "$answered" -lt "$MAX" ]; then
  echo "FAIL: nodebot exited $status after answering $answered lines (want $MAX)"
  exit 1
fi
echo "OK: nodebot answered $answered lines"
