/*
 * hvcomm-soak: stream N checksummed messages (default 10^9) from a producer
 * process to a consumer process through one blocking ring, and count what the
 * consumer saw: lost (a sequence number skipped), duplicated (one seen again
 * or out of order) and corrupt (checksum or length wrong) messages. All three
 * must be 0; the exit code is 0 only then. It prints the rate, never fails on
 * it. Run by hand (it takes minutes):
 *
 *   nice -n 19 build/gcc/bench/soak/hvcomm-soak [COUNT] [REGION]
 */
#define _GNU_SOURCE
#include <hvcomm/hvcomm.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXWORDS 8u /* messages are 2..8 words of 8 bytes */
#define CAPACITY (1u << 16)
#define WAIT_NS 10000000000ll /* a failure bound only: 10 s without progress */

struct counts {
    uint64_t received, lost, duplicated, corrupt, errors;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    return x;
}

/* Words of message seq: [seq][body...][checksum of the others]. */
static uint32_t fill(uint64_t *w, uint64_t seq)
{
    uint32_t n = 2u + (uint32_t)(mix(seq) % (MAXWORDS - 1u));
    uint64_t sum = seq;

    w[0] = seq;
    for (uint32_t i = 1; i + 1 < n; i++) {
        w[i] = mix(seq + i);
        sum = mix(sum ^ w[i]);
    }
    w[n - 1] = sum;
    return n * 8u;
}

/* 1 when the message is intact (its length and checksum agree). */
static int intact(const uint64_t *w, uint32_t len)
{
    uint32_t n = len / 8u;
    uint64_t sum;

    if (len % 8u != 0 || n < 2 || n > MAXWORDS || n != 2u + mix(w[0]) % (MAXWORDS - 1u))
        return 0;
    sum = w[0];
    for (uint32_t i = 1; i + 1 < n; i++) {
        if (w[i] != mix(w[0] + i))
            return 0;
        sum = mix(sum ^ w[i]);
    }
    return w[n - 1] == sum;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int consume(const char *path, uint64_t count, int fd)
{
    const struct hvc_platform *posix = hvc_platform_posix();
    struct counts c = {0};
    struct hvc_region r;
    struct hvc_ring ring;
    uint64_t w[MAXWORDS], expect = 0;

    if (hvc_region_attach(&r, posix, path, 0) < 0 || hvc_peer_join(&r, "soak-consumer") < 0 ||
        hvc_ring_open(&ring, &r, "soak", HVC_RING_CONSUMER) < 0)
        return 10;
    while (expect < count) {
        int rc = hvc_ring_recv(&ring, w, sizeof(w));

        if (rc == -HVC_EAGAIN) {
            rc = hvc_ring_wait_readable(&ring, WAIT_NS);
            if (rc == 0)
                continue;
            fprintf(stderr, "soak: consumer wait: %s after %" PRIu64 " messages\n",
                    hvc_errname(rc), c.received);
            break;
        }
        if (rc < 0) {
            c.errors++;
            if (c.errors > 1000)
                break;
            continue;
        }
        c.received++;
        if (!intact(w, (uint32_t)rc)) {
            c.corrupt++;
            continue;
        }
        if (w[0] < expect) {
            c.duplicated++;
        } else {
            c.lost += w[0] - expect;
            expect = w[0] + 1;
        }
    }
    if (write(fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
        return 11;
    hvc_region_detach(&r);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000000ull;
    char defpath[64];
    const char *path = argc > 2 ? argv[2] : defpath;
    const struct hvc_platform *posix = hvc_platform_posix();
    struct hvc_region_config cfg = {.size = 4u << 20, .max_peers = 4, .max_objects = 8};
    struct hvc_ring_attr attr = {.capacity = CAPACITY, .max_msg = MAXWORDS * 8u, .writer = -1,
                                 .flags = HVC_RING_BLOCKING};
    struct hvc_region r;
    struct hvc_ring ring;
    struct counts c = {0};
    uint64_t w[MAXWORDS], seq;
    int pfd[2], status = 0, send_err = 0;
    double t0, t1;
    pid_t pid;

    snprintf(defpath, sizeof(defpath), "/dev/shm/hvc-soak-%d", (int)getpid());
    if (count == 0 || pipe(pfd) < 0)
        return 2;
    if (hvc_region_format(&r, posix, path, &cfg) < 0 || hvc_peer_join(&r, "soak-producer") < 0 ||
        hvc_ring_create(&ring, &r, "soak", &attr) < 0) {
        fprintf(stderr, "soak: cannot set up the region %s\n", path);
        return 2;
    }
    pid = fork();
    if (pid == 0)
        _exit(consume(path, count, pfd[1]));
    t0 = now_s();
    for (seq = 0; seq < count; seq++) {
        uint32_t len = fill(w, seq);
        int rc;

        while ((rc = hvc_ring_send(&ring, w, len)) == -HVC_EAGAIN) {
            rc = hvc_ring_wait_writable(&ring, len, WAIT_NS);
            if (rc < 0)
                break;
        }
        if (rc < 0) {
            fprintf(stderr, "soak: send %" PRIu64 ": %s\n", seq, hvc_errname(rc));
            send_err = 1;
            break;
        }
        if ((seq & ((1u << 27) - 1)) == 0 && seq > 0)
            fprintf(stderr, "soak: %" PRIu64 " sent, %.1f M/s\n", seq,
                    (double)seq / (now_s() - t0) / 1e6);
    }
    hvc_ring_flush(&ring);
    if (read(pfd[0], &c, sizeof(c)) != (ssize_t)sizeof(c))
        c.errors++;
    t1 = now_s();
    waitpid(pid, &status, 0);
    printf("soak: sent %" PRIu64 " received %" PRIu64 " lost %" PRIu64 " duplicated %" PRIu64
           " corrupt %" PRIu64 " recv-errors %" PRIu64 " in %.1f s = %.2f M msg/s\n",
           seq, c.received, c.lost, c.duplicated, c.corrupt, c.errors, t1 - t0,
           (double)c.received / (t1 - t0) / 1e6);
    hvc_region_detach(&r);
    hvc_platform_unlink(posix, path);
    if (send_err || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || c.received != count ||
        c.lost != 0 || c.duplicated != 0 || c.corrupt != 0 || c.errors != 0) {
        printf("soak: FAILED\n");
        return 1;
    }
    printf("soak: OK\n");
    return 0;
}
