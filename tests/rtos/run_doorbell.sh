#!/bin/sh
# Build the bare-metal riscv64 virt guest of the doorbell variant of
# tests/rtos (db_guest.c: the core, the bare-metal backend with its
# ivshmem doorbell driver, ports/bm-common/pci.c, ports/riscv-virt, lwIP
# and the vnet driver (ports/rtos-guest/lwip.sh), the
# table `hvcomm gen` writes from rtos-doorbell.yaml) and run the Linux side
# (HOST, db_host.c), which starts SERVER (hvcomm-ivshmem-server) and boots
# the guest under QEMU with an ivshmem-doorbell device.
# Usage: run_doorbell.sh HVCOMM_TOOL HOST SERVER SOURCE_DIR BUILD_DIR -- CORE_SOURCES...
# (the arguments and the toolchain: common.sh)
# A missing cross compiler, picolibc or QEMU gives SKIP (77) with the reason.
set -eu
. "$4/tests/rtos/common.sh"
"$gen" gen "$tests/rtos-doorbell.yaml" -o "$out/system.c" --name hvc_system_rtos_doorbell >/dev/null
# shellcheck disable=SC2086
$cc $arch $cflags -I"$src/include" -I"$src/ports/lwip" -I"$lwip/src/include" -Wall -Wextra -Werror -Wno-unused-parameter -nostartfiles \
    -T "$src/ports/rtos-guest/link.ld" -Wl,--gc-sections -Wl,--no-warn-rwx-segments \
    -o "$out/db_guest.elf" "$port/start.S" "$port/board.c" "$tests/db_guest.c" \
    "$src/tests/baremetal/bmlib.c" "$src/ports/bm-common/pci.c" "$src/ports/rtos-guest/libc.c" \
    "$out/system.c" $core "$src/src/platform/baremetal/backend.c" \
    "$src/src/platform/baremetal/doorbell_ivshmem.c" "$out/liblwip-vnet.a" -lc -lgcc
exec timeout "${HVC_RTOS_TIMEOUT:-150}" "$host" "$tests/rtos-doorbell.yaml" "$out/db_guest.elf" "$tool"
