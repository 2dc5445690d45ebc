#!/bin/sh
# Build the bare-metal riscv64 virt guest of tests/rtos (the core, the
# bare-metal backend, ports/riscv-virt, the system table `hvcomm gen`
# writes from rtos-linux.yaml) and run the Linux side (HOST), which boots
# it under QEMU with its RAM in a file shared with Linux.
# Usage: run.sh HVCOMM_TOOL HOST BRIDGE_TOOL SOURCE_DIR BUILD_DIR -- CORE_SOURCES...
# (the arguments and the toolchain: common.sh)
# A missing cross compiler, picolibc or QEMU gives SKIP (77) with the reason.
set -eu
. "$4/tests/rtos/common.sh"
need ping iputils-ping
need iperf iperf
need ip iproute2
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: the network part needs root (a network namespace and a TAP)"; exit 77; }
"$gen" gen "$tests/rtos-linux.yaml" -o "$out/system.c" --name hvc_system_rtos >/dev/null
# shellcheck disable=SC2086
$cc $arch $cflags -I"$src/include" -I"$src/ports/lwip" -I"$lwip/src/include" \
    -Wall -Wextra -Werror -Wno-unused-parameter -nostartfiles \
    -T "$src/ports/rtos-guest/link.ld" -Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,-Map="$out/guest.elf.map" \
    -o "$out/guest.elf" "$port/start.S" "$port/board.c" "$tests/guest.c" \
    "$src/tests/baremetal/bmlib.c" "$src/ports/rtos-guest/libc.c" "$out/system.c" $core \
    "$src/src/platform/baremetal/backend.c" "$out/liblwip-vnet.a" -lc -lgcc
exec timeout "${HVC_RTOS_TIMEOUT:-150}" "$host" "$tests/rtos-linux.yaml" "$out/guest.elf" "$tool"
