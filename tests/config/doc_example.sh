#!/bin/sh
# doc/config.md stays true: its complete example is a valid system file
# (hvcomm check), and every shipped system file checks clean.
# Usage: doc_example.sh HVCOMM SOURCE_DIR
set -eu
hvcomm=$1
src=$2
work=$(mktemp -d /tmp/hvct-doc.XXXXXX)
trap 'rm -rf "$work"' EXIT
sed -n '/^```yaml$/,/^```$/p' "$src/doc/config.md" | sed '1d;$d' > "$work/example.yaml"
[ -s "$work/example.yaml" ] || { echo "FAIL: no yaml example in doc/config.md"; exit 1; }
"$hvcomm" check "$work/example.yaml" > "$work/out" || { cat "$work/out"; exit 1; }
grep -q "^readings " "$work/out" || { echo "FAIL: the example's layout lacks 'readings'"; exit 1; }
for f in "$src"/examples/systems/*.yaml; do
    "$hvcomm" check "$f" > /dev/null || { echo "FAIL: $f does not check clean"; exit 1; }
done
echo "doc/config.md's example and examples/systems/*.yaml check clean"
