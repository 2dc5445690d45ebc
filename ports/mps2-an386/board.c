/*
 * mps2-an386 (one Cortex-M4): picolibc's startup and semihosting do the
 * rest (printf, exit). This file gives the bare-metal backend its clock:
 * SysTick free-running at the 25 MHz system clock, extended to 64 bits in
 * software. No interrupt is used, so now_ns() must be called at least once
 * per wrap (2^24 clocks, 0.67 s); the unit tests call it constantly.
 */
#include <stdint.h>

#include "an386.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define NS_PER_CLK 40u /* 25 MHz */

static uint32_t last;
static uint64_t clocks;

void an386_clock_init(void)
{
    SYST_RVR = 0xffffffu;
    SYST_CVR = 0;
    SYST_CSR = 5; /* processor clock, no interrupt, enable */
    last = SYST_CVR;
}

uint64_t an386_now_ns(void)
{
    uint32_t now = SYST_CVR;

    /* A down-counter: elapsed = last - now, modulo 2^24. */
    clocks += (last - now) & 0xffffffu;
    last = now;
    return clocks * NS_PER_CLK;
}
