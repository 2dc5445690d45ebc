/*
 * Helpers shared by the hosted backends (POSIX, ivshmem host and guest):
 * one monotonic clock and one errno mapping, instead of a copy in each
 * backend file. Internal (hvc__ prefix); hosted code only, never part of
 * the freestanding core.
 */
#ifndef HVC_PLATFORM_HOSTED_H
#define HVC_PLATFORM_HOSTED_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t hvc__hosted_now_ns(void);

/* An errno value as a negative HVC_E... code (-HVC_EIO for the rest). */
int hvc__hosted_errno(int e);

#endif
