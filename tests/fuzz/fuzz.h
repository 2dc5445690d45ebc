/*
 * Shared pieces of the libFuzzer harnesses (tests/fuzz/).
 *
 * - An input reader: the fuzz bytes are a script for the hostile peer.
 * - An in-memory backend (struct hvc_platform) over one private buffer per
 *   region name, with poisoned guard zones (ASan manual poisoning) before and
 *   after the mapping. Time is a counter that advances at every look, so no
 *   wait can hang; waits and clock reads are also where the hostile peer gets
 *   to write, so its writes interleave with the victim's calls.
 * - Guard objects: RAW objects placed between the objects under test and
 *   poisoned, so a write or read of a neighbour's bytes is an ASan report.
 */
#ifndef HVC_FUZZ_H
#define HVC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <hvcomm/hvcomm.h>

/* ---- the input ---- */
struct fz_in {
    const uint8_t *p;
    size_t n;
};
extern struct fz_in fz; /* the current input, set by fz_begin() */

uint8_t fz_u8(void);
uint16_t fz_u16(void);
uint32_t fz_u32(void);
uint64_t fz_u64(void);
int fz_more(void);
/* Copy up to n bytes of input into dst (zero-filled past the end). */
void fz_bytes(void *dst, size_t n);

/* ---- the backend ---- */
enum fz_mode {
    FZ_FUTEX = 0,    /* wait_word / wake_word, no doorbells */
    FZ_DOORBELL = 1, /* notify / wait_notify and self ids, no wait_word */
};
/* Start an input: reset the backend (every region forgotten), read no bytes. */
void fz_begin(const uint8_t *data, size_t size, enum fz_mode mode);
/* Free the regions of this input (unpoisoned first). */
void fz_end(void);
/* The end of a two-peer target: quiet again, detach b then a, fz_end(). */
void fz_end_pair(struct hvc_region *a, struct hvc_region *b);
const struct hvc_platform *fz_platform(void);
/* The doorbell backend's id for the next map() (like bellplat's). */
extern int fz_self;
/* Liveness answers: bit i set means peer i is dead. */
extern uint64_t fz_dead;

/* ---- the hostile peer ---- */
/* Where the hostile peer may write: [lo, hi) (set by the harness). */
void fz_target(void *lo, size_t len);
/* Spend a few input bytes on writes into the target: each write is
 * (op, offset, value). Called by the harness between calls and by the
 * backend from inside waits and clock reads. */
void fz_hostile(void);
/* Stop/start the backend from calling fz_hostile() (e.g. while the
 * harness itself sets things up). */
extern int fz_quiet;

/* ---- guard zones ---- */
/* Create a RAW object of `size` bytes named `name` and poison it. */
void fz_guard(struct hvc_region *r, const char *name, uint64_t size);
void fz_poison(void *p, size_t n);
void fz_unpoison(void *p, size_t n);

/* Format region `name` (size bytes, peers, objects) and join as peer 0. */
int fz_region(struct hvc_region *r, const char *name, uint64_t size);

#define FZ_CHECK(cond)                                                          \
    do {                                                                        \
        if (!(cond))                                                            \
            fz_fail(__FILE__, __LINE__, #cond);                                  \
    } while (0)
void fz_fail(const char *file, int line, const char *what);

/* A result is either a count or one of the documented error codes. */
static inline int fz_rc_ok(int rc)
{
    return rc >= 0 || (rc <= -1 && rc > -(int)HVC_ERRNO_MAX);
}

#endif
