/*
 * The consumer finds records by their tags alone (layout 3, doc/ring.md,
 * "One cache line per small message"): what makes that sound, each shown
 * with a test that fails without it.
 *
 * - the "not yet" word: the producer stores HVC_REC_EMPTY into the tag
 *   word after every record before it releases the record, so an earlier
 *   lap's payload that holds exactly the header the consumer expects at
 *   its head is never taken for a record;
 * - a producer (re)starting at prod resumes after the records the
 *   consumer may already have taken by their tags (died before it stored
 *   prod, died holding a batch, died in the middle of a record), and a
 *   consumer past where that walk ends is refused;
 * - a consumer with prod lagging behind its head (reads, attach, stats,
 *   blocking waits);
 * - wrap-around at every offset with mixed sizes over every send path,
 *   checking the "not yet" word after every publication;
 * - two processes, 10^6 messages, every one checked.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "ringtest.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define SIZE (4u << 20)

static const struct hvc_platform *posix;
static struct hvc_region reg;
static const char *path;

static void setup(void)
{
    posix = hvc_platform_posix();
    path = hvct_fixture_setup(&reg, "ringline", SIZE);
}

static void teardown(void)
{
    hvct_fixture_teardown(&reg);
}

static struct hvc_wire_ring_rec *rec_at(const struct hvc_ring *q, uint32_t pos)
{
    return (struct hvc_wire_ring_rec *)(void *)(q->data + (pos & q->mask));
}

/* Every reader path finds the ring empty (and not a protocol error). */
static void assert_empty_everywhere(struct hvc_ring *c)
{
    struct hvc_ring_stream st = {0};
    struct hvc_ring_msg m;
    uint8_t buf[256];
    const void *ptr;
    uint64_t len;

    m = (struct hvc_ring_msg){.data = buf, .cap = sizeof(buf)};
    hvct_assert_rc(hvc_ring_recv(c, buf, sizeof(buf)), -HVC_EAGAIN);
    hvct_assert_rc(hvc_ring_recv_batch(c, &m, 1), -HVC_EAGAIN);
    hvct_assert_rc(hvc_ring_peek(c, &ptr), -HVC_EAGAIN);
    hvct_assert_rc(hvc_ring_stream_recv(c, &st, buf, sizeof(buf), &len), -HVC_EAGAIN);
    ck_assert_uint_eq(c->errors, 0);
}

/*
 * An earlier lap's payload holds, at the very position where the consumer's
 * head will be one lap later, exactly the header the consumer expects there
 * ({len 8, HVC_REC_TAG(head, 8, 0)}). The producer's records of the new lap
 * end at that position: the "not yet" word it stored there before releasing
 * the last of them is all the consumer finds, on every reader path. Putting
 * the stale tag word back shows that the consumer would have taken it.
 */
START_TEST(stale_payload_not_taken)
{
    struct hvc_ring p, c;
    uint8_t msg[96], buf[256];
    const uint32_t head2 = 256u + 16u; /* the consumer's head in lap 2 */
    uint32_t want = HVC_REC_TAG(head2, 8, 0), len8 = 8;
    struct hvc_wire_ring_rec *h;

    hvct_ring_pair(&reg, &p, &c, "stale", 256, 100, 0);
    /* Lap 1, position 0: a 96-byte message whose payload bytes 8..15 sit at
     * ring offsets 16..23, the header of position head2 one lap later. */
    memset(msg, 0x5c, sizeof(msg));
    memcpy(msg + 8, &len8, 4);
    memcpy(msg + 12, &want, 4);
    hvct_assert_rc(hvc_ring_send(&p, msg, 96), 0);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), 96);
    /* The rest of lap 1 exactly to the end: 104 + 104 + 48 = 256. */
    hvct_assert_rc(hvc_ring_send(&p, msg, 96), 0);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), 96);
    hvct_assert_rc(hvc_ring_send(&p, msg, 40), 0);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), 40);
    ck_assert_uint_eq(c.head, 256u);
    /* Lap 2: one 8-byte record at offset 0 ends at head2. */
    hvct_assert_rc(hvc_ring_send(&p, "12345678", 8), 0);
    ck_assert_uint_eq(p.head, head2);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), 8);
    ck_assert_uint_eq(c.head, head2);
    h = rec_at(&c, head2);
    /* The stale length is still there; the tag word says "not yet". */
    ck_assert_uint_eq(hvc_load_relaxed(&h->len), 8);
    ck_assert_uint_eq(hvc_load_relaxed(&h->tag), HVC_REC_EMPTY);
    assert_empty_everywhere(&c);
    /* Without the "not yet" word, the stale bytes pass every check. */
    hvc_store_release(&h->tag, want);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), 8);
    ck_assert_mem_eq(buf, msg + 16, 8);
}
END_TEST

