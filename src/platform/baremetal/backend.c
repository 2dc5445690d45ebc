/*
 * The bare-metal backend: the descriptor's fixed windows as regions, the
 * doorbell driver for notify/wait_notify/wake_word, WFI/HLT for sleeping.
 * Everything here runs on one core for one instance; the only concurrency
 * is with this core's own doorbell interrupt (hvc_baremetal_irq()), which
 * touches `pending`, `irq_seq` and `stats.irqs` only, with atomics.
 */
#include <hvcomm/atomic.h>
#include <hvcomm/baremetal.h>
#include <hvcomm/region.h>

#include "arch.h"

/* Per-mapping state: which window it is. */
struct bm_state {
    const struct hvc_baremetal_region *reg;
};

static struct hvc_baremetal *bm_of(const struct hvc_platform *p)
{
    return p->app_data;
}

static bool name_eq(const char *a, const char *b)
{
    for (; *a != '\0' && *a == *b; a++, b++)
        ;
    return *a == *b;
}

static int bm_map(const struct hvc_platform *p, void *state, const char *name,
                  uint64_t size, unsigned flags, struct hvc_mapping *out)
{
    struct hvc_baremetal *bm = bm_of(p);
    struct bm_state *st = state;

    for (uint32_t i = 0; i < bm->desc.nregions; i++) {
        const struct hvc_baremetal_region *reg = &bm->desc.regions[i];
        uint64_t len = size != 0 ? size : reg->size;
        int rc;

        if (!name_eq(reg->name, name))
            continue;
        /* The window's size is fixed: a bigger region does not fit. */
        if (len > reg->size)
            return -HVC_ENOMEM;
        if (bm->desc.protect != NULL) {
            rc = bm->desc.protect(bm->desc.protect_ctx, reg->base, len, flags);
            if (rc < 0)
                return rc;
        }
        st->reg = reg;
        out->base = (void *)reg->base;
        out->size = len;
        out->page_size = 0;
        return 0;
    }
    return -HVC_ENOENT;
}

static int bm_unmap(const struct hvc_platform *p, void *state)
{
    (void)p;
    ((struct bm_state *)state)->reg = NULL;
    return 0;
}

static int bm_self_id(const struct hvc_platform *p, void *state)
{
    struct hvc_baremetal *bm = bm_of(p);

    (void)state;
    if (bm->desc.peer_id >= 0)
        return bm->desc.peer_id;
    if (bm->desc.peer_id == HVC_BAREMETAL_PEER_CORE)
        return (int)bm->self;
    return -HVC_ENOTSUP;
}

static int bm_self_token(const struct hvc_platform *p, void *state,
                         uint64_t *token)
{
    struct hvc_baremetal *bm = bm_of(p);
    int id = bm_self_id(p, state);

    if (bm->desc.token_ns != 0) {
        *token = bm->desc.token;
        return 0;
    }
    if (bm->desc.core_id != NULL)
        id = (int)bm->self;
    if (id < 0)
        return -HVC_ENOTSUP;
    *token = HVC_BAREMETAL_TOKEN(id);
    return 0;
}

static uint64_t bm_now(const struct hvc_platform *p)
{
    struct hvc_baremetal *bm = bm_of(p);

    return bm->desc.timer.now_ns(bm->desc.timer.ctx);
}

static int bm_send(struct hvc_baremetal *bm, uint32_t peer, uint32_t vector)
{
    const struct hvc_doorbell_driver *d = bm->desc.doorbell;
    int rc;

    if (peer >= bm->desc.ncores)
        return -HVC_EINVAL;
    rc = d->send(bm->desc.doorbell_ctx, peer, vector % d->max_channels);
    if (rc < 0) {
        hvc_fetch_add_relaxed(&bm->stats.send_errors, 1);
        return rc;
    }
    hvc_fetch_add_relaxed(&bm->stats.sent, 1);
    return 0;
}

static int bm_notify(const struct hvc_platform *p, void *state, uint32_t peer,
                     uint32_t vector)
{
    (void)state;
    return bm_send(bm_of(p), peer, vector);
}

/*
 * One step of a wait, entered with interrupts masked: 1 when the deadline
 * has passed, otherwise sleeps (or, for a finite wait on a board without a
 * working alarm, returns at once so the caller polls) and returns 0. The
 * caller restores interrupts, which lets a pending doorbell's handler run.
 */
