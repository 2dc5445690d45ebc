/*
 * SPSC message rings: creation, checks, copy / zero-copy / batch paths.
 *
 * Each side owns one index (producer: prod, consumer: cons), keeps it in
 * its handle and publishes it with a release store. The consumer finds
 * records by their tags alone (FastForward-style): the producer writes a
 * record, then #HVC_REC_EMPTY into the tag word of the next position, then
 * the record's tag with release; so the tag word at the consumer's head is
 * either the record's own tag or "not yet", never bytes of an earlier lap,
 * and a small message costs the consumer the one line that holds it. The
 * producer reads cons with an acquire load only when its cached copy says
 * the ring is full; the consumer reads prod only to sleep (blocking rings).
 *
 * The other side is untrusted. Its index is read once into a local, checked
 * (8-byte aligned, moving forward, never past what we released/within one
 * capacity), and only then cached. Record headers are read once each, and a
 * record is accepted only when its tag matches its position and length, so
 * stale records of an earlier lap and overwritten lengths are caught.
 */
#include "ring_internal.h"

/* ---- counters and errors ---- */

static void proto_error(struct hvc_ring *q, const char *what)
{
    q->errors++;
    if (q->role == HVC_RING_PRODUCER)
        hvc_store_relaxed(&q->w->prod_errors, q->errors);
    else
        hvc_store_relaxed(&q->w->cons_errors, q->errors);
    hvc_region_proto_error(q->region, what);
}

void hvc__ring_frag_drop(struct hvc_ring *q, uint32_t n)
{
    q->frag_drops += n;
    hvc_store_relaxed(&q->w->frag_drops, q->frag_drops);
}

static void stall(struct hvc_ring *q)
{
    if (q->stalled) {
        /* Counted already. Not #HVC__RING_QUIET any more: the caller may
         * have moved the head (padding, dropped fragments) without
         * publishing (peek), so the next empty receive goes out of line
         * again and publishes (hvc__ring_recv_slow()). */
        q->stalled = 1;
        return;
    }
    q->stalled = 1;
    q->stalls++;
    if (q->role == HVC_RING_PRODUCER)
        hvc_store_relaxed(&q->w->full_stalls, q->stalls);
    else
        hvc_store_relaxed(&q->w->empty_stalls, q->stalls);
}

/*
 * Wake the other side if its sleep word says it sleeps (odd), by
 * signalling the auto-reset event it sleeps on (or is about to). Called
 * after a publication that the sleeper cannot have seen. A wake-up is not
 * skipped because an earlier publication already woke the same sleep: that
 * earlier one may be the very index the sleeper saw before it went to
 * sleep, and skipping the next would lose a wake-up. Repeats are cheap:
 * while the event is already set a signal is one failed compare-exchange
 * (signals coalesce), and it calls the platform only when the other side
 * is registered as sleeping on the event.
 */
static __attribute__((noinline)) void wake(struct hvc_ring *q, uint32_t v, struct hvc_event *ev,
                                           uint32_t *counter)
{
    q->woken = v;
    q->wakeups++;
    hvc_store_relaxed(counter, q->wakeups);
#ifdef HVC_CONFIG_NO_BLOCKING
    /* No blocking ring is ever attached (hvc_ring_attach() refuses one),
     * so no peer sleeps on an event of this ring: nothing to signal. */
    (void)ev;
#else
    /* Errors (a corrupt event) are counted in the region by the event
     * module; the publication itself has succeeded. */
    (void)hvc_event_signal(ev);
#endif
}

void hvc__ring_wake(struct hvc_ring *q, uint32_t v)
{
    if (q->role == HVC_RING_PRODUCER)
        wake(q, v, &q->data_ev, &q->w->wakeups_sent);
    else
        wake(q, v, &q->space_ev, &q->w->rwakeups_sent);
}

/* The sleep word read once; the signal out of line (the rare case). */
static inline void wake_if_asleep(struct hvc_ring *q, const uint32_t *sleep_word,
                                  struct hvc_event *ev, uint32_t *counter)
{
    uint32_t v = hvc_load_relaxed(sleep_word);

    if ((v & 1u) != 0)
        wake(q, v, ev, counter);
}

/* ---- producer ---- */

/* ---- cache maintenance (non-coherent regions, internal.h) ---- */

/* Apply a maintenance op to the data bytes between free-running indices a
 * and b (b - a <= capacity), in at most two pieces (the area wraps). */
static void data_range(struct hvc_ring *q, uint32_t a, uint32_t b,
                       void (*op)(struct hvc_region *, const void *, uint64_t))
{
    uint32_t len = b - a, off = a & q->mask, first;

    if (!(q->wflags & HVC__RING_WF_CACHE) || len == 0 || len > q->capacity)
        return;
    first = len < q->capacity - off ? len : q->capacity - off;
    op(q->region, q->data + off, first);
    if (len > first)
        op(q->region, q->data, len - first);
}

static void word_op(struct hvc_ring *q, const uint32_t *w,
                    void (*op)(struct hvc_region *, const void *, uint64_t))
{
    if (q->wflags & HVC__RING_WF_CACHE)
        op(q->region, w, sizeof(*w));
}

/* Make sure `need` bytes are free after the private head (callers count
 * the 8-byte #HVC_REC_EMPTY word after the record in `need`). */
static int prod_room(struct hvc_ring *q, uint32_t need)
{
    uint32_t c;

    if (q->capacity - (q->head - q->peer) >= need)
        return 0;
    /* Pairs with the release store of cons in hvc__ring_cons_publish(): the
     * consumer's reads of the records before c are done before we reuse
     * their space. */
    word_op(q, &q->w->cons, hvc__invalidate);
    c = hvc_load_acquire(&q->w->cons);
    /* Read once; the checks and the cache use only the local copy. The
     * consumer can only have moved forward, and only up to what we
     * released (not what we published: it follows the tags). */
    if ((c & 7u) != 0 || c - q->peer > hvc__ring_released(q) - q->peer) {
        proto_error(q, "ring: consumer index out of bounds");
        return -HVC_EPROTO;
    }
    q->peer = c;
    if (q->capacity - (q->head - c) >= need)
        return 0;
    stall(q);
    return -HVC_EAGAIN;
}

