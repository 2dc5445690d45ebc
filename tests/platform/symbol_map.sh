#!/bin/sh
# Every symbol libhvcomm.so exports is listed in src/hvcomm.map, and every
# name listed there is exported: a function added without a map line (or a
# line left for a removed one) fails here.
# Usage: symbol_map.sh LIBRARY MAP
set -eu
lib=$1
map=$2
work=$(mktemp -d /tmp/hvct-map.XXXXXX)
trap 'rm -rf "$work"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sed 's/@.*//' |
    sort -u > "$work/exported"
sed -n 's/^[[:space:]]*\(hvc_[A-Za-z0-9_]*\);.*/\1/p' "$map" | sort -u > "$work/listed"
[ -s "$work/exported" ] || { echo "FAIL: $lib exports nothing"; exit 1; }
if ! diff -u "$work/listed" "$work/exported" > "$work/diff"; then
    echo "FAIL: src/hvcomm.map and the library's exports differ (- map only, + library only):"
    grep '^[-+]hvc_' "$work/diff"
    exit 1
fi
# Every exported symbol carries a version node of the map.
if nm -D --defined-only "$lib" | awk '$3 ~ /^hvc_/ && $3 !~ /@@?HVCOMM_/' | grep -q .; then
    echo "FAIL: unversioned exports"
    exit 1
fi
echo "symbol map: $(wc -l < "$work/exported") exported symbols, all listed and versioned"