/* Read n messages seq0.. (rt_fill, max 100) and then find the ring empty. */
static void read_seq(struct hvc_ring *c, uint64_t seq0, unsigned n)
{
    uint8_t buf[128];

    for (unsigned i = 0; i < n; i++) {
        int rc = hvc_ring_recv(c, buf, sizeof(buf));

        ck_assert_msg(rc >= 0, "message %llu: %d (%s)", (unsigned long long)(seq0 + i), rc,
                      hvc_errname(rc));
        ck_assert_msg(rt_check(buf, (uint32_t)rc, seq0 + i, 100), "message %llu wrong",
                      (unsigned long long)(seq0 + i));
    }
    hvct_assert_rc(hvc_ring_recv(c, buf, sizeof(buf)), -HVC_EAGAIN);
}

static void send_seq(struct hvc_ring *p, uint64_t seq0, unsigned n)
{
    uint8_t buf[128];

    for (unsigned i = 0; i < n; i++) {
        rt_fill(buf, rt_len(seq0 + i, 100), seq0 + i);
        hvct_assert_rc(hvc_ring_send(p, buf, rt_len(seq0 + i, 100)), 0);
    }
}

/* Messages seq0 .. seq0 + n - 1, sent and read two at a time. */
static void pump(struct hvc_ring *p, struct hvc_ring *c, uint64_t seq0, unsigned n)
{
    for (unsigned i = 0; i < n; i += 2) {
        unsigned k = n - i < 2 ? n - i : 2;

        send_seq(p, seq0 + i, k);
        read_seq(c, seq0 + i, k);
    }
}

/*
 * A producer that restarts at prod. The consumer takes records by their
 * tags, so a producer that died after releasing records but before storing
 * the prod that covers them (simulated: prod put back) has records after
 * prod that the consumer took or will take; the new producer must resume
 * after them, or it would overwrite them (the consumer would lose its
 * place and messages).
 */
START_TEST(producer_restart_at_prod)
{
    for (int consumed = 0; consumed < 2; consumed++) {
        struct hvc_ring p, p2, c;
        char name[16];
        uint32_t old_prod, end;

        snprintf(name, sizeof(name), "restart%d", consumed);
        hvct_ring_pair(&reg, &p, &c, name, 1024, 100, 0);
        send_seq(&p, 0, 3);
        read_seq(&c, 0, 3);
        old_prod = p.head;
        send_seq(&p, 3, 4);
        end = p.head;
        /* "Died" before its last four stores of prod reached memory. */
        hvc_store_release(&p.w->prod, old_prod);
        if (consumed)
            read_seq(&c, 3, 4); /* by their tags: cons is now ahead of prod */
        if (consumed)
            ck_assert_uint_eq(hvc_load_relaxed(&c.w->cons), end);
        hvct_assert_rc(hvc_ring_open(&p2, &reg, name, HVC_RING_PRODUCER), 0);
        ck_assert_uint_eq(p2.head, end);
        ck_assert_uint_eq(hvc_load_relaxed(&p2.w->prod), end);
        ck_assert_uint_eq(hvc_load_relaxed(&rec_at(&p2, end)->tag), HVC_REC_EMPTY);
        if (!consumed) {
            send_seq(&p2, 7, 2);
            read_seq(&c, 3, 4 + 2);
            pump(&p2, &c, 9, 20); /* several laps of the 1 KiB ring */
        } else {
            pump(&p2, &c, 7, 22);
        }
        ck_assert_uint_eq(c.errors, 0);
        ck_assert_uint_eq(p2.errors, 0);
    }
}
END_TEST

