/* Named events: every operation, kind, timeout and error, across processes;
 * wait-any; killed waiters and signalers; the doorbell path. */
#define _GNU_SOURCE
#include "bellplat.h"
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIZE (1u << 20)

static const struct hvc_platform *posix;

static void setup(void)
{
    hvct_leak_setup();
    posix = hvc_platform_posix();
}

/* Wait until a peer slot is READY (a child joined). */
static void await_peers(struct hvc_region *r, uint32_t n)
{
    struct hvc_region_info ri;

    for (int i = 0; i < 5000; i++) {
        hvc_region_info(r, &ri);
        if (ri.peers_ready >= n)
            return;
        usleep(1000);
    }
    ck_abort_msg("peers did not join");
}

static struct hvc_event_attr kind_attr(uint32_t kind)
{
    struct hvc_event_attr a = {.kind = kind};

    return a;
}

/* ---- creation and opening ---- */

START_TEST(event_create_open_errors)
{
    const char *path = hvct_region_path("evopen");
    struct hvc_region a, b;
    struct hvc_event e, f;
    struct hvc_event_attr bad = {.kind = 9};
    struct hvc_obj_spec raw = {.name = "raw", .type = HVC_OBJ_RAW, .size = 64,
                               .writer = HVC_PEER_ANY};

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_region_attach(&b, posix, path, 0), 0);
    /* not joined */
    hvct_assert_rc(hvc_event_open(&b, "ev", 0, NULL, &f), -HVC_EINVAL);
    hvct_assert_rc(hvc_event_create(&b, "ev", NULL, &f), -HVC_EINVAL);
    ck_assert_int_ge(hvc_peer_join(&b, "b"), 0);
    hvct_assert_rc(hvc_event_open(&b, "ev", 0, NULL, &f), -HVC_ENOENT);
    hvct_assert_rc(hvc_event_create(&a, "ev", &bad, &e), -HVC_EINVAL);
    hvct_assert_rc(hvc_event_create(&a, "a-name-that-is-far-too-long-for-it", NULL, &e),
                   -HVC_ENAMETOOLONG);
    hvct_assert_rc(hvc_event_create(&a, "ev", NULL, &e), 0);
    hvct_assert_rc(hvc_event_create(&a, "ev", NULL, &e), -HVC_EEXIST);
    hvct_assert_rc(hvc_event_open(&b, "ev", 0, NULL, &f), 0);
    ck_assert_uint_eq(f.kind, HVC_EVENT_AUTO);
    hvct_assert_rc(hvc_obj_create(&a, &raw, NULL), 0);
    hvct_assert_rc(hvc_event_open(&b, "raw", 0, NULL, &f), -HVC_ETYPE);
    /* open-or-create */
    struct hvc_event_attr cnt = {.kind = HVC_EVENT_COUNTING, .max_count = 5};
    hvct_assert_rc(hvc_event_open(&b, "made", HVC_EVENT_O_CREATE, &cnt, &f), 0);
    ck_assert_uint_eq(f.kind, HVC_EVENT_COUNTING);
    ck_assert_uint_eq(f.max_count, 5);
    hvct_assert_rc(hvc_event_open(&a, "made", HVC_EVENT_O_CREATE, NULL, &e), 0);
    ck_assert_uint_eq(e.kind, HVC_EVENT_COUNTING);
    hvct_assert_rc(hvc_event_open(&a, "made", 0x80, NULL, &e), -HVC_EINVAL);
    hvct_assert_rc(hvc_event_close(&e), 0);
    hvct_assert_rc(hvc_event_close(&e), -HVC_EINVAL);
    hvct_assert_rc(hvc_event_signal(&e), -HVC_EINVAL);
    hvct_assert_rc(hvc_event_wait(&f, -5), -HVC_EINVAL);
    ck_assert_str_eq(hvc_event_kind_name(HVC_EVENT_BROADCAST), "broadcast");
    ck_assert_str_eq(hvc_event_kind_name(77), "?");
    hvc_region_detach(&b);
    hvc_region_detach(&a);
}
END_TEST

/* ---- kinds, in one process ---- */

