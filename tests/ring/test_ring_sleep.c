/*
 * A blocking ring whose two sides sleep and wake many times, between two
 * processes (doc/ring.md, "Blocking"). The parent sends bursts on the data
 * ring and, after each, waits for the child's acknowledgement on a second
 * blocking ring; every message is checked (length, sequence number,
 * checksum). The rounds force the sleeps by observable conditions, never
 * by time:
 *
 *   round % 3 == 0  the producer starts the burst only once the consumer's
 *                   sleep word is up (it sleeps on the empty ring);
 *   round % 3 == 1  the consumer takes the burst's first message, then
 *                   waits until the producer's sleep word is up (the burst
 *                   is longer than the ring: it sleeps on the full ring);
 *   round % 3 == 2  free-running.
 *
 * Every fourth burst goes through hvc_ring_send_batch() (one publication
 * per batch). Three publication modes: as attached (on Linux both sides
 * share a fence domain: publications without a fence, peer fences before
 * sleeping; asserted), both sides announcing no domain (every publication
 * fenced), and only the consumer announcing none (mixed). The deadline of
 * each wait is only a failure bound.
 */
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "../util/testutil.h"
#include "ringtest.h"

#define SIZE (1u << 20)
#define CAP 512u           /* data ring: a burst does not fit */
#define MAXMSG 64u
#define BURST 48u
#define ROUNDS (RT_ASAN ? 60u : 150u)
#define TIMEOUT_NS (30ll * 1000000000ll)

enum mode { AS_ATTACHED, ALL_FENCED, MIXED };

struct args {
    const char *path;
    int mode;
};

static unsigned long long deadline(void)
{
    return hvct_now_ns() + (unsigned long long)TIMEOUT_NS;
}

/* Wait until bit 0 of a sleep word is up (the other side registered
 * asleep); 0, or -1 at the deadline. */
static int wait_asleep(const uint32_t *word)
{
    unsigned long long end = deadline();

    while ((hvc_load_acquire(word) & 1u) == 0) {
        if (hvct_now_ns() > end)
            return -1;
        sched_yield();
    }
    return 0;
}

static int consumer(void *p)
{
    const struct args *a = p;
    struct hvc_region r;
    struct hvc_ring data, ack;
    uint8_t buf[MAXMSG];
    uint64_t seq = 0;

    if (hvc_region_attach(&r, hvc_platform_posix(), a->path, 0) < 0 ||
        hvc_peer_join(&r, "consumer") != 1 ||
        hvc_ring_open(&data, &r, "data", HVC_RING_CONSUMER) < 0 ||
        hvc_ring_open(&ack, &r, "ack", HVC_RING_PRODUCER) < 0)
        return 10;
    if (a->mode != AS_ATTACHED)
        hvc_store_release(&data.w->cons_fence, 0u); /* announce no domain */
    if (a->mode == ALL_FENCED)
        hvc_store_release(&ack.w->prod_fence, 0u);
    for (uint32_t round = 0; round < ROUNDS; round++) {
        for (uint32_t i = 0; i < BURST; i++, seq++) {
            int rc = hvc_ring_recv_wait(&data, buf, sizeof(buf), TIMEOUT_NS);

            if (rc < 0) {
                fprintf(stderr, "consumer: round %u message %llu: %s\n", round,
                        (unsigned long long)seq, hvc_errname(rc));
                return 11;
            }
            if (!rt_check(buf, (uint32_t)rc, seq, MAXMSG)) {
                fprintf(stderr, "consumer: message %llu is wrong\n", (unsigned long long)seq);
                return 12;
            }
            if (i == 0 && round % 3 == 1 && wait_asleep(&data.w->prod_sleeping) < 0) {
                fprintf(stderr, "consumer: round %u: the producer never slept\n", round);
                return 13;
            }
        }
        if (hvc_ring_send_wait(&ack, &seq, sizeof(seq), TIMEOUT_NS) != 0)
            return 14;
    }
    hvc_region_detach(&r);
    return 0;
}

