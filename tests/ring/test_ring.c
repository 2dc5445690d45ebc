/* Message rings in one process: every documented error, wrap-around at
 * every offset and size, zero-copy, batch, fragments, blocking timeouts,
 * counters. */
#define _GNU_SOURCE
#include "testutil.h"
#include "ringtest.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE (4u << 20)

static const struct hvc_platform *posix;
static struct hvc_region reg;
static const char *path;

static void setup(void)
{
    posix = hvc_platform_posix();
    path = hvct_fixture_setup(&reg, "ring", SIZE);
}

static void teardown(void)
{
    hvct_fixture_teardown(&reg);
}

START_TEST(create_and_errors)
{
    struct hvc_ring p, c, x;
    struct hvc_ring_attr a = {.capacity = 0, .max_msg = 100, .writer = -1};
    struct hvc_ring_stats st;
    struct hvc_obj o;
    uint8_t buf[256];

    hvct_assert_rc(hvc_ring_create(&p, &reg, "r", &a), 0);
    /* 0 picks the smallest power of two holding two max records. */
    ck_assert_uint_eq(hvc_ring_capacity(&p), 256);
    ck_assert_uint_eq(hvc_ring_max_msg(&p), 100);
    hvct_assert_rc(hvc_ring_create(&x, &reg, "r", &a), -HVC_EEXIST);
    a.capacity = 128; /* too small for two records of 100 */
    hvct_assert_rc(hvc_ring_create(&x, &reg, "small", &a), -HVC_EINVAL);
    a.capacity = 0;
    a.flags = 0x80;
    hvct_assert_rc(hvc_ring_create(&x, &reg, "flags", &a), -HVC_EINVAL);
    a.flags = 0;
    a.writer = 63;
    hvct_assert_rc(hvc_ring_create(&x, &reg, "writer", &a), -HVC_EINVAL);
    a.writer = -1;
    a.max_msg = HVC_RING_CAPACITY_MAX;
    hvct_assert_rc(hvc_ring_create(&x, &reg, "huge", &a), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_open(&c, &reg, "nope", HVC_RING_CONSUMER), -HVC_ENOENT);
    hvct_assert_rc(hvc_ring_open(&c, &reg, "r", 7), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_open(&c, &reg, "r", HVC_RING_CONSUMER), 0);

    /* Roles are enforced. */
    hvct_assert_rc(hvc_ring_recv(&p, buf, sizeof(buf)), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_send(&c, buf, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_send(&p, NULL, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_send(&p, buf, 101), -HVC_EMSGSIZE);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), -HVC_EAGAIN);
    hvct_assert_rc(hvc_ring_send_wait(&p, buf, 1, 0), -HVC_ENOTSUP);
    hvct_assert_rc(hvc_ring_recv_wait(&c, buf, 1, 0), -HVC_ENOTSUP);

    /* Too small a buffer: the message stays. */
    memset(buf, 0x5a, 100);
    hvct_assert_rc(hvc_ring_send(&p, buf, 100), 0);
    hvct_assert_rc(hvc_ring_recv(&c, buf, 99), -HVC_EMSGSIZE);
    hvct_assert_rc(hvc_ring_recv(&c, buf, 100), 100);
    hvct_assert_rc(hvc_ring_send(&p, NULL, 0), 0);
    hvct_assert_rc(hvc_ring_recv(&c, NULL, 0), 0);

    /* Fill it: full is an ordinary result, and counted once per stall. */
    while (hvc_ring_send(&p, buf, 100) == 0)
        ;
    hvct_assert_rc(hvc_ring_send(&p, buf, 100), -HVC_EAGAIN);
    hvct_assert_rc(hvc_obj_open(&reg, "r", HVC_OBJ_RING, &o), 0);
    hvct_assert_rc(hvc_ring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.capacity, 256);
    ck_assert_uint_eq(st.full_stalls, 1);
    ck_assert_uint_eq(st.msgs_sent, 4);
    ck_assert_uint_eq(st.msgs_recv, 2);
    ck_assert_uint_eq(st.bytes_recv, 100);
    ck_assert_uint_eq(st.empty_stalls, 1);
    ck_assert_uint_eq(st.used, st.prod - st.cons);
    ck_assert_uint_eq(st.proto_errors, 0);

    /* Stats and attach reject other types and corrupt headers. */
    {
        struct hvc_obj_spec spec = {.name = "raw", .type = HVC_OBJ_RAW, .size = 64,
                                    .writer = HVC_PEER_ANY};
        struct hvc_obj raw;
        struct hvc_wire_ring *w = o.ptr;
        uint32_t saved = w->capacity;

        hvct_assert_rc(hvc_obj_create(&reg, &spec, &raw), 0);
        hvct_assert_rc(hvc_ring_stats(&reg, &raw, &st), -HVC_ETYPE);
        hvct_assert_rc(hvc_ring_open(&x, &reg, "raw", HVC_RING_CONSUMER), -HVC_ETYPE);
        w->capacity = 1u << 20; /* larger than the object */
        hvct_assert_rc(hvc_ring_stats(&reg, &o, &st), -HVC_EPROTO);
        hvct_assert_rc(hvc_ring_open(&x, &reg, "r", HVC_RING_CONSUMER), -HVC_EPROTO);
        w->capacity = 96; /* not a power of two */
        hvct_assert_rc(hvc_ring_open(&x, &reg, "r", HVC_RING_CONSUMER), -HVC_EPROTO);
        w->capacity = saved;
        w->version = 9;
        hvct_assert_rc(hvc_ring_open(&x, &reg, "r", HVC_RING_CONSUMER), -HVC_EVERSION);
        w->version = HVC_RING_VERSION;
        w->magic = 0;
        hvct_assert_rc(hvc_ring_open(&x, &reg, "r", HVC_RING_CONSUMER), -HVC_ENOTREADY);
        w->magic = 1;
        hvct_assert_rc(hvc_ring_open(&x, &reg, "r", HVC_RING_CONSUMER), -HVC_EPROTO);
        w->magic = HVC_RING_MAGIC;
        /* The consumer may be ahead of prod (it follows the tags), but
         * not by more than a capacity. */
        w->cons = w->prod + w->capacity + 8u;
        hvct_assert_rc(hvc_ring_open(&x, &reg, "r", HVC_RING_CONSUMER), -HVC_EPROTO);
        w->cons = c.published;
    }
}
END_TEST