/* A producer that died holding a batch (HVC_RING_MORE commits, never
 * flushed) or in the middle of writing a record: none of it was visible,
 * the new producer resumes at the first of them and the consumer sees
 * exactly what the new producer sends. */
START_TEST(producer_restart_held_or_torn)
{
    struct hvc_ring p, p2, p3, c;
    uint8_t buf[128];
    void *w;

    hvct_ring_pair(&reg, &p, &c, "held", 1024, 100, 0);
    send_seq(&p, 0, 2);
    for (int i = 0; i < 3; i++) {
        hvct_assert_rc(hvc_ring_reserve(&p, 50, &w), 0);
        memset(w, 0xab, 50);
        hvct_assert_rc(hvc_ring_commit(&p, 50, HVC_RING_MORE), 0);
    }
    read_seq(&c, 0, 2); /* the held records are not visible */
    hvct_assert_rc(hvc_ring_open(&p2, &reg, "held", HVC_RING_PRODUCER), 0);
    ck_assert_uint_eq(p2.head, p.held_pos);
    pump(&p2, &c, 2, 30);
    /* Died in the middle of a record: payload and length written, the
     * tag not yet (the next word already "not yet"). */
    {
        uint32_t pos = p2.head;
        struct hvc_wire_ring_rec *h = rec_at(&p2, pos);

        ck_assert_uint_ge(p2.capacity - (pos & p2.mask), 16u);
        memset(h + 1, 0xcd, 8);
        hvc_store_relaxed(&h->len, 8);
        hvc_store_relaxed(&rec_at(&p2, pos + 16u)->tag, HVC_REC_EMPTY);
        hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), -HVC_EAGAIN);
        hvct_assert_rc(hvc_ring_open(&p3, &reg, "held", HVC_RING_PRODUCER), 0);
        ck_assert_uint_eq(p3.head, pos);
    }
    pump(&p3, &c, 32, 30);
    ck_assert_uint_eq(c.errors, 0);
}
END_TEST

/* The walk is bounded by cons, and a cons past where it ends (no honest
 * consumer gets there: it stops at the same "not yet" word) is refused. */
START_TEST(producer_restart_hostile_cons)
{
    struct hvc_ring p, p2, c;
    uint32_t saved;

    hvct_ring_pair(&reg, &p, &c, "hostcons", 1024, 100, 0);
    send_seq(&p, 0, 5);
    read_seq(&c, 0, 5);
    saved = hvc_load_relaxed(&p.w->cons);
    ck_assert_uint_eq(saved, p.head);
    hvc_store_release(&p.w->cons, p.head + 8u); /* past the last record */
    hvct_assert_rc(hvc_ring_open(&p2, &reg, "hostcons", HVC_RING_PRODUCER), -HVC_EPROTO);
    hvc_store_release(&p.w->cons, p.head + 2048u); /* more than a capacity ahead */
    hvct_assert_rc(hvc_ring_open(&p2, &reg, "hostcons", HVC_RING_PRODUCER), -HVC_EPROTO);
    /* A producer that keeps its records consistent but whose prod is
     * misaligned: refused as before. */
    hvc_store_release(&p.w->cons, saved);
    hvc_store_release(&p.w->prod, p.head + 4u);
    hvct_assert_rc(hvc_ring_open(&p2, &reg, "hostcons", HVC_RING_PRODUCER), -HVC_EPROTO);
    hvc_store_release(&p.w->prod, p.head);
    hvct_assert_rc(hvc_ring_open(&p2, &reg, "hostcons", HVC_RING_PRODUCER), 0);
    ck_assert_uint_eq(p2.head, p.head);
}
END_TEST

