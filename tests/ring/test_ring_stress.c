/* Two processes on one ring: every message checked (length, sequence
 * number, checksum), over every path: copy, zero-copy, batch, blocking,
 * fragments. */
#define _GNU_SOURCE
#include "testutil.h"
#include "ringtest.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hvcomm/config.h>

#define SIZE (8u << 20)
#define MAXMSG 251u /* not a multiple of 8: records get padding */
#define BATCH 16

static const struct hvc_platform *posix;
/* The rings of each run: tests/config/systems/ring_stress.yaml (doc/config.md). */
static struct hvc_config *stress_system;

struct args {
    const char *path;
    const char *name;
    uint64_t count;
    int mode; /* 0 busy-poll, mixed paths; 1 blocking; 2 fragments */
};

/*
 * The busy-poll stream has a time budget: on a machine whose cores are
 * busy (other jobs, CPU hogs) two polling processes share them and the
 * 10 million messages can take many minutes. The producer then stops
 * early, publishes how many it sent in the "end" object (two 32-bit halves,
 * then the flag with release order), and the consumer, when it finds the
 * ring empty, takes that as its count. At least MIN_MESSAGES must get
 * through; the count is printed.
 */
#define BUDGET_NS budget_ns()

static unsigned long long budget_ns(void)
{
    const char *e = getenv("HVCT_RING_BUDGET_S"); /* seconds; default 90 */

    return (e != NULL ? strtoull(e, NULL, 0) : 90ull) * 1000000000ull;
}
#define MIN_MESSAGES 100000ull

struct end_word {
    uint32_t lo, hi, done;
};

static struct end_word *end_word(struct hvc_region *r)
{
    struct hvc_obj o;

    return hvc_obj_open(r, "end", HVC_OBJ_RAW, &o) == 0 ? o.ptr : NULL;
}

static uint64_t message_count(void)
{
    const char *e = getenv("HVCT_RING_MESSAGES");

    if (e != NULL)
        return strtoull(e, NULL, 0);
    /* ASan makes every byte access several times dearer: 2 million there,
     * the full 10 million in the normal build. */
    return RT_ASAN ? 2000000ull : 10000000ull;
}

static void backoff(unsigned *spins)
{
    if (++*spins > 64) {
        sched_yield();
        *spins = 0;
    }
}

/* ---- producer: parent ---- */

static uint64_t produce_mixed(struct hvc_ring *p, uint64_t count)
{
    static uint8_t bufs[BATCH][MAXMSG];
    uint64_t seq = 0;
    unsigned spins = 0;
    unsigned long long t0 = hvct_now_ns();

    while (seq < count) {
        if ((seq & 1023) == 0 && hvct_now_ns() - t0 > BUDGET_NS)
            break; /* the time budget: the consumer is told the count */
        uint64_t path = rt_mix(seq ^ 0xabcdef) % 3;
        int rc;

        if (path == 0) { /* copy */
            uint32_t len = rt_len(seq, MAXMSG);

            rt_fill(bufs[0], len, seq);
            while ((rc = hvc_ring_send(p, bufs[0], len)) == -HVC_EAGAIN)
                backoff(&spins);
            ck_assert_int_eq(rc, 0);
            seq++;
        } else if (path == 1) { /* zero-copy, a few per publication */
            unsigned n = 1 + (unsigned)(seq % 4);

            for (unsigned i = 0; i < n && seq < count; i++) {
                uint32_t len = rt_len(seq, MAXMSG);
                void *w;

                while ((rc = hvc_ring_reserve(p, MAXMSG, &w)) == -HVC_EAGAIN) {
                    hvc_ring_flush(p);
                    backoff(&spins);
                }
                ck_assert_int_eq(rc, 0);
                rt_fill(w, len, seq);
                hvct_assert_rc(hvc_ring_commit(p, len, HVC_RING_MORE), 0);
                seq++;
            }
            hvc_ring_flush(p);
        } else { /* batch */
            struct hvc_ring_msg m[BATCH];
            unsigned n = 0;

            for (; n < BATCH && seq + n < count; n++) {
                m[n].data = bufs[n];
                m[n].len = rt_len(seq + n, MAXMSG);
                rt_fill(bufs[n], m[n].len, seq + n);
            }
            for (unsigned done = 0; done < n;) {
                rc = hvc_ring_send_batch(p, m + done, n - done);
                if (rc == -HVC_EAGAIN) {
                    backoff(&spins);
                    continue;
                }
                ck_assert_int_gt(rc, 0);
                done += (unsigned)rc;
            }
            seq += n;
        }
    }
    return seq;
}