START_TEST(event_auto_and_timeouts)
{
    const char *path = hvct_region_path("evauto");
    struct hvc_region a;
    struct hvc_event e;
    unsigned long long t0;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    /* We signal it ourselves: with no other peer, "any other peer" would
     * make a long wait end in EPEERGONE. */
    struct hvc_event_attr self = {.kind = HVC_EVENT_AUTO, .signalers = 1u << hvc_peer_self(&a)};
    hvct_assert_rc(hvc_event_create(&a, "ev", &self, &e), 0);
    hvct_assert_rc(hvc_event_trywait(&e), -HVC_EAGAIN);
    hvct_assert_rc(hvc_event_wait(&e, 0), -HVC_ETIMEDOUT);
    hvct_assert_rc(hvc_event_signal(&e), 0);
    hvct_assert_rc(hvc_event_signal(&e), 0); /* coalesces */
    hvct_assert_rc(hvc_event_trywait(&e), 0);
    hvct_assert_rc(hvc_event_trywait(&e), -HVC_EAGAIN);
    /* relative timeout, spinning then sleeping, and sleeping at once */
    for (int spin = 0; spin < 2; spin++) {
        hvct_assert_rc(hvc_event_set_spin(&e, spin ? 1000000 : 0), 0);
        t0 = hvct_now_ns();
        hvct_assert_rc(hvc_event_wait(&e, 30000000), -HVC_ETIMEDOUT);
        ck_assert_uint_ge(hvct_now_ns() - t0, 30000000ull);
        ck_assert_uint_lt(hvct_now_ns() - t0, 1000000000ull);
    }
    /* absolute timeout, also across a slice boundary (50 ms) */
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_event_wait_until(&e, hvc_platform_now(hvc_region_platform(&a)) + 120000000),
                   -HVC_ETIMEDOUT);
    ck_assert_uint_ge(hvct_now_ns() - t0, 120000000ull);
    hvct_assert_rc(hvc_event_wait_until(&e, 0), -HVC_ETIMEDOUT); /* in the past */
    hvct_assert_rc(hvc_event_signal(&e), 0);
    hvct_assert_rc(hvc_event_wait_until(&e, 0), 0);
    hvct_assert_rc(hvc_event_signal(&e), 0);
    hvct_assert_rc(hvc_event_wait(&e, HVC_FOREVER), 0);
    hvct_assert_rc(hvc_event_set_spin(NULL, 0), -HVC_EINVAL);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(event_counting_overflow)
{
    const char *path = hvct_region_path("evcnt");
    struct hvc_region a;
    struct hvc_event e;
    struct hvc_event_attr at = {.kind = HVC_EVENT_COUNTING, .max_count = 3};
    struct hvc_event_stats st;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_event_create(&a, "sem", &at, &e), 0);
    for (int i = 0; i < 3; i++)
        hvct_assert_rc(hvc_event_signal(&e), 0);
    hvct_assert_rc(hvc_event_signal(&e), -HVC_EOVERFLOW);
    hvct_assert_rc(hvc_event_stats(&a, &e.obj, &st), 0);
    ck_assert_uint_eq(st.valid, 1);
    ck_assert_uint_eq(st.state, 3);
    ck_assert_uint_eq(st.signals, 3);
    ck_assert_uint_eq(st.overflows, 1);
    for (int i = 0; i < 3; i++)
        hvct_assert_rc(hvc_event_wait(&e, 0), 0);
    hvct_assert_rc(hvc_event_trywait(&e), -HVC_EAGAIN);
    hvct_assert_rc(hvc_event_wait_gen(&e, &st.state, 0), -HVC_ETYPE);
    hvc_region_detach(&a);
}
END_TEST

/* ---- two processes ---- */

struct pp {
    const char *path;
    const struct hvc_platform *ops;
    int bell_self;
    uint32_t kind;
    uint64_t spin;
    int rounds;
    int fd; /* pipe to report readiness */
    uint32_t base; /* sleeps counter of the event before the child starts */
};

/*
 * Conditions instead of "sleep, the other side is surely there": the
 * event's own counters say when a waiter has registered (every sleep, on
 * the futex and the doorbell path, counts in `sleeps` as it registers) and
 * when a signal has been taken (the state is 0 again). The 10 s is a
 * failure bound; the poll interval is not a guess about the other side.
 */
