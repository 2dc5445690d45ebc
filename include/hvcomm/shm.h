/**
 * @file shm.h
 * @brief Locked segments: named shared data guarded by a robust lock word.
 *
 * A segment is an object of a region's directory (type #HVC_OBJ_SEGMENT):
 * a header with a lock word (layout in wire.h, struct hvc_wire_seg),
 * followed by the data. The lock records its holder as an owner word
 * (#HVC_OWNER: peer id and that peer's epoch). A locker spins for a bounded
 * time, then sleeps through the platform's wait op. If the holder died, the
 * next locker takes the lock and gets #HVC_SEG_OWNERDEAD: the data may be
 * inconsistent; it repairs it and calls hvc_seg_consistent(), or unlocks
 * without doing so, after which every lock fails with
 * `-HVC_ENOTRECOVERABLE` (as robust POSIX mutexes do). See doc/segments.md.
 *
 * Ownership is per peer: two threads of one peer are the same owner, so
 * the lock does not protect threads of one peer from each other.
 *
 * A segment can be opened read-only (#HVC_SEG_O_RDONLY): the data is then
 * mapped through a read-only view where the backend can enforce it (the
 * POSIX backend can), and a write through it faults.
 *
 * Thread safety: a handle may be used by several threads of one peer at
 * once, except for hvc_seg_close() and hvc_seg_set_spin(). Not from
 * interrupt handlers (lock may sleep; trylock and unlock may be used where
 * the backend's wake method allows).
 */
