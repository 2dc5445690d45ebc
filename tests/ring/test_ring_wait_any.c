/*
 * hvc_ring_wait_any(): one consumer sleeping on several blocking rings
 * (doc/ring.md, "Waiting on several rings").
 *
 * rounds: the parent (consumer) waits on NRINGS rings; the child
 *   (producer of all of them) publishes, in each round, on a ring chosen
 *   at random (sometimes on a second one too), but only after it has seen
 *   that ring's consumer sleep word odd (the consumer is in its sleep)
 *   after the consumer acknowledged the previous round through a shared
 *   word: no time is used to synchronise. Every fourth round is
 *   free-running (published as soon as the previous one is acknowledged):
 *   it races the consumer's way into its sleep (raise, fence, re-check) on
 *   purpose, and is correct in any interleaving. Every message is checked
 *   (length, sequence number, checksum) and the index returned must be
 *   one of the rings published on. A lost wake-up makes a wait reach its
 *   30 s failure bound. Run as attached (a shared fence domain: light
 *   publications, one peer fence per sleep) and with every ring fenced.
 * single process: timeouts, polls, ties, bad arguments.
 * hostile: a producer that writes garbage to the rings' consumer sleep
 *   words and prod indices costs counted protocol errors and wake-ups,
 *   never a wait past its timeout; a real message still ends a sleep.
 * peer death: the producer dies while the consumer sleeps; the wait
 *   reports -HVC_ETIMEDOUT at its own deadline, as hvc_ring_recv_wait().
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "../util/testutil.h"
#include "ringtest.h"

#define SIZE (1u << 20)
#define NRINGS 5u
#define CAP 4096u
#define MAXMSG 64u
#define ROUNDS (RT_ASAN ? 1000u : 4000u)
#define TIMEOUT_NS (30ll * 1000000000ll)

enum mode { AS_ATTACHED, ALL_FENCED };

/* The consumer's acknowledgements and the child's progress, in a raw
 * object. */
struct board {
    uint32_t acked;    /* rounds the consumer finished */
    uint32_t phase;    /* hostile test: the consumer's phase */
    uint32_t done;     /* hostile test: the child's phase */
    uint32_t pad;
};

struct args {
    const char *path;
    int mode;
};

static unsigned long long deadline(void)
{
    return hvct_now_ns() + (unsigned long long)TIMEOUT_NS;
}

/* Ring of a round, and a second one (or NRINGS for none). */
static void round_rings(uint32_t round, uint32_t *k, uint32_t *k2)
{
    uint64_t h = rt_mix(round + 12345u);

    *k = (uint32_t)(h % NRINGS);
    *k2 = ((h >> 20) & 7u) == 0 ? (*k + 1u + (uint32_t)((h >> 32) % (NRINGS - 1u))) % NRINGS
                                : NRINGS;
}

static int open_board(struct hvc_region *r, struct board **b)
{
    struct hvc_obj obj;

    if (hvc_obj_open(r, "board", HVC_OBJ_RAW, &obj) < 0)
        return -1;
    *b = obj.ptr;
    return 0;
}

static int producer(void *p)
{
    const struct args *a = p;
    struct hvc_region r;
    struct hvc_ring q[NRINGS];
    struct board *b;
    uint8_t buf[MAXMSG];
    char name[16];

    if (hvct_child_join(&r, NULL, a->path, "producer") != 0 || open_board(&r, &b) < 0)
        return 10;
    for (uint32_t i = 0; i < NRINGS; i++) {
        snprintf(name, sizeof(name), "r%u", i);
        if (hvc_ring_open(&q[i], &r, name, HVC_RING_PRODUCER) < 0)
            return 11;
        if (a->mode == ALL_FENCED)
            hvc_store_release(&q[i].w->prod_fence, 0u); /* announce no domain */
    }
    for (uint32_t round = 0; round < ROUNDS; round++) {
        unsigned long long end = deadline();
        uint32_t k, k2;

        round_rings(round, &k, &k2);
        /* The previous round is done: every sleep word the consumer
         * raises from here on belongs to a wait for this round. */
        while (hvc_load_acquire(&b->acked) != round ||
               (round % 4u != 3u && (hvc_load_acquire(&q[k].w->cons_sleeping) & 1u) == 0)) {
            if (hvct_now_ns() > end) {
                fprintf(stderr, "producer: round %u: the consumer never slept\n", round);
                return 12;
            }
            sched_yield();
        }
        for (uint32_t j = 0; j < 2; j++) {
            uint32_t ring = j == 0 ? k : k2;
            uint64_t seq = (uint64_t)round * 2u + j;
            uint32_t len = rt_len(seq, MAXMSG);

            if (ring == NRINGS)
                break;
            rt_fill(buf, len, seq);
            if (hvc_ring_send_wait(&q[ring], buf, len, TIMEOUT_NS) != 0)
                return 13;
        }
    }
    hvc_region_detach(&r);
    return 0;
}

