/*
 * QEMU's ivshmem-doorbell device seen from a bare-metal guest: the
 * Doorbell register of BAR0 rings (peer, vector); the device's own vector 0
 * arrives as an MSI-X message the board routed to `msi_base`. One channel.
 */
#include <hvcomm/baremetal.h>
#include <hvcomm/ivshmem.h>

#include "mmio.h"

/* Shared-memory stores before the device write that rings the peer. */
static inline void fence_io(void)
{
#if defined(__riscv)
    __asm__ volatile("fence iorw, iorw" ::: "memory");
#elif defined(__aarch64__)
    __asm__ volatile("dsb sy" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static int ivs_send(void *ctx, uint32_t peer, uint32_t channel)
{
    const struct hvc_ivshmem_bm_ctx *c = ctx;

    (void)channel; /* one channel: vector 0 */
    if (peer > 0xffffu)
        return -HVC_EINVAL;
    fence_io();
    mmio_w32(c->regs + HVC_IVSHMEM_REG_DOORBELL, peer << 16);
    return 0;
}

static uint32_t ivs_ack(void *ctx, uint32_t self, uint32_t source)
{
    const struct hvc_ivshmem_bm_ctx *c = ctx;

    (void)self;
    /* MSI-X needs no acknowledge at the device; the board claimed the
     * identity at its interrupt controller. */
    return source == c->msi_base ? 1u : 0u;
}

static const struct hvc_doorbell_driver ivshmem_db = {
    .name = "ivshmem", .max_channels = 1, .send = ivs_send, .ack = ivs_ack,
};

const struct hvc_doorbell_driver *hvc_doorbell_ivshmem(void)
{
    return &ivshmem_db;
}
