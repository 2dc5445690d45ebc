/*
 * Arm GICv3 software-generated interrupts between the cores of one
 * cluster (affinity 0.0.0.N), through the system-register CPU interface.
 */
#include <hvcomm/baremetal.h>

#include "mmio.h"

#if defined(__aarch64__)
#define GICR_WAKER 0x14u
#define GICR_SGI 0x10000u /* SGI_base frame */
#define GICR_IGROUPR0 (GICR_SGI + 0x80u)
#define GICR_ISENABLER0 (GICR_SGI + 0x100u)
#define GICR_IPRIORITYR (GICR_SGI + 0x400u)

static int gic_send(void *ctx, uint32_t peer, uint32_t channel)
{
    const struct hvc_gicv3_ctx *g = ctx;
    uint64_t v;

    (void)channel;
    if (peer >= 16 || g->sgi >= 16)
        return -HVC_EINVAL;
    /* INTID in bits 24..27, target list bit per Aff0 in bits 0..15. */
    v = (uint64_t)g->sgi << 24 | (1u << peer);
    /* Our shared-memory stores before the SGI: a DSB orders them before
     * the system-register write that generates it. */
    __asm__ volatile("dsb ish\n\tmsr S3_0_C12_C11_5, %0\n\tisb" ::"r"(v) : "memory");
    return 0;
}

static int gic_enable(void *ctx, uint32_t self, bool on)
{
    const struct hvc_gicv3_ctx *g = ctx;
    uintptr_t r = g->gicr_base + (uintptr_t)self * g->gicr_stride;
    uint32_t mask = 1u << g->sgi;
    uint64_t sre;

    if (!on) {
        mmio_w32(r + GICR_SGI + 0x180u, mask); /* ICENABLER0 */
        return 0;
    }
    /* Wake the redistributor, wait until ChildrenAsleep clears. */
    mmio_w32(r + GICR_WAKER, mmio_r32(r + GICR_WAKER) & ~2u);
    for (int i = 0; i < 1000000 && (mmio_r32(r + GICR_WAKER) & 4u); i++)
        ;
    mmio_w32(r + GICR_IGROUPR0, mmio_r32(r + GICR_IGROUPR0) | mask);
    *(volatile uint8_t *)(r + GICR_IPRIORITYR + g->sgi) = 0x80;
    mmio_w32(r + GICR_ISENABLER0, mask);
    __asm__ volatile("mrs %0, S3_0_C12_C12_5" : "=r"(sre)); /* ICC_SRE_EL1 */
    sre |= 1;
    __asm__ volatile("msr S3_0_C12_C12_5, %0\n\tisb" ::"r"(sre));
    __asm__ volatile("msr S3_0_C4_C6_0, %0" ::"r"((uint64_t)0xff)); /* PMR */
    __asm__ volatile("msr S3_0_C12_C12_7, %0\n\tisb" ::"r"((uint64_t)1)); /* IGRPEN1 */
    return 0;
}

static uint32_t gic_ack(void *ctx, uint32_t self, uint32_t source)
{
    const struct hvc_gicv3_ctx *g = ctx;

    (void)self;
    return source == g->sgi ? 1u : 0u;
}

static const struct hvc_doorbell_driver gicv3 = {
    .name = "gicv3", .max_channels = 1,
    .send = gic_send, .enable = gic_enable, .ack = gic_ack,
};

const struct hvc_doorbell_driver *hvc_doorbell_gicv3(void)
{
    return &gicv3;
}
#else
const struct hvc_doorbell_driver *hvc_doorbell_gicv3(void)
{
    return NULL; /* needs the AArch64 GIC system registers */
}
#endif