/* n consumer rings "r0".. written by peer 1, and the board. */
static void make_rings(struct hvc_region *r, const char *path, struct hvc_ring *q, unsigned n,
                       int32_t writer, struct board **b)
{
    struct hvc_ring_attr attr = {.capacity = CAP, .max_msg = MAXMSG, .writer = writer,
                                 .flags = HVC_RING_BLOCKING};
    struct hvc_obj_spec spec = {.name = "board", .type = HVC_OBJ_RAW,
                                .size = sizeof(struct board), .writer = HVC_PEER_ANY};
    struct hvc_obj obj;
    char name[16];

    ck_assert_int_eq(hvct_format(r, NULL, path, SIZE, 4, 32, "consumer"), 0);
    hvct_assert_rc(hvc_obj_create(r, &spec, &obj), 0);
    *b = obj.ptr;
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "r%u", i);
        hvct_assert_rc(hvc_ring_create(&q[i], r, name, &attr), 0);
    }
}

static void rounds_case(int mode)
{
    const char *path = hvct_region_path("waitany");
    struct args a = {.path = path, .mode = mode};
    struct hvc_region r;
    struct hvc_ring q[NRINGS];
    struct hvc_ring *rings[NRINGS];
    struct board *b;
    uint8_t buf[MAXMSG];
    uint32_t wakes = 0, msgs = 0;
    pid_t pid;

    make_rings(&r, path, q, NRINGS, 1, &b);
    for (uint32_t i = 0; i < NRINGS; i++) {
        ck_assert_int_eq((int)q[i].role, HVC_RING_CONSUMER);
        rings[i] = &q[i];
        if (mode == ALL_FENCED)
            hvc_store_release(&q[i].w->cons_fence, 0u);
    }
    /* This machine (Linux, membarrier) has a fence domain: the light path
     * is the one under test AS_ATTACHED. */
    ck_assert_msg((q[0].fence & 1u) != 0, "no fence domain on this platform");
    pid = hvct_fork(producer, &a);
    for (uint32_t round = 0; round < ROUNDS; round++) {
        uint32_t k, k2, left, got = 0;

        round_rings(round, &k, &k2);
        left = k2 == NRINGS ? 1u : 2u;
        while (left > 0) {
            int idx = hvc_ring_wait_any(rings, NRINGS, TIMEOUT_NS);
            uint32_t j;
            int rc;

            ck_assert_msg(idx >= 0, "round %u: %s", round, hvc_errname(idx));
            ck_assert_msg((uint32_t)idx == k || (uint32_t)idx == k2,
                          "round %u: ring %d is not one of %u, %u", round, idx, k, k2);
            j = (uint32_t)idx == k ? 0u : 1u;
            ck_assert_msg(!(got & (1u << j)), "round %u: ring %d twice", round, idx);
            rc = hvc_ring_recv(&q[idx], buf, sizeof(buf));
            ck_assert_msg(rc >= 0, "round %u ring %d: %s", round, idx, hvc_errname(rc));
            ck_assert_msg(rt_check(buf, (uint32_t)rc, (uint64_t)round * 2u + j, MAXMSG),
                          "round %u ring %d: wrong message", round, idx);
            got |= 1u << j;
            left--;
            msgs++;
        }
        /* Nothing else is there. */
        hvct_assert_rc(hvc_ring_wait_any(rings, NRINGS, 0), -HVC_ETIMEDOUT);
        hvc_store_release(&b->acked, round + 1u);
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    for (uint32_t i = 0; i < NRINGS; i++)
        wakes += hvc_load_acquire(&q[i].w->wakeups_sent);
    fprintf(stderr, "mode %d: %u rounds, %u messages, %u wake-ups of the consumer\n", mode,
            ROUNDS, msgs, wakes);
    /* Three rounds in four the producer published on a sleeping consumer:
     * they woke it (a few find the message at the re-check). */
    ck_assert_uint_ge(wakes, ROUNDS / 2u);
    for (uint32_t i = 0; i < NRINGS; i++) {
        struct hvc_ring_stats st;
        struct hvc_obj obj;
        char name[16];

        snprintf(name, sizeof(name), "r%u", i);
        hvct_assert_rc(hvc_obj_open(&r, name, HVC_OBJ_RING, &obj), 0);
        hvct_assert_rc(hvc_ring_stats(&r, &obj, &st), 0);
        ck_assert_uint_eq(st.proto_errors, 0);
        ck_assert_uint_eq(hvc_load_relaxed(&q[i].w->cons_sleeping) & 1u, 0);
    }
    hvc_region_detach(&r);
}

START_TEST(rounds_as_attached) { rounds_case(AS_ATTACHED); }
END_TEST
START_TEST(rounds_all_fenced) { rounds_case(ALL_FENCED); }
END_TEST

START_TEST(single_process)
{
    const char *path = hvct_region_path("waitany1");
    const char *path2 = hvct_region_path("waitany2");
    struct hvc_ring_attr plain = {.capacity = CAP, .max_msg = MAXMSG, .writer = -1};
    struct hvc_ring p[3], c[3], nb, other, dup;
    struct hvc_ring *rings[65];
    struct hvc_region r, r2;
    struct board *b;
    unsigned long long t0, dt;
    uint8_t buf[MAXMSG];

    /* Producer handles (we are the writer), consumer handles by name. */
    make_rings(&r, path, p, 3, -1, &b);
    for (int i = 0; i < 3; i++) {
        char name[16];

        snprintf(name, sizeof(name), "r%d", i);
        hvct_assert_rc(hvc_ring_open(&c[i], &r, name, HVC_RING_CONSUMER), 0);
        rings[i] = &c[i];
    }
    /* Empty: a poll, then a timeout that lasts. */
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, 0), -HVC_ETIMEDOUT);
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, 2000000), -HVC_ETIMEDOUT);
    dt = hvct_now_ns() - t0;
    ck_assert_msg(dt >= 2000000ull, "timed out after %llu ns", dt);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(hvc_load_relaxed(&c[i].w->cons_sleeping) & 1u, 0);
    /* A record on ring 2; then on 0 and 2: the earlier ring wins. */
    hvct_assert_rc(hvc_ring_send(&p[2], "x", 1), 0);
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, 0), 2);
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, TIMEOUT_NS), 2);
    hvct_assert_rc(hvc_ring_send(&p[0], "y", 1), 0);
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, HVC_FOREVER), 0);
    hvct_assert_rc(hvc_ring_recv(&c[0], buf, sizeof(buf)), 1);
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, 0), 2);
    hvct_assert_rc(hvc_ring_recv(&c[2], buf, sizeof(buf)), 1);
    ck_assert_int_eq(buf[0], 'x');
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, 0), -HVC_ETIMEDOUT);
    /* One ring alone. */
    hvct_assert_rc(hvc_ring_wait_any(rings + 1, 1, 1000), -HVC_ETIMEDOUT);

    /* Bad arguments. */
    hvct_assert_rc(hvc_ring_wait_any(NULL, 1, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_wait_any(rings, 0, 0), -HVC_EINVAL);
    for (int i = 3; i < 65; i++)
        rings[i] = &c[0];
    hvct_assert_rc(hvc_ring_wait_any(rings, 65, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_wait_any(rings, 4, 0), -HVC_EINVAL); /* c[0] twice */
    dup = c[1]; /* a second handle of one ring: one sleep word */
    rings[3] = &dup;
    hvct_assert_rc(hvc_ring_wait_any(rings, 4, 0), -HVC_EINVAL);
    rings[3] = NULL;
    hvct_assert_rc(hvc_ring_wait_any(rings, 4, 0), -HVC_EINVAL);
    rings[3] = &p[1]; /* a producer handle */
    hvct_assert_rc(hvc_ring_wait_any(rings, 4, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, -5), -HVC_EINVAL);
    /* A ring that does not block. */
    hvct_assert_rc(hvc_ring_create(&nb, &r, "plain", &plain), 0);
    hvct_assert_rc(hvc_ring_open(&dup, &r, "plain", HVC_RING_CONSUMER), 0);
    rings[3] = &dup;
    hvct_assert_rc(hvc_ring_wait_any(rings, 4, 0), -HVC_ENOTSUP);
    /* A ring of another region. */
    {
        struct hvc_ring_attr battr = {.capacity = CAP, .max_msg = MAXMSG, .writer = 1,
                                      .flags = HVC_RING_BLOCKING};

        ck_assert_int_eq(hvct_format(&r2, NULL, path2, SIZE, 4, 32, "other"), 0);
        hvct_assert_rc(hvc_ring_create(&other, &r2, "o", &battr), 0);
        rings[3] = &other;
        hvct_assert_rc(hvc_ring_wait_any(rings, 4, 0), -HVC_EINVAL);
        hvc_region_detach(&r2);
    }
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, 0), -HVC_ETIMEDOUT);
    hvc_region_detach(&r);
}
END_TEST

