/*
 * The demo's ring stream: the system file declares a blocking ring that
 * guest A (role 0) writes and guest B (role 1) reads. A streams numbered
 * messages of varying sizes into it; B checks every message, and both
 * print a live messages-per-second line. The system is already applied.
 */
#define _GNU_SOURCE
#include <hvcomm/hvcomm.h>
#include <hvcomm/system.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

int demo_ring(struct hvc_region *r, const struct hvc_system *sys, int role, double seconds,
              FILE *out);

#define DEMO_RING "demo.ring"
#define DEMO_MAX 256u
#define END_SEQ UINT64_MAX

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Message seq: 8 bytes of seq, then (seq % 200) bytes of (uint8_t)seq. */
static uint32_t fill(uint8_t *buf, uint64_t seq)
{
    uint32_t len = 8u + (uint32_t)(seq % 200u);

    memcpy(buf, &seq, 8);
    memset(buf + 8, (int)(seq & 0xff), len - 8);
    return len;
}

static int check(const uint8_t *buf, int len, uint64_t seq)
{
    uint8_t ref[DEMO_MAX];

    return len >= 8 && (uint32_t)len == fill(ref, seq) && memcmp(ref, buf, (size_t)len) == 0;
}

static void progress(FILE *out, const char *who, uint64_t total, uint64_t *last_n,
                     double *last_t, int final)
{
    double t = now_s();

    if (!final && t - *last_t < 1.0)
        return;
    if (out != NULL) {
        if (final)
            fprintf(out, "\r%s: %llu messages                                \n", who,
                    (unsigned long long)total);
        else
            fprintf(out, "\r%s: %10.0f messages/s, %llu so far   ", who,
                    (double)(total - *last_n) / (t - *last_t), (unsigned long long)total);
        fflush(out);
    }
    *last_n = total;
    *last_t = t;
}

static int producer(struct hvc_region *r, const struct hvc_system *sys, double seconds,
                    FILE *out)
{
    struct hvc_ring ring;
    uint8_t buf[DEMO_MAX];
    uint64_t seq = 0, last_n = 0;
    double start = now_s(), last_t = start;
    int rc = hvc_system_open_ring(r, sys, DEMO_RING, &ring); /* the writer: producer */

    if (rc < 0)
        return rc;
    if (hvc_ring_max_msg(&ring) < DEMO_MAX)
        return -HVC_EMSGSIZE; /* the file's max-message is too small for the demo */
    while (now_s() - start < seconds) {
        for (int k = 0; k < 1024; k++, seq++) {
            rc = hvc_ring_send_wait(&ring, buf, fill(buf, seq), 1000000000ll);
            if (rc == -HVC_ETIMEDOUT) {
                if (out != NULL)
                    fprintf(out, "\rguest A: the consumer does not read; waiting   ");
                break;
            }
            if (rc < 0)
                return rc;
        }
        progress(out, "guest A sent", seq, &last_n, &last_t, 0);
    }
    memcpy(buf, &(uint64_t){END_SEQ}, 8);
    rc = hvc_ring_send_wait(&ring, buf, 8, 5000000000ll);
    progress(out, "guest A sent", seq, &last_n, &last_t, 1);
    if (out != NULL)
        fprintf(out, "guest A: %.0f messages/s on average\n", (double)seq / (now_s() - start));
    return rc < 0 ? rc : 0;
}

static int consumer(struct hvc_region *r, const struct hvc_system *sys, double seconds,
                    FILE *out)
{
    struct hvc_ring ring;
    uint8_t buf[DEMO_MAX];
    uint64_t seq = 0, last_n = 0;
    double start = now_s(), last_t = start;
    int rc;

    rc = hvc_system_open_ring(r, sys, DEMO_RING, &ring); /* a reader: consumer */
    if (rc < 0)
        return rc;
    start = last_t = now_s();
    for (;;) {
        uint64_t got;

        rc = hvc_ring_recv_wait(&ring, buf, sizeof(buf), 200000000ll);
        if (rc == -HVC_ETIMEDOUT) {
            if (now_s() - start > seconds + 10.0)
                break; /* the producer went away */
            progress(out, "guest B received", seq, &last_n, &last_t, 0);
            continue;
        }
        if (rc < 0)
            return rc;
        memcpy(&got, buf, rc >= 8 ? 8 : 0);
        if (rc == 8 && got == END_SEQ)
            break;
        if (!check(buf, rc, seq)) {
            if (out != NULL)
                fprintf(out, "\nguest B: message %llu is wrong\n", (unsigned long long)seq);
            return -HVC_EPROTO;
        }
        seq++;
        if ((seq & 1023) == 0)
            progress(out, "guest B received", seq, &last_n, &last_t, 0);
    }
    progress(out, "guest B received", seq, &last_n, &last_t, 1);
    if (out != NULL)
        fprintf(out, "guest B: %.0f messages/s on average, every one checked\n",
                (double)seq / (now_s() - start));
    return 0;
}

int demo_ring(struct hvc_region *r, const struct hvc_system *sys, int role, double seconds,
              FILE *out)
{
    if (r == NULL || sys == NULL || (role != 0 && role != 1) || !(seconds > 0))
        return -HVC_EINVAL;
    return role == 0 ? producer(r, sys, seconds, out) : consumer(r, sys, seconds, out);
}