static struct hvc_event_stats ev_stats(struct hvc_region *r, struct hvc_event *e)
{
    struct hvc_event_stats st = {0};

    (void)hvc_event_stats(r, &e->obj, &st);
    return st;
}

/* Wait until the event's sleeps counter is above `base`; 0, or -1. */
static int await_sleeps(struct hvc_region *r, struct hvc_event *e, uint32_t base)
{
    unsigned long long t0 = hvct_now_ns();

    while (ev_stats(r, e).sleeps <= base) {
        if (hvct_now_ns() - t0 > 10000000000ull)
            return -1;
        usleep(100);
    }
    return 0;
}

/* Wait until an auto or counting event holds no signal (it was taken). */
static int await_taken(struct hvc_region *r, struct hvc_event *e)
{
    unsigned long long t0 = hvct_now_ns();

    while ((ev_stats(r, e).state & 0x7fffffffu) != 0) {
        if (hvct_now_ns() - t0 > 10000000000ull)
            return -1;
        usleep(100);
    }
    return 0;
}

/* Child side of a ping-pong: wait on "ping", signal "pong". */
static int child_pong(void *arg)
{
    struct pp *p = arg;
    struct hvc_region r;
    struct hvc_event ping, pong;

    hvct_bell_self = p->bell_self;
    if (hvct_child_join(&r, p->ops, p->path, "pong") ||
        hvc_event_open(&r, "ping", 0, NULL, &ping) < 0 ||
        hvc_event_open(&r, "pong", 0, NULL, &pong) < 0)
        return 2;
    hvc_event_set_spin(&ping, p->spin);
    for (int i = 0; i < p->rounds; i++) {
        int rc = hvc_event_wait(&ping, 5000000000ll);

        if (rc < 0)
            return 10 + (-rc);
        if (hvc_event_signal(&pong) < 0)
            return 3;
    }
    hvc_region_detach(&r);
    return 0;
}

