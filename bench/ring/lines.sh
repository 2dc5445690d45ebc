#!/usr/bin/env bash
# Cache lines moved per message (round trip of two rings, as the bench's),
# from a valgrind lackey memory trace replayed through a two-cache model
# (bench/ring/lines.c, lines.py). For machines without hardware cache
# counters (perf stat -e cache-misses: "not supported" in this VM).
#   bench/ring/lines.sh [build dir, default build/gcc] [round trips, default 2000]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/gcc}
n=${2:-2000}
prog=$build/bench/ring/hvcomm-ring-lines
[ -x "$prog" ] || { echo "lines.sh: build $prog first (cmake --build $build)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/hvc-lines.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for size in 8 64; do
    for mode in ring raw; do
        valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/trace" "$prog" "$size" "$n" "$mode" \
            >"$tmp/addr"
        printf '%3s B %-4s ' "$size" "$mode"
        grep -v '^I' "$tmp/trace" | python3 bench/ring/lines.py "$tmp/addr" "$n"
    done
done
