/*
 * Blocking ring calls, with notification suppression, sleeping on the
 * ring's two named auto-reset events (event.h): "data" (`.ring.<off>.c`,
 * the consumer sleeps on it, the producer signals it) and "space"
 * (`.ring.<off>.p`, the other way round). The events sleep the right way
 * on every backend: futex on POSIX, doorbells with a sleeper mask where the
 * backend has them and no wait_word (ivshmem), bell words otherwise.
 *
 * Sleeper: a side that finds the ring empty (consumer) or full (producer)
 * spins a little, drains a stale signal from its event, raises its sleep
 * word (a new odd value), issues a full fence, checks the other side's
 * index once more, and only if it is unchanged waits on its event; then it
 * lowers the word and loops, re-checking the ring. Publisher
 * (hvc__ring_prod_publish() / hvc__ring_cons_publish() in ring.c, the
 * light case also inline in ring.h, hvc__ring_publish_light()): stores
 * its index with a sequentially consistent exchange (a full fence), or,
 * when the sleeper announces the publisher's own fence domain, with a
 * release store and no fence (the sleeper then issues a peer fence after
 * its own: membarrier on Linux); and signals the other side's event only
 * when the other side's sleep word is odd.
 *
 * No lost wake-up: of the two fences (sleeper: sleep word, fence [, peer
 * fence], load of the index; publisher: exchange of the index or the peer
 * fence passing through it, load of the sleep word) one orders before the
 * other, so either the sleeper's re-check sees the new index and it does
 * not wait, or the publisher sees the raised word and signals
 * (tests/events/model/ring.pml proves both directions, doc/ring.md). The signal may come at any time after the word is raised,
 * before the sleeper calls hvc_event_wait() or while it sleeps: the
 * auto-reset event latches it (the flag stays set until a wait takes it),
 * so the wait returns at once, and the event's own protocol (doc/events.md,
 * model-checked) covers a signal racing its sleep. A signal latched for an
 * earlier sleep that had already found its data is taken by the trywait
 * before the word is raised, or at worst causes one spurious wake-up,
 * after which the loop re-checks the ring.
 *
 * No system calls in a busy stream: a publisher signals only while the
 * other side's sleep word is odd, i.e. after that side has found the ring
 * empty/full and spun in vain; and hvc_event_signal() itself is one atomic
 * compare-exchange when nobody is registered as sleeping on the event (its
 * sleep hint is clear), going to the platform (futex wake, doorbell) only
 * for a side that really sleeps. hvc_event_wait() spins briefly itself,
 * so a wake-up that comes soon costs no system call on either side.
 *
 * Peer death: the event sleeps in slices of HVC_EVENT_SLICE_NS and reports
 * -HVC_EPEERGONE when none of its signalers is a live member. The ring
 * maps that to "slice over": it re-checks the ring and waits again until
 * its own timeout, as before events were used (the space event's
 * signalers are "any other peer", which is briefly empty while a consumer
 * restarts; liveness is the caller's business through hvc_peer_info()).
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
 * Sleep on `ev` unless *word no longer holds `seen`, this side's sleep word
 * raised meanwhile. Returns 0 (look at the ring again), -HVC_ETIMEDOUT or
 * -HVC_EPROTO (the event is corrupt).
 */
