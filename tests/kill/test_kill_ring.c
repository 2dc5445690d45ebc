/*
 * Kill test for rings: a producer and a consumer process stream checksummed
 * messages (many of them fragmented: hvc_ring_stream_*) through a ring in a
 * file-backed region, while the supervisor SIGKILLs one of them at a random
 * point, hundreds of times, and restarts it (same peer slot: the dead one's
 * is freed first). Both keep their progress in a log object in the region,
 * so the counts survive their deaths.
 *
 * Counted by the consumer, checked at the end:
 *   accepted     whole messages taken (each intact: sequence and checksum)
 *   truncated    a message accepted that is only a piece of one (the tail
 *                fragment after a restart); must be 0 (HVC_KILL_EXPECT_NO_
 *                TRUNCATION, default 1: the fix is on branch ring-hard)
 *   corrupt      any other bad message; must be 0
 *   lost         committed messages never accepted; must be 0
 *   duplicated   a message seen again other than the one resend below; 0
 *   resent       the producer's last message again after a producer kill
 *                (committed, but killed before it logged it): allowed
 *   skipped      one message at a consumer restart: the one it was
 *                reading (its first fragments consumed by the dead
 *                incarnation) or had taken but not yet logged: allowed
 *   dropped      fragments the reader cannot reassemble (the rest of a
 *                message after a consumer restart, a message cut short by a
 *                producer kill and sent again in full): dropped by the ring
 *                (hvc_ring_stats::frag_drops) or refused with -HVC_EPROTO
 *                by older readers: allowed
 * and every restart must reattach (attach, join, open) as the same peer.
 * At the end the producer stops, the consumer drains, and everything the
 * producer logged as committed must have been accepted.
 *
 *   test_kill_ring [ITERATIONS]   (or HVC_KILL_ITERATIONS; default 200)
 */
#include "killtest.h"
#include "../ring/ringtest.h"

#include <sched.h>

#ifndef HVC_KILL_EXPECT_NO_TRUNCATION
#define HVC_KILL_EXPECT_NO_TRUNCATION 1
#endif

#define SIZE (1u << 20)
#define CAP 4096u
#define MAXMSG 100u  /* record payload */
#define MSGMAX 300u  /* message: up to 3 fragments */
#define PRODUCER 1u  /* peer slots */
#define CONSUMER 2u

struct klog {
    uint64_t prod_next;    /* producer: next message to send */
    uint64_t cons_next;    /* consumer: next message expected */
    uint64_t prod_inc;     /* incarnations */
    uint64_t cons_inc;
    uint32_t stop;         /* supervisor: producer, stop at prod_next */
    uint32_t prod_done;    /* producer: stopped */
    uint64_t accepted, truncated, corrupt, lost, duplicated, resent, skipped, eproto;
};

static const struct hvc_platform *posix;

/* Every message is at least 12 bytes, so it always names its sequence
 * number: [seq 8][checksum 4][bytes derived from seq] (ringtest.h). */
static uint32_t msg_len(uint64_t seq)
{
    return 12u + rt_len(seq, MSGMAX - 12u);
}

static int msg_ok(const uint8_t *p, uint64_t len, uint64_t seq)
{
    uint8_t ref[MSGMAX];

    if (len != msg_len(seq))
        return 0;
    rt_fill(ref, (uint32_t)len, seq);
    return memcmp(ref, p, (size_t)len) == 0;
}

static struct klog *open_log(struct hvc_region *r)
{
    struct hvc_obj o;

    if (hvc_obj_open(r, "log", HVC_OBJ_RAW, &o) < 0)
        return NULL;
    return o.ptr;
}

static void add(uint64_t *c, uint64_t n)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELEASE);
}

static int producer(const char *path)
{
    struct hvc_region r;
    struct hvc_ring q;
    struct hvc_ring_stream st;
    struct klog *log;
    uint8_t buf[MSGMAX];
    int rc;

    if (hvc_region_attach(&r, posix, path, 0) < 0)
        return 10;
    if ((rc = hvc_peer_join(&r, "producer")) != (int)PRODUCER)
        return 11;
    if (hvc_ring_open(&q, &r, "ring", HVC_RING_PRODUCER) < 0 || (log = open_log(&r)) == NULL)
        return 12;
    add(&log->prod_inc, 1);
    hvc_ring_stream_reset(&st);
    for (uint64_t seq = __atomic_load_n(&log->prod_next, __ATOMIC_ACQUIRE), last = UINT64_MAX;;) {
        uint32_t len = msg_len(seq);

        /* Told to stop: one more message, whole, after the kills are over,
         * so the consumer sees a message after any it had to skip. */
        if (last == UINT64_MAX && st.done == 0 && __atomic_load_n(&log->stop, __ATOMIC_ACQUIRE))
            last = seq;
        rt_fill(buf, len, seq);
        rc = hvc_ring_stream_send(&q, &st, buf, len);
        if (rc == -HVC_EAGAIN) {
            sched_yield();
            continue;
        }
        if (rc < 0)
            return 13;
        /* Committed; now logged. A kill between the two resends it. */
        seq++;
        __atomic_store_n(&log->prod_next, seq, __ATOMIC_RELEASE);
        if (seq - 1 == last) {
            __atomic_store_n(&log->prod_done, 1, __ATOMIC_RELEASE);
            return 0;
        }
    }
}

