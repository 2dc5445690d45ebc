/*
 * A hostile peer on the other side of a fixed-size-element ring (another
 * process). The hostile producer corrupts the ring's immutable line and
 * then, between honest elements, publishes producer indices more than a
 * capacity ahead of or behind the consumer, each held until the victim's
 * error counter shows it was seen (an observable condition, not a time);
 * the victim consumer must return -HVC_EPROTO for each, count it, and
 * deliver every honest element exactly, in order. The hostile consumer
 * publishes consumer indices past what was produced or more than a
 * capacity behind, the same way; the victim producer sees only 0,
 * -HVC_EAGAIN or -HVC_EPROTO, and a guard object after the ring and the
 * ring's immutable line stay intact. Meant to run under AddressSanitizer
 * too.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "ringtest.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (1u << 20)
#define ES 16u
#define CAP 64u
#define CORRUPTIONS 2000u
#define BOUND_NS 120000000000ull /* failure bound per wait, never a sync */

static const struct hvc_platform *posix;

/* Control words shared by the two processes (a RAW object). */
struct ctl {
    uint32_t done;  /* the hostile side has finished */
    uint32_t total; /* honest elements sent (hostile producer) */
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state += 0x9e3779b97f4a7c15ull;
    return rt_mix(rng_state);
}

static int join(struct hvc_region *r, const char *path, struct hvc_fring *q, int role,
                struct ctl **ctl)
{
    struct hvc_obj o;

    if (hvc_region_attach(r, posix, path, 0) < 0 || hvc_peer_join(r, "hostile") != 1 ||
        hvc_fring_open(q, r, "victim", role) < 0 || hvc_obj_open(r, "ctl", HVC_OBJ_RAW, &o) < 0)
        return -1;
    *ctl = o.ptr;
    return 0;
}

/* Wait until *word differs from old; 0, or -1 after the failure bound. */
static int wait_change(const uint32_t *word, uint32_t old)
{
    unsigned long long t0 = hvct_now_ns();

    while (hvc_load_acquire(word) == old) {
        sched_yield();
        if (hvct_now_ns() - t0 > BOUND_NS)
            return -1;
    }
    return 0;
}

/* ---- hostile producer (child), victim consumer (parent) ---- */

static int hostile_producer(void *arg)
{
    struct hvc_region r;
    struct hvc_fring p;
    struct ctl *ctl;
    uint8_t buf[8 * ES];
    uint64_t seq = 0;

    rng_state = 4242;
    if (join(&r, arg, &p, HVC_FRING_PRODUCER, &ctl) < 0)
        return 10;
    /* A corrupt immutable line: the victim's open handle must not care. */
    hvc_store_relaxed(&p.w->elem_size, HVC_FRING_ELEM_MAX);
    hvc_store_relaxed(&p.w->capacity, 1u << 18);
    for (unsigned i = 0; i < CORRUPTIONS; i++) {
        uint32_t errs, bad, cons;

        /* Some honest elements, single or batched. */
        for (unsigned k = (unsigned)(rnd() % 9); k > 0;) {
            unsigned n = 1 + (unsigned)(rnd() % k);
            int rc;

            for (unsigned j = 0; j < n; j++)
                rt_fill(buf + j * ES, ES, seq + j);
            rc = n == 1 ? (hvc_fring_send(&p, buf) == 0 ? 1 : -HVC_EAGAIN)
                        : hvc_fring_send_batch(&p, buf, n);
            if (rc == -HVC_EAGAIN) {
                sched_yield();
                continue;
            }
            if (rc <= 0)
                return 11;
            seq += (unsigned)rc;
            k -= (unsigned)rc;
        }
        /* An index more than a capacity from wherever the victim is: its
         * head lies between the cons it published and our head (= what we
         * published). */
        errs = hvc_load_acquire(&p.w->cons_errors);
        cons = hvc_load_acquire(&p.w->cons);
        if (rnd() & 1)
            bad = p.head + CAP + 1u + (uint32_t)(rnd() % (1u << 30));
        else
            bad = cons - 1u - (uint32_t)(rnd() % (1u << 30));
        hvc_store_release(&p.w->prod, bad);
        if (wait_change(&p.w->cons_errors, errs) < 0)
            return 12;
        /* The truth again. */
        hvc_store_release(&p.w->prod, p.head);
    }
    hvc_store_release(&ctl->total, (uint32_t)seq);
    hvc_store_release(&ctl->done, 1);
    hvc_region_detach(&r);
    return 0;
}

