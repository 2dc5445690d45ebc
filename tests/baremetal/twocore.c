/*
 * The two-core test program, shared by every two-core board (riscv64 virt,
 * aarch64 virt, mps2-an521): both cores enter board_main() of one image.
 *
 * Per mode (doorbells through the board's driver, then polling with no
 * driver) on its own region: format/attach, the peer table, named events
 * both ways (auto-reset, counting, broadcast, timed wait, wait-any), a
 * ring stream of random-size checked messages each way with blocking calls,
 * a sampling and a queuing port, a segment lock contended from both cores.
 * Then the hostile-core run and the bench (bench.c). Core 0 reports and
 * exits; core 1's failures reach it through the control block.
 *
 * Synchronisation between the cores is on observable shared words (the
 * barrier steps, hvcomm objects), never on time; deadlines only bound
 * failures.
 */
#include <hvcomm/hvcomm.h>

#include "bmlib.h"
#include "twocore.h"

#ifndef RING_MSGS
#define RING_MSGS 100000u /* per direction, doorbell mode */
#endif
#define SEG_ROUNDS 2000u
#define DEADLINE_NS 60000000000ull /* a failure bound only */


static struct hvc_baremetal bms[2][2];

/* The generated system table (run.sh: `hvcomm gen twocore.yaml`). */
extern const struct hvc_system hvc_system_twocore;
#define SYS (&hvc_system_twocore)

/* The board's windows, with "shm0" where the system table puts it. */
static struct hvc_baremetal_region windows[HVC_BAREMETAL_MAX_REGIONS];

void barrier(uint32_t me, uint32_t n)
{
    uint64_t t0 = board_now_ns();

    /* Pairs with the other core's release store of its step. */
    hvc_store_release(&ctrl->step[me].v, n);
    while (hvc_load_acquire(&ctrl->step[me ^ 1].v) < n) {
        if (board_now_ns() - t0 > DEADLINE_NS) {
            bm_printf("core %u: FAIL barrier %u: the other core never came\n",
                      (unsigned)me, (unsigned)n);
            board_exit(2);
        }
        hvc_cpu_relax();
    }
}

const struct hvc_platform *backend(uint32_t me, bool doorbells)
{
    struct hvc_baremetal *bm = &bms[me][doorbells ? 0 : 1];
    struct hvc_baremetal_desc d;

    board_desc(&d, doorbells);
    for (uint32_t i = 0; i < d.nregions && i < HVC_BAREMETAL_MAX_REGIONS; i++) {
        windows[i] = d.regions[i];
        if (__builtin_strcmp(windows[i].name, "shm0") == 0) {
            windows[i].base = (uintptr_t)SYS->region.baremetal_base;
            windows[i].size = SYS->region.size;
        }
    }
    d.regions = windows;
    board_bm[me] = NULL;
    if (CHECK_RC(hvc_baremetal_init(bm, &d), 0) != 0)
        return NULL;
    if (doorbells)
        board_bm[me] = bm;
    return hvc_platform_baremetal(bm);
}

const struct hvc_baremetal *backend_instance(uint32_t me, bool doorbells)
{
    return &bms[me][doorbells ? 0 : 1];
}

void phase(uint32_t me, const char *what)
{
    if (me == 0)
        bm_printf("  %s\n", what);
}

/* Format (core 0) or attach (core 1) and join; barriers in between. */
int open_region(uint32_t me, const struct hvc_platform *ops, const char *name,
                struct hvc_region *r, uint32_t *step)
{
    struct hvc_region_config cfg = {.max_peers = 4, .max_objects = 48,
                                    .flags = HVC_FORMAT_FORCE};
    char label[8] = "core0";

    label[4] = (char)('0' + me);
    if (me == 0) {
        if (CHECK_RC(hvc_region_format(r, ops, name, &cfg), 0) != 0)
            return -1;
        CHECK_RC(hvc_peer_join(r, label), (int)me);
    }
    barrier(me, ++*step);
    if (me == 1) {
        if (CHECK_RC(hvc_region_attach(r, ops, name, 0), 0) != 0)
            return -1;
        CHECK_RC(hvc_peer_join(r, label), (int)me);
    }
    barrier(me, ++*step);
    return 0;
}