/*
 * prod lagging the consumer's head: the consumer reads by the tags, can
 * be (re)opened with cons ahead of prod, hvc_ring_stats() reports nothing
 * used rather than nonsense, and a blocking consumer's waits time out
 * when nothing comes and return what comes (no protocol error).
 */
START_TEST(consumer_with_prod_lagging)
{
    for (int blocking = 0; blocking < 2; blocking++) {
        struct hvc_ring p, c, c2;
        struct hvc_ring_stats st;
        struct hvc_obj o;
        uint8_t buf[128];
        char name[16];
        uint32_t start;

        snprintf(name, sizeof(name), "lag%d", blocking);
        hvct_ring_pair(&reg, &p, &c, name, 1024, 100, blocking ? HVC_RING_BLOCKING : 0);
        start = p.head;
        send_seq(&p, 0, 6);
        /* Every store of prod lost: the records are there by their tags. */
        hvc_store_release(&p.w->prod, start);
        if (blocking) {
            for (uint64_t i = 0; i < 6; i++) {
                int rc = hvc_ring_recv_wait(&c, buf, sizeof(buf), 1000000000);

                ck_assert_int_ge(rc, 0);
                ck_assert(rt_check(buf, (uint32_t)rc, i, 100));
            }
            hvct_assert_rc(hvc_ring_recv_wait(&c, buf, sizeof(buf), 2000000), -HVC_ETIMEDOUT);
            hvct_assert_rc(hvc_ring_wait_readable(&c, 0), -HVC_ETIMEDOUT);
        } else {
            read_seq(&c, 0, 6);
        }
        ck_assert_uint_eq(hvc_load_relaxed(&c.w->cons), p.head);
        ck_assert_uint_eq(hvc_load_relaxed(&c.w->prod), start);
        hvct_assert_rc(hvc_obj_open(&reg, name, HVC_OBJ_RING, &o), 0);
        hvct_assert_rc(hvc_ring_stats(&reg, &o, &st), 0);
        ck_assert_uint_eq(st.used, 0);
        ck_assert_uint_eq(st.cons - st.prod, p.head - start);
        /* A consumer opened now starts at cons, ahead of prod. */
        hvct_assert_rc(hvc_ring_open(&c2, &reg, name, HVC_RING_CONSUMER), 0);
        ck_assert_uint_eq(c2.head, p.head);
        send_seq(&p, 6, 3);
        if (blocking) {
            for (uint64_t i = 6; i < 9; i++) {
                int rc = hvc_ring_recv_wait(&c2, buf, sizeof(buf), 1000000000);

                ck_assert_int_ge(rc, 0);
                ck_assert(rt_check(buf, (uint32_t)rc, i, 100));
            }
        }
        read_seq(&c2, 6, blocking ? 0 : 3);
        ck_assert_uint_eq(c.errors + c2.errors, 0);
    }
}
END_TEST

/*
 * Wrap-around at every offset of a 256-byte ring with mixed sizes (0 ..
 * max, often 0 and max), through every send path (copy, batch, zero-copy
 * with and without HVC_RING_MORE, stream) and every reader, several laps
 * from each offset: every message checked, and after every publication
 * the tag word after the newest record is "not yet".
 */
