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
# Per-configuration sizes (Cortex-M4, -Os, --gc-sections): the core's
# objects, and the minimal guest image (tests/baremetal/minimal.c: attach a
# region, one ring, polling) linked with picolibc, for each compile-time
# option set. The minimal image does not format (another peer does), so it
# links under every option set.
specs=/usr/lib/picolibc/arm-none-eabi/picolibc.specs
echo "per-configuration sizes (bytes; text+data of the core objects, and of the"
echo "minimal image linked at -Os --gc-sections, then the same with -flto;"
echo "target for the attach-only minimal image: 4096):"
printf '  %-12s %10s %10s %10s\n' config core minimal "minimal-lto"
tiny_lto=
for conf in full no-strings attach-only coherent tiny; do
    case $conf in
        full) defs= ;;
        no-strings) defs=-DHVC_CONFIG_NO_STRINGS ;;
        attach-only) defs=-DHVC_CONFIG_ATTACH_ONLY ;;
        coherent) defs=-DHVC_CONFIG_COHERENT ;;
        tiny) defs="-DHVC_CONFIG_ATTACH_ONLY -DHVC_CONFIG_NO_STRINGS -DHVC_CONFIG_NO_BLOCKING -DHVC_CONFIG_COHERENT" ;;
    esac
    d=$work/$conf
    mkdir -p "$d"
    cobjs=
    # shellcheck disable=SC2086
    for f in $core "$src"/src/platform/baremetal/backend.c; do
        o=$d/$(basename "$(dirname "$f")")_$(basename "$f" .c).o
        $cc $flags $defs -c "$f" -o "$o"
        cobjs="$cobjs $o"
    done
    # shellcheck disable=SC2086
    core_bytes=$(arm-none-eabi-size -t $cobjs | awk 'END {print $1 + $2}')
    min_bytes=-
    if [ -f "$specs" ]; then
        # shellcheck disable=SC2086
        $cc $flags $defs -DMIN_SHM_BASE=0x20300000 --specs="$specs" -Wl,--gc-sections \
            -Wl,--defsym=__flash=0x0 -Wl,--defsym=__flash_size=0x100000 \
            -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x100000 \
            -o "$d/min.elf" "$src/tests/baremetal/minimal.c" $cobjs
        min_bytes=$(arm-none-eabi-size "$d/min.elf" | awk 'NR == 2 {print $1 + $2}')
        # The same image with link-time optimisation (the sources, not the
        # objects above, compiled with -flto): what a small target's own
        # build of the core gets.
        # shellcheck disable=SC2086
        $cc $flags $defs -flto -DMIN_SHM_BASE=0x20300000 --specs="$specs" -Wl,--gc-sections \
            -Wl,--defsym=__flash=0x0 -Wl,--defsym=__flash_size=0x100000 \
            -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x100000 \
            -o "$d/min-lto.elf" "$src/tests/baremetal/minimal.c" $core \
            "$src"/src/platform/baremetal/backend.c
        lto_bytes=$(arm-none-eabi-size "$d/min-lto.elf" | awk 'NR == 2 {print $1 + $2}')
        [ "$conf" = tiny ] && tiny_lto=$lto_bytes
    fi
    printf '  %-12s %10s %10s %10s\n' "$conf" "$core_bytes" "$min_bytes" "${lto_bytes:--}"
    if [ "$conf" = tiny ] && [ -f "$d/min.elf" ]; then
        # Attach-only + no-blocking: the ring must not pull in the event
        # module, and nothing formats or creates.
        for s in hvc_event_open hvc_event_signal hvc_event_wait hvc_region_format hvc_obj_create; do
            if arm-none-eabi-nm "$d/min.elf" | awk '{print $NF}' | grep -qx "$s"; then
                echo "FAIL: the tiny minimal image links $s"
                exit 1
            fi
        done
    fi
done
echo "  (tiny = attach-only + no-strings + no-blocking + coherent; rpmsg-lite, its published Cortex-M figure: 2926)"
if [ -n "$tiny_lto" ] && [ "$tiny_lto" -gt 4096 ]; then
    echo "FAIL: the tiny minimal image with -flto is $tiny_lto bytes, more than the 4096 target"
    exit 1
fi
