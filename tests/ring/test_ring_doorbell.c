/*
 * Blocking rings on a backend with doorbells and no wait_word (the shape
 * of ivshmem): tests/events/bellplat.c without its wait_word/wake_word.
 * Before the ring slept on its named events, hvc_platform_wait_word() fell
 * back to polling there. A sleeping side must now be woken by the other
 * side's doorbell: every message arrives, the ring's event counted sleeps
 * and wakes, doorbells were received, and the sleeper used little CPU
 * while it waited for a slow peer.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "../events/bellplat.h"
#include "../util/testutil.h"
#include "ringtest.h"

#define SIZE (1u << 20)
#define MAXMSG 200u
#define NMSG 3000u
#define DELAY_US 400000 /* the slow peer's pause before it starts */
#define TIMEOUT_NS 5000000000ll

static struct hvc_platform nowait;

/* bellplat with doorbells only: no sleeping on words. */
static const struct hvc_platform *nowait_platform(void)
{
    nowait = *hvct_bell_platform();
    nowait.name = "posix+bells-nowait";
    nowait.wait_word = NULL;
    nowait.wake_word = NULL;
    return &nowait;
}

static uint64_t cpu_ns(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_utime.tv_sec * 1000000000u + (uint64_t)ru.ru_utime.tv_usec * 1000u +
           (uint64_t)ru.ru_stime.tv_sec * 1000000000u + (uint64_t)ru.ru_stime.tv_usec * 1000u;
}

struct child_args {
    const char *path;
    int role; /* the child's ring role */
    int done_fd; /* read end: the parent writes (or dies) when it has checked */
};

/* The slow peer (peer 1): pauses, then runs its side of the stream in
 * bursts separated by pauses, so the parent sleeps several times. */
static int slow_peer(void *arg)
{
    struct child_args *a = arg;
    struct hvc_region r;
    struct hvc_ring q;
    uint8_t buf[MAXMSG];

    hvct_bell_self = 1;
    if (hvc_region_attach(&r, nowait_platform(), a->path, 0) < 0 ||
        hvc_peer_join(&r, "slow") != 1 || hvc_ring_open(&q, &r, "dbring", a->role) < 0)
        return 2;
    {
        /* The parent sleeps on its event (its sleeps counter moved: an
         * observable condition; 10 s is a failure bound), then we stay
         * away DELAY_US more, the interval in which it must use no CPU. */
        struct hvc_event *theirs = a->role == HVC_RING_PRODUCER ? &q.data_ev : &q.space_ev;
        struct hvc_event_stats es = {0};
        unsigned long long t0 = hvct_now_ns();

        while (hvc_event_stats(&r, &theirs->obj, &es) == 0 && es.sleeps == 0) {
            if (hvct_now_ns() - t0 > 10000000000ull)
                return 4;
            usleep(1000);
        }
    }
    usleep(DELAY_US);
    for (uint64_t seq = 0; seq < NMSG; seq++) {
        int rc;

        if (seq == 1 || seq == NMSG / 2)
            usleep(100000);
        if (a->role == HVC_RING_PRODUCER) {
            uint32_t len = rt_len(seq, MAXMSG);

            rt_fill(buf, len, seq);
            rc = hvc_ring_send_wait(&q, buf, len, TIMEOUT_NS);
            if (rc != 0)
                return 10 + (-rc);
        } else {
            rc = hvc_ring_recv_wait(&q, buf, sizeof(buf), TIMEOUT_NS);
            if (rc < 0)
                return 10 + (-rc);
            if (!rt_check(buf, (uint32_t)rc, seq, MAXMSG))
                return 3;
        }
    }
    /* Stay a member until the parent has checked the counters. */
    {
        char b;

        (void)!read(a->done_fd, &b, 1);
    }
    hvc_region_detach(&r);
    return 0;
}

/* parent_role: the parent's side; the child takes the other one. */
/* The parent's end of a two-process case: tell the child it may go, reap
 * it (it must pass), and drop the region and its bells. */
static void finish_parent(int done[2], pid_t pid, struct hvc_region *r, const char *path)
{
    ck_assert_int_eq(write(done[1], "x", 1), 1);
    ck_assert_int_eq(hvct_wait(pid), 0);
    close(done[0]);
    close(done[1]);
    hvc_region_detach(r);
    hvct_bell_unlink(path);
}

