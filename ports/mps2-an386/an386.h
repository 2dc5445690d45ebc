/* The mps2-an386 port: a clock for the bare-metal backend. */
#ifndef HVC_PORTS_AN386_H
#define HVC_PORTS_AN386_H

#include <stdint.h>

void an386_clock_init(void);
/* Monotonic ns; call at least every 0.67 s (SysTick wrap). */
uint64_t an386_now_ns(void);

#endif