START_TEST(hostile_producer_victim_consumer)
{
    const char *path = hvct_region_path("fhostile");
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 8};
    struct hvc_fring_attr attr = {.elem_size = ES, .capacity = CAP, .writer = 1};
    struct hvc_obj_spec cspec = {.name = "ctl", .type = HVC_OBJ_RAW, .size = 64,
                                 .writer = HVC_PEER_ANY};
    struct hvc_region r;
    struct hvc_region_info ri;
    struct hvc_fring c, x;
    struct hvc_fring_stats st;
    struct hvc_obj o, co;
    struct ctl *ctl;
    uint8_t buf[16 * ES];
    uint64_t seq = 0, eproto = 0, idle = 0, t0;
    pid_t pid;

    hvct_assert_rc(hvc_region_format(&r, posix, path, &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "victim"), 0);
    hvct_assert_rc(hvc_fring_create(&c, &r, "victim", &attr), 0);
    hvct_assert_rc(hvc_obj_create(&r, &cspec, &co), 0);
    ctl = co.ptr;
    rng_state = 99;
    pid = hvct_fork(hostile_producer, (void *)path);
    t0 = hvct_now_ns();
    for (;;) {
        /* Done is read before the receive: the hostile side sets it after
         * its last publication, so an empty ring after it is the end. */
        uint32_t done = hvc_load_acquire(&ctl->done);
        int rc = (rnd() & 1) ? hvc_fring_recv(&c, buf)
                             : hvc_fring_recv_batch(&c, buf, 1 + (unsigned)(rnd() % 16));

        if (rc == 0) /* hvc_fring_recv(): one element (a batch never returns 0 here) */
            rc = 1;
        if (rc == -HVC_EAGAIN || rc == -HVC_EPROTO) {
            int status;

            eproto += rc == -HVC_EPROTO;
            if (done && rc == -HVC_EAGAIN)
                break;
            if (++idle % 4096 == 0) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                    ck_abort_msg("hostile producer exited early (status %#x) at element %llu",
                                 status, (unsigned long long)seq);
                ck_assert_msg(hvct_now_ns() - t0 < BOUND_NS, "stuck at element %llu",
                              (unsigned long long)seq);
            }
            sched_yield();
            continue;
        }
        ck_assert_msg(rc > 0, "recv returned %d (%s)", rc, hvc_errname(rc));
        for (int i = 0; i < rc; i++) {
            uint8_t ref[ES];

            rt_fill(ref, ES, seq);
            ck_assert_msg(memcmp(ref, buf + (size_t)i * ES, ES) == 0, "element %llu is wrong",
                          (unsigned long long)seq);
            seq++;
        }
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    ck_assert_uint_eq(seq, hvc_load_relaxed(&ctl->total));
    /* Every corruption was seen (the hostile side waited for it), each
     * error counted once in the handle and the ring. */
    ck_assert_uint_ge(eproto, CORRUPTIONS);
    ck_assert_uint_eq(c.errors, eproto);
    ck_assert_uint_eq(hvc_load_relaxed(&c.w->cons_errors), eproto);
    fprintf(stderr, "fring hostile producer: %llu elements checked, %llu EPROTO results\n",
            (unsigned long long)seq, (unsigned long long)eproto);
    /* The corrupt immutable line: refused by open and stats, counted. */
    hvct_assert_rc(hvc_fring_open(&x, &r, "victim", HVC_FRING_CONSUMER), -HVC_EPROTO);
    hvct_assert_rc(hvc_obj_open(&r, "victim", HVC_OBJ_FRING, &o), 0);
    hvct_assert_rc(hvc_fring_stats(&r, &o, &st), -HVC_EPROTO);
    hvct_assert_rc(hvc_region_info(&r, &ri), 0);
    ck_assert_uint_ge(ri.proto_errors, eproto + 2);
    hvc_region_detach(&r);
}
END_TEST

/* ---- hostile consumer (child), victim producer (parent) ---- */

