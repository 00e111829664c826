#!/usr/bin/env bash
# Runs the browser test of the simulator's visitor console (test.js) against
# the bridge's embedded default, with examples/gobot answering as bot.one and
# bot.two. For CI:
#
#   examples/console/run.sh
#
# Knobs: CONSOLE_SCREENSHOT (where the screenshot goes; examples/console/out/console.png),
# CHROMIUM (/usr/bin/chromium), TIMEOUT (seconds for the browser test, 120).
# Needs node >= 20, npm, Go, and Debian's chromium (never `npx playwright install`).
set -euo pipefail
orig="$PWD"
cd "$(dirname "$0")"
TIMEOUT="${TIMEOUT:-120}"
shot="${CONSOLE_SCREENSHOT:-$PWD/out/console.png}"
case "$shot" in /*) ;; *) shot="$orig/$shot" ;; esac

npm ci --no-audit --no-fund --silent

root="$(cd ../.. && pwd)"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$root" && go build -o "$tmp/bridge" ./cmd/bridge && go build -o "$tmp/gobot" ./examples/gobot)

# The embedded default, with JSON logs to find the NATS and console URLs in.
env $(env | grep -o '^BRIDGE_[A-Z0-9_]*' | sed 's/^/-u /') \
  BRIDGE_LOG_FORMAT=json BRIDGE_SHOW_EVENTS=false \
  BRIDGE_EMBEDDED_NATS_DIR="$tmp/nats" BRIDGE_HTTP_ADDR=127.0.0.1:0 "$tmp/bridge" >/dev/null 2>"$tmp/bridge.log" &
bridge=$!
pids+=("$bridge")
NATS_URL="" CONSOLE_URL=""
for _ in $(seq 1 600); do
  NATS_URL="$(grep -o '"msg":"bridge running".*"nats":"nats://[^"]*"' "$tmp/bridge.log" | grep -o 'nats://[^"]*' | head -1 || true)"
  CONSOLE_URL="$(grep -o '"msg":"visitor console","url":"http://[^"]*"' "$tmp/bridge.log" | grep -o 'http://[^"]*' | head -1 || true)"
  [ -n "$NATS_URL" ] && [ -n "$CONSOLE_URL" ] && break
  if ! kill -0 "$bridge" 2>/dev/null; then
    echo "bridge exited:"; cat "$tmp/bridge.log"; exit 1
  fi
  sleep 0.1
done
if [ -z "$NATS_URL" ] || [ -z "$CONSOLE_URL" ]; then
  echo "bridge did not start in time (nats '$NATS_URL', console '$CONSOLE_URL'):"; cat "$tmp/bridge.log"; exit 1
fi
echo "console test: bridge on $NATS_URL, visitor console $CONSOLE_URL"

# A bot per demo agent: the simulator routes a chat to either.
for agent in bot_one bot_two; do
  "$tmp/gobot" -nats "$NATS_URL" -agent "$agent" >"$tmp/gobot-$agent.log" 2>&1 &
  pids+=("$!")
done
for agent in bot_one bot_two; do
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$tmp/gobot-$agent.log" && break
    sleep 0.1
  done
  grep -q 'listening on' "$tmp/gobot-$agent.log" || { echo "gobot $agent did not start:"; cat "$tmp/gobot-$agent.log"; exit 1; }
done

status=0
CONSOLE_URL="$CONSOLE_URL" NATS_URL="$NATS_URL" CONSOLE_SCREENSHOT="$shot" timeout "$TIMEOUT" node test.js || status=$?
if [ "$status" -ne 0 ]; then
  echo "FAIL: console test exited $status; bots and bridge said:"
  tail -n 20 "$tmp"/gobot-*.log
  tail -n 40 "$tmp/bridge.log"
  exit 1
fi
echo "OK: the bot's answer appeared in the visitor console; screenshot $shot"