static void ping_pong(const struct hvc_platform *ops, int bells, uint32_t kind,
                      uint64_t spin, int rounds)
{
    const char *path = hvct_region_path("evpp");
    struct hvc_region a;
    struct hvc_event ping, pong;
    struct hvc_event_attr at = kind_attr(kind);
    struct pp p = {.path = path, .ops = ops, .bell_self = bells ? 1 : -1, .kind = kind,
                   .spin = spin, .rounds = rounds};
    pid_t pid;

    hvct_bell_self = bells ? 0 : -1;
    hvct_format(&a, ops, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_event_create(&a, "ping", &at, &ping), 0);
    hvct_assert_rc(hvc_event_create(&a, "pong", &at, &pong), 0);
    hvc_event_set_spin(&pong, spin);
    pid = hvct_fork(child_pong, &p);
    await_peers(&a, 2);
    for (int i = 0; i < rounds; i++) {
        uint32_t g = hvc_event_generation(&pong);

        hvct_assert_rc(hvc_event_signal(&ping), 0);
        if (kind == HVC_EVENT_BROADCAST) {
            /* the reply may come before we wait: wait for the generation */
            hvct_assert_rc(hvc_event_wait_gen(&pong, &g, 5000000000ll), 0);
        } else {
            hvct_assert_rc(hvc_event_wait(&pong, 5000000000ll), 0);
        }
        /* Broadcast: the child may not be waiting yet when we signal, so
         * it would miss it; we only run auto/counting for sleep-mode. */
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    if (kind != HVC_EVENT_BROADCAST)
        hvct_assert_rc(hvc_event_trywait(&pong), -HVC_EAGAIN);
    /* A signal calls the platform only when the other side is registered
     * to sleep: never more than once per signal. */
    ck_assert_uint_le(ping.wake_calls, (uint64_t)rounds);
    hvc_region_detach(&a);
    if (bells)
        hvct_bell_unlink(path);
}

START_TEST(event_pingpong_futex)
{
    ping_pong(posix, 0, HVC_EVENT_AUTO, 0, 2000);
    ping_pong(posix, 0, HVC_EVENT_AUTO, 50000, 2000);
    ping_pong(posix, 0, HVC_EVENT_COUNTING, 0, 2000);
    ping_pong(posix, 0, HVC_EVENT_COUNTING, 50000, 2000);
}
END_TEST

START_TEST(event_pingpong_doorbell)
{
    unsigned long before = hvct_bell_received;

    ping_pong(hvct_bell_platform(), 1, HVC_EVENT_AUTO, 0, 2000);
    ping_pong(hvct_bell_platform(), 1, HVC_EVENT_COUNTING, 0, 2000);
    ck_assert_uint_gt(hvct_bell_received, before); /* the doorbells were used */
}
END_TEST

/* Broadcast: several waiters in several processes, one signal wakes all. */
static int child_bcast(void *arg)
{
    struct pp *p = arg;
    struct hvc_region r;
    struct hvc_event ev, ack;
    uint32_t g;

    hvct_bell_self = p->bell_self;
    if (hvct_child_join(&r, p->ops, p->path, "bw") ||
        hvc_event_open(&r, "bc", 0, NULL, &ev) < 0 ||
        hvc_event_open(&r, "ack", 0, NULL, &ack) < 0)
        return 2;
    hvc_event_set_spin(&ev, p->spin);
    g = hvc_event_generation(&ev);
    if (hvc_event_signal(&ack) < 0) /* "I am about to wait for gen g" */
        return 3;
    if (hvc_event_wait_gen(&ev, &g, 5000000000ll) < 0)
        return 4;
    if (hvc_event_trywait(&ev) != -HVC_EAGAIN) /* seen it already */
        return 5;
    hvc_region_detach(&r);
    return g == 1 ? 0 : 6;
}

START_TEST(event_broadcast_wakes_all)
{
    const char *path;
    struct hvc_region a;
    struct hvc_event bc, ack;
    struct hvc_event_attr b = kind_attr(HVC_EVENT_BROADCAST);
    struct hvc_event_attr c = kind_attr(HVC_EVENT_COUNTING);
    pid_t pid[3];

    /* futex path spinning, futex path sleeping, doorbell path */
    for (int mode = 0; mode < 3; mode++) {
        const struct hvc_platform *ops = mode == 2 ? hvct_bell_platform() : posix;
        struct pp p = {.ops = ops, .bell_self = -1, .spin = mode == 1 ? 100000 : 0};

        path = hvct_region_path("evbc");
        p.path = path;
        hvct_bell_self = mode == 2 ? 0 : -1;
        hvct_format(&a, ops, path, SIZE, 8, 0, "parent");
        hvct_assert_rc(hvc_event_create(&a, "bc", &b, &bc), 0);
        hvct_assert_rc(hvc_event_create(&a, "ack", &c, &ack), 0);
        for (int i = 0; i < 3; i++) {
            p.bell_self = mode == 2 ? i + 1 : -1;
            pid[i] = hvct_fork(child_bcast, &p);
        }
        uint32_t base = 0;

        for (int i = 0; i < 3; i++)
            hvct_assert_rc(hvc_event_wait(&ack, 5000000000ll), 0);
        /* All three have registered as sleepers (spinning ones after their
         * spin). */
        for (int i = 0; i < 3; i++) /* a fresh event: from 0 */
            ck_assert_msg(await_sleeps(&a, &bc, base + (uint32_t)i) == 0,
                          "mode %d: %u sleeps, base %u, waiters %u", mode,
                          ev_stats(&a, &bc).sleeps, base, ev_stats(&a, &bc).waiters);
        hvct_assert_rc(hvc_event_signal(&bc), 0);
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(hvct_wait(pid[i]), 0);
        ck_assert_uint_eq(hvc_event_generation(&bc), 1);
        hvct_assert_rc(hvc_event_trywait(&bc), 0); /* opened at gen 0 */
        hvct_assert_rc(hvc_event_trywait(&bc), -HVC_EAGAIN);
        hvc_region_detach(&a);
        if (mode == 2)
            hvct_bell_unlink(path);
    }
}
END_TEST

/* Every operation against a peer in another process. */
static int child_ops(void *arg)
{
    struct pp *p = arg;
    struct hvc_region r;
    struct hvc_event sem, flag, bc;

    if (hvct_child_join(&r, posix, p->path, "ops") || hvc_event_open(&r, "sem", 0, NULL, &sem) < 0 ||
        hvc_event_open(&r, "flag", 0, NULL, &flag) < 0 ||
        hvc_event_open(&r, "bc", 0, NULL, &bc) < 0)
        return 2;
    if (hvc_event_signal(&sem) != 0 || hvc_event_signal(&sem) != 0 ||
        hvc_event_signal(&sem) != -HVC_EOVERFLOW)
        return 3;
    if (await_sleeps(&r, &flag, 0) != 0) /* the parent sleeps in wait_until */
        return 7;
    if (hvc_event_signal(&flag) != 0)
        return 4;
    if (await_sleeps(&r, &bc, 0) != 0) /* ... and then in wait_gen */
        return 8;
    if (hvc_event_signal(&bc) != 0)
        return 5;
    /* and the parent's signals reach us */
    if (hvc_event_wait(&flag, 5000000000ll) != 0 || hvc_event_trywait(&sem) != 0 ||
        hvc_event_trywait(&sem) != -HVC_EAGAIN)
        return 6;
    hvc_region_detach(&r);
    return 0;
}

START_TEST(event_cross_process_ops)
{
    const char *path = hvct_region_path("evops");
    struct hvc_region a;
    struct hvc_event sem, flag, bc;
    struct hvc_event_attr cs = {.kind = HVC_EVENT_COUNTING, .max_count = 2};
    struct hvc_event_attr b = kind_attr(HVC_EVENT_BROADCAST);
    struct pp p = {.path = path};
    uint32_t g = 0;
    pid_t pid;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_event_create(&a, "sem", &cs, &sem), 0);
    hvct_assert_rc(hvc_event_create(&a, "flag", NULL, &flag), 0);
    hvct_assert_rc(hvc_event_create(&a, "bc", &b, &bc), 0);
    hvc_event_set_spin(&flag, 0);
    pid = hvct_fork(child_ops, &p);
    hvct_assert_rc(hvc_event_wait_until(&flag, hvc_platform_now(hvc_region_platform(&a)) +
                                                   5000000000ull), 0);
    hvct_assert_rc(hvc_event_wait_gen(&bc, &g, 5000000000ll), 0);
    ck_assert_uint_eq(g, 1);
    hvct_assert_rc(hvc_event_trywait(&sem), 0);
    hvct_assert_rc(hvc_event_trywait(&sem), 0);
    hvct_assert_rc(hvc_event_trywait(&sem), -HVC_EAGAIN);
    hvct_assert_rc(hvc_event_signal(&sem), 0);
    hvct_assert_rc(hvc_event_signal(&flag), 0);
    ck_assert_int_eq(hvct_wait(pid), 0);
    /* the child left: with no other peer, nobody can signal any more */
    hvct_assert_rc(hvc_event_wait(&flag, 20000000), -HVC_ETIMEDOUT);
    hvct_assert_rc(hvc_event_wait(&flag, HVC_FOREVER), -HVC_EPEERGONE);
    hvc_region_detach(&a);
}
END_TEST

