/**
 * @file event.h
 * @brief Named events: signal on one peer, wait on another, across
 *        processes, VMs and bare-metal cores.
 *
 * An event is an object of a region's directory (type #HVC_OBJ_EVENT),
 * created once and opened by name by any joined peer. Three kinds:
 *
 * - #HVC_EVENT_AUTO: a flag; a signal sets it, one waiter consumes it
 *   (signals while it is set coalesce);
 * - #HVC_EVENT_COUNTING: a semaphore; each signal is one unit, one waiter
 *   takes one unit; a signal beyond `max_count` is refused with
 *   `-HVC_EOVERFLOW`;
 * - #HVC_EVENT_BROADCAST: a generation number; a signal bumps it and wakes
 *   every current waiter.
 *
 * Waiting spins for a bounded time (hvc_event_set_spin()), then registers
 * in shared memory and sleeps through the platform (futex on POSIX,
 * doorbells where the backend has them). A signal costs one atomic update
 * and a check while nobody sleeps; it calls the platform only when someone
 * does. The protocol is in doc/events.md and is model-checked
 * (tests/events/model/).
 *
 * Thread safety: a `struct hvc_event` handle may be used by several threads
 * of one peer at once for signal and wait (the handle's statistics are then
 * approximate), except for hvc_event_close() and hvc_event_set_spin(). No
 * function may be called from an interrupt handler except
 * hvc_event_signal() and hvc_event_trywait() on a backend whose wake
 * methods allow it.
 */