/* The suite's region: core 0 formats it with the table's geometry and
 * applies the table as its creator (joins as core0, creates every object);
 * core 1 attaches and applies it (joins as core1, checks every object). */
static int open_system(uint32_t me, const struct hvc_platform *ops, const char *name,
                       struct hvc_region *r, uint32_t *step)
{
    struct hvc_region_config cfg;

    hvc_system_region_config(SYS, &cfg);
    cfg.flags = HVC_FORMAT_FORCE;
    if (me == 0) {
        if (CHECK_RC(hvc_region_format(r, ops, name, &cfg), 0) != 0 ||
            CHECK_RC(hvc_system_apply(r, SYS, "core0"), 0) != 0)
            return -1;
    }
    barrier(me, ++*step);
    if (me == 1) {
        if (CHECK_RC(hvc_region_attach(r, ops, name, 0), 0) != 0 ||
            CHECK_RC(hvc_system_apply(r, SYS, "core1"), 0) != 0)
            return -1;
    }
    barrier(me, ++*step);
    return 0;
}

static void peers(uint32_t me, struct hvc_region *r)
{
    struct hvc_region_info ri;
    struct hvc_peer_info pi;

    CHECK(hvc_peer_self(r) == (int)me);
    CHECK_RC(hvc_region_info(r, &ri), 0);
    CHECK(ri.peers_ready == 2);
    for (uint32_t id = 0; id < 2; id++) {
        CHECK_RC(hvc_peer_info(r, id, &pi), 0);
        CHECK(pi.state == HVC_PEER_READY);
        CHECK(pi.label[4] == (char)('0' + id) && pi.label[5] == '\0');
        CHECK(pi.token == HVC_BAREMETAL_TOKEN(id));
        CHECK((pi.token & 0x3fffffu) == 0);
    }
    CHECK_RC(hvc_region_validate(r), 0);
}

