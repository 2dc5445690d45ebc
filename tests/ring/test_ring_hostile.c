/*
 * A hostile peer on the other side of a ring (another process), writing
 * random values into the indices, record lengths and tags while the victim
 * runs, and bad fragment sequences (middle or last without first, first
 * after first, a first cut short, a chain longer than the victim's buffer). The victim reads through every reader
 * path (inline recv, batch, peek, stream) and must only ever see
 * -HVC_EPROTO, dropped fragments (counted) or correct messages (sequence
 * number and checksum), and must never write outside its own side of the
 * ring. Meant to run under AddressSanitizer too.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "ringtest.h"

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (1u << 20)
#define MAXMSG 100u
#define CORRUPTIONS 5000u

static const struct hvc_platform *posix;

struct args {
    const char *path;
    uint64_t seed;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state += 0x9e3779b97f4a7c15ull;
    return rt_mix(rng_state);
}

static void spin_a_little(void)
{
    unsigned n = (unsigned)(rnd() % 2000);

    for (unsigned i = 0; i < n; i++)
        hvc_cpu_relax();
    if (rnd() % 16 == 0)
        sched_yield();
}

/* ---- hostile producer (child), victim consumer (parent) ---- */

/*
 * Write one record with any flags at the producer's next position, as an
 * honest producer would place it (padding first when it does not fit before
 * the end, the "not yet" word after it), in free space only, and publish it. False when there is no room.
 */
static bool put_raw(struct hvc_ring *p, uint32_t len, uint32_t flags)
{
    uint32_t size = HVC_RING_RECORD_SIZE(len), off = p->head & p->mask;
    uint32_t to_end = p->capacity - off, need = (size <= to_end ? size : to_end + size) + 8u;
    uint32_t cons = hvc_load_acquire(&p->w->cons);
    struct hvc_wire_ring_rec *h;

    p->peer = cons; /* keep the handle's cache consistent for its own sends */
    if (p->capacity - (p->head - cons) < need)
        return false;
    if (size > to_end) {
        h = (void *)(p->data + off);
        hvc_store_relaxed(&h->len, to_end - 8u);
        hvc_store_relaxed(&((struct hvc_wire_ring_rec *)(void *)p->data)->tag, HVC_REC_EMPTY);
        hvc_store_release(&h->tag, HVC_REC_TAG(p->head, to_end - 8u, HVC_REC_PAD));
        p->head += to_end;
        off = 0;
    }
    h = (void *)(p->data + off);
    memset(h + 1, 0xee, len); /* never a valid message */
    hvc_store_relaxed(&h->len, len);
    /* "Not yet" after it, as an honest producer writes it. */
    hvc_store_relaxed(&((struct hvc_wire_ring_rec *)(void *)(p->data + ((p->head + size) & p->mask)))->tag,
                      HVC_REC_EMPTY);
    hvc_store_release(&h->tag, HVC_REC_TAG(p->head, len, flags));
    p->head += size;
    hvc_store_release(&p->w->prod, p->head);
    p->published = p->head;
    return true;
}

/* Bad fragment sequences: none can be reassembled into a message. The
 * last one is well formed, but of MAXMSG-byte records: three of them are
 * longer than the victim's buffer (MAXMSG + 16), so it is dropped whole. */
static const uint32_t bad_seqs[][4] = {
    {HVC_REC_FRAG_MIDDLE, HVC_REC_FRAG_LAST, 0, 0},    /* middle, last without first */
    {HVC_REC_FRAG_LAST, 0, 0, 0},                      /* last without first */
    {HVC_REC_FRAG_MIDDLE, 0, 0, 0},                    /* middle without first */
    {HVC_REC_FRAG_FIRST, HVC_REC_FRAG_FIRST, HVC_REC_FRAG_MIDDLE, 0}, /* first after first */
    {HVC_REC_FRAG_FIRST, 0, 0, 0},                     /* first, cut short */
    {HVC_REC_FRAG_FIRST, HVC_REC_FRAG_MIDDLE, HVC_REC_FRAG_LAST, 0}, /* too long for the reader */
};
#define BAD_SEQS (sizeof(bad_seqs) / sizeof(bad_seqs[0]))
#define TOO_LONG (BAD_SEQS - 1)