START_TEST(wrap_every_offset_mixed)
{
    const uint32_t cap = 256, max = 100;

    for (uint32_t start = 0; start < cap; start += 8) {
        struct hvc_ring p, c;
        char name[24];
        uint64_t sent = 0, got = 0, seq0;
        uint8_t buf[128];

        snprintf(name, sizeof(name), "wrap%u", start);
        hvct_ring_pair(&reg, &p, &c, name, cap, max, 0);
        /* Move both to `start` with records of at most 104 bytes. */
        for (uint32_t d = start; d > 0;) {
            uint32_t step = d > 104u ? 104u : d;

            hvct_assert_rc(hvc_ring_send(&p, buf, step - 8u), 0);
            hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), (int)(step - 8u));
            d -= step;
        }
        ck_assert_uint_eq(p.head & p.mask, start);
        seq0 = start * 1000003ull;
        while (got < 60) {
            uint64_t r = rt_mix(seq0 + sent * 7 + got);
            unsigned burst = 1 + (unsigned)(r % 4);

            for (unsigned k = 0; k < burst && sent < 60; k++) {
                uint64_t seq = seq0 + sent;
                uint32_t len = rt_len(seq, max);
                unsigned how = (unsigned)((r >> (8 + 3 * k)) % 5);
                int rc;

                rt_fill(buf, len, seq);
                if (how == 0) {
                    rc = hvc_ring_send(&p, buf, len);
                } else if (how == 1) {
                    struct hvc_ring_msg m = {.data = buf, .len = len};

                    rc = hvc_ring_send_batch(&p, &m, 1);
                    rc = rc == 1 ? 0 : rc;
                } else if (how == 2 || how == 3) {
                    void *w;

                    rc = hvc_ring_reserve(&p, len, &w);
                    if (rc == 0) {
                        memcpy(w, buf, len);
                        hvct_assert_rc(hvc_ring_commit(&p, len, how == 3 ? HVC_RING_MORE : 0), 0);
                        if (how == 3) {
                            /* Held: not visible until the flush. */
                            ck_assert_uint_eq(p.held, 1);
                            hvct_assert_rc(hvc_ring_flush(&p), 0);
                        }
                    }
                } else {
                    struct hvc_ring_stream st = {0};

                    rc = hvc_ring_stream_send(&p, &st, buf, len);
                }
                if (rc == -HVC_EAGAIN)
                    break;
                hvct_assert_rc(rc, 0);
                sent++;
                ck_assert_uint_eq(p.held, 0);
                ck_assert_uint_eq(hvc_load_relaxed(&rec_at(&p, p.head)->tag), HVC_REC_EMPTY);
                ck_assert_uint_eq(hvc_load_relaxed(&p.w->prod), p.head);
            }
            burst = 1 + (unsigned)((r >> 40) % 4);
            for (unsigned k = 0; k < burst && got < sent; k++) {
                unsigned how = (unsigned)((r >> (44 + 2 * k)) % 4);
                int rc;

                if (how == 0) {
                    rc = hvc_ring_recv(&c, buf, sizeof(buf));
                } else if (how == 1) {
                    struct hvc_ring_msg m = {.data = buf, .cap = sizeof(buf)};

                    rc = hvc_ring_recv_batch(&c, &m, 1);
                    rc = rc == 1 ? (int)m.len : rc;
                } else if (how == 2) {
                    const void *ptr;

                    rc = hvc_ring_peek(&c, &ptr);
                    if (rc >= 0) {
                        memcpy(buf, ptr, (size_t)rc);
                        hvct_assert_rc(hvc_ring_release(&c, 0), 0);
                    }
                } else {
                    struct hvc_ring_stream st = {0};
                    uint64_t len;

                    rc = hvc_ring_stream_recv(&c, &st, buf, sizeof(buf), &len);
                    rc = rc == 0 ? (int)len : rc;
                }
                ck_assert_msg(rc >= 0, "start %u message %llu: %d (%s)", start,
                              (unsigned long long)got, rc, hvc_errname(rc));
                ck_assert_msg(rt_check(buf, (uint32_t)rc, seq0 + got, max),
                              "start %u message %llu wrong", start, (unsigned long long)got);
                got++;
            }
            if (got == sent)
                assert_empty_everywhere(&c);
        }
        /* Several laps went round from this offset. */
        ck_assert_uint_gt(p.head - start, 2u * cap);
        ck_assert_uint_eq(c.errors + p.errors, 0);
        ck_assert_uint_eq(c.frag_drops, 0);
        hvct_assert_rc(hvc_obj_delete(&reg, name), 0);
    }
}
END_TEST

/* ---- two processes, 10^6 messages ---- */

