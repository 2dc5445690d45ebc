/**
 * @file posix.h
 * @brief The POSIX host backend (Linux): its constructor and token layout.
 *
 * Every backend declares its constructor in its own header, the same way:
 * `const struct hvc_platform *hvc_platform_<name>(...)` (posix.h,
 * ivshmem.h, baremetal.h, x86hv.h). Built when CMake's HVC_BACKEND_POSIX is
 * on (the default on Linux). platform.h includes this header, so existing
 * users of hvc_platform_posix() need no change.
 */
#ifndef HVCOMM_POSIX_H
#define HVCOMM_POSIX_H

#include <stdint.h>

#include <hvcomm/export.h>
#include <hvcomm/platform.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @addtogroup platform
 * @{
 */

/**
 * @brief The POSIX host backend: regions are files or POSIX shared-memory
 *        objects, waits are futexes, time is CLOCK_MONOTONIC.
 *
 * Region names: a name of the form `/NAME` with no other slash, or
 * `shm:NAME`, is a POSIX shared-memory object; any other name is a file
 * path (so a region can be the same file QEMU maps with
 * `memory-backend-file`). Built when CMake option HVC_BACKEND_POSIX is on
 * (the default on Linux); a build without it has no such symbol.
 */
HVC_API const struct hvc_platform *hvc_platform_posix(void);

/** Bits of a POSIX token (namespace #HVC_TOKEN_NS_POSIX) that hold the pid. */
#define HVC_POSIX_TOKEN_PID_BITS 22
/** The process id in a POSIX token (namespace #HVC_TOKEN_NS_POSIX only). */
#define HVC_POSIX_TOKEN_PID(token) \
    ((uint32_t)((token) & ((1u << HVC_POSIX_TOKEN_PID_BITS) - 1)))

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_POSIX_H */