static int hostile_producer(void *arg)
{
    const struct args *a = arg;
    struct hvc_region r;
    struct hvc_ring p;
    uint8_t buf[MAXMSG];
    uint64_t seq = 0;
    unsigned done = 0, fragments_sent = 0;

    rng_state = a->seed;
    if (hvc_region_attach(&r, posix, a->path, 0) < 0 || hvc_peer_join(&r, "hostile") != 1 ||
        hvc_ring_open(&p, &r, "victim", HVC_RING_PRODUCER) < 0)
        return 10;
    while (done < CORRUPTIONS) {
        struct hvc_wire_ring *w = p.w;
        uint32_t cons = hvc_load_acquire(&w->cons);
        uint32_t what = (uint32_t)(rnd() % 7);

        /* Some honest messages. */
        for (unsigned k = (unsigned)(rnd() % 8); k > 0; k--) {
            uint32_t len = rt_len(seq, MAXMSG);
            int rc;

            rt_fill(buf, len, seq);
            while ((rc = hvc_ring_send(&p, buf, len)) == -HVC_EAGAIN)
                sched_yield();
            if (rc != 0)
                return 11;
            seq++;
        }
        if (what == 0) {
            /* A random producer index, then the true one again. */
            hvc_store_release(&w->prod, (uint32_t)rnd());
            spin_a_little();
            hvc_store_release(&w->prod, p.published);
        } else if (what == 1 || what == 2) {
            /* The header of a published, not yet read record: a random
             * length or tag. Walk the records from the reader's index (the
             * records are ours and do not change while we are here). */
            uint32_t pos = hvc_load_acquire(&w->cons), steps = (uint32_t)(rnd() % 8);
            struct hvc_wire_ring_rec *h;
            uint32_t *field, saved;

            while (steps-- > 0 && pos != p.published) {
                h = (void *)(p.data + (pos & p.mask));
                pos += (h->tag & HVC_REC_PAD) ? p.capacity - (pos & p.mask)
                                              : HVC_RING_RECORD_SIZE(h->len);
            }
            if (pos == p.published)
                continue;
            h = (void *)(p.data + (pos & p.mask));
            field = what == 1 ? &h->len : &h->tag;
            saved = hvc_load_relaxed(field);
            hvc_store_release(field, (uint32_t)rnd());
            spin_a_little();
            hvc_store_release(field, saved);
        } else if (what == 3) {
            /* A plausible index: ahead of the truth, within one capacity. */
            hvc_store_release(&w->prod, cons + 8u * (uint32_t)(rnd() % (p.capacity / 8 + 2)));
            spin_a_little();
            hvc_store_release(&w->prod, p.published);
        } else if (what >= 5) {
            /* A bad fragment sequence in free space, each record correctly
             * tagged, then an honest whole message at once (so that two
             * bad sequences never join into a valid one: first + last).
             * The victim's fast path meets these flags too. */
            uint32_t which = (uint32_t)(rnd() % BAD_SEQS);
            const uint32_t *seq_flags = bad_seqs[which];

            for (int k = 0; k < 4 && seq_flags[k] != 0; k++) {
                uint32_t len = which == TOO_LONG ? MAXMSG : (uint32_t)(rnd() % (MAXMSG + 1));

                while (!put_raw(&p, len, seq_flags[k]))
                    sched_yield();
            }
            fragments_sent++;
            rt_fill(buf, rt_len(seq, MAXMSG), seq);
            {
                int rc;

                while ((rc = hvc_ring_send(&p, buf, rt_len(seq, MAXMSG))) == -HVC_EAGAIN)
                    sched_yield();
                if (rc != 0)
                    return 12;
            }
            seq++;
        } else {
            /* A wrong padding record (a length that is not exactly to the
             * end) at the next record position, in free space only. */
            struct hvc_wire_ring_rec *h = (void *)(p.data + (p.published & p.mask));
            uint32_t to_end = p.capacity - (p.published & p.mask);
            uint32_t len = (uint32_t)rnd() % (p.capacity * 2);

            cons = hvc_load_acquire(&w->cons);
            if (p.published - cons > p.capacity) {
                fprintf(stderr, "DEBUG published %u cons %u\n", p.published, cons);
                return 21;
            }
            if (p.capacity - (p.published - cons) < 8u)
                continue;
            if (len == to_end - 8u)
                len++;

            h->len = len;
            hvc_store_release(&h->tag, HVC_REC_TAG(p.published, len, HVC_REC_PAD));
            hvc_store_release(&w->prod, p.published + 8u * (uint32_t)(rnd() % 64));
            spin_a_little();
            hvc_store_release(&w->prod, p.published);
        }
        done++;
    }
    /* The end: tell the victim how many honest messages there were. */
    if (fragments_sent < 100)
        return 13;
    memcpy(buf, &seq, 8);
    {
        int rc;

        while ((rc = hvc_ring_send(&p, buf, 8)) == -HVC_EAGAIN)
            sched_yield();
    }
    hvc_region_detach(&r);
    return 0;
}