static void events(uint32_t me, struct hvc_region *r, uint32_t *step)
{
    struct hvc_event a01, a10, c, b, t, any[3];
    struct hvc_event *const anyp[3] = {&any[0], &any[1], &any[2]};
    const char *anyn[3] = {"any.0", "any.1", "any.2"};
    uint64_t t0;

    /* Every event comes from the table, opened in this core's role. */
    CHECK_RC(hvc_system_open_event(r, SYS, "auto.01", &a01), 0);
    CHECK_RC(hvc_system_open_event(r, SYS, "auto.10", &a10), 0);
    CHECK_RC(hvc_system_open_event(r, SYS, "count", &c), 0);
    CHECK_RC(hvc_system_open_event(r, SYS, "bcast", &b), 0);
    CHECK_RC(hvc_system_open_event(r, SYS, "timed", &t), 0);
    for (int i = 0; i < 3; i++)
        CHECK_RC(hvc_system_open_event(r, SYS, anyn[i], &any[i]), 0);
    barrier(me, ++*step);

    phase(me, "  auto");
    /* Auto-reset, both ways: 200 ping-pongs; each side sleeps at once
     * (no spin), so every round trip goes through the backend's sleep. */
    hvc_event_set_spin(&a01, 0);
    hvc_event_set_spin(&a10, 0);
    for (int i = 0; i < 200; i++) {
        if (me == 0) {
            CHECK_RC(hvc_event_signal(&a01), 0);
            CHECK_RC(hvc_event_wait(&a10, HVC_FOREVER), 0);
        } else {
            CHECK_RC(hvc_event_wait(&a01, HVC_FOREVER), 0);
            CHECK_RC(hvc_event_signal(&a10), 0);
        }
    }
    /* An auto-reset event keeps one signal, not two (after core 0 took
     * the last ping-pong signal: the barrier). */
    barrier(me, ++*step);
    if (me == 1) {
        CHECK_RC(hvc_event_signal(&a10), 0);
        CHECK_RC(hvc_event_signal(&a10), 0);
    }
    barrier(me, ++*step);
    if (me == 0) {
        CHECK_RC(hvc_event_trywait(&a10), 0);
        CHECK_RC(hvc_event_trywait(&a10), -HVC_EAGAIN);
    }

    phase(me, "  counting");
    /* Counting: core 1 signals 7, core 0 takes exactly 7; then back. */
    for (uint32_t dir = 0; dir < 2; dir++) {
        if (me == (dir ^ 1))
            for (int i = 0; i < 7; i++)
                CHECK_RC(hvc_event_signal(&c), 0);
        barrier(me, ++*step);
        if (me == dir) {
            for (int i = 0; i < 7; i++)
                CHECK_RC(hvc_event_wait(&c, 1000000000), 0);
            CHECK_RC(hvc_event_trywait(&c), -HVC_EAGAIN);
        }
        barrier(me, ++*step);
    }

    phase(me, "  broadcast");
    /* Broadcast: the waiter announces that it is about to wait; the
     * signaller signals until the waiter acknowledges (a broadcast wait
     * takes a signal made after it started, so one might come too early). */
    for (uint32_t dir = 0; dir < 2; dir++) {
        hvc_store_release(&ctrl->flag.v, 0);
        barrier(me, ++*step);
        if (me == dir) {
            hvc_store_release(&ctrl->flag.v, 1);
            CHECK_RC(hvc_event_wait(&b, 10000000000), 0);
            hvc_store_release(&ctrl->flag.v, 2);
        } else {
            t0 = board_now_ns();
            while (hvc_load_acquire(&ctrl->flag.v) != 2 &&
                   board_now_ns() - t0 < DEADLINE_NS) {
                if (hvc_load_acquire(&ctrl->flag.v) == 1)
                    CHECK_RC(hvc_event_signal(&b), 0);
                for (int i = 0; i < 2000 && hvc_load_acquire(&ctrl->flag.v) != 2; i++)
                    hvc_cpu_relax();
            }
            CHECK(hvc_load_acquire(&ctrl->flag.v) == 2);
        }
        barrier(me, ++*step);
    }

    phase(me, "  timed");
    /* Timed wait: nobody signals "timed"; the wait ends by its timeout,
     * not before it. */
    t0 = board_now_ns();
    CHECK_RC(hvc_event_wait(&t, 3000000), -HVC_ETIMEDOUT);
    CHECK(board_now_ns() - t0 >= 3000000);
    barrier(me, ++*step);

    phase(me, "  wait-any");
    /* Wait-any, both ways: the other core signals any.2 then any.1; the
     * waiter takes index 1 first (earlier wins a tie), then 2. */
    for (uint32_t dir = 0; dir < 2; dir++) {
        if (me != dir) {
            CHECK_RC(hvc_event_signal(&any[2]), 0);
            CHECK_RC(hvc_event_signal(&any[1]), 0);
        }
        barrier(me, ++*step);
        if (me == dir) {
            CHECK_RC(hvc_event_wait_any(anyp, 3, 1000000000), 1);
            CHECK_RC(hvc_event_wait_any(anyp, 3, 1000000000), 2);
            CHECK_RC(hvc_event_wait_any(anyp, 3, 0), -HVC_ETIMEDOUT);
        }
        barrier(me, ++*step);
        /* And a blocking one woken from the other core. */
        if (me == dir) {
            hvc_store_release(&ctrl->flag.v, 3);
            CHECK_RC(hvc_event_wait_any(anyp, 3, 10000000000), 0);
        } else {
            t0 = board_now_ns();
            while (hvc_load_acquire(&ctrl->flag.v) != 3 && board_now_ns() - t0 < DEADLINE_NS)
                hvc_cpu_relax();
            CHECK_RC(hvc_event_signal(&any[0]), 0);
        }
        barrier(me, ++*step);
        hvc_store_release(&ctrl->flag.v, 0);
    }
}

/* A message: length and bytes from the shared PRNG stream, sequence first. */
static uint32_t make_msg(uint32_t *seed, uint32_t seq, uint8_t *buf, uint32_t max)
{
    uint32_t len = 4u + bm_rand(seed) % (max - 3u), x = bm_rand(seed);

    buf[0] = (uint8_t)seq;
    buf[1] = (uint8_t)(seq >> 8);
    buf[2] = (uint8_t)(seq >> 16);
    buf[3] = (uint8_t)(seq >> 24);
    for (uint32_t i = 4; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 24);
    }
    return len;
}

