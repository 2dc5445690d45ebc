/* Sampling and queuing ports: errors, age and validity, torn-read freedom
 * under a writer that never stops, both overflow policies. */
#define _GNU_SOURCE
#include "testutil.h"

#include <sched.h>
#include "ringtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIZE (4u << 20)

static const struct hvc_platform *posix;
static struct hvc_region reg;
static const char *path;

static void setup(void)
{
    posix = hvc_platform_posix();
    path = hvct_fixture_setup(&reg, "ports", SIZE);
}

static void teardown(void)
{
    hvct_fixture_teardown(&reg);
}

/* ---- sampling ---- */

START_TEST(sampling_basics)
{
    struct hvc_sampling_attr a = {.max_msg = 100, .writer = -1, .refresh_ns = 20000000};
    struct hvc_sampling w, r, x;
    struct hvc_sampling_info info;
    struct hvc_sampling_stats st;
    struct hvc_obj o;
    uint8_t buf[128];

    hvct_assert_rc(hvc_sampling_create(&w, &reg, "s", &a), 0);
    hvct_assert_rc(hvc_sampling_create(&x, &reg, "s", &a), -HVC_EEXIST);
    a.max_msg = 0;
    hvct_assert_rc(hvc_sampling_create(&x, &reg, "s0", &a), -HVC_EINVAL);
    hvct_assert_rc(hvc_sampling_open(&r, &reg, "s", HVC_PORT_READER), 0);
    hvct_assert_rc(hvc_sampling_open(&x, &reg, "nope", HVC_PORT_READER), -HVC_ENOENT);
    hvct_assert_rc(hvc_sampling_open(&x, &reg, "s", 9), -HVC_EINVAL);
    hvct_assert_rc(hvc_sampling_read(&r, buf, sizeof(buf), &info), -HVC_EAGAIN);
    hvct_assert_rc(hvc_sampling_write(&r, buf, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_sampling_write(&w, buf, 101), -HVC_EMSGSIZE);
    for (int i = 0; i < 10; i++) {
        memset(buf, i, 50 + i);
        hvct_assert_rc(hvc_sampling_write(&w, buf, 50u + (uint32_t)i), 0);
    }
    memset(buf, 0, sizeof(buf));
    hvct_assert_rc(hvc_sampling_read(&r, buf, sizeof(buf), &info), 59);
    ck_assert_uint_eq(info.seq, 10);
    ck_assert_uint_eq(buf[58], 9);
    ck_assert(info.valid);
    hvct_assert_rc(hvc_sampling_read(&r, buf, 10, &info), -HVC_EMSGSIZE);
    ck_assert_uint_eq(info.len, 59);
    /* Older than the refresh period: still there, but not valid. */
    usleep(30000);
    hvct_assert_rc(hvc_sampling_read(&r, buf, sizeof(buf), &info), 59);
    ck_assert(!info.valid);
    ck_assert_uint_ge(info.age_ns, 20000000);
    hvct_assert_rc(hvc_sampling_write(&w, buf, 1), 0);
    hvct_assert_rc(hvc_sampling_read(&r, buf, sizeof(buf), &info), 1);
    ck_assert(info.valid);
    hvct_assert_rc(hvc_obj_open(&reg, "s", HVC_OBJ_SAMPLING, &o), 0);
    hvct_assert_rc(hvc_sampling_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.published, 11);
    ck_assert_uint_eq(st.max_msg, 100);
    ck_assert_uint_eq(st.refresh_ns, 20000000);
    /* Corrupt header and corrupt length. */
    ((struct hvc_wire_sampling *)o.ptr)->slot_size = 12;
    hvct_assert_rc(hvc_sampling_open(&x, &reg, "s", HVC_PORT_READER), -HVC_EPROTO);
    hvct_assert_rc(hvc_sampling_stats(&reg, &o, &st), -HVC_EPROTO);
    ((struct hvc_wire_sampling *)o.ptr)->slot_size = 128;
    {
        struct hvc_wire_sampling_slot *s = (void *)(r.slots + (11 % HVC_SAMPLING_SLOTS) * r.slot_size);

        s->len = 1000;
        hvct_assert_rc(hvc_sampling_read(&r, buf, sizeof(buf), &info), -HVC_EPROTO);
    }
}
END_TEST

START_TEST(sampling_only_writer_writes)
{
    struct hvc_sampling_attr a = {.max_msg = 8, .writer = 1, .refresh_ns = 1};
    struct hvc_sampling r, w;
    struct hvc_region other;

    hvct_assert_rc(hvc_sampling_create(&r, &reg, "s1", &a), 0);
    ck_assert_uint_eq(r.role, HVC_PORT_READER);
    hvct_assert_rc(hvc_sampling_open(&w, &reg, "s1", HVC_PORT_WRITER), -HVC_EPERM);
    hvct_assert_rc(hvc_region_attach(&other, posix, path, 0), 0);
    ck_assert_int_eq(hvc_peer_join(&other, "b"), 1);
    hvct_assert_rc(hvc_sampling_open(&w, &other, "s1", HVC_PORT_WRITER), 0);
    hvct_assert_rc(hvc_sampling_write(&w, "12345678", 8), 0);
    hvc_region_detach(&other);
}
END_TEST

/* The writer never stops; every value it writes is self-describing (its
 * length and every byte follow from its sequence number), so a torn read
 * is caught. */
struct torn_args {
    const char *path;
};

static void sample_fill(uint8_t *p, uint32_t *len, uint32_t seq)
{
    *len = 8 + (uint32_t)(rt_mix(seq) % 248);
    memcpy(p, &seq, 4);
    for (uint32_t i = 4; i < *len; i++)
        p[i] = (uint8_t)(seq * 31u + i);
}

static int sampling_writer(void *arg)
{
    const struct torn_args *a = arg;
    struct hvc_region r;
    struct hvc_sampling w;
    struct hvc_queue stop;
    uint8_t buf[256];
    uint32_t len, seq = 0;

    if (hvc_region_attach(&r, posix, a->path, 0) < 0 || hvc_peer_join(&r, "writer") != 1 ||
        hvc_sampling_open(&w, &r, "torn", HVC_PORT_WRITER) < 0 ||
        hvc_queue_open(&stop, &r, "stop", HVC_PORT_READER) < 0)
        return 10;
    for (;;) {
        for (int k = 0; k < 64; k++) {
            seq++;
            sample_fill(buf, &len, seq);
            if (hvc_sampling_write(&w, buf, len) != 0)
                return 11;
        }
        if (hvc_queue_status(&stop) != 0)
            break;
    }
    hvc_region_detach(&r);
    return 0;
}

/* A reader on another peer, with the same checks as the test's own. */
static int sampling_reader(void *arg)
{
    const struct torn_args *a = arg;
    struct hvc_region r;
    struct hvc_sampling sp;
    uint8_t buf[256], ref[256];
    uint32_t last = 0;
    unsigned long good = 0;

    if (hvc_region_attach(&r, posix, a->path, 0) < 0 || hvc_peer_join(&r, "reader2") < 0 ||
        hvc_sampling_open(&sp, &r, "torn", HVC_PORT_READER) < 0)
        return 20;
    for (unsigned long i = 0; i < 400000 && good < 50000; i++) {
        struct hvc_sampling_info info;
        uint32_t seq, len;
        int rc = hvc_sampling_read(&sp, buf, sizeof(buf), &info);

        if (rc == -HVC_EAGAIN)
            continue;
        if (rc < 8)
            return 21;
        memcpy(&seq, buf, 4);
        sample_fill(ref, &len, seq);
        if (seq != info.seq || seq < last || (uint32_t)rc != len || memcmp(ref, buf, len) != 0)
            return 22;
        last = seq;
        good++;
    }
    hvc_region_detach(&r);
    return good > 1000 ? 0 : 23;
}

START_TEST(sampling_never_torn)
{
    struct torn_args a = {.path = path};
    struct hvc_sampling_attr sa = {.max_msg = 256, .writer = 1, .refresh_ns = 1000000000};
    struct hvc_queue_attr qa = {.max_msg = 0, .max_count = 1, .writer = -1};
    struct hvc_sampling r;
    struct hvc_queue stop;
    uint8_t buf[256], ref[256];
    uint32_t last = 0, distinct = 0;
    unsigned long reads = RT_ASAN ? 50000 : 200000, again = 0;
    pid_t pid, reader2;

    hvct_assert_rc(hvc_sampling_create(&r, &reg, "torn", &sa), 0);
    hvct_assert_rc(hvc_queue_create(&stop, &reg, "stop", &qa), 0);
    pid = hvct_fork(sampling_writer, &a);
    for (unsigned long long t0 = hvct_now_ns();
         hvc_sampling_read(&r, buf, sizeof(buf), NULL) == -HVC_EAGAIN;) {
        /* The writer's first value: a condition, bounded. */
        ck_assert_msg(hvct_now_ns() - t0 < 10000000000ull, "the writer never wrote");
        usleep(100);
    }
    reader2 = hvct_fork(sampling_reader, &a); /* readers on two peers at once */
    for (unsigned long i = 0; i < reads; i++) {
        struct hvc_sampling_info info;
        uint32_t seq, len;
        int rc = hvc_sampling_read(&r, buf, sizeof(buf), &info);

        if (rc == -HVC_EAGAIN) {
            again++;
            continue;
        }
        ck_assert_int_ge(rc, 8);
        memcpy(&seq, buf, 4);
        ck_assert_uint_eq(seq, info.seq);
        ck_assert_uint_ge(seq, last); /* never older than what we saw */
        sample_fill(ref, &len, seq);
        ck_assert_uint_eq((uint32_t)rc, len);
        ck_assert_msg(memcmp(ref, buf, len) == 0, "torn value %u", seq);
        distinct += seq != last;
        last = seq;
    }
    ck_assert_int_eq(hvct_wait(reader2), 0);
    hvct_assert_rc(hvc_queue_send(&stop, NULL, 0), 0);
    ck_assert_int_eq(hvct_wait(pid), 0);
    fprintf(stderr, "sampling: %lu reads, %u distinct values, %lu retries exhausted\n",
            reads, distinct, again);
    ck_assert_uint_gt(distinct, 50); /* the writer did run meanwhile */
    ck_assert_uint_lt(again, reads / 2);
}
END_TEST

/* ---- queuing ---- */

START_TEST(queue_reject)
{
    struct hvc_queue_attr a = {.max_msg = 16, .max_count = 5, .policy = HVC_QUEUE_REJECT,
                               .writer = -1};
    struct hvc_queue w, r, x;
    struct hvc_queue_info info;
    struct hvc_queue_stats st;
    struct hvc_obj o;
    uint8_t buf[16];

    hvct_assert_rc(hvc_queue_create(&w, &reg, "q", &a), 0);
    a.max_count = 0;
    hvct_assert_rc(hvc_queue_create(&x, &reg, "q0", &a), -HVC_EINVAL);
    a.max_count = 5;
    a.policy = 7;
    hvct_assert_rc(hvc_queue_create(&x, &reg, "q7", &a), -HVC_EINVAL);
    hvct_assert_rc(hvc_queue_open(&r, &reg, "q", HVC_PORT_READER), 0);
    hvct_assert_rc(hvc_queue_recv(&r, buf, sizeof(buf), &info), -HVC_EAGAIN);
    hvct_assert_rc(hvc_queue_send(&w, buf, 17), -HVC_EMSGSIZE);
    hvct_assert_rc(hvc_queue_send(&r, buf, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_queue_recv(&w, buf, 1, NULL), -HVC_EINVAL);
    for (int i = 0; i < 5; i++) {
        buf[0] = (uint8_t)i;
        hvct_assert_rc(hvc_queue_send(&w, buf, 1u + (uint32_t)i), 0);
    }
    hvct_assert_rc(hvc_queue_status(&w), 5);
    hvct_assert_rc(hvc_queue_status(&r), 5);
    buf[0] = 99;
    hvct_assert_rc(hvc_queue_send(&w, buf, 1), -HVC_EAGAIN); /* rejected */
    hvct_assert_rc(hvc_queue_recv(&r, buf, 0, &info), -HVC_EMSGSIZE);
    hvct_assert_rc(hvc_queue_recv(&r, buf, sizeof(buf), &info), 1);
    ck_assert_uint_eq(buf[0], 0);
    ck_assert_uint_eq(info.dropped, 0);
    buf[0] = 5;
    hvct_assert_rc(hvc_queue_send(&w, buf, 6), 0);
    for (int i = 1; i <= 5; i++) {
        hvct_assert_rc(hvc_queue_recv(&r, buf, sizeof(buf), &info), i + 1);
        ck_assert_uint_eq(buf[0], i);
    }
    hvct_assert_rc(hvc_queue_status(&r), 0);
    hvct_assert_rc(hvc_obj_open(&reg, "q", HVC_OBJ_QUEUE, &o), 0);
    hvct_assert_rc(hvc_queue_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.rejected, 1);
    ck_assert_uint_eq(st.sent, 6);
    ck_assert_uint_eq(st.received, 6);
    ck_assert_uint_eq(st.waiting, 0);
    /* A reader index ahead of the writer is a protocol error for both. */
    hvc_store_relaxed(&w.w->cons, 1000);
    for (int i = 0; i < 5; i++)
        hvc_queue_send(&w, buf, 1);
    hvct_assert_rc(hvc_queue_send(&w, buf, 1), -HVC_EPROTO);
    hvc_store_relaxed(&w.w->prod, 1000);
    hvct_assert_rc(hvc_queue_recv(&r, buf, sizeof(buf), &info), -HVC_EPROTO);
}
END_TEST

START_TEST(queue_drop_oldest)
{
    struct hvc_queue_attr a = {.max_msg = 8, .max_count = 3, .policy = HVC_QUEUE_DROP_OLDEST,
                               .writer = -1};
    struct hvc_queue w, r;
    struct hvc_queue_info info;
    struct hvc_queue_stats st;
    struct hvc_obj o;
    uint32_t v;

    hvct_assert_rc(hvc_queue_create(&w, &reg, "qd", &a), 0);
    hvct_assert_rc(hvc_queue_open(&r, &reg, "qd", HVC_PORT_READER), 0);
    for (v = 0; v < 10; v++)
        hvct_assert_rc(hvc_queue_send(&w, &v, 4), 0); /* never refused */
    hvct_assert_rc(hvc_queue_status(&r), 3);
    hvct_assert_rc(hvc_queue_recv(&r, &v, 4, &info), 4);
    ck_assert_uint_eq(v, 7);
    ck_assert_uint_eq(info.dropped, 7); /* 0..6 lost, reported */
    hvct_assert_rc(hvc_queue_recv(&r, &v, 4, &info), 4);
    ck_assert_uint_eq(v, 8);
    ck_assert_uint_eq(info.dropped, 0);
    v = 10;
    hvct_assert_rc(hvc_queue_send(&w, &v, 4), 0);
    hvct_assert_rc(hvc_queue_recv(&r, &v, 4, &info), 4);
    ck_assert_uint_eq(v, 9);
    hvct_assert_rc(hvc_queue_recv(&r, &v, 4, &info), 4);
    ck_assert_uint_eq(v, 10);
    hvct_assert_rc(hvc_queue_recv(&r, &v, 4, &info), -HVC_EAGAIN);
    hvct_assert_rc(hvc_obj_open(&reg, "qd", HVC_OBJ_QUEUE, &o), 0);
    hvct_assert_rc(hvc_queue_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.dropped, 7);
    ck_assert_uint_eq(st.rejected, 0);
    ck_assert_uint_eq(st.policy, HVC_QUEUE_DROP_OLDEST);
}
END_TEST

/* Drop-oldest across processes: whatever arrives is in order, whole, and
 * received + dropped == sent. */
static int queue_writer(void *arg)
{
    const char *p = arg;
    struct hvc_region r;
    struct hvc_queue w;
    uint8_t buf[64];

    if (hvc_region_attach(&r, posix, p, 0) < 0 || hvc_peer_join(&r, "w") != 1 ||
        hvc_queue_open(&w, &r, "qx", HVC_PORT_WRITER) < 0)
        return 10;
    for (uint32_t seq = 0; seq < 200000; seq++) {
        uint32_t len = 4 + seq % 60;

        memcpy(buf, &seq, 4);
        memset(buf + 4, (int)(seq & 0xff), len - 4);
        if (hvc_queue_send(&w, buf, len) != 0)
            return 11;
        if (seq % 64 == 63) {
            /* Now and then let the reader catch up (its index reaches ours:
             * an observable condition, so whole runs arrive however busy
             * the machine is); the 10 s is a failure bound. */
            unsigned long long t0 = hvct_now_ns();

            for (unsigned spins = 0;
                 hvc_load_acquire(&w.w->cons) != hvc_load_acquire(&w.w->prod); spins++) {
                if (hvct_now_ns() - t0 > 10000000000ull)
                    return 12;
                if (spins < 2000)
                    hvc_cpu_relax();
                else
                    sched_yield();
            }
        }
    }
    hvc_region_detach(&r);
    return 0;
}

START_TEST(queue_drop_oldest_two_processes)
{
    struct hvc_queue_attr a = {.max_msg = 64, .max_count = 6, .policy = HVC_QUEUE_DROP_OLDEST,
                               .writer = 1};
    struct hvc_queue r;
    struct hvc_queue_info info;
    uint8_t buf[64];
    uint64_t got = 0, dropped = 0;
    int64_t last = -1;
    pid_t pid;

    hvct_assert_rc(hvc_queue_create(&r, &reg, "qx", &a), 0);
    pid = hvct_fork(queue_writer, (void *)path);
    while (last < 199999) {
        uint32_t seq;
        int rc = hvc_queue_recv(&r, buf, sizeof(buf), &info);

        if (rc == -HVC_EAGAIN) {
            dropped += info.dropped;
            continue;
        }
        ck_assert_int_ge(rc, 4);
        memcpy(&seq, buf, 4);
        ck_assert_int_gt((int64_t)seq, last);
        ck_assert_uint_eq((uint32_t)rc, 4 + seq % 60);
        for (int i = 4; i < rc; i++)
            ck_assert_uint_eq(buf[i], seq & 0xff);
        dropped += info.dropped;
        ck_assert_uint_eq((uint64_t)seq, got + dropped);
        got++;
        last = seq;
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    fprintf(stderr, "queue drop-oldest: %llu received, %llu dropped\n",
            (unsigned long long)got, (unsigned long long)dropped);
    ck_assert_uint_eq(got + dropped, 200000);
    ck_assert_uint_gt(got, 1000);
}
END_TEST

static Suite *ports_suite(void)
{
    return hvct_suite("ports", setup, teardown, 120,
                      HVCT_TESTS(sampling_basics, sampling_only_writer_writes,
                                 sampling_never_torn, queue_reject, queue_drop_oldest,
                                 queue_drop_oldest_two_processes), NULL);
}

int main(void)
{
    return hvct_run(ports_suite());
}