static void doorbell_case(int parent_role)
{
    const char *path = hvct_region_path("ringdb");
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 16};
    struct hvc_ring_attr attr = {.capacity = 1024, .max_msg = MAXMSG,
                                 .writer = parent_role == HVC_RING_PRODUCER ? -1 : 1,
                                 .flags = HVC_RING_BLOCKING};
    struct child_args a = {.path = path,
                           .role = parent_role == HVC_RING_PRODUCER ? HVC_RING_CONSUMER
                                                                    : HVC_RING_PRODUCER};
    struct hvc_region r;
    struct hvc_ring q;
    struct hvc_event_stats es;
    struct hvc_ring_stats rs;
    struct hvc_event *mine;
    uint8_t buf[MAXMSG];
    unsigned long bells0;
    uint64_t t0, c0, wall, cpu;
    int done[2];
    pid_t pid;

    hvct_bell_self = 0;
    hvct_assert_rc(hvc_region_format(&r, nowait_platform(), path, &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "parent"), 0);
    /* The point of the test: doorbells, and no sleeping on words. */
    ck_assert_uint_eq(hvc_platform_caps(hvc_region_platform(&r)) &
                          (HVC_CAP_NOTIFY | HVC_CAP_WAIT_NOTIFY | HVC_CAP_WAIT_WORD),
                      HVC_CAP_NOTIFY | HVC_CAP_WAIT_NOTIFY);
    hvct_assert_rc(hvc_ring_create(&q, &r, "dbring", &attr), 0);
    ck_assert_int_eq((int)q.role, parent_role);
    mine = parent_role == HVC_RING_PRODUCER ? &q.space_ev : &q.data_ev;
    bells0 = hvct_bell_received;
    ck_assert_int_eq(pipe(done), 0);
    a.done_fd = done[0];
    pid = hvct_fork(slow_peer, &a);

    /* The first message (or the first room, for a producer that filled
     * the ring) comes after the child's pause: the time we wait for it is
     * the time we must spend asleep. */
    t0 = hvct_now_ns();
    c0 = cpu_ns();
    for (uint64_t seq = 0; seq < NMSG; seq++) {
        if (parent_role == HVC_RING_PRODUCER) {
            uint32_t len = rt_len(seq, MAXMSG);

            rt_fill(buf, len, seq);
            hvct_assert_rc(hvc_ring_send_wait(&q, buf, len, TIMEOUT_NS), 0);
        } else {
            int rc = hvc_ring_recv_wait(&q, buf, sizeof(buf), TIMEOUT_NS);

            ck_assert_msg(rc >= 0, "recv_wait: %s", hvc_errname(rc));
            ck_assert_msg(rt_check(buf, (uint32_t)rc, seq, MAXMSG), "message %llu",
                          (unsigned long long)seq);
        }
        if (seq == 0 && parent_role == HVC_RING_CONSUMER) {
            wall = hvct_now_ns() - t0;
            cpu = cpu_ns() - c0;
            fprintf(stderr, "consumer waited %.0f ms for the first message, %.1f ms CPU\n",
                    wall / 1e6, cpu / 1e6);
            ck_assert_uint_ge(wall, DELAY_US * 1000ull / 2);
            ck_assert_msg(cpu * 5 < wall, "consumer polled: %llu ns CPU in %llu ns",
                          (unsigned long long)cpu, (unsigned long long)wall);
        }
    }
    if (parent_role == HVC_RING_PRODUCER) {
        /* The ring (1 KiB) filled at once; the rest went as the slow
         * consumer made room, with two pauses in between. */
        wall = hvct_now_ns() - t0;
        cpu = cpu_ns() - c0;
        fprintf(stderr, "producer: %u messages in %.0f ms, %.1f ms CPU\n", NMSG, wall / 1e6,
                cpu / 1e6);
        ck_assert_uint_ge(wall, DELAY_US * 1000ull / 2);
        ck_assert_msg(cpu * 5 < wall, "producer polled: %llu ns CPU in %llu ns",
                      (unsigned long long)cpu, (unsigned long long)wall);
    }
    /* We slept on our event and were woken through it, by doorbells. */
    hvct_assert_rc(hvc_event_stats(&r, &mine->obj, &es), 0);
    ck_assert_uint_eq(es.valid, 1);
    ck_assert_uint_eq(es.kind, HVC_EVENT_AUTO);
    ck_assert_uint_gt(es.sleeps, 0);
    ck_assert_uint_gt(es.wakes, 0);
    ck_assert_uint_gt(mine->sleep_calls, 0);
    ck_assert_uint_gt(hvct_bell_received, bells0);
    hvct_assert_rc(hvc_ring_stats(&r, &q.data_ev.obj, &rs), -HVC_ETYPE);
    {
        struct hvc_obj o;

        hvct_assert_rc(hvc_obj_open(&r, "dbring", HVC_OBJ_RING, &o), 0);
        hvct_assert_rc(hvc_ring_stats(&r, &o, &rs), 0);
        ck_assert_uint_gt(rs.wakeups, 0);
        ck_assert_uint_eq(rs.msgs_sent, NMSG);
    }
    fprintf(stderr, "%s: event sleeps %u wakes %u, doorbells received %lu, ring wake-ups %u\n",
            parent_role == HVC_RING_PRODUCER ? "producer" : "consumer", es.sleeps, es.wakes,
            hvct_bell_received - bells0, rs.wakeups);
    finish_parent(done, pid, &r, path);
}

