/*
 * Two peers as two threads of one process, for ThreadSanitizer (the other
 * concurrent tests fork, and TSan sees one process only). Each thread has
 * its own struct hvc_region attached to the same region file and its own
 * peer slot; the backend (sharedmap.c) gives both the same mapping so TSan
 * sees every shared word at one address. Covered: rings (polling and
 * blocking copy, zero-copy, stream), sampling and queuing ports, events,
 * segments, and vnet frame ports when vnet is built. Every message is
 * checked (sequence and checksum), so the test also fails on lost or
 * corrupt data without TSan. Runs under TSan in scripts/test.sh
 * (build/tsan); the intentional seqlock races are listed, with the reason
 * for each, in tsan.supp.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "../ring/ringtest.h"
#include "sharedmap.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HVCT_VNET
#include <hvcomm/vnet_port.h>
#endif

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HVCT_TSAN 1
#include <sanitizer/common_interface_defs.h>
#endif
#endif

#define SIZE (8u << 20)
#define MAXMSG 200u
#define WAIT_NS 30000000000ll /* failure bound only */
#ifdef HVCT_TSAN
#define COUNT 20000u /* TSan is ~10x slower */
#elif RT_ASAN
#define COUNT 50000u
#else
#define COUNT 200000u
#endif

static const struct hvc_platform *plat;

struct peer {
    const char *path;
    const char *name;
    int mode;
    uint64_t count;
    int rc;   /* 0 ok, else the step that failed */
    char why[160];
};

static int bfail(struct peer *p, int step, const char *what, int rc)
{
    p->rc = step;
    snprintf(p->why, sizeof(p->why), "%s: %s", what, hvc_errname(rc));
    return step;
}

/* The second peer: attach its own region handle and join. */
static int attach(struct peer *p, struct hvc_region *r)
{
    int rc = hvc_region_attach(r, plat, p->path, 0);

    if (rc < 0)
        return bfail(p, 1, "attach", rc);
    rc = hvc_peer_join(r, "thread-b");
    if (rc < 0)
        return bfail(p, 2, "join", rc);
    return 0;
}

static void format(struct hvc_region *r, const char *path)
{
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 32};

    hvct_assert_rc(hvc_region_format(r, plat, path, &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(r, "thread-a"), 0);
}

static void run_b(void *(*fn)(void *), struct peer *p, pthread_t *t)
{
    ck_assert_int_eq(pthread_create(t, NULL, fn, p), 0);
}

/* Wait until thread b's peer (id 1) is a READY member: an event wait
 * with no live signaler returns -HVC_EPEERGONE, so the ping-pong starts
 * only once b has joined. Only the status word is read (acquire, as
 * hvc_peer_info() does): hvc_peer_info() also copies the token and label,
 * which hvc_peer_join() writes with plain stores while the slot is JOINING,
 * a data race TSan reports (see peer_info_during_join below). */
static void wait_b_joined(struct hvc_region *r, const struct peer *p)
{
    const struct hvc_wire_peer *peer =
        (const struct hvc_wire_peer *)(const void *)(r->base + r->peer_offset) + 1;
    unsigned long long t0 = hvct_now_ns();

    while (HVC_PEER_STATUS_STATE(hvc_load_acquire(&peer->status)) != HVC_PEER_READY) {
        ck_assert_msg(p->rc == 0, "thread b failed at step %d: %s", p->rc, p->why);
        ck_assert_msg(hvct_now_ns() - t0 < (unsigned long long)WAIT_NS, "b never joined");
        sched_yield();
    }
}

static void join_b(pthread_t t, struct peer *p)
{
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_msg(p->rc == 0, "thread b failed at step %d: %s", p->rc, p->why);
}

/* ---- rings ---- */

enum { R_POLL, R_BLOCK, R_ZC, R_STREAM };

