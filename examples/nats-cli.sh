#!/usr/bin/env bash
# Runs the walk-through examples/nats-cli.md (CI): every command of its `sh`
# blocks, in order, in one shell (so $CHAT carries over), with the nats CLI
# the page pins, against the bridge's embedded default, and checks each
# answer against the page:
#
#   go install …@vX            run as written (into a temporary GOBIN); @latest is refused
#   … go run ./cmd/bridge      the bridge is built and started with the line's BRIDGE_* settings
#   export NATS_URL=…          set to the URL the bridge logged instead
#   nats sub … &               started in the background; by the end of its section
#                              it must have received a message
#   nats sub … (no --count)    runs until its first message, then is stopped
#   …  # interactive           not run (it waits for a person)
#   nats req …                 its reply must match the `# {…}` lines under it (every
#                              "key":"value" and "key":true|false pair, "..." elided),
#                              else the error code in its comment (`# chat_not_found`),
#                              else "ok":true; a request repeated word for word must get
#                              the same reply (the command id was seen)
#   nats pub …                 the `# {…}` lines under it must reach the section's
#                              background subscriber
#   anything else              must exit 0 and print the CAPITALISED names in its comment
#
# Two departures from a person at a shell, both for time: the scripted visitors
# end their chats after a few lines (about 25s), so the script starts the bridge
# with BRIDGE_SIM_VISITORS_PER_MINUTE=0 and asks the simulator for visitors
# that stay about a minute (same script, more lines); and bot.two's chat.close, which must
# wait until bot.two has accepted the transferred chat, is retried.
#
# Knobs: NATS_CMD_TIMEOUT (seconds for one nats command, 60), MD (the page).
set -euo pipefail
cd "$(dirname "$0")/.."
MD=${MD:-examples/nats-cli.md}
NATS_CMD_TIMEOUT=${NATS_CMD_TIMEOUT:-60}
export GOFLAGS=${GOFLAGS:--mod=mod}

tmp=$(mktemp -d)
bridge=""
bg_pids=()
cleanup() {
  for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  if [ -n "$bridge" ]; then kill -TERM "$bridge" 2>/dev/null || true; wait "$bridge" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$tmp/bridge.log" ] && { echo "--- bridge log (tail)" >&2; tail -20 "$tmp/bridge.log" >&2; }
  exit 1
}

# A nats on PATH that gives up after NATS_CMD_TIMEOUT: no command of the page
# can hang CI. It execs, so a background subscriber's pid is its own.
mkdir -p "$tmp/gobin" "$tmp/bin"
cat >"$tmp/bin/nats" <<EOF
#!/bin/sh
exec timeout $NATS_CMD_TIMEOUT "$tmp/gobin/nats" "\$@"
EOF
chmod +x "$tmp/bin/nats"
export PATH="$tmp/bin:$PATH"

# commands prints the page's sh blocks as records: "SECTION\t<heading>" and
# "LINE\t<line>", with backslash-continued lines joined.
commands() {
  awk '
    /^## /   { print "SECTION\t" substr($0, 4); next }
    /^```sh/ { insh = 1; next }
    /^```/   { insh = 0; next }
    insh && /^[[:space:]]*$/ { next }
    insh {
      line = $0
      if (cont != "") { sub(/^[[:space:]]+/, "", line); line = cont " " line; cont = "" }
      if (line ~ /\\$/) { cont = substr(line, 1, length(line) - 1); sub(/[[:space:]]+$/, "", cont); next }
      print "LINE\t" line
    }' "$MD"
}

