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
 *
 * A window of a file: `NAME@OFFSET` (OFFSET decimal or `0x` hex, a
 * multiple of the page size) maps the region that starts OFFSET bytes into
 * NAME, e.g. `/dev/shm/guest-ram@0x400000` for the guest-physical address
 * 0x80400000 of a riscv64 `virt` guest whose RAM is that file. Only a `@`
 * followed by a digit starts an offset. Size 0 maps the rest of the file
 * from OFFSET; a given size maps that many bytes (with #HVC_MAP_CREATE the
 * file grows to OFFSET + size if shorter). Views (hvc_platform_map_view())
 * are relative to OFFSET. Errors of the syntax: `-HVC_EINVAL` for an
 * offset that does not parse, is not page-aligned, or is at or past the
 * end of the file when mapping the rest; `-HVC_EOVERFLOW` when OFFSET (or
 * OFFSET + size) exceeds 2^63 - 1. Unlinking a window with a non-zero
 * OFFSET is `-HVC_ENOTSUP` (it would remove the whole file).
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