START_TEST(only_writer_produces)
{
    struct hvc_ring p, c;
    struct hvc_ring_attr a = {.capacity = 1024, .max_msg = 64, .writer = 1};
    struct hvc_region other;

    /* Created for peer 1: the creator (peer 0) gets the consumer side. */
    hvct_assert_rc(hvc_ring_create(&c, &reg, "w1", &a), 0);
    ck_assert_uint_eq(c.role, HVC_RING_CONSUMER);
    hvct_assert_rc(hvc_ring_open(&p, &reg, "w1", HVC_RING_PRODUCER), -HVC_EPERM);
    a.writer = -1;
    hvct_assert_rc(hvc_ring_create(&p, &reg, "w0", &a), 0);
    ck_assert_uint_eq(p.role, HVC_RING_PRODUCER);
    /* Peer 1 may produce on w1, not on w0. */
    hvct_assert_rc(hvc_region_attach(&other, posix, path, 0), 0);
    ck_assert_int_eq(hvc_peer_join(&other, "b"), 1);
    hvct_assert_rc(hvc_ring_open(&p, &other, "w0", HVC_RING_PRODUCER), -HVC_EPERM);
    hvct_assert_rc(hvc_ring_open(&p, &other, "w1", HVC_RING_PRODUCER), 0);
    hvct_assert_rc(hvc_ring_send(&p, "x", 1), 0);
    hvct_assert_rc(hvc_ring_recv(&c, &a, sizeof(a)), 1);
    hvc_region_detach(&other);
}
END_TEST

/* Every message size at every offset of the data area, including the
 * padding record at the wrap. */
START_TEST(wrap_every_offset)
{
    struct hvc_ring p, c;
    uint8_t in[80], out[80];
    const uint32_t cap = 256, max = 64;
    uint64_t seq = 0;

    hvct_ring_pair(&reg, &p, &c, "wrap", cap, max, 0);
    for (uint32_t off = 0; off < cap; off += 8) {
        for (uint32_t len = 0; len <= max; len++) {
            /* Walk the head to `off` with empty messages (8-byte records). */
            while ((p.head & (cap - 1)) != off) {
                hvct_assert_rc(hvc_ring_send(&p, NULL, 0), 0);
                hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), 0);
            }
            /* Two messages in flight, so the second one often wraps. */
            for (int k = 0; k < 2; k++) {
                memset(in, (int)(seq + (uint64_t)k), len);
                hvct_assert_rc(hvc_ring_send(&p, in, len), 0);
            }
            for (int k = 0; k < 2; k++) {
                memset(out, 0xee, sizeof(out));
                hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), (int)len);
                for (uint32_t i = 0; i < len; i++)
                    ck_assert_uint_eq(out[i], (uint8_t)(seq + (uint64_t)k));
                ck_assert_uint_eq(out[len], 0xee);
            }
            seq += 2;
        }
    }
    ck_assert_uint_eq(c.errors + p.errors, 0);
}
END_TEST