static void produce_blocking(struct hvc_ring *p, uint64_t count)
{
    uint8_t buf[MAXMSG];

    for (uint64_t seq = 0; seq < count; seq++) {
        uint32_t len = rt_len(seq, MAXMSG);

        rt_fill(buf, len, seq);
        /* Pause now and then so that the consumer finds the ring empty
         * and goes to sleep. */
        if (rt_mix(seq) % 5000 == 0)
            usleep(200);
        hvct_assert_rc(hvc_ring_send_wait(p, buf, len, 5000000000ll), 0);
    }
}

static void produce_fragments(struct hvc_ring *p, uint64_t count)
{
    static uint8_t buf[1u << 20];
    struct hvc_ring_stream st = {0};

    for (uint64_t seq = 0; seq < count; seq++) {
        /* Up to 1 MiB: many times the 4 KiB ring. */
        uint32_t len = (uint32_t)(rt_mix(seq) % sizeof(buf));

        if (seq % 7 == 0)
            len = (uint32_t)(rt_mix(seq) % 600);
        rt_fill(buf, len, seq);
        hvct_assert_rc(hvc_ring_stream_send_wait(p, &st, buf, len, 5000000000ll), 0);
    }
}

/* ---- consumer: child ---- */

static int consume_mixed(struct hvc_ring *c, uint64_t count, struct end_word *end)
{
    static uint8_t bufs[BATCH][MAXMSG];
    uint64_t seq = 0;
    unsigned spins = 0;

    while (seq < count) {
        uint64_t path = rt_mix(seq ^ 0x123457) % 3;
        int rc;

        /* Pairs with the producer's release store of done: every message
         * it counted is published before it. */
        if (spins == 64 && hvc_load_acquire(&end->done) != 0) {
            count = ((uint64_t)hvc_load_relaxed(&end->hi) << 32) | hvc_load_relaxed(&end->lo);
            if (seq >= count)
                break;
        }

        if (path == 0) {
            rc = hvc_ring_recv(c, bufs[0], MAXMSG);
            if (rc == -HVC_EAGAIN) {
                backoff(&spins);
                continue;
            }
            if (rc < 0 || !rt_check(bufs[0], (uint32_t)rc, seq, MAXMSG))
                return fprintf(stderr, "copy: seq %llu rc %d\n", (unsigned long long)seq, rc), 2;
            seq++;
        } else if (path == 1) {
            const void *r;

            rc = hvc_ring_peek(c, &r);
            if (rc == -HVC_EAGAIN) {
                hvc_ring_flush(c);
                backoff(&spins);
                continue;
            }
            if (rc < 0 || !rt_check(r, (uint32_t)rc, seq, MAXMSG))
                return fprintf(stderr, "peek: seq %llu rc %d\n", (unsigned long long)seq, rc), 3;
            hvc_ring_release(c, seq % 2 ? HVC_RING_MORE : 0);
            seq++;
            if (seq % 8 == 0)
                hvc_ring_flush(c);
        } else {
            struct hvc_ring_msg m[BATCH];
            unsigned n = count - seq < BATCH ? (unsigned)(count - seq) : BATCH;

            for (unsigned i = 0; i < n; i++) {
                m[i].data = bufs[i];
                m[i].cap = MAXMSG;
            }
            rc = hvc_ring_recv_batch(c, m, n);
            if (rc == -HVC_EAGAIN) {
                hvc_ring_flush(c);
                backoff(&spins);
                continue;
            }
            if (rc <= 0)
                return fprintf(stderr, "batch: rc %d\n", rc), 4;
            for (int i = 0; i < rc; i++, seq++)
                if (!rt_check(bufs[i], m[i].len, seq, MAXMSG))
                    return fprintf(stderr, "batch: seq %llu\n", (unsigned long long)seq), 5;
        }
    }
    hvc_ring_flush(c);
    return 0;
}

