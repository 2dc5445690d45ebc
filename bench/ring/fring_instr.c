/*
 * hvcomm-fring-instr: the calls whose instructions doc/ring.md counts for
 * the fixed-size-element ring against rte_ring and ck_ring (8-byte
 * elements, one thread, 4096 slots each): one never-inlined wrapper per
 * pair of calls (a send and the receive of what it sent), each called
 * 10000 times. Count one wrapper with
 *
 *   valgrind --tool=callgrind --toggle-collect=WRAPPER hvcomm-fring-instr
 *
 * and divide the total by 10000 (doc/ring.md gives the loop). Wrappers:
 * fring_batch32, rte_burst32, fring_single, rte_single, ck_single.
 */
#define _GNU_SOURCE
#include <hvcomm/hvcomm.h>

#include <ck_ring.h>
#include <rte_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CALLS 10000
#define SLOTS 4096u

static struct hvc_fring prod, cons;
static struct rte_ring *rte;
static struct ck_ring ck;
static struct ck_ring_buffer *ckbuf;
static uint64_t in[32], out[32];

void fring_batch32(void);
void rte_burst32(void);
void fring_single(void);
void rte_single(void);
void ck_single(void);

__attribute__((noinline)) void fring_batch32(void)
{
    (void)hvc_fring_send_batch(&prod, in, 32);
    (void)hvc_fring_recv_batch(&cons, out, 32);
}

__attribute__((noinline)) void rte_burst32(void)
{
    (void)rte_ring_sp_enqueue_burst(rte, (void *const *)(void *)in, 32, NULL);
    (void)rte_ring_sc_dequeue_burst(rte, (void **)(void *)out, 32, NULL);
}

__attribute__((noinline)) void fring_single(void)
{
    (void)hvc_fring_send(&prod, in);
    (void)hvc_fring_recv(&cons, out);
}

__attribute__((noinline)) void rte_single(void)
{
    (void)rte_ring_sp_enqueue_burst(rte, (void *const *)(void *)in, 1, NULL);
    (void)rte_ring_sc_dequeue_burst(rte, (void **)(void *)out, 1, NULL);
}

__attribute__((noinline)) void ck_single(void)
{
    void *v = NULL;

    (void)ck_ring_enqueue_spsc(&ck, ckbuf, (void *)(uintptr_t)in[0]);
    (void)ck_ring_dequeue_spsc(&ck, ckbuf, &v);
    out[0] = (uint64_t)(uintptr_t)v;
}

int main(void)
{
    struct hvc_region_config cfg = {.size = 1u << 20, .max_peers = 2, .max_objects = 8,
                                    .flags = HVC_FORMAT_EXCL};
    struct hvc_fring_attr a = {.elem_size = 8, .capacity = SLOTS, .writer = -1};
    const struct hvc_platform *posix = hvc_platform_posix();
    struct hvc_region reg;
    char path[64];

    snprintf(path, sizeof(path), "/hvc-fring-instr-%d", (int)getpid());
    if (hvc_region_format(&reg, posix, path, &cfg) < 0 || hvc_peer_join(&reg, "a") != 0 ||
        hvc_fring_create(&prod, &reg, "f", &a) < 0 ||
        hvc_fring_open(&cons, &reg, "f", HVC_FRING_CONSUMER) < 0)
        return 1;
    rte = aligned_alloc(128, (size_t)rte_ring_get_memsize(SLOTS));
    ckbuf = aligned_alloc(64, SLOTS * sizeof(void *));
    if (rte == NULL || ckbuf == NULL ||
        rte_ring_init(rte, "instr", SLOTS, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0)
        return 1;
    ck_ring_init(&ck, SLOTS);
    for (int i = 0; i < CALLS; i++) {
        in[0] = (uint64_t)i;
        fring_batch32();
        rte_burst32();
        fring_single();
        rte_single();
        ck_single();
    }
    hvc_region_detach(&reg);
    hvc_platform_unlink(posix, path);
    free(rte);
    free(ckbuf);
    return 0;
}