/* wait-any: one thread serves several events. */
static int child_signal_list(void *arg)
{
    struct pp *p = arg;
    struct hvc_region r;
    struct hvc_event ev[3];
    static const int order[] = {2, 0, 1, 1, 2};
    const char *names[] = {"e0", "e1", "e2"};

    hvct_bell_self = p->bell_self;
    if (hvct_child_join(&r, p->ops, p->path, "sig"))
        return 2;
    for (int i = 0; i < 3; i++)
        if (hvc_event_open(&r, names[i], 0, NULL, &ev[i]) < 0)
            return 3;
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        uint32_t s;

        /* The parent took the previous signal (so it cannot see two at
         * once and return the lower index), and has registered again
         * since: it is in its next wait_any (every registration counts in
         * each event's sleeps). */
        if (i > 0 && await_taken(&r, &ev[order[i - 1]]) != 0) {
            fprintf(stderr, "wait_any child: signal %u not taken (state %#x)\n", i - 1,
                    ev_stats(&r, &ev[order[i - 1]]).state);
            return 5;
        }
        if (await_sleeps(&r, &ev[0], i == 0 ? 0 : p->base) != 0) {
            fprintf(stderr, "wait_any child: no sleep after %u (sleeps %u)\n", p->base,
                    ev_stats(&r, &ev[0]).sleeps);
            return 6;
        }
        s = ev_stats(&r, &ev[0]).sleeps;
        p->base = s;
        if (hvc_event_signal(&ev[order[i]]) < 0)
            return 4;
    }
    hvc_region_detach(&r);
    return 0;
}