static int sleep_on(struct hvc_ring *q, uint32_t *flag, const uint32_t *word,
                    uint32_t seen, struct hvc_event *ev, int64_t ns)
{
    int rc, slice = 0;

#ifdef HVC_CONFIG_NO_BLOCKING
    /* Not reached: check_blocking() refuses every ring first. */
    (void)q, (void)flag, (void)word, (void)seen, (void)ev, (void)ns, (void)rc, (void)slice;
    return -HVC_ENOTSUP;
#else
    /* A signal still latched from an earlier sleep would end this one at
     * once: take it now. A signal for this sleep can only come after the
     * flag below is raised, so none is lost here. */
    (void)hvc_event_trywait(ev);
    /* A new odd value for this sleep (see wake_if_asleep() in ring.c). */
    hvc_store_relaxed(flag, q->sleep_seq + 1u);
    /* Pairs with the sequentially consistent exchange by which a fenced
     * publisher stores its index before reading our flag (ring.c,
     * publish_blocking()): of the two orders, one sees the other. A light
     * publisher has no fence: the peer fence below stands in for it. */
    hvc_fence();
    if (q->fence & 1u) {
        /* We announce a fence domain: the other side may publish without
         * a fence (ring.c, publish_blocking()). Make it pass one now, so
         * that a publication whose load of our word came before the
         * store above is visible to the re-check below. */
        if (hvc_platform_control(hvc_region_platform(q->region), HVC_PLATFORM_OP_PEER_FENCE,
                                 NULL) != 0) {
            /* Cannot (not expected once registered): withdraw the
             * announcement, and sleep one short slice, in which a light
             * publication the fence missed becomes visible. */
            hvc_store_relaxed(q->role == HVC_RING_PRODUCER ? &q->w->prod_fence
                                                           : &q->w->cons_fence,
                              0u);
            hvc_fence();
            q->fence = HVC__RING_FENCE_STALE;
        }
    }
    if (q->fence == HVC__RING_FENCE_STALE) {
        /* No fence domain, but our side announced one before this handle
         * (or until just now): the other side may have read it for a
         * publication still in flight. One short slice covers it; from
         * the fence above on, it reads our 0 and fences. */
        q->fence = 0;
        slice = 1;
        if (ns == HVC_FOREVER || ns > HVC__RING_STALE_SLICE_NS)
            ns = HVC__RING_STALE_SLICE_NS;
    }
    q->sleep_seq += 2u;
    if (hvc_load_relaxed(word) != seen) {
        hvc_store_relaxed(flag, q->sleep_seq);
        return 0;
    }
    /* The publisher that moves *word from here on sees the odd flag and
     * signals; the auto-reset event latches a signal made before we wait. */
    rc = hvc_event_wait(ev, ns);
    hvc_store_relaxed(flag, q->sleep_seq);
    if (rc == -HVC_ETIMEDOUT && slice)
        return 0; /* the short slice, not the caller's deadline */
    if (rc == -HVC_ETIMEDOUT || rc == -HVC_EPROTO)
        return rc;
    return 0; /* signalled, a slice with no live signaler, or spurious */
#endif
}