#define XMSGS 1000000ull
#define XMAX 64u

static int far_producer(void *arg)
{
    const char *rpath = arg;
    struct hvc_region r;
    struct hvc_ring p;
    uint8_t buf[XMAX];

    if (hvc_region_attach(&r, posix, rpath, 0) < 0 || hvc_peer_join(&r, "producer") != 1 ||
        hvc_ring_open(&p, &r, "far", HVC_RING_PRODUCER) < 0)
        return 10;
    for (uint64_t seq = 0; seq < XMSGS;) {
        struct hvc_ring_msg m[4];
        uint8_t bb[4][XMAX];
        int rc;

        if (seq % 5 == 4) {
            /* A batch of up to 4, one publication. */
            unsigned n = (unsigned)(XMSGS - seq < 4 ? XMSGS - seq : 4);

            for (unsigned i = 0; i < n; i++) {
                m[i].len = rt_len(seq + i, XMAX);
                m[i].data = bb[i];
                rt_fill(bb[i], m[i].len, seq + i);
            }
            rc = hvc_ring_send_batch(&p, m, n);
            if (rc > 0) {
                seq += (uint64_t)rc;
                continue;
            }
        } else {
            rt_fill(buf, rt_len(seq, XMAX), seq);
            rc = hvc_ring_send(&p, buf, rt_len(seq, XMAX));
            if (rc == 0) {
                seq++;
                continue;
            }
        }
        if (rc != -HVC_EAGAIN)
            return 11;
        sched_yield();
    }
    hvc_region_detach(&r);
    return 0;
}

START_TEST(two_processes_million)
{
    struct hvc_ring c;
    struct hvc_ring_attr a = {.capacity = 512, .max_msg = XMAX, .writer = 1};
    uint8_t buf[XMAX];
    uint64_t seq = 0, idle = 0;
    pid_t pid;

    hvct_assert_rc(hvc_ring_create(&c, &reg, "far", &a), 0);
    pid = hvct_fork(far_producer, (void *)path);
    while (seq < XMSGS) {
        int rc = seq % 3 == 2 ? hvc_ring_recv(&c, buf, sizeof(buf)) : -1;

        if (seq % 3 != 2) {
            const void *ptr;

            rc = hvc_ring_peek(&c, &ptr);
            if (rc >= 0) {
                memcpy(buf, ptr, (size_t)rc);
                hvct_assert_rc(hvc_ring_release(&c, 0), 0);
            }
        }
        if (rc == -HVC_EAGAIN) {
            if (++idle % 100000 == 0) {
                int status;

                ck_assert_msg(waitpid(pid, &status, WNOHANG) != pid,
                              "producer exited (status %#x) at message %llu", status,
                              (unsigned long long)seq);
            }
            sched_yield();
            continue;
        }
        ck_assert_msg(rc >= 0, "message %llu: %d (%s)", (unsigned long long)seq, rc,
                      hvc_errname(rc));
        ck_assert_msg(rt_check(buf, (uint32_t)rc, seq, XMAX), "message %llu wrong",
                      (unsigned long long)seq);
        seq++;
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    hvct_assert_rc(hvc_ring_recv(&c, buf, sizeof(buf)), -HVC_EAGAIN);
    ck_assert_uint_eq(c.errors, 0);
    fprintf(stderr, "two processes: %llu messages checked through a 512-byte ring\n",
            (unsigned long long)seq);
}
END_TEST

static Suite *line_suite(void)
{
    Suite *s = suite_create("ring_line");
    TCase *tc = tcase_create("line");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, stale_payload_not_taken);
    tcase_add_test(tc, producer_restart_at_prod);
    tcase_add_test(tc, producer_restart_held_or_torn);
    tcase_add_test(tc, producer_restart_hostile_cons);
    tcase_add_test(tc, consumer_with_prod_lagging);
    tcase_add_test(tc, wrap_every_offset_mixed);
    tcase_add_test(tc, two_processes_million);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hvct_run(line_suite());
}
