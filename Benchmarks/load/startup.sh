#!/usr/bin/env bash
# Start-up of `clusterdns serve` on a registry: time to the first answer for NAME (dig every 20 ms),
# time to full speed (the "compiled the answers" log line, or "answers not compiled" above
# --compiled-names-limit), peak and final RSS. Bounded: 60 s for
# the first answer, 60 s more for the compile; the server is stopped in every case.
# usage: [SERVE_ARGS="--pods verified"] startup.sh BINARY REGISTRY NAME [PORT]
set -euo pipefail
BIN=$1; REGISTRY=$2; NAME=$3; PORT=${4:-5409}
LOG=$(mktemp)
start=$(date +%s.%N)
"$BIN" serve --registry "$REGISTRY" --listen "127.0.0.1:$PORT" --threads 1 ${SERVE_ARGS:-} >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$LOG"' EXIT
first=""
for _ in $(seq 1 3000); do
    if dig +short +tries=1 +time=1 -p "$PORT" @127.0.0.1 "$NAME" 2>/dev/null | grep -qE '^[0-9]+\.'; then
        first=$(echo "$(date +%s.%N) - $start" | bc); break
    fi
    sleep 0.02
done
[ -n "$first" ] || { echo "no answer for $NAME within 60 s"; tail -5 "$LOG"; exit 1; }
for _ in $(seq 1 600); do grep -qE "compiled the answers|answers not compiled" "$LOG" && break; sleep 0.1; done
full=$(echo "$(date +%s.%N) - $start" | bc)
sleep 1
hwm=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
echo "first answer ${first}s, full speed ${full}s, peak RSS $((hwm / 1024)) MiB, RSS after $((rss / 1024)) MiB"
