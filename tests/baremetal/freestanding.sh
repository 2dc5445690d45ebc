#!/bin/sh
# The core (cmake/core_sources.txt: src/shm, src/events, the platform
# dispatch, the hypervisor-side library) and the bare-metal
# backend (src/platform/baremetal) must build for a
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
# The core's sources: the one list CMake reads too (cmake/core_sources.txt).
core=$(grep -v '^#' "$src/cmake/core_sources.txt" | sed "s|^|$src/|")
# shellcheck disable=SC2086
for f in $core "$src"/src/platform/baremetal/*.c; do
    [ -f "$f" ] || { echo "FAIL: cmake/core_sources.txt: no file $f"; exit 1; }
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
# The bare-metal backend's x86 path (cli / sti; hlt) and the local APIC
# driver have no x86 bare-metal machine here: compile them for x86-64,
# freestanding, with every warning as an error.
if command -v gcc >/dev/null 2>&1 && gcc -dumpmachine | grep -q '^x86_64'; then
    for f in "$src"/src/platform/baremetal/backend.c "$src"/src/platform/baremetal/doorbell_lapic.c; do
        gcc -std=c11 -ffreestanding -mno-red-zone -Os -Wall -Wextra -Wpedantic -Wshadow \
            -Wcast-align -Wmissing-prototypes -Wundef -Werror -I"$src/include" \
            -c "$f" -o "$work/x86_$(basename "$f" .c).o"
    done
    echo "bare-metal backend and LAPIC driver: x86-64 freestanding build ok"
fi