/*
 * Finish the record of `size` bytes at free-running position `pos` (payload
 * already written): its length, "not yet" in the tag word of the next
 * position, then its tag with release, so that a consumer that takes the
 * record by its tag finds at its next head either the next record's tag or
 * #HVC_REC_EMPTY, never an older lap's bytes. The room checks leave those
 * 8 bytes free. With `hold` (a batch, #HVC_RING_MORE) the first such
 * record keeps its tag word at #HVC_REC_EMPTY and the tag is stored by the
 * next hvc__ring_prod_publish(): the consumer stops there, so everything
 * written after it becomes visible at once.
 */
static inline void put_header(struct hvc_ring *q, uint32_t pos, uint32_t size,
                              uint32_t len, uint32_t flags, bool hold)
{
    struct hvc_wire_ring_rec *h = (struct hvc_wire_ring_rec *)(void *)(q->data + (pos & q->mask));
    struct hvc_wire_ring_rec *next =
        (struct hvc_wire_ring_rec *)(void *)(q->data + ((pos + size) & q->mask));
    uint32_t tag = HVC_REC_TAG(pos, len, flags);

    hvc_store_relaxed(&h->len, len);
    hvc_store_relaxed(&next->tag, HVC_REC_EMPTY);
    if (q->wflags & HVC__RING_WF_CACHE) {
        /* The record and the next word reach memory before the tag. */
        hvc__clean(q->region, h, size);
        hvc__clean(q->region, &next->tag, sizeof(next->tag));
    }
    if (hold && !q->held) {
        q->held = 1;
        q->held_pos = pos;
        q->held_tag = tag;
        return;
    }
    /* Pairs with the acquire load of the tag in hvc__ring_next() and the
     * inline receive: length, payload and the next word are visible before
     * a matching tag. */
    hvc_store_release(&h->tag, tag);
    word_op(q, &h->tag, hvc__clean);
}

/* Store a held tag (put_header()): the records from it on become visible. */
static void release_held(struct hvc_ring *q)
{
    struct hvc_wire_ring_rec *h =
        (struct hvc_wire_ring_rec *)(void *)(q->data + (q->held_pos & q->mask));

    if (!q->held)
        return;
    q->held = 0;
    hvc_store_release(&h->tag, q->held_tag);
    word_op(q, &h->tag, hvc__clean);
}

/*
 * Room for a record of `size` bytes, contiguous: pads to the end of the
 * data area first when needed. Returns the record's offset.
 */
static int prod_place(struct hvc_ring *q, uint32_t size, uint32_t *offp)
{
    uint32_t off = q->head & q->mask;
    uint32_t to_end = q->capacity - off;
    int rc = prod_room(q, (size <= to_end ? size : to_end + size) + 8u);

    if (rc < 0)
        return rc;
    if (size > to_end) {
        /* Released at once even in a batch: a held record after it keeps
         * the consumer waiting anyway. */
        put_header(q, q->head, to_end, to_end - 8u, HVC_REC_PAD, false);
        q->head += to_end;
        off = 0;
    }
    q->stalled = 0;
    *offp = off;
    return 0;
}

static int ring_put(struct hvc_ring *q, const void *buf, uint32_t len, uint32_t flags,
                    bool hold)
{
    uint32_t size = HVC_RING_RECORD_SIZE(len), off;
    int rc = prod_place(q, size, &off);

    if (rc < 0)
        return rc;
    hvc__copy(q->data + off + 8u, buf, len);
    put_header(q, q->head, size, len, flags, hold);
    q->head += size;
    q->msgs++;
    q->bytes += len;
    return 0;
}

int hvc__ring_put(struct hvc_ring *q, const void *buf, uint32_t len,
                  uint32_t flags)
{
    return ring_put(q, buf, len, flags, false);
}

/*
 * Publish our index on a blocking ring and wake the other side if its
 * sleep word is up. Two ways, decided on one read of the other side's
 * fence word:
 *
 * - fenced (the other side announces no fence domain, or another one than
 *   ours): a sequentially consistent exchange, the release of the records
 *   and the full fence that pairs with the one in sleep_on() (ring_wait.c)
 *   after the other side raises its sleep word: either it sees our new
 *   index and does not sleep, or we see its word and wake it. One locked
 *   instruction is cheaper than a store and a separate fence.
 * - light (it announces our own domain: it issues a peer fence,
 *   HVC_PLATFORM_OP_PEER_FENCE, after raising its word and before its
 *   re-check): a release store, and a compiler barrier that keeps the
 *   load of the sleep word after the store in program order. The peer
 *   fence makes this thread pass a full barrier somewhere in its program
 *   while the sleeper waits for it; wherever that falls, the store is
 *   visible to the re-check, or the load comes after the raised word. No
 *   fence per message.
 *
 * The fence word is read once; a peer that lies about it can only lose
 * its own wake-ups (doc/ring.md). The inline paths of ring.h publish light
 * themselves, with these steps in this order (hvc__ring_publish_light()),
 * and call here only when it is not light.
 */
static inline void publish_blocking(struct hvc_ring *q, uint32_t *index,
                                    const uint32_t *peer_fence, const uint32_t *sleep_word,
                                    struct hvc_event *ev, uint32_t *counter)
{
#ifdef HVC_CONFIG_NO_BLOCKING
    /* No blocking ring is ever attached: no fence domain either. */
    (void)peer_fence;
    (void)hvc_exchange(index, q->head);
#else
    uint32_t d = hvc_load_relaxed(peer_fence);

    if ((q->fence & 1u) != 0 && d == q->fence) {
        hvc_store_release(index, q->head);
        hvc_compiler_barrier();
    } else {
        (void)hvc_exchange(index, q->head);
    }
#endif
    word_op(q, index, hvc__clean);
    wake_if_asleep(q, sleep_word, ev, counter);
}

