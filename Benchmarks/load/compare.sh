#!/usr/bin/env bash
# Side-by-side load comparison: ClusterDNS, Knot DNS and NSD serving the same records, plus a
# batched UDP echo responder as the floor. One command from a fresh checkout:
#
#   Benchmarks/load/compare.sh                       # small (1k services) then large (50k)
#   SIZES=large DURATION=10 Benchmarks/load/compare.sh
#
# For each size it generates the cluster (Benchmarks/generate-cluster.py), exports the zones with
# `clusterdns export`, starts every server pinned to CPU $SERVER_CPU (dnsperf runs on $CLIENT_CPU),
# checks that all of them give the same rcode and answers on a sample of the queries, then runs
# dnsperf against each one after the other: $DURATION s at full speed (qps, average latency, CPU
# per query), then $HALF_DURATION s at half that rate with -v (p99 latency). It prints one table
# per size and ClusterDNS's ratios to Knot DNS. Everything listens on 127.0.0.1, on free odd
# ports, and every process it starts is killed on exit.
#
# Environment: SIZES ("small large"), DURATION (10), HALF_DURATION (5), SEED (1), QUERIES (100000),
# SERVER_CPU (1), CLIENT_CPU (0), SCRATCH_PATH (.build), WORK_DIR (/tmp/clusterdns-compare),
# CLIENTS (4), OUTSTANDING (100), SAMPLE (300 queries checked per size), SERVERS (clusterdns knot nsd echo),
# CLUSTERDNS_BIN (a clusterdns binary to use instead of building one), BASELINE_BIN (an older clusterdns
# binary, served as "baseline" when SERVERS names it: a regression check in the same run, reported
# per round as ratios of the two), FIRST_ANSWER_TIMEOUT (240 s),
# FORMAT (json): the manifests ClusterDNS loads, the kubectl JSON List of the cluster (what issue 10's
# start-up target is measured on) or yaml (one file per namespace and kind),
# CLUSTERDNS_ARGS (flags added to clusterdns serve, e.g. "--http-listen 127.0.0.1:0" to measure with
# metrics counted), ROUNDS (1): with more, the dnsperf runs repeat with the servers interleaved, and each server's row
# is its round with the least other load on the machine (steal and neighbours on shared vCPUs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SIZES="${SIZES:-small large}"
DURATION="${DURATION:-10}"
HALF_DURATION="${HALF_DURATION:-5}"
SEED="${SEED:-1}"
QUERIES="${QUERIES:-100000}"
SERVER_CPU="${SERVER_CPU:-1}"
CLIENT_CPU="${CLIENT_CPU:-0}"
SCRATCH_PATH="${SCRATCH_PATH:-.build}"
WORK_DIR="${WORK_DIR:-/tmp/clusterdns-compare}"
CLIENTS="${CLIENTS:-4}"
OUTSTANDING="${OUTSTANDING:-100}"
SAMPLE="${SAMPLE:-300}"
SERVERS="${SERVERS:-clusterdns knot nsd echo}"
FIRST_ANSWER_TIMEOUT="${FIRST_ANSWER_TIMEOUT:-240}"
ROUNDS="${ROUNDS:-1}"
FORMAT="${FORMAT:-json}"
[[ "$FORMAT" == json || "$FORMAT" == yaml ]] || { echo "FORMAT must be json or yaml" >&2; exit 2; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive number" >&2; exit 2; }
# No process this script starts may outlive this many seconds, whatever happens to the script.
LIFETIME=$(( 4 * FIRST_ANSWER_TIMEOUT / 3 + 60 + 5 * ROUNDS * (DURATION + HALF_DURATION) ))
CLK_TCK="$(getconf CLK_TCK)"

log() { printf '[compare] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- Processes we started: killed on exit, by PID only. ---------------------------------------
STARTED=()
cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${STARTED[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Tools --------------------------------------------------------------------------------------
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
command -v dnsperf >/dev/null || missing+=(dnsperf)
command -v knotd >/dev/null || [ -x /usr/sbin/knotd ] || missing+=(knot)
command -v nsd >/dev/null || [ -x /usr/sbin/nsd ] || missing+=(nsd)
command -v gcc >/dev/null || missing+=(gcc)
command -v taskset >/dev/null || missing+=(util-linux)
command -v ss >/dev/null || missing+=(iproute2)
command -v python3 >/dev/null || missing+=(python3)
[ -x /usr/bin/time ] || missing+=(time)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} from apt"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
PATH="$PATH:/usr/sbin:/sbin"

mkdir -p "$WORK_DIR"
if [ -n "${CLUSTERDNS_BIN:-}" ]; then
    CLUSTERDNS="$CLUSTERDNS_BIN"
else
    log "building clusterdns (release, --scratch-path $SCRATCH_PATH)"
    (cd "$ROOT" && swift build -c release --product clusterdns --scratch-path "$SCRATCH_PATH" 2>&1 | tail -1) >&2
    CLUSTERDNS="$ROOT/$SCRATCH_PATH/release/clusterdns"
fi
[ -x "$CLUSTERDNS" ] || die "no $CLUSTERDNS after the build"
"$CLUSTERDNS" export --help >/dev/null 2>&1 || die "this clusterdns has no export subcommand"
gcc -O2 -o "$WORK_DIR/udp_echo" "$ROOT/Benchmarks/load/udp_echo.c"
PROBE="$ROOT/Benchmarks/load/dnsprobe.py"

# --- Helpers ------------------------------------------------------------------------------------
# Sets PORT to an odd port nobody listens on (UDP or TCP); each call moves on.
NEXT_PORT=25301
free_port() {
    local port=$NEXT_PORT tries=0
    while [ $tries -lt 200 ]; do
        if [ -z "$(ss -Hlnu "sport = :$port")" ] && [ -z "$(ss -Hlnt "sport = :$port")" ]; then
            NEXT_PORT=$((port + 2))
            PORT=$port
            return
        fi
        port=$((port + 2)); tries=$((tries + 1))
    done
    die "no free port found"
}

# PID and every descendant (NSD runs a main process, xfrd and a server child).
process_tree() {
    local pid=$1 child
    echo "$pid"
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do process_tree "$child"; done
}

# utime+stime of a process tree, in clock ticks.
cpu_ticks() {
    local total=0 pid ticks
    for pid in $(process_tree "$1"); do
        ticks=$(sed 's/^.*) //' /proc/"$pid"/stat 2>/dev/null | awk '{print $12 + $13}') || true
        total=$((total + ${ticks:-0}))
    done
    echo "$total"
}

# Sum of VmHWM (peak RSS; or FIELD, e.g. VmRSS) over the tree, in KiB.
peak_rss_kib() {
    local total=0 pid value field=${2:-VmHWM}
    for pid in $(process_tree "$1"); do
        value=$(awk -v f="$field:" '$1 == f {print $2}' /proc/"$pid"/status 2>/dev/null || true)
        total=$((total + ${value:-0}))
    done
    echo "$total"
}

# Busy clock ticks of the whole machine (user nice system irq softirq steal).
machine_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

# start_server NAME PORT COMMAND...: starts the server pinned to SERVER_CPU, with a watchdog;
# sets START to the wall-clock second it was started.
declare -A PIDS PORTS FIRST
start_server() {
    local name=$1 port=$2; shift 2
    START=$(date +%s.%N)
    taskset -c "$SERVER_CPU" "$@" >"$WORK_DIR/$name.log" 2>&1 &
    local pid=$!
    STARTED+=("$pid")
    ( sleep "$LIFETIME" & s=$!; trap 'kill $s 2>/dev/null; exit 0' TERM; wait $s; kill -KILL "$pid" 2>/dev/null ) >/dev/null 2>&1 &
    STARTED+=("$!")
    PIDS[$name]=$pid
    PORTS[$name]=$port
}

# Returns once the process tree of $1 used at most one clock tick in half a second (at most 60 s).
wait_until_idle() {
    local waited=0 before after
    while [ $waited -lt 120 ]; do
        before=$(cpu_ticks "$1"); sleep 0.5; after=$(cpu_ticks "$1")
        [ $((after - before)) -gt 1 ] || return 0
        waited=$((waited + 1))
    done
}

median_of() {
    printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

stop_server() {
    local name=$1 pid=${PIDS[$1]} waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
}

# --- One size -----------------------------------------------------------------------------------
run_size() {
    local size=$1
    local cluster="$WORK_DIR/cluster-$size-seed$SEED-$FORMAT"
    local zones="$WORK_DIR/zones-$size"
    if [ ! -f "$cluster/summary.json" ] || [ "$ROOT/Benchmarks/generate-cluster.py" -nt "$cluster/summary.json" ] \
        || [ "$(wc -l < "$cluster/queries.txt")" -ne "$QUERIES" ]; then
        log "generating the $size cluster (seed $SEED)"
        rm -rf "$cluster"
        python3 "$ROOT/Benchmarks/generate-cluster.py" --preset "$size" --seed "$SEED" --queries "$QUERIES" --format "$FORMAT" \
            --out "$cluster" 2>/dev/null
    fi
    local queries="$cluster/queries.txt"
    rm -rf "$zones"; mkdir -p "$zones"
    log "exporting zones"
    "$CLUSTERDNS" export --registry "$cluster/manifests" --output "$zones" --name-server-address 127.0.0.1 2>"$WORK_DIR/export.log" \
        || { cat "$WORK_DIR/export.log" >&2; die "export failed"; }
    local records
    records=$(grep -vc '^[;$]' "$zones"/*.zone | awk -F: '{s += $2} END {print s}')
    local services
    services=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['services'])" "$cluster/summary.json")
    # The names polled for "first answer": the last service generated, and the last PTR written.
    local last_service last_ptr
    last_service=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['last_service'])" "$cluster/summary.json")
    last_ptr=$(grep -P '\tPTR\t' "$zones/in-addr.arpa.zone" | tail -1 | cut -f1)

    local port name
    for name in $SERVERS; do
        free_port; port=$PORT
        case $name in
        clusterdns)
            # shellcheck disable=SC2086 # CLUSTERDNS_ARGS is a list of flags
            start_server clusterdns "$port" "$CLUSTERDNS" serve --registry "$cluster/manifests" \
                --listen "127.0.0.1:$port" --threads 1 --log-level warning ${CLUSTERDNS_ARGS:-} ;;
        baseline)
            [ -x "${BASELINE_BIN:-}" ] || die "SERVERS names baseline, but BASELINE_BIN is not an executable"
            start_server baseline "$port" "$BASELINE_BIN" serve --registry "$cluster/manifests" \
                --listen "127.0.0.1:$port" --threads 1 --log-level warning ;;
        knot)
            mkdir -p "$WORK_DIR/knot"; rm -rf "$WORK_DIR/knot/"*
            cat >"$WORK_DIR/knot/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$port
    rundir: $WORK_DIR/knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: $WORK_DIR/knot/db
template:
  - id: default
    storage: $zones
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
    semantic-checks: off
zone:
  - domain: cluster.local
    file: cluster.local.zone
  - domain: in-addr.arpa
    file: in-addr.arpa.zone
  - domain: ip6.arpa
    file: ip6.arpa.zone
EOF
            start_server knot "$port" knotd -c "$WORK_DIR/knot/knot.conf" ;;
        nsd)
            mkdir -p "$WORK_DIR/nsd"; rm -rf "$WORK_DIR/nsd/"*
            cat >"$WORK_DIR/nsd/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$port
    do-ip6: no
    server-count: 1
    reuseport: yes
    username: ""
    chroot: ""
    database: ""
    zonelistfile: "$WORK_DIR/nsd/zone.list"
    xfrdfile: "$WORK_DIR/nsd/xfrd.state"
    pidfile: "$WORK_DIR/nsd/nsd.pid"
    zonesdir: "$zones"
    verbosity: 0
    rrl-ratelimit: 0
    hide-version: yes
remote-control:
    control-enable: no
zone:
    name: cluster.local
    zonefile: cluster.local.zone
zone:
    name: in-addr.arpa
    zonefile: in-addr.arpa.zone
zone:
    name: ip6.arpa
    zonefile: ip6.arpa.zone
EOF
            start_server nsd "$port" nsd -d -c "$WORK_DIR/nsd/nsd.conf" ;;
        echo)
            start_server echo "$port" "$WORK_DIR/udp_echo" 127.0.0.1 "$port" "$LIFETIME" ;;
        *) die "unknown server $name" ;;
        esac
        if [ "$name" = echo ]; then
            sleep 0.2; FIRST[$name]="-"
        else
            FIRST[$name]=$(python3 "$PROBE" first-answer --port "$port" --start "$START" --timeout "$FIRST_ANSWER_TIMEOUT" \
                "$last_service/A" "$last_ptr/PTR")
            [ "${FIRST[$name]}" != timeout ] || { cat "$WORK_DIR/$name.log" >&2; die "$name never answered"; }
        fi
        log "$name on 127.0.0.1:$port (pid ${PIDS[$name]}), first answer after ${FIRST[$name]} s"
        # ClusterDNS compiles its answers after it first answers: let that finish before the next
        # server starts on the same CPU, or it disturbs that one's start and the first round.
        wait_until_idle "${PIDS[$name]}"
    done

    # Same work: every DNS server gives the same rcode and answers on a sample.
    local check_args=()
    for name in $SERVERS; do [ "$name" = echo ] || check_args+=("$name=${PORTS[$name]}"); done
    if [ "${#check_args[@]}" -gt 1 ]; then
        log "checking $SAMPLE sampled queries on ${check_args[*]}"
        python3 "$PROBE" compare --queries "$queries" --sample "$SAMPLE" "${check_args[@]}" | tee "$WORK_DIR/check-$size.txt" | tail -20 >&2 \
            || true
        grep -q ' 0 answer mismatches' "$WORK_DIR/check-$size.txt" || die "servers disagree on the sample; see $WORK_DIR/check-$size.txt"
    fi

    declare -A QPS AVG P99 HALFQPS CPU RSS NOWRSS LOST OTHER RCODES ROUND ROUNDCPU ROUNDQPS
    local out before after busy_before busy_after client_cpu completed half_rate
    local round qps avg lost rcodes cpu other p99
    for round in $(seq 1 "$ROUNDS"); do
    for name in $SERVERS; do
        port=${PORTS[$name]}
        before=$(cpu_ticks "${PIDS[$name]}")
        busy_before=$(machine_busy_ticks)
        out="$WORK_DIR/dnsperf-$size-$name-r$round.txt"
        /usr/bin/time -f '%U %S' -o "$WORK_DIR/dnsperf.time" \
            taskset -c "$CLIENT_CPU" timeout $((DURATION + 20)) dnsperf -s 127.0.0.1 -p "$port" -d "$queries" \
            -c "$CLIENTS" -T 1 -q "$OUTSTANDING" -l "$DURATION" -t 1 -b 4096 >"$out" 2>&1 || true
        after=$(cpu_ticks "${PIDS[$name]}")
        busy_after=$(machine_busy_ticks)
        completed=$(awk '/Queries completed:/ {print $3}' "$out")
        [ -n "$completed" ] && [ "$completed" -gt 0 ] || { cat "$out" >&2; die "dnsperf got no answers from $name"; }
        qps=$(awk '/Queries per second:/ {printf "%.0f", $4}' "$out")
        avg=$(awk '/Average Latency/ {printf "%.3f", $4 * 1000}' "$out")
        lost=$(awk '/Queries lost:/ {print $3}' "$out")
        rcodes=$(awk -F: '/Response codes:/ {gsub(/^ +/, "", $2); print $2}' "$out")
        cpu=$(awk -v t="$((after - before))" -v hz="$CLK_TCK" -v q="$completed" 'BEGIN {printf "%.2f", t * 1e6 / hz / q}')
        client_cpu=$(awk '{print $1 + $2}' "$WORK_DIR/dnsperf.time")
        other=$(awk -v b="$((busy_after - busy_before))" -v s="$((after - before))" -v hz="$CLK_TCK" -v c="$client_cpu" -v d="$DURATION" \
            'BEGIN {o = ((b - s) / hz - c) / d; if (o < 0) o = 0; printf "%.2f", o}')
        # p99 at half the measured rate, from dnsperf's per-query lines.
        half_rate=$(( qps / 2 ))
        taskset -c "$CLIENT_CPU" timeout $((HALF_DURATION + 20)) dnsperf -s 127.0.0.1 -p "$port" -d "$queries" \
            -c "$CLIENTS" -T 1 -q "$OUTSTANDING" -l "$HALF_DURATION" -t 1 -b 4096 -Q "$half_rate" -v \
            >"$WORK_DIR/dnsperf-half-$size-$name-r$round.txt" 2>&1 || true
        p99=$(awk '/^> / {print $NF}' "$WORK_DIR/dnsperf-half-$size-$name-r$round.txt" | sort -n \
            | awk '{v[NR] = $1} END {if (NR == 0) {print "-"} else {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f", v[i] * 1000}}')
        log "round $round, $name: $qps qps, $cpu us/query, p99 $p99 ms at $half_rate qps, other load $other cores"
        ROUNDCPU[$name,$round]=$cpu ROUNDQPS[$name,$round]=$qps
        # Of several rounds, keep the one the rest of the machine disturbed least (not the best figures).
        if [ "$round" = 1 ] || awk -v o="$other" -v b="${OTHER[$name]}" 'BEGIN {exit !(o < b)}'; then
            QPS[$name]=$qps AVG[$name]=$avg LOST[$name]=$lost RCODES[$name]=$rcodes CPU[$name]=$cpu OTHER[$name]=$other
            P99[$name]=$p99 HALFQPS[$name]=$half_rate ROUND[$name]=$round
        fi
    done
    done
    for name in $SERVERS; do
        RSS[$name]=$(awk -v k="$(peak_rss_kib "${PIDS[$name]}")" 'BEGIN {printf "%.1f", k / 1024}')
        NOWRSS[$name]=$(awk -v k="$(peak_rss_kib "${PIDS[$name]}" VmRSS)" 'BEGIN {printf "%.1f", k / 1024}')
    done
    for name in $SERVERS; do stop_server "$name"; done

    local cpu_model
    cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
    echo
    echo "## $size cluster: $services services, $records records (seed $SEED, $QUERIES queries)"
    echo
    echo "Machine: $(nproc) CPUs ($cpu_model), $(uname -r); server on CPU $SERVER_CPU, dnsperf on CPU $CLIENT_CPU;"
    echo "dnsperf -c $CLIENTS -q $OUTSTANDING -l $DURATION (p99 at half rate: -l $HALF_DURATION -Q qps/2)."
    if [ "$ROUNDS" -gt 1 ]; then
        echo "$ROUNDS rounds, servers interleaved; each row is its round with the least other load (round $(for name in $SERVERS; do printf '%s=%s ' "$name" "${ROUND[$name]}"; done | sed 's/ $//'))."
    fi
    echo
    echo "| server | queries/s | avg latency ms | p99 ms at half rate (qps) | server CPU us/query | peak RSS MiB (RSS at end) | start to first answer s | lost | other load (cores) | rcodes |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for name in $SERVERS; do
        echo "| $name | ${QPS[$name]} | ${AVG[$name]} | ${P99[$name]} (${HALFQPS[$name]}) | ${CPU[$name]} | ${RSS[$name]} (${NOWRSS[$name]}) | ${FIRST[$name]} | ${LOST[$name]} | ${OTHER[$name]} | ${RCODES[$name]} |"
    done
    if [[ " $SERVERS " == *" clusterdns "* && " $SERVERS " == *" knot "* ]]; then
        echo
        echo "ClusterDNS / Knot DNS: CPU per query $(awk -v a="${CPU[clusterdns]}" -v b="${CPU[knot]}" 'BEGIN {printf "%.2f", a / b}') (target <= 0.9)," \
            "peak RSS $(awk -v a="${RSS[clusterdns]}" -v b="${RSS[knot]}" 'BEGIN {printf "%.2f", a / b}') (target <= 0.5)," \
            "start to first answer $(awk -v a="${FIRST[clusterdns]}" -v b="${FIRST[knot]}" 'BEGIN {printf "%.2f", a / b}') (target <= 1)," \
            "queries/s $(awk -v a="${QPS[clusterdns]}" -v b="${QPS[knot]}" 'BEGIN {printf "%.2f", a / b}')"
    fi
    if [[ " $SERVERS " == *" clusterdns "* && " $SERVERS " == *" echo "* ]]; then
        echo "ClusterDNS / echo floor: queries/s $(awk -v a="${QPS[clusterdns]}" -v b="${QPS[echo]}" 'BEGIN {printf "%.2f", a / b}') (target >= 0.98)," \
            "CPU per query $(awk -v a="${CPU[clusterdns]}" -v b="${CPU[echo]}" 'BEGIN {printf "%.2f", a / b}');" \
            "p99 at half rate ${P99[clusterdns]} ms (target <= 1)"
    fi
    if [[ " $SERVERS " == *" clusterdns "* && " $SERVERS " == *" baseline "* ]]; then
        # Each round's servers ran back to back, so a round's ratio is the fairest comparison.
        local cpu_ratios="" qps_ratios=""
        for round in $(seq 1 "$ROUNDS"); do
            cpu_ratios+=" $(awk -v a="${ROUNDCPU[clusterdns,$round]}" -v b="${ROUNDCPU[baseline,$round]}" 'BEGIN {printf "%.2f", a / b}')"
            qps_ratios+=" $(awk -v a="${ROUNDQPS[clusterdns,$round]}" -v b="${ROUNDQPS[baseline,$round]}" 'BEGIN {printf "%.2f", a / b}')"
        done
        echo "ClusterDNS / baseline, per round: CPU per query$cpu_ratios (median $(median_of $cpu_ratios))," \
            "queries/s$qps_ratios (median $(median_of $qps_ratios))"
    fi
    echo
}

for size in $SIZES; do
    case $size in small | large) run_size "$size" ;; *) die "unknown size $size (small or large)" ;; esac
done
log "raw dnsperf output and server logs: $WORK_DIR"