START_TEST(zero_copy)
{
    struct hvc_ring p, c;
    void *w;
    const void *r, *r2;
    uint8_t tmp[8];

    hvct_ring_pair(&reg, &p, &c, "zc", 1024, 200, 0);
    hvct_assert_rc(hvc_ring_commit(&p, 0, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_reserve(&p, 201, &w), -HVC_EMSGSIZE);
    hvct_assert_rc(hvc_ring_reserve(&p, 200, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_reserve(&p, 200, &w), 0);
    ck_assert_uint_eq((uintptr_t)w % 8, 0);
    hvct_assert_rc(hvc_ring_reserve(&p, 10, &w), -HVC_EINVAL); /* pending */
    hvct_assert_rc(hvc_ring_send(&p, tmp, 1), -HVC_EINVAL);
    memcpy(w, "hello, ring", 11);
    hvct_assert_rc(hvc_ring_commit(&p, 201, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_peek(&c, &r), -HVC_EAGAIN); /* not yet published */
    hvct_assert_rc(hvc_ring_commit(&p, 11, 0), 0); /* shorter than reserved */

    hvct_assert_rc(hvc_ring_release(&c, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_peek(&c, &r), 11);
    ck_assert_mem_eq(r, "hello, ring", 11);
    hvct_assert_rc(hvc_ring_peek(&c, &r2), 11); /* same again */
    ck_assert_ptr_eq(r, r2);
    hvct_assert_rc(hvc_ring_recv(&c, tmp, sizeof(tmp)), -HVC_EINVAL); /* pending */
    hvct_assert_rc(hvc_ring_release(&c, 0), 0);
    hvct_assert_rc(hvc_ring_peek(&c, &r), -HVC_EAGAIN);

    /* Deferred publication: three commits, one flush. */
    for (int i = 0; i < 3; i++) {
        hvct_assert_rc(hvc_ring_reserve(&p, 4, &w), 0);
        memcpy(w, &i, 4);
        hvct_assert_rc(hvc_ring_commit(&p, 4, HVC_RING_MORE), 0);
    }
    hvct_assert_rc(hvc_ring_peek(&c, &r), -HVC_EAGAIN);
    hvct_assert_rc(hvc_ring_flush(&p), 0);
    for (int i = 0; i < 3; i++) {
        int v;

        hvct_assert_rc(hvc_ring_peek(&c, &r), 4);
        memcpy(&v, r, 4);
        ck_assert_int_eq(v, i);
        hvct_assert_rc(hvc_ring_release(&c, HVC_RING_MORE), 0);
    }
    ck_assert_uint_ne(c.head, c.published);
    hvct_assert_rc(hvc_ring_flush(&c), 0);
    ck_assert_uint_eq(c.head, hvc_load_relaxed(&c.w->cons));
}
END_TEST

START_TEST(batch)
{
    struct hvc_ring p, c;
    struct hvc_ring_msg m[64];
    uint8_t data[64][40], got[64][40];
    int n, total = 0, pubs;

    hvct_ring_pair(&reg, &p, &c, "batch", 1024, 40, 0);
    for (int i = 0; i < 64; i++) {
        rt_fill(data[i], rt_len((uint64_t)i, 40), (uint64_t)i);
        m[i].data = data[i];
        m[i].len = rt_len((uint64_t)i, 40);
    }
    hvct_assert_rc(hvc_ring_send_batch(&p, m, 0), 0);
    /* 64 messages do not fit in 1 KiB: a partial count, one publication. */
    n = hvc_ring_send_batch(&p, m, 64);
    ck_assert_int_gt(n, 10);
    ck_assert_int_lt(n, 64);
    ck_assert_uint_eq(hvc_load_relaxed(&p.w->prod), p.head);
    hvct_assert_rc(hvc_ring_send_batch(&p, m + n, (unsigned)(64 - n)), -HVC_EAGAIN);
    pubs = 0;
    while (total < 64) {
        struct hvc_ring_msg r[64];
        int k;

        for (int i = 0; i < 64; i++) {
            r[i].data = got[i];
            r[i].cap = 40;
        }
        k = hvc_ring_recv_batch(&c, r, 64);
        if (k == -HVC_EAGAIN) {
            k = hvc_ring_send_batch(&p, m + n, (unsigned)(64 - n));
            ck_assert_int_gt(k, 0);
            n += k;
            continue;
        }
        ck_assert_int_gt(k, 0);
        pubs++;
        for (int i = 0; i < k; i++)
            ck_assert(rt_check(got[i], r[i].len, (uint64_t)(total + i), 40));
        total += k;
    }
    ck_assert_int_eq(n, 64);
    ck_assert_int_lt(pubs, 10);
    /* The first message too big: EMSGSIZE; later: a short count. */
    m[0].len = 41;
    hvct_assert_rc(hvc_ring_send_batch(&p, m, 2), -HVC_EMSGSIZE);
    m[0].len = 1;
    m[1].len = 41;
    hvct_assert_rc(hvc_ring_send_batch(&p, m, 2), 1);
}
END_TEST

/* Messages many times the ring size, through the fragment API, with the
 * two sides interleaved in one thread. */
START_TEST(fragments)
{
    struct hvc_ring p, c;
    struct hvc_ring_stream ts = {0}, rs = {0};
    static uint8_t in[300000], out[300000];
    const uint64_t sizes[] = {0, 1, 100, 120, 121, 1000, 4096, 100000, 300000, 7};
    uint64_t len;

    hvct_ring_pair(&reg, &p, &c, "frag", 512, 120, 0);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        int sent = 0, got = 0, rc;

        for (uint64_t i = 0; i < sizes[k]; i++)
            in[i] = (uint8_t)rt_mix(i + k * 1000003);
        while (!got) {
            if (!sent) {
                rc = hvc_ring_stream_send(&p, &ts, in, sizes[k]);
                ck_assert_msg(rc == 0 || rc == -HVC_EAGAIN, "send %d", rc);
                sent = rc == 0;
            }
            rc = hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len);
            ck_assert_msg(rc == 0 || rc == -HVC_EAGAIN, "recv %d", rc);
            got = rc == 0;
        }
        ck_assert(sent);
        ck_assert_uint_eq(len, sizes[k]);
        ck_assert(memcmp(in, out, sizes[k]) == 0);
    }
    /* Too big for the receiver: skipped whole, the next one is fine. */
    for (int pass = 0; pass < 2; pass++) {
        int rc;

        while ((rc = hvc_ring_stream_send(&p, &ts, in, pass ? 50 : 5000)) == -HVC_EAGAIN) {
            rc = hvc_ring_stream_recv(&c, &rs, out, 1000, &len);
            ck_assert_int_eq(rc, -HVC_EAGAIN);
        }
        hvct_assert_rc(rc, 0);
        do
            rc = hvc_ring_stream_recv(&c, &rs, out, 1000, &len);
        while (rc == -HVC_EAGAIN);
        hvct_assert_rc(rc, pass ? 0 : -HVC_EMSGSIZE);
        /* Every record of the message too big was dropped and counted,
         * none received. */
        ck_assert_uint_eq(c.frag_drops, (5000u + 119u) / 120u);
    }
    /* Plain recv refuses a fragment (leaves it), stream recv takes it. */
    hvct_assert_rc(hvc_ring_stream_send(&p, &ts, in, 200), 0);
    hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), -HVC_EMSGSIZE);
    hvct_assert_rc(hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len), 0);
    ck_assert_uint_eq(len, 200);
    /* A middle fragment without its start cannot be reassembled: dropped
     * and counted (not a protocol error: a restart makes them). */
    hvct_assert_rc(hvc_ring_send(&p, in, 10), 0);
    {
        struct hvc_wire_ring_rec *h = (void *)(c.data + (c.head & c.mask));

        h->tag = HVC_REC_TAG(c.head, 10, HVC_REC_FRAG_MIDDLE);
    }
    hvct_assert_rc(hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len), -HVC_EAGAIN);
    ck_assert_uint_eq(c.frag_drops, (5000u + 119u) / 120u + 1u);
    ck_assert_uint_eq(c.errors, 0);
    /* Flags that are no record kind (first without more, first and last,
     * pad with another flag, an undefined bit) are bad tags. */
    {
        const uint32_t bad[] = {HVC_REC_FIRST, HVC_REC_FIRST | HVC_REC_LAST,
                                HVC_REC_MORE | HVC_REC_LAST, HVC_REC_PAD | HVC_REC_MORE, 0x10};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            struct hvc_wire_ring_rec *h = (void *)(c.data + (c.head & c.mask));
            uint32_t errors = c.errors;

            hvct_assert_rc(hvc_ring_send(&p, in, 10), 0);
            h->tag = HVC_REC_TAG(c.head, 10, bad[i]);
            hvct_assert_rc(hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len), -HVC_EPROTO);
            hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), -HVC_EPROTO);
            ck_assert_uint_eq(c.errors, errors + 2);
            h->tag = HVC_REC_TAG(c.head, 10, 0);
            hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), 10);
        }
    }
}
END_TEST

