/*
 * Arm SSE-200 Message Handling Unit: CPU0INTR_* rings CPU 0, CPU1INTR_*
 * rings CPU 1; 32 channel bits each. Plain MMIO.
 */
#include <hvcomm/baremetal.h>

#include "mmio.h"

#define MHU_CPU0INTR_STAT 0x00u
#define MHU_CPU0INTR_SET 0x04u
#define MHU_CPU0INTR_CLR 0x08u
#define MHU_CPU1INTR_STAT 0x10u
#define MHU_CPU1INTR_SET 0x14u
#define MHU_CPU1INTR_CLR 0x18u

static inline void mhu_barrier(void)
{
#if defined(__arm__) || defined(__aarch64__)
    __asm__ volatile("dmb sy" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static int mhu_send(void *ctx, uint32_t peer, uint32_t channel)
{
    const struct hvc_mhu_ctx *m = ctx;

    if (peer > 1 || channel > 31)
        return -HVC_EINVAL;
    /* Our shared-memory stores before the doorbell register write. */
    mhu_barrier();
    mmio_w32(m->base + (peer == 0 ? MHU_CPU0INTR_SET : MHU_CPU1INTR_SET),
             1u << channel);
    return 0;
}

static uint32_t mhu_ack(void *ctx, uint32_t self, uint32_t source)
{
    const struct hvc_mhu_ctx *m = ctx;
    uint32_t stat;

    (void)source;
    if (self > 1)
        return 0;
    stat = mmio_r32(m->base + (self == 0 ? MHU_CPU0INTR_STAT : MHU_CPU1INTR_STAT));
    mmio_w32(m->base + (self == 0 ? MHU_CPU0INTR_CLR : MHU_CPU1INTR_CLR), stat);
    mhu_barrier();
    return stat;
}

static const struct hvc_doorbell_driver mhu = {
    .name = "mhu", .max_channels = 32,
    .send = mhu_send, .enable = NULL, .ack = mhu_ack,
};

const struct hvc_doorbell_driver *hvc_doorbell_mhu(void)
{
    return &mhu;
}