start_bridge() { # $1: the page's line, e.g. BRIDGE_COMMANDS_DURABLE=true go run ./cmd/bridge
  local settings=() w
  for w in ${1%%go run*}; do
    [[ $w == BRIDGE_*=* ]] || fail "cannot start the bridge as in: $1"
    settings+=("$w")
  done
  go build -o "$tmp/bridge" ./cmd/bridge
  : >"$tmp/bridge.log"
  # The embedded default, with JSON logs to find the URLs in; any BRIDGE_*
  # of the caller's environment is dropped.
  # shellcheck disable=SC2046 # one -u word per variable
  env $(env | grep -o '^BRIDGE_[A-Z0-9_]*' | sed 's/^/-u /') "${settings[@]}" \
    BRIDGE_LOG_FORMAT=json BRIDGE_SHOW_EVENTS=false BRIDGE_SIM_VISITORS_PER_MINUTE=0 \
    BRIDGE_EMBEDDED_NATS_DIR="$tmp/nats" BRIDGE_HTTP_ADDR=127.0.0.1:0 \
    "$tmp/bridge" >/dev/null 2>"$tmp/bridge.log" &
  bridge=$!
  local sim=""
  for _ in $(seq 1 600); do
    bridge_url=$(grep -o '"msg":"bridge running".*"nats":"nats://[^"]*"' "$tmp/bridge.log" | grep -o 'nats://[^"]*' | head -1 || true)
    sim=$(grep -o '"msg":"embedded LivePerson simulator started".*"url":"http://[^"]*"' "$tmp/bridge.log" | grep -o 'http://[^"]*' | head -1 || true)
    [ -n "$bridge_url" ] && [ -n "$sim" ] && break
    kill -0 "$bridge" 2>/dev/null || fail "the bridge exited"
    sleep 0.1
  done
  [ -n "$bridge_url" ] || fail "the bridge did not start within 60s"
  # Scripted visitors whose chats last about a minute: long enough for the
  # steps that use one, short enough that each bot keeps getting new chats
  # (step 5 waits for one at bot.one, whose four slots would stay full with
  # chats that never end).
  curl -fsS -X POST -d '{"chatsPerMinute":20,"linesPerChat":12,"maxConcurrent":10}' \
    "$sim/sim/accounts/55500011/scripted-visitors" >/dev/null || fail "simulator control API at $sim"
  echo "   bridge $bridge_url, simulator $sim (visitors that stay)"
}

# expect_fragments prints the "key":"value" and "key":true|false pairs of a
# `# {…}` line, leaving out elided values and free text.
expect_fragments() {
  grep -oE '"[A-Za-z]+":("[^"]*"|true|false)' <<<"$1" | grep -vE '":"\.\.\."$|^"message":' || true
}

# has_all: $1 (text) holds every fragment listed in $2 on one line.
has_all() {
  local line f ok
  while IFS= read -r line; do
    ok=1
    while IFS= read -r f; do
      [ -z "$f" ] || [[ $line == *"$f"* ]] || { ok=0; break; }
    done <<<"$2"
    [ $ok = 1 ] && return 0
  done <<<"$1"
  return 1
}

# wait_for: polls file $1 until it holds a line with every fragment of $2.
wait_for() {
  for _ in $(seq 1 $((NATS_CMD_TIMEOUT * 10))); do
    has_all "$(cat "$1")" "$2" && return 0
    sleep 0.1
  done
  return 1
}

section_bg=() # "pid file command" of the section's background subscribers
end_section() {
  local entry pid file cmd
  for entry in "${section_bg[@]}"; do
    read -r pid file cmd <<<"$entry"
    wait_for "$file" 'Received on' || fail "no message reached: $cmd"
    kill -TERM "$pid" 2>/dev/null || true
    echo "   ok (background, $(grep -c 'Received on' "$file") messages): $cmd"
  done
  section_bg=()
}

