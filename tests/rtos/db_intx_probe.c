/*
 * Evidence, not a test: does QEMU's ivshmem-doorbell raise INTx on riscv64
 * virt when the guest never enables MSI-X? (doc/rtos-linux.md, "Why MSI-X
 * and not INTx".) The guest assigns BAR0/BAR1, enables memory decoding
 * with INTx allowed, enables the PLIC source the slot's pin would use,
 * sets IntrMask, rings its own doorbell 200 times and watches the PLIC's
 * pending bit and IntrStatus for 1 s. Build and run by hand:
 *
 *   S=/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs
 *   CORE=$(sed -n 's/^HVC_CORE_SOURCES:INTERNAL=//p' build/gcc/CMakeCache.txt | tr ';' ' ')
 *   riscv64-unknown-elf-gcc -misa-spec=2.2 -march=rv64imac -mabi=lp64 -mcmodel=medany \
 *     -std=gnu11 -ffreestanding -O2 --specs=$S -Iinclude -I. -nostartfiles \
 *     -T ports/riscv-virt/link.ld -Wl,--gc-sections -Wl,--no-warn-rwx-segments -o probe.elf \
 *     ports/riscv-virt/start.S ports/riscv-virt/board.c tests/rtos/db_intx_probe.c \
 *     tests/baremetal/bmlib.c ports/bm-common/pci.c $CORE src/platform/baremetal/backend.c \
 *     src/platform/baremetal/doorbell_clint.c -lgcc
 *   build/gcc/tools/hvcomm-ivshmem-server --socket /tmp/p.sock --shm /tmp/p.shm --size 4M \
 *     --vectors 1 &
 *   qemu-system-riscv64 -machine virt -m 64M -smp 2 -bios none -nographic -monitor none \
 *     -chardev socket,path=/tmp/p.sock,id=ivs -device ivshmem-doorbell,chardev=ivs,vectors=1 \
 *     -kernel probe.elf
 *
 * QEMU 7.2 (Debian 12) prints: Interrupt Pin register 0, PLIC pending
 * never, IntrStatus ever 0x0.
 */
#include <hvcomm/hvcomm.h>
#include <hvcomm/ivshmem.h>
#include "ports/bm-common/pci.h"
#include "ports/riscv-virt/virt.h"
#include "tests/baremetal/bmlib.h"
#define PLIC 0x0c000000u
static inline uint32_t rd(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void wr(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
int board_main(uint32_t core)
{
    struct bm_pci_dev d;
    struct bm_pci_window w = {VIRT_PCIE_MMIO32, VIRT_PCIE_MMIO32 + VIRT_PCIE_MMIO32_SIZE};
    uint64_t b0, b1;
    uint32_t pin, src, id, pend = 0, isr = 0;
    if (core) return 0;
    if (bm_pci_find(VIRT_PCIE_ECAM, 1, 0x1af4, 0x1110, &d) < 0) board_exit(2);
    bm_pci_bar_assign(&d, 0, &w, &b0);
    bm_pci_bar_assign(&d, 1, &w, &b1);
    bm_pci_enable(&d, false); /* INTx allowed, MSI-X never enabled */
    pin = (rd(d.cfg + 0x3c) >> 8) & 0xff;
    src = 32 + (d.dev + (pin != 0 ? pin : 1) - 1) % 4; /* INTA when the pin says none */
    wr(PLIC + 4 * src, 1);                      /* priority */
    wr(PLIC + 0x2000 + 4 * (src / 32), 1u << (src % 32)); /* enable, context 0 (hart 0 M) */
    wr(PLIC + 0x200000, 0);                     /* threshold */
    wr(b0 + HVC_IVSHMEM_REG_INTRMASK, ~0u);     /* IntrMask all on */
    id = rd(b0 + HVC_IVSHMEM_REG_IVPOSITION);
    bm_printf("probe: slot %u, Interrupt Pin register %u (PLIC source watched: %u), IVPosition %u\n", d.dev, pin, src, id);
    for (int i = 0; i < 200; i++) {
        uint64_t t = board_now_ns() + 5000000u;
        wr(b0 + HVC_IVSHMEM_REG_DOORBELL, id << 16);
        while (board_now_ns() < t) {
            pend |= rd(PLIC + 0x1000 + 4 * (src / 32)) & (1u << (src % 32));
            isr |= rd(b0 + HVC_IVSHMEM_REG_INTRSTATUS);
        }
    }
    bm_printf("probe: 200 doorbells to self over 1 s: PLIC pending %s, IntrStatus ever 0x%x\n",
              pend ? "SET" : "never", isr);
    board_exit(0);
}