static int sleep_step(struct hvc_baremetal *bm, uintptr_t irq, uint64_t start,
                      int64_t timeout_ns)
{
    const struct hvc_baremetal_timer *t = &bm->desc.timer;
    uint64_t now;

    if (timeout_ns == 0)
        return 1;
    if (timeout_ns != HVC_FOREVER) {
        now = t->now_ns(t->ctx);
        if (now - start >= (uint64_t)timeout_ns)
            return 1;
        if (t->alarm == NULL || t->alarm(t->ctx, start + (uint64_t)timeout_ns) < 0)
            return 0; /* poll: nothing would end the sleep in time */
    }
#ifndef ARCH_NO_WAIT
    bm->stats.sleeps++;
    arch_wait(irq);
#else
    (void)irq;
#endif
    return 0;
}

static int bm_wait_notify(const struct hvc_platform *p, void *state,
                          int64_t timeout_ns, uint32_t *vector)
{
    struct hvc_baremetal *bm = bm_of(p);
    uint64_t start = bm->desc.timer.now_ns(bm->desc.timer.ctx);

    (void)state;
    for (;;) {
        uintptr_t irq = arch_irq_save();
        /* The ISR sets bits with an atomic or on this same core. */
        uint32_t pend = hvc_load_relaxed(&bm->pending);
        int done;

        if (pend != 0) {
            uint32_t bit = pend & (0u - pend);

            hvc_fetch_and(&bm->pending, ~bit);
            arch_irq_restore(irq);
            *vector = (uint32_t)__builtin_ctz(bit);
            return 0;
        }
        done = sleep_step(bm, irq, start, timeout_ns);
        arch_irq_restore(irq);
        if (done)
            return -HVC_ETIMEDOUT;
        hvc_cpu_relax();
    }
}

static int bm_wait_word(const struct hvc_platform *p, void *state,
                        const uint32_t *addr, uint32_t expected,
                        int64_t timeout_ns)
{
    struct hvc_baremetal *bm = bm_of(p);
    uint64_t start = bm->desc.timer.now_ns(bm->desc.timer.ctx);
    uint32_t seq = hvc_load_relaxed(&bm->irq_seq);

    (void)state;
    for (;;) {
        uintptr_t irq = arch_irq_save();
        int done;

        /* Any doorbell since we started ends the wait (it may be the
         * wake_word of the word's writer); the caller re-checks. It does
         * not consume the channel bits, which belong to wait_notify. */
        if (hvc_load_acquire(addr) != expected ||
            hvc_load_relaxed(&bm->irq_seq) != seq) {
            arch_irq_restore(irq);
            return 0;
        }
        done = sleep_step(bm, irq, start, timeout_ns);
        arch_irq_restore(irq);
        if (done)
            return -HVC_ETIMEDOUT;
        hvc_cpu_relax();
    }
}

static int bm_wake_word(const struct hvc_platform *p, void *state,
                        const uint32_t *addr, uint32_t count)
{
    struct hvc_baremetal *bm = bm_of(p);
    uint32_t ch = bm->desc.doorbell->max_channels - 1u;

    (void)state;
    (void)addr;
    (void)count;
    /* Who sleeps on which word is not known here: ring every other core's
     * last channel. A core that was not waiting sees one spurious wake-up. */
    for (uint32_t c = 0; c < bm->desc.ncores; c++)
        if (c != bm->self)
            (void)bm_send(bm, c, ch);
    return 0;
}

static void bm_cache_clean(const struct hvc_platform *p, void *state,
                           const void *addr, uint64_t len)
{
    struct hvc_baremetal *bm = bm_of(p);

    (void)state;
    bm->desc.cache_clean(bm->desc.cache_ctx, addr, len);
}

static void bm_cache_invalidate(const struct hvc_platform *p, void *state,
                                const void *addr, uint64_t len)
{
    struct hvc_baremetal *bm = bm_of(p);

    (void)state;
    bm->desc.cache_invalidate(bm->desc.cache_ctx, addr, len);
}