/* Hostile producer: phases driven by the board. Phase 1: while the
 * consumer sleeps, scribble on every consumer sleep word and move ring 1's
 * prod to values that are aligned but cover no record (EMPTY tags), then
 * put it back: the consumer must still time out at its deadline. Phase 2:
 * an unaligned prod on ring 2: a counted protocol error, reported through
 * the index. Phase 3: a real message on ring 0 while the consumer
 * sleeps, after garbage in the sleep words. */
static int hostile(void *p)
{
    const struct args *a = p;
    struct hvc_region r;
    struct hvc_ring q[3];
    struct board *b;
    unsigned long long end;
    char name[16];

    if (hvct_child_join(&r, NULL, a->path, "hostile") != 0 || open_board(&r, &b) < 0)
        return 10;
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        if (hvc_ring_open(&q[i], &r, name, HVC_RING_PRODUCER) < 0)
            return 11;
    }
    end = deadline();
    /* Phase 1: wait for the consumer asleep (its timed wait). */
    while (hvc_load_acquire(&b->phase) != 1 || (hvc_load_acquire(&q[1].w->cons_sleeping) & 1u) == 0) {
        if (hvct_now_ns() > end)
            return 12;
        sched_yield();
    }
    for (uint32_t k = 0; k < 20000 && hvc_load_acquire(&b->phase) == 1; k++) {
        uint32_t g = (uint32_t)rt_mix(k);

        for (int i = 0; i < 3; i++)
            hvc_store_release(&q[i].w->cons_sleeping, g + (uint32_t)i);
        hvc_store_release(&q[1].w->prod, (g & 0xf8u)); /* no record there */
        (void)hvc_event_signal(&q[k % 3].data_ev);     /* a lying wake-up */
        sched_yield();
    }
    hvc_store_release(&q[1].w->prod, 0u);
    hvc_store_release(&b->done, 1u);
    /* Phase 2: an unaligned prod on ring 2. */
    while (hvc_load_acquire(&b->phase) != 2) {
        if (hvct_now_ns() > end)
            return 13;
        sched_yield();
    }
    hvc_store_release(&q[2].w->prod, 3u);
    (void)hvc_event_signal(&q[2].data_ev);
    hvc_store_release(&b->done, 2u);
    /* Phase 3: garbage sleep words, then a real message on ring 0 once
     * the consumer is asleep. */
    while (hvc_load_acquire(&b->phase) != 3 || (hvc_load_acquire(&q[0].w->cons_sleeping) & 1u) == 0) {
        if (hvct_now_ns() > end)
            return 14;
        sched_yield();
    }
    hvc_store_release(&q[1].w->cons_sleeping, 0xfffffff0u);
    if (hvc_ring_send(&q[0], "ok", 2) != 0)
        return 15;
    hvc_region_detach(&r);
    return 0;
}

