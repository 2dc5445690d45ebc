#!/usr/bin/env bash
# Instructions per hvc_ring_send() / hvc_ring_recv() call in three states
# (empty ring, half full, just wrapped), and of a receive polling an empty
# ring, counted by callgrind over the
# never-inlined wrappers of bench/ring/instr.c: inclusive instructions of
# each wrapper divided by its number of calls (includes the wrapper's own
# call and return, a few instructions, the same in every state).
#   bench/ring/callgrind.sh [build dir, default build/gcc]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/gcc}
prog=$build/bench/ring/hvcomm-ring-instr
calls=${HVC_INSTR_CALLS:-1000}
[ -x "$prog" ] || { echo "callgrind.sh: build $prog first (cmake --build $build)" >&2; exit 1; }
out=$(mktemp /tmp/hvc-callgrind.XXXXXX)
trap 'rm -f "$out"' EXIT
# One run per wrapper, collecting only inside it (--toggle-collect): the
# program's total is then exactly the wrapper's inclusive count.
count() {
    HVC_INSTR_CALLS=$calls valgrind --tool=callgrind --callgrind-out-file="$out" \
        --toggle-collect="$1" "$prog" >/dev/null 2>&1
    callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
echo "instructions per call (callgrind over $calls calls per state; ring of 4 KiB, 8 KiB when empty)"
printf '%-12s %10s %10s %10s\n' call empty half wrapped
for size in 8 64; do
    for call in send recv; do
        line=$(printf '%-12s' "$call $size B")
        for state in empty half wrapped; do
            n=$(count "instr_${call}_${state}_${size}")
            line+=$(awk -v n="$n" -v c="$calls" 'BEGIN { printf " %10.1f", n / c }')
        done
        echo "$line"
    done
done
n=$(count instr_poll_empty)
awk -v n="$n" -v c="$calls" 'BEGIN { printf "%-12s %10.1f   (a receive on an empty ring after its stall was counted)\n", "poll empty", n / c }'
