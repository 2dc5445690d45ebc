/* Small helpers for the bare-metal test images: formatted output, checks. */
#ifndef HVC_BMLIB_H
#define HVC_BMLIB_H

#include <stdarg.h>
#include <stdint.h>

#include "../../ports/bm-common/board.h"

/* printf subset: %d %u %x %s %c %%, with l / ll and a width (%8u, %08x). */
void bm_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Failures, per core (one image runs on both: its .bss is shared). */
extern volatile uint32_t bm_fail[2];
#define bm_failures (bm_fail[board_core() & 1u])

#define CHECK(c)                                                                \
    do {                                                                        \
        if (!(c)) {                                                             \
            bm_failures++;                                                      \
            bm_printf("core %u: FAIL %s:%d: %s\n", (unsigned)board_core(),      \
                      __FILE__, __LINE__, #c);                                  \
        }                                                                       \
    } while (0)

/* Check an hvcomm return code; evaluates to the code. */
#define CHECK_RC(expr, want)                                                    \
    ({                                                                          \
        int rc_ = (expr);                                                       \
        if (rc_ != (want)) {                                                    \
            bm_failures++;                                                      \
            bm_printf("core %u: FAIL %s:%d: %s = %d (%s), want %d\n",           \
                      (unsigned)board_core(), __FILE__, __LINE__, #expr, rc_,   \
                      hvc_errname(rc_), (int)(want));                           \
        }                                                                       \
        rc_;                                                                    \
    })

/* xorshift32: the same stream on both cores for the same seed. */
static inline uint32_t bm_rand(uint32_t *s)
{
    uint32_t x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

#endif
