/*
 * Blocking ring calls, with notification suppression.
 *
 * A side that finds the ring empty (consumer) or full (producer) spins a
 * little, then raises its sleep word, issues a full fence, checks the
 * other side's index once more, and only then sleeps on that index with
 * hvc_platform_wait_word(). A publisher (hvc__ring_prod_publish() /
 * hvc__ring_cons_publish()) stores its index with a sequentially
 * consistent exchange (a full fence), and calls wake only when the other
 * side's sleep word is up. The two fences
 * make a lost wake-up impossible (either the sleeper sees the new index, or
 * the publisher sees the sleep word; and wait_word itself re-checks the
 * index against the value the sleeper saw), and a busy stream, where
 * nobody sleeps, makes no system calls at all.
 *
 * The event module (event.h) was not yet available when this was written:
 * the protocol lives on the ring's own words, which is also what keeps it
 * one cache line away from the hot indices.
 */
#include "ring_internal.h"

/* Spins before sleeping: a sleep costs two system calls and a wake-up
 * latency of several microseconds, a spin of this length about 5-10 us. */
#define SPINS 512

static uint64_t now(struct hvc_ring *q)
{
    return hvc_platform_now(hvc_region_platform(q->region));
}

/* Nanoseconds left before the deadline, or -1 when it has passed. */
static int64_t left(struct hvc_ring *q, uint64_t start, int64_t timeout_ns)
{
    uint64_t spent;

    if (timeout_ns == HVC_FOREVER)
        return HVC_FOREVER;
    spent = now(q) - start;
    return spent >= (uint64_t)timeout_ns ? -1 : timeout_ns - (int64_t)spent;
}

/*
 * Sleep until *word no longer holds `seen`, this side's sleep word raised.
 * `ready` re-checks the condition after the flag is up.
 */
static int sleep_on(struct hvc_ring *q, uint32_t *flag, const uint32_t *word,
                    uint32_t seen, int64_t ns)
{
    int rc;

    /* A new odd value for this sleep (see wake_if_asleep() in ring.c). */
    hvc_store_relaxed(flag, q->sleep_seq + 1u);
    /* Pairs with the sequentially consistent exchange by which a publisher
     * stores its index before reading our flag (hvc__ring_prod_publish /
     * hvc__ring_cons_publish): of the two orders, one sees the other. */
    hvc_fence();
    q->sleep_seq += 2u;
    if (hvc_load_relaxed(word) != seen) {
        hvc_store_relaxed(flag, q->sleep_seq);
        return 0;
    }
    rc = hvc_platform_wait_word(hvc_region_platform(q->region), word, seen, ns);
    hvc_store_relaxed(flag, q->sleep_seq);
    return rc == -HVC_ETIMEDOUT ? rc : 0;
}

static int check_blocking(const struct hvc_ring *q, uint32_t role)
{
    if (q == NULL || q->w == NULL || q->role != role || q->pending != 0)
        return -HVC_EINVAL;
    if (!(q->wflags & HVC_RING_WF_BLOCKING))
        return -HVC_ENOTSUP;
    return 0;
}

int hvc_ring_wait_readable(struct hvc_ring *q, int64_t timeout_ns)
{
    uint64_t start;
    int rc = check_blocking(q, HVC_RING_CONSUMER);

    if (rc < 0)
        return rc;
    if (timeout_ns < HVC_FOREVER)
        return -HVC_EINVAL;
    start = now(q);
    for (;;) {
        struct hvc__rec rec;
        int64_t ns;
        uint32_t seen;

        rc = hvc__ring_next(q, &rec);
        if (rc != -HVC_EAGAIN)
            return rc < 0 ? rc : 0;
        seen = q->peer; /* the checked prod that showed an empty ring */
        for (int i = 0; i < SPINS; i++) {
            /* Pairs with the release store of prod: a hint only, the
             * value is checked by hvc__ring_next() on the next pass. */
            if (hvc_load_acquire(&q->w->prod) != seen)
                break;
            hvc_cpu_relax();
        }
        if (hvc_load_acquire(&q->w->prod) != seen)
            continue;
        ns = left(q, start, timeout_ns);
        if (ns < 0 && timeout_ns != HVC_FOREVER)
            return -HVC_ETIMEDOUT;
        rc = sleep_on(q, &q->w->cons_sleeping, &q->w->prod, seen, ns);
        if (rc == -HVC_ETIMEDOUT) {
            rc = hvc__ring_next(q, &rec);
            return rc == -HVC_EAGAIN ? -HVC_ETIMEDOUT : (rc < 0 ? rc : 0);
        }
    }
}

int hvc_ring_wait_writable(struct hvc_ring *q, uint32_t len, int64_t timeout_ns)
{
    uint64_t start;
    uint32_t size;
    int rc = check_blocking(q, HVC_RING_PRODUCER);

    if (rc < 0)
        return rc;
    if (timeout_ns < HVC_FOREVER)
        return -HVC_EINVAL;
    if (len > q->max_msg)
        return -HVC_EMSGSIZE;
    size = HVC_RING_RECORD_SIZE(len);
    start = now(q);
    for (;;) {
        uint32_t off = q->head & q->mask, to_end = q->capacity - off;
        uint32_t need = size <= to_end ? size : to_end + size;
        uint32_t c, seen;
        int64_t ns;

        /* Pairs with the release store of cons in hvc__ring_cons_publish(). */
        c = hvc_load_acquire(&q->w->cons);
        if ((c & 7u) != 0 || c - q->peer > q->published - q->peer) {
            hvc_region_proto_error(q->region, "ring: consumer index out of bounds");
            q->errors++;
            hvc_store_relaxed(&q->w->prod_errors, q->errors);
            return -HVC_EPROTO;
        }
        q->peer = c;
        if (q->capacity - (q->head - c) >= need)
            return 0;
        seen = c;
        for (int i = 0; i < SPINS; i++) {
            if (hvc_load_acquire(&q->w->cons) != seen)
                break;
            hvc_cpu_relax();
        }
        if (hvc_load_acquire(&q->w->cons) != seen)
            continue;
        ns = left(q, start, timeout_ns);
        if (ns < 0 && timeout_ns != HVC_FOREVER)
            return -HVC_ETIMEDOUT;
        rc = sleep_on(q, &q->w->prod_sleeping, &q->w->cons, seen, ns);
        if (rc == -HVC_ETIMEDOUT) {
            c = hvc_load_acquire(&q->w->cons);
            if (c != seen)
                continue; /* moved at the last moment: check it above */
            return -HVC_ETIMEDOUT;
        }
    }
}

int hvc_ring_send_wait(struct hvc_ring *q, const void *buf, uint32_t len,
                       int64_t timeout_ns)
{
    int rc = check_blocking(q, HVC_RING_PRODUCER);

    if (rc < 0)
        return rc;
    rc = hvc_ring_send(q, buf, len);
    if (rc != -HVC_EAGAIN)
        return rc;
    rc = hvc_ring_wait_writable(q, len, timeout_ns);
    if (rc < 0)
        return rc;
    return hvc_ring_send(q, buf, len);
}

int hvc_ring_recv_wait(struct hvc_ring *q, void *buf, uint32_t cap,
                       int64_t timeout_ns)
{
    int rc = check_blocking(q, HVC_RING_CONSUMER);

    if (rc < 0)
        return rc;
    rc = hvc_ring_recv(q, buf, cap);
    if (rc != -HVC_EAGAIN)
        return rc;
    rc = hvc_ring_wait_readable(q, timeout_ns);
    if (rc < 0)
        return rc;
    return hvc_ring_recv(q, buf, cap);
}