static int consumer(const char *path)
{
    struct hvc_region r;
    struct hvc_ring q;
    struct hvc_ring_stream st;
    struct klog *log;
    uint8_t buf[MSGMAX + 64];
    uint64_t prod_inc;
    int fresh = 1; /* no message accepted by this incarnation yet */

    if (hvc_region_attach(&r, posix, path, 0) < 0)
        return 10;
    if (hvc_peer_join(&r, "consumer") != (int)CONSUMER)
        return 11;
    if (hvc_ring_open(&q, &r, "ring", HVC_RING_CONSUMER) < 0 || (log = open_log(&r)) == NULL)
        return 12;
    add(&log->cons_inc, 1);
    hvc_ring_stream_reset(&st);
    prod_inc = __atomic_load_n(&log->prod_inc, __ATOMIC_ACQUIRE);
    for (;;) {
        uint64_t expect = __atomic_load_n(&log->cons_next, __ATOMIC_RELAXED), len = 0, seq;
        uint64_t pinc;
        int rc = hvc_ring_stream_recv(&q, &st, buf, sizeof(buf), &len);

        if (rc == -HVC_EAGAIN) {
            if (__atomic_load_n(&log->prod_done, __ATOMIC_ACQUIRE) &&
                expect >= __atomic_load_n(&log->prod_next, __ATOMIC_ACQUIRE))
                return 0;
            sched_yield();
            continue;
        }
        if (rc == -HVC_EPROTO) {
            /* A fragment without its start (restart) or a message cut short
             * (producer killed mid-message): skipped and counted. */
            add(&log->eproto, 1);
            continue;
        }
        if (rc < 0)
            return 13;
        pinc = __atomic_load_n(&log->prod_inc, __ATOMIC_ACQUIRE);
        seq = expect;
        if (len >= 8)
            memcpy(&seq, buf, 8);
        if (!msg_ok(buf, len, seq)) {
            /* Not a whole message. Right after a restart it is the tail
             * of the message the dead incarnation was reading. */
            add(fresh ? &log->truncated : &log->corrupt, 1);
            continue;
        }
        if (seq + 1 == expect && (fresh || pinc != prod_inc)) {
            add(&log->resent, 1); /* the resend after a kill */
        } else if (seq < expect) {
            add(&log->duplicated, 1);
        } else {
            if (seq == expect + 1 && fresh)
                add(&log->skipped, 1);
            else if (seq > expect)
                add(&log->lost, seq - expect);
            add(&log->accepted, 1);
            __atomic_store_n(&log->cons_next, seq + 1, __ATOMIC_RELEASE);
        }
        prod_inc = pinc;
        fresh = 0;
    }
}

static pid_t start(const char *path, int (*fn)(const char *))
{
    pid_t pid = fork();

    if (pid < 0)
        KT_FAIL("fork");
    if (pid == 0)
        _exit(fn(path));
    return pid;
}

/* Wait for `n` more messages of progress of one side, then spin a random
 * while: the kill lands anywhere in a send or a receive. */
static void wait_progress(const uint64_t *counter, uint64_t n, pid_t pid)
{
    uint64_t from = __atomic_load_n(counter, __ATOMIC_ACQUIRE), t0 = kt_now();
    unsigned spin = (unsigned)(kt_rand() % 20000);

    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) - from < n) {
        int status;

        if (waitpid(pid, &status, WNOHANG) == pid)
            KT_FAIL("worker %d exited with status %d (failed to reattach or open?)", (int)pid,
                    status);
        if (kt_now() - t0 > KT_WAIT_NS)
            KT_FAIL("no progress for %llu s", KT_WAIT_NS / 1000000000ull);
        sched_yield();
    }
    for (volatile unsigned i = 0; i < spin; i++)
        ;
}

