/**
 * @file error.h
 * @brief Error codes shared by every hvcomm module.
 *
 * Every hvcomm function that can fail returns an `int`: zero or a positive
 * count on success, a negative `HVC_E...` code on failure. The codes are
 * generated from one list, #HVC_ERRNO_MAP, which also generates
 * hvc_strerror() and hvc_errname(), so a new code is added in one place.
 */
#ifndef HVCOMM_ERROR_H
#define HVCOMM_ERROR_H

#include <hvcomm/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup error Error codes
 * @brief One list of codes, negative on return.
 * @{
 */

/**
 * @brief The list of error codes: X(name, message).
 *
 * Expand it with your own X to build tables; the library does so for the
 * enum, hvc_strerror() and hvc_errname().
 */
#define HVC_ERRNO_MAP(X)                                                      \
    X(EINVAL, "invalid argument")                                              \
    X(ENOTSUP, "operation not supported by this platform")                     \
    X(ENOENT, "no such region or object")                                      \
    X(EEXIST, "name already exists")                                           \
    X(ENOSPC, "no space left in the region or its tables")                     \
    X(ENAMETOOLONG, "name too long")                                           \
    X(EMAGIC, "not an hvcomm region (bad magic)")                              \
    X(EVERSION, "unsupported region layout version")                           \
    X(EPROTO, "corrupt shared data or protocol violation by a peer")           \
    X(ETYPE, "object has another type")                                        \
    X(EPERM, "operation not permitted for this peer")                          \
    X(EAGAIN, "resource temporarily unavailable")                              \
    X(ETIMEDOUT, "timed out")                                                  \
    X(EBUSY, "resource busy")                                                  \
    X(EPEERGONE, "peer gone")                                                  \
    X(EOWNERDEAD, "previous owner died; data may be inconsistent")             \
    X(ENOTRECOVERABLE, "state not recoverable")                                \
    X(ESTALE, "region was re-formatted or this peer was declared gone")        \
    X(ENOTREADY, "region or object not ready yet")                             \
    X(EOVERFLOW, "value would overflow")                                       \
    X(EMSGSIZE, "message too large")                                           \
    X(EACCES, "permission denied")                                             \
    X(EIO, "platform input/output error")                                      \
    X(ENOMEM, "out of memory")                                                 \
    X(EINTR, "interrupted")

/** @brief Error codes. Functions return them negated: `-HVC_EINVAL`. */
enum hvc_errno {
    HVC_OK = 0, /**< success */
/** @cond INTERNAL */
#define HVC__ERRNO_ENUM(name, msg) HVC_##name,
    HVC_ERRNO_MAP(HVC__ERRNO_ENUM)
#undef HVC__ERRNO_ENUM
    /** @endcond */
    HVC_ERRNO_MAX /**< one past the last code */
};

/**
 * @brief A readable message for an error code.
 * @param err a code, negative (as returned) or positive.
 * @return a static string; "unknown error" for a value outside the list.
 *
 * Context: any, including interrupt handlers; thread-safe.
 */
HVC_API const char *hvc_strerror(int err);

/**
 * @brief The symbolic name of an error code, e.g. "HVC_EPROTO".
 * @param err a code, negative (as returned) or positive; 0 gives "HVC_OK".
 * @return a static string; "HVC_E?" for a value outside the list.
 *
 * Context: any; thread-safe.
 */
HVC_API const char *hvc_errname(int err);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_ERROR_H */