/*
 * A consumer restarted in the middle of a fragmented message (150 bytes sent
 * as 56 + 56 + 38): the first consumer took the first fragment (or the first
 * two) and went away; the reopened one finds the rest. No reader may take
 * the rest for a message (the 38-byte last fragment looked exactly like one
 * before the last fragment had its own flag); each drops it, counts it, and
 * delivers the whole message that follows.
 */
enum reader { R_RECV, R_BATCH, R_PEEK, R_STREAM, R_WAIT, R_COUNT };
static const char *const reader_name[R_COUNT] = {"recv", "batch", "peek", "stream", "recv_wait"};

static int read_one(struct hvc_ring *c, enum reader how, uint8_t *buf, uint32_t cap)
{
    struct hvc_ring_stream st = {0};
    struct hvc_ring_msg m = {.data = buf, .cap = cap};
    const void *ptr;
    uint64_t len;
    int rc;

    switch (how) {
    case R_RECV:
        return hvc_ring_recv(c, buf, cap);
    case R_BATCH:
        rc = hvc_ring_recv_batch(c, &m, 1);
        return rc == 1 ? (int)m.len : (rc == 0 ? -HVC_EAGAIN : rc);
    case R_PEEK:
        rc = hvc_ring_peek(c, &ptr);
        if (rc >= 0) {
            memcpy(buf, ptr, (size_t)rc);
            hvct_assert_rc(hvc_ring_release(c, 0), 0);
        }
        return rc;
    case R_STREAM:
        rc = hvc_ring_stream_recv(c, &st, buf, cap, &len);
        return rc == 0 ? (int)len : rc;
    default:
        return hvc_ring_recv_wait(c, buf, cap, 2000000000);
    }
}

