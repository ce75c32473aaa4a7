#!/usr/bin/env bash
# AXFR of a large cluster zone: time and size of `kdig AXFR` of cluster.local from a running
# `clusterdns serve --transfer-to 127.0.0.1`, its record count against what `clusterdns export`
# writes, and the time of one UDP query answered meanwhile (the transfer runs off the event loop).
# Bounded: 60 s for the server to answer, 120 s for the transfer; the server is stopped in every case.
# usage: axfr.sh BINARY [SERVICES] [PORT]   (generates the cluster into a temporary folder)
set -euo pipefail
BIN=$1; SERVICES=${2:-50000}; PORT=${3:-5411}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
LOG=$WORK/serve.log
PID=""
trap '[ -n "$PID" ] && { kill $PID 2>/dev/null; wait $PID 2>/dev/null; }; rm -rf "$WORK"' EXIT
python3 "$HERE/../generate-cluster.py" --preset large --services "$SERVICES" --out "$WORK/cluster" >/dev/null
"$BIN" serve --registry "$WORK/cluster/manifests" --listen "127.0.0.1:$PORT" --transfer-to 127.0.0.1 >"$LOG" 2>&1 &
PID=$!
for _ in $(seq 1 3000); do
    dig +short +tries=1 +time=1 -p "$PORT" @127.0.0.1 cluster.local SOA 2>/dev/null | grep -q hostmaster && break
    sleep 0.02
done
for _ in $(seq 1 600); do grep -qE "compiled the answers|answers not compiled" "$LOG" && break; sleep 0.1; done
"$BIN" export --registry "$WORK/cluster/manifests" --output "$WORK/export" --name-server-address 127.0.0.1 >/dev/null
exported=$(grep -cvE '^(;|\$)' "$WORK/export/cluster.local.zone")
query_start=$(date +%s.%N)
dig +short +tries=1 +time=5 -p "$PORT" @127.0.0.1 kubernetes.default.svc.cluster.local >/dev/null || true
quiet=$(echo "($(date +%s.%N) - $query_start) * 1000" | bc)
start=$(date +%s.%N)
timeout 120 kdig @127.0.0.1 -p "$PORT" cluster.local AXFR +time=60 >"$WORK/axfr.txt" &
KDIG=$!
sleep 0.2
query_start=$(date +%s.%N)
dig +short +tries=1 +time=5 -p "$PORT" @127.0.0.1 kubernetes.default.svc.cluster.local >/dev/null || true
query=$(echo "($(date +%s.%N) - $query_start) * 1000" | bc)
wait $KDIG
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
records=$(grep -cvE '^(;|$)' "$WORK/axfr.txt")
summary=$(grep -E '^;; Received' "$WORK/axfr.txt" || true)
echo "services $SERVICES: AXFR in ${elapsed}s; $summary; $((records - 1)) records without the closing SOA, export writes $exported"
echo "dig of one name during the transfer: ${query} ms (the same before it: ${quiet} ms; dig's own start-up is most of both)"
grep -E "AXFR of cluster.local" "$LOG" || true
[ $((records - 1)) -eq "$exported" ]
