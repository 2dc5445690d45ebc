/*
 * Fault injection in the dispatch layer: every platform method, made to
 * fail at each of its calls in turn, is handled by its callers (format,
 * attach, join, object creation, event wait, ring wait, detach): a clean
 * negative code or the documented fallback, never a crash, and no fd or
 * mapping left behind (the leak fixture checks after every run).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SIZE (1u << 20)
#define INJECTED (-HVC_EIO)

/* One run of the scenario; which step failed and with what. */
struct outcome {
    int step; /* 0: every step succeeded; else the first failing step */
    int rc;
};

static int scenario(struct outcome *out)
{
    const char *path = hvct_region_path("flt");
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 16};
    struct hvc_ring_attr ra = {.capacity = 4096, .max_msg = 64, .writer = -1,
                               .flags = HVC_RING_BLOCKING};
    struct hvc_event_attr ea = {.kind = HVC_EVENT_AUTO};
    struct hvc_region a, b;
    struct hvc_event ea_ev, eb_ev;
    struct hvc_ring pr, cr;
    char buf[64];
    int rc, step = 0;
    bool a_open = false, b_open = false;

    memset(out, 0, sizeof(*out));
#define STEP(expr)                                                             \
    do {                                                                       \
        step++;                                                                \
        rc = (expr);                                                           \
        if (rc < 0) {                                                          \
            out->step = step;                                                  \
            out->rc = rc;                                                      \
            goto fail;                                                         \
        }                                                                      \
    } while (0)
    STEP(hvc_region_format(&a, hvc_platform_posix(), path, &cfg));
    a_open = true;
    STEP(hvc_region_attach(&b, hvc_platform_posix(), path, 0));
    b_open = true;
    STEP(hvc_peer_join(&a, "a"));
    STEP(hvc_peer_join(&b, "b"));
    STEP(hvc_event_create(&a, "ev", &ea, &ea_ev));
    STEP(hvc_event_open(&b, "ev", 0, NULL, &eb_ev));
    STEP(hvc_event_signal(&ea_ev));
    STEP(hvc_event_wait(&eb_ev, 1000000000));
    /* Nothing signalled: a bounded wait times out, or fails cleanly. */
    step++;
    rc = hvc_event_wait(&eb_ev, 1000000);
    if (rc != -HVC_ETIMEDOUT) {
        out->step = step;
        out->rc = rc;
        goto fail;
    }
    STEP(hvc_ring_create(&pr, &a, "ring", &ra));
    STEP(hvc_ring_open(&cr, &b, "ring", HVC_RING_CONSUMER));
    STEP(hvc_ring_send(&pr, "hello", 5));
    STEP(hvc_ring_recv_wait(&cr, buf, sizeof(buf), 1000000000));
    if (rc != 5 || memcmp(buf, "hello", 5) != 0) {
        out->step = step;
        out->rc = 1; /* wrong data: never acceptable */
    }
    step++;
    rc = hvc_ring_recv_wait(&cr, buf, sizeof(buf), 1000000);
    if (rc != -HVC_ETIMEDOUT && out->step == 0) {
        out->step = step;
        out->rc = rc;
    }
fail:
#undef STEP
    /* Whatever failed, the regions come apart without leaking. */
    if (b_open)
        hvc_region_detach(&b);
    if (a_open)
        hvc_region_detach(&a);
    hvc_platform_unlink(hvc_platform_posix(), path);
    return 0;
}

static void run(struct outcome *o)
{
    hvct_leak_setup();
    scenario(o);
    hvct_leak_teardown();
}

START_TEST(baseline_succeeds)
{
    struct outcome o;

    run(&o);
    ck_assert_msg(o.step == 0, "step %d failed: %d (%s)", o.step, o.rc, hvc_errname(o.rc));
}
END_TEST

/* The named callers see the injected code itself. */
START_TEST(map_failure_reaches_format_and_attach)
{
    struct outcome o;

    hvct_assert_rc(hvc_platform_fault_set(HVC_METHOD_MAP, 1, INJECTED, 1), 0);
    run(&o);
    ck_assert_uint_eq(hvc_platform_fault_clear(), 1);
    ck_assert_int_eq(o.step, 1); /* format */
    hvct_assert_rc(o.rc, INJECTED);

    hvct_assert_rc(hvc_platform_fault_set(HVC_METHOD_MAP, 2, INJECTED, 1), 0);
    run(&o);
    ck_assert_uint_eq(hvc_platform_fault_clear(), 1);
    ck_assert_int_eq(o.step, 2); /* attach */
    hvct_assert_rc(o.rc, INJECTED);
}
END_TEST

