#!/bin/sh
# The core (src/shm, src/events, the platform dispatch) must build for a
# Cortex-M4 with -ffreestanding, use no 64-bit atomics (no libatomic calls),
# and call nothing outside itself but what GCC may emit for freestanding code
# (memcpy, memset, memmove, memcmp) and libgcc helpers. Prints the code size.
# Usage: freestanding.sh SOURCE_DIR
set -eu
src=$1
cc=arm-none-eabi-gcc
if ! command -v $cc >/dev/null 2>&1; then
    echo "SKIP: $cc not installed (Debian package gcc-arm-none-eabi)"
    exit 77
fi
work=$(mktemp -d /tmp/hvct-fs.XXXXXX)
trap 'rm -rf "$work"' EXIT
flags="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -std=c11 -ffreestanding
       -Os -ffunction-sections -fdata-sections -Wall -Wextra -Wpedantic -Werror -I$src/include"
objs=
for f in "$src"/src/shm/*.c "$src"/src/events/*.c "$src"/src/system/system.c "$src"/src/platform/platform.c "$src"/src/platform/log.c; do
    [ -f "$f" ] || continue
    o=$work/$(basename "$(dirname "$f")")_$(basename "$f" .c).o
    # shellcheck disable=SC2086
    $cc $flags -c "$f" -o "$o"
    objs="$objs $o"
done
# Undefined symbols must be our own or the freestanding allowance.
undef=$(arm-none-eabi-nm -u $objs | awk 'NF == 2 {print $2}' | sort -u)
defined=$(arm-none-eabi-nm --defined-only $objs | awk 'NF == 3 {print $3}' | sort -u)
bad=
for s in $undef; do
    case $s in
        memcpy|memset|memmove|memcmp|__aeabi_*|__gnu_*) ;;
        *) echo "$defined" | grep -qx "$s" || bad="$bad $s" ;;
    esac
done
if [ -n "$bad" ]; then
    echo "FAIL: the core needs symbols it may not use:$bad"
    exit 1
fi
echo "freestanding core for Cortex-M4 (arm-none-eabi-gcc -Os):"
arm-none-eabi-size -t $objs | sed "s|$work/||"
