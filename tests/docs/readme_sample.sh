#!/bin/sh
# The README's C sample must compile and run: take every ```c block from
# README.md, build each as a program against the library just built (with
# the project's warnings, as errors) and run it on a fresh region.
# Usage: readme_sample.sh README CC INCLUDE_DIR LIBRARY [EXTRA_FLAGS]
set -eu
readme=$1 cc=$2 inc=$3 lib=$4 extra=${5:-}
work=$(mktemp -d /tmp/hvct-readme.XXXXXX)
trap 'rm -rf "$work"' EXIT
awk -v dir="$work" '
    /^```c$/ { n++; out = sprintf("%s/sample%d.c", dir, n); inblock = 1; next }
    /^```$/  { inblock = 0; next }
    inblock  { print > out }
' "$readme"
set -- "$work"/sample*.c
[ -f "$1" ] || { echo "FAIL: no \`\`\`c block in $readme"; exit 1; }
for src in "$@"; do
    exe=${src%.c}
    echo "== $(basename "$src"): $(wc -l < "$src") lines"
    # shellcheck disable=SC2086
    "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror $extra -I"$inc" "$src" "$lib" -o "$exe"
    region=/dev/shm/hvct-readme-$$-$(basename "$exe")
    [ -d /dev/shm ] || region=$work/region-$(basename "$exe")
    out=$("$exe" "$region")
    echo "$out"
    [ ! -e "$region" ] || { echo "FAIL: the sample left $region behind"; exit 1; }
done
echo "every README C sample compiled and ran"