START_TEST(restart_mid_message)
{
    static uint8_t in[150], out[256];

    for (uint32_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 7 + 1);
    for (int taken = 1; taken <= 2; taken++) {
        for (int how = 0; how < R_COUNT; how++) {
            struct hvc_ring p, c1, c2;
            struct hvc_ring_stream ts = {0}, rs = {0};
            struct hvc_ring_stats stats;
            struct hvc_obj o;
            char name[32];
            uint64_t len;
            int rc;

            snprintf(name, sizeof(name), "restart.%d.%d", taken, how);
            /* 256 bytes: records of 56 take 64, and 8 bytes always stay
             * free (the "not yet" word after the newest record); `3 -
             * taken` whole messages before the stream leave room for
             * exactly `taken` fragments (with the 8-byte message). */
            hvct_ring_pair(&reg, &p, &c1, name, 256, 56, how == R_WAIT ? HVC_RING_BLOCKING : 0);
            for (int k = 0; k < 3 - taken; k++)
                hvct_assert_rc(hvc_ring_send(&p, in, 56), 0);
            hvct_assert_rc(hvc_ring_send(&p, in, 8), 0); /* 16 more: the last never fits */
            hvct_assert_rc(hvc_ring_stream_send(&p, &ts, in, sizeof(in)), -HVC_EAGAIN);
            ck_assert_uint_eq(ts.done, 56u * (uint32_t)taken);
            /* The first consumer: the whole messages, then part of the
             * fragmented one; then it is gone. */
            for (int k = 0; k < 3 - taken; k++)
                hvct_assert_rc(hvc_ring_recv(&c1, out, sizeof(out)), 56);
            hvct_assert_rc(hvc_ring_recv(&c1, out, sizeof(out)), 8);
            hvct_assert_rc(hvc_ring_stream_recv(&c1, &rs, out, sizeof(out), &len), -HVC_EAGAIN);
            ck_assert_uint_eq(rs.done, 56u * (uint32_t)taken);
            /* The producer finishes the message and sends a whole one. */
            hvct_assert_rc(hvc_ring_stream_send(&p, &ts, in, sizeof(in)), 0);
            hvct_assert_rc(hvc_ring_send(&p, in, 20), 0);
            /* The restarted consumer. */
            hvct_assert_rc(hvc_ring_open(&c2, &reg, name, HVC_RING_CONSUMER), 0);
            memset(out, 0, sizeof(out));
            rc = read_one(&c2, (enum reader)how, out, sizeof(out));
            ck_assert_msg(rc == 20, "%s after %d fragments: got %d (%s), want the 20-byte message",
                          reader_name[how], taken, rc, rc < 0 ? hvc_errname(rc) : "a message");
            ck_assert(memcmp(out, in, 20) == 0);
            ck_assert_uint_eq(c2.frag_drops, 3u - (uint32_t)taken);
            ck_assert_uint_eq(c2.errors, 0);
            hvct_assert_rc(hvc_ring_recv(&c2, out, sizeof(out)), -HVC_EAGAIN);
            hvct_assert_rc(hvc_obj_open(&reg, name, HVC_OBJ_RING, &o), 0);
            hvct_assert_rc(hvc_ring_stats(&reg, &o, &stats), 0);
            ck_assert_uint_eq(stats.frag_drops, 3u - (uint32_t)taken);
            ck_assert_uint_eq(stats.proto_errors, 0);
            ck_assert_uint_eq(stats.used, 0); /* the dropped space is freed */
        }
    }
}
END_TEST

/* The stream receiver notices records taken from its handle by a plain
 * reader in the middle of a message (a hole), and a message cut short by
 * a new one; neither is delivered. */
START_TEST(stream_holes)
{
    struct hvc_ring p, c;
    struct hvc_ring_stream ts = {0}, rs = {0};
    static uint8_t in[200], out[256];
    uint64_t len;

    for (uint32_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i ^ 0x5a);
    hvct_ring_pair(&reg, &p, &c, "holes", 256, 56, 0);
    /* 150 bytes: only the first fragment fits behind two whole messages
     * (and the 8 bytes that stay free after the newest record). */
    for (int k = 0; k < 2; k++)
        hvct_assert_rc(hvc_ring_send(&p, in, 56), 0);
    hvct_assert_rc(hvc_ring_stream_send(&p, &ts, in, 150), -HVC_EAGAIN);
    ck_assert_uint_eq(ts.done, 56);
    for (int k = 0; k < 2; k++)
        hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), 56);
    /* The plain reader refuses the first fragment and leaves it. */
    hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), -HVC_EMSGSIZE);
    hvct_assert_rc(hvc_ring_peek(&c, &(const void *){NULL}), -HVC_EMSGSIZE);
    /* The stream takes it... */
    hvct_assert_rc(hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len), -HVC_EAGAIN);
    ck_assert_uint_eq(rs.done, 56);
    /* ... a plain recv drops the middle (stray for it) ... */
    hvct_assert_rc(hvc_ring_stream_send(&p, &ts, in, 150), 0);
    hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), -HVC_EAGAIN);
    ck_assert_uint_eq(c.frag_drops, 2); /* the middle and the last */
    /* ... so the stream, which had the first, drops it and delivers only
     * the next whole message. */
    hvct_assert_rc(hvc_ring_send(&p, in, 30), 0);
    hvct_assert_rc(hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len), 0);
    ck_assert_uint_eq(len, 30);
    ck_assert_uint_eq(c.frag_drops, 3);
    /* Cut short: a first fragment, then (the producer restarted) a whole
     * message: the partial one is dropped, the whole one delivered. */
    hvc_ring_stream_reset(&ts);
    hvc_ring_stream_reset(&rs);
    hvct_ring_pair(&reg, &p, &c, "holes2", 256, 56, 0);
    hvct_assert_rc(hvc_ring_send(&p, in, 56), 0);
    hvct_assert_rc(hvc_ring_send(&p, in, 56), 0);
    hvct_assert_rc(hvc_ring_stream_send(&p, &ts, in, 150), -HVC_EAGAIN); /* first only */
    ck_assert_uint_eq(ts.done, 56);
    for (int k = 0; k < 2; k++)
        hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), 56);
    hvct_assert_rc(hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len), -HVC_EAGAIN);
    hvc_ring_stream_reset(&ts); /* the producer "restarts" */
    hvct_assert_rc(hvc_ring_send(&p, in + 1, 40), 0);
    hvct_assert_rc(hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len), 0);
    ck_assert_uint_eq(len, 40);
    ck_assert(memcmp(out, in + 1, 40) == 0);
    ck_assert_uint_eq(c.frag_drops, 1);
    /* And cut short by a new first fragment: the second message arrives
     * whole. */
    hvct_ring_pair(&reg, &p, &c, "holes3", 256, 56, 0);
    for (int k = 0; k < 2; k++)
        hvct_assert_rc(hvc_ring_send(&p, in, 56), 0);
    hvct_assert_rc(hvc_ring_stream_send(&p, &ts, in, 150), -HVC_EAGAIN);
    ck_assert_uint_eq(ts.done, 56);
    for (int k = 0; k < 2; k++)
        hvct_assert_rc(hvc_ring_recv(&c, out, sizeof(out)), 56);
    hvct_assert_rc(hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len), -HVC_EAGAIN);
    ck_assert_uint_eq(rs.done, 56);
    hvc_ring_stream_reset(&ts); /* restarts again */
    hvct_assert_rc(hvc_ring_stream_send(&p, &ts, in + 2, 100), 0);
    hvct_assert_rc(hvc_ring_stream_recv(&c, &rs, out, sizeof(out), &len), 0);
    ck_assert_uint_eq(len, 100);
    ck_assert(memcmp(out, in + 2, 100) == 0);
    ck_assert_uint_eq(c.frag_drops, 1);
    ck_assert_uint_eq(c.errors, 0);
}
END_TEST