void hvc__ring_prod_publish(struct hvc_ring *q)
{
    struct hvc_wire_ring *w = q->w;

    /* Records first, then the index: the sleep protocol (ring_wait.c)
     * relies on a record's tag being stored before the prod that covers
     * it. */
    release_held(q);
    if (q->head == q->published)
        return;
    hvc_store_relaxed(&w->msgs_lo, (uint32_t)q->msgs);
    hvc_store_relaxed(&w->msgs_hi, (uint32_t)(q->msgs >> 32));
    hvc_store_relaxed(&w->bytes_lo, (uint32_t)q->bytes);
    hvc_store_relaxed(&w->bytes_hi, (uint32_t)(q->bytes >> 32));
    q->published = q->head;
    if (!(q->wflags & HVC_RING_WF_BLOCKING)) {
        /* Pairs with the acquire load of prod in hvc__ring_next() (a
         * blocking ring's sleeper), hvc_ring_stats() and a restarting
         * producer: the records (their tags) and counters are visible
         * before the index that covers them. */
        hvc_store_release(&w->prod, q->head);
        word_op(q, &w->prod, hvc__clean); /* the producer's line, counters too */
        return;
    }
    /* Released as above; fenced, or light (see publish_blocking()). */
    publish_blocking(q, &w->prod, &w->cons_fence, &w->cons_sleeping, &q->data_ev,
                     &w->wakeups_sent);
}

/* ---- consumer ---- */

static int bad_record(struct hvc_ring *q, const char *what)
{
    proto_error(q, what);
    return -HVC_EPROTO;
}

/* The tag word at the consumer's head, fresh from memory; read once. */
static uint32_t head_tag(struct hvc_ring *q)
{
    struct hvc_wire_ring_rec *h = (struct hvc_wire_ring_rec *)(void *)(q->data + (q->head & q->mask));

    word_op(q, &h->tag, hvc__invalidate);
    /* Pairs with the release store of the tag in put_header(). */
    return hvc_load_acquire(&h->tag);
}

int hvc__ring_next(struct hvc_ring *q, struct hvc__rec *rec)
{
    /* At most a padding record then a real one: two passes. */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t off = q->head & q->mask, to_end = q->capacity - off;
        struct hvc_wire_ring_rec *h = (struct hvc_wire_ring_rec *)(void *)(q->data + off);
        uint32_t tag = head_tag(q), len, flags;
        int kind;

        if (tag == HVC_REC_EMPTY) {
            uint32_t p;

            if (!(q->wflags & HVC_RING_WF_BLOCKING)) {
                stall(q);
                return -HVC_EAGAIN;
            }
            /* A blocking ring: the value of prod that showed the ring
             * empty, for the sleeper (ring_wait.c), read BEFORE the tag
             * is looked at again. The producer stores a record's tag
             * before the prod that covers it, so if the tag is still
             * "not yet" below, the prod that covers it is a later value
             * than p: a sleeper watching prod == p cannot miss it. */
            word_op(q, &q->w->prod, hvc__invalidate);
            p = hvc_load_acquire(&q->w->prod);
            /* Read once, checked: 8-aligned and within one capacity of
             * our head, either way (it may lag the records we took). */
            if ((p & 7u) != 0 || (p - q->head > q->capacity && q->head - p > q->capacity)) {
                proto_error(q, "ring: producer index out of bounds");
                return -HVC_EPROTO;
            }
            q->peer = p;
            tag = head_tag(q);
            if (tag == HVC_REC_EMPTY) {
                stall(q);
                return -HVC_EAGAIN;
            }
        }
        len = hvc_load_relaxed(&h->len);
        kind = hvc__ring_rec_check(q, tag, len);
        if (kind == HVC__REC_BAD_TAG)
            return bad_record(q, "ring: bad record tag");
        if (kind == HVC__REC_BAD_PAD)
            return bad_record(q, "ring: bad padding record");
        if (kind == HVC__REC_BAD_LEN)
            return bad_record(q, "ring: bad record length");
        flags = (uint32_t)kind;
        if (flags == HVC_REC_PAD) {
            q->head += to_end;
            continue;
        }
        /* The payload the tag covers, fresh from memory (the consumer
         * never writes the data area: nothing of ours is dropped). */
        data_range(q, q->head, q->head + HVC_RING_RECORD_SIZE(len), hvc__invalidate);
        q->stalled = 0;
        rec->payload = q->data + off + 8u;
        rec->len = len;
        rec->flags = flags;
        rec->size = HVC_RING_RECORD_SIZE(len);
        return 0;
    }
    return bad_record(q, "ring: padding after padding");
}

void hvc__ring_consume(struct hvc_ring *q, const struct hvc__rec *rec)
{
    q->head += rec->size;
    q->msgs++;
    q->bytes += rec->len;
}

/*
 * The next record that can start a message (whole or first fragment).
 * Middle and last fragments found on the way belong to a message whose
 * first fragment this handle never saw (it was opened in the middle of the
 * message, or another handle read the start): nobody can reassemble them,
 * so they are stepped over and counted. Bounded: after one ring's worth of
 * records (a producer may keep publishing stray fragments) -HVC_EAGAIN.
 */
int hvc__ring_next_start(struct hvc_ring *q, struct hvc__rec *rec)
{
    for (uint32_t n = 0; n <= q->capacity / 8u; n++) {
        int rc = hvc__ring_next(q, rec);

        if (rc < 0)
            return rc;
        if (rec->flags == 0 || rec->flags == HVC_REC_FRAG_FIRST)
            return 0;
        q->head += rec->size;
        hvc__ring_frag_drop(q, 1);
    }
    return -HVC_EAGAIN;
}

void hvc__ring_cons_publish(struct hvc_ring *q)
{
    struct hvc_wire_ring *w = q->w;

    if (q->head == q->published)
        return;
    hvc_store_relaxed(&w->rmsgs_lo, (uint32_t)q->msgs);
    hvc_store_relaxed(&w->rmsgs_hi, (uint32_t)(q->msgs >> 32));
    hvc_store_relaxed(&w->rbytes_lo, (uint32_t)q->bytes);
    hvc_store_relaxed(&w->rbytes_hi, (uint32_t)(q->bytes >> 32));
    q->published = q->head;
    if (!(q->wflags & HVC_RING_WF_BLOCKING)) {
        /* Pairs with the acquire load of cons in prod_room(): our reads of
         * the records before head are done before the producer reuses
         * them. */
        hvc_store_release(&w->cons, q->head);
        word_op(q, &w->cons, hvc__clean);
        return;
    }
    /* Released as above; fenced, or light (see publish_blocking()). */
    publish_blocking(q, &w->cons, &w->prod_fence, &w->prod_sleeping, &q->space_ev,
                     &w->rwakeups_sent);
}

