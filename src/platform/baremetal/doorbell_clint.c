/*
 * RISC-V CLINT / ACLINT MSWI: one MSIP word per hart, bit 0 raises the
 * machine software interrupt of that hart. One channel.
 */
#include <hvcomm/baremetal.h>

#include "mmio.h"

#if defined(__riscv)
static int clint_send(void *ctx, uint32_t peer, uint32_t channel)
{
    const struct hvc_clint_ctx *c = ctx;

    (void)channel;
    if (peer >= c->nharts)
        return -HVC_EINVAL;
    /* Make our shared-memory stores visible before the interrupt: the
     * receiver's handler runs after it sees MSIP, its loads after that. */
    __asm__ volatile("fence rw, rw" ::: "memory");
    mmio_w32(c->msip_base + 4u * peer, 1);
    return 0;
}

static int clint_enable(void *ctx, uint32_t self, bool on)
{
    const struct hvc_clint_ctx *c = ctx;

    if (self >= c->nharts)
        return -HVC_EINVAL;
    if (on)
        __asm__ volatile("csrs mie, %0" ::"r"(1ul << 3) : "memory"); /* MSIE */
    else
        __asm__ volatile("csrc mie, %0" ::"r"(1ul << 3) : "memory");
    return 0;
}

static uint32_t clint_ack(void *ctx, uint32_t self, uint32_t source)
{
    const struct hvc_clint_ctx *c = ctx;

    (void)source;
    mmio_w32(c->msip_base + 4u * self, 0);
    __asm__ volatile("fence rw, rw" ::: "memory");
    return 1u;
}

static const struct hvc_doorbell_driver clint = {
    .name = "clint", .max_channels = 1,
    .send = clint_send, .enable = clint_enable, .ack = clint_ack,
};

const struct hvc_doorbell_driver *hvc_doorbell_clint(void)
{
    return &clint;
}
#else
const struct hvc_doorbell_driver *hvc_doorbell_clint(void)
{
    return NULL; /* needs the mie CSR: RISC-V only */
}
#endif