/*
 * The deadline holds while the other side keeps moving its index without
 * ever making the wait succeed (a peer in another process, started and
 * stopped through a shared flag):
 * - wait_writable for a large record while the consumer index creeps
 *   forward 8 bytes at a time, far too slowly to make room before the
 *   timeout but often enough that every spin of the waiter sees it move
 *   (the path that used to skip the deadline check);
 * - recv_wait while the producer publishes nothing but stray middle
 *   fragments, which the receiver drops (counted).
 * Both must end with -HVC_ETIMEDOUT near the timeout (a generous upper
 * bound only catches a waiter held far past it).
 */
#define WAIT_TIMEOUT_NS 20000000ll

struct mover_args {
    int what; /* 0: creep cons, 1: publish stray fragments */
};

static uint32_t *mover_flag(struct hvc_region *r)
{
    struct hvc_obj o;

    if (hvc_obj_open(r, "flag", HVC_OBJ_RAW, &o) < 0)
        return NULL;
    return o.ptr;
}

static int mover(void *arg)
{
    const struct mover_args *a = arg;
    struct hvc_region r;
    struct hvc_ring q;
    uint32_t *flag;
    unsigned long long next = 0;

    if (hvc_region_attach(&r, posix, path, 0) < 0 || hvc_peer_join(&r, "mover") != 1 ||
        (flag = mover_flag(&r)) == NULL ||
        hvc_ring_open(&q, &r, "moving", a->what == 0 ? HVC_RING_CONSUMER : HVC_RING_PRODUCER) < 0)
        return 10;
    hvc_store_release(&flag[1], 1); /* running */
    while (hvc_load_acquire(&flag[0]) == 0) {
        unsigned long long t = hvct_now_ns();

        if (t < next) {
            hvc_cpu_relax();
            continue;
        }
        next = t + 1000; /* a step every microsecond: within every spin */
        if (a->what == 0) {
            uint32_t c = hvc_load_acquire(&q.w->cons), pr = hvc_load_acquire(&q.w->prod);

            if (c != pr)
                hvc_store_release(&q.w->cons, c + 8u); /* a 0-byte record read */
        } else {
            uint32_t off = q.head & q.mask, c = hvc_load_acquire(&q.w->cons);
            struct hvc_wire_ring_rec *h = (void *)(q.data + off);

            /* Placed as an honest producer would: the "not yet" word
             * after each record too (24 bytes of room). */
            if (q.capacity - (q.head - c) < 24u || q.capacity - off < 16u) {
                if (q.head != q.published || q.capacity - (q.head - c) < q.capacity - off + 8u)
                    continue;
                /* Wrap with padding once the consumer has caught up. */
                hvc_store_relaxed(&h->len, q.capacity - off - 8u);
                hvc_store_relaxed(&((struct hvc_wire_ring_rec *)(void *)q.data)->tag, HVC_REC_EMPTY);
                hvc_store_release(&h->tag, HVC_REC_TAG(q.head, q.capacity - off - 8u, HVC_REC_PAD));
                q.head += q.capacity - off;
                continue;
            }
            hvc_store_relaxed(&h->len, 8);
            hvc_store_relaxed(&((struct hvc_wire_ring_rec *)(void *)(q.data + ((q.head + 16u) & q.mask)))->tag,
                              HVC_REC_EMPTY);
            hvc_store_release(&h->tag, HVC_REC_TAG(q.head, 8, HVC_REC_FRAG_MIDDLE));
            q.head += 16u;
            hvc_store_release(&q.w->prod, q.head);
            q.published = q.head;
        }
    }
    hvc_region_detach(&r);
    return 0;
}