/*
 * After a receive: publish the freed space when it pays. Every store of
 * cons takes its cache line away from a producer that polls it on a full
 * ring, so the consumer publishes when the next record is not there yet
 * (the tag word at the new head is #HVC_REC_EMPTY, read relaxed as a hint:
 * the ring may be empty, a waiting producer must hear at once, and a
 * request-response exchange never waits), after a quarter of the ring, or
 * when the producer sleeps. The producer may therefore see the ring full
 * for up to a quarter of it longer than it is.
 */
void hvc__ring_cons_done(struct hvc_ring *q)
{
    const struct hvc_wire_ring_rec *next =
        (const struct hvc_wire_ring_rec *)(const void *)(q->data + (q->head & q->mask));

    if ((q->wflags & HVC__RING_WF_CACHE) || hvc_load_relaxed(&next->tag) == HVC_REC_EMPTY ||
        q->head - q->published >= q->capacity / 4u ||
        ((q->wflags & HVC_RING_WF_BLOCKING) && (hvc_load_relaxed(&q->w->prod_sleeping) & 1u) != 0))
        hvc__ring_cons_publish(q);
}

/* ---- creation and checks ---- */

/* ---- the events of a blocking ring ---- */

#ifndef HVC_CONFIG_NO_BLOCKING
/* ".ring.<offset in hex>.<c|p>": at most 6 + 16 + 2 = 24 characters. The
 * offset names the ring uniquely among live objects, and the consumer can
 * derive it from the directory entry alone. */
static void event_name(char *out, uint64_t offset, char side)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[16];
    int n = 0, k = 0;

    do {
        tmp[n++] = hex[offset & 15u];
        offset >>= 4;
    } while (offset != 0);
    for (const char *p = ".ring."; *p != '\0'; p++)
        out[k++] = *p;
    while (n > 0)
        out[k++] = tmp[--n];
    out[k++] = '.';
    out[k++] = side;
    out[k] = '\0';
}

_Static_assert(HVC_RING_EVENT_NAME_MAX <= HVC_NAME_MAX, "ring event names fit");

/* Open the ring's two events by name. */
static int open_events(struct hvc_ring *ring, struct hvc_region *r,
                       const struct hvc_obj *obj)
{
    char name[HVC_RING_EVENT_NAME_MAX + 1];
    int rc;

    event_name(name, obj->offset, 'c');
    rc = hvc_event_open(r, name, 0, NULL, &ring->data_ev);
    if (rc < 0)
        return rc;
    event_name(name, obj->offset, 'p');
    rc = hvc_event_open(r, name, 0, NULL, &ring->space_ev);
    if (rc < 0) {
        (void)hvc_event_close(&ring->data_ev);
        return rc;
    }
    if (ring->data_ev.kind != HVC_EVENT_AUTO || ring->space_ev.kind != HVC_EVENT_AUTO) {
        hvc_region_proto_error(r, "ring: event of the wrong kind");
        (void)hvc_event_close(&ring->data_ev);
        (void)hvc_event_close(&ring->space_ev);
        return -HVC_EPROTO;
    }
    return 0;
}
#endif /* !HVC_CONFIG_NO_BLOCKING */

#if !defined(HVC_CONFIG_ATTACH_ONLY) && !defined(HVC_CONFIG_NO_BLOCKING)
/* Create one event of a new ring; one left by a deleted ring that lived at
 * the same offset is reused (a stale signal in it costs one spurious
 * wake-up, which the ring's loops absorb). */
static int create_event(struct hvc_region *r, uint64_t offset, char side,
                        uint64_t signalers)
{
    struct hvc_event_attr a = {0};
    struct hvc_event ev;
    char name[HVC_RING_EVENT_NAME_MAX + 1];
    int rc;

    event_name(name, offset, side);
    a.kind = HVC_EVENT_AUTO;
    a.signalers = signalers;
    rc = hvc_event_create(r, name, &a, &ev);
    if (rc == -HVC_EEXIST) {
        rc = hvc_event_open(r, name, 0, NULL, &ev);
        if (rc == -HVC_ETYPE || rc == -HVC_EPROTO || rc == -HVC_EVERSION ||
            (rc == 0 && ev.kind != HVC_EVENT_AUTO))
            return -HVC_EEXIST; /* the name is taken by something else */
        if (rc == 0 && ev.signalers != signalers) {
            /* Left by a deleted ring with another writer: its signaler
             * mask is immutable, so make a new one. */
            (void)hvc_event_close(&ev);
            rc = hvc_obj_delete(r, name);
            if (rc == 0 || rc == -HVC_ENOENT)
                rc = hvc_event_create(r, name, &a, &ev);
        }
    }
    if (rc == 0)
        (void)hvc_event_close(&ev);
    return rc;
}
#endif

#ifndef HVC_CONFIG_ATTACH_ONLY
static uint32_t pow2_ceil(uint32_t v)
{
    uint32_t p = 64;

    while (p < v && p < HVC_RING_CAPACITY_MAX)
        p <<= 1;
    return p;
}
#endif

/* The immutable line, read once into locals and checked against the object. */
struct geometry {
    uint32_t capacity, max_msg, flags;
};

static int check_header(struct hvc_region *r, const struct hvc_obj *obj,
                        struct geometry *g)
{
    struct hvc_wire_ring *w;
    uint32_t hdr;
    /* Header, feature flags and writer: the checks every type shares. The
     * magic's acquire pairs with its release store in hvc_ring_create(). */
    int rc = r != NULL ? hvc_obj_validate(r, obj, &hvc__objdesc_ring, &g->flags) : -HVC_EINVAL;

