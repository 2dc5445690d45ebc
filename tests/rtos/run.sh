#!/bin/sh
# Build the bare-metal riscv64 virt guest of tests/rtos (the core, the
# bare-metal backend, ports/riscv-virt, the system table `hvcomm gen`
# writes from rtos-linux.yaml) and run the Linux side (HOST), which boots
# it under QEMU with its RAM in a file shared with Linux.
# Usage: run.sh HVCOMM_TOOL HOST BRIDGE_TOOL SOURCE_DIR BUILD_DIR -- CORE_SOURCES...
# A missing cross compiler, picolibc or QEMU gives SKIP (77) with the reason.
set -eu
gen=$1 host=$2 bridge=$3 src=$4 out=$5
shift 5
[ "${1:-}" = "--" ] && shift
core=
for f in "$@"; do
    case $f in /*) core="$core $f" ;; *) core="$core $src/$f" ;; esac
done
mkdir -p "$out"
need() {
    command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 not installed (Debian package $2)"; exit 77; }
}
cc=riscv64-unknown-elf-gcc
specs=/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs
need $cc gcc-riscv64-unknown-elf
need qemu-system-riscv64 qemu-system-misc
need ping iputils-ping
need iperf iperf
need ip iproute2
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: the network part needs root (a network namespace and a TAP)"; exit 77; }
[ -e "$specs" ] || { echo "SKIP: $specs missing (Debian package picolibc-riscv64-unknown-elf)"; exit 77; }
tests=$src/tests/rtos
port=$src/ports/riscv-virt
arch="-misa-spec=2.2 -march=rv64imac -mabi=lp64 -mcmodel=medany"
cflags="-std=gnu11 -ffreestanding -O2 -g -ffunction-sections -fdata-sections --specs=$specs"
# lwIP and the vnet driver, cross-built once (ports/rtos-guest/lwip.sh).
# shellcheck disable=SC2086
sh "$src/ports/rtos-guest/lwip.sh" "$src" "$out/liblwip-vnet.a" $cc $arch $cflags
lwip=${HVC_LWIP_DIR:-$src/third_party/lwip}
"$gen" gen "$tests/rtos-linux.yaml" -o "$out/system.c" --name hvc_system_rtos >/dev/null
# shellcheck disable=SC2086
$cc $arch $cflags -I"$src/include" -I"$src/ports/lwip" -I"$lwip/src/include" \
    -Wall -Wextra -Werror -Wno-unused-parameter -nostartfiles \
    -T "$src/ports/rtos-guest/link.ld" -Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,-Map="$out/guest.elf.map" \
    -o "$out/guest.elf" "$port/start.S" "$port/board.c" "$tests/guest.c" \
    "$src/tests/baremetal/bmlib.c" "$src/ports/rtos-guest/libc.c" "$out/system.c" $core \
    "$src/src/platform/baremetal/backend.c" "$out/liblwip-vnet.a" -lc -lgcc
exec timeout "${HVC_RTOS_TIMEOUT:-150}" "$host" "$tests/rtos-linux.yaml" "$out/guest.elf" "$bridge"