static void wait_any_case(const struct hvc_platform *ops, int bells, uint64_t spin)
{
    const char *path = hvct_region_path("evany");
    struct hvc_region a;
    struct hvc_event ev[3];
    struct hvc_event *evs[3] = {&ev[0], &ev[1], &ev[2]};
    struct hvc_event_attr c = kind_attr(HVC_EVENT_COUNTING);
    struct pp p = {.path = path, .ops = ops, .bell_self = bells ? 1 : -1};
    static const int order[] = {2, 0, 1, 1, 2};
    pid_t pid;

    hvct_bell_self = bells ? 0 : -1;
    hvct_format(&a, ops, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_event_create(&a, "e0", NULL, &ev[0]), 0);
    hvct_assert_rc(hvc_event_create(&a, "e1", &c, &ev[1]), 0);
    hvct_assert_rc(hvc_event_create(&a, "e2", NULL, &ev[2]), 0);
    for (int i = 0; i < 3; i++)
        hvc_event_set_spin(&ev[i], spin);
    hvct_assert_rc(hvc_event_wait_any(evs, 3, 0), -HVC_ETIMEDOUT);
    hvct_assert_rc(hvc_event_wait_any(evs, 3, 20000000), -HVC_ETIMEDOUT);
    hvct_assert_rc(hvc_event_wait_any(evs, 0, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_event_wait_any(NULL, 1, 0), -HVC_EINVAL);
    pid = hvct_fork(child_signal_list, &p);
    for (unsigned i = 0; i < 5; i++)
        hvct_assert_rc(hvc_event_wait_any(evs, 3, 5000000000ll), order[i]);
    ck_assert_int_eq(hvct_wait(pid), 0);
    hvct_assert_rc(hvc_event_wait_any(evs, 3, 0), -HVC_ETIMEDOUT);
    /* ties go to the earliest */
    hvct_assert_rc(hvc_event_signal(&ev[2]), 0);
    hvct_assert_rc(hvc_event_signal(&ev[1]), 0);
    hvct_assert_rc(hvc_event_wait_any(evs, 3, 0), 1);
    hvct_assert_rc(hvc_event_wait_any(evs, 3, 0), 2);
    /* the signaler left: nobody can signal any of them any more */
    hvct_assert_rc(hvc_event_wait_any(evs, 3, HVC_FOREVER), -HVC_EPEERGONE);
    hvc_region_detach(&a);
    if (bells)
        hvct_bell_unlink(path);
}

START_TEST(event_wait_any)
{
    wait_any_case(posix, 0, 0);
    wait_any_case(posix, 0, 20000);
    wait_any_case(hvct_bell_platform(), 1, 0);
}
END_TEST

/* ---- signaler mask, peer gone, killed peers ---- */

static int child_hang(void *arg)
{
    struct pp *p = arg;
    struct hvc_region r;

    if (hvct_child_join(&r, posix, p->path, "hang"))
        return 2;
    if (p->fd >= 0) {
        char c = 'x';

        if (write(p->fd, &c, 1) != 1)
            return 3;
    }
    if (p->rounds == 1) { /* leave cleanly */
        hvc_region_detach(&r);
        return 0;
    }
    for (;;)
        pause();
}

/* A replacement signaler: joins (taking the reclaimed slot), signals once. */
static int child_signal_once(void *arg)
{
    struct pp *p = arg;
    struct hvc_region r;
    struct hvc_event e;

    if (hvct_child_join(&r, posix, p->path, "again") || hvc_event_open(&r, "only1", 0, NULL, &e) < 0)
        return 2;
    if (await_sleeps(&r, &e, p->base) != 0) /* the parent sleeps */
        return 4;
    if (hvc_event_signal(&e) != 0)
        return 3;
    hvc_region_detach(&r);
    return 0;
}

START_TEST(event_signaler_gone)
{
    const char *path = hvct_region_path("evgone");
    struct hvc_region a;
    struct hvc_event e, any;
    struct hvc_event *evs[1] = {&any};
    struct pp p = {.path = path, .fd = -1};
    unsigned long long t0;
    pid_t pid;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    /* Only peer 1 may signal: not us. */
    struct hvc_event_attr m = {.kind = HVC_EVENT_AUTO, .signalers = 1u << 1};
    hvct_assert_rc(hvc_event_create(&a, "only1", &m, &e), 0);
    hvct_assert_rc(hvc_event_create(&a, "any", NULL, &any), 0);
    hvct_assert_rc(hvc_event_signal(&e), -HVC_EPERM);
    hvc_event_set_spin(&e, 0);
    /* Nobody can signal: a forever wait comes back after one slice. */
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_event_wait(&e, HVC_FOREVER), -HVC_EPEERGONE);
    hvct_assert_rc(hvc_event_wait_any(evs, 1, HVC_FOREVER), -HVC_EPEERGONE);
    ck_assert_uint_lt(hvct_now_ns() - t0, 1000000000ull);
    /* A signaler that is killed while we wait. */
    pid = hvct_fork(child_hang, &p);
    await_peers(&a, 2);
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_event_wait(&e, 150000000), -HVC_ETIMEDOUT); /* alive: waits */
    kill(pid, SIGKILL);
    hvct_assert_rc(hvc_event_wait(&e, HVC_FOREVER), -HVC_EPEERGONE);
    ck_assert_int_eq(hvct_wait(pid), 128 + SIGKILL);
    /* Recovery: the dead signaler's slot is reclaimed, a new incarnation
     * joins in it and its signals reach us again. */
    hvct_assert_rc(hvc_peer_reclaim(&a, 1), 0);
    p.base = ev_stats(&a, &e).sleeps;
    pid = hvct_fork(child_signal_once, &p);
    hvct_assert_rc(hvc_event_wait(&e, 5000000000ll), 0);
    ck_assert_int_eq(hvct_wait(pid), 0);
    /* A signaler that leaves cleanly. */
    p.rounds = 1;
    ck_assert_int_eq(hvct_wait(hvct_fork(child_hang, &p)), 0);
    hvct_assert_rc(hvc_event_wait(&any, HVC_FOREVER), -HVC_EPEERGONE);
    hvc_region_detach(&a);
}
END_TEST