static int check_blocking(const struct hvc_ring *q, uint32_t role)
{
    if (q == NULL || q->w == NULL || q->role != role || q->pending != 0)
        return -HVC_EINVAL;
    /* Built with HVC_CONFIG_NO_BLOCKING no ring is blocking. */
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
    start = timeout_ns == HVC_FOREVER ? 0 : now(q); /* no clock for HVC_FOREVER */
    for (;;) {
        struct hvc__rec rec;
        int64_t ns;
        uint32_t seen;

        rc = hvc__ring_next(q, &rec);
        if (rc != -HVC_EAGAIN)
            return rc < 0 ? rc : 0;
        /* The deadline is checked on every pass, before the index is
         * watched: a producer that keeps moving prod without publishing a
         * record (or moves it back) sends us round this loop, never past
         * the timeout. */
        ns = left(q, start, timeout_ns);
        if (ns < 0 && timeout_ns != HVC_FOREVER)
            return -HVC_ETIMEDOUT;
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
        rc = sleep_on(q, &q->w->cons_sleeping, &q->w->prod, seen, &q->data_ev, ns);
        if (rc == -HVC_EPROTO)
            return rc;
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
    start = timeout_ns == HVC_FOREVER ? 0 : now(q); /* no clock for HVC_FOREVER */
    for (;;) {
        uint32_t off = q->head & q->mask, to_end = q->capacity - off;
        /* + 8: the "not yet" word after the record (ring.c, put_header()). */
        uint32_t need = (size <= to_end ? size : to_end + size) + 8u;
        uint32_t c, seen;
        int64_t ns;

        /* Pairs with the release store of cons in hvc__ring_cons_publish(). */
        if (q->wflags & HVC__RING_WF_CACHE)
            hvc__invalidate(q->region, &q->w->cons, sizeof(q->w->cons));
        c = hvc_load_acquire(&q->w->cons);
        if ((c & 7u) != 0 || c - q->peer > hvc__ring_released(q) - q->peer) {
            hvc_region_proto_error(q->region, "ring: consumer index out of bounds");
            q->errors++;
            hvc_store_relaxed(&q->w->prod_errors, q->errors);
            return -HVC_EPROTO;
        }
        q->peer = c;
        if (q->capacity - (q->head - c) >= need)
            return 0;
        /* Every pass checks the deadline (see hvc_ring_wait_readable()). */
        ns = left(q, start, timeout_ns);
        if (ns < 0 && timeout_ns != HVC_FOREVER)
            return -HVC_ETIMEDOUT;
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
        rc = sleep_on(q, &q->w->prod_sleeping, &q->w->cons, seen, &q->space_ev, ns);
        if (rc == -HVC_EPROTO)
            return rc;
        if (rc == -HVC_ETIMEDOUT) {
            c = hvc_load_acquire(&q->w->cons);
            if (c != seen)
                continue; /* moved at the last moment: check it above */
            return -HVC_ETIMEDOUT;
        }
    }
}

/* In parentheses: ring.h's macro of the name routes callers through the
 * inline first try (hvc__ring_send_wait_fast()); this is the function. */
int (hvc_ring_send_wait)(struct hvc_ring *q, const void *buf, uint32_t len,
                         int64_t timeout_ns)
{
    int rc;

    /* First try: the inline send, before any wait machinery (it checks
     * the role and a pending reservation itself, with the same results as
     * check_blocking(), and publishes light inline). */
    if (q != NULL && (q->wflags & HVC_RING_WF_BLOCKING) != 0) {
        rc = hvc_ring_send(q, buf, len);
        if (rc != -HVC_EAGAIN)
            return rc;
    }
    rc = check_blocking(q, HVC_RING_PRODUCER);
    if (rc < 0)
        return rc;
    rc = hvc_ring_wait_writable(q, len, timeout_ns);
    if (rc < 0)
        return rc;
    return hvc_ring_send(q, buf, len);
}

int (hvc_ring_recv_wait)(struct hvc_ring *q, void *buf, uint32_t cap,
                         int64_t timeout_ns)
{
    uint64_t start;
    int rc;

    if (q == NULL || (q->wflags & HVC_RING_WF_BLOCKING) == 0 || timeout_ns < HVC_FOREVER) {
        rc = check_blocking(q, HVC_RING_CONSUMER);
        return rc < 0 ? rc : -HVC_EINVAL;
    }
    /* First try: the inline receive, before any wait machinery (it checks
     * the role and a pending peek itself, with the same results as
     * check_blocking()); a message already there costs no clock read. */
    rc = hvc_ring_recv(q, buf, cap);
    if (rc != -HVC_EAGAIN)
        return rc;
    start = timeout_ns == HVC_FOREVER ? 0 : now(q); /* no clock for HVC_FOREVER */
    for (;;) {
        int64_t ns;

        /* Readable can mean stray fragments that the receive dropped:
         * wait again, within the one deadline. */
        ns = left(q, start, timeout_ns);
        if (ns < 0 && timeout_ns != HVC_FOREVER)
            return -HVC_ETIMEDOUT;
        rc = hvc_ring_wait_readable(q, ns);
        if (rc < 0)
            return rc;
        rc = hvc_ring_recv(q, buf, cap);
        if (rc != -HVC_EAGAIN)
            return rc;
    }
}

/* ---- waiting on several rings at once ---- */

/*
 * hvc_ring_wait_any(): the sleep of sleep_on() done for N consumer rings
 * at once, ending on the first of their data events (hvc_event_wait_any():
 * this peer's doorbell or bell word, one sleep for every event).
 *
 * Sleeper, for the rings 0..N-1, in this order:
 *   1. take every ring's stale data signal (trywait);
 *   2. raise every ring's consumer sleep word (a new odd value each);
 *   3. one full fence, and one peer fence when any ring announces our
 *      fence domain (the peer fence makes every other CPU pass a full
 *      barrier: one covers the producers of all rings);
 *   4. re-check every ring's prod against the value that showed it empty;
 *   5. only if none moved, sleep on all N data events at once;
 *   6. lower every raised word.
 *
 * No lost wake-up with N rings. Take a publication on ring i that the
 * caller's re-check (4) does not see. Ring i's sleep word store (2), the
 * fence (3) and the load of ring i's prod (4) are exactly the sequence of
 * the single-ring sleep: the other rings' stores and loads in between
 * change nothing for ring i, since the fence orders every earlier store
 * before every later load. Ring i's producer stores prod with a full
 * fence (or light, covered by the peer fence) and then loads ring i's
 * sleep word. Of the two fences one comes first: if the sleeper's,
 * the producer sees ring i's odd word and signals ring i's event; if the
 * producer's, the re-check of ring i sees the new prod, which we assumed
 * it did not. So every publication missed by the re-check signals its own
 * ring's event, and the auto-reset event latches the signal until
 * hvc_event_wait_any() takes it, whether it comes before the sleep or
 * during it: the sleep ends. Each ring's producer sees only its own
 * ring's sleep word; no producer has to know about the other rings. What
 * the argument needs is every word raised before the one fence and every
 * ring re-checked after it: a sleeper that re-checks only some rings
 * misses a publication on another ring whose producer loaded that ring's
 * word before it was raised (so did not signal), and sleeps with the
 * record there (tests/events/model/ring_any.pml, MUTANT_RECHECK_ONE).
 * The trywait of step 1 runs
 * before the words are raised, so it takes only signals of earlier sleeps.
 *
 * Hostile producers: each prod is read once per check, compared with the
 * checked value; a moved prod ends the sleep and the ring is checked by
 * hvc__ring_next() on the next pass (a lie costs a pass, the deadline is
 * checked on every one). Sleep words are ours: the peer may overwrite
 * them, which costs at most a missed or spurious signal of its own ring,
 * and the sleep still ends at the event's slice (HVC_EVENT_SLICE_NS) or
 * our deadline. Peer death: hvc_event_wait_any() reports -HVC_EPEERGONE
 * when no signaler of any of the events is live; that is a slice over,
 * as in hvc_ring_wait_readable().
 */
#define WAIT_ANY_MAX 64u

static int sleep_any(struct hvc_ring *const rings[], unsigned n, const uint32_t *seen,
                     int64_t ns)
{
#ifdef HVC_CONFIG_NO_BLOCKING
    /* Not reached: check_blocking() refuses every ring first. */
    (void)rings, (void)n, (void)seen, (void)ns;
    return -HVC_ENOTSUP;
#else
    struct hvc_event *evs[WAIT_ANY_MAX];
    struct hvc_platform_handle *plat = hvc_region_platform(rings[0]->region);
    int rc, slice = 0, domain = 0;
    unsigned i;

    for (i = 0; i < n; i++) {
        evs[i] = &rings[i]->data_ev;
        (void)hvc_event_trywait(evs[i]); /* an earlier sleep's signal */
    }
    for (i = 0; i < n; i++) {
        struct hvc_ring *q = rings[i];

        hvc_store_relaxed(&q->w->cons_sleeping, q->sleep_seq + 1u);
        domain |= (int)(q->fence & 1u);
    }
    /* One fence after every raise, before every re-check (see above). */
    hvc_fence();
    if (domain && hvc_platform_control(plat, HVC_PLATFORM_OP_PEER_FENCE, NULL) != 0) {
        /* As in sleep_on(): withdraw every announcement, one short slice. */
        for (i = 0; i < n; i++)
            if (rings[i]->fence & 1u) {
                hvc_store_relaxed(&rings[i]->w->cons_fence, 0u);
                rings[i]->fence = HVC__RING_FENCE_STALE;
            }
        hvc_fence();
    }
    for (i = 0; i < n; i++) {
        struct hvc_ring *q = rings[i];

        if (q->fence == HVC__RING_FENCE_STALE) {
            q->fence = 0;
            slice = 1;
        }
        q->sleep_seq += 2u;
    }
    if (slice && (ns == HVC_FOREVER || ns > HVC__RING_STALE_SLICE_NS))
        ns = HVC__RING_STALE_SLICE_NS;
    rc = 1;
    for (i = 0; i < n; i++)
        if (hvc_load_relaxed(&rings[i]->w->prod) != seen[i])
            rc = 0; /* moved: no sleep */
    if (rc != 0)
        rc = hvc_event_wait_any(evs, n, ns);
    for (i = 0; i < n; i++)
        hvc_store_relaxed(&rings[i]->w->cons_sleeping, rings[i]->sleep_seq);
    if (rc == -HVC_ETIMEDOUT && slice)
        return 0; /* the short slice, not the caller's deadline */
    if (rc == -HVC_ETIMEDOUT || rc == -HVC_EPROTO || rc == -HVC_ENOSPC || rc == -HVC_EINVAL)
        return rc;
    return 0; /* signalled, moved, a slice with no live signaler, or spurious */
#endif
}

/* The first ring with a record (or a corrupt index or record), or
 * -HVC_EAGAIN; seen[] gets the checked prod of each empty ring. */
static int any_next(struct hvc_ring *const rings[], unsigned n, uint32_t *seen)
{
    for (unsigned i = 0; i < n; i++) {
        struct hvc__rec rec;
        int rc = hvc__ring_next(rings[i], &rec);

        if (rc != -HVC_EAGAIN)
            return (int)i; /* 0 or -HVC_EPROTO: the receive sees it */
        seen[i] = rings[i]->peer;
    }
    return -HVC_EAGAIN;
}

int hvc_ring_wait_any(struct hvc_ring *const rings[], unsigned n, int64_t timeout_ns)
{
    uint32_t seen[WAIT_ANY_MAX];
    uint64_t start;
    int rc;

    if (rings == NULL || n == 0 || n > WAIT_ANY_MAX || timeout_ns < HVC_FOREVER)
        return -HVC_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        rc = check_blocking(rings[i], HVC_RING_CONSUMER);
        if (rc < 0)
            return rc;
        if (rings[i]->region != rings[0]->region)
            return -HVC_EINVAL;
        for (unsigned j = 0; j < i; j++)
            if (rings[j] == rings[i] || rings[j]->w == rings[i]->w)
                return -HVC_EINVAL; /* one ring twice: one sleep word, two raises */
    }
    start = timeout_ns == HVC_FOREVER ? 0 : now(rings[0]);
    for (;;) {
        int64_t ns;
        int moved = 0;

        rc = any_next(rings, n, seen);
        if (rc != -HVC_EAGAIN)
            return rc;
        /* Every pass checks the deadline (see hvc_ring_wait_readable()). */
        ns = left(rings[0], start, timeout_ns);
        if (ns < 0 && timeout_ns != HVC_FOREVER)
            return -HVC_ETIMEDOUT;
        /* The spin: SPINS looks at every ring (hints only, checked above). */
        for (int k = 0; k < SPINS && !moved; k++) {
            for (unsigned i = 0; i < n && !moved; i++)
                moved = hvc_load_acquire(&rings[i]->w->prod) != seen[i];
            hvc_cpu_relax();
        }
        if (moved)
            continue;
        ns = left(rings[0], start, timeout_ns);
        if (ns < 0 && timeout_ns != HVC_FOREVER)
            return -HVC_ETIMEDOUT;
        rc = sleep_any(rings, n, seen, ns);
        if (rc == -HVC_ETIMEDOUT) {
            rc = any_next(rings, n, seen);
            return rc == -HVC_EAGAIN ? -HVC_ETIMEDOUT : rc;
        }
        if (rc < 0)
            return rc;
    }
}