static void rings(uint32_t me, struct hvc_region *r, uint32_t *step, uint32_t msgs)
{
    struct hvc_ring tx, rx;
    uint8_t out[256], in[256];
    uint32_t seed = 0x1234567u, bad = 0;

    uint32_t max_msg;

    /* From the table: the producer of the ring this core writes, the
     * consumer of the other. */
    CHECK_RC(hvc_system_open_ring(r, SYS, me == 0 ? "ring.01" : "ring.10", &tx), 0);
    CHECK_RC(hvc_system_open_ring(r, SYS, me == 0 ? "ring.10" : "ring.01", &rx), 0);
    max_msg = hvc_ring_max_msg(&rx);
    CHECK(max_msg == 200 && hvc_ring_max_msg(&tx) == 200);
    barrier(me, ++*step);
    for (uint32_t dir = 0; dir < 2; dir++) {
        seed = 0x1234567u + dir;
        for (uint32_t i = 0; i < msgs; i++) {
            uint32_t len = make_msg(&seed, i, out, max_msg);

            if (me == dir) {
                if (hvc_ring_send_wait(&tx, out, len, 10000000000) != 0)
                    bad++;
            } else {
                int n = hvc_ring_recv_wait(&rx, in, sizeof(in), 10000000000);

                if (n != (int)len || __builtin_memcmp(in, out, len) != 0)
                    bad++;
            }
            if (bad != 0) {
                bm_printf("core %u: FAIL ring message %u (dir %u)\n", (unsigned)me,
                          (unsigned)i, (unsigned)dir);
                bm_failures++;
                break;
            }
        }
        barrier(me, ++*step);
    }
    CHECK(bad == 0);
    if (me == 0)
        bm_printf("  ring: %u messages each way, 4..%u bytes, checked\n",
                  (unsigned)msgs, (unsigned)max_msg);
}

static void ports(uint32_t me, struct hvc_region *r, uint32_t *step)
{
    struct hvc_sampling sp;
    struct hvc_queue qp;
    uint32_t buf[8];
    uint64_t t0;

    CHECK_RC(hvc_system_open_sampling(r, SYS, "sampling", &sp), 0);
    CHECK_RC(hvc_system_open_queue(r, SYS, "queue", &qp), 0);
    barrier(me, ++*step);

    /* Sampling (core 0 writes): the reader sees whole values only, in order. */
    if (me == 0) {
        for (uint32_t v = 1; v <= 2000; v++) {
            for (int i = 0; i < 8; i++)
                buf[i] = v;
            CHECK_RC(hvc_sampling_write(&sp, buf, sizeof(buf)), 0);
        }
    } else {
        struct hvc_sampling_info info;
        uint32_t last = 0, reads = 0;

        t0 = board_now_ns();
        while (last < 2000 && board_now_ns() - t0 < DEADLINE_NS) {
            int n = hvc_sampling_read(&sp, buf, sizeof(buf), &info);

            if (n == -HVC_EAGAIN || n == -HVC_ENOTREADY)
                continue;
            reads++;
            if (n != (int)sizeof(buf) || buf[0] < last) {
                CHECK_RC(n, (int)sizeof(buf));
                break;
            }
            for (int i = 1; i < 8; i++)
                CHECK(buf[i] == buf[0]);
            last = buf[0];
        }
        CHECK(last == 2000);
    }
    barrier(me, ++*step);

    /* Queuing (core 1 writes): every message once, in order, none lost. */
    if (me == 1) {
        for (uint32_t v = 1; v <= 2000; v++) {
            int rc;

            buf[0] = v;
            buf[1] = ~v;
            t0 = board_now_ns();
            while ((rc = hvc_queue_send(&qp, buf, 8)) == -HVC_EAGAIN &&
                   board_now_ns() - t0 < DEADLINE_NS)
                hvc_cpu_relax();
            if (CHECK_RC(rc, 0) != 0)
                break;
        }
    } else {
        struct hvc_queue_info info;

        for (uint32_t v = 1; v <= 2000; v++) {
            int n;

            t0 = board_now_ns();
            while ((n = hvc_queue_recv(&qp, buf, sizeof(buf), &info)) == -HVC_EAGAIN &&
                   board_now_ns() - t0 < DEADLINE_NS)
                hvc_cpu_relax();
            if (CHECK_RC(n, 8) != 8 || buf[0] != v || buf[1] != ~v) {
                CHECK(buf[0] == v);
                break;
            }
        }
    }
    barrier(me, ++*step);
}