    if (rc < 0)
        return rc;
    w = obj->ptr;
    hdr = hvc_load_relaxed(&w->hdr_size);
    g->capacity = hvc_load_relaxed(&w->capacity);
    g->max_msg = hvc_load_relaxed(&w->max_msg);
    /* capacity / 2 is a multiple of 8, so HVC_RING_RECORD_SIZE(max_msg) <=
     * capacity / 2 exactly when max_msg <= capacity / 2 - 8 (written so,
     * it cannot overflow). */
    if (hdr != sizeof(struct hvc_wire_ring) || g->capacity < 64 ||
        g->capacity > HVC_RING_CAPACITY_MAX ||
        (g->capacity & (g->capacity - 1)) != 0 ||
        g->capacity > obj->size - sizeof(struct hvc_wire_ring) ||
        g->max_msg > g->capacity / 2 - 8u) {
        hvc_region_proto_error(r, "ring: inconsistent header");
        return -HVC_EPROTO;
    }
    return 0;
}

/*
 * A producer (re)starting at prod. The consumer takes records by their
 * tags, so it may have taken records after prod (released by a former
 * producer handle that died, or was closed, before it stored prod, or held
 * back by #HVC_RING_MORE and flushed). Writing at prod again would
 * overwrite records the consumer already took and leave it waiting at a
 * head inside the new records. So the producer walks the released records
 * from prod, by the same tag rule as the consumer, to the first tag word
 * that is no record (for an honest former producer: #HVC_REC_EMPTY, which
 * it stored before each release), resumes there, stores "not yet" there
 * once more and publishes prod. Bounded: every record must leave the 8
 * bytes after it free of what the consumer may still read (cons), which
 * limits the walk to two capacities. -1 when cons is past where the walk
 * ends (no honest consumer can be: it stops at the same word).
 */
static int resume_producer(struct hvc_ring *q, uint32_t p, uint32_t c)
{
    /* Positions relative to p; c - p within one capacity either way
     * (checked by the caller), so the sums below cannot overflow. */
    int64_t cp = (int64_t)(int32_t)(c - p), rel = 0;
    struct hvc_wire_ring_rec *h;

    for (;;) {
        uint32_t pos = p + (uint32_t)rel, off = pos & q->mask, to_end = q->capacity - off;
        uint32_t tag, len, flags, size;

        h = (struct hvc_wire_ring_rec *)(void *)(q->data + off);
        if (q->wflags & HVC__RING_WF_CACHE)
            hvc__invalidate(q->region, h, sizeof(*h));
        tag = hvc_load_acquire(&h->tag);
        len = hvc_load_relaxed(&h->len);
        flags = tag & 0xffu;
        if ((tag & ~0xffu) != HVC_REC_TAG(pos, len, 0))
            break;
        if (flags == HVC_REC_PAD) {
            if (off == 0 || len != to_end - 8u)
                break;
            size = to_end;
        } else if (flags == 0 || flags == HVC_REC_FRAG_FIRST || flags == HVC_REC_FRAG_MIDDLE ||
                   flags == HVC_REC_FRAG_LAST) {
            size = HVC_RING_RECORD_SIZE(len);
            if (len > q->max_msg || size > to_end)
                break;
        } else {
            break;
        }
        if (rel + size + 8 - cp > (int64_t)q->capacity)
            break;
        rel += size;
    }
    if (rel < cp || rel + 8 - cp > (int64_t)q->capacity)
        return -1;
    q->head = q->published = p + (uint32_t)rel;
    h = (struct hvc_wire_ring_rec *)(void *)(q->data + (q->head & q->mask));
    hvc_store_relaxed(&h->tag, HVC_REC_EMPTY);
    word_op(q, &h->tag, hvc__clean);
    if (rel != 0) {
        /* Pairs with the acquire loads of prod (the sleeper, stats). */
        hvc_store_release(&q->w->prod, q->head);
        word_op(q, &q->w->prod, hvc__clean);
    }
    return 0;
}