START_TEST(hostile_producer)
{
    const char *path = hvct_region_path("waitanyh");
    struct args a = {.path = path};
    struct hvc_region r;
    struct hvc_ring q[3];
    struct hvc_ring *rings[3] = {&q[0], &q[1], &q[2]};
    struct board *b;
    unsigned long long t0, dt;
    uint8_t buf[MAXMSG];
    int rc, phase1 = 0;
    pid_t pid;

    make_rings(&r, path, q, 3, 1, &b);
    pid = hvct_fork(hostile, &a);
    /* Phase 1: timed waits while the producer lies, until it is done;
     * each must end by its deadline, never past it by much. */
    hvc_store_release(&b->phase, 1u);
    while (hvc_load_acquire(&b->done) < 1u) {
        t0 = hvct_now_ns();
        rc = hvc_ring_wait_any(rings, 3, 2000000);
        dt = hvct_now_ns() - t0;
        ck_assert_msg(rc == -HVC_ETIMEDOUT || rc == 1, "phase 1: %s", hvc_errname(rc));
        ck_assert_msg(dt < 2000000000ull, "phase 1: a 2 ms wait took %llu ns", dt);
        if (rc == 1) /* prod moved: the ring is checked, nothing is there */
            hvct_assert_rc(hvc_ring_recv(&q[1], buf, sizeof(buf)), -HVC_EAGAIN);
        ck_assert_int_lt(++phase1, 100000);
    }
    /* A last sleep: every sleep word is ours (even) again. */
    hvct_assert_rc(hvc_ring_wait_any(rings, 3, 1000000), -HVC_ETIMEDOUT);
    /* Phase 2: the corrupt index is reported through its ring's index. */
    hvc_store_release(&b->phase, 2u);
    while (hvc_load_acquire(&b->done) < 2u)
        sched_yield(); /* bounded by the test timeout: the child is quick */
    rc = hvc_ring_wait_any(rings, 3, TIMEOUT_NS);
    hvct_assert_rc(rc, 2);
    hvct_assert_rc(hvc_ring_recv(&q[2], buf, sizeof(buf)), -HVC_EPROTO);
    ck_assert_uint_ge(q[2].errors, 1);
    /* Phase 3: sleep on rings 0 and 1 (ring 2 stays broken); the real
     * message ends the sleep. */
    hvc_store_release(&b->phase, 3u);
    rc = hvc_ring_wait_any(rings, 2, TIMEOUT_NS);
    hvct_assert_rc(rc, 0);
    hvct_assert_rc(hvc_ring_recv(&q[0], buf, sizeof(buf)), 2);
    ck_assert_int_eq(hvct_wait(pid), 0);
    fprintf(stderr, "hostile: %d waits in phase 1, %u protocol errors on ring 2\n", phase1,
            q[2].errors);
    hvc_region_detach(&r);
}
END_TEST

