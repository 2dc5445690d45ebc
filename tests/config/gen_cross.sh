#!/bin/sh
# `hvcomm gen` output compiles with -Werror for the host (gcc and clang,
# C11, pedantic) and for a Cortex-M4 with -ffreestanding.
# Usage: gen_cross.sh HVCOMM SOURCE_DIR SYSTEM.yaml...
set -eu
hvcomm=$1
src=$2
shift 2
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    echo "SKIP: arm-none-eabi-gcc not installed (Debian package gcc-arm-none-eabi)"
    exit 77
fi
work=$(mktemp -d /tmp/hvct-gen.XXXXXX)
trap 'rm -rf "$work"' EXIT
warn="-std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wmissing-prototypes -Wwrite-strings -Werror"
for y in "$@"; do
    out=$work/$(basename "$y" .yaml).c
    "$hvcomm" gen "$y" -o "$out" >/dev/null
    # shellcheck disable=SC2086
    gcc $warn -I"$src/include" -c "$out" -o "$work/host.o"
    # shellcheck disable=SC2086
    clang $warn -Wmissing-variable-declarations -I"$src/include" -c "$out" -o "$work/clang.o"
    # shellcheck disable=SC2086
    arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -ffreestanding \
        $warn -I"$src/include" -c "$out" -o "$work/m4.o"
    arm-none-eabi-size "$work/m4.o" | sed "s|$work/m4.o|$(basename "$y") (Cortex-M4)|"
done
echo "gen: output compiles for the host and Cortex-M4"
