/**
 * @file atomic.h
 * @brief The one atomics shim used on shared memory.
 *
 * Shared-memory words are plain `uint32_t` fields of the wire structures
 * (see wire.h); every access to a word that another peer may write goes
 * through these functions, so that each access is exactly one load or one
 * store (never re-read by the compiler: Xen XSA-155) with a stated order.
 *
 * Only 32-bit words are atomic: they are lock-free and address-free on every
 * target hvcomm supports, including ARMv7-M, where 64-bit atomics are not.
 * Wider values are published behind a 32-bit release store.
 *
 * The functions are built on the GCC/Clang `__atomic` builtins, which are
 * available in freestanding builds.
 */
#ifndef HVCOMM_ATOMIC_H
#define HVCOMM_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup atomic Atomics on shared memory
 * @brief Single-access loads and stores with explicit ordering.
 * @{
 */

/** @brief Load once, no ordering. */
static inline uint32_t hvc_load_relaxed(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/** @brief Load once; later accesses are not moved before it. */
static inline uint32_t hvc_load_acquire(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/** @brief Store once, no ordering. */
static inline void hvc_store_relaxed(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/** @brief Store once; earlier accesses are visible before it. */
static inline void hvc_store_release(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/**
 * @brief Compare and swap, sequentially consistent.
 * @param p the word.
 * @param expected in: the value expected; out: the value found on failure.
 * @param desired the value to store when `*p == *expected`.
 * @return true when the swap happened.
 */
static inline bool hvc_cas(uint32_t *p, uint32_t *expected, uint32_t desired)
{
    return __atomic_compare_exchange_n(p, expected, desired, false,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/** @brief Atomic add, sequentially consistent; returns the old value. */
static inline uint32_t hvc_fetch_add(uint32_t *p, uint32_t v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

/** @brief Atomic add, relaxed (statistics counters); returns the old value. */
static inline uint32_t hvc_fetch_add_relaxed(uint32_t *p, uint32_t v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

/** @brief Atomic or, sequentially consistent; returns the old value. */
static inline uint32_t hvc_fetch_or(uint32_t *p, uint32_t v)
{
    return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}

/** @brief Atomic and, sequentially consistent; returns the old value. */
static inline uint32_t hvc_fetch_and(uint32_t *p, uint32_t v)
{
    return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}

/** @brief Atomic exchange, sequentially consistent; returns the old value. */
static inline uint32_t hvc_exchange(uint32_t *p, uint32_t v)
{
    return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}

/**
 * @brief Read a 64-bit counter kept as two 32-bit words by one writer.
 *
 * Reads the high half again after the low half, and the low half again when
 * a carry moved the high half in between, so the result is never torn
 * (bounded: at most five loads). For statistics only: no ordering.
 */
static inline uint64_t hvc_load_split64(const uint32_t *lo, const uint32_t *hi)
{
    uint32_t h1 = hvc_load_relaxed(hi), l = hvc_load_relaxed(lo);
    uint32_t h2 = hvc_load_relaxed(hi);

    if (h1 != h2)
        l = hvc_load_relaxed(lo);
    return ((uint64_t)h2 << 32) | l;
}

/**
 * @brief Read a 64-bit field of shared memory that is immutable once
 *        published (written before the 32-bit release store that publishes
 *        it): its two 32-bit words are loaded once each and put together in
 *        memory order, the bytes a plain load would give on any endianness.
 *        Only 32-bit words are atomic in shared memory.
 */
static inline uint64_t hvc_load_wide64(const uint64_t *p)
{
    const uint32_t *w = (const uint32_t *)(const void *)p;
    uint32_t half[2];
    uint64_t v;

    half[0] = hvc_load_relaxed(&w[0]);
    half[1] = hvc_load_relaxed(&w[1]);
    __builtin_memcpy(&v, half, sizeof(v));
    return v;
}

/** @brief Full fence: orders every earlier access before every later one. */
static inline void hvc_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/** @brief Compiler barrier only: no CPU fence. */
static inline void hvc_compiler_barrier(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/** @brief Tell the CPU we are spinning (pause / yield hint). */
static inline void hvc_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && (__ARM_ARCH >= 7))
    __asm__ __volatile__("yield" ::: "memory");
#else
    hvc_compiler_barrier();
#endif
}

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_ATOMIC_H */