int hvc_ring_attach(struct hvc_ring *ring, struct hvc_region *r,
                    const struct hvc_obj *obj, int role)
{
    struct geometry g;
    struct hvc_wire_ring *w;
    uint32_t p, c;
    int rc;

    if (ring == NULL || (role != HVC_RING_PRODUCER && role != HVC_RING_CONSUMER))
        return -HVC_EINVAL;
    rc = check_header(r, obj, &g);
    if (rc < 0)
        return rc;
    if (role == HVC_RING_PRODUCER && !hvc__may_write(r, obj))
        return -HVC_EPERM;
    w = obj->ptr;
    /* Both indices once, checked together: the producer resumes at prod,
     * the consumer at cons. */
    hvc__load_indices(r, &w->prod, &w->cons, &p, &c);
    /* cons may be ahead of prod: the consumer follows the tags, and prod
     * lags the records by those released since its last store. */
    if (((p | c) & 7u) != 0 || (p - c > g.capacity && c - p > g.capacity)) {
        hvc_region_proto_error(r, "ring: indices out of bounds");
        return -HVC_EPROTO;
    }
    __builtin_memset(ring, 0, sizeof(*ring));
    ring->region = r;
    ring->w = w;
    ring->data = (uint8_t *)obj->ptr + sizeof(struct hvc_wire_ring);
    ring->capacity = g.capacity;
    ring->mask = g.capacity - 1u;
    ring->max_msg = g.max_msg;
    ring->wflags = g.flags;
    if (hvc__noncoherent(r))
        ring->wflags |= HVC__RING_WF_CACHE;
    ring->role = (uint32_t)role;
    ring->head = ring->published = role == HVC_RING_PRODUCER ? p : c;
    /* The shared counters go on from where a former handle of this side
     * left them (statistics only: whatever they hold is never trusted). */
    if (role == HVC_RING_PRODUCER) {
        ring->msgs = hvc_load_split64(&w->msgs_lo, &w->msgs_hi);
        ring->bytes = hvc_load_split64(&w->bytes_lo, &w->bytes_hi);
        ring->errors = hvc_load_relaxed(&w->prod_errors);
        ring->stalls = hvc_load_relaxed(&w->full_stalls);
        ring->wakeups = hvc_load_relaxed(&w->wakeups_sent);
    } else {
        ring->msgs = hvc_load_split64(&w->rmsgs_lo, &w->rmsgs_hi);
        ring->bytes = hvc_load_split64(&w->rbytes_lo, &w->rbytes_hi);
        ring->errors = hvc_load_relaxed(&w->cons_errors);
        ring->stalls = hvc_load_relaxed(&w->empty_stalls);
        ring->wakeups = hvc_load_relaxed(&w->rwakeups_sent);
        ring->frag_drops = hvc_load_relaxed(&w->frag_drops);
    }
    ring->peer = role == HVC_RING_PRODUCER ? c : p;
    if (role == HVC_RING_PRODUCER && resume_producer(ring, p, c) < 0) {
        __builtin_memset(ring, 0, sizeof(*ring));
        hvc_region_proto_error(r, "ring: records inconsistent with the indices");
        return -HVC_EPROTO;
    }
    /* Our own sleep word, even (awake); a former handle may have died
     * asleep. */
    ring->sleep_seq = (hvc_load_relaxed(role == HVC_RING_PRODUCER ? &w->prod_sleeping
                                                                  : &w->cons_sleeping) + 1u) & ~1u;
    if (g.flags & HVC_RING_WF_BLOCKING) {
#ifdef HVC_CONFIG_NO_BLOCKING
        /* Built without blocking rings (no event module): the ring is
         * well formed, this peer just cannot take part in its wake-ups. */
        __builtin_memset(ring, 0, sizeof(*ring));
        return -HVC_ENOTSUP;
#else
        uint32_t *own = role == HVC_RING_PRODUCER ? &w->prod_fence : &w->cons_fence;
        uint32_t d = 0;

        rc = open_events(ring, r, obj);
        if (rc < 0) {
            __builtin_memset(ring, 0, sizeof(*ring));
            return rc;
        }
        /* Announce our fence domain (0: none), so that the other side
         * publishes without a fence only while we issue peer fences
         * before we sleep. A domain is odd; a handle that cannot issue
         * them but replaces one that announced a domain is marked, so
         * that its first sleep is a short slice (ring_wait.c). */
        if (hvc_platform_control(hvc_region_platform(r), HVC_PLATFORM_OP_FENCE_DOMAIN, &d) != 0 ||
            (d & 1u) == 0)
            d = 0;
        ring->fence = d != 0 || hvc_load_relaxed(own) == 0 ? d : HVC__RING_FENCE_STALE;
        hvc_store_relaxed(own, d);
#endif
    }
    return 0;
}

#ifdef HVC_CONFIG_ATTACH_ONLY
int hvc_ring_create(struct hvc_ring *ring, struct hvc_region *r,
                    const char *name, const struct hvc_ring_attr *attr)
{
    (void)ring, (void)r, (void)name, (void)attr;
    return -HVC_ENOTSUP; /* a peer built attach-only creates nothing */
}
#else
int hvc_ring_create(struct hvc_ring *ring, struct hvc_region *r,
                    const char *name, const struct hvc_ring_attr *attr)
{
    struct hvc_obj_spec spec = {0};
    struct hvc_obj obj;
    struct hvc_wire_ring *w;
    uint32_t cap, need;
    int self, writer, rc;

    if (ring == NULL || r == NULL || attr == NULL ||
        (attr->flags & ~(uint32_t)HVC_RING_BLOCKING) != 0 ||
        attr->max_msg > HVC_RING_CAPACITY_MAX / 2 - 8u)
        return -HVC_EINVAL;
#ifdef HVC_CONFIG_NO_BLOCKING
    if (attr->flags & HVC_RING_BLOCKING)
        return -HVC_ENOTSUP; /* built without blocking rings */
#endif
    self = hvc_peer_self(r);
    if (self < 0)
        return -HVC_EINVAL;
    writer = attr->writer < 0 ? self : attr->writer;
    if (writer >= (int)r->max_peers)
        return -HVC_EINVAL;
    need = 2u * HVC_RING_RECORD_SIZE(attr->max_msg);
    if (need > HVC_RING_CAPACITY_MAX || attr->capacity > HVC_RING_CAPACITY_MAX)
        return -HVC_EINVAL;
    cap = pow2_ceil(attr->capacity != 0 ? attr->capacity : need);
    if (cap < need)
        return -HVC_EINVAL;
    spec.name = name;
    spec.type = HVC_OBJ_RING;
    spec.size = sizeof(struct hvc_wire_ring) + (uint64_t)cap;
    spec.writer = (uint16_t)writer;
    rc = hvc_obj_create(r, &spec, &obj);
    if (rc < 0)
        return rc;
    w = obj.ptr; /* zeroed by hvc_obj_create() */
    w->version = HVC_RING_VERSION;
    w->hdr_size = sizeof(struct hvc_wire_ring);
    w->capacity = cap;
    w->max_msg = attr->max_msg;
    w->flags = (attr->flags & HVC_RING_BLOCKING) ? HVC_RING_WF_BLOCKING : 0u;
    w->writer = (uint32_t)writer;
    /* The first record position says "not yet" (the area is zeroed, and
     * a zero word could match some record's tag at offset 0). */
    ((struct hvc_wire_ring_rec *)(void *)(w + 1))->tag = HVC_REC_EMPTY;
    hvc__clean(r, &((struct hvc_wire_ring_rec *)(void *)(w + 1))->tag, 4u);
#ifndef HVC_CONFIG_NO_BLOCKING
    if (attr->flags & HVC_RING_BLOCKING) {
        /* The events exist before the ring is published: whoever can
         * attach the ring can open them. The data event is signalled by
         * the writer only; the consumer is not recorded, so any peer may
         * signal the space event. */
        rc = create_event(r, obj.offset, 'c', writer < 64 ? 1ull << writer : 0);
        if (rc == 0)
            rc = create_event(r, obj.offset, 'p', 0);
        if (rc < 0) {
            /* A data event already made stays for a later ring at this
             * offset, which reuses it. */
            (void)hvc_obj_delete(r, name);
            return rc;
        }
    }
#endif
    /* Pairs with the acquire load of magic in check_header(). */
    hvc_store_release(&w->magic, HVC_RING_MAGIC);
    return hvc_ring_attach(ring, r, &obj,
                           writer == self ? HVC_RING_PRODUCER : HVC_RING_CONSUMER);
}
#endif /* !HVC_CONFIG_ATTACH_ONLY */

