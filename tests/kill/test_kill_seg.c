/*
 * Kill test for locked segments: an owner process takes the lock, rewrites
 * the whole segment slowly (sequence number, 64 words derived from it, a
 * checksum last), unlocks, and again, holding the lock nearly all the time.
 * The supervisor SIGKILLs it at a random point, hundreds of times; after
 * each kill it takes the lock itself and checks:
 *   - if the dead owner held the lock, the lock reports HVC_SEG_OWNERDEAD
 *     (every time); the data is checked, repaired when torn (rewritten
 *     whole), hvc_seg_consistent() called, and the lock released;
 *   - if it did not, the lock is a plain 0 and the data is intact;
 * then restarts the owner, which must reattach as the same peer. The counts
 * are printed; the segment's own "recovered" counter must match.
 *
 *   test_kill_seg [ITERATIONS]   (or HVC_KILL_ITERATIONS; default 200)
 */
#include "killtest.h"

#include <sched.h>

#define OWNER 1u
#define WORDS 64

struct data {
    uint64_t seq;
    uint64_t word[WORDS];
    uint64_t sum;
};

struct slog {
    uint64_t rounds; /* owner: completed rewrites */
};

static const struct hvc_platform *posix;

static uint64_t word_of(uint64_t seq, unsigned i)
{
    uint64_t x = seq * 0x9e3779b97f4a7c15ull + i;

    x ^= x >> 31;
    return x * 0xbf58476d1ce4e5b9ull;
}

static uint64_t sum_of(const struct data *d)
{
    uint64_t s = d->seq;

    for (unsigned i = 0; i < WORDS; i++)
        s = (s ^ d->word[i]) * 0x100000001b3ull;
    return s;
}

static int intact(const volatile struct data *vd)
{
    struct data d;

    memcpy(&d, (const void *)vd, sizeof(d));
    for (unsigned i = 0; i < WORDS; i++)
        if (d.word[i] != word_of(d.seq, i))
            return 0;
    return d.sum == sum_of(&d);
}

static void rewrite(volatile struct data *d, uint64_t seq, int slowly)
{
    d->seq = seq;
    for (unsigned i = 0; i < WORDS; i++) {
        d->word[i] = word_of(seq, i);
        if (slowly)
            for (volatile int k = 0; k < 20; k++)
                ;
    }
    d->sum = sum_of((const struct data *)d);
}

static int owner(const char *path)
{
    struct hvc_region r;
    struct hvc_seg seg;
    struct hvc_obj o;
    struct slog *log;

    if (hvc_region_attach(&r, posix, path, 0) < 0)
        return 10;
    if (hvc_peer_join(&r, "owner") != (int)OWNER)
        return 11;
    if (hvc_seg_open(&r, "seg", 0, &seg) < 0 || hvc_obj_open(&r, "log", HVC_OBJ_RAW, &o) < 0)
        return 12;
    log = o.ptr;
    for (;;) {
        volatile struct data *d;
        int rc = hvc_seg_lock_timeout(&seg, (int64_t)KT_WAIT_NS);

        if (rc != 0)
            return 13; /* the supervisor repairs before restarting us */
        d = hvc_seg_data(&seg);
        if (!intact(d))
            return 14;
        rewrite(d, d->seq + 1, 1);
        if (hvc_seg_unlock(&seg) < 0)
            return 15;
        __atomic_store_n(&log->rounds, log->rounds + 1, __ATOMIC_RELEASE);
    }
}

static pid_t start(const char *path)
{
    pid_t pid = fork();

    if (pid < 0)
        KT_FAIL("fork");
    if (pid == 0)
        _exit(owner(path));
    return pid;
}

