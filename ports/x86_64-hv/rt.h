/*
 * The minimal x86-64 guest runtime of ports/x86_64-hv: entry, GDT/IDT,
 * serial port (COM1), isa-debug-exit, 8259 PIC, a small printf. Enough to
 * run hvcomm in a guest; modelled on the size of Jailhouse's inmate lib.
 */
#ifndef RT_X86_64_HV_H
#define RT_X86_64_HV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The program: called with interrupts off, IDT loaded. Its return value
 * goes to isa-debug-exit (port 0xf4). */
int main(void);

/* Interrupt handler of the program, for vectors 32..255 (weak default:
 * ignore). Exceptions (0..31) print the frame and exit with 0x7e. */
void rt_irq(uint32_t vector);

static inline void rt_outb(uint16_t port, uint8_t v)
{
    __asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void rt_outl(uint16_t port, uint32_t v)
{
    __asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void rt_sti(void) { __asm__ __volatile__("sti" : : : "memory"); }
static inline void rt_cli(void) { __asm__ __volatile__("cli" : : : "memory"); }

static inline uint64_t rt_rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

void rt_putc(char c);
void rt_puts(const char *s);
void rt_vprintf(const char *fmt, va_list ap);
void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write `code` to isa-debug-exit and halt for good. */
void rt_exit(uint32_t code) __attribute__((noreturn));
/* Program the 8259 pair: IRQ 0..7 -> vector base, unmask the IRQs in mask. */
void rt_pic_init(uint8_t base, uint8_t unmask_master);
void rt_pic_eoi(void);
/* The hvcomm log hook, printing to the serial port. */
void rt_log(void *ctx, int level, const char *fmt, va_list ap);

#endif