int hvc_ring_open(struct hvc_ring *ring, struct hvc_region *r, const char *name,
                  int role)
{
    struct hvc_obj obj;
    int rc;

    if (ring == NULL || r == NULL || name == NULL)
        return -HVC_EINVAL;
    rc = hvc_obj_open(r, name, HVC_OBJ_RING, &obj);
    if (rc < 0)
        return rc;
    return hvc_ring_attach(ring, r, &obj, role);
}

uint32_t hvc_ring_max_msg(const struct hvc_ring *ring)
{
    return ring != NULL && ring->w != NULL ? ring->max_msg : 0;
}

uint32_t hvc_ring_capacity(const struct hvc_ring *ring)
{
    return ring != NULL && ring->w != NULL ? ring->capacity : 0;
}

static inline bool is_role(const struct hvc_ring *q, uint32_t role)
{
    return q != NULL && q->w != NULL && q->role == role;
}

/* ---- copy and batch ---- */

/* The fast paths of ring.h without the publication, for the batch loops:
 * a plain record in the cached room, or false (the general path decides). */
static inline bool put_fast(struct hvc_ring *q, const void *buf, uint32_t len, bool hold)
{
    uint32_t size = HVC_RING_RECORD_SIZE(len), off = q->head & q->mask;

    /* The record and the next word (8 bytes) in the cached free space. */
    if (size > q->capacity - off || size >= q->capacity - (q->head - q->peer))
        return false;
    hvc__copy(q->data + off + 8u, buf, len);
    put_header(q, q->head, size, len, 0, hold);
    q->head += size;
    q->msgs++;
    q->bytes += len;
    return true;
}

/* A plain record among those already known to be published, copied; -1
 * for anything else (the general path reads it again and decides). */
static inline int get_fast(struct hvc_ring *q, void *buf, uint32_t cap)
{
    uint32_t off = q->head & q->mask, tag, len;
    const struct hvc_wire_ring_rec *h;

    if (q->wflags & HVC__RING_WF_CACHE)
        return -1;
    h = (const struct hvc_wire_ring_rec *)(const void *)(q->data + off);
    /* Once each; pairs with the release store of the tag in put_header().
     * Only a whole message (no flags) matches; fragments and "not yet" go
     * the general way. */
    tag = hvc_load_acquire(&h->tag);
    len = hvc_load_relaxed(&h->len);
    if ((tag & 0xffu) != 0 || hvc__ring_rec_check(q, tag, len) != 0 || len > cap)
        return -1;
    hvc__copy(buf, h + 1, len);
    q->head += HVC_RING_RECORD_SIZE(len);
    q->msgs++;
    q->bytes += len;
    q->stalled = 0; /* progress, as in the inline receive */
    return (int)len;
}

int hvc__ring_send_slow(struct hvc_ring *q, const void *buf, uint32_t len)
{
    int rc;

    if (!is_role(q, HVC_RING_PRODUCER) || q->pending != 0 ||
        (buf == NULL && len != 0))
        return -HVC_EINVAL;
    if (len > q->max_msg)
        return -HVC_EMSGSIZE;
    rc = hvc__ring_put(q, buf, len, 0);
    if (rc == 0)
        hvc__ring_prod_publish(q);
    return rc;
}

int hvc_ring_send_batch(struct hvc_ring *q, const struct hvc_ring_msg *msgs,
                        unsigned n)
{
    unsigned i;
    int rc = 0;

    if (!is_role(q, HVC_RING_PRODUCER) || q->pending != 0 || (msgs == NULL && n != 0))
        return -HVC_EINVAL;
    for (i = 0; i < n; i++) {
        if (msgs[i].len > q->max_msg) {
            rc = -HVC_EMSGSIZE;
            break;
        }
        if (msgs[i].data == NULL && msgs[i].len != 0) {
            rc = -HVC_EINVAL;
            break;
        }
        /* The first record's tag is held until the one publication: the
         * consumer sees the batch at once, not record by record. */
        if (put_fast(q, msgs[i].data, msgs[i].len, true))
            continue;
        rc = ring_put(q, msgs[i].data, msgs[i].len, 0, true);
        if (rc < 0)
            break;
    }
    hvc__ring_prod_publish(q);
    return i > 0 || n == 0 ? (int)i : rc;
}

static int recv_one(struct hvc_ring *q, void *buf, uint32_t cap)
{
    struct hvc__rec rec;
    int rc = hvc__ring_next_start(q, &rec);

    if (rc < 0)
        return rc;
    if (rec.flags != 0 || rec.len > cap)
        return -HVC_EMSGSIZE;
    hvc__copy(buf, rec.payload, rec.len);
    hvc__ring_consume(q, &rec);
    return (int)rec.len;
}

int hvc__ring_recv_slow(struct hvc_ring *q, void *buf, uint32_t cap)
{
    int rc;

    if (!is_role(q, HVC_RING_CONSUMER) || q->pending != 0 || (buf == NULL && cap != 0))
        return -HVC_EINVAL;
    rc = recv_one(q, buf, cap);
    if (rc >= 0) {
        hvc__ring_cons_done(q);
        return rc;
    }
    hvc__ring_cons_publish(q); /* also padding skipped on the way */
    /* An empty ring, the stall counted (stall()) and everything published:
     * until the tag word at the head changes, the inline receive can
     * return -HVC_EAGAIN itself (ring.h). Not on a blocking ring, whose
     * empty result also reads prod for a sleeper (hvc__ring_next()). */
    if (rc == -HVC_EAGAIN && q->stalled != 0 && q->head == q->published &&
        !(q->wflags & (HVC_RING_WF_BLOCKING | HVC__RING_WF_CACHE)))
        q->stalled = HVC__RING_QUIET;
    return rc;
}