START_TEST(ring_doorbell_consumer_sleeps)
{
    doorbell_case(HVC_RING_CONSUMER);
}
END_TEST

START_TEST(ring_doorbell_producer_sleeps)
{
    doorbell_case(HVC_RING_PRODUCER);
}
END_TEST

/* The events' names: derived from the ring's offset, taken names refused. */
START_TEST(ring_event_names)
{
    const char *path = hvct_region_path("ringnames");
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 16};
    struct hvc_ring_attr attr = {.capacity = 256, .max_msg = 32, .writer = -1,
                                 .flags = HVC_RING_BLOCKING};
    struct hvc_ring p, c;
    struct hvc_region r;
    struct hvc_obj o;
    struct hvc_obj_spec squat = {.type = HVC_OBJ_RAW, .size = 64, .writer = HVC_PEER_ANY};
    char name[HVC_NAME_MAX + 1];

    hvct_bell_self = -1;
    hvct_assert_rc(hvc_region_format(&r, hvc_platform_posix(), path, &cfg), 0);
    ck_assert_int_ge(hvc_peer_join(&r, "names"), 0);
    hvct_assert_rc(hvc_ring_create(&p, &r, "named", &attr), 0);
    hvct_assert_rc(hvc_obj_open(&r, "named", HVC_OBJ_RING, &o), 0);
    snprintf(name, sizeof(name), ".ring.%llx.c", (unsigned long long)o.offset);
    ck_assert_str_eq(p.data_ev.obj.name, name);
    snprintf(name, sizeof(name), ".ring.%llx.p", (unsigned long long)o.offset);
    ck_assert_str_eq(p.space_ev.obj.name, name);
    hvct_assert_rc(hvc_ring_open(&c, &r, "named", HVC_RING_CONSUMER), 0);
    ck_assert_uint_eq(c.data_ev.obj.offset, p.data_ev.obj.offset);
    ck_assert_uint_eq(c.space_ev.obj.offset, p.space_ev.obj.offset);
    /* A plain ring has no events. */
    attr.flags = 0;
    hvct_assert_rc(hvc_ring_create(&c, &r, "plain", &attr), 0);
    ck_assert_ptr_null(c.data_ev.w);
    /* A squatter on the next ring's event name: -HVC_EEXIST, and the ring
     * object is gone again. The next object lands where "plain" ends. */
    hvct_assert_rc(hvc_obj_open(&r, "plain", HVC_OBJ_RING, &o), 0);
    snprintf(name, sizeof(name), ".ring.%llx.p",
             (unsigned long long)(o.offset + o.size + 64u));
    squat.name = name;
    hvct_assert_rc(hvc_obj_create(&r, &squat, &o), 0);
    attr.flags = HVC_RING_BLOCKING;
    {
        int rc = hvc_ring_create(&c, &r, "squatted", &attr);

        fprintf(stderr, "squatted ring: %s\n", hvc_errname(rc));
        if (rc == 0) {
            /* The allocator placed it elsewhere: names did not collide. */
            ck_assert_str_ne(c.space_ev.obj.name, name);
        } else {
            hvct_assert_rc(rc, -HVC_EEXIST);
            hvct_assert_rc(hvc_obj_open(&r, "squatted", HVC_OBJ_RING, &o), -HVC_ENOENT);
        }
    }
    hvc_region_detach(&r);
}
END_TEST


/* hvc_ring_wait_any() on the doorbell backend: hvc_event_wait_any() then
 * sleeps on this peer's doorbell (wait_notify), not on a bell word. The
 * parent waits on two rings; the child publishes on one of them per round,
 * after the parent acknowledged the previous round and then registered a
 * new sleep on that ring's data event (its sleeps counter moved). */
#define ANY_ROUNDS 40u

struct any_board {
    uint32_t acked;
};