static void *ring_consumer(void *arg)
{
    struct peer *p = arg;
    struct hvc_region r;
    struct hvc_ring c;
    struct hvc_ring_stream st;
    static _Thread_local uint8_t buf[4 * MAXMSG];
    int rc;

    if (attach(p, &r) != 0)
        return NULL;
    rc = hvc_ring_open(&c, &r, p->name, HVC_RING_CONSUMER);
    if (rc < 0) {
        bfail(p, 3, "open", rc);
        goto out;
    }
    hvc_ring_stream_reset(&st);
    for (uint64_t seq = 0; seq < p->count;) {
        uint32_t max = p->mode == R_STREAM ? 3 * MAXMSG : MAXMSG;
        uint64_t len64 = 0;
        const void *zp;

        if (p->mode == R_POLL) {
            rc = hvc_ring_recv(&c, buf, sizeof(buf));
        } else if (p->mode == R_BLOCK) {
            rc = hvc_ring_recv_wait(&c, buf, sizeof(buf), WAIT_NS);
        } else if (p->mode == R_ZC) {
            rc = hvc_ring_peek(&c, &zp);
            if (rc >= 0) {
                memcpy(buf, zp, (size_t)rc);
                if (hvc_ring_release(&c, 0) < 0) {
                    bfail(p, 4, "release", rc);
                    break;
                }
            }
        } else {
            rc = hvc_ring_stream_recv(&c, &st, buf, sizeof(buf), &len64);
            if (rc == 0)
                rc = (int)len64;
            else if (rc > 0)
                rc = -HVC_EAGAIN; /* a fragment: the message goes on */
        }
        if (rc == -HVC_EAGAIN) {
            sched_yield();
            continue;
        }
        if (rc < 0) {
            bfail(p, 5, "receive", rc);
            break;
        }
        if (!rt_check(buf, (uint32_t)rc, seq, max)) {
            bfail(p, 6, "message corrupt or out of order", 0);
            break;
        }
        seq++;
    }
    hvc_ring_flush(&c);
out:
    hvc_region_detach(&r);
    return NULL;
}

static void ring_case(int mode)
{
    struct peer b = {.path = hvct_region_path("threads-ring"), .name = "ring", .mode = mode,
                     .count = mode == R_STREAM ? COUNT / 4 : COUNT};
    struct hvc_ring_attr attr = {.capacity = 4096, .max_msg = MAXMSG, .writer = -1,
                                 .flags = mode == R_BLOCK ? HVC_RING_BLOCKING : 0};
    struct hvc_region r;
    struct hvc_ring p;
    struct hvc_ring_stream st;
    uint8_t buf[4 * MAXMSG];
    pthread_t t;

    format(&r, b.path);
    hvct_assert_rc(hvc_ring_create(&p, &r, b.name, &attr), 0);
    hvc_ring_stream_reset(&st);
    run_b(ring_consumer, &b, &t);
    for (uint64_t seq = 0; seq < b.count;) {
        uint32_t max = mode == R_STREAM ? 3 * MAXMSG : MAXMSG;
        uint32_t len = rt_len(seq, max);
        int rc;

        rt_fill(buf, len, seq);
        if (mode == R_POLL) {
            rc = hvc_ring_send(&p, buf, len);
        } else if (mode == R_BLOCK) {
            rc = hvc_ring_send_wait(&p, buf, len, WAIT_NS);
        } else if (mode == R_ZC) {
            void *dst;

            rc = hvc_ring_reserve(&p, len, &dst);
            if (rc == 0) {
                memcpy(dst, buf, len);
                rc = hvc_ring_commit(&p, len, 0);
            }
        } else {
            rc = hvc_ring_stream_send(&p, &st, buf, len);
            if (rc > 0)
                continue; /* part sent: call again with the same message */
        }
        if (rc == -HVC_EAGAIN || (mode == R_STREAM && rc > 0)) {
            if (b.rc != 0)
                break;
            sched_yield();
            continue;
        }
        ck_assert_msg(rc == 0, "send %llu: %s", (unsigned long long)seq, hvc_errname(rc));
        seq++;
    }
    hvc_ring_flush(&p);
    join_b(t, &b);
    hvc_region_detach(&r);
}

START_TEST(ring_polling) { ring_case(R_POLL); }
END_TEST
START_TEST(ring_blocking) { ring_case(R_BLOCK); }
END_TEST
START_TEST(ring_zero_copy) { ring_case(R_ZC); }
END_TEST
START_TEST(ring_stream) { ring_case(R_STREAM); }
END_TEST

/* ---- sampling and queuing ports ---- */