START_TEST(wait_deadline_vs_moving_index)
{
    struct hvc_obj_spec fs = {.name = "flag", .type = HVC_OBJ_RAW, .size = 64,
                              .writer = HVC_PEER_ANY};
    struct hvc_obj fo;

    hvct_assert_rc(hvc_obj_create(&reg, &fs, &fo), 0);
    for (int what = 0; what < 2; what++) {
        struct mover_args a = {.what = what};
        struct hvc_ring_attr at = {.capacity = 2u << 20, .max_msg = (1u << 20) - 8u,
                                   .writer = what == 0 ? -1 : 1, .flags = HVC_RING_BLOCKING};
        struct hvc_ring q;
        uint32_t *flag = fo.ptr;
        static uint8_t buf[1u << 20];
        unsigned long long t0, spent;
        pid_t pid;
        int rc;

        if (what == 1) /* now the mover (peer 1) is the writer */
            hvct_assert_rc(hvc_obj_delete(&reg, "moving"), 0);
        hvct_assert_rc(hvc_ring_create(&q, &reg, "moving", &at), 0);
        if (what == 0) {
            /* Full of 0-byte records: room for the large record comes
             * back 8 bytes per step, 131072 steps (>= 0.13 s) away. */
            while (hvc_ring_send(&q, NULL, 0) == 0)
                ;
        }
        hvc_store_release(&flag[0], 0);
        hvc_store_release(&flag[1], 0);
        pid = hvct_fork(mover, &a);
        while (hvc_load_acquire(&flag[1]) == 0) /* the mover runs */
            sched_yield();
        t0 = hvct_now_ns();
        if (what == 0)
            rc = hvc_ring_wait_writable(&q, at.max_msg, WAIT_TIMEOUT_NS);
        else
            rc = hvc_ring_recv_wait(&q, buf, sizeof(buf), WAIT_TIMEOUT_NS);
        spent = hvct_now_ns() - t0;
        hvc_store_release(&flag[0], 1);
        ck_assert_int_eq(hvct_wait(pid), 0);
        ck_assert_msg(rc == -HVC_ETIMEDOUT, "%s: %d (%s) after %llu ns",
                      what == 0 ? "wait_writable" : "recv_wait", rc, hvc_errname(rc), spent);
        ck_assert_uint_ge(spent, (unsigned long long)WAIT_TIMEOUT_NS);
        ck_assert_msg(spent < 5000000000ull, "held %llu ns past a %lld ns timeout", spent,
                      WAIT_TIMEOUT_NS);
        if (what == 1)
            ck_assert_uint_gt(q.frag_drops, 0);
    }
}
END_TEST

/* Every inline call with a NULL handle: -HVC_EINVAL, no crash. */
/* A reopened handle (a restarted producer or consumer) carries the shared
 * counters on instead of starting them again at 0. */
START_TEST(stats_survive_reopen)
{
    struct hvc_ring p, c, p2, c2;
    struct hvc_ring_stats st;
    struct hvc_obj o;
    uint8_t buf[32] = {0};

    hvct_ring_pair(&reg, &p, &c, "reopen", 1024, 32, 0);
    for (int i = 0; i < 5; i++)
        hvct_assert_rc(hvc_ring_send(&p, buf, 10), 0);
    for (int i = 0; i < 3; i++)
        hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), 10);
    hvct_assert_rc(hvc_ring_flush(&c), 0); /* what a handle did not publish is redone */
    hvct_assert_rc(hvc_ring_open(&p2, &reg, "reopen", HVC_RING_PRODUCER), 0);
    hvct_assert_rc(hvc_ring_open(&c2, &reg, "reopen", HVC_RING_CONSUMER), 0);
    hvct_assert_rc(hvc_ring_send(&p2, buf, 10), 0);
    hvct_assert_rc(hvc_ring_recv(&c2, buf, sizeof(buf)), 10);
    hvct_assert_rc(hvc_ring_flush(&c2), 0);
    hvct_assert_rc(hvc_obj_open(&reg, "reopen", HVC_OBJ_RING, &o), 0);
    hvct_assert_rc(hvc_ring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.msgs_sent, 6);
    ck_assert_uint_eq(st.bytes_sent, 60);
    ck_assert_uint_eq(st.msgs_recv, 4);
    ck_assert_uint_eq(st.bytes_recv, 40);
}
END_TEST

START_TEST(null_handles)
{
    uint8_t buf[8] = {0};

    hvct_assert_rc(hvc_ring_send(NULL, buf, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_send(NULL, NULL, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_recv(NULL, buf, sizeof(buf)), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_recv(NULL, NULL, 0), -HVC_EINVAL);
}
END_TEST

START_TEST(blocking_timeouts)
{
    struct hvc_ring p, c;
    uint8_t buf[65] = {0}; /* 65: the -HVC_EMSGSIZE call below passes 65 bytes */
    unsigned long long t0;

    hvct_ring_pair(&reg, &p, &c, "blk", 256, 64, HVC_RING_BLOCKING);
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_ring_recv_wait(&c, buf, sizeof(buf), 20000000), -HVC_ETIMEDOUT);
    ck_assert_uint_ge(hvct_now_ns() - t0, 15000000ull);
    hvct_assert_rc(hvc_ring_recv_wait(&c, buf, sizeof(buf), 0), -HVC_ETIMEDOUT);
    hvct_assert_rc(hvc_ring_recv_wait(&c, buf, sizeof(buf), -5), -HVC_EINVAL);
    while (hvc_ring_send(&p, buf, 64) == 0)
        ;
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_ring_send_wait(&p, buf, 64, 20000000), -HVC_ETIMEDOUT);
    ck_assert_uint_ge(hvct_now_ns() - t0, 15000000ull);
    hvct_assert_rc(hvc_ring_send_wait(&p, buf, 65, 0), -HVC_EMSGSIZE);
    /* Three 72-byte records fill 256 bytes: the next needs 40 bytes of
     * padding, 72 and the 8-byte "not yet" word: two must go first. */
    hvct_assert_rc(hvc_ring_recv_wait(&c, buf, sizeof(buf), HVC_FOREVER), 64);
    hvct_assert_rc(hvc_ring_recv_wait(&c, buf, sizeof(buf), HVC_FOREVER), 64);
    hvct_assert_rc(hvc_ring_send_wait(&p, buf, 64, HVC_FOREVER), 0);
    hvct_assert_rc(hvc_ring_wait_readable(&c, 0), 0);
    hvct_assert_rc(hvc_ring_wait_writable(&p, 64, 0), -HVC_ETIMEDOUT);
}
END_TEST

