/* Helpers shared by ring.c and ring_stream.c. Not installed. */
#ifndef HVC_SHM_RING_INTERNAL_H
#define HVC_SHM_RING_INTERNAL_H

#include <hvcomm/ring.h>

#include "internal.h"

/* hvc_ring::fence of a handle with no fence domain whose side's fence word
 * held one when it attached (domains are odd): its first sleep is a short
 * slice, HVC__RING_STALE_SLICE_NS (ring_wait.c, doc/ring.md). */
#define HVC__RING_FENCE_STALE 2u
#define HVC__RING_STALE_SLICE_NS 1000000

/* The next record seen by the consumer, checked; the handle's head is not
 * moved past it (padding before it is skipped). */
struct hvc__rec {
    const uint8_t *payload; /* in the data area */
    uint32_t len;           /* payload bytes, <= max_msg */
    uint32_t flags;         /* 0 or HVC_REC_FRAG_FIRST / _MIDDLE / _LAST */
    uint32_t size;          /* bytes in the data area */
};

/* Consumer: find and check the next record. 0, -HVC_EAGAIN, -HVC_EPROTO. */
int hvc__ring_next(struct hvc_ring *q, struct hvc__rec *rec);
/* Consumer: hvc__ring_next, stepping over (and counting) middle and last
 * fragments: returns a whole message or a first fragment. Bounded. */
int hvc__ring_next_start(struct hvc_ring *q, struct hvc__rec *rec);
/* Consumer: count n fragment records dropped (ring counter frag_drops). */
void hvc__ring_frag_drop(struct hvc_ring *q, uint32_t n);
/* Consumer: account for and step over a record found by hvc__ring_next. */
void hvc__ring_consume(struct hvc_ring *q, const struct hvc__rec *rec);
/* Consumer: publish when it pays (see ring.c). */
void hvc__ring_cons_done(struct hvc_ring *q);
/* Producer: write one record with the given flags, without publishing.
 * 0, -HVC_EAGAIN, -HVC_EPROTO. len <= max_msg is the caller's check. */
int hvc__ring_put(struct hvc_ring *q, const void *buf, uint32_t len,
                  uint32_t flags);

#endif /* HVC_SHM_RING_INTERNAL_H */
