/*
 * x86 local APIC (xAPIC MMIO) fixed IPIs. Self-contained: plain MMIO, so
 * an x86 runtime that maps the APIC page can use it as it is.
 */
#include <hvcomm/baremetal.h>

#include "mmio.h"

#define APIC_EOI 0x0b0u
#define APIC_SVR 0x0f0u
#define APIC_ICR_LO 0x300u
#define APIC_ICR_HI 0x310u
#define ICR_PENDING (1u << 12)

static int lapic_send(void *ctx, uint32_t peer, uint32_t channel)
{
    const struct hvc_lapic_ctx *l = ctx;
    int spins = 100000;

    (void)channel;
    if (peer > 255 || l->vector < 32 || l->vector > 255)
        return -HVC_EINVAL;
    /* The previous IPI must have left; bounded, the APIC never hangs it. */
    while (mmio_r32(l->base + APIC_ICR_LO) & ICR_PENDING)
        if (--spins == 0)
            return -HVC_EIO;
    /* x86 keeps stores in order, and the ICR is uncached MMIO: the data
     * stores before are visible first. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    mmio_w32(l->base + APIC_ICR_HI, peer << 24);
    mmio_w32(l->base + APIC_ICR_LO, l->vector); /* fixed, physical, edge */
    return 0;
}

static int lapic_enable(void *ctx, uint32_t self, bool on)
{
    const struct hvc_lapic_ctx *l = ctx;
    uint32_t svr = mmio_r32(l->base + APIC_SVR);

    (void)self;
    mmio_w32(l->base + APIC_SVR, on ? (svr | 0x100u) : (svr & ~0x100u));
    return 0;
}

static uint32_t lapic_ack(void *ctx, uint32_t self, uint32_t source)
{
    const struct hvc_lapic_ctx *l = ctx;

    (void)self;
    mmio_w32(l->base + APIC_EOI, 0);
    return source == l->vector ? 1u : 0u;
}

static const struct hvc_doorbell_driver lapic = {
    .name = "lapic", .max_channels = 1,
    .send = lapic_send, .enable = lapic_enable, .ack = lapic_ack,
};

const struct hvc_doorbell_driver *hvc_doorbell_lapic(void)
{
    return &lapic;
}