static int consume_blocking(struct hvc_ring *c, uint64_t count)
{
    uint8_t buf[MAXMSG];

    for (uint64_t seq = 0; seq < count; seq++) {
        int rc;

        if (rt_mix(seq + 77) % 5000 == 0)
            usleep(200); /* let the producer fill the ring and sleep */
        rc = hvc_ring_recv_wait(c, buf, sizeof(buf), 5000000000ll);
        if (rc < 0 || !rt_check(buf, (uint32_t)rc, seq, MAXMSG))
            return fprintf(stderr, "blocking: seq %llu rc %d\n", (unsigned long long)seq, rc), 6;
    }
    return 0;
}

static int consume_fragments(struct hvc_ring *c, uint64_t count)
{
    static uint8_t buf[1u << 20];
    struct hvc_ring_stream st = {0};

    for (uint64_t seq = 0; seq < count; seq++) {
        uint32_t len = (uint32_t)(rt_mix(seq) % sizeof(buf));
        uint64_t got;
        uint8_t ref[64];
        int rc;

        if (seq % 7 == 0)
            len = (uint32_t)(rt_mix(seq) % 600);
        rc = hvc_ring_stream_recv_wait(c, &st, buf, sizeof(buf), &got, 5000000000ll);
        if (rc < 0 || got != len)
            return fprintf(stderr, "frag: seq %llu rc %d len %llu/%u\n",
                           (unsigned long long)seq, rc, (unsigned long long)got, len), 7;
        if (len >= 12) {
            uint64_t s;
            uint32_t sum;

            memcpy(&s, buf, 8);
            memcpy(&sum, buf + 8, 4);
            if (s != seq || sum != rt_sum(buf + 12, len - 12))
                return 8;
        } else {
            rt_fill(ref, len, seq);
            if (memcmp(ref, buf, len) != 0)
                return 9;
        }
    }
    return 0;
}

static int child(void *arg)
{
    const struct args *a = arg;
    struct hvc_region r;
    struct hvc_ring c;
    int rc;

    /* Apply checks that the region holds the file's rings and joins at the
     * consumer's id; the file makes this peer the reader: a consumer. */
    if (hvc_region_attach(&r, posix, a->path, 0) < 0 ||
        hvc_system_apply(&r, &stress_system->system, "consumer") < 0)
        return 10;
    if (hvc_system_open_ring(&r, &stress_system->system, a->name, &c) < 0 ||
        c.role != HVC_RING_CONSUMER)
        return 11;
    rc = a->mode == 0 ? consume_mixed(&c, a->count, end_word(&r))
         : a->mode == 1 ? consume_blocking(&c, a->count)
                        : consume_fragments(&c, a->count);
    if (rc == 0 && (c.errors != 0 || c.msgs == 0))
        rc = 12;
    hvc_region_detach(&r);
    return rc;
}

