/* Stress: two processes signal and wait millions of times; counters are
 * checked at the end: nothing lost, nothing doubled. The ping-pong's
 * system (peers, events, the sequence segment) is a system file,
 * tests/config/systems/event_pingpong.yaml (doc/config.md). */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <hvcomm/config.h>

#define SIZE (1u << 20)

static const char *path;
static long units; /* per signaler */
static long rounds; /* ping-pong round trips */

static void setup(void)
{
    hvct_leak_setup();
}

static int open_child(struct hvc_region *r, const char *label)
{
    if (hvc_region_attach(r, hvc_platform_posix(), path, 0) < 0)
        return 1;
    return hvc_peer_join(r, label) < 0;
}

/* Signaler: `units` signals of the counting event, retrying on overflow. */
static int child_signaler(void *arg)
{
    struct hvc_region r;
    struct hvc_event e;
    long overflow = 0;

    (void)arg;
    if (open_child(&r, "sig") || hvc_event_open(&r, "sem", 0, NULL, &e) < 0)
        return 2;
    for (long i = 0; i < units; i++) {
        int rc;

        while ((rc = hvc_event_signal(&e)) == -HVC_EOVERFLOW) {
            overflow++;
            usleep(overflow % 64 == 0 ? 100 : 0);
        }
        if (rc < 0)
            return 3;
    }
    hvc_region_detach(&r);
    return 0;
}

START_TEST(stress_counting_two_signalers)
{
    struct hvc_region a;
    struct hvc_region_config cfg = {.size = SIZE};
    struct hvc_event e;
    struct hvc_event_attr at = {.kind = HVC_EVENT_COUNTING, .max_count = 64};
    struct hvc_event_stats st;
    unsigned long long t0 = hvct_now_ns();
    pid_t pid[2];
    long got = 0;

    path = hvct_region_path("stress");
    hvct_assert_rc(hvc_region_format(&a, hvc_platform_posix(), path, &cfg), 0);
    ck_assert_int_ge(hvc_peer_join(&a, "waiter"), 0);
    hvct_assert_rc(hvc_event_create(&a, "sem", &at, &e), 0);
    /* alternate spinning and sleeping so both paths are hammered */
    pid[0] = hvct_fork(child_signaler, NULL);
    pid[1] = hvct_fork(child_signaler, NULL);
    for (got = 0; got < 2 * units; got++) {
        if ((got & 0xffff) == 0)
            hvc_event_set_spin(&e, (got >> 16) & 1 ? 0 : 20000);
        int rc = hvc_event_wait(&e, 10000000000ll);

        ck_assert_msg(rc == 0, "wait %ld: %s", got, hvc_errname(rc));
    }
    ck_assert_int_eq(hvct_wait(pid[0]), 0);
    ck_assert_int_eq(hvct_wait(pid[1]), 0);
    hvct_assert_rc(hvc_event_trywait(&e), -HVC_EAGAIN); /* nothing doubled */
    hvct_assert_rc(hvc_event_stats(&a, &e.obj, &st), 0);
    ck_assert_uint_eq(st.signals, (uint32_t)(2 * units));
    ck_assert_uint_eq(st.state, 0);
    ck_assert_uint_eq(st.waiters, 0);
    printf("stress: %ld units through a counting event in %.2f s, %u wakes, %u sleeps\n",
           2 * units, (double)(hvct_now_ns() - t0) / 1e9, st.wakes, st.sleeps);
    hvc_region_detach(&a);
}
END_TEST

static struct hvc_config *pp_system; /* event_pingpong.yaml, loaded by the test */

/* Ping-pong with a sequence number in shared memory: each side checks that
 * every wake-up matches exactly one signal. */