static int any_producer(void *arg)
{
    struct child_args *a = arg;
    struct hvc_region r;
    struct hvc_ring q[2];
    struct hvc_obj o;
    struct any_board *b;
    uint8_t buf[MAXMSG];

    hvct_bell_self = 1;
    if (hvc_region_attach(&r, nowait_platform(), a->path, 0) < 0 ||
        hvc_peer_join(&r, "slow") != 1 || hvc_ring_open(&q[0], &r, "any0", HVC_RING_PRODUCER) < 0 ||
        hvc_ring_open(&q[1], &r, "any1", HVC_RING_PRODUCER) < 0 ||
        hvc_obj_open(&r, "anyboard", HVC_OBJ_RAW, &o) < 0)
        return 2;
    b = o.ptr;
    for (uint32_t round = 0; round < ANY_ROUNDS; round++) {
        unsigned k = (unsigned)(rt_mix(round) & 1u);
        unsigned long long t0 = hvct_now_ns();
        struct hvc_event_stats es = {0};
        uint32_t len = rt_len(round, MAXMSG);

        while (hvc_load_acquire(&b->acked) != round) {
            if (hvct_now_ns() - t0 > 10000000000ull)
                return 4;
            sched_yield();
        }
        if (hvc_event_stats(&r, &q[k].data_ev.obj, &es) != 0)
            return 5;
        {
            uint32_t s0 = es.sleeps;

            /* A sleep registered after the acknowledgement. */
            while (hvc_event_stats(&r, &q[k].data_ev.obj, &es) == 0 && es.sleeps == s0) {
                if (hvct_now_ns() - t0 > 10000000000ull)
                    return 6;
                sched_yield();
            }
        }
        rt_fill(buf, len, round);
        if (hvc_ring_send(&q[k], buf, len) != 0)
            return 7;
    }
    {
        char c;

        (void)!read(a->done_fd, &c, 1);
    }
    hvc_region_detach(&r);
    return 0;
}

START_TEST(ring_doorbell_wait_any)
{
    const char *path = hvct_region_path("ringdbany");
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 16};
    struct hvc_ring_attr attr = {.capacity = 1024, .max_msg = MAXMSG, .writer = 1,
                                 .flags = HVC_RING_BLOCKING};
    struct hvc_obj_spec spec = {.name = "anyboard", .type = HVC_OBJ_RAW,
                                .size = sizeof(struct any_board), .writer = HVC_PEER_ANY};
    struct child_args a = {.path = path, .role = HVC_RING_PRODUCER};
    struct hvc_region r;
    struct hvc_ring q[2];
    struct hvc_ring *rings[2] = {&q[0], &q[1]};
    struct hvc_obj o;
    struct any_board *b;
    uint8_t buf[MAXMSG];
    unsigned long bells0;
    int done[2];
    pid_t pid;

    hvct_bell_self = 0;
    hvct_assert_rc(hvc_region_format(&r, nowait_platform(), path, &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "parent"), 0);
    hvct_assert_rc(hvc_ring_create(&q[0], &r, "any0", &attr), 0);
    hvct_assert_rc(hvc_ring_create(&q[1], &r, "any1", &attr), 0);
    hvct_assert_rc(hvc_obj_create(&r, &spec, &o), 0);
    b = o.ptr;
    bells0 = hvct_bell_received;
    ck_assert_int_eq(pipe(done), 0);
    a.done_fd = done[0];
    pid = hvct_fork(any_producer, &a);
    for (uint32_t round = 0; round < ANY_ROUNDS; round++) {
        unsigned k = (unsigned)(rt_mix(round) & 1u);
        int idx = hvc_ring_wait_any(rings, 2, TIMEOUT_NS), rc;

        ck_assert_msg(idx == (int)k, "round %u: %d (%s), expected %u", round, idx,
                      hvc_errname(idx), k);
        rc = hvc_ring_recv(&q[k], buf, sizeof(buf));
        ck_assert_msg(rc >= 0 && rt_check(buf, (uint32_t)rc, round, MAXMSG), "round %u", round);
        hvc_store_release(&b->acked, round + 1u);
    }
    /* Woken through doorbells: the sleeps went to the platform. */
    ck_assert_uint_gt(q[0].data_ev.sleep_calls, 0);
    ck_assert_uint_gt(hvct_bell_received, bells0);
    fprintf(stderr, "wait_any: %u rounds, %lu doorbells received, %llu sleeps\n", ANY_ROUNDS,
            hvct_bell_received - bells0, (unsigned long long)q[0].data_ev.sleep_calls);
    finish_parent(done, pid, &r, path);
}
END_TEST

int main(void)
{
    return hvct_main("ring_doorbell", hvct_leak_setup, hvct_leak_teardown, 60,
                     HVCT_TESTS(ring_doorbell_consumer_sleeps, ring_doorbell_producer_sleeps,
                                ring_event_names, ring_doorbell_wait_any));
}