/* A waiter killed in its sleep leaves no damage: others still get signals. */
static int child_wait_forever(void *arg)
{
    struct pp *p = arg;
    struct hvc_region r;
    struct hvc_event e;
    char c = 'w';

    if (hvct_child_join(&r, posix, p->path, "victim") || hvc_event_open(&r, "ev", 0, NULL, &e) < 0)
        return 2;
    hvc_event_set_spin(&e, 0);
    if (write(p->fd, &c, 1) != 1)
        return 3;
    return hvc_event_wait(&e, HVC_FOREVER) == 0 ? 0 : 4;
}

START_TEST(event_killed_waiter_and_signaler)
{
    const char *path = hvct_region_path("evkill");
    struct hvc_region a;
    struct hvc_event e;
    struct hvc_event_stats st;
    struct pp p = {.path = path};
    int fds[2];
    char c;
    pid_t pid;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_event_create(&a, "ev", NULL, &e), 0);
    ck_assert_int_eq(pipe(fds), 0);
    p.fd = fds[1];
    pid = hvct_fork(child_wait_forever, &p);
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    for (int i = 0; i < 1000; i++) { /* until it sleeps */
        hvc_event_stats(&a, &e.obj, &st);
        if (st.waiters == 1)
            break;
        usleep(1000);
    }
    ck_assert_uint_eq(st.waiters, 1);
    kill(pid, SIGKILL);
    ck_assert_int_eq(hvct_wait(pid), 128 + SIGKILL);
    /* The dead waiter's registration remains (a needless wake per signal
     * until the count is repaired); correctness is unaffected. */
    hvct_assert_rc(hvc_event_signal(&e), 0);
    hvct_assert_rc(hvc_event_wait(&e, 0), 0);
    /* A second waiter gets a signal made while it sleeps. */
    p.base = ev_stats(&a, &e).sleeps;
    pid = hvct_fork(child_wait_forever, &p);
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    ck_assert_int_eq(await_sleeps(&a, &e, p.base), 0);
    hvct_assert_rc(hvc_event_signal(&e), 0);
    ck_assert_int_eq(hvct_wait(pid), 0);
    hvct_assert_rc(hvc_event_trywait(&e), -HVC_EAGAIN);
    /* (A killed signaler: see event_signaler_gone.) */
    close(fds[0]);
    close(fds[1]);
    hvc_region_detach(&a);
}
END_TEST