static int hostile_consumer(void *arg)
{
    struct hvc_region r;
    struct hvc_fring c;
    struct ctl *ctl;
    uint8_t buf[CAP * ES];

    rng_state = 777;
    if (join(&r, arg, &c, HVC_FRING_CONSUMER, &ctl) < 0)
        return 10;
    for (unsigned i = 0; i < CORRUPTIONS; i++) {
        uint32_t errs = hvc_load_acquire(&c.w->prod_errors), bad;

        /* More than a capacity past what we published (the victim never
         * publishes more than a capacity past it), or more than a capacity
         * behind it (the victim's cached copy is no older than that). */
        if (rnd() & 1)
            bad = c.published + CAP + 1u + (uint32_t)(rnd() % (1u << 30));
        else
            bad = c.published - CAP - 1u - (uint32_t)(rnd() % (1u << 30));
        hvc_store_release(&c.w->cons, bad);
        /* The victim producer reads cons when it thinks the ring full:
         * we consume nothing meanwhile, so it will. */
        if (wait_change(&c.w->prod_errors, errs) < 0)
            return 12;
        hvc_store_release(&c.w->cons, c.published);
        /* Some honest work: the elements are the victim's pattern. */
        for (unsigned k = (unsigned)(rnd() % 3); k > 0; k--) {
            int rc = hvc_fring_recv_batch(&c, buf, 1 + (unsigned)(rnd() % CAP));

            for (int j = 0; j < rc; j++)
                if (buf[(size_t)j * ES] != 0x3c)
                    return 13;
        }
    }
    hvc_store_release(&ctl->done, 1);
    hvc_region_detach(&r);
    return 0;
}

START_TEST(hostile_consumer_victim_producer)
{
    const char *path = hvct_region_path("fhostile2");
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 8};
    struct hvc_fring_attr attr = {.elem_size = ES, .capacity = CAP, .writer = -1};
    struct hvc_obj_spec cspec = {.name = "ctl", .type = HVC_OBJ_RAW, .size = 64,
                                 .writer = HVC_PEER_ANY};
    struct hvc_obj_spec guard = {.name = "guard", .type = HVC_OBJ_RAW, .size = 4096,
                                 .writer = HVC_PEER_ANY};
    struct hvc_region r;
    struct hvc_fring p;
    struct hvc_obj g, co;
    struct ctl *ctl;
    uint8_t line0[HVC_CACHELINE], buf[8 * ES];
    uint64_t ok = 0, eproto = 0, again = 0;
    pid_t pid;

    hvct_assert_rc(hvc_region_format(&r, posix, path, &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "victim"), 0);
    hvct_assert_rc(hvc_fring_create(&p, &r, "victim", &attr), 0);
    hvct_assert_rc(hvc_obj_create(&r, &guard, &g), 0);
    hvct_assert_rc(hvc_obj_create(&r, &cspec, &co), 0);
    ctl = co.ptr;
    /* The guard follows the data area directly. */
    ck_assert_uint_eq(g.offset, (uint64_t)(p.data + (size_t)CAP * ES - r.base));
    memset(g.ptr, 0xa5, 4096);
    memcpy(line0, p.w, sizeof(line0));
    memset(buf, 0x3c, sizeof(buf));
    pid = hvct_fork(hostile_consumer, (void *)path);
    while (!hvc_load_acquire(&ctl->done)) {
        unsigned n = 1 + (unsigned)(rnd() % 8);
        int rc = n == 1 ? hvc_fring_send(&p, buf) : hvc_fring_send_batch(&p, buf, n);

        if (rc >= 0)
            ok += n == 1 ? 1 : (unsigned)rc;
        else if (rc == -HVC_EPROTO)
            eproto++;
        else if (rc == -HVC_EAGAIN)
            again++, sched_yield();
        else
            ck_abort_msg("send returned %d (%s)", rc, hvc_errname(rc));
        if ((again & 0xfff) == 0xfff) {
            int status;

            if (waitpid(pid, &status, WNOHANG) == pid)
                ck_abort_msg("hostile consumer exited early (status %#x)", status);
        }
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    fprintf(stderr, "fring hostile consumer: %llu sent, %llu EPROTO, %llu full\n",
            (unsigned long long)ok, (unsigned long long)eproto, (unsigned long long)again);
    ck_assert_uint_ge(eproto, CORRUPTIONS);
    ck_assert_uint_eq(p.errors, eproto);
    ck_assert_uint_eq(hvc_load_relaxed(&p.w->prod_errors), eproto);
    /* Nothing written outside the producer's part of the ring. */
    for (unsigned i = 0; i < 4096; i++)
        ck_assert_uint_eq(((uint8_t *)g.ptr)[i], 0xa5);
    ck_assert(memcmp(line0, p.w, HVC_CACHELINE) == 0);
    hvc_region_detach(&r);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("fring_hostile");
    TCase *tc = tcase_create("hostile");

    tcase_add_checked_fixture(tc, hvct_leak_setup, hvct_leak_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, hostile_producer_victim_consumer);
    tcase_add_test(tc, hostile_consumer_victim_producer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    posix = hvc_platform_posix();
    return hvct_run(hostile_suite());
}