static void run(int mode, const char *ring, uint32_t cap, uint64_t count, uint32_t flags)
{
    struct args a = {.path = hvct_region_path("stress"), .name = ring,
                     .count = count, .mode = mode};
    struct hvc_region_config cfg;
    struct hvc_ring_stats st;
    struct hvc_region r;
    struct hvc_ring p;
    struct hvc_obj o;
    unsigned long long t0 = hvct_now_ns();
    pid_t pid;

    hvct_assert_rc(hvc_system_load(HVCT_SYSTEMS "/ring_stress.yaml", &stress_system, NULL, NULL),
                   0);
    hvc_system_region_config(&stress_system->system, &cfg);
    ck_assert(cfg.size == SIZE);
    hvct_assert_rc(hvc_region_format(&r, posix, a.path, &cfg), 0);
    /* The producer is the file's creator: apply creates every ring. */
    hvct_assert_rc(hvc_system_apply(&r, &stress_system->system, "producer"), 0);
    ck_assert_int_eq(hvc_peer_self(&r), 0);
    hvct_assert_rc(hvc_system_open_ring(&r, &stress_system->system, a.name, &p), 0);
    ck_assert_int_eq(p.role, HVC_RING_PRODUCER);
    /* The geometry this run was written for is the file's. */
    ck_assert_uint_eq(hvc_ring_capacity(&p), cap);
    ck_assert_uint_eq(hvc_ring_max_msg(&p), MAXMSG);
    ck_assert_int_eq((p.wflags & HVC_RING_WF_BLOCKING) != 0, (flags & HVC_RING_BLOCKING) != 0);
    {
        struct hvc_obj_spec es = {.name = "end", .type = HVC_OBJ_RAW,
                                  .size = sizeof(struct end_word), .writer = HVC_PEER_ANY};
        struct hvc_obj eo;

        hvct_assert_rc(hvc_obj_create(&r, &es, &eo), 0);
    }
    pid = hvct_fork(child, &a);
    if (mode == 0) {
        struct end_word *end = end_word(&r);

        count = produce_mixed(&p, count);
        hvc_ring_flush(&p);
        hvc_store_relaxed(&end->lo, (uint32_t)count);
        hvc_store_relaxed(&end->hi, (uint32_t)(count >> 32));
        /* Pairs with the consumer's acquire load: the count is final. */
        hvc_store_release(&end->done, 1);
        ck_assert_uint_ge(count, MIN_MESSAGES);
    }
    else if (mode == 1)
        produce_blocking(&p, count);
    else
        produce_fragments(&p, count);
    ck_assert_int_eq(hvct_wait(pid), 0);
    hvct_assert_rc(hvc_obj_open(&r, a.name, HVC_OBJ_RING, &o), 0);
    hvct_assert_rc(hvc_ring_stats(&r, &o, &st), 0);
    ck_assert_uint_eq(st.proto_errors, 0);
    ck_assert_uint_eq(st.msgs_sent, st.msgs_recv);
    ck_assert_uint_eq(st.bytes_sent, st.bytes_recv);
    ck_assert_uint_eq(st.used, 0);
    fprintf(stderr, "mode %d: %llu messages (%llu records, %llu bytes) in %.2f s; "
            "stalls full %u empty %u, wake-ups %u\n", mode, (unsigned long long)count,
            (unsigned long long)st.msgs_sent, (unsigned long long)st.bytes_sent,
            (double)(hvct_now_ns() - t0) / 1e9, st.full_stalls, st.empty_stalls, st.wakeups);
    if (mode == 1)
        ck_assert_uint_gt(st.wakeups, 0);
    hvc_region_detach(&r);
    hvc_config_free(stress_system);
}

START_TEST(ten_million_mixed)
{
    run(0, "mixed", 4096, message_count(), 0);
}
END_TEST

START_TEST(blocking_no_lost_wakeups)
{
    run(1, "blocking", 2048, RT_ASAN ? 200000 : 500000, HVC_RING_BLOCKING);
}
END_TEST

START_TEST(fragments_many_times_the_ring)
{
    run(2, "fragments", 4096, RT_ASAN ? 100 : 300, HVC_RING_BLOCKING);
}
END_TEST

static Suite *stress_suite(void)
{
    return hvct_suite("ring_stress", hvct_leak_setup, hvct_leak_teardown, 300,
                      HVCT_TESTS(ten_million_mixed, blocking_no_lost_wakeups,
                                 fragments_many_times_the_ring), NULL);
}

int main(void)
{
    posix = hvc_platform_posix();
    return hvct_run(stress_suite());
}