static int child_pong(void *arg)
{
    const struct hvc_system *sys = &pp_system->system;
    struct hvc_region r;
    struct hvc_event ping, pong;
    struct hvc_seg seg;
    volatile uint32_t *seq;

    (void)arg;
    /* The parent applied the system before forking: apply here checks the
     * region holds it and joins at pong's id. */
    if (hvc_region_attach(&r, hvc_platform_posix(), path, 0) < 0 ||
        hvc_system_apply(&r, sys, "pong") < 0 ||
        hvc_system_open_event(&r, sys, "ping", &ping) < 0 ||
        hvc_system_open_event(&r, sys, "pong", &pong) < 0 ||
        hvc_system_open_segment(&r, sys, "seq", &seg) < 0)
        return 2;
    seq = hvc_seg_data(&seg);
    for (long i = 0; i < rounds; i++) {
        hvc_event_set_spin(&ping, (i >> 12) & 1 ? 0 : 20000);
        if (hvc_event_wait(&ping, 10000000000ll) < 0)
            return 3;
        if (*seq != (uint32_t)(2 * i + 1))
            return 4;
        *seq = (uint32_t)(2 * i + 2);
        if (hvc_event_signal(&pong) < 0)
            return 5;
    }
    hvc_region_detach(&r);
    return 0;
}

START_TEST(stress_pingpong_sequence)
{
    const struct hvc_system *sys;
    struct hvc_region a;
    struct hvc_region_config cfg;
    struct hvc_event ping, pong;
    struct hvc_seg seg;
    volatile uint32_t *seq;
    unsigned long long t0 = hvct_now_ns();
    pid_t pid;

    hvct_assert_rc(hvc_system_load(HVCT_SYSTEMS "/event_pingpong.yaml", &pp_system, NULL, NULL),
                   0);
    sys = &pp_system->system;
    path = hvct_region_path("stresspp");
    hvc_system_region_config(sys, &cfg);
    hvct_assert_rc(hvc_region_format(&a, hvc_platform_posix(), path, &cfg), 0);
    hvct_assert_rc(hvc_system_apply(&a, sys, "ping"), 0); /* creates ping, pong, seq */
    hvct_assert_rc(hvc_system_open_event(&a, sys, "ping", &ping), 0);
    hvct_assert_rc(hvc_system_open_event(&a, sys, "pong", &pong), 0);
    hvct_assert_rc(hvc_system_open_segment(&a, sys, "seq", &seg), 0);
    seq = hvc_seg_data(&seg);
    pid = hvct_fork(child_pong, NULL);
    for (long i = 0; i < rounds; i++) {
        hvc_event_set_spin(&pong, (i >> 12) & 1 ? 20000 : 0);
        *seq = (uint32_t)(2 * i + 1);
        hvct_assert_rc(hvc_event_signal(&ping), 0);
        hvct_assert_rc(hvc_event_wait(&pong, 10000000000ll), 0);
        ck_assert_uint_eq(*seq, (uint32_t)(2 * i + 2));
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    hvct_assert_rc(hvc_event_trywait(&ping), -HVC_EAGAIN);
    hvct_assert_rc(hvc_event_trywait(&pong), -HVC_EAGAIN);
    printf("stress: %ld round trips in %.2f s\n", rounds,
           (double)(hvct_now_ns() - t0) / 1e9);
    hvc_seg_close(&seg);
    hvc_region_detach(&a);
    hvc_config_free(pp_system);
}
END_TEST

int main(void)
{
    const char *scale = getenv("HVCT_STRESS_SCALE"); /* 1 = full */
    long div = scale != NULL ? atol(scale) : 1;

    if (hvc_platform_posix() == NULL) {
        printf("SKIP: no POSIX backend on this host\n");
        return 77;
    }
    if (div < 1)
        div = 1;
    units = 1000000 / div;  /* 2 signalers: 2 million signals */
    rounds = 200000 / div;  /* 400 000 signals, half of them sleeping */
    return hvct_main("event_stress", setup, hvct_leak_teardown, 300,
                     HVCT_TESTS(stress_counting_two_signalers, stress_pingpong_sequence));
}
