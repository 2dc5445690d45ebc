/**
 * @file fring.h
 * @brief Lock-free single-producer single-consumer rings of fixed-size
 *        elements in a region, with single and batch copy calls.
 *
 * A fring is a named directory object (#HVC_OBJ_FRING) whose layout is
 * `struct hvc_wire_fring` (wire.h): an immutable line, a producer line, a
 * consumer line, a reserved line, then `capacity` elements (a power of
 * two) of `elem_size` bytes (1 to #HVC_FRING_ELEM_MAX, chosen at creation)
 * back to back, with no per-element header. It suits small fixed records:
 * sensor samples, descriptors, offsets into a shared pool.
 *
 * Each index is a free-running 32-bit element count written by one side
 * only, published with a release store and read by the other side with an
 * acquire load. A batch call moves N elements with one copy (two when the
 * data area wraps) and one index publication.
 *
 * The other side is untrusted, but an element has no length or tag to
 * check: only the other side's index is read, once, and the distance
 * `prod - cons` must stay within the capacity (and the consumer index may
 * only move forward, up to what the producer published); anything else is
 * `-HVC_EPROTO`, counted in the ring and the region header. Every element
 * position is masked into the data area, so no index value can make either
 * side touch memory outside the object. The immutable line is checked at
 * open and copied into the handle; the handle never reads it again.
 *
 * "Ring full" and "ring empty" are ordinary results: `-HVC_EAGAIN`. The
 * calls never block (there is no wait call yet; poll, or pair the ring
 * with a named event, event.h).
 *
 * Thread safety: one `struct hvc_fring` handle is used by one thread at a
 * time; the producer and the consumer are different handles (usually in
 * different peers). Every call touches only the ring's memory and makes no
 * system call: any context, an interrupt handler included.
 */
#ifndef HVCOMM_FRING_H
#define HVCOMM_FRING_H

#include <stddef.h>
#include <stdint.h>