/*
 * One read by the victim through one of the reader paths (inline recv,
 * batch, peek with a private copy, stream); after a -HVC_EMSGSIZE (a first
 * fragment at the head, which plain readers leave) the stream receiver
 * must be used until it delivers, as an application would.
 */
static int victim_read(struct hvc_ring *c, struct hvc_ring_stream *st, bool *stream,
                       uint8_t *buf, uint32_t cap, uint64_t *paths)
{
    unsigned how = *stream ? 3u : (unsigned)(rnd() % 4);
    struct hvc_ring_msg m;
    const void *ptr;
    uint64_t len;
    int rc;

    paths[how]++;
    switch (how) {
    case 0:
        rc = hvc_ring_recv(c, buf, cap);
        break;
    case 1:
        m = (struct hvc_ring_msg){.data = buf, .cap = cap};
        rc = hvc_ring_recv_batch(c, &m, 1);
        rc = rc == 1 ? (int)m.len : rc == 0 ? -HVC_EAGAIN : rc;
        break;
    case 2:
        rc = hvc_ring_peek(c, &ptr);
        if (rc >= 0) {
            memcpy(buf, ptr, (size_t)rc); /* private copy before any check */
            if (hvc_ring_release(c, 0) != 0)
                return -1000;
        }
        break;
    default:
        rc = hvc_ring_stream_recv(c, st, buf, cap, &len);
        if (rc == 0) {
            *stream = false;
            rc = (int)len;
        } else if (rc == -HVC_EMSGSIZE) {
            paths[4]++;
            rc = -HVC_EAGAIN; /* a junk message too big for us: dropped */
        }
        return rc;
    }
    if (rc == -HVC_EMSGSIZE) {
        *stream = true;
        return -HVC_EAGAIN;
    }
    return rc;
}