static void *sampling_reader(void *arg)
{
    struct peer *p = arg;
    struct hvc_region r;
    struct hvc_sampling s;
    uint8_t buf[MAXMSG];
    uint32_t last = 0;
    int rc;

    if (attach(p, &r) != 0)
        return NULL;
    rc = hvc_sampling_open(&s, &r, p->name, HVC_PORT_READER);
    if (rc < 0) {
        bfail(p, 3, "open", rc);
        goto out;
    }
    /* Read until the last value (seq count - 1) shows up; every value read
     * must be whole and no older than the one before. */
    for (;;) {
        struct hvc_sampling_info info;

        rc = hvc_sampling_read(&s, buf, sizeof(buf), &info);
        if (rc == -HVC_EAGAIN) {
            sched_yield();
            continue;
        }
        if (rc < 0) {
            bfail(p, 4, "read", rc);
            break;
        }
        if (info.seq < last || !rt_check(buf, (uint32_t)rc, info.seq - 1u, MAXMSG)) {
            bfail(p, 5, "value torn or older", 0);
            break;
        }
        last = info.seq;
        if (last == p->count)
            break;
    }
out:
    hvc_region_detach(&r);
    return NULL;
}

START_TEST(sampling_port)
{
    struct peer b = {.path = hvct_region_path("threads-sp"), .name = "sp", .count = COUNT};
    struct hvc_sampling_attr attr = {.max_msg = MAXMSG, .writer = -1, .refresh_ns = 0};
    struct hvc_region r;
    struct hvc_sampling s;
    uint8_t buf[MAXMSG];
    pthread_t t;

    format(&r, b.path);
    hvct_assert_rc(hvc_sampling_create(&s, &r, b.name, &attr), 0);
    run_b(sampling_reader, &b, &t);
    for (uint64_t seq = 0; seq < b.count; seq++) {
        uint32_t len = rt_len(seq, MAXMSG);

        rt_fill(buf, len, seq);
        hvct_assert_rc(hvc_sampling_write(&s, buf, len), 0);
        if (seq % 64 == 0)
            sched_yield();
    }
    join_b(t, &b);
    hvc_region_detach(&r);
}
END_TEST

static void *queue_reader(void *arg)
{
    struct peer *p = arg;
    struct hvc_region r;
    struct hvc_queue q;
    uint8_t buf[MAXMSG];
    int rc;

    if (attach(p, &r) != 0)
        return NULL;
    rc = hvc_queue_open(&q, &r, p->name, HVC_PORT_READER);
    if (rc < 0) {
        bfail(p, 3, "open", rc);
        goto out;
    }
    for (uint64_t seq = 0; seq < p->count;) {
        struct hvc_queue_info info;

        rc = hvc_queue_recv(&q, buf, sizeof(buf), &info);
        if (rc == -HVC_EAGAIN) {
            sched_yield();
            continue;
        }
        if (rc < 0) {
            bfail(p, 4, "recv", rc);
            break;
        }
        if (!rt_check(buf, (uint32_t)rc, seq, MAXMSG)) {
            bfail(p, 5, "message corrupt or out of order", 0);
            break;
        }
        seq++;
    }
out:
    hvc_region_detach(&r);
    return NULL;
}

START_TEST(queuing_port)
{
    struct peer b = {.path = hvct_region_path("threads-qp"), .name = "qp", .count = COUNT};
    struct hvc_queue_attr attr = {.max_msg = MAXMSG, .max_count = 16, .writer = -1,
                                  .policy = HVC_QUEUE_REJECT};
    struct hvc_region r;
    struct hvc_queue q;
    uint8_t buf[MAXMSG];
    pthread_t t;

    format(&r, b.path);
    hvct_assert_rc(hvc_queue_create(&q, &r, b.name, &attr), 0);
    run_b(queue_reader, &b, &t);
    for (uint64_t seq = 0; seq < b.count;) {
        uint32_t len = rt_len(seq, MAXMSG);
        int rc;

        rt_fill(buf, len, seq);
        rc = hvc_queue_send(&q, buf, len);
        if (rc == -HVC_EAGAIN) {
            if (b.rc != 0)
                break;
            sched_yield();
            continue;
        }
        hvct_assert_rc(rc, 0);
        seq++;
    }
    join_b(t, &b);
    hvc_region_detach(&r);
}
END_TEST

/* ---- events: ping-pong over two auto-reset events ---- */

