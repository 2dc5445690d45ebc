#!/usr/bin/env bash
# Run every libFuzzer target of tests/fuzz for SECONDS each (default 60),
# one after the other, and print the executions per target.
#   ./scripts/fuzz.sh [SECONDS] [TARGET-REGEX]
# Builds build/fuzz (clang, -fsanitize=fuzzer,address,undefined). The corpus
# of each target persists in build/fuzz/corpus-long/TARGET (the generated
# seeds are written into it at every run); a crash is written next to it as
# build/fuzz/corpus-long/TARGET-crash-* and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
filter=${2:-.}
bdir=build/fuzz
cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    -DHVC_FUZZ=ON -DHVC_SANITIZE=fuzzer-no-link,address,undefined \
    -DHVC_BUILD_BENCH=OFF -DHVC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$bdir" -j"$(nproc)" --target fuzz_all >/dev/null
targets=$(cd "$bdir/tests/fuzz" && ls fuzz_* | grep -v '\.' | grep -v '^fuzz_seeds$' | grep -E "$filter" || true)
[ -n "$targets" ] || { echo "no fuzz target matches '$filter'" >&2; exit 2; }
status=0
printf '%-16s %8s %12s %10s %8s %s\n' TARGET SECONDS EXECUTIONS EXEC/S COVERAGE RESULT
for t in $targets; do
    corpus=$bdir/corpus-long/$t
    log=$bdir/corpus-long/$t.log
    mkdir -p "$corpus"
    "$bdir/tests/fuzz/fuzz_seeds" "$t" "$corpus" # same names: refreshed, not piled up
    result=ok
    dict=tests/fuzz/${t#fuzz_}.dict
    dictarg=()
    [ -f "$dict" ] && dictarg=(-dict="$dict")
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$bdir/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${dictarg[@]}" -artifact_prefix="$corpus-" "$corpus" >"$log" 2>&1 || {
        result="FAILED (see $log)"
        status=1
    }
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    printf '%-16s %8s %12s %10s %8s %s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$result"
done
exit $status