int hvc_ring_recv_batch(struct hvc_ring *q, struct hvc_ring_msg *msgs, unsigned n)
{
    unsigned i;
    int rc = 0;

    if (!is_role(q, HVC_RING_CONSUMER) || q->pending != 0 || (msgs == NULL && n != 0))
        return -HVC_EINVAL;
    for (i = 0; i < n; i++) {
        if (msgs[i].data == NULL && msgs[i].cap != 0) {
            rc = -HVC_EINVAL;
            break;
        }
        rc = get_fast(q, msgs[i].data, msgs[i].cap);
        if (rc < 0)
            rc = recv_one(q, msgs[i].data, msgs[i].cap);
        if (rc < 0)
            break;
        msgs[i].len = (uint32_t)rc;
    }
    if (i > 0)
        hvc__ring_cons_done(q);
    else
        hvc__ring_cons_publish(q);
    return i > 0 || n == 0 ? (int)i : rc;
}

/* ---- zero copy ---- */

int hvc_ring_reserve(struct hvc_ring *q, uint32_t len, void **ptr)
{
    uint32_t off;
    int rc;

    if (!is_role(q, HVC_RING_PRODUCER) || q->pending != 0 || ptr == NULL)
        return -HVC_EINVAL;
    if (len > q->max_msg)
        return -HVC_EMSGSIZE;
    rc = prod_place(q, HVC_RING_RECORD_SIZE(len), &off);
    if (rc < 0)
        return rc;
    q->pending = len + 1u; /* the reserved length, + 1 so that 0 is "none" */
    *ptr = q->data + off + 8u;
    return 0;
}

int hvc_ring_commit(struct hvc_ring *q, uint32_t len, unsigned flags)
{
    if (!is_role(q, HVC_RING_PRODUCER) || q->pending == 0 || len > q->pending - 1u ||
        (flags & ~(unsigned)HVC_RING_MORE) != 0)
        return -HVC_EINVAL;
    /* prod_place() left head at the record (after any padding), with room
     * for the next word after the reserved length, so also after len.
     * With HVC_RING_MORE the tag is held: nothing of it is visible before
     * the next publication (hvc_ring_flush()). */
    put_header(q, q->head, HVC_RING_RECORD_SIZE(len), len, 0, (flags & HVC_RING_MORE) != 0);
    q->head += HVC_RING_RECORD_SIZE(len);
    q->msgs++;
    q->bytes += len;
    q->pending = 0;
    if (!(flags & HVC_RING_MORE))
        hvc__ring_prod_publish(q);
    return 0;
}

int hvc_ring_peek(struct hvc_ring *q, const void **ptr)
{
    struct hvc__rec rec;
    int rc;

    if (!is_role(q, HVC_RING_CONSUMER) || ptr == NULL)
        return -HVC_EINVAL;
    if (q->pending != 0) {
        /* Same record again, from the private copy: not re-read. */
        *ptr = q->data + (q->head & q->mask) + 8u;
        return (int)q->pending_len;
    }
    /* Padding or stray fragments skipped on the way move the private head
     * only: peek never publishes (a caller holding earlier records, such
     * as vnet's zero-copy frames, decides when the producer sees the
     * space), the next release or hvc_ring_flush() does. */
    rc = hvc__ring_next_start(q, &rec);
    if (rc < 0)
        return rc;
    if (rec.flags != 0)
        return -HVC_EMSGSIZE;
    q->pending = rec.size;
    q->pending_len = rec.len;
    *ptr = rec.payload;
    return (int)rec.len;
}

int hvc_ring_release(struct hvc_ring *q, unsigned flags)
{
    if (!is_role(q, HVC_RING_CONSUMER) || q->pending == 0 ||
        (flags & ~(unsigned)HVC_RING_MORE) != 0)
        return -HVC_EINVAL;
    q->head += q->pending;
    q->msgs++;
    q->bytes += q->pending_len;
    q->pending = 0;
    if (!(flags & HVC_RING_MORE))
        hvc__ring_cons_done(q);
    return 0;
}

int hvc_ring_flush(struct hvc_ring *q)
{
    if (q == NULL || q->w == NULL)
        return -HVC_EINVAL;
    if (q->role == HVC_RING_PRODUCER)
        hvc__ring_prod_publish(q);
    else
        hvc__ring_cons_publish(q);
    return 0;
}

/* ---- counters ---- */

int hvc_ring_stats(struct hvc_region *r, const struct hvc_obj *obj,
                   struct hvc_ring_stats *out)
{
    struct geometry g;
    struct hvc_wire_ring *w;
    int rc;

    if (out == NULL)
        return -HVC_EINVAL;
    rc = check_header(r, obj, &g);
    if (rc < 0)
        return rc;
    w = obj->ptr;
    __builtin_memset(out, 0, sizeof(*out));
    out->capacity = g.capacity;
    out->max_msg = g.max_msg;
    out->writer = obj->writer; /* private; hvc_obj_validate() matched the header to it */
    out->flags = g.flags;
    out->prod = hvc_load_acquire(&w->prod);
    out->cons = hvc_load_acquire(&w->cons);
    out->used = out->prod - out->cons <= g.capacity ? out->prod - out->cons : 0;
    out->msgs_sent = hvc_load_split64(&w->msgs_lo, &w->msgs_hi);
    out->bytes_sent = hvc_load_split64(&w->bytes_lo, &w->bytes_hi);
    out->msgs_recv = hvc_load_split64(&w->rmsgs_lo, &w->rmsgs_hi);
    out->bytes_recv = hvc_load_split64(&w->rbytes_lo, &w->rbytes_hi);
    out->full_stalls = hvc_load_relaxed(&w->full_stalls);
    out->empty_stalls = hvc_load_relaxed(&w->empty_stalls);
    out->proto_errors = hvc_load_relaxed(&w->prod_errors) + hvc_load_relaxed(&w->cons_errors);
    out->wakeups = hvc_load_relaxed(&w->wakeups_sent) + hvc_load_relaxed(&w->rwakeups_sent);
    out->frag_drops = hvc_load_relaxed(&w->frag_drops);
    return 0;
}