int main(int argc, char **argv)
{
    unsigned iters = kt_iterations(argc, argv, 200);
    unsigned held = 0, free_at_kill = 0, torn = 0, whole = 0;
    const char *path = kt_path("seg");
    struct hvc_region_config cfg = {.size = 1u << 20, .max_peers = 8, .max_objects = 16};
    struct hvc_obj_spec spec = {.name = "log", .type = HVC_OBJ_RAW, .size = sizeof(struct slog),
                                .writer = HVC_PEER_ANY};
    struct hvc_region r;
    struct hvc_seg seg;
    struct hvc_seg_stats st;
    struct hvc_obj o, so;
    struct slog *log;
    uint64_t t0 = kt_now();
    pid_t pid;

    posix = hvc_platform_posix();
    kt_rng ^= (uint64_t)getpid() << 20;
    if (hvc_region_format(&r, posix, path, &cfg) < 0 || hvc_peer_join(&r, "supervisor") != 0)
        KT_FAIL("format %s", path);
    if (hvc_obj_create(&r, &spec, &o) < 0 || hvc_seg_create(&r, "seg", sizeof(struct data),
                                                            &seg) < 0 ||
        hvc_obj_open(&r, "seg", HVC_OBJ_SEGMENT, &so) < 0)
        KT_FAIL("objects");
    log = o.ptr;
    if (hvc_seg_lock(&seg) != 0)
        KT_FAIL("first lock");
    rewrite(hvc_seg_data(&seg), 0, 0);
    hvc_seg_unlock(&seg);
    pid = start(path);
    kt_wait_ready(&r, OWNER, pid);

    for (unsigned i = 0; i < iters; i++) {
        uint64_t from = __atomic_load_n(&log->rounds, __ATOMIC_ACQUIRE), n = 1 + kt_rand() % 20;
        unsigned spin = (unsigned)(kt_rand() % 5000);
        uint64_t w0 = kt_now();
        volatile struct data *d;
        int rc, was_held;

        /* Some progress first, then a random while: anywhere in a round. */
        while (__atomic_load_n(&log->rounds, __ATOMIC_ACQUIRE) - from < n) {
            int status;

            if (waitpid(pid, &status, WNOHANG) == pid)
                KT_FAIL("owner exited with status %d", status);
            if (kt_now() - w0 > KT_WAIT_NS)
                KT_FAIL("owner made no progress");
            sched_yield();
        }
        for (volatile unsigned k = 0; k < spin; k++)
            ;
        kt_kill(&r, pid, OWNER);
        if (hvc_seg_stats(&r, &so, &st) < 0)
            KT_FAIL("stats");
        was_held = st.owner != 0;
        rc = hvc_seg_lock_timeout(&seg, (int64_t)KT_WAIT_NS);
        d = hvc_seg_data(&seg);
        if (was_held) {
            if (rc != HVC_SEG_OWNERDEAD)
                KT_FAIL("kill %u: the dead owner held the lock, lock returned %d (%s)", i, rc,
                        hvc_errname(rc));
            held++;
            if (intact(d)) {
                whole++;
            } else {
                torn++;
                rewrite(d, d->seq, 0); /* the repair: a whole value again */
            }
            if ((rc = hvc_seg_consistent(&seg)) < 0)
                KT_FAIL("consistent: %s", hvc_errname(rc));
        } else {
            if (rc != 0)
                KT_FAIL("kill %u: lock free at the kill, lock returned %d (%s)", i, rc,
                        hvc_errname(rc));
            if (!intact(d))
                KT_FAIL("kill %u: the lock was free but the data is torn", i);
            free_at_kill++;
        }
        if (!intact(d))
            KT_FAIL("kill %u: data not repaired", i);
        if ((rc = hvc_seg_unlock(&seg)) < 0)
            KT_FAIL("unlock: %s", hvc_errname(rc));
        pid = start(path);
        kt_wait_ready(&r, OWNER, pid);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (hvc_seg_stats(&r, &so, &st) < 0)
        KT_FAIL("stats");
    printf("kill test (segment): %u kills in %.1f s, every restart reattached; %llu rounds\n",
           iters, (double)(kt_now() - t0) / 1e9, (unsigned long long)log->rounds);
    printf("  owner held the lock at %u kills: HVC_SEG_OWNERDEAD every time, data torn and "
           "repaired %u, whole %u; lock free at %u kills (data intact); recovered counter %u\n",
           held, torn, whole, free_at_kill, st.recovered);
    if (st.recovered != held)
        KT_FAIL("the segment counted %u recoveries, we saw %u", st.recovered, held);
    if (held == 0)
        KT_FAIL("no kill hit the owner holding the lock: the test proves nothing");
    hvc_region_detach(&r);
    unlink(path);
    return 0;
}