static void *event_ponger(void *arg)
{
    struct peer *p = arg;
    struct hvc_region r;
    struct hvc_event ping, pong;
    int rc;

    if (attach(p, &r) != 0)
        return NULL;
    if ((rc = hvc_event_open(&r, "ping", 0, NULL, &ping)) < 0 ||
        (rc = hvc_event_open(&r, "pong", 0, NULL, &pong)) < 0) {
        bfail(p, 3, "open", rc);
        goto out;
    }
    if (p->mode)
        hvc_event_set_spin(&ping, 0); /* sleep at once: the futex path */
    for (uint64_t i = 0; i < p->count; i++) {
        if ((rc = hvc_event_wait(&ping, WAIT_NS)) < 0) {
            bfail(p, 4, "wait ping", rc);
            break;
        }
        if ((rc = hvc_event_signal(&pong)) < 0) {
            bfail(p, 5, "signal pong", rc);
            break;
        }
    }
    hvc_event_close(&ping);
    hvc_event_close(&pong);
out:
    hvc_region_detach(&r);
    return NULL;
}

static void event_case(int sleep_at_once)
{
    struct peer b = {.path = hvct_region_path("threads-ev"), .mode = sleep_at_once,
                     .count = COUNT / 20};
    struct hvc_event_attr attr = {.kind = HVC_EVENT_AUTO};
    struct hvc_region r;
    struct hvc_event ping, pong;
    pthread_t t;

    format(&r, b.path);
    hvct_assert_rc(hvc_event_create(&r, "ping", &attr, &ping), 0);
    hvct_assert_rc(hvc_event_create(&r, "pong", &attr, &pong), 0);
    if (sleep_at_once)
        hvc_event_set_spin(&pong, 0);
    run_b(event_ponger, &b, &t);
    wait_b_joined(&r, &b);
    for (uint64_t i = 0; i < b.count && b.rc == 0; i++) {
        hvct_assert_rc(hvc_event_signal(&ping), 0);
        hvct_assert_rc(hvc_event_wait(&pong, WAIT_NS), 0);
    }
    join_b(t, &b);
    hvc_event_close(&ping);
    hvc_event_close(&pong);
    hvc_region_detach(&r);
}

START_TEST(events_spin) { event_case(0); }
END_TEST
START_TEST(events_sleep) { event_case(1); }
END_TEST

/* ---- segments: a plain (non-atomic) counter under the lock ---- */

struct counter {
    uint64_t value;
    uint64_t history[32];
};

static int bump(struct hvc_seg *s, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        struct counter *c;
        int rc = hvc_seg_lock_timeout(s, WAIT_NS);

        if (rc != 0)
            return rc < 0 ? rc : -HVC_EOWNERDEAD;
        c = hvc_seg_data(s);
        c->history[c->value % 32] = c->value; /* plain reads and writes */
        c->value++;
        if ((rc = hvc_seg_unlock(s)) < 0)
            return rc;
    }
    return 0;
}

static void *seg_worker(void *arg)
{
    struct peer *p = arg;
    struct hvc_region r;
    struct hvc_seg s;
    int rc;

    if (attach(p, &r) != 0)
        return NULL;
    if ((rc = hvc_seg_open(&r, "seg", 0, &s)) < 0) {
        bfail(p, 3, "open", rc);
        goto out;
    }
    if (p->mode)
        hvc_seg_set_spin(&s, 0);
    if ((rc = bump(&s, p->count)) < 0)
        bfail(p, 4, "lock/unlock", rc);
    hvc_seg_close(&s);
out:
    hvc_region_detach(&r);
    return NULL;
}

static void seg_case(int sleep_at_once)
{
    struct peer b = {.path = hvct_region_path("threads-seg"), .mode = sleep_at_once,
                     .count = COUNT / 10};
    struct hvc_region r;
    struct hvc_seg s;
    struct counter *c;
    pthread_t t;

    format(&r, b.path);
    hvct_assert_rc(hvc_seg_create(&r, "seg", sizeof(struct counter), &s), 0);
    if (sleep_at_once)
        hvc_seg_set_spin(&s, 0);
    run_b(seg_worker, &b, &t);
    hvct_assert_rc(bump(&s, b.count), 0);
    join_b(t, &b);
    hvct_assert_rc(hvc_seg_lock_timeout(&s, WAIT_NS), 0);
    c = hvc_seg_data(&s);
    ck_assert_uint_eq(c->value, 2 * b.count);
    hvct_assert_rc(hvc_seg_unlock(&s), 0);
    hvc_seg_close(&s);
    hvc_region_detach(&r);
}