int main(int argc, char **argv)
{
    unsigned iters = kt_iterations(argc, argv, 200), pkills = 0, ckills = 0;
    const char *path = kt_path("ring");
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 8, .max_objects = 16};
    struct hvc_ring_attr attr = {.capacity = CAP, .max_msg = MAXMSG, .writer = PRODUCER};
    struct hvc_obj_spec spec = {.name = "log", .type = HVC_OBJ_RAW, .size = sizeof(struct klog),
                                .writer = HVC_PEER_ANY};
    struct hvc_region r;
    struct hvc_ring ring;
    struct hvc_obj o;
    struct klog *log;
    pid_t prod, cons;
    uint64_t t0 = kt_now();
    int status, fail = 0;

    posix = hvc_platform_posix();
    kt_rng ^= (uint64_t)getpid() << 20;
    if (hvc_region_format(&r, posix, path, &cfg) < 0 || hvc_peer_join(&r, "supervisor") != 0)
        KT_FAIL("format %s", path);
    if (hvc_obj_create(&r, &spec, &o) < 0)
        KT_FAIL("log object");
    log = o.ptr;
    if (hvc_ring_create(&ring, &r, "ring", &attr) < 0)
        KT_FAIL("ring");
    prod = start(path, producer);
    kt_wait_ready(&r, PRODUCER, prod);
    cons = start(path, consumer);
    kt_wait_ready(&r, CONSUMER, cons);

    for (unsigned i = 0; i < iters; i++) {
        int victim = (int)(kt_rand() % 2);
        uint64_t n = 1 + kt_rand() % 200;

        if (victim == 0) {
            wait_progress(&log->prod_next, n, prod);
            kt_kill(&r, prod, PRODUCER);
            prod = start(path, producer);
            kt_wait_ready(&r, PRODUCER, prod);
            pkills++;
        } else {
            wait_progress(&log->cons_next, n, cons);
            kt_kill(&r, cons, CONSUMER);
            cons = start(path, consumer);
            kt_wait_ready(&r, CONSUMER, cons);
            ckills++;
        }
    }
    /* Stop the producer, let the consumer drain everything committed. */
    __atomic_store_n(&log->stop, 1, __ATOMIC_RELEASE);
    if (waitpid(prod, &status, 0) != prod || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        KT_FAIL("producer ended with status %d", status);
    if (waitpid(cons, &status, 0) != cons || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        KT_FAIL("consumer ended with status %d", status);

    printf("kill test (ring): %u kills (%u producer, %u consumer) in %.1f s, every restart "
           "reattached\n", pkills + ckills, pkills, ckills, (double)(kt_now() - t0) / 1e9);
    printf("  committed %llu, accepted %llu (all intact), truncated %llu, corrupt %llu, "
           "lost %llu, duplicated %llu\n",
           (unsigned long long)log->prod_next, (unsigned long long)log->accepted,
           (unsigned long long)log->truncated, (unsigned long long)log->corrupt,
           (unsigned long long)log->lost, (unsigned long long)log->duplicated);
    {
        struct hvc_obj ro;
        struct hvc_ring_stats rs = {0};

        if (hvc_obj_open(&r, "ring", HVC_OBJ_RING, &ro) < 0 || hvc_ring_stats(&r, &ro, &rs) < 0)
            KT_FAIL("ring stats");
        printf("  allowed: resent after a producer kill %llu, skipped at a consumer restart %llu, "
               "-HVC_EPROTO results %llu, fragment records dropped %u (by the last consumer only: "
               "the ring's shared counters restart at every attach)\n",
               (unsigned long long)log->resent, (unsigned long long)log->skipped,
               (unsigned long long)log->eproto, (unsigned)rs.frag_drops);
    }
    if (log->cons_next != log->prod_next) {
        printf("FAIL: the consumer ended at %llu, the producer committed %llu\n",
               (unsigned long long)log->cons_next, (unsigned long long)log->prod_next);
        fail = 1;
    }
    if (log->corrupt || log->lost || log->duplicated) {
        printf("FAIL: corrupt, lost or duplicated messages\n");
        fail = 1;
    }
    if (log->truncated) {
        printf("%s: %llu truncated messages accepted (tails of fragmented messages taken as "
               "whole ones after a consumer restart; fixed on branch ring-hard)\n",
               HVC_KILL_EXPECT_NO_TRUNCATION ? "FAIL" : "KNOWN BUG (not asserted)",
               (unsigned long long)log->truncated);
        if (HVC_KILL_EXPECT_NO_TRUNCATION)
            fail = 1;
    }
    hvc_region_detach(&r);
    unlink(path);
    return fail;
}