#ifndef HVCOMM_EVENT_H
#define HVCOMM_EVENT_H

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
 * @defgroup event Named events
 * @brief Signal, wait, wait with timeouts, try-wait, wait on any.
 * @{
 */

/** Kinds of event, chosen at creation. */
enum hvc_event_kind {
    HVC_EVENT_AUTO = 1,      /**< auto-reset: one signal releases one waiter */
    HVC_EVENT_COUNTING = 2,  /**< counting semaphore */
    HVC_EVENT_BROADCAST = 3, /**< wakes every current waiter; generations */
};

/** Flags of hvc_event_open(). */
enum hvc_event_open_flags {
    HVC_EVENT_O_CREATE = 1u << 0, /**< create it (with the attributes) if missing */
};

/** Default spin time before sleeping, in ns (hvc_event_set_spin()). */
#define HVC_EVENT_SPIN_DEFAULT 20000u
/** Longest single sleep between two checks for dead signalers, in ns. */
#define HVC_EVENT_SLICE_NS 50000000
/** Default largest count of a counting event. */
#define HVC_EVENT_COUNT_MAX 0x7fffffffu

/** Attributes of a new event. Zero-initialise, then set what you need. */
struct hvc_event_attr {
    uint32_t kind;      /**< #hvc_event_kind; 0 means #HVC_EVENT_AUTO */
    uint32_t max_count; /**< counting: 1..#HVC_EVENT_COUNT_MAX, 0 for the max */
    uint32_t vector;    /**< doorbell vector of this event (backends with doorbells) */
    uint32_t reserved;  /**< 0 */
    /**
     * Peers that may signal it, one bit per peer id; 0 means "any peer
     * other than the waiter". A wait returns `-HVC_EPEERGONE` when none of
     * them is a live member.
     */
    uint64_t signalers;
};

/**
 * @brief An open event. Caller-owned; fields are private to the library,
 *        except the statistics, which callers may read.
 */
struct hvc_event {
    struct hvc_region *r;          /**< the region */
    struct hvc_wire_event *w;      /**< the shared object */
    struct hvc_wire_bells *bells;  /**< bells object, found lazily */
    struct hvc_obj obj;            /**< the directory entry */
    uint64_t signalers;            /**< checked copy of the signaler mask */
    uint64_t spin_ns;              /**< spin before sleeping; 0 sleeps at once */
    uint64_t spin_cur;             /**< adaptive spin, at most spin_ns */
    uint32_t kind;                 /**< checked copy */
    uint32_t max_count;            /**< checked copy */
    uint32_t vector;               /**< checked copy */
    uint32_t self;                 /**< our peer id */
    uint32_t seen_gen;             /**< broadcast: generation last seen */
    uint32_t doorbell;             /**< 1 when the backend has doorbells */
    uint64_t wake_calls;           /**< statistics: platform wake/notify calls made */
    uint64_t sleep_calls;          /**< statistics: platform sleep calls made */
};

/** What hvc_event_stats() reports. Values are read once each, unchecked. */
struct hvc_event_stats {
    uint32_t kind;      /**< #hvc_event_kind */
    uint32_t state;     /**< flag, count or generation */
    uint32_t max_count; /**< counting limit */
    uint32_t waiters;   /**< threads registered on the futex path */
    uint64_t sleepers;  /**< peers registered on the doorbell path */
    uint64_t signalers; /**< allowed signalers (0: any other peer) */
    uint32_t signals;   /**< signals accepted */
    uint32_t wakes;     /**< wake calls issued */
    uint32_t sleeps;    /**< sleeps started */
    uint32_t overflows; /**< signals refused (counting) */
    uint32_t vector;    /**< doorbell vector */
    uint32_t valid;     /**< 1 when every field checked out, 0 when corrupt */
};

/**
 * @brief Create a named event and open it.
 * @param r the region (joined).
 * @param name 1..#HVC_NAME_MAX characters.
 * @param attr kind and options; NULL for an auto-reset event.
 * @param ev caller-owned handle, filled in on success.
 * @retval 0 created and open.
 * @retval -HVC_EINVAL bad arguments, an unknown kind, or not joined.
 * @retval -HVC_ENAMETOOLONG name too long.
 * @retval -HVC_EEXIST the name is taken.
 * @retval -HVC_ENOSPC no room in the directory or heap.
 * @retval -HVC_ETIMEDOUT the directory lock stayed held.
 * @retval -HVC_EPROTO the directory is corrupt.
 *
 * Context: thread.
 */
HVC_API int hvc_event_create(struct hvc_region *r, const char *name,
                             const struct hvc_event_attr *attr,
                             struct hvc_event *ev);

/**
 * @brief Open an event by name, or create it with #HVC_EVENT_O_CREATE.
 * @param r the region (joined).
 * @param name the name.
 * @param flags #hvc_event_open_flags.
 * @param attr attributes used when creating (may be NULL).
 * @param ev caller-owned handle, filled in on success.
 * @retval 0 open.
 * @retval -HVC_EINVAL bad arguments, or not joined.
 * @retval -HVC_ENAMETOOLONG name too long.
 * @retval -HVC_ENOENT no such event, and #HVC_EVENT_O_CREATE not given.
 * @retval -HVC_ETYPE the name is another kind of object.
 * @retval -HVC_ENOTREADY its creator has not finished initialising it.
 * @retval -HVC_EVERSION the event's layout version is unknown.
 * @retval -HVC_EPROTO the object is corrupt (magic, kind, size, masks).
 * @retval -HVC_ENOTSUP a feature flag this build does not know
 *         (a newer peer made it; counted as unsupported, not as a protocol error).
 * @retval -HVC_ENOSPC / -HVC_ETIMEDOUT creating it failed (see create).
 *
 * Context: thread.
 */
HVC_API int hvc_event_open(struct hvc_region *r, const char *name,
                           unsigned flags, const struct hvc_event_attr *attr,
                           struct hvc_event *ev);

/**
 * @brief Forget an open event (nothing is freed in shared memory).
 * @param ev the handle; zeroed.
 * @retval 0 done.
 * @retval -HVC_EINVAL not open.
 */
HVC_API int hvc_event_close(struct hvc_event *ev);

/**
 * @brief Set how long waits on this handle spin before sleeping.
 *
 * The spin adapts: each wait that had to sleep after spinning halves the
 * time the next wait spins (down to 1/64 of `spin_ns`), each wait
 * satisfied while spinning doubles it back (up to `spin_ns`), so a peer
 * that answers slowly, or shares our CPU, does not make us burn it.
 *
 * @param ev the handle.
 * @param spin_ns nanoseconds; 0 sleeps at once.
 * @retval 0 done.
 * @retval -HVC_EINVAL not open.
 */
HVC_API int hvc_event_set_spin(struct hvc_event *ev, uint64_t spin_ns);

/**
 * @brief Signal the event; wake sleepers if there are any.
 * @param ev the handle.
 * @retval 0 signalled (auto: also when it was already set).
 * @retval -HVC_EOVERFLOW counting event already at max_count (not counted).
 * @retval -HVC_EPERM this peer is not in the event's signaler mask.
 * @retval -HVC_EPROTO the shared state is corrupt (counted; the event is
 *         left in a valid state where possible).
 * @retval -HVC_EINVAL not open.
 *
 * Context: any thread; never sleeps.
 */
HVC_API int hvc_event_signal(struct hvc_event *ev);

/**
 * @brief Take the event if it is signalled; never blocks.
 *
 * Broadcast: succeeds when the generation moved since this handle last saw
 * it (open, or the last successful wait).
 *
 * @param ev the handle.
 * @retval 0 taken.
 * @retval -HVC_EAGAIN nothing pending.
 * @retval -HVC_EPROTO the shared state is corrupt.
 * @retval -HVC_EINVAL not open.
 *
 * Context: any thread; never sleeps.
 */
HVC_API int hvc_event_trywait(struct hvc_event *ev);

/**
 * @brief Wait for the event.
 *
 * Broadcast: waits for a signal made after the call started.
 *
 * @param ev the handle.
 * @param timeout_ns relative timeout; 0 polls; #HVC_FOREVER.
 * @retval 0 the event fired (a unit or the flag was taken).
 * @retval -HVC_ETIMEDOUT not in time.
 * @retval -HVC_EPEERGONE no possible signaler is a live member any more.
 * @retval -HVC_EPROTO the shared state is corrupt.
 * @retval -HVC_EINVAL not open.
 *
 * Context: thread.
 */
HVC_API int hvc_event_wait(struct hvc_event *ev, int64_t timeout_ns);

/**
 * @brief Wait for the event until an absolute time.
 * @param ev the handle.
 * @param deadline_ns a time of hvc_platform_now() on this peer's clock.
 * @retval 0 the event fired.
 * @retval -HVC_ETIMEDOUT the deadline passed (also one already past).
 * @retval -HVC_EPEERGONE no possible signaler is a live member any more.
 * @retval -HVC_EPROTO the shared state is corrupt.
 * @retval -HVC_EINVAL not open.
 *
 * Context: thread.
 */
HVC_API int hvc_event_wait_until(struct hvc_event *ev, uint64_t deadline_ns);

/**
 * @brief Broadcast events: wait until the generation differs from `*gen`.
 * @param ev a broadcast event.
 * @param gen in: the generation last seen; out: the new generation.
 * @param timeout_ns relative timeout; 0 polls; #HVC_FOREVER.
 * @retval 0 the generation moved; `*gen` updated.
 * @retval -HVC_ETYPE not a broadcast event.
 * @retval -HVC_ETIMEDOUT not in time.
 * @retval -HVC_EPEERGONE no possible signaler is a live member any more.
 * @retval -HVC_EPROTO the shared state is corrupt.
 * @retval -HVC_EINVAL not open, `gen` NULL, or a bad timeout.
 *
 * Context: thread.
 */
HVC_API int hvc_event_wait_gen(struct hvc_event *ev, uint32_t *gen,
                               int64_t timeout_ns);

/**
 * @brief The current generation of a broadcast event (the value of the
 *        state word of the others: 31 bits, wrapping). Read once, not
 *        checked.
 * @param ev the handle.
 * @return the word; 0 when `ev` is not open.
 *
 * Context: any.
 */
HVC_API uint32_t hvc_event_generation(const struct hvc_event *ev);

/**
 * @brief Wait until any of several events fires; take it.
 *
 * Events are tried in order, so an earlier event wins a tie. All must be
 * in the same region. Sleeps on this peer's doorbell (or bell word), so
 * one thread can serve many events.
 *
 * @param evs the events.
 * @param n how many, 1..64.
 * @param timeout_ns relative timeout; 0 polls; #HVC_FOREVER.
 * @return the index (>= 0) of the event taken.
 * @retval -HVC_ETIMEDOUT none in time.
 * @retval -HVC_EPEERGONE no possible signaler of any of them is live.
 * @retval -HVC_EPROTO a shared state is corrupt.
 * @retval -HVC_EINVAL bad arguments, or events of different regions.
 * @retval -HVC_ENOSPC the bells object could not be created.
 *
 * Context: thread.
 */
HVC_API int hvc_event_wait_any(struct hvc_event *const evs[], unsigned n,
                               int64_t timeout_ns);

/**
 * @brief Read an event object's state for tools; safe on corrupt objects.
 * @param r the region.
 * @param obj an object of type #HVC_OBJ_EVENT (from hvc_obj_get/open).
 * @param out filled in; `valid` says whether the object checked out.
 * @retval 0 filled in (also for a corrupt object, with valid = 0).
 * @retval -HVC_EINVAL bad arguments, or not an event.
 *
 * Context: thread.
 */
HVC_API int hvc_event_stats(struct hvc_region *r, const struct hvc_obj *obj,
                            struct hvc_event_stats *out);

/**
 * @brief The name of an #hvc_event_kind.
 * @param kind the kind.
 * @return "auto", "counting", "broadcast", or "?" for anything else.
 *
 * Context: any.
 */
HVC_API const char *hvc_event_kind_name(uint32_t kind);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_EVENT_H */