/* The producer dies while the consumer sleeps: the wait runs to its own
 * deadline (event slices with no live signaler are re-checked). */
static int die_asleep(void *p)
{
    const struct args *a = p;
    struct hvc_region r;
    struct hvc_ring q;
    struct board *b;
    unsigned long long end = deadline();

    if (hvct_child_join(&r, NULL, a->path, "doomed") != 0 || open_board(&r, &b) < 0 ||
        hvc_ring_open(&q, &r, "r1", HVC_RING_PRODUCER) < 0)
        return 10;
    while ((hvc_load_acquire(&q.w->cons_sleeping) & 1u) == 0) {
        if (hvct_now_ns() > end)
            return 12;
        sched_yield();
    }
    hvc_store_release(&b->done, 1u);
    for (;;)
        pause(); /* killed by the parent */
}

START_TEST(peer_death)
{
    const char *path = hvct_region_path("waitanyd");
    struct args a = {.path = path};
    struct hvc_region r;
    struct hvc_ring q[2];
    struct hvc_ring *rings[2] = {&q[0], &q[1]};
    struct board *b;
    unsigned long long t0, dt;
    int rc;
    pid_t pid;

    make_rings(&r, path, q, 2, 1, &b);
    pid = hvct_fork(die_asleep, &a);
    /* Waits until the child has seen us asleep, then it is killed. */
    t0 = hvct_now_ns();
    while (hvc_load_acquire(&b->done) != 1) {
        hvct_assert_rc(hvc_ring_wait_any(rings, 2, 100000000), -HVC_ETIMEDOUT);
        ck_assert_msg(hvct_now_ns() - t0 < (unsigned long long)TIMEOUT_NS, "never seen asleep");
    }
    kill(pid, SIGKILL);
    ck_assert_int_eq(hvct_wait(pid), 128 + SIGKILL);
    /* Dead producer: a 120 ms wait spans more than two event slices of
     * no live signaler and still ends at its own deadline. */
    t0 = hvct_now_ns();
    rc = hvc_ring_wait_any(rings, 2, 120000000);
    dt = hvct_now_ns() - t0;
    hvct_assert_rc(rc, -HVC_ETIMEDOUT);
    ck_assert_msg(dt >= 120000000ull && dt < 5000000000ull, "waited %llu ns", dt);
    hvc_region_detach(&r);
}
END_TEST

int main(void)
{
    return hvct_main("ring_wait_any", hvct_leak_setup, hvct_leak_teardown, 300,
                     HVCT_TESTS(rounds_as_attached, rounds_all_fenced, single_process,
                                hostile_producer, peer_death));
}
