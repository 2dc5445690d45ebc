#!/bin/sh
# Model-check the event protocol with spin: the model must verify (safety:
# no invalid end state, no assertion; liveness: LTL nolost under weak
# fairness), on both sleep paths; every mutant must be caught. Then the
# blocking ring's sleep protocol (ring.pml: both directions, light and
# fenced publication; safety: no deadlock = no lost wake-up), and its
# mutants; and hvc_ring_wait_any()'s sleep over two rings (ring_any.pml)
# with its mutants.
# Usage: run_model.sh SRC_DIR WORK_DIR. Exit 0 pass, 1 fail, 77 skip.
src=$1
work=${2:-/tmp/hvc-model.$$}
if ! command -v spin >/dev/null 2>&1; then
    echo "SKIP: spin (Debian package spin) is not installed"
    exit 77
fi
CC=${CC:-cc}
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "SKIP: no C compiler for pan"
    exit 77
fi
mkdir -p "$work" || exit 1
fail=0

# check NAME EXPECT(pass|fail) MODE(safety|liveness) SPIN-FLAGS...
check() {
    name=$1; expect=$2; mode=$3; shift 3
    dir="$work/$name-$mode"
    rm -rf "$dir"; mkdir -p "$dir"
    cp "$src/$model" "$dir/"
    if [ "$mode" = safety ]; then
        (cd "$dir" && spin -a -DNOLTL "$@" "$model" >spin.log 2>&1 &&
         $CC -O2 -w -DCOLLAPSE -o pan pan.c >>spin.log 2>&1 &&
         ./pan -m100000 >pan.log 2>&1)
    else
        (cd "$dir" && spin -a "$@" "$model" >spin.log 2>&1 &&
         $CC -O2 -w -DNFAIR=3 -DCOLLAPSE -o pan pan.c >>spin.log 2>&1 &&
         ./pan -m100000 -a -f >pan.log 2>&1)
    fi
    if ! grep -q "errors:" "$dir/pan.log" 2>/dev/null; then
        echo "FAIL $name $mode: spin/pan did not run (see $dir)"; cat "$dir/spin.log"
        fail=1; return
    fi
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$dir/pan.log" | head -n 1)
    states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$dir/pan.log" | head -n 1)
    if [ "$expect" = pass ] && [ "$errors" = 0 ]; then
        echo "ok   $name $mode: verified ($states states)"
    elif [ "$expect" = fail ] && [ "$errors" != 0 ]; then
        what=$(grep -m1 -E "pan:1:|invalid end state|acceptance cycle|assertion violated" "$dir/pan.log")
        echo "ok   $name $mode: spin found the bug as expected: $what"
    else
        echo "FAIL $name $mode: expected $expect, spin reported $errors errors (see $dir/pan.log)"
        fail=1
    fi
}

model=events.pml
for path in futex mask; do
    if [ $path = mask ]; then P=-DMASK; else P=-DFUTEX; fi
    for kind in counting auto; do
        if [ $kind = auto ]; then K=-DAUTO; else K=-DCOUNTING; fi
        check "model-$path-$kind" pass safety $P $K
        check "model-$path-$kind" pass liveness $P $K
    done
    # TIMEOUT_FIRST only matters on the futex path, which wakes one sleeper;
    # the mask path rings every registered peer, so the others still wake.
    # NO_HINT only on the mask path: on the futex path the sleep compares
    # the hint bit too, so a waiter that never sets it never sleeps (it
    # polls) and cannot be lost.
    muts="CHECK_FIRST NO_REGISTER NO_RECHECK BLIND_SLEEP"
    [ $path = futex ] && muts="$muts TIMEOUT_FIRST"
    [ $path = mask ] && muts="$muts NO_HINT"
    for m in $muts; do
        check "mutant-$path-auto-$m" fail safety $P -DAUTO -DMUTANT_$m
        check "mutant-$path-auto-$m" fail liveness $P -DAUTO -DNOMONITOR -DMUTANT_$m
    done
done

# The ring: every combination of fence domains in one run (ring.pml).
model=ring.pml
check "ring" pass safety
for m in NO_PEER_FENCE LIGHT_ALWAYS NO_PUB_FENCE NO_SLEEP_FENCE NO_RECHECK; do
    check "ring-mutant-$m" fail safety -DMUTANT_$m
done

# hvc_ring_wait_any(): one consumer sleeping on two rings (ring_any.pml).
model=ring_any.pml
check "ring-any" pass safety
for m in RECHECK_ONE LATE_RAISE NO_PEER_FENCE; do
    check "ring-any-mutant-$m" fail safety -DMUTANT_$m
done
exit $fail