static void sleep_case(int mode)
{
    const char *path = hvct_region_path("ringsleep");
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 16};
    struct hvc_ring_attr dattr = {.capacity = CAP, .max_msg = MAXMSG, .writer = -1,
                                  .flags = HVC_RING_BLOCKING};
    struct hvc_ring_attr aattr = {.capacity = 64, .max_msg = 8, .writer = 1,
                                  .flags = HVC_RING_BLOCKING};
    struct args a = {.path = path, .mode = mode};
    struct hvc_ring data, ack;
    struct hvc_region r;
    struct hvc_ring_msg m[BURST];
    uint8_t bufs[BURST][MAXMSG];
    uint64_t seq = 0;
    uint32_t d_wakes, s_wakes;
    pid_t pid;

    hvct_assert_rc(hvc_region_format(&r, hvc_platform_posix(), path, &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "producer"), 0);
    hvct_assert_rc(hvc_ring_create(&data, &r, "data", &dattr), 0);
    hvct_assert_rc(hvc_ring_create(&ack, &r, "ack", &aattr), 0);
    ck_assert_int_eq((int)data.role, HVC_RING_PRODUCER);
    ck_assert_int_eq((int)ack.role, HVC_RING_CONSUMER);
    /* This machine (Linux, membarrier) has a fence domain: the light path
     * is the one under test in AS_ATTACHED. */
    ck_assert_msg(data.fence != 0 && (data.fence & 1u) != 0,
                  "no fence domain on this platform (membarrier GLOBAL_EXPEDITED?)");
    if (mode == ALL_FENCED) {
        hvc_store_release(&data.w->prod_fence, 0u);
        hvc_store_release(&ack.w->cons_fence, 0u);
    }
    pid = hvct_fork(consumer, &a);
    for (uint32_t round = 0; round < ROUNDS; round++) {
        uint64_t got = 0;
        int rc;

        if (round % 3 == 0)
            ck_assert_msg(wait_asleep(&data.w->cons_sleeping) == 0,
                          "round %u: the consumer never slept", round);
        if (mode == AS_ATTACHED && round == 1)
            /* Both announced the same domain: no fence per publication. */
            ck_assert_uint_eq(hvc_load_acquire(&data.w->cons_fence), data.fence);
        if (round % 4 == 3) {
            /* One batch call per ring's worth: one publication each. */
            uint32_t i = 0;

            for (uint32_t k = 0; k < BURST; k++) {
                m[k].len = rt_len(seq + k, MAXMSG);
                m[k].data = bufs[k];
                rt_fill(bufs[k], m[k].len, seq + k);
            }
            while (i < BURST) {
                rc = hvc_ring_send_batch(&data, m + i, BURST - i);
                if (rc == -HVC_EAGAIN)
                    rc = hvc_ring_wait_writable(&data, m[i].len, TIMEOUT_NS);
                ck_assert_msg(rc >= 0, "round %u batch: %s", round, hvc_errname(rc));
                i += (uint32_t)rc;
            }
            seq += BURST;
        } else {
            for (uint32_t i = 0; i < BURST; i++, seq++) {
                uint32_t len = rt_len(seq, MAXMSG);

                rt_fill(bufs[0], len, seq);
                rc = hvc_ring_send_wait(&data, bufs[0], len, TIMEOUT_NS);
                ck_assert_msg(rc == 0, "round %u message %llu: %s", round,
                              (unsigned long long)seq, hvc_errname(rc));
            }
        }
        rc = hvc_ring_recv_wait(&ack, &got, sizeof(got), TIMEOUT_NS);
        ck_assert_msg(rc == (int)sizeof(got), "round %u ack: %s", round, hvc_errname(rc));
        ck_assert_uint_eq(got, seq);
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    /* Each forced sleep was ended by a wake-up of the other side. */
    d_wakes = hvc_load_acquire(&data.w->wakeups_sent);
    s_wakes = hvc_load_acquire(&data.w->rwakeups_sent);
    fprintf(stderr, "mode %d: %u messages, %u wake-ups of the consumer, %u of the producer\n",
            mode, (unsigned)seq, d_wakes, s_wakes);
    ck_assert_uint_ge(d_wakes, ROUNDS / 3);
    ck_assert_uint_ge(s_wakes, ROUNDS / 3);
    hvc_region_detach(&r);
}

START_TEST(sleep_as_attached) { sleep_case(AS_ATTACHED); }
END_TEST
START_TEST(sleep_all_fenced) { sleep_case(ALL_FENCED); }
END_TEST
START_TEST(sleep_mixed) { sleep_case(MIXED); }
END_TEST

int main(void)
{
    Suite *s = suite_create("ring_sleep");
    TCase *tc = tcase_create("sleep");

    tcase_add_checked_fixture(tc, hvct_leak_setup, hvct_leak_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sleep_as_attached);
    tcase_add_test(tc, sleep_all_fenced);
    tcase_add_test(tc, sleep_mixed);
    suite_add_tcase(s, tc);
    return hvct_run(s);
}