int hvc_baremetal_init(struct hvc_baremetal *bm,
                       const struct hvc_baremetal_desc *desc)
{
    const struct hvc_doorbell_driver *d;
    struct hvc_platform *ops;
    int core = -1, rc;

    if (bm == NULL || desc == NULL || desc->timer.now_ns == NULL ||
        desc->regions == NULL || desc->nregions == 0 ||
        desc->nregions > HVC_BAREMETAL_MAX_REGIONS ||
        desc->peer_id < HVC_BAREMETAL_PEER_FREE ||
        desc->peer_id >= (int32_t)HVC_MAX_PEERS ||
        (desc->token_ns != 0 && desc->token == 0))
        return -HVC_EINVAL;
    for (uint32_t i = 0; i < desc->nregions; i++) {
        const struct hvc_baremetal_region *reg = &desc->regions[i];

        if (reg->name == NULL || reg->base == 0 || reg->base % HVC_CACHELINE != 0 ||
            reg->size < HVC_REGION_MIN_SIZE)
            return -HVC_EINVAL;
    }
    if (desc->core_id != NULL) {
        core = desc->core_id(desc->core_ctx);
        if (core < 0 || core >= 1024)
            return -HVC_EINVAL;
    }
    d = desc->doorbell;
    if (desc->peer_id == HVC_BAREMETAL_PEER_CORE && core < 0)
        return -HVC_EINVAL;
    if (d != NULL) {
        /* Doorbells address cores: the peer id must be the core id. */
        if (core < 0 || d->max_channels == 0 || d->max_channels > 32 ||
            d->send == NULL || d->ack == NULL || desc->ncores == 0 ||
            (uint32_t)core >= desc->ncores ||
            desc->peer_id == HVC_BAREMETAL_PEER_FREE ||
            (desc->peer_id >= 0 && desc->peer_id != core))
            return -HVC_EINVAL;
    }
    __builtin_memset(bm, 0, sizeof(*bm));
    bm->desc = *desc;
    bm->self = core < 0 ? 0u : (uint32_t)core;
    ops = &bm->ops;
    ops->version = HVC_PLATFORM_VERSION;
    ops->token_ns = desc->token_ns != 0 ? desc->token_ns : HVC_TOKEN_NS_BAREMETAL;
    ops->state_size = sizeof(struct bm_state);
    ops->name = "baremetal";
    ops->app_data = bm;
    ops->map = bm_map;
    ops->unmap = bm_unmap;
    /* No fixed id: leave self_id out, so the core picks a free slot and
     * hvc_platform_caps() does not claim HVC_CAP_SELF_ID. */
    if (desc->peer_id != HVC_BAREMETAL_PEER_FREE)
        ops->self_id = bm_self_id;
    if (desc->peer_id != HVC_BAREMETAL_PEER_FREE || desc->core_id != NULL ||
        desc->token_ns != 0)
        ops->self_token = bm_self_token;
    ops->now_ns = bm_now;
    if (d != NULL) {
        /* Without a driver these stay NULL: the core then polls (the
         * dispatch layer's wait_word fallback, events on bell words). */
        ops->notify = bm_notify;
        ops->wait_notify = bm_wait_notify;
        ops->wait_word = bm_wait_word;
        ops->wake_word = bm_wake_word;
    }
    if (desc->cache_clean != NULL)
        ops->cache_clean = bm_cache_clean;
    if (desc->cache_invalidate != NULL)
        ops->cache_invalidate = bm_cache_invalidate;
    if (d != NULL && d->enable != NULL) {
        rc = d->enable(desc->doorbell_ctx, bm->self, true);
        if (rc < 0)
            return rc;
    }
    hvc_store_release(&bm->ready, 1);
    return 0;
}

const struct hvc_platform *hvc_platform_baremetal(struct hvc_baremetal *bm)
{
    if (bm == NULL || hvc_load_acquire(&bm->ready) != 1)
        return NULL;
    return &bm->ops;
}

void hvc_baremetal_irq(struct hvc_baremetal *bm, uint32_t source)
{
    uint32_t ch;

    if (bm == NULL || bm->desc.doorbell == NULL)
        return;
    ch = bm->desc.doorbell->ack(bm->desc.doorbell_ctx, bm->self, source);
    hvc_fetch_or(&bm->pending, ch);
    hvc_fetch_add(&bm->irq_seq, 1);
    hvc_fetch_add_relaxed(&bm->stats.irqs, 1);
}

int hvc_baremetal_stats(const struct hvc_baremetal *bm,
                        struct hvc_baremetal_stats *out)
{
    if (bm == NULL || out == NULL)
        return -HVC_EINVAL;
    out->irqs = hvc_load_relaxed(&bm->stats.irqs);
    out->sent = hvc_load_relaxed(&bm->stats.sent);
    out->sleeps = hvc_load_relaxed(&bm->stats.sleeps);
    out->send_errors = hvc_load_relaxed(&bm->stats.send_errors);
    return 0;
}
