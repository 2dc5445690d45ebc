/*
 * The three things the bare-metal backend needs from the CPU: mask
 * interrupts (returning the previous state), restore them, and wait for an
 * interrupt. One block per architecture; a pending interrupt ends WFI even
 * while it is masked on Arm (A and M profile) and RISC-V, which is what
 * makes "mask, check, wait, unmask" free of lost wake-ups. x86 gets the same
 * from `sti; hlt` (STI's one-instruction shadow covers the HLT).
 */
#ifndef HVC_BAREMETAL_ARCH_H
#define HVC_BAREMETAL_ARCH_H

#include <stdint.h>

#if defined(__riscv)
static inline uintptr_t arch_irq_save(void)
{
    uintptr_t s;

    /* Clear mstatus.MIE (bit 3), returning the old mstatus. */
    __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(s)::"memory");
    return s;
}
static inline void arch_irq_restore(uintptr_t s)
{
    if (s & 8u)
        __asm__ volatile("csrsi mstatus, 8" ::: "memory");
}
static inline void arch_wait(uintptr_t s)
{
    (void)s;
    __asm__ volatile("wfi" ::: "memory");
}
#elif defined(__aarch64__)
static inline uintptr_t arch_irq_save(void)
{
    uintptr_t s;

    __asm__ volatile("mrs %0, daif\n\tmsr daifset, #2" : "=r"(s)::"memory");
    return s;
}
static inline void arch_irq_restore(uintptr_t s)
{
    __asm__ volatile("msr daif, %0" ::"r"(s) : "memory");
}
static inline void arch_wait(uintptr_t s)
{
    (void)s;
    __asm__ volatile("dsb sy\n\twfi" ::: "memory");
}
#elif defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
static inline uintptr_t arch_irq_save(void)
{
    uint32_t s;

    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(s)::"memory");
    return s;
}
static inline void arch_irq_restore(uintptr_t s)
{
    __asm__ volatile("msr primask, %0" ::"r"((uint32_t)s) : "memory");
}
static inline void arch_wait(uintptr_t s)
{
    (void)s;
    __asm__ volatile("dsb\n\twfi" ::: "memory");
}
#elif defined(__x86_64__) || defined(__i386__)
static inline uintptr_t arch_irq_save(void)
{
    uintptr_t s;

    __asm__ volatile("pushf\n\tpop %0\n\tcli" : "=r"(s)::"memory");
    return s;
}
static inline void arch_irq_restore(uintptr_t s)
{
    if (s & 0x200u)
        __asm__ volatile("sti" ::: "memory");
}
static inline void arch_wait(uintptr_t s)
{
    /* With interrupts on before the save: STI's shadow makes "sti; hlt"
     * atomic, so an IPI raised since the check wakes the HLT. The caller
     * then "restores" IF=1 again, which is harmless. */
    if (s & 0x200u)
        __asm__ volatile("sti\n\thlt\n\tcli" ::: "memory");
}
#define ARCH_WAIT_NEEDS_IRQS_ON 1
#else
/* Unknown CPU: no sleeping, the waits poll. */
static inline uintptr_t arch_irq_save(void) { return 0; }
static inline void arch_irq_restore(uintptr_t s) { (void)s; }
static inline void arch_wait(uintptr_t s) { (void)s; }
#define ARCH_NO_WAIT 1
#endif

#endif