#ifndef HVCOMM_SHM_H
#define HVCOMM_SHM_H

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
 * @defgroup shm Locked segments
 * @brief Lock, try-lock, lock with timeout, unlock, owner-death recovery.
 * @{
 */

/** Flags of hvc_seg_open(). */
enum hvc_seg_open_flags {
    HVC_SEG_O_RDONLY = 1u << 0, /**< map the data read-only; no locking */
};

/** Positive result of the lock functions: locked, but the holder died. */
#define HVC_SEG_OWNERDEAD 1
/** Default spin time of a locker before sleeping, in ns. */
#define HVC_SEG_SPIN_DEFAULT 20000u
/** Longest single sleep between two checks of the holder's liveness, ns. */
#define HVC_SEG_SLICE_NS 50000000

/** An open segment. Caller-owned; fields are private to the library. */
struct hvc_seg {
    struct hvc_region *r;     /**< the region */
    struct hvc_wire_seg *w;   /**< the header, in the main mapping */
    void *data;               /**< the data (in the view when read-only) */
    uint64_t size;            /**< checked data size */
    void *view;               /**< the read-only view, or NULL */
    uint64_t view_len;        /**< its length */
    uint64_t spin_ns;         /**< spin before sleeping; 0 sleeps at once */
    struct hvc_obj obj;       /**< the directory entry */
    uint32_t flags;           /**< #hvc_seg_open_flags */
    uint32_t ro_enforced;     /**< 1 when writes through `data` fault */
};

/** What hvc_seg_stats() reports. Values are read once each, unchecked. */
struct hvc_seg_stats {
    uint64_t data_size; /**< bytes of data */
    uint32_t owner;     /**< owner word of the holder, 0 when free */
    uint32_t state;     /**< #hvc_seg_state */
    uint32_t waiters;   /**< threads sleeping on the lock */
    uint32_t contended; /**< lock calls that had to wait */
    uint32_t acquired;  /**< successful locks */
    uint32_t recovered; /**< locks taken from a dead holder */
    uint32_t valid;     /**< 1 when the header checked out */
    uint32_t reserved;  /**< 0 */
};

/**
 * @brief Create a segment of `size` data bytes and open it read-write.
 *
 * The object is page-aligned, so that read-only views are possible.
 *
 * @param r the region (joined).
 * @param name 1..#HVC_NAME_MAX characters.
 * @param size data bytes, > 0.
 * @param seg caller-owned handle, filled in on success.
 * @retval 0 created and open.
 * @retval -HVC_EINVAL bad arguments, or not joined.
 * @retval -HVC_ENAMETOOLONG name too long.
 * @retval -HVC_EEXIST the name is taken.
 * @retval -HVC_ENOSPC no room in the directory or the heap.
 * @retval -HVC_ETIMEDOUT the directory lock stayed held.
 * @retval -HVC_EPROTO the directory is corrupt.
 *
 * Context: thread.
 */
HVC_API int hvc_seg_create(struct hvc_region *r, const char *name,
                           uint64_t size, struct hvc_seg *seg);

/**
 * @brief Open a segment by name.
 * @param r the region (joined, unless #HVC_SEG_O_RDONLY).
 * @param name the name.
 * @param flags #hvc_seg_open_flags.
 * @param seg caller-owned handle, filled in on success.
 * @retval 0 open.
 * @retval -HVC_EINVAL bad arguments, or not joined for read-write.
 * @retval -HVC_ENOENT no such segment.
 * @retval -HVC_ETYPE the name is another kind of object.
 * @retval -HVC_EPERM read-write open by a peer that is not the object's writer.
 * @retval -HVC_ENOTREADY its creator has not finished initialising it.
 * @retval -HVC_EVERSION unknown layout version.
 * @retval -HVC_EPROTO the header is corrupt.
 * @retval -HVC_ENOTSUP a feature flag this build does not know
 *         (a newer peer made it; counted as unsupported, not as a protocol error).
 * @retval -HVC_ENOMEM / -HVC_EIO the read-only view could not be mapped.
 *
 * Context: thread.
 */
HVC_API int hvc_seg_open(struct hvc_region *r, const char *name,
                         unsigned flags, struct hvc_seg *seg);

/**
 * @brief Close a segment handle (unmaps its read-only view).
 *
 * Does not unlock: closing while holding the lock leaves it held.
 *
 * @param seg the handle; zeroed.
 * @retval 0 done.
 * @retval -HVC_EINVAL not open.
 */
HVC_API int hvc_seg_close(struct hvc_seg *seg);

/**
 * @brief The data (read-only memory for a read-only handle).
 * @param seg the handle.
 * @return the data; NULL if not open.
 */
HVC_API void *hvc_seg_data(const struct hvc_seg *seg);

/**
 * @brief Bytes of data.
 * @param seg the handle.
 * @return the size; 0 if not open.
 */
HVC_API uint64_t hvc_seg_size(const struct hvc_seg *seg);

/**
 * @brief Set how long lockers on this handle spin before sleeping.
 * @param seg the handle.
 * @param spin_ns nanoseconds; 0 sleeps at once.
 * @retval 0 done.
 * @retval -HVC_EINVAL not open.
 */
HVC_API int hvc_seg_set_spin(struct hvc_seg *seg, uint64_t spin_ns);

/**
 * @brief Lock, waiting as long as it takes.
 * @param seg the handle.
 * @retval 0 locked.
 * @retval HVC_SEG_OWNERDEAD locked; the previous holder died holding it:
 *         repair the data, then hvc_seg_consistent().
 * @retval -HVC_ENOTRECOVERABLE a recovered lock was unlocked without
 *         hvc_seg_consistent(); the segment cannot be used (not locked).
 * @retval -HVC_EPERM the handle is read-only.
 * @retval -HVC_EINVAL not open, or this peer is not joined.
 *
 * A corrupt state word or an owner word naming no peer is counted as a
 * protocol error and recovered from (#HVC_SEG_OWNERDEAD).
 *
 * Context: thread.
 */
HVC_API int hvc_seg_lock(struct hvc_seg *seg);

/**
 * @brief Lock if free (or held by a dead peer); never sleeps.
 * @param seg the handle.
 * @retval 0 locked.
 * @retval HVC_SEG_OWNERDEAD locked from a dead holder, as hvc_seg_lock().
 * @retval -HVC_EBUSY held by a live peer (this one included).
 * @retval -HVC_ENOTRECOVERABLE the segment cannot be used (not locked).
 * @retval -HVC_EPERM the handle is read-only.
 * @retval -HVC_EINVAL not open, or this peer is not joined.
 *
 * Context: any thread.
 */
HVC_API int hvc_seg_trylock(struct hvc_seg *seg);

/**
 * @brief Lock, waiting at most `timeout_ns`.
 * @param seg the handle.
 * @param timeout_ns relative timeout; 0 polls; #HVC_FOREVER.
 * @retval 0 locked.
 * @retval HVC_SEG_OWNERDEAD locked from a dead holder, as hvc_seg_lock().
 * @retval -HVC_EBUSY `timeout_ns` was 0 and the lock is held.
 * @retval -HVC_ETIMEDOUT still held by a live peer at the deadline.
 * @retval -HVC_ENOTRECOVERABLE the segment cannot be used (not locked).
 * @retval -HVC_EPERM the handle is read-only.
 * @retval -HVC_EINVAL not open, not joined, or a bad timeout.
 *
 * Context: thread.
 */
HVC_API int hvc_seg_lock_timeout(struct hvc_seg *seg, int64_t timeout_ns);

/**
 * @brief Unlock. If the lock was recovered and not marked consistent, the
 *        segment becomes not recoverable.
 * @param seg the handle.
 * @retval 0 unlocked.
 * @retval -HVC_EPERM this peer does not hold the lock, or the handle is
 *         read-only (nothing changed).
 * @retval -HVC_EINVAL not open, or this peer is not joined.
 *
 * Context: any thread of the holding peer.
 */
HVC_API int hvc_seg_unlock(struct hvc_seg *seg);

/**
 * @brief Mark the data consistent again after #HVC_SEG_OWNERDEAD.
 * @param seg the handle (holding the lock).
 * @retval 0 marked (or already consistent).
 * @retval -HVC_EPERM this peer does not hold the lock.
 * @retval -HVC_ENOTRECOVERABLE the segment is already not recoverable.
 * @retval -HVC_EPROTO the state word is corrupt.
 * @retval -HVC_EINVAL not open.
 *
 * Context: any thread of the holding peer.
 */
HVC_API int hvc_seg_consistent(struct hvc_seg *seg);

/**
 * @brief Read a segment's header for tools; safe on corrupt objects.
 * @param r the region.
 * @param obj an object of type #HVC_OBJ_SEGMENT.
 * @param out filled in; `valid` says whether the header checked out.
 * @retval 0 filled in (also for a corrupt object, with valid = 0).
 * @retval -HVC_EINVAL bad arguments, or not a segment.
 *
 * Context: thread.
 */
HVC_API int hvc_seg_stats(struct hvc_region *r, const struct hvc_obj *obj,
                          struct hvc_seg_stats *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_SHM_H */