#include <hvcomm/atomic.h>
#include <hvcomm/error.h>
#include <hvcomm/export.h>
#include <hvcomm/region.h>
#include <hvcomm/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup fring Fixed-size-element rings
 * @brief SPSC rings of fixed-size elements, batch calls with one
 *        publication.
 * @{
 */

/** Roles of a fring handle. */
enum hvc_fring_role {
    HVC_FRING_PRODUCER = 1, /**< sends; only the recorded writer peer */
    HVC_FRING_CONSUMER = 2, /**< receives */
};

/** The largest element (bytes). */
#define HVC_FRING_ELEM_MAX 4096u
/** The largest data area (bytes): capacity * elem_size at most this. */
#define HVC_FRING_BYTES_MAX (1u << 30)

/** Parameters of hvc_fring_create(). */
struct hvc_fring_attr {
    /** Bytes per element, 1..#HVC_FRING_ELEM_MAX. */
    uint32_t elem_size;
    /** Elements; rounded up to a power of two (0 or 1: 1 element). The
     *  data area, capacity * elem_size, is at most #HVC_FRING_BYTES_MAX. */
    uint32_t capacity;
    /** Producer peer id, or -1 for the calling peer. */
    int32_t writer;
    /** Reserved, 0. */
    uint32_t flags;
};

/**
 * @brief A fring handle: caller-owned, fields private to the library.
 *
 * Holds this side's checked copy of the immutable line, its own index and
 * a cached, checked copy of the other side's.
 */
struct hvc_fring {
    struct hvc_region *region;  /**< the region */
    struct hvc_wire_fring *w;   /**< shared header */
    uint8_t *data;              /**< data area */
    uint32_t elem_size;         /**< checked element size */
    uint32_t capacity;          /**< checked capacity (elements) */
    uint32_t mask;              /**< capacity - 1 */
    uint32_t flags;             /**< checked feature flags, plus handle-only bits */
    uint32_t role;              /**< #hvc_fring_role */
    uint32_t fast;              /**< the role when the inline paths may run (coherent memory), else 0 */
    uint32_t quarter;           /**< capacity / 4: the consumer's lazy publication step */
    uint32_t head;              /**< own index, private */
    uint32_t published;         /**< consumer: own index as last published */
    uint32_t peer;              /**< cached, checked index of the other side */
    uint32_t stalled;           /**< 1 after a full/empty result, until progress */
    uint32_t stalls;            /**< full or empty stalls of this side */
    uint32_t errors;            /**< protocol errors seen by this handle */
    uint32_t laps;              /**< times the own index wrapped past 2^32 */
};

/** Counters of a fring, from hvc_fring_stats(). */
struct hvc_fring_stats {
    uint32_t elem_size;    /**< bytes per element */
    uint32_t capacity;     /**< elements */
    uint32_t writer;       /**< producer peer */
    uint32_t flags;        /**< feature flags */
    uint32_t used;         /**< elements waiting (prod - cons), if sane, else 0 */
    uint32_t prod;         /**< producer index */
    uint32_t cons;         /**< consumer index */
    uint32_t full_stalls;  /**< producer found the ring full */
    uint32_t empty_stalls; /**< consumer found the ring empty */
    uint32_t proto_errors; /**< protocol errors found by either side */
    uint64_t sent;         /**< elements published by the producer */
    uint64_t received;     /**< elements released by the consumer */
};

/**
 * @brief Create a fring in a region and open it as producer or consumer.
 *
 * @param q caller-owned handle, set up as the producer when the calling
 *        peer is the writer, else as the consumer.
 * @param r the region (joined).
 * @param name the object name.
 * @param attr element size, capacity, writer, flags.
 * @retval 0 created and opened.
 * @retval -HVC_EINVAL bad arguments, not joined, flags not 0, an element
 *         size of 0 or over #HVC_FRING_ELEM_MAX, a writer that is no peer
 *         slot, or a data area over #HVC_FRING_BYTES_MAX.
 * @retval -HVC_ENAMETOOLONG / -HVC_EEXIST / -HVC_ENOSPC / -HVC_ETIMEDOUT /
 *         -HVC_EPROTO as hvc_obj_create().
 * @retval -HVC_ENOTSUP built attach-only (HVC_CONFIG_ATTACH_ONLY).
 *
 * Context: thread.
 */
HVC_API int hvc_fring_create(struct hvc_fring *q, struct hvc_region *r, const char *name,
                             const struct hvc_fring_attr *attr);

/**
 * @brief Open an existing fring by name.
 *
 * @param q caller-owned handle.
 * @param r the region (attached; joined for the producer role).
 * @param name the object name.
 * @param role #HVC_FRING_PRODUCER or #HVC_FRING_CONSUMER.
 * @retval 0 opened; the handle starts at the shared index of its side.
 * @retval -HVC_EINVAL bad arguments or role.
 * @retval -HVC_ENOENT no such object.
 * @retval -HVC_ETYPE the object is not a fring.
 * @retval -HVC_ENOTREADY the fring is still being created.
 * @retval -HVC_EVERSION unknown fring layout version.
 * @retval -HVC_ENOTSUP a feature flag this build does not know (a newer
 *         peer's fring); counted as unsupported in the region header.
 * @retval -HVC_EPERM producer role asked by a peer that is not the writer.
 * @retval -HVC_EPROTO the immutable line is inconsistent (a bad magic,
 *         element size, capacity, header size or writer, or a data
 *         area larger than the object), or the two indices are more than a
 *         capacity apart; counted in the region header.
 *
 * Context: thread.
 */
HVC_API int hvc_fring_open(struct hvc_fring *q, struct hvc_region *r, const char *name,
                           int role);

/**
 * @brief Bind a handle to an object already found with hvc_obj_open() or
 *        hvc_obj_get().
 *
 * @param q caller-owned handle.
 * @param r the region.
 * @param obj the object.
 * @param role #HVC_FRING_PRODUCER or #HVC_FRING_CONSUMER.
 * @retval 0 opened.
 * @retval -HVC_EINVAL / -HVC_ETYPE / -HVC_ENOTREADY / -HVC_EVERSION /
 *         -HVC_ENOTSUP / -HVC_EPERM / -HVC_EPROTO as hvc_fring_open().
 */
HVC_API int hvc_fring_attach(struct hvc_fring *q, struct hvc_region *r,
                             const struct hvc_obj *obj, int role);

/** @brief The ring's element size in bytes (0 for a bad handle). */
HVC_API uint32_t hvc_fring_elem_size(const struct hvc_fring *q);

/** @brief The ring's capacity in elements (0 for a bad handle). */
HVC_API uint32_t hvc_fring_capacity(const struct hvc_fring *q);

/**
 * @brief Send one element (copy of elem_size bytes), and publish it.
 * @param q a producer handle.
 * @param elem the element.
 * @retval 0 sent.
 * @retval -HVC_EAGAIN the ring is full (an ordinary result).
 * @retval -HVC_EINVAL not a producer handle (or NULL), or elem is NULL.
 * @retval -HVC_EPROTO the consumer index is out of bounds (counted).
 *
 * Context: the producer's thread; any context. An inline fast path (room
 * known from the cached consumer index, or found by reading it once)
 * falls back on hvc__fring_send_slow() for everything else.
 */
static inline int hvc_fring_send(struct hvc_fring *q, const void *elem);

/**
 * @brief Receive one element (copy of elem_size bytes).
 * @param q a consumer handle.
 * @param elem where to copy the element (elem_size bytes).
 * @retval 0 received.
 * @retval -HVC_EAGAIN the ring is empty (an ordinary result).
 * @retval -HVC_EINVAL not a consumer handle (or NULL), or elem is NULL.
 * @retval -HVC_EPROTO the producer index is out of bounds (counted).
 *
 * The freed slot is published when this side has used up the elements it
 * knew of, after a quarter of the ring, or at hvc_fring_flush(): a full
 * ring may look full to the producer a little longer than it is.
 *
 * Context: the consumer's thread; any context.
 */
static inline int hvc_fring_recv(struct hvc_fring *q, void *elem);

/**
 * @brief Send up to `n` elements with one copy (two when the data area
 *        wraps) and one index publication.
 * @param q a producer handle.
 * @param elems `n` elements back to back (n * elem_size bytes).
 * @param n elements offered.
 * @return the number sent, 1..n (as many as there is room for), or 0 when
 *         n is 0.
 * @retval -HVC_EAGAIN the ring is full (n > 0).
 * @retval -HVC_EINVAL not a producer handle (or NULL), or elems is NULL
 *         with n > 0.
 * @retval -HVC_EPROTO the consumer index is out of bounds (counted).
 *
 * Context: the producer's thread; any context.
 */
HVC_API int hvc_fring_send_batch(struct hvc_fring *q, const void *elems, unsigned n);

/**
 * @brief Receive up to `max` elements with one copy (two when the data
 *        area wraps) and one index publication.
 * @param q a consumer handle.
 * @param out room for `max` elements (max * elem_size bytes).
 * @param max elements wanted.
 * @return the number received, 1..max, or 0 when max is 0.
 * @retval -HVC_EAGAIN the ring is empty (max > 0).
 * @retval -HVC_EINVAL not a consumer handle (or NULL), or out is NULL
 *         with max > 0.
 * @retval -HVC_EPROTO the producer index is out of bounds (counted).
 *
 * Context: the consumer's thread; any context.
 */
HVC_API int hvc_fring_recv_batch(struct hvc_fring *q, void *out, unsigned max);

/**
 * @brief Publish what the consumer released lazily (hvc_fring_recv()).
 *        A producer handle always publishes at once: nothing to do.
 * @param q a handle.
 * @retval 0 done.
 * @retval -HVC_EINVAL bad handle.
 */
HVC_API int hvc_fring_flush(struct hvc_fring *q);

/**
 * @brief Read a fring's counters (any peer, no handle needed).
 *
 * Safe on a corrupt object: the immutable line is checked, nothing outside
 * the object is read.
 *
 * @param r the region.
 * @param obj the object (hvc_obj_open() / hvc_obj_get()).
 * @param out the counters.
 * @retval 0 filled in.
 * @retval -HVC_EINVAL bad arguments.
 * @retval -HVC_ETYPE not a fring.
 * @retval -HVC_ENOTREADY still being created.
 * @retval -HVC_EVERSION unknown layout version.
 * @retval -HVC_ENOTSUP a feature flag this build does not know.
 * @retval -HVC_EPROTO inconsistent immutable line (counted).
 *
 * Context: any; reads only.
 */
HVC_API int hvc_fring_stats(struct hvc_region *r, const struct hvc_obj *obj,
                            struct hvc_fring_stats *out);

/* ---- inline fast paths ---- */

/** @cond internal */
/** Out-of-line paths of hvc_fring_send() and hvc_fring_recv(): every case. */
HVC_API int hvc__fring_send_slow(struct hvc_fring *q, const void *elem);
/** @copydoc hvc__fring_send_slow */
HVC_API int hvc__fring_recv_slow(struct hvc_fring *q, void *elem);

/** Handle-only bit of hvc_fring::flags: the region is not coherent; the
 *  out-of-line paths do the cache maintenance, the inline ones step aside. */
#define HVC__FRING_F_CACHE 0x80000000u

/* One element: 8 and 4 bytes (pointers, offsets, samples) as fixed-size
 * copies the compiler inlines, the rest through memcpy. */
static inline void hvc__fring_copy(void *dst, const void *src, uint32_t n)
{
    if (n == 8)
        __builtin_memcpy(dst, src, 8);
    else if (n == 4)
        __builtin_memcpy(dst, src, 4);
    else
        __builtin_memcpy(dst, src, n);
}

/*
 * Inline refreshes of the cached index of the other side: read once into
 * a local, checked, cached only when good and useful. 0 sends the caller
 * to the out-of-line path, which reads the index afresh, decides on its
 * own copy and counts the stall or the error.
 */
static inline int hvc__fring_cons_refresh(struct hvc_fring *q)
{
    /* Pairs with the consumer's release store of cons: its reads of the
     * elements before it are done. It only moves forward, up to what we
     * published (= head: the producer publishes every call). */
    uint32_t c = hvc_load_acquire(&q->w->cons);

    if (c - q->peer > q->head - q->peer || q->head - c >= q->capacity)
        return 0;
    q->peer = c;
    return 1;
}

/** @copydoc hvc__fring_cons_refresh */
static inline int hvc__fring_prod_refresh(struct hvc_fring *q)
{
    /* Pairs with the producer's release store of prod: the elements
     * before it are written. */
    uint32_t p = hvc_load_acquire(&q->w->prod);

    /* Called only when every element known was taken (peer == head), so
     * the out-of-line rule (cons_avail(): within a capacity of head, not
     * behind what was published) is this one; and something new. */
    if (p - q->head > q->capacity || p == q->head)
        return 0;
    q->peer = p;
    return 1;
}
/** @endcond */

static inline int hvc_fring_send(struct hvc_fring *q, const void *elem)
{
    /* q is tested before anything is read through it; `fast` is 0 for a
     * consumer, a bad handle, and non-coherent memory. */
    if (q != NULL && q->fast == HVC_FRING_PRODUCER && elem != NULL &&
        (q->head - q->peer < q->capacity || hvc__fring_cons_refresh(q))) {
        uint32_t head = q->head;
        struct hvc_wire_fring *w = q->w;

        hvc__fring_copy(q->data + (size_t)(head & q->mask) * q->elem_size, elem,
                        q->elem_size);
        q->head = ++head;
        q->stalled = 0;
        if (head == 0)
            hvc_store_relaxed(&w->prod_laps, ++q->laps);
        /* Pairs with the consumer's acquire load of prod: the element is
         * visible before the index that covers it. */
        hvc_store_release(&w->prod, head);
        return 0;
    }
    return hvc__fring_send_slow(q, elem);
}

static inline int hvc_fring_recv(struct hvc_fring *q, void *elem)
{
    if (q != NULL && q->fast == HVC_FRING_CONSUMER && elem != NULL &&
        (q->peer != q->head || hvc__fring_prod_refresh(q))) {
        uint32_t head = q->head;
        struct hvc_wire_fring *w = q->w;

        hvc__fring_copy(elem, q->data + (size_t)(head & q->mask) * q->elem_size,
                        q->elem_size);
        q->head = ++head;
        q->stalled = 0;
        if (head == 0)
            hvc_store_relaxed(&w->cons_laps, ++q->laps);
        /* Lazily: when what we knew of is used up (a waiting producer hears
         * at once), or after a quarter of the ring. Pairs with the
         * producer's acquire load of cons: our read of the element is done
         * before it may reuse the slot. */
        if (head == q->peer || head - q->published >= q->quarter) {
            hvc_store_release(&w->cons, head);
            q->published = head;
        }
        return 0;
    }
    return hvc__fring_recv_slow(q, elem);
}

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_FRING_H */
