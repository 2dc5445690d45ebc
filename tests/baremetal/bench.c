/*
 * Bench mode: round trips between the two cores on region "shm3", each
 * against the raw baselines measured in the same run: a shared-flag
 * ping-pong (no hvcomm) and a doorbell ping-pong straight through the
 * board's register (only the ISR's hvc_baremetal_irq() in between).
 * Prints medians; never fails on a timing. Under QEMU TCG the figures
 * measure the emulator, not the silicon.
 */
#include <hvcomm/hvcomm.h>

#include "../../src/platform/baremetal/arch.h"
#include "bmlib.h"
#include "twocore.h"

#ifndef BENCH_ROUNDS
#define BENCH_ROUNDS 2000u
#endif

static uint32_t samples[BENCH_ROUNDS];

static uint32_t p10, p90;

static uint32_t median(void)
{
    /* Shell sort: 2000 values, no libc. */
    for (uint32_t gap = BENCH_ROUNDS / 2; gap > 0; gap /= 2)
        for (uint32_t i = gap; i < BENCH_ROUNDS; i++)
            for (uint32_t j = i; j >= gap && samples[j - gap] > samples[j]; j -= gap) {
                uint32_t t = samples[j];

                samples[j] = samples[j - gap];
                samples[j - gap] = t;
            }
    p10 = samples[BENCH_ROUNDS / 10];
    p90 = samples[BENCH_ROUNDS * 9 / 10];
    return samples[BENCH_ROUNDS / 2];
}

/* Wait (WFI, interrupts masked around the check) until this core's
 * backend has taken more than `seen` doorbell interrupts (counted from
 * before the kind started: a doorbell that comes early is not missed). */
static void wait_irq(const struct hvc_baremetal *bm, uint32_t seen)
{
    for (;;) {
        uintptr_t s = arch_irq_save();

        if (hvc_load_relaxed(&bm->stats.irqs) - seen < 0x80000000u &&
            hvc_load_relaxed(&bm->stats.irqs) != seen) {
            arch_irq_restore(s);
            return;
        }
        arch_wait(s);
        arch_irq_restore(s);
    }
}

enum kind { RAW_FLAG, RAW_BELL, HVC_BELL, HVC_EVENT, RING_BELL, RING_POLL, KINDS };
static const char *const names[KINDS] = {
    "raw shared-flag ping-pong", "raw doorbell ping-pong",
    "hvcomm notify/wait_notify", "hvcomm event signal/wait",
    "ring 16 B, blocking (doorbells)", "ring 16 B, polling",
};

