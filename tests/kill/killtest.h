/* Shared pieces of the kill tests: a supervisor forks workers over a
 * file-backed region, SIGKILLs them at random points and restarts them. */
#ifndef HVCT_KILLTEST_H
#define HVCT_KILLTEST_H

#define _GNU_SOURCE
#include <hvcomm/hvcomm.h>

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KT_WAIT_NS 30000000000ull /* failure bound only: 30 s without progress */

static inline uint64_t kt_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t kt_rng = 0x9e3779b97f4a7c15ull;

static inline uint64_t kt_rand(void)
{
    kt_rng ^= kt_rng << 13;
    kt_rng ^= kt_rng >> 7;
    kt_rng ^= kt_rng << 17;
    return kt_rng;
}

/* Iterations: the first argument, else $HVC_KILL_ITERATIONS, else dflt. */
static inline unsigned kt_iterations(int argc, char **argv, unsigned dflt)
{
    const char *s = argc > 1 ? argv[1] : getenv("HVC_KILL_ITERATIONS");

    return s != NULL && atoi(s) > 0 ? (unsigned)atoi(s) : dflt;
}

static char kt_region[128];
static pid_t kt_owner;

static inline void kt_cleanup(void)
{
    if (getpid() == kt_owner) /* the supervisor only, not a worker */
        unlink(kt_region);
}

/* A fresh region file path, removed when the supervisor exits. */
static inline const char *kt_path(const char *tag)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

    snprintf(kt_region, sizeof(kt_region), "%s/hvct-kill-%d-%s", dir, (int)getpid(), tag);
    unlink(kt_region);
    kt_owner = getpid();
    atexit(kt_cleanup);
    return kt_region;
}

#define KT_FAIL(...)                                                            \
    do {                                                                        \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                  \
        fputc('\n', stderr);                                                    \
        exit(1);                                                                \
    } while (0)

/* Kill a worker, reap it, and free its peer slot (scan: its process is
 * dead; reclaim: GONE -> ABSENT) so that its restart gets the same id. */
static inline void kt_kill(struct hvc_region *r, pid_t pid, uint32_t slot)
{
    int status, rc;

    kill(pid, SIGKILL);
    if (waitpid(pid, &status, 0) != pid)
        KT_FAIL("waitpid");
    if (!WIFSIGNALED(status))
        KT_FAIL("worker %d ended by itself before the kill (status %d): a failed reattach?",
                (int)pid, status);
    rc = hvc_peer_scan(r, 0);
    if (rc < 1)
        KT_FAIL("peer scan after the kill declared %d peers gone", rc);
    rc = hvc_peer_reclaim(r, slot);
    if (rc < 0)
        KT_FAIL("reclaim slot %u: %s", slot, hvc_errname(rc));
}

/* Wait until peer `slot` is READY (the worker has reattached and joined). */
static inline void kt_wait_ready(struct hvc_region *r, uint32_t slot, pid_t pid)
{
    uint64_t t0 = kt_now();
    struct hvc_peer_info pi;

    for (;;) {
        int status;

        if (hvc_peer_info(r, slot, &pi) == 0 && pi.state == HVC_PEER_READY)
            return;
        if (waitpid(pid, &status, WNOHANG) == pid)
            KT_FAIL("worker %d exited (status %d) before joining as peer %u", (int)pid,
                    status, slot);
        if (kt_now() - t0 > KT_WAIT_NS)
            KT_FAIL("worker %d never joined as peer %u", (int)pid, slot);
        sched_yield();
    }
}

#endif
