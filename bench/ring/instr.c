/*
 * hvcomm-ring-instr: the calls whose instructions bench/ring/callgrind.sh
 * counts. One process, one ring, producer and consumer handles on it; each
 * state has its own pair of never-inlined wrappers around hvc_ring_send()
 * and hvc_ring_recv(), each called HVC_INSTR_CALLS times (default 1000)
 * in that state only:
 *
 * - empty:   the ring is empty before every send (send one, receive it);
 * - half:    the ring holds half its capacity before every send;
 * - wrapped: every send is the one whose record starts the next lap (at
 *            offset 0: exactly at the end for 8 B records of 16 bytes,
 *            after a padding record for 64 B records of 72 bytes).
 *
 * Run alone it only checks every message; under callgrind the inclusive
 * count of each wrapper divided by the number of calls is the figure.
 */
#include <hvcomm/hvcomm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE static __attribute__((noinline, used))

static struct hvc_ring p, c;
static uint8_t msg[128], got[128];
static uint32_t size;

static void fail(const char *what, int rc)
{
    fprintf(stderr, "instr: %s: %d\n", what, rc);
    exit(1);
}

typedef int (*call_fn)(void);

#define WRAPPERS(state, sz)                                                            \
    NOINLINE int instr_send_##state##_##sz(void) { return hvc_ring_send(&p, msg, sz); } \
    NOINLINE int instr_recv_##state##_##sz(void) { return hvc_ring_recv(&c, got, sizeof(got)); }
WRAPPERS(empty, 8)
WRAPPERS(half, 8)
WRAPPERS(wrapped, 8)
WRAPPERS(empty, 64)
WRAPPERS(half, 64)
WRAPPERS(wrapped, 64)

/* A receive on an empty ring whose stall was already counted (the
 * bench's polling loop while it waits for a message). */
NOINLINE int instr_poll_empty(void) { return hvc_ring_recv(&c, got, sizeof(got)); }

/* [size 8 or 64][state][send, recv] */
static const call_fn calls_of[2][3][2] = {
    {{instr_send_empty_8, instr_recv_empty_8},
     {instr_send_half_8, instr_recv_half_8},
     {instr_send_wrapped_8, instr_recv_wrapped_8}},
    {{instr_send_empty_64, instr_recv_empty_64},
     {instr_send_half_64, instr_recv_half_64},
     {instr_send_wrapped_64, instr_recv_wrapped_64}},
};

/* Uncounted steps between the counted calls. */
NOINLINE void step(void)
{
    int rc;

    if ((rc = hvc_ring_send(&p, msg, size)) != 0)
        fail("step send", rc);
    if ((rc = hvc_ring_recv(&c, got, sizeof(got))) != (int)size)
        fail("step recv", rc);
}

static void check(int rs, int rr)
{
    if (rs != 0)
        fail("send", rs);
    if (rr != (int)size || memcmp(got, msg, size) != 0)
        fail("recv", rr);
}

int main(void)
{
    struct hvc_region_config cfg = {.size = 4u << 20, .max_peers = 2, .max_objects = 8,
                                    .flags = HVC_FORMAT_EXCL};
    const struct hvc_platform *posix = hvc_platform_posix();
    struct hvc_region reg;
    char path[64];
    const char *e = getenv("HVC_INSTR_CALLS");
    unsigned calls = e != NULL && atoi(e) > 0 ? (unsigned)atoi(e) : 1000;
    int rc;

    for (unsigned i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 13 + 1);
    snprintf(path, sizeof(path), "/hvc-instr-%d", (int)getpid());
    if ((rc = hvc_region_format(&reg, posix, path, &cfg)) < 0 || (rc = hvc_peer_join(&reg, "i")) != 0)
        fail("region", rc);
    for (size = 8; size <= 64; size *= 8) {
        struct hvc_ring_attr a = {.capacity = 4096, .max_msg = 64, .writer = -1};
        char name[16];
        uint32_t rec = HVC_RING_RECORD_SIZE(size);
        const call_fn(*fn)[2] = calls_of[size == 64];

        /* empty: a fresh ring of 8 KiB per 100 calls keeps every send away
         * from the wrap (100 records of at most 72 bytes) */
        for (unsigned i = 0; i < calls; i++) {
            if (i % 100 == 0) {
                snprintf(name, sizeof(name), "e%u.%u", size, i);
                a.capacity = 8192;
                if ((rc = hvc_ring_create(&p, &reg, name, &a)) < 0 ||
                    (rc = hvc_ring_open(&c, &reg, name, HVC_RING_CONSUMER)) < 0)
                    fail("ring", rc);
                a.capacity = 4096;
            }
            rc = fn[0][0]();
            check(rc, fn[0][1]());
            if (i % 100 == 99)
                hvc_obj_delete(&reg, name);
        }
        /* half: half the capacity stays in the ring */
        snprintf(name, sizeof(name), "h%u", size);
        if ((rc = hvc_ring_create(&p, &reg, name, &a)) < 0 ||
            (rc = hvc_ring_open(&c, &reg, name, HVC_RING_CONSUMER)) < 0)
            fail("ring", rc);
        for (uint32_t b = 0; b + rec <= a.capacity / 2; b += rec)
            if ((rc = hvc_ring_send(&p, msg, size)) != 0)
                fail("fill", rc);
        for (unsigned i = 0; i < calls; i++) {
            rc = fn[1][0]();
            check(rc, fn[1][1]());
        }
        hvc_obj_delete(&reg, name);
        /* wrapped: step to the send that starts the next lap */
        snprintf(name, sizeof(name), "w%u", size);
        if ((rc = hvc_ring_create(&p, &reg, name, &a)) < 0 ||
            (rc = hvc_ring_open(&c, &reg, name, HVC_RING_CONSUMER)) < 0)
            fail("ring", rc);
        for (unsigned i = 0; i < calls; i++) {
            step();
            while ((p.head & p.mask) != 0 && p.capacity - (p.head & p.mask) >= rec)
                step();
            rc = fn[2][0]();
            check(rc, fn[2][1]());
        }
        hvc_obj_delete(&reg, name);
        printf("instr: %u B: %u calls per state checked\n", size, calls);
    }
    {
        struct hvc_ring_attr a = {.capacity = 4096, .max_msg = 64, .writer = -1};

        if ((rc = hvc_ring_create(&p, &reg, "poll", &a)) < 0 ||
            (rc = hvc_ring_open(&c, &reg, "poll", HVC_RING_CONSUMER)) < 0)
            fail("ring", rc);
        size = 8;
        step();
        if ((rc = hvc_ring_recv(&c, got, sizeof(got))) != -HVC_EAGAIN) /* the stall, counted */
            fail("poll", rc);
        for (unsigned i = 0; i < calls; i++)
            if ((rc = instr_poll_empty()) != -HVC_EAGAIN)
                fail("poll", rc);
        hvc_obj_delete(&reg, "poll");
        printf("instr: empty polls: %u calls checked\n", calls);
    }
    hvc_region_detach(&reg);
    hvc_platform_unlink(posix, path);
    return 0;
}