/* The inline receive returns -HVC_EAGAIN by itself once an empty result
 * was counted and published (HVC__RING_QUIET); empty_stalls stays one per
 * stall episode, and nothing the consumer skipped stays unpublished. */
START_TEST(empty_episodes)
{
    struct hvc_ring p, c;
    struct hvc_ring_stats st;
    struct hvc_obj o;
    struct hvc_ring_msg m[2];
    uint8_t buf[56] = {0}, b2[56];
    const void *ptr;
    void *w;

    hvct_ring_pair(&reg, &p, &c, "quiet", 256, 56, 0);
    hvct_assert_rc(hvc_obj_open(&reg, "quiet", HVC_OBJ_RING, &o), 0);
    for (int i = 0; i < 100; i++)
        hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), -HVC_EAGAIN);
    ck_assert_uint_eq(c.stalled, HVC__RING_QUIET);
    hvct_assert_rc(hvc_ring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.empty_stalls, 1);

    /* A message ends the episode; the next empty polls count one more,
     * and the index is published (used 0). */
    hvct_assert_rc(hvc_ring_send(&p, buf, 40), 0);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), 40);
    ck_assert_uint_eq(c.stalled, 0);
    for (int i = 0; i < 50; i++)
        hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), -HVC_EAGAIN);
    ck_assert_uint_eq(c.stalled, HVC__RING_QUIET);
    hvct_assert_rc(hvc_ring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.empty_stalls, 2);
    ck_assert_uint_eq(st.used, 0);
    ck_assert_uint_eq(st.cons, c.head);

    /* Padding released, its record reserved (not yet there): a peek skips
     * the padding without publishing and finds the ring empty (the same
     * episode: not counted again); the receive after it goes out of line
     * once more and publishes the skipped padding. */
    while ((p.head & p.mask) + HVC_RING_RECORD_SIZE(40) + 8u <= p.capacity) {
        hvct_assert_rc(hvc_ring_send(&p, buf, 40), 0);
        hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), 40);
    }
    for (int i = 0; i < 3; i++)
        hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), -HVC_EAGAIN);
    ck_assert_uint_eq(c.stalled, HVC__RING_QUIET);
    hvct_assert_rc(hvc_ring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.empty_stalls, 3);
    hvct_assert_rc(hvc_ring_reserve(&p, 40, &w), 0);
    ck_assert_ptr_eq(w, p.data + 8); /* after a padding record, at offset 0 */
    hvct_assert_rc(hvc_ring_peek(&c, &ptr), -HVC_EAGAIN);
    ck_assert_uint_eq(c.head & c.mask, 0);
    ck_assert_uint_ne(c.head, c.published);
    ck_assert_uint_eq(c.stalled, 1);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), -HVC_EAGAIN);
    ck_assert_uint_eq(c.head, c.published);
    ck_assert_uint_eq(c.stalled, HVC__RING_QUIET);
    hvct_assert_rc(hvc_ring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.empty_stalls, 3);
    ck_assert_uint_eq(st.cons, c.head);
    memset(w, 0x77, 40);
    hvct_assert_rc(hvc_ring_commit(&p, 40, 0), 0);
    hvct_assert_rc(hvc_ring_recv(&c, b2, sizeof(b2)), 40);
    ck_assert_uint_eq(b2[39], 0x77);

    /* A batch that takes messages ends the episode too. */
    for (int i = 0; i < 3; i++)
        hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), -HVC_EAGAIN);
    hvct_assert_rc(hvc_ring_send(&p, buf, 8), 0);
    hvct_assert_rc(hvc_ring_send(&p, buf, 8), 0);
    m[0] = (struct hvc_ring_msg){.data = buf, .cap = sizeof(buf)};
    m[1] = (struct hvc_ring_msg){.data = b2, .cap = sizeof(b2)};
    hvct_assert_rc(hvc_ring_recv_batch(&c, m, 2), 2);
    ck_assert_uint_eq(c.stalled, 0);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), -HVC_EAGAIN);
    hvct_assert_rc(hvc_ring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.empty_stalls, 5);
    ck_assert_uint_eq(st.msgs_recv, st.msgs_sent);

    /* A blocking ring's empty receive goes out of line every time (it
     * reads prod for a sleeper): never quiet, still counted once. */
    {
        struct hvc_ring bp, bc;
        struct hvc_obj bo;

        hvct_ring_pair(&reg, &bp, &bc, "quietb", 256, 56, HVC_RING_BLOCKING);
        for (int i = 0; i < 10; i++)
            hvct_assert_rc(hvc_ring_recv(&bc, buf, sizeof(buf)), -HVC_EAGAIN);
        ck_assert_uint_eq(bc.stalled, 1);
        hvct_assert_rc(hvc_obj_open(&reg, "quietb", HVC_OBJ_RING, &bo), 0);
        hvct_assert_rc(hvc_ring_stats(&reg, &bo, &st), 0);
        ck_assert_uint_eq(st.empty_stalls, 1);
    }
}
END_TEST

static Suite *ring_suite(void)
{
    return hvct_suite("ring", setup, teardown, 60,
                      HVCT_TESTS(create_and_errors, only_writer_produces, wrap_every_offset,
                                 zero_copy, batch, fragments, restart_mid_message,
                                 stream_holes, null_handles, stats_survive_reopen,
                                 wait_deadline_vs_moving_index, blocking_timeouts,
                                 empty_episodes), NULL);
}

int main(void)
{
    return hvct_run(ring_suite());
}
