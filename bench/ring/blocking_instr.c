/*
 * hvcomm-ring-blocking-instr: the cost of the blocking calls without any
 * waiting, in one thread: N times hvc_ring_send_wait() + hvc_ring_recv_wait()
 * of 8 bytes on a blocking ring (MODE 1: light publication, both sides in
 * one fence domain; MODE 2: both announce none, every publication fenced),
 * against hvc_ring_send() + hvc_ring_recv() on a plain ring (MODE 0).
 * Prints ns per pair; under `valgrind --tool=callgrind` the program total
 * divided by N is the instructions per pair (doc/ring.md, "Blocking without
 * a fence per message").
 *
 *     hvcomm-ring-blocking-instr [N [MODE]]     (default 20000000, all modes)
 */
#define _GNU_SOURCE
#include <hvcomm/hvcomm.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* One never-inlined loop per mode: each is compiled on its own, so the
 * inline paths of one mode do not change the code of another. */
static __attribute__((noinline)) int loop_plain(struct hvc_ring *p, struct hvc_ring *c, long n)
{
    char b[64] = {0};

    for (long i = 0; i < n; i++)
        if (hvc_ring_send(p, b, 8) != 0 || hvc_ring_recv(c, b, sizeof(b)) != 8)
            return 3;
    return 0;
}

static __attribute__((noinline)) int loop_blocking(struct hvc_ring *p, struct hvc_ring *c, long n)
{
    char b[64] = {0};

    for (long i = 0; i < n; i++)
        if (hvc_ring_send_wait(p, b, 8, HVC_FOREVER) != 0 ||
            hvc_ring_recv_wait(c, b, sizeof(b), HVC_FOREVER) != 8)
            return 3;
    return 0;
}

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"plain", "blocking light", "blocking fenced"};
    struct hvc_region_config cfg = {.size = 4u << 20, .max_peers = 4, .max_objects = 16};
    struct hvc_region r;
    long n = argc > 1 ? atol(argv[1]) : 20000000;
    int only = argc > 2 ? atoi(argv[2]) : -1;
    char path[64];

    snprintf(path, sizeof(path), "/dev/shm/hvc-blkinstr-%d", (int)getpid());
    if (n <= 0 || hvc_region_format(&r, hvc_platform_posix(), path, &cfg) < 0 ||
        hvc_peer_join(&r, "instr") < 0)
        return 1;
    for (int mode = 0; mode < 3; mode++) {
        struct hvc_ring_attr at = {.capacity = 65536, .max_msg = 64, .writer = -1,
                                   .flags = mode != 0 ? HVC_RING_BLOCKING : 0u};
        struct hvc_ring p, c;
        char name[8];
        double t0;

        if (only >= 0 && mode != only)
            continue;
        snprintf(name, sizeof(name), "r%d", mode);
        if (hvc_ring_create(&p, &r, name, &at) < 0 ||
            hvc_ring_open(&c, &r, name, HVC_RING_CONSUMER) < 0)
            return 2;
        if (mode == 2) {
            hvc_store_release(&p.w->prod_fence, 0u);
            hvc_store_release(&c.w->cons_fence, 0u);
        }
        t0 = now_s();
        if ((mode != 0 ? loop_blocking(&p, &c, n) : loop_plain(&p, &c, n)) != 0)
            return 3;
        printf("%-16s %.2f ns per send + receive (fence domain %s)\n", names[mode],
               (now_s() - t0) / (double)n * 1e9, p.fence & 1u ? "yes" : "no");
    }
    hvc_region_detach(&r);
    unlink(path);
    return 0;
}
