/* Message patterns shared by the ring tests: every message is derived from
 * its sequence number, so the receiver can check each one completely. */
#ifndef HVC_RINGTEST_H
#define HVC_RINGTEST_H

#include <stdint.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#ifndef RT_ASAN
#define RT_ASAN 0
#endif

static inline uint64_t rt_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* Length of message `seq`: uniform in 0..max, with 0 and max forced often. */
static inline uint32_t rt_len(uint64_t seq, uint32_t max)
{
    uint64_t h = rt_mix(seq * 2 + 1);

    if ((h & 15) == 0)
        return 0;
    if ((h & 15) == 1)
        return max;
    return (uint32_t)((h >> 8) % ((uint64_t)max + 1));
}

static inline uint32_t rt_sum(const uint8_t *p, uint32_t n)
{
    uint32_t h = 0x811c9dc5u; /* FNV-1a */

    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x01000193u;
    return h;
}

/* Fill a message: [seq 8 bytes][checksum 4 bytes][bytes from seq], or
 * just the bytes from seq when shorter than 12. */
static inline void rt_fill(uint8_t *p, uint32_t len, uint64_t seq)
{
    uint64_t x = rt_mix(seq);

    for (uint32_t i = 0; i < len; i++) {
        if ((i & 7) == 0)
            x = rt_mix(x + i);
        p[i] = (uint8_t)(x >> ((i & 7) * 8));
    }
    if (len >= 12) {
        uint32_t s;

        memcpy(p, &seq, 8);
        s = rt_sum(p + 12, len - 12);
        memcpy(p + 8, &s, 4);
    }
}

/* 1 when p[0..len) is exactly message seq. */
static inline int rt_check(const uint8_t *p, uint32_t len, uint64_t seq, uint32_t max)
{
    if (len != rt_len(seq, max))
        return 0;
    if (len >= 12) {
        uint64_t s;
        uint32_t c;

        memcpy(&s, p, 8);
        memcpy(&c, p + 8, 4);
        return s == seq && c == rt_sum(p + 12, len - 12);
    }
    {
        uint8_t ref[12];

        rt_fill(ref, len, seq);
        return memcmp(ref, p, len) == 0;
    }
}

#endif