static void segment(uint32_t me, struct hvc_region *r, uint32_t *step)
{
    struct hvc_seg seg;
    volatile uint32_t *d;

    CHECK_RC(hvc_system_open_segment(r, SYS, "counter", &seg), 0);
    barrier(me, ++*step);
    d = hvc_seg_data(&seg);
    /* A non-atomic read-modify-write with a window: only the lock keeps
     * the count exact. The spin is short so that waiters really sleep. */
    hvc_seg_set_spin(&seg, 1000);
    for (uint32_t i = 0; i < SEG_ROUNDS; i++) {
        uint32_t v;

        if (CHECK_RC(hvc_seg_lock(&seg), 0) != 0)
            break;
        v = d[0];
        for (int k = 0; k < 20; k++)
            hvc_cpu_relax();
        d[0] = v + 1;
        d[1 + me]++;
        CHECK_RC(hvc_seg_unlock(&seg), 0);
    }
    barrier(me, ++*step);
    CHECK(d[0] == 2 * SEG_ROUNDS && d[1] == SEG_ROUNDS && d[2] == SEG_ROUNDS);
    barrier(me, ++*step);
    CHECK_RC(hvc_seg_close(&seg), 0);
}

static void suite(uint32_t me, bool doorbells, const char *name, uint32_t *step)
{
    const struct hvc_platform *ops = backend(me, doorbells);
    struct hvc_baremetal_stats st;
    struct hvc_region r;
    uint64_t t0 = board_now_ns();

    if (ops == NULL || open_system(me, ops, name, &r, step) < 0) {
        bm_printf("core %u: FAIL no region, stopping\n", (unsigned)me);
        board_exit(2);
    }
    phase(me, "peers");
    peers(me, &r);
    barrier(me, ++*step);
    phase(me, "events");
    events(me, &r, step);
    phase(me, "rings");
    /* Polling: half each way (still 100,000 in all), since two spinning
     * vCPUs under TCG on a loaded host take several times longer. */
    rings(me, &r, step, doorbells ? RING_MSGS : RING_MSGS / 2);
    phase(me, "ports");
    ports(me, &r, step);
    phase(me, "segment");
    segment(me, &r, step);
    hvc_baremetal_stats(backend_instance(me, doorbells), &st);
    bm_printf("core %u: %s mode on %s: %u doorbells in, %u out, %u sleeps, %u ms\n",
              (unsigned)me, doorbells ? "doorbell" : "polling", name,
              (unsigned)st.irqs, (unsigned)st.sent, (unsigned)st.sleeps,
              (unsigned)((board_now_ns() - t0) / 1000000u));
    if (doorbells) {
        CHECK(st.irqs > 0 && st.sent > 0 && st.sleeps > 0);
        CHECK(st.send_errors == 0);
    } else {
        CHECK(st.irqs == 0 && st.sent == 0);
    }
    barrier(me, ++*step);
    CHECK_RC(hvc_peer_leave(&r), 0);
    CHECK_RC(hvc_region_detach(&r), 0);
    barrier(me, ++*step);
}

int board_main(uint32_t me)
{
    uint32_t step = 0;

    if (me == 0) {
        bm_printf("hvcomm bare-metal test on %s\n", board_name);
        board_start_core1();
    }
    board_irq_on();
    barrier(me, ++step);
    suite(me, true, "shm0", &step);
    suite(me, false, "shm1", &step);
    hostile(me, &step);
    bench(me, &step);
    if (me == 1) {
        hvc_store_release(&ctrl->c1_failures.v, bm_failures);  /* core 1's count */
        hvc_store_release(&ctrl->c1_done.v, 1);
        for (;;)
            hvc_cpu_relax();
    }
    {
        uint64_t t0 = board_now_ns();

        while (hvc_load_acquire(&ctrl->c1_done.v) != 1) {
            if (board_now_ns() - t0 > DEADLINE_NS) {
                bm_printf("FAIL: core 1 never finished\n");
                board_exit(2);
            }
        }
    }
    bm_failures += hvc_load_acquire(&ctrl->c1_failures.v);
    bm_printf("%s: %u failures\n", bm_failures == 0 ? "PASS" : "FAIL",
              (unsigned)bm_failures);
    board_exit(bm_failures == 0 ? 0 : 1);
}
