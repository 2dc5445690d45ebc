/* Two-guest harness for the vnet suites: each guest is a forked process
 * with its own lwIP (NO_SYS=1) and its own netif over the link. The test
 * process formats the region, creates the link and a shared "board" where
 * guests post flags and results; it never runs lwIP itself. */
#ifndef HVC_VNETTEST_H
#define HVC_VNETTEST_H

#include <stdint.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/system.h>
#include <hvcomm/vnet.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"

#define VT_LINK "lan"
#define VT_REGION_SIZE (32u << 20)

/* Shared results: written by guests with atomic stores, read by all. */
struct vt_board {
    uint32_t flag[8];      /* per-test flags (done, ready, ...) */
    uint32_t value[16];    /* per-test counters */
    uint64_t big[8];       /* byte counts, checksums, nanoseconds */
};

struct vt_guest {
    struct hvc_region r;
    struct hvc_vnet v;
    struct netif nif;
    struct vt_board *board;
    int idx;               /* 0: 10.0.0.1 / fd00::1, 1: 10.0.0.2 / fd00::2 */
    int busy;              /* poll without sleeping */
    unsigned link_up, link_down; /* netif link callback counts */
};

/* Test process: format the region at path, join, create the link and the
 * board. Returns the board (mapped in the test process). */
struct vt_board *vt_setup(struct hvc_region *r, const char *path,
                          const struct hvc_vnet_link_attr *attr);

/* Guest process: attach, join, open the link, bring up lwIP and the netif.
 * Returns 0 or a negative code. */
int vt_guest_start(struct vt_guest *g, const char *path, int idx,
                   const struct hvc_vnet_config *cfg);
/* The same on another link (guest idx gets 10.0.0.idx+1). */
int vt_guest_start_on(struct vt_guest *g, const char *path, int idx, const char *link,
                      const struct hvc_vnet_config *cfg);
/* From a system file (tests/config/systems/vnet_pair.yaml, doc/config.md):
 * the test process formats the region and applies the system as its
 * creator; the board is the segment "board". */
struct vt_board *vt_setup_system(struct hvc_region *r, const char *path,
                                 const struct hvc_system *sys);
/* Guest process: attach, apply the system as `peer` (its fixed id), open
 * its end of `link` with the end's address from the file (and fd00::end+1). */
int vt_guest_start_system(struct vt_guest *g, const char *path, const struct hvc_system *sys,
                          const char *peer, const char *link, const struct hvc_vnet_config *cfg);
/* One main loop turn: poll, timers, and a short sleep when idle. */
void vt_guest_step(struct vt_guest *g);
/* Run steps until *cond becomes nonzero (or the flag word when cond is NULL
 * and flag_idx >= 0) or ms milliseconds pass; returns 1 when it did. */
int vt_guest_run_until(struct vt_guest *g, volatile int *cond, int ms);
/* Run steps until link is up; 1 on success. */
int vt_guest_wait_up(struct vt_guest *g, int ms);
/* Run steps until board->flag[i] >= v; 1 on success. */
int vt_guest_wait_flag(struct vt_guest *g, int i, uint32_t v, int ms);
void vt_guest_stop(struct vt_guest *g);

void vt_ip4(ip_addr_t *a, int idx);
void vt_ip6(ip_addr_t *a, int idx);

static inline void vt_set(uint32_t *w, uint32_t v) { __atomic_store_n(w, v, __ATOMIC_RELEASE); }
static inline uint32_t vt_get(const uint32_t *w) { return __atomic_load_n(w, __ATOMIC_ACQUIRE); }
static inline void vt_add(uint32_t *w, uint32_t v) { __atomic_fetch_add(w, v, __ATOMIC_ACQ_REL); }
static inline void vt_set64(uint64_t *w, uint64_t v) { __atomic_store_n(w, v, __ATOMIC_RELEASE); }
static inline uint64_t vt_get64(const uint64_t *w) { return __atomic_load_n(w, __ATOMIC_ACQUIRE); }

/* Milliseconds, monotonic. */
uint64_t vt_ms(void);

/* The TCP stream pattern: byte at position pos; and FNV-1a 64 folding. */
#define VT_PATTERN 65521u
extern uint8_t vt_pattern[VT_PATTERN];
void vt_pattern_init(void);
static inline uint64_t vt_fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}
#define VT_FNV_INIT 0xcbf29ce484222325ull

#endif
