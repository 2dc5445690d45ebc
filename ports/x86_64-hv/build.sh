#!/bin/sh
# Build an x86-64 guest image (flat binary loaded at 1 MiB) with the host
# gcc: the runtime, the hvcomm core, the x86hv guest backend, the
# hypervisor-side library (for images that are hypervisors), and the
# program's sources.
# Usage: build.sh SOURCE_DIR OUT.bin [--multiboot] PROGRAM.c...
set -eu
src=$1
out=$2
shift 2
boot=
if [ "${1:-}" = --multiboot ]; then
    boot=$src/ports/x86_64-hv/boot32.S
    shift
fi
cc=${X86HV_CC:-gcc}
work=$(mktemp -d /tmp/x86hv-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
flags="-std=c11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -mno-red-zone
       -mgeneral-regs-only -mcmodel=small -O2 -Wall -Wextra -Werror -fno-builtin
       -fno-asynchronous-unwind-tables -I$src/include -I$src/ports/x86_64-hv"
objs=
n=0
for f in "$src"/src/shm/*.c "$src"/src/events/*.c "$src"/src/platform/platform.c \
         "$src"/src/platform/log.c "$src"/src/platform/x86hv/x86hv.c "$src"/src/hv/hv.c \
         "$src"/ports/x86_64-hv/rt.c "$src"/ports/x86_64-hv/entry.S $boot "$@"; do
    n=$((n + 1))
    o=$work/$n.o
    # shellcheck disable=SC2086
    $cc $flags -c "$f" -o "$o"
    objs="$objs $o"
done
# shellcheck disable=SC2086
$cc -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-T,"$src"/ports/x86_64-hv/link.ld \
    -o "$out.elf" $objs -lgcc
objcopy -O binary "$out.elf" "$out"