START_TEST(segment_spin) { seg_case(0); }
END_TEST
START_TEST(segment_sleep) { seg_case(1); }
END_TEST

/* ---- directory: objects created and deleted while the other peer looks ---- */

static void *dir_reader(void *arg)
{
    struct peer *p = arg;
    struct hvc_region r;

    if (attach(p, &r) != 0)
        return NULL;
    for (uint64_t i = 0; i < p->count; i++) {
        struct hvc_obj o;
        char name[16];
        int rc;

        snprintf(name, sizeof(name), "obj%u", (unsigned)(i % 8));
        rc = hvc_obj_open(&r, name, HVC_OBJ_RAW, &o);
        if (rc < 0 && rc != -HVC_ENOENT && rc != -HVC_ENOTREADY && rc != -HVC_EAGAIN) {
            bfail(p, 3, "obj_open", rc);
            break;
        }
        if (rc == 0 && strcmp(o.name, name) != 0) {
            bfail(p, 4, "obj_open returned another object", 0);
            break;
        }
    }
    hvc_region_detach(&r);
    return NULL;
}

START_TEST(directory)
{
    struct peer b = {.path = hvct_region_path("threads-dir"), .count = COUNT / 10};
    struct hvc_region r;
    pthread_t t;

    format(&r, b.path);
    run_b(dir_reader, &b, &t);
    for (unsigned i = 0; i < COUNT / 100; i++) {
        struct hvc_obj_spec spec = {.type = HVC_OBJ_RAW, .size = 64, .writer = HVC_PEER_ANY};
        struct hvc_obj o;
        char name[16];

        snprintf(name, sizeof(name), "obj%u", i % 8);
        spec.name = name;
        if (i >= 8)
            hvct_assert_rc(hvc_obj_delete(&r, name), 0);
        hvct_assert_rc(hvc_obj_create(&r, &spec, &o), 0);
    }
    join_b(t, &b);
    hvc_region_detach(&r);
}
END_TEST

#ifdef HVCT_VNET
/* ---- vnet frame ports: frames one way, counted ---- */

static int port_up(struct hvc_vnet_port *p, struct peer *who)
{
    unsigned long long t0 = hvct_now_ns();

    while (hvc_vnet_port_is_up(p) != 1) {
        hvc_vnet_port_poll(p);
        if (who != NULL && who->rc != 0)
            return -1;
        if (hvct_now_ns() - t0 > (unsigned long long)WAIT_NS)
            return -1;
        sched_yield();
    }
    return 0;
}

static void *vnet_receiver(void *arg)
{
    struct peer *p = arg;
    struct hvc_region r;
    struct hvc_vnet_port port;
    uint8_t buf[2048];
    int rc;

    if (attach(p, &r) != 0)
        return NULL;
    if ((rc = hvc_vnet_port_open(&port, &r, "link", NULL)) < 0) {
        bfail(p, 3, "port_open", rc);
        goto out;
    }
    if (port_up(&port, NULL) < 0) {
        bfail(p, 4, "link never came up", 0);
        goto close;
    }
    for (uint64_t seq = 0; seq < p->count;) {
        const void *f;

        hvc_vnet_port_poll(&port);
        if (seq % 2 == 0) {
            rc = hvc_vnet_port_recv(&port, buf, sizeof(buf));
        } else {
            rc = hvc_vnet_port_peek(&port, &f);
            if (rc >= 0) {
                memcpy(buf, f, (size_t)rc);
                hvc_vnet_port_release(&port, 0, NULL);
            }
        }
        if (rc == -HVC_EAGAIN) {
            sched_yield();
            continue;
        }
        if (rc < 0) {
            bfail(p, 5, "recv", rc);
            break;
        }
        if (!rt_check(buf + 14, (uint32_t)rc - 14u, seq, 1000)) {
            bfail(p, 6, "frame corrupt or out of order", 0);
            break;
        }
        seq++;
    }
close:
    hvc_vnet_port_close(&port);
out:
    hvc_region_detach(&r);
    return NULL;
}