void bench(uint32_t me, uint32_t *step)
{
    const struct hvc_platform *ops = backend(me, true);
    const struct hvc_baremetal *bm = backend_instance(me, true);
    struct hvc_ring_attr ab = {.capacity = 1024, .max_msg = 16, .writer = -1,
                               .flags = HVC_RING_BLOCKING};
    struct hvc_ring_attr ap = {.capacity = 1024, .max_msg = 16, .writer = -1};
    struct hvc_ring btx, brx, ptx, prx;
    struct hvc_event e01, e10, *mine, *theirs;
    struct hvc_region r;
    struct hvc_platform_handle *h;
    uint32_t med[KINDS], lo[KINDS], hi[KINDS], other = me ^ 1, vec;
    uint8_t msg[16] = {0};

    if (ops == NULL || open_region(me, ops, "shm3", &r, step) < 0)
        board_exit(2);
    h = hvc_region_platform(&r);
    CHECK_RC(hvc_ring_create(&btx, &r, me == 0 ? "b.01" : "b.10", &ab), 0);
    CHECK_RC(hvc_ring_create(&ptx, &r, me == 0 ? "p.01" : "p.10", &ap), 0);
    if (me == 0) {
        CHECK_RC(hvc_event_create(&r, "e.01", NULL, &e01), 0);
        CHECK_RC(hvc_event_create(&r, "e.10", NULL, &e10), 0);
    }
    barrier(me, ++*step);
    CHECK_RC(hvc_ring_open(&brx, &r, me == 0 ? "b.10" : "b.01", HVC_RING_CONSUMER), 0);
    CHECK_RC(hvc_ring_open(&prx, &r, me == 0 ? "p.10" : "p.01", HVC_RING_CONSUMER), 0);
    if (me == 1) {
        CHECK_RC(hvc_event_open(&r, "e.01", 0, NULL, &e01), 0);
        CHECK_RC(hvc_event_open(&r, "e.10", 0, NULL, &e10), 0);
    }
    mine = me == 0 ? &e10 : &e01;
    theirs = me == 0 ? &e01 : &e10;
    hvc_event_set_spin(mine, 0);

    for (int k = 0; k < KINDS; k++) {
        uint32_t base;

        /* Nothing is in flight between two kinds: drop doorbells recorded
         * by the last one, count from here, then start together. */
        while (hvc_platform_wait_notify(h, 0, &vec) == 0)
            ;
        base = hvc_load_relaxed(&bm->stats.irqs);
        barrier(me, ++*step);
        for (uint32_t i = 0; i < BENCH_ROUNDS; i++) {
            uint64_t t0 = board_now_ns();
            uint32_t seen = base + i;

            /* Core 0 starts each round trip, core 1 answers. */
            if (me == 1) {
                switch (k) {
                case RAW_FLAG:
                    while (hvc_load_acquire(&ctrl->ping.v) != 2 * i + 1)
                        ;
                    hvc_store_release(&ctrl->ping.v, 2 * i + 2);
                    break;
                case RAW_BELL:
                    wait_irq(bm, seen);
                    board_raw_ring(other);
                    break;
                case HVC_BELL:
                    (void)hvc_platform_wait_notify(h, HVC_FOREVER, &vec);
                    (void)hvc_platform_notify(h, other, 0);
                    break;
                case HVC_EVENT:
                    (void)hvc_event_wait(mine, HVC_FOREVER);
                    (void)hvc_event_signal(theirs);
                    break;
                case RING_BELL:
                    (void)hvc_ring_recv_wait(&brx, msg, sizeof(msg), HVC_FOREVER);
                    (void)hvc_ring_send_wait(&btx, msg, sizeof(msg), HVC_FOREVER);
                    break;
                case RING_POLL:
                    while (hvc_ring_recv(&prx, msg, sizeof(msg)) == -HVC_EAGAIN)
                        ;
                    while (hvc_ring_send(&ptx, msg, sizeof(msg)) == -HVC_EAGAIN)
                        ;
                    break;
                }
                continue;
            }
            switch (k) {
            case RAW_FLAG:
                hvc_store_release(&ctrl->ping.v, 2 * i + 1);
                while (hvc_load_acquire(&ctrl->ping.v) != 2 * i + 2)
                    ;
                break;
            case RAW_BELL:
                board_raw_ring(other);
                wait_irq(bm, seen);
                break;
            case HVC_BELL:
                (void)hvc_platform_notify(h, other, 0);
                (void)hvc_platform_wait_notify(h, HVC_FOREVER, &vec);
                break;
            case HVC_EVENT:
                (void)hvc_event_signal(theirs);
                (void)hvc_event_wait(mine, HVC_FOREVER);
                break;
            case RING_BELL:
                msg[0] = (uint8_t)i;
                (void)hvc_ring_send_wait(&btx, msg, sizeof(msg), HVC_FOREVER);
                CHECK(hvc_ring_recv_wait(&brx, msg, sizeof(msg), HVC_FOREVER) == 16 &&
                      msg[0] == (uint8_t)i);
                break;
            case RING_POLL:
                msg[0] = (uint8_t)i;
                while (hvc_ring_send(&ptx, msg, sizeof(msg)) == -HVC_EAGAIN)
                    ;
                while (hvc_ring_recv(&prx, msg, sizeof(msg)) == -HVC_EAGAIN)
                    ;
                CHECK(msg[0] == (uint8_t)i);
                break;
            }
            samples[i] = (uint32_t)(board_now_ns() - t0);
        }
        if (me == 0) {
            med[k] = median();
            lo[k] = p10;
            hi[k] = p90;
        }
        barrier(me, ++*step);
    }
    if (me == 0) {
        bm_printf("bench on %s, %u round trips each (QEMU TCG: emulator time)\n",
                  board_name, (unsigned)BENCH_ROUNDS);
        bm_printf("| round trip | median ns | p10..p90 ns | x raw flag | x raw doorbell |\n");
        for (int k = 0; k < KINDS; k++)
            bm_printf("| %s | %u | %u..%u | %u.%02u | %u.%02u |\n", names[k], (unsigned)med[k],
                      (unsigned)lo[k], (unsigned)hi[k],
                      (unsigned)(med[k] / med[0]), (unsigned)(med[k] * 100u / med[0] % 100u),
                      (unsigned)(med[k] / med[1]), (unsigned)(med[k] * 100u / med[1] % 100u));
    }
    barrier(me, ++*step);
}