START_TEST(hostile_producer_victim_consumer)
{
    struct args a = {.path = hvct_region_path("hostile"), .seed = 12345};
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 8};
    struct hvc_ring_attr attr = {.capacity = 1024, .max_msg = MAXMSG, .writer = 1};
    struct hvc_region r;
    struct hvc_ring c;
    struct hvc_ring_stream st = {0};
    uint8_t buf[MAXMSG + 16];
    uint64_t seq = 0, eproto = 0, total = UINT64_MAX, idle = 0, paths[5] = {0};
    bool stream = false;
    pid_t pid;

    hvct_assert_rc(hvc_region_format(&r, posix, a.path, &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "victim"), 0);
    hvct_assert_rc(hvc_ring_create(&c, &r, "victim", &attr), 0);
    rng_state = 99;
    pid = hvct_fork(hostile_producer, &a);
    for (;;) {
        int rc = victim_read(&c, &st, &stream, buf, sizeof(buf), paths);

        if (rc == -HVC_EAGAIN || rc == -HVC_EPROTO) {
            int status;

            eproto += rc == -HVC_EPROTO;
            sched_yield();
            if (++idle % 4096 == 0 && waitpid(pid, &status, WNOHANG) == pid)
                ck_abort_msg("hostile producer exited early (status %#x) at message %llu, "
                             "%llu EPROTO", status, (unsigned long long)seq,
                             (unsigned long long)eproto);
            if (idle == 2000000) {
                struct hvc_wire_ring_rec *h = (void *)(c.data + (c.head & c.mask));

                ck_abort_msg("stuck at message %llu: head %u peer %u prod %u cons %u, "
                             "record len %u tag %#x (want %#x), rc %d",
                             (unsigned long long)seq, c.head, c.peer, c.w->prod, c.w->cons,
                             h->len, h->tag, HVC_REC_TAG(c.head, h->len, h->tag & 0xff), rc);
            }
            continue;
        }
        idle = 0;
        ck_assert_msg(rc >= 0, "recv returned %d (%s)", rc, hvc_errname(rc));
        ck_assert_int_le(rc, MAXMSG);
        if (rt_check(buf, (uint32_t)rc, seq, MAXMSG)) {
            seq++;
            continue;
        }
        /* Not message seq: it must be the closing count, which equals seq. */
        ck_assert_msg(rc == 8, "message %llu: wrong content (len %d)",
                      (unsigned long long)seq, rc);
        memcpy(&total, buf, 8);
        ck_assert_uint_eq(total, seq);
        break;
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    fprintf(stderr, "hostile producer: %llu messages checked, %llu EPROTO results, "
            "%u fragment records dropped (%llu messages too long); reads: %llu recv, "
            "%llu batch, %llu peek, %llu stream\n",
            (unsigned long long)seq, (unsigned long long)eproto, c.frag_drops,
            (unsigned long long)paths[4], (unsigned long long)paths[0],
            (unsigned long long)paths[1], (unsigned long long)paths[2],
            (unsigned long long)paths[3]);
    ck_assert_uint_gt(eproto, 100);
    ck_assert_uint_eq(c.errors, eproto);
    ck_assert_uint_gt(c.frag_drops, 100);
    /* Chains too long for the buffer met the stream receiver, and were
     * dropped whole (each one's three records in frag_drops). */
    ck_assert_uint_gt(paths[4], 20);
    ck_assert_uint_ge(c.frag_drops, 3 * paths[4]);
    for (int k = 0; k < 4; k++)
        ck_assert_uint_gt(paths[k], 100);
    hvc_region_detach(&r);
}
END_TEST

/* ---- hostile consumer (child), victim producer (parent) ---- */

static int hostile_consumer(void *arg)
{
    const struct args *a = arg;
    struct hvc_region r;
    struct hvc_ring c;
    uint8_t buf[MAXMSG];

    rng_state = a->seed;
    if (hvc_region_attach(&r, posix, a->path, 0) < 0 || hvc_peer_join(&r, "hostile") != 1 ||
        hvc_ring_open(&c, &r, "victim", HVC_RING_CONSUMER) < 0)
        return 10;
    for (unsigned i = 0; i < CORRUPTIONS; i++) {
        uint32_t what = (uint32_t)(rnd() % 5);

        if (what == 0)
            hvc_store_release(&c.w->cons, (uint32_t)rnd());
        else if (what == 1)
            hvc_store_release(&c.w->cons, hvc_load_acquire(&c.w->prod) - 8u * (uint32_t)(rnd() % 200));
        else if (what == 2)
            hvc_store_release(&c.w->cons, hvc_load_acquire(&c.w->prod) + 8u * (uint32_t)(rnd() % 4));
        else if (what == 3)
            hvc_store_release(&c.w->cons_sleeping, (uint32_t)rnd());
        else /* fence word: random, 0, or the producer's own domain */
            hvc_store_release(&c.w->cons_fence, rnd() % 3 == 0 ? (uint32_t)rnd()
                                                : rnd() % 2 ? 0u
                                                            : hvc_load_acquire(&c.w->prod_fence));
        spin_a_little();
        /* Back to the truth, and some honest work. */
        hvc_store_release(&c.w->cons, c.published);
        hvc_store_release(&c.w->cons_sleeping, 0);
        for (unsigned k = (unsigned)(rnd() % 8); k > 0; k--)
            (void)hvc_ring_recv(&c, buf, sizeof(buf));
    }
    hvc_store_release(&c.w->cons_sleeping, 0xdead); /* done */
    hvc_region_detach(&r);
    return 0;
}

