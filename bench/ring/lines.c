/*
 * Cache lines moved per message, counted from a memory trace rather than
 * hardware counters (this VM has none: `perf stat -e cache-misses` says
 * "not supported", and cachegrind models one process's private caches, not
 * the transfers between two cores).
 *
 * One process plays both sides of the bench's round trip, in turn: side A
 * sends a message on ring 1, side B receives it and sends it back on ring
 * 2, side A receives it; N round trips after a warm-up. Before each side's
 * turn the program stores to that side's marker word (their addresses are
 * printed first), and bench/ring/lines.sh runs it under `valgrind
 * --tool=lackey --trace-mem=yes` (one line per load and store, in program
 * order, the marker stores among them) and replays the trace
 * through a two-cache model of the region (lines.py): a side's access to a
 * line the other side has written since this side last held it is one
 * line transfer; a store to a line the other side holds a copy of is one
 * invalidation. Only the region's memory is counted (both rings, their
 * headers and data), not the stack or the caller's buffers.
 *
 * With "raw", the bench's raw cache-line ping-pong instead (a sequence
 * word and the payload right after it, one pair per direction, in the
 * region), the same model's baseline.
 *
 *   hvcomm-ring-lines SIZE ROUNDTRIPS [raw]   (prints the addresses first)
 */
#define _GNU_SOURCE
#include <hvcomm/hvcomm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Side markers: a store to one of them starts that side's turn (S: start
 * counting, E: end). */
static volatile uint32_t marker[4];

static void mark(int side)
{
    marker[side] = 1;
}

int main(int argc, char **argv)
{
    struct hvc_region_config cfg = {.size = 1u << 20, .max_peers = 4, .max_objects = 16};
    struct hvc_ring_attr attr = {.capacity = 4096, .writer = -1};
    struct hvc_region reg;
    struct hvc_ring a_out, a_in, b_out, b_in;
    uint8_t msg[256], buf[256];
    uint32_t size = argc > 1 ? (uint32_t)atoi(argv[1]) : 8;
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    char path[64];

    if (size > sizeof(msg))
        return 2;
    attr.max_msg = size;
    snprintf(path, sizeof(path), "/dev/shm/hvc-lines-%d", (int)getpid());
    if (hvc_region_format(&reg, hvc_platform_posix(), path, &cfg) < 0 ||
        hvc_peer_join(&reg, "lines") < 0 ||
        hvc_ring_create(&a_out, &reg, "r1", &attr) < 0 ||
        hvc_ring_create(&b_out, &reg, "r2", &attr) < 0 ||
        hvc_ring_open(&b_in, &reg, "r1", HVC_RING_CONSUMER) < 0 ||
        hvc_ring_open(&a_in, &reg, "r2", HVC_RING_CONSUMER) < 0)
        return 1;
    memset(msg, 0x5a, sizeof(msg));
    printf("region %p %zu markers %p %p %p %p\n", (void *)reg.base, (size_t)cfg.size,
           (void *)&marker[0], (void *)&marker[1], (void *)&marker[2], (void *)&marker[3]);
    fflush(stdout);
    if (argc > 3 && strcmp(argv[3], "raw") == 0) {
        /* As bench_ring.c's raw_side(): seq word, payload after it. */
        struct pp {
            _Alignas(64) volatile uint64_t seq;
            uint8_t data[256];
        } *ping, *pong;
        struct hvc_obj_spec spec = {.name = "raw", .type = HVC_OBJ_RAW, .size = 2048,
                                    .writer = HVC_PEER_ANY};
        struct hvc_obj o;

        if (hvc_obj_create(&reg, &spec, &o) < 0)
            return 1;
        ping = (struct pp *)(void *)(((uintptr_t)o.ptr + 63u) & ~(uintptr_t)63u);
        pong = ping + 1;
        for (uint64_t i = 1; i <= (uint64_t)n + 200; i++) {
            if (i == 201)
                mark(2);
            mark(1);
            if (__atomic_load_n(&ping->seq, __ATOMIC_ACQUIRE) == i)
                return 7;
            mark(0);
            memcpy(ping->data, msg, size);
            __atomic_store_n(&ping->seq, i, __ATOMIC_RELEASE);
            if (__atomic_load_n(&pong->seq, __ATOMIC_ACQUIRE) == i)
                return 4;
            mark(1);
            if (__atomic_load_n(&ping->seq, __ATOMIC_ACQUIRE) != i)
                return 5;
            memcpy(buf, ping->data, size);
            memcpy(pong->data, buf, size);
            __atomic_store_n(&pong->seq, i, __ATOMIC_RELEASE);
            mark(0);
            if (__atomic_load_n(&pong->seq, __ATOMIC_ACQUIRE) != i)
                return 6;
            memcpy(buf, pong->data, size);
        }
        mark(3);
        hvc_region_detach(&reg);
        unlink(path);
        return 0;
    }
    for (int i = -200; i < n; i++) {
        if (i == 0)
            mark(2); /* start counting: the warm-up is over */
        mark(1);
        if (hvc_ring_recv(&b_in, buf, sizeof(buf)) != -HVC_EAGAIN)
            return 7;
        mark(0);
        if (hvc_ring_send(&a_out, msg, size) != 0 ||
            hvc_ring_recv(&a_in, buf, sizeof(buf)) != -HVC_EAGAIN)
            return 4;
        mark(1);
        if (hvc_ring_recv(&b_in, buf, sizeof(buf)) != (int)size ||
            hvc_ring_send(&b_out, buf, size) != 0)
            return 5;
        mark(0);
        if (hvc_ring_recv(&a_in, buf, sizeof(buf)) != (int)size)
            return 6;
    }
    mark(3);
    hvc_region_detach(&reg);
    unlink(path);
    return 0;
}