START_TEST(vnet_ports)
{
    struct peer b = {.path = hvct_region_path("threads-vnet"), .count = COUNT / 10};
    struct hvc_vnet_link_attr attr = {.mtu = 1500, .ring_capacity = 256u << 10,
                                      .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct hvc_region r;
    struct hvc_vnet_port port;
    uint8_t frame[2048];
    pthread_t t;

    format(&r, b.path);
    hvct_assert_rc(hvc_vnet_link_create(&r, "link", &attr), 0);
    hvct_assert_rc(hvc_vnet_port_open(&port, &r, "link", NULL), 0);
    run_b(vnet_receiver, &b, &t);
    wait_b_joined(&r, &b); /* see wait_b_joined(): our poll scans the peers */
    ck_assert_int_eq(port_up(&port, &b), 0);
    memset(frame, 0xff, 12);
    for (uint64_t seq = 0; seq < b.count && b.rc == 0;) {
        uint32_t len = rt_len(seq, 1000);
        int rc;

        rt_fill(frame + 14, len, seq);
        rc = hvc_vnet_port_send(&port, frame, len + 14u, 0);
        hvc_vnet_port_poll(&port);
        if (rc == -HVC_EAGAIN) {
            sched_yield();
            continue;
        }
        hvct_assert_rc(rc, 0);
        seq++;
    }
    join_b(t, &b);
    hvc_vnet_port_close(&port);
    hvc_region_detach(&r);
}
END_TEST
#endif

/*
 * Regression test of a peer-table bug (fixed: the scan judges a JOINING
 * slot by its heartbeat only): hvc_peer_scan() checked the liveness token of JOINING slots too, but a
 * joiner writes its token only after claiming the slot, so between the two
 * the slot still holds the previous incarnation's token (or half of the new
 * one: token_lo and token_hi are plain stores, which is also the data race
 * TSan reports against hvc_peer_info()'s loads). A scan in that window asks
 * the platform about the dead predecessor and declares the joiner gone.
 * Here the window is made by hand: slot 1 is JOINING with a dead process's
 * token, as right after claim(): nothing may be declared gone.
 */
START_TEST(scan_spares_joining_peer)
{
    const struct hvc_platform *px = hvc_platform_posix();
    struct hvc_region r;
    struct hvc_wire_peer *slot;
    uint64_t dead = 0;
    int pfd[2], status;
    pid_t pid;

    format(&r, hvct_region_path("threads-scan"));
    ck_assert_int_eq(pipe(pfd), 0);
    pid = fork();
    if (pid == 0) {
        px->self_token(px, NULL, &dead);
        _exit(write(pfd[1], &dead, sizeof(dead)) == (ssize_t)sizeof(dead) ? 0 : 1);
    }
    ck_assert_int_eq(read(pfd[0], &dead, sizeof(dead)), (ssize_t)sizeof(dead));
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    close(pfd[0]);
    close(pfd[1]);
    slot = (struct hvc_wire_peer *)(void *)(r.base + r.peer_offset) + 1;
    slot->token_lo = (uint32_t)dead;
    slot->token_hi = (uint32_t)(dead >> 32);
    hvc_store_release(&slot->status, HVC_PEER_STATUS(7, HVC_PEER_JOINING));
    hvct_assert_rc(hvc_peer_scan(&r, 0), 0);
    ck_assert_uint_eq(hvc_load_acquire(&slot->status), HVC_PEER_STATUS(7, HVC_PEER_JOINING));
    hvc_region_detach(&r);
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *s;

    plat = hvct_sharedmap_platform();
#ifdef HVCT_TSAN
    {
        /* Start TSan's symbolizer now (it keeps two pipes open): the first
         * suppressed race would start it inside a test, and the fixture
         * would count its pipes as leaked fds. */
        char buf[64];

        __sanitizer_symbolize_pc(__builtin_return_address(0), "%f", buf, sizeof(buf));
    }
#endif
    s = hvct_suite("threads", hvct_leak_setup, hvct_leak_teardown, 300,
                   HVCT_TESTS(ring_polling, ring_blocking, ring_zero_copy, ring_stream,
                              sampling_port, queuing_port, events_spin, events_sleep,
                              segment_spin, segment_sleep, directory,
                              scan_spares_joining_peer), &tc);
#ifdef HVCT_VNET
    tcase_add_test(tc, vnet_ports);
#endif
    return hvct_run(s);
}