START_TEST(hostile_consumer_victim_producer)
{
    struct args a = {.path = hvct_region_path("hostile2"), .seed = 777};
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 8};
    struct hvc_ring_attr attr = {.capacity = 1024, .max_msg = MAXMSG, .writer = -1,
                                 .flags = HVC_RING_BLOCKING};
    struct hvc_obj_spec guard = {.name = "guard", .type = HVC_OBJ_RAW, .size = 4096,
                                 .writer = HVC_PEER_ANY};
    struct hvc_region r;
    struct hvc_ring p;
    struct hvc_obj g;
    struct hvc_wire_ring line0;
    uint8_t ev_line0[HVC_CACHELINE];
    uint8_t buf[MAXMSG];
    uint64_t ok = 0, eproto = 0, again = 0;
    pid_t pid;

    hvct_assert_rc(hvc_region_format(&r, posix, a.path, &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "victim"), 0);
    hvct_assert_rc(hvc_ring_create(&p, &r, "victim", &attr), 0);
    hvct_assert_rc(hvc_obj_create(&r, &guard, &g), 0);
    /* A blocking ring's two events follow it in the heap, then the guard:
     * the data event's immutable line is right after the data area. */
    ck_assert_uint_eq(p.data_ev.obj.offset, (uint64_t)((uint8_t *)p.data + p.capacity - r.base));
    ck_assert_uint_ge(g.offset, p.space_ev.obj.offset + p.space_ev.obj.size);
    memcpy(ev_line0, p.data_ev.w, sizeof(ev_line0));
    memset(g.ptr, 0xa5, 4096);
    memcpy(&line0, p.w, sizeof(line0));
    pid = hvct_fork(hostile_consumer, &a);
    while (hvc_load_acquire(&p.w->cons_sleeping) != 0xdead) {
        uint32_t len = (uint32_t)(rnd() % (MAXMSG + 1));
        int rc;

        memset(buf, 0x3c, len);
        rc = rnd() % 2 ? hvc_ring_send(&p, buf, len) : hvc_ring_send_wait(&p, buf, len, 20000);
        if (rc == 0)
            ok++;
        else if (rc == -HVC_EPROTO)
            eproto++;
        else if (rc == -HVC_EAGAIN || rc == -HVC_ETIMEDOUT)
            again++;
        else
            ck_abort_msg("send returned %d (%s)", rc, hvc_errname(rc));
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    fprintf(stderr, "hostile consumer: %llu sent, %llu EPROTO, %llu full\n",
            (unsigned long long)ok, (unsigned long long)eproto, (unsigned long long)again);
    ck_assert_uint_gt(eproto, 100);
    /* Nothing written outside the producer's part of the ring. */
    for (unsigned i = 0; i < 4096; i++)
        ck_assert_uint_eq(((uint8_t *)g.ptr)[i], 0xa5);
    ck_assert(memcmp(&line0, p.w, HVC_CACHELINE) == 0);
    ck_assert(memcmp(ev_line0, p.data_ev.w, HVC_CACHELINE) == 0);
    hvc_region_detach(&r);
}
END_TEST

static Suite *hostile_suite(void)
{
    return hvct_suite("ring_hostile", hvct_leak_setup, hvct_leak_teardown, 120,
                      HVCT_TESTS(hostile_producer_victim_consumer,
                                 hostile_consumer_victim_producer), NULL);
}

int main(void)
{
    posix = hvc_platform_posix();
    return hvct_run(hostile_suite());
}
