#!/usr/bin/env bash
# Builds the fuzzing harnesses with libFuzzer and runs one of them, bounded in count and time:
#
#   Fuzz/run.sh decoder|manifests|paths [RUNS (10000000)] [SECONDS (1800)] [extra libFuzzer flags...]
#
# The committed seed corpus (Fuzz/corpus) is copied to WORK_DIR (/tmp/clusterdns-fuzz) first, so
# what libFuzzer adds to its corpus never lands in the checkout. A crash or a difference between
# answer paths stops the run with libFuzzer's report and the input that caused it (crash-*).
# Not part of CI: a run takes minutes and wants a core of its own.
set -euo pipefail
cd "$(dirname "$0")"
harness=${1:?usage: Fuzz/run.sh decoder|manifests|paths [RUNS] [SECONDS]}
runs=${2:-10000000}
seconds=${3:-1800}
shift $(( $# < 3 ? $# : 3 ))
case $harness in
    decoder) target=FuzzDecoder corpus=queries ;;
    manifests) target=FuzzManifests corpus=manifests ;;
    paths) target=FuzzAnswerPaths corpus=queries ;;
    *) echo "unknown harness $harness (decoder, manifests or paths)" >&2; exit 2 ;;
esac
work="${WORK_DIR:-/tmp/clusterdns-fuzz}/$harness"
mkdir -p "$work/corpus"
cp -n corpus/"$corpus"/* "$work/corpus/"
swift build -c release --scratch-path ../.build-fuzz -Xswiftc -sanitize=fuzzer --product "$target" 2>&1 | tail -1 >&2
binary="../.build-fuzz/release/$target"
cd "$work"
exec "$OLDPWD/$binary" -runs="$runs" -max_total_time="$seconds" -max_len=4200 -print_final_stats=1 "$@" corpus
