#!/bin/sh
# `hvcomm create --config FILE --verify` on a region that differs from the
# file in each possible way: every difference is listed, exit 1; the same
# region and file: "matches", exit 0. Also: create refuses an existing
# region without --force.
# Usage: verify.sh HVCOMM BASE_YAML
set -u
hvcomm=$1
base=$2
dir=$(mktemp -d /tmp/hvct-verify.XXXXXX)
region=/dev/shm/hvct-verify-$$
trap 'rm -rf "$dir"; rm -f "$region"' EXIT
fail=0

# expect CODE PATTERN CMD...: CMD exits CODE and its output has PATTERN.
expect() {
    code=$1; pattern=$2; shift 2
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -ne "$code" ] || ! printf '%s\n' "$out" | grep -qF -- "$pattern"; then
        echo "FAIL: '$*' exit $rc (want $code), output:"
        printf '%s\n' "$out"
        echo "  (wanted a line with: $pattern)"
        fail=1
    fi
}

# variant NAME SED: the base file changed by SED, made into the region.
variant() {
    sed "$2" "$base" > "$dir/$1.yaml"
    rm -f "$region"
    "$hvcomm" create "$region" --config "$dir/$1.yaml" >/dev/null || {
        echo "FAIL: cannot create variant $1"; fail=1; }
}

rm -f "$region"
expect 0 "created $region from $base" "$hvcomm" create "$region" --config "$base"
expect 0 "$region matches $base" "$hvcomm" create "$region" --config "$base" --verify
expect 1 "already holds a region (7 objects" "$hvcomm" create "$region" --config "$base"
expect 0 "created $region" "$hvcomm" create "$region" --config "$base" --force
expect 0 "system   base, from $base" "$hvcomm" info "$region"

variant missing '/name: q,/d'
expect 1 "$region: missing queue 'q'" "$hvcomm" create "$region" --config "$base" --verify
expect 1 "$region: region was made from $dir/missing.yaml (system 'base', hash" \
    "$hvcomm" create "$region" --config "$base" --verify

variant type 's/{name: e, type: event, kind: counting, max-count: 8, signalers: \[a\], waiters: \[b\]}/{name: e, type: segment, size: 64, writers: [a]}/'
expect 1 "$region: 'e' is a segment, $base says event" "$hvcomm" create "$region" --config "$base" --verify

variant size 's/size: 4K/size: 12K/'
expect 1 "$region: segment 's' takes 16384 bytes, $base makes it 8192" \
    "$hvcomm" create "$region" --config "$base" --verify

variant writer 's/writer: a, reader: b}/writer: b, reader: a}/'
expect 1 "$region: ring 'r' has writer b, $base says a" "$hvcomm" create "$region" --config "$base" --verify

# Same size and writer, other attributes: what each object's header records.
variant maxmsg 's/max-message: 512/max-message: 256/'
expect 1 "$region: ring 'r' has max-message 256, $base says 512" \
    "$hvcomm" create "$region" --config "$base" --verify
variant blocking 's/reader: b}/reader: b, blocking: true}/'
expect 1 "$region: ring 'r' has blocking 1, $base says 0" "$hvcomm" create "$region" --config "$base" --verify
variant kind 's/max-count: 8/max-count: 9/'
expect 1 "$region: event 'e' has max-count 9, $base says 8" "$hvcomm" create "$region" --config "$base" --verify
variant signalers 's/signalers: \[a\], waiters: \[b\]/signalers: [b], waiters: [a]/'
expect 1 "$region: event 'e' has signaler mask 2, $base says 1" \
    "$hvcomm" create "$region" --config "$base" --verify
variant refresh 's/refresh: 5ms/refresh: 6ms/'
expect 1 "$region: sampling 'p' has refresh (ns) 6000000, $base says 5000000" \
    "$hvcomm" create "$region" --config "$base" --verify
variant policy 's/overflow: drop-oldest/overflow: reject/'
expect 1 "$region: queue 'q' has overflow policy 0, $base says 1" \
    "$hvcomm" create "$region" --config "$base" --verify
variant segsize 's/size: 4K/size: 4000/'
expect 1 "$region: segment 's' has size 4000, $base says 4096" \
    "$hvcomm" create "$region" --config "$base" --verify
variant mtu 's/type: vnet,/type: vnet, mtu: 9000,/'
expect 1 "$region: vnet 'n' has mtu 9000, $base says 1500" "$hvcomm" create "$region" --config "$base" --verify
variant checksum 's/type: vnet,/type: vnet, checksum: true,/'
expect 1 "$region: vnet 'n' has checksum 1, $base says 0" "$hvcomm" create "$region" --config "$base" --verify

variant extra '$a\  - {name: x, type: event}'
expect 1 "$region: extra event 'x' not in $base" "$hvcomm" create "$region" --config "$base" --verify

variant regionsize 's/size: 1M/size: 2M/'
expect 1 "$region: region size is 2097152, $base says 1048576" \
    "$hvcomm" create "$region" --config "$base" --verify

variant peers 's/peers: 4/peers: 8/'
expect 1 "$region: region has 8 peer slots, $base says 4" "$hvcomm" create "$region" --config "$base" --verify

variant objects 's/objects: 32/objects: 40/'
expect 1 "$region: region has 40 directory entries, $base says 32" \
    "$hvcomm" create "$region" --config "$base" --verify

# Every difference of one region is listed (missing p, size of s, extra x, and the hash).
variant several '/name: p,/d; s/size: 4K/size: 12K/; $a\  - {name: x, type: event}'
out=$("$hvcomm" create "$region" --config "$base" --verify 2>&1)
for want in "missing sampling 'p'" "segment 's' takes 16384" "extra event 'x'" "4 differences from"; do
    printf '%s\n' "$out" | grep -qF "$want" || { echo "FAIL: several: no '$want' in:"; echo "$out"; fail=1; }
done

# A region made without a file.
rm -f "$region"
"$hvcomm" create "$region" --size 1M --peers 4 --objects 32 >/dev/null
expect 1 "$region: region was not made from a system file" \
    "$hvcomm" create "$region" --config "$base" --verify
expect 1 "$region: missing ring 'r'" "$hvcomm" create "$region" --config "$base" --verify
# The plain create asks for --force over an existing region too.
expect 1 "already holds a region" "$hvcomm" create "$region" --size 1M
expect 0 "created $region" "$hvcomm" create "$region" --size 1M --force

[ $fail -eq 0 ] && echo "verify: all differences found"
exit $fail
