/*
 * riscv64 QEMU virt, beyond ports/bm-common/board.h: the PCIe host (gpex)
 * and the M-level AIA IMSIC (`-machine virt,aia=aplic-imsic -cpu
 * rv64,x-smaia=true` in QEMU 7.2), for guests that take MSI-X interrupts
 * from PCI devices, and the board's hooks for them (board.c).
 *
 * Addresses from QEMU's hw/riscv/virt.c (the device tree QEMU builds says
 * the same: `-machine virt,dumpdtb=FILE`): ECAM at 0x30000000 (256 buses),
 * 32-bit memory window 0x40000000-0x7fffffff, 64-bit window at
 * 0x400000000 (16 GiB), I/O at 0x03000000; INTx of slot S pin P (1..4) is
 * PLIC source 32 + (S + P - 1) % 4; the M-level IMSIC interrupt file of
 * hart H at 0x24000000 + 0x1000 * H, 255 identities.
 */
#ifndef HVC_PORTS_RISCV_VIRT_H
#define HVC_PORTS_RISCV_VIRT_H

#include <stdint.h>

#define VIRT_PCIE_ECAM 0x30000000u
#define VIRT_PCIE_NBUS 256u
#define VIRT_PCIE_MMIO32 0x40000000u
#define VIRT_PCIE_MMIO32_SIZE 0x40000000u
#define VIRT_PCIE_MMIO64 0x400000000ull
#define VIRT_PCIE_MMIO64_SIZE 0x400000000ull
#define VIRT_IMSIC_M(hart) (0x24000000u + 0x1000u * (hart))
#define VIRT_IMSIC_IDS 255u

/* Set by the program: called for every machine external interrupt. */
extern void (*volatile board_ext_irq)(void);
/* Machine timer interrupts taken (alarms that fired). */
extern volatile uint32_t board_timer_irqs;
/* The timer hook's alarm (hvc_baremetal_timer::alarm): mtimecmp. */
int board_alarm(void *ctx, uint64_t deadline_ns);

/* AIA CSRs by number (older assemblers lack the names). */
#define CSR_MISELECT 0x350
#define CSR_MIREG 0x351
#define CSR_MTOPEI 0x35c
#define IMSIC_EIDELIVERY 0x70u
#define IMSIC_EITHRESHOLD 0x72u
#define IMSIC_EIE0 0xc0u

static inline void imsic_write(unsigned reg, unsigned long v)
{
    __asm__ volatile("csrw 0x350, %0\n\tcsrw 0x351, %1" ::"r"((unsigned long)reg), "r"(v)
                     : "memory");
}

static inline unsigned long imsic_read(unsigned reg)
{
    unsigned long v;

    __asm__ volatile("csrw 0x350, %1\n\tcsrr %0, 0x351" : "=r"(v) : "r"((unsigned long)reg)
                     : "memory");
    return v;
}

/* This hart's M-level interrupt file: deliver, no threshold, identity `id`
 * enabled; then mie.MEIE. */
static inline void imsic_enable(unsigned id)
{
    unsigned reg = IMSIC_EIE0 + (id / 64u) * 2u; /* RV64: even registers only */

    imsic_write(IMSIC_EIDELIVERY, 1);
    imsic_write(IMSIC_EITHRESHOLD, 0);
    imsic_write(reg, imsic_read(reg) | 1ul << (id % 64u));
    __asm__ volatile("csrs mie, %0" ::"r"(1ul << 11) : "memory");
}

/* Claim the highest pending enabled identity (0: none). */
static inline unsigned imsic_claim(void)
{
    unsigned long v;

    __asm__ volatile("csrrw %0, 0x35c, zero" : "=r"(v)::"memory");
    return (unsigned)(v >> 16);
}

#endif
