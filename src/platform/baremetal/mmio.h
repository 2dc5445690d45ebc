/* Device register access for the doorbell drivers: one access each. */
#ifndef HVC_BAREMETAL_MMIO_H
#define HVC_BAREMETAL_MMIO_H

#include <stdint.h>

static inline void mmio_w32(uintptr_t a, uint32_t v)
{
    *(volatile uint32_t *)a = v;
}

static inline uint32_t mmio_r32(uintptr_t a)
{
    return *(volatile const uint32_t *)a;
}

#endif