START_TEST(token_failure_joins_with_token_zero)
{
    struct hvc_peer_info pi;
    struct hvc_region r;
    int id;

    hvct_leak_setup();
    hvct_make_region(&r, "flt0", SIZE, 4, 4);
    hvct_assert_rc(hvc_platform_fault_set(HVC_METHOD_SELF_TOKEN, 1, INJECTED, 0), 0);
    id = hvc_peer_join(&r, "t0");
    ck_assert_uint_ge(hvc_platform_fault_clear(), 1);
    ck_assert_int_ge(id, 0);
    hvct_assert_rc(hvc_peer_info(&r, (uint32_t)id, &pi), 0);
    ck_assert_uint_eq(pi.token, 0);
    ck_assert_uint_eq(pi.token_ns, HVC_TOKEN_NS_NONE);
    hvct_assert_rc(hvc_region_detach(&r), 0);
    hvct_leak_teardown();
}
END_TEST

START_TEST(wait_failures_reach_event_and_ring_waits)
{
    struct outcome o;

    /* Every sleep fails: the event and ring waits treat a failed sleep as
     * a spurious wake-up, re-check their condition, and still end at their
     * deadline (-HVC_ETIMEDOUT) or with the data. */
    hvct_assert_rc(hvc_platform_fault_set(HVC_METHOD_WAIT_WORD, 1, INJECTED, 0), 0);
    run(&o);
    ck_assert_uint_ge(hvc_platform_fault_clear(), 1);
    ck_assert_msg(o.step == 0, "step %d failed: %d", o.step, o.rc);
}
END_TEST

START_TEST(bad_settings)
{
    hvct_assert_rc(hvc_platform_fault_set(-1, 1, INJECTED, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_fault_set(HVC_METHOD_COUNT, 1, INJECTED, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_fault_set(HVC_METHOD_MAP, 0, INJECTED, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_fault_set(HVC_METHOD_MAP, 1, 0, 1), -HVC_EINVAL);
    ck_assert_uint_eq(hvc_platform_fault_clear(), 0);
}
END_TEST

/* Every method, every call in turn (and every call from there on). */
START_TEST(every_call_of_every_method)
{
    int method = _i;

    for (int persistent = 0; persistent < 2; persistent++)
        for (uint32_t nth = 1;; nth++) {
            struct outcome o;
            uint32_t hits;

            ck_assert_msg(nth < 10000, "method %d: the scenario never ends", method);
            hvct_assert_rc(hvc_platform_fault_set(method, nth, INJECTED, persistent ? 0 : 1), 0);
            run(&o);
            hits = hvc_platform_fault_clear();
            if (hits == 0) {
                fprintf(stderr, "method %d persistent %d: %u calls\n", method, persistent, nth - 1);
                /* The scenario must reach what POSIX implements, or the
                 * sweep proves nothing for it. */
                if (method == HVC_METHOD_ANY || method == HVC_METHOD_MAP ||
                    method == HVC_METHOD_UNMAP || method == HVC_METHOD_UNLINK ||
                    method == HVC_METHOD_SELF_TOKEN || method == HVC_METHOD_WAIT_WORD ||
                    method == HVC_METHOD_WAKE_WORD)
                    ck_assert_msg(nth > 1, "method %d never called", method);
                /* Past the last call: the scenario ran clean. */
                ck_assert_msg(o.step == 0, "method %d nth %u: step %d failed with %d",
                              method, nth, o.step, o.rc);
                break;
            }
            /* Handled: either absorbed (a fallback) or a clean negative code;
             * never wrong data (rc 1). */
            ck_assert_msg(o.step == 0 || o.rc < 0,
                          "method %d nth %u: step %d gave %d", method, nth, o.step, o.rc);
        }
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *s;

    s = hvct_suite("fault", NULL, NULL, 300,
                   HVCT_TESTS(bad_settings, baseline_succeeds,
                              map_failure_reaches_format_and_attach,
                              token_failure_joins_with_token_zero,
                              wait_failures_reach_event_and_ring_waits), &tc);
    tcase_add_loop_test(tc, every_call_of_every_method, HVC_METHOD_ANY, HVC_METHOD_COUNT);
    return hvct_run(s);
}
