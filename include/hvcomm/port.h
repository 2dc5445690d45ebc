/**
 * @file port.h
 * @brief ARINC 653 style ports in a region: sampling ports (the latest
 *        value, never torn, with age and validity) and queuing ports
 *        (bounded FIFOs of whole messages with an overflow policy).
 *
 * Both are named directory objects with one writer peer (recorded at
 * creation; only it may open the writing side). Layouts are
 * `struct hvc_wire_sampling` and `struct hvc_wire_queue` in wire.h.
 * Neither ever makes the writer wait for a reader. Everything the other
 * side wrote is read once, checked, and a bad value gives `-HVC_EPROTO`
 * (counted), never an access outside the object.
 *
 * Thread safety: a handle is used by one thread at a time. A sampling port
 * may have any number of readers (each with its own handle, on any peer);
 * a queuing port has one reader. No call sleeps; all may be called from
 * any context that may touch the shared memory.
 */
#ifndef HVCOMM_PORT_H
#define HVCOMM_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <hvcomm/error.h>
#include <hvcomm/export.h>
#include <hvcomm/region.h>
#include <hvcomm/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup port Sampling and queuing ports
 * @brief Latest-value and FIFO ports.
 * @{
 */

/** Largest message of a port (bytes). */
#define HVC_PORT_MSG_MAX (1u << 24)

/** Roles of a port handle. */
enum hvc_port_role {
    HVC_PORT_WRITER = 1, /**< publishes; only the recorded writer peer */
    HVC_PORT_READER = 2, /**< reads */
};

/* ---- sampling ports ---- */

/** Parameters of hvc_sampling_create(). */
struct hvc_sampling_attr {
    uint32_t max_msg;    /**< largest message, 1..#HVC_PORT_MSG_MAX */
    int32_t writer;      /**< writer peer id, -1 for the calling peer */
    uint64_t refresh_ns; /**< a value older than this is reported invalid */
};

/** A sampling port handle: caller-owned, fields private. */
struct hvc_sampling {
    struct hvc_region *region;   /**< the region */
    struct hvc_wire_sampling *w; /**< shared header */
    uint8_t *slots;              /**< slot 0 */
    uint32_t max_msg;            /**< checked */
    uint32_t slot_size;          /**< checked */
    uint64_t refresh_ns;         /**< checked */
    uint32_t role;               /**< #hvc_port_role */
    uint32_t seq;                /**< writer: last publication number */
    uint32_t errors;             /**< protocol errors seen by this handle */
    uint32_t reserved;           /**< 0 */
};

/** What hvc_sampling_read() tells about the message it returns. */
struct hvc_sampling_info {
    uint32_t len;    /**< message bytes */
    uint32_t seq;    /**< publication number (1, 2, ...) */
    uint64_t age_ns; /**< now - time of publication (0 if clocks disagree) */
    bool valid;      /**< age_ns <= the refresh period */
};

/** Counters of a sampling port, from hvc_sampling_stats(). */
struct hvc_sampling_stats {
    uint32_t max_msg;     /**< largest message */
    uint32_t writer;      /**< writer peer */
    uint64_t refresh_ns;  /**< refresh period */
    uint32_t published;   /**< publications so far */
};

/**
 * @brief Create a sampling port and open it (writer when this peer is the
 *        writer, else reader).
 * @retval 0 created.
 * @retval -HVC_EINVAL bad arguments or not joined.
 * @retval -HVC_ENAMETOOLONG / -HVC_EEXIST / -HVC_ENOSPC / -HVC_ETIMEDOUT /
 *         -HVC_EPROTO as hvc_obj_create().
 *
 * Context: thread.
 */
HVC_API int hvc_sampling_create(struct hvc_sampling *sp, struct hvc_region *r,
                                const char *name,
                                const struct hvc_sampling_attr *attr);

/**
 * @brief Open a sampling port.
 * @retval 0 opened.
 * @retval -HVC_EINVAL bad arguments.
 * @retval -HVC_ENOENT / -HVC_ETYPE as hvc_obj_open().
 * @retval -HVC_ENOTREADY still being created.
 * @retval -HVC_EVERSION unknown layout.
 * @retval -HVC_EPERM writer role asked by another peer than the writer.
 * @retval -HVC_EPROTO inconsistent header (counted).
 * @retval -HVC_ENOTSUP a feature flag this build does not know
 *         (a newer peer made it; counted as unsupported, not as a protocol error).
 *
 * Context: thread.
 */
HVC_API int hvc_sampling_open(struct hvc_sampling *sp, struct hvc_region *r,
                              const char *name, int role);

/**
 * @brief Publish a new value. Never waits for readers.
 * @retval 0 published.
 * @retval -HVC_EMSGSIZE len > max_msg.
 * @retval -HVC_EINVAL not the writer, or buf NULL with len > 0.
 *
 * Context: the writer's thread; any context.
 */
HVC_API int hvc_sampling_write(struct hvc_sampling *sp, const void *buf,
                               uint32_t len);

/**
 * @brief Copy the latest complete value.
 * @param sp a reader (or writer) handle.
 * @param buf where to copy the value.
 * @param cap bytes at `buf`.
 * @param info receives length, publication number, age and validity (may
 *        be NULL).
 * @return the message length.
 * @retval -HVC_EAGAIN nothing published yet, or the writer overwrote the
 *         slot during every one of a bounded number of attempts.
 * @retval -HVC_EMSGSIZE the value is longer than `cap` (info->len tells).
 * @retval -HVC_EINVAL bad arguments.
 * @retval -HVC_EPROTO a slot or length out of bounds (counted).
 *
 * Context: any reader thread; any context.
 */
HVC_API int hvc_sampling_read(struct hvc_sampling *sp, void *buf, uint32_t cap,
                              struct hvc_sampling_info *info);

/**
 * @brief Read a sampling port's description (any peer, corrupt-safe).
 * @retval 0 filled in.
 * @retval -HVC_EINVAL / -HVC_ETYPE / -HVC_ENOTREADY / -HVC_EVERSION /
 *         -HVC_EPROTO / -HVC_ENOTSUP as hvc_sampling_open().
 */
HVC_API int hvc_sampling_stats(struct hvc_region *r, const struct hvc_obj *obj,
                               struct hvc_sampling_stats *out);

/* ---- queuing ports ---- */

/** Parameters of hvc_queue_create(). */
struct hvc_queue_attr {
    uint32_t max_msg;   /**< largest message, 0..#HVC_PORT_MSG_MAX */
    uint32_t max_count; /**< most messages waiting, 1..65536 */
    uint32_t policy;    /**< #HVC_QUEUE_REJECT or #HVC_QUEUE_DROP_OLDEST */
    int32_t writer;     /**< writer peer id, -1 for the calling peer */
};

/** A queuing port handle: caller-owned, fields private. */
struct hvc_queue {
    struct hvc_region *region; /**< the region */
    struct hvc_wire_queue *w;  /**< shared header */
    uint8_t *slots;            /**< slot 0 */
    uint32_t max_msg;          /**< checked */
    uint32_t max_count;        /**< checked */
    uint32_t mask;             /**< slots - 1 */
    uint32_t slot_size;        /**< checked */
    uint32_t policy;           /**< checked */
    uint32_t role;             /**< #hvc_port_role */
    uint32_t head;             /**< own index, private */
    uint32_t peer;             /**< cached, checked index of the other side */
    uint32_t count;            /**< writer: rejected; reader: dropped */
    uint32_t errors;           /**< protocol errors seen by this handle */
};

/** What hvc_queue_recv() tells about the message it returns. */
struct hvc_queue_info {
    uint32_t len;     /**< message bytes */
    uint32_t dropped; /**< messages dropped (overwritten) since the last receive */
};

/** Counters of a queuing port, from hvc_queue_stats(). */
struct hvc_queue_stats {
    uint32_t max_msg;   /**< largest message */
    uint32_t max_count; /**< most messages waiting */
    uint32_t policy;    /**< overflow policy */
    uint32_t writer;    /**< writer peer */
    uint32_t waiting;   /**< messages waiting now */
    uint32_t sent;      /**< messages accepted by the port */
    uint32_t received;  /**< messages received or dropped */
    uint32_t rejected;  /**< refused (REJECT policy) */
    uint32_t dropped;   /**< dropped (DROP_OLDEST policy) */
    uint32_t proto_errors; /**< protocol errors seen by either side */
};

/**
 * @brief Create a queuing port and open it (writer when this peer is the
 *        writer, else reader).
 * @retval 0 created.
 * @retval -HVC_EINVAL bad arguments or not joined.
 * @retval -HVC_ENAMETOOLONG / -HVC_EEXIST / -HVC_ENOSPC / -HVC_ETIMEDOUT /
 *         -HVC_EPROTO as hvc_obj_create().
 */
HVC_API int hvc_queue_create(struct hvc_queue *qp, struct hvc_region *r,
                             const char *name, const struct hvc_queue_attr *attr);

/**
 * @brief Open a queuing port.
 * @retval 0 opened.
 * @retval -HVC_EINVAL / -HVC_ENOENT / -HVC_ETYPE / -HVC_ENOTREADY /
 *         -HVC_EVERSION / -HVC_EPERM / -HVC_EPROTO / -HVC_ENOTSUP as
 *         hvc_sampling_open().
 */
HVC_API int hvc_queue_open(struct hvc_queue *qp, struct hvc_region *r,
                           const char *name, int role);

/**
 * @brief Queue one message.
 * @retval 0 queued (with DROP_OLDEST, possibly over the oldest message).
 * @retval -HVC_EAGAIN full, REJECT policy: the message was refused (counted).
 * @retval -HVC_EMSGSIZE len > max_msg.
 * @retval -HVC_EINVAL not the writer, or bad arguments.
 * @retval -HVC_EPROTO the reader index is out of bounds (counted).
 *
 * Context: the writer's thread; any context.
 */
HVC_API int hvc_queue_send(struct hvc_queue *qp, const void *buf, uint32_t len);

/**
 * @brief Take the oldest message.
 * @param qp a reader handle.
 * @param buf where to copy the message.
 * @param cap bytes at `buf`.
 * @param info receives the length and the messages dropped before it
 *        (may be NULL).
 * @return the message length.
 * @retval -HVC_EAGAIN empty.
 * @retval -HVC_EMSGSIZE the message is longer than `cap`; it stays queued.
 * @retval -HVC_EINVAL not the reader, or bad arguments.
 * @retval -HVC_EPROTO the writer index or a slot is invalid (counted).
 *
 * Context: the reader's thread; any context.
 */
HVC_API int hvc_queue_recv(struct hvc_queue *qp, void *buf, uint32_t cap,
                           struct hvc_queue_info *info);

/**
 * @brief Messages waiting (either side).
 * @return the count (0..max_count).
 * @retval -HVC_EINVAL bad handle.
 * @retval -HVC_EPROTO the other side's index is out of bounds (counted).
 */
HVC_API int hvc_queue_status(struct hvc_queue *qp);

/**
 * @brief Read a queuing port's counters (any peer, corrupt-safe).
 * @retval 0 filled in.
 * @retval -HVC_EINVAL / -HVC_ETYPE / -HVC_ENOTREADY / -HVC_EVERSION /
 *         -HVC_EPROTO / -HVC_ENOTSUP as hvc_queue_open().
 */
HVC_API int hvc_queue_stats(struct hvc_region *r, const struct hvc_obj *obj,
                            struct hvc_queue_stats *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_PORT_H */