/* ---- corrupt shared state ---- */

START_TEST(event_corrupt)
{
    const char *path = hvct_region_path("evbad");
    struct hvc_region a, b;
    struct hvc_event e, f;
    struct hvc_event_stats st;
    struct hvc_region_info ri;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_event_create(&a, "ev", NULL, &e), 0);
    e.w->state = 7; /* an auto event holds 0 or 1 */
    hvct_assert_rc(hvc_event_trywait(&e), -HVC_EPROTO);
    hvct_assert_rc(hvc_event_signal(&e), -HVC_EPROTO);
    hvct_assert_rc(hvc_event_wait(&e, 1000000), -HVC_EPROTO);
    hvct_assert_rc(hvc_event_stats(&a, &e.obj, &st), 0);
    ck_assert_uint_eq(st.valid, 0);
    e.w->state = 0x80000000u; /* the sleep hint, so that signal looks */
    e.w->sleepers_hi = 1u << 20; /* peer 52 > max_peers 8 */
    hvct_assert_rc(hvc_event_signal(&e), -HVC_EPROTO);
    ck_assert_uint_eq(e.w->sleepers_hi, 0); /* taken, not looped on */
    hvct_assert_rc(hvc_event_trywait(&e), 0);
    e.w->kind = 9;
    hvct_assert_rc(hvc_region_attach(&b, posix, path, 0), 0);
    ck_assert_int_ge(hvc_peer_join(&b, "b"), 0);
    hvct_assert_rc(hvc_event_open(&b, "ev", 0, NULL, &f), -HVC_EPROTO);
    e.w->kind = HVC_EVENT_AUTO;
    e.w->signalers_hi = 0xffffffffu;
    hvct_assert_rc(hvc_event_open(&b, "ev", 0, NULL, &f), -HVC_EPROTO);
    e.w->signalers_hi = 0;
    e.w->version = 99;
    hvct_assert_rc(hvc_event_open(&b, "ev", 0, NULL, &f), -HVC_EVERSION);
    e.w->magic = 0;
    hvct_assert_rc(hvc_event_open(&b, "ev", 0, NULL, &f), -HVC_ENOTREADY);
    e.w->magic = 0x12345678;
    hvct_assert_rc(hvc_event_open(&b, "ev", 0, NULL, &f), -HVC_EPROTO);
    hvct_assert_rc(hvc_event_stats(&a, &e.obj, &st), 0);
    ck_assert_uint_eq(st.valid, 0);
    hvct_assert_rc(hvc_event_stats(&a, NULL, &st), -HVC_EINVAL);
    hvct_assert_rc(hvc_region_info(&a, &ri), 0);
    ck_assert_uint_ge(ri.proto_errors, 4);
    hvc_region_detach(&b);
    hvc_region_detach(&a);
}
END_TEST

Suite *event_suite(void);
Suite *event_suite(void)
{
    return hvct_suite("event", setup, hvct_leak_teardown, 120,
                      HVCT_TESTS(event_create_open_errors, event_auto_and_timeouts,
                                 event_counting_overflow, event_pingpong_futex,
                                 event_pingpong_doorbell, event_broadcast_wakes_all,
                                 event_cross_process_ops, event_wait_any, event_signaler_gone,
                                 event_killed_waiter_and_signaler, event_corrupt), NULL);
}

int main(void)
{
    if (hvc_platform_posix() == NULL) {
        printf("SKIP: no POSIX backend on this host\n");
        return 77;
    }
    return hvct_run(event_suite());
}