last_kind="" last_out="" n=0
declare -A replies
while IFS=$'\t' read -r -u 3 kind line; do
  if [ "$kind" = SECTION ]; then
    end_section
    echo "== $line"
    continue
  fi
  cmd=${line%% \# *}
  cmd=${cmd%"${cmd##*[![:space:]]}"}
  comment=""
  [[ $line == *" # "* ]] && comment=${line#* \# }

  # An expected answer under the command before.
  if [[ $line == "# {"* ]]; then
    want=$(expect_fragments "${line#\# }")
    case $last_kind in
      req) has_all "$last_out" "$want" || fail "the answer $last_out lacks $(tr '\n' ' ' <<<"$want")" ;;
      pub) [ ${#section_bg[@]} -gt 0 ] || fail "no background subscriber for: $line"
           read -r _ file _ <<<"${section_bg[-1]}"
           wait_for "$file" "$want" || fail "the subscriber did not see $(tr '\n' ' ' <<<"$want")" ;;
      *) fail "an answer under a command that has none: $line" ;;
    esac
    echo "   answer as on the page: ${line#\# }"
    continue
  fi
  [[ $line == "#"* ]] && continue
  n=$((n + 1))
  last_kind=""

  case $cmd in
    "go install "*)
      [[ $cmd == *@latest* ]] && fail "the page installs @latest: pin a version ($cmd)"
      echo "\$ $cmd"
      GOBIN="$tmp/gobin" eval "$cmd"
      "$tmp/gobin/nats" --version
      ;;
    *"go run ./cmd/bridge"*)
      echo "\$ $cmd   (built, started in the background)"
      start_bridge "$cmd"
      ;;
    "export NATS_URL="*)
      export NATS_URL="$bridge_url"
      echo "\$ export NATS_URL=$NATS_URL"
      ;;
    *" &")
      file="$tmp/bg.$n"
      ( eval "exec ${cmd% &}" ) >"$file" 2>&1 &
      bg_pids+=($!)
      section_bg+=("$! $file ${cmd% &}")
      echo "\$ $cmd"
      wait_for "$file" 'Subscribing on' || fail "did not subscribe: $cmd"
      ;;
    *"nats req "*)
      for _ in $(seq 1 $((NATS_CMD_TIMEOUT * 2))); do
        out=$(eval "$cmd" 2>/dev/null) || fail "$cmd"
        # bot.two holds the transferred chat once it has accepted it.
        [[ $cmd == *bot_two.chat.close* && $out == *'"code":"chat_not_found"'* ]] || break
        sleep 0.5
      done
      reply=$(grep -E '^\{' <<<"$out" | tail -1 || true)
      codes=$(grep -oE '\b[a-z]+_[a-z_]+\b' <<<"$comment" | sed 's/.*/"code":"&"/' || true)
      if [ -n "${replies[$cmd]:-}" ]; then
        [ "$reply" = "${replies[$cmd]}" ] || fail "repeated, $cmd answered $reply, before ${replies[$cmd]}"
      elif [ -n "$codes" ]; then
        ok=0
        while IFS= read -r c; do [[ $reply == *"$c"* ]] && ok=1; done <<<"$codes"
        [[ $comment == *"or ok"* && $reply == *'"ok":true'* ]] && ok=1
        [ $ok = 1 ] || fail "$cmd answered $reply, the page says: $comment"
      else # the `# {…}` lines under it, if any, are checked next
        [[ $reply == *'"ok":true'* ]] || fail "$cmd answered $reply"
      fi
      replies[$cmd]=$reply
      last_kind=req last_out=$reply
      echo "   ok: $cmd -> ${reply:0:100}"
      ;;
    [A-Z]*=\$\(*) # VAR=$(…): in this shell, so that $VAR carries over
      eval "$cmd" || fail "$cmd"
      var=${cmd%%=*}
      [ -n "${!var}" ] || fail "$cmd: \$$var is empty"
      echo "   ok: $var=${!var}"
      ;;
    "nats sub "*)
      if [[ $cmd != *--count* ]]; then
        file="$tmp/sub.$n"
        ( eval "exec $cmd" ) >"$file" 2>&1 &
        pid=$!
        bg_pids+=("$pid")
        wait_for "$file" 'Received on' || fail "no message for: $cmd"
        kill -TERM "$pid" 2>/dev/null || true
        echo "   ok (stopped after its first message): $cmd"
      else
        out=$(eval "$cmd") || fail "$cmd"
        echo "   ok: $cmd"
      fi
      ;;
    *)
      if [[ $comment == *interactive* ]]; then
        echo "   not run (interactive): $cmd"
        continue
      fi
      if [[ $cmd == "nats pub "* ]]; then
        eval "$cmd" >/dev/null 2>&1 || fail "$cmd"
        last_kind=pub
        echo "   published: $cmd"
      else
        out=$(eval "$cmd" 2>&1) || fail "$cmd: $out"
        [ -n "$out" ] || fail "$cmd printed nothing"
        for name in $(grep -oE '\b[A-Z][A-Z_]{2,}\b' <<<"$comment" || true); do
          [[ $out == *"$name"* ]] || fail "$cmd: no $name in its output"
        done
        echo "   ok: $cmd"
      fi
      ;;
  esac
done 3< <(commands)
end_section
[ -n "$bridge" ] || fail "the page never starts the bridge"
echo "OK: the $n commands of $MD ran against the embedded default"
