/**
 * @file ring.h
 * @brief Lock-free single-producer single-consumer message rings in a
 *        region, with copy, zero-copy, batch, fragment and blocking APIs.
 *
 * A ring is a named directory object (#HVC_OBJ_RING) whose layout is
 * `struct hvc_wire_ring` (wire.h): an immutable line, a producer line, a
 * consumer line, a line of sleep words, then a data area of `capacity`
 * bytes (a power of two) holding variable-size records. Each index is a
 * free-running 32-bit byte count written by one side only, published with a
 * release store and read by the other side with an acquire load. The
 * consumer finds records by their tags (the tag word after the newest
 * record always says "not yet", #HVC_REC_EMPTY), so a small message costs
 * it the one cache line that holds it; it reads `prod` only before it
 * sleeps (doc/ring.md, "One cache line per small message").
 *
 * Messages are 0 to `max_msg` bytes (chosen at creation, see
 * hvc_ring_max_msg()). A message is always contiguous in the data area, so
 * it can be written and read in place (hvc_ring_reserve(), hvc_ring_peek()).
 * Larger messages go through the fragment API (hvc_ring_stream_send(),
 * hvc_ring_stream_recv()), which cuts them into records and puts them back
 * together. Every record says whether it is a whole message or a first,
 * middle or last fragment; a reader drops (and counts in
 * hvc_ring_stats::frag_drops) the fragments it cannot reassemble, e.g. the
 * rest of a message after a restart in its middle, and never delivers a
 * fragment as a message (doc/ring.md, "Fragments").
 *
 * The other side is untrusted: every index, length and tag it wrote is read
 * once, checked against the ring's bounds and this side's state, and a bad
 * one gives `-HVC_EPROTO` (counted in the ring and the region header);
 * never an access outside the ring, a write into the other side's memory,
 * or an endless loop.
 *
 * "Ring full" and "ring empty" are ordinary results: `-HVC_EAGAIN`.
 *
 * Thread safety: one `struct hvc_ring` handle is used by one thread at a
 * time; the producer and the consumer are different handles (usually in
 * different peers). No function may be called from an interrupt handler
 * except the non-blocking ones, which touch only the ring's memory.
 */
#ifndef HVCOMM_RING_H
#define HVCOMM_RING_H

#include <stddef.h>
#include <stdint.h>

#include <hvcomm/atomic.h>
#include <hvcomm/error.h>
#include <hvcomm/event.h>
#include <hvcomm/export.h>
#include <hvcomm/region.h>
#include <hvcomm/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup ring Message rings
 * @brief SPSC rings of variable-size messages.
 * @{
 */

/** Roles of a ring handle. */
enum hvc_ring_role {
    HVC_RING_PRODUCER = 1, /**< sends; only the recorded writer peer */
    HVC_RING_CONSUMER = 2, /**< receives */
};

/** Flags of hvc_ring_attr::flags. */
enum hvc_ring_flags {
    /** Enable hvc_ring_send_wait()/hvc_ring_recv_wait(): publishers then
     *  check whether the other side sleeps (one fence per publication,
     *  none where both sides share a fence domain: a sleeper then issues
     *  a peer fence instead), and the ring owns two named auto-reset
     *  events to sleep on (see hvc_ring_create() and doc/ring.md). */
    HVC_RING_BLOCKING = 1u << 0,
};

/** Flags of hvc_ring_commit() and hvc_ring_release(). */
enum hvc_ring_op_flags {
    /** Do not publish yet: more records follow; hvc_ring_flush() (or the
     *  next publishing call) publishes. A producer holds back the tag of
     *  the first such record, so none of them is visible before. */
    HVC_RING_MORE = 1u << 0,
};

/** The largest ring data area (bytes). */
#define HVC_RING_CAPACITY_MAX (1u << 30)

/** Bytes a record of `len` payload bytes takes in the data area. */
#define HVC_RING_RECORD_SIZE(len) (8u + (((uint32_t)(len) + 7u) & ~7u))

/** Parameters of hvc_ring_create(). */
struct hvc_ring_attr {
    /** Data area bytes; rounded up to a power of two; 0 picks the smallest
     *  that holds two records of `max_msg` bytes. */
    uint32_t capacity;
    /** Largest message payload (0 allowed: empty messages only). */
    uint32_t max_msg;
    /** Producer peer id, or -1 for the calling peer. */
    int32_t writer;
    /** #hvc_ring_flags */
    uint32_t flags;
};

/**
 * @brief A ring handle: caller-owned, fields private to the library.
 *
 * Holds this side's checked copies of the ring's geometry, its own index
 * (private, published when due) and a cached copy of the other side's.
 */
struct hvc_ring {
    struct hvc_region *region;  /**< the region */
    struct hvc_wire_ring *w;    /**< shared header */
    uint8_t *data;              /**< data area */
    uint32_t capacity;          /**< checked capacity */
    uint32_t mask;              /**< capacity - 1 */
    uint32_t max_msg;           /**< checked max payload */
    uint32_t wflags;            /**< checked HVC_RING_WF_ flags */
    uint32_t role;              /**< #hvc_ring_role */
    uint32_t head;              /**< own index, private (records done) */
    uint32_t published;         /**< own index as last published */
    uint32_t peer;              /**< cached, checked index of the other side */
    uint32_t pending;           /**< reserved or peeked record size, 0 if none */
    uint32_t pending_len;       /**< checked length of the peeked record */
    uint32_t stalled;           /**< 1 after a full/empty result, until progress; HVC__RING_QUIET (consumer) once that result is published */
    uint32_t errors;            /**< protocol errors seen by this handle */
    uint32_t frag_drops;        /**< consumer: fragment records dropped, not reassemblable */
    uint64_t msgs;              /**< messages done by this side */
    uint64_t bytes;             /**< payload bytes done by this side */
    uint32_t stalls;            /**< full or empty stalls of this side */
    uint32_t wakeups;           /**< wake-ups this side issued */
    uint32_t sleep_seq;         /**< own sleep word when awake (even) */
    uint32_t woken;             /**< the other side's sleep word when we last woke it */
    uint32_t held;              /**< producer: 1 while a record's tag is held back (batch, #HVC_RING_MORE) */
    uint32_t held_pos;          /**< producer: position of the held record */
    uint32_t held_tag;          /**< producer: its tag, stored at the next publication */
    /** #HVC_RING_BLOCKING rings: this peer's fence domain (0: none): when
     *  the other side announces the same one, publications need no fence,
     *  and before this side sleeps it issues a peer fence (doc/ring.md). */
    uint32_t fence;
    /** #HVC_RING_BLOCKING rings: the auto-reset event the consumer sleeps
     *  on and the producer signals ("data"), named `.ring.<offset>.c`. */
    struct hvc_event data_ev;
    /** #HVC_RING_BLOCKING rings: the auto-reset event the producer sleeps
     *  on and the consumer signals ("space"), named `.ring.<offset>.p`. */
    struct hvc_event space_ev;
};

/** Longest name of a ring's event (`.ring.<offset in hex>.c`): fits
 *  #HVC_NAME_MAX. */
#define HVC_RING_EVENT_NAME_MAX 24u

/** One message for the batch calls. */
struct hvc_ring_msg {
    void *data;   /**< payload (send: read; recv: written) */
    uint32_t len; /**< send: payload bytes; recv: bytes received */
    uint32_t cap; /**< recv: room at `data`; unused by send */
};

/** Counters of a ring, from hvc_ring_stats(). */
struct hvc_ring_stats {
    uint32_t capacity;      /**< data area bytes */
    uint32_t max_msg;       /**< largest payload */
    uint32_t writer;        /**< producer peer */
    uint32_t flags;         /**< HVC_RING_WF_ flags */
    uint32_t used;          /**< bytes waiting (prod - cons), if sane; 0 while cons is ahead of a lagging prod */
    uint32_t prod;          /**< producer index */
    uint32_t cons;          /**< consumer index */
    uint64_t msgs_sent;     /**< messages sent */
    uint64_t bytes_sent;    /**< payload bytes sent */
    uint64_t msgs_recv;     /**< messages received */
    uint64_t bytes_recv;    /**< payload bytes received */
    uint32_t full_stalls;   /**< producer found the ring full */
    uint32_t empty_stalls;  /**< consumer found the ring empty */
    uint32_t proto_errors;  /**< protocol errors found by either side */
    uint32_t wakeups;       /**< wake-up calls made by either side */
    /** Fragment records the consumer dropped because their message could
     *  not be reassembled: a middle or last fragment without its first (a
     *  consumer that (re)started in the middle of a message), or the
     *  fragments already received of a message cut short (see
     *  doc/ring.md). Not protocol errors: an honest producer or consumer
     *  that restarts causes them. */
    uint32_t frag_drops;
};

/**
 * @brief Fragmenting state for hvc_ring_stream_send() / _recv().
 *        Caller-owned; zero it (or call hvc_ring_stream_reset()) before use.
 */
struct hvc_ring_stream {
    uint64_t done;  /**< bytes of the current message sent or received */
    uint32_t state; /**< private */
    uint32_t frags; /**< private: fragments received of the current message */
    uint32_t mark;  /**< private: the handle's record count after the last fragment */
    uint32_t reserved; /**< private */
};

/**
 * @brief Create a ring in a region and open it as producer or consumer.
 *
 * @param ring caller-owned handle, set up for the role given by whether
 *        the calling peer is the writer (producer) or not (consumer).
 * @param r the region (joined).
 * @param name the object name.
 * @param attr capacity, maximum message, writer and flags.
 * @retval 0 created; `ring` is the producer when this peer is the writer,
 *         else the consumer.
 * @retval -HVC_EINVAL bad arguments, not joined, or a geometry that does
 *         not hold two maximum records within #HVC_RING_CAPACITY_MAX.
 * @retval -HVC_ENAMETOOLONG / -HVC_EEXIST / -HVC_ENOSPC / -HVC_ETIMEDOUT /
 *         -HVC_EPROTO as hvc_obj_create().
 * @retval -HVC_ENOTSUP built attach-only (HVC_CONFIG_ATTACH_ONLY), or
 *         #HVC_RING_BLOCKING asked of a library built with
 *         HVC_CONFIG_NO_BLOCKING.
 * @retval -HVC_EEXIST (#HVC_RING_BLOCKING) the name of one of the ring's
 *         two events (`.ring.<offset>.c` / `.p`, see doc/ring.md) is taken
 *         by an object that is not an auto-reset event; the ring object is
 *         deleted again.
 * @retval -HVC_ENOSPC (#HVC_RING_BLOCKING) no room in the directory or
 *         heap for the two events (a blocking ring takes three directory
 *         entries); the ring object is deleted again.
 *
 * A #HVC_RING_BLOCKING ring owns two auto-reset named events, created here
 * before the ring is published (so whoever can open the ring can open
 * them). An event of that name left by a deleted ring at the same offset
 * is reused. Deleting the ring (hvc_obj_delete()) does not delete them.
 *
 * Context: thread.
 */
HVC_API int hvc_ring_create(struct hvc_ring *ring, struct hvc_region *r,
                            const char *name, const struct hvc_ring_attr *attr);

/**
 * @brief Open an existing ring.
 *
 * @param ring caller-owned handle.
 * @param r the region (joined for the producer role).
 * @param name the object name.
 * @param role #HVC_RING_PRODUCER or #HVC_RING_CONSUMER.
 * @retval 0 opened; the handle starts at the current shared index of its
 *         side. A producer first steps over the records released after
 *         `prod` (a former producer that stopped before it stored `prod`,
 *         whose records the consumer may already have taken by their
 *         tags) and publishes `prod` there (doc/ring.md).
 * @retval -HVC_EINVAL bad arguments or role; or (#HVC_RING_BLOCKING) the
 *         region is not joined: the ring's events need a peer id.
 * @retval -HVC_ENOENT no such object; or (#HVC_RING_BLOCKING) one of the
 *         ring's events is missing (the ring was not made by
 *         hvc_ring_create()).
 * @retval -HVC_ETYPE the object is not a ring; or (#HVC_RING_BLOCKING) an
 *         event name is another kind of object.
 * @retval -HVC_ENOTREADY the ring is still being created.
 * @retval -HVC_EVERSION unknown ring layout version.
 * @retval -HVC_EPERM producer role asked by a peer that is not the writer.
 * @retval -HVC_EPROTO the ring header is inconsistent (counted), the
 *         indices are more than a capacity apart, a producer finds `cons`
 *         past the last released record, or (#HVC_RING_BLOCKING) one of
 *         its events is corrupt.
 * @retval -HVC_ENOTSUP a feature flag this build does not know (a newer peer
 *         made it; counted as unsupported, not as a protocol error); or
 *         a #HVC_RING_BLOCKING ring, and the library was built
 *         without blocking rings (HVC_CONFIG_NO_BLOCKING, CMake
 *         HVC_NO_BLOCKING: rings do not link the event module).
 *
 * Context: thread.
 */
HVC_API int hvc_ring_open(struct hvc_ring *ring, struct hvc_region *r,
                          const char *name, int role);

/**
 * @brief Bind a handle to an object already found with hvc_obj_open() or
 *        hvc_obj_get() (same checks and results as hvc_ring_open()).
 */
HVC_API int hvc_ring_attach(struct hvc_ring *ring, struct hvc_region *r,
                            const struct hvc_obj *obj, int role);

/** @brief The ring's largest message payload (0 for a bad handle). */
HVC_API uint32_t hvc_ring_max_msg(const struct hvc_ring *ring);

/** @brief The ring's data area in bytes (0 for a bad handle). */
HVC_API uint32_t hvc_ring_capacity(const struct hvc_ring *ring);

/* ---- copy API ---- */

/**
 * @brief Send one message (copy), and publish it.
 * @param ring a producer handle.
 * @param buf the payload (may be NULL when len is 0).
 * @param len payload bytes, at most hvc_ring_max_msg().
 * @retval 0 sent.
 * @retval -HVC_EAGAIN the ring is full (an ordinary result).
 * @retval -HVC_EMSGSIZE len > max_msg (use the fragment API).
 * @retval -HVC_EINVAL not a producer handle (or NULL), or a reservation is
 *         pending.
 * @retval -HVC_EPROTO the consumer index is out of bounds (counted).
 *
 * Context: the producer's thread; any context (no system calls unless the
 * ring is #HVC_RING_BLOCKING and the consumer sleeps). An inline fast path
 * (a record that fits the cached free space without wrapping) falls back
 * on hvc__ring_send_slow() for everything else.
 */
static inline int hvc_ring_send(struct hvc_ring *ring, const void *buf, uint32_t len);

/**
 * @brief Receive one message (copy), and publish the freed space.
 * @param ring a consumer handle.
 * @param buf where to copy the payload.
 * @param cap bytes at `buf`.
 * @return the payload length (>= 0).
 * @retval -HVC_EAGAIN the ring is empty (an ordinary result), also after
 *         dropping middle or last fragments found at the head (a message
 *         whose first fragment this handle never saw: counted in
 *         hvc_ring_stats::frag_drops; at most a ring's worth per call).
 * @retval -HVC_EMSGSIZE the next message is longer than `cap`, or is the
 *         first fragment of a fragmented message (use
 *         hvc_ring_stream_recv()); it stays in the ring.
 * @retval -HVC_EINVAL not a consumer handle (or NULL), or a peek is pending.
 * @retval -HVC_EPROTO the producer index or the record is invalid (counted).
 *
 * The freed space is published when the next record is not there yet
 * (the ring is empty now), after a quarter of the ring, when a blocked
 * producer waits, or at hvc_ring_flush(): a full ring may look full to the
 * producer a little longer than it is, and a stream costs one store of the
 * index per batch.
 *
 * Context: the consumer's thread; any context as hvc_ring_send(). An
 * inline fast path (a plain whole message; or, on a ring that does not
 * block, "nothing yet" once this empty stall was counted and published)
 * falls back on hvc__ring_recv_slow() for everything else, which reads the
 * record afresh and does all the checks and accounting.
 */
static inline int hvc_ring_recv(struct hvc_ring *ring, void *buf, uint32_t cap);

/* ---- batch API ---- */

/**
 * @brief Send up to `n` messages with one index publication.
 * @return the number sent (0..n); stops at the first that does not fit.
 * @retval -HVC_EAGAIN the ring is full before the first message.
 * @retval -HVC_EMSGSIZE the first message is too long (later ones: the
 *         count so far is returned).
 * @retval -HVC_EINVAL / -HVC_EPROTO as hvc_ring_send().
 */
HVC_API int hvc_ring_send_batch(struct hvc_ring *ring,
                                const struct hvc_ring_msg *msgs, unsigned n);

/**
 * @brief Receive up to `n` messages with one index publication.
 *
 * Fills `msgs[i].len` of each message received.
 * @return the number received (0..n); stops at the first that does not fit
 *         its buffer, or at a first fragment (middle and last fragments
 *         are dropped as by hvc_ring_recv()).
 * @retval -HVC_EAGAIN the ring is empty.
 * @retval -HVC_EMSGSIZE / -HVC_EINVAL / -HVC_EPROTO as hvc_ring_recv(), for
 *         the first message.
 */
HVC_API int hvc_ring_recv_batch(struct hvc_ring *ring, struct hvc_ring_msg *msgs,
                                unsigned n);

/* ---- zero-copy API ---- */

/**
 * @brief Reserve room for one message of up to `len` bytes in the ring.
 * @param ring a producer handle.
 * @param len the most bytes that will be committed.
 * @param ptr receives where to write the payload (8-byte aligned).
 * @retval 0 reserved; write, then hvc_ring_commit().
 * @retval -HVC_EAGAIN the ring is full.
 * @retval -HVC_EMSGSIZE len > max_msg.
 * @retval -HVC_EINVAL not a producer, or a reservation is pending.
 * @retval -HVC_EPROTO the consumer index is invalid (counted).
 */
HVC_API int hvc_ring_reserve(struct hvc_ring *ring, uint32_t len, void **ptr);

/**
 * @brief Finish the reserved message with `len` bytes (<= reserved).
 * @param ring the producer handle holding the reservation.
 * @param len payload bytes written, at most the reserved length.
 * @param flags #HVC_RING_MORE to defer publication to hvc_ring_flush() (or
 *        the next publishing call).
 * @retval 0 committed.
 * @retval -HVC_EINVAL nothing reserved, or len larger than reserved.
 */
HVC_API int hvc_ring_commit(struct hvc_ring *ring, uint32_t len, unsigned flags);

/**
 * @brief Look at the next message in place.
 * @param ring a consumer handle.
 * @param ptr receives the payload address (valid until hvc_ring_release()).
 * @return the payload length (>= 0).
 * @retval -HVC_EAGAIN empty (also after dropping stray middle or last
 *         fragments, as hvc_ring_recv()).
 * @retval -HVC_EMSGSIZE the next record is a first fragment (stream API).
 * @retval -HVC_EINVAL not a consumer.
 * @retval -HVC_EPROTO invalid index or record (counted).
 *
 * Peeking again before release returns the same message.
 *
 * The payload stays in memory the producer can write, and it can change
 * under the reader at any time after this call checked the record's
 * header (the length returned is this side's checked copy and does not
 * change). A reader that parses the payload (reads a length or offset in
 * it, then uses it) must parse a private copy, or accept that the bytes
 * may change between two reads; only a trusted producer may be parsed in
 * place. Copying the payload out once, as hvc_ring_recv() does, is safe.
 */
HVC_API int hvc_ring_peek(struct hvc_ring *ring, const void **ptr);

/**
 * @brief Release the message returned by hvc_ring_peek().
 * @param ring the consumer handle holding the peeked message.
 * @param flags #HVC_RING_MORE to defer publishing the freed space.
 * @retval 0 released.
 * @retval -HVC_EINVAL nothing peeked.
 */
HVC_API int hvc_ring_release(struct hvc_ring *ring, unsigned flags);

/**
 * @brief Publish what was committed or released with #HVC_RING_MORE.
 * @retval 0 done (also when nothing was pending).
 * @retval -HVC_EINVAL bad handle.
 */
HVC_API int hvc_ring_flush(struct hvc_ring *ring);

/* ---- blocking API ---- */

/**
 * @brief Send, sleeping while the ring is full, at most `timeout_ns`.
 *
 * Spins briefly, then sets the producer's sleep word, re-checks the
 * consumer index, and sleeps on the ring's "space" event (hvc_event_wait():
 * futex on POSIX, doorbells where the backend has them). The consumer
 * signals that event only when the sleep word is set, so a busy stream
 * makes no system calls. The event sleeps in slices of at most
 * #HVC_EVENT_SLICE_NS; when it reports that no signaler is alive
 * (`-HVC_EPEERGONE`) the ring call re-checks the ring and keeps waiting
 * until its own timeout (peer liveness stays the caller's business, see
 * hvc_peer_info()), so the results are those of the non-blocking call plus
 * -HVC_ETIMEDOUT.
 *
 * @param ring a producer handle of a #HVC_RING_BLOCKING ring.
 * @param buf the payload.
 * @param len payload bytes.
 * @param timeout_ns relative timeout, 0 polls once, #HVC_FOREVER.
 * @retval 0 sent.
 * @retval -HVC_ETIMEDOUT still full at the deadline.
 * @retval -HVC_ENOTSUP the ring was created without #HVC_RING_BLOCKING.
 * @retval -HVC_EMSGSIZE / -HVC_EINVAL / -HVC_EPROTO as hvc_ring_send().
 * @retval -HVC_EPROTO also: the ring's event is corrupt.
 *
 * Context: the producer's thread; may sleep.
 */
HVC_API int hvc_ring_send_wait(struct hvc_ring *ring, const void *buf,
                               uint32_t len, int64_t timeout_ns);

/**
 * @brief Receive, sleeping while the ring is empty, at most `timeout_ns`.
 *
 * Symmetric to hvc_ring_send_wait(): sleeps on the ring's "data" event,
 * which the producer signals only while the consumer's sleep word is set.
 * Stray fragments dropped on the way do not end the wait; one deadline
 * covers the whole call.
 *
 * @return the payload length.
 * @retval -HVC_ETIMEDOUT still empty at the deadline.
 * @retval -HVC_ENOTSUP the ring was created without #HVC_RING_BLOCKING.
 * @retval -HVC_EMSGSIZE / -HVC_EINVAL / -HVC_EPROTO as hvc_ring_recv().
 * @retval -HVC_EPROTO also: the ring's event is corrupt.
 *
 * Context: the consumer's thread; may sleep.
 */
HVC_API int hvc_ring_recv_wait(struct hvc_ring *ring, void *buf, uint32_t cap,
                               int64_t timeout_ns);

/**
 * @brief Wait until a record is there to read.
 *
 * A record may be a stray fragment that hvc_ring_recv() then drops (and
 * returns -HVC_EAGAIN): loop, as hvc_ring_recv_wait() does. The deadline
 * is checked on every pass, however the producer moves its index.
 * @retval 0 something to read.
 * @retval -HVC_ETIMEDOUT / -HVC_ENOTSUP / -HVC_EINVAL / -HVC_EPROTO as above.
 */
HVC_API int hvc_ring_wait_readable(struct hvc_ring *ring, int64_t timeout_ns);

/**
 * @brief Wait until `len` payload bytes fit in the ring.
 * @retval 0 room for `len`.
 * @retval -HVC_ETIMEDOUT / -HVC_ENOTSUP / -HVC_EINVAL / -HVC_EMSGSIZE /
 *         -HVC_EPROTO as above.
 */
HVC_API int hvc_ring_wait_writable(struct hvc_ring *ring, uint32_t len,
                                   int64_t timeout_ns);

/**
 * @brief Wait until any of several consumer rings has a record to read.
 *
 * The sleep of hvc_ring_wait_readable() done for every ring at once: a
 * short spin over all rings, then each ring's consumer sleep word is
 * raised, one fence (and one peer fence where a fence domain is shared)
 * covers them all, every ring is checked once more, and only if all are
 * still empty the thread sleeps on all their "data" events together
 * (hvc_event_wait_any(): this peer's doorbell or bell word). Each ring's
 * producer signals as it does for hvc_ring_wait_readable(): nothing
 * changes on the producer side. Rings are looked at in order, so an
 * earlier ring wins a tie; to serve them fairly, rotate the array. The
 * deadline is checked on every pass, however the producers move their
 * indices; event sleep slices with no live signaler are re-checked, as in
 * hvc_ring_wait_readable() (liveness is the caller's business).
 *
 * @param rings consumer handles of #HVC_RING_BLOCKING rings of one region,
 *        each at most once.
 * @param n how many, 1..64.
 * @param timeout_ns relative timeout, 0 polls once, #HVC_FOREVER.
 * @return the index (>= 0) of a ring whose next hvc_ring_recv() does not
 *         find it empty: a record is there (it may be a stray fragment
 *         that the receive drops, as for hvc_ring_wait_readable()), or
 *         the ring's index or record is corrupt (the check counted a
 *         protocol error; the receive returns -HVC_EPROTO).
 * @retval -HVC_ETIMEDOUT every ring still empty at the deadline.
 * @retval -HVC_ENOTSUP a ring was created without #HVC_RING_BLOCKING (or
 *         the library was built with HVC_CONFIG_NO_BLOCKING).
 * @retval -HVC_EINVAL bad arguments: `rings` NULL, `n` out of range, a
 *         handle NULL, closed, not a consumer or with a peeked record,
 *         rings of different regions, one ring twice, a bad timeout.
 * @retval -HVC_EPROTO a ring's data event is corrupt.
 * @retval -HVC_ENOSPC this peer's bells object (for sleeping on several
 *         events, see hvc_event_wait_any()) could not be created.
 *
 * Context: the consumers' thread; may sleep.
 */
HVC_API int hvc_ring_wait_any(struct hvc_ring *const rings[], unsigned n,
                              int64_t timeout_ns);

/* ---- fragments: messages of any size ---- */

/** @brief Reset a stream state (start a new message). */
HVC_API void hvc_ring_stream_reset(struct hvc_ring_stream *st);

/**
 * @brief Send a message of any size in fragments, without blocking.
 *
 * Call again with the same `st`, `buf` and `len` after -HVC_EAGAIN until it
 * returns 0; the fragments already sent are remembered in `st`.
 *
 * @retval 0 the whole message is in the ring.
 * @retval -HVC_EAGAIN the ring filled up; part may have been sent.
 * @retval -HVC_EINVAL bad arguments, or `len` is smaller than what was
 *         already sent of the message in progress.
 * @retval -HVC_EMSGSIZE the ring's max_msg is 0 and `len` is not.
 * @retval -HVC_EPROTO as hvc_ring_send().
 */
HVC_API int hvc_ring_stream_send(struct hvc_ring *ring, struct hvc_ring_stream *st,
                                 const void *buf, uint64_t len);

/**
 * @brief Receive a message of any size, reassembling fragments, without
 *        blocking.
 *
 * Call again with the same `st` and `buf` after -HVC_EAGAIN. A message sent
 * with hvc_ring_send() (one record) is received too.
 *
 * @param ring a consumer handle.
 * @param st the stream state.
 * @param buf where to reassemble the message.
 * @param cap bytes at `buf`.
 * @param len receives the message length when 0 is returned.
 * @retval 0 a whole message is in `buf`.
 * @retval -HVC_EAGAIN not complete yet.
 * @retval -HVC_EMSGSIZE the message was longer than `cap`: it has been
 *         read and dropped whole (`*len` tells how much had fitted).
 * @retval -HVC_EPROTO as hvc_ring_recv().
 * @retval -HVC_EINVAL bad arguments.
 *
 * What cannot be reassembled is dropped and counted in
 * hvc_ring_stats::frag_drops, and the call goes on with the next record:
 * middle and last fragments without their first (this side started in the
 * middle of a message), a message cut short by a whole message or a new
 * first fragment (the producer restarted), and a message from which a
 * plain receive on the same handle took records. Reset `st` when the ring
 * is reopened.
 */
HVC_API int hvc_ring_stream_recv(struct hvc_ring *ring, struct hvc_ring_stream *st,
                                 void *buf, uint64_t cap, uint64_t *len);

/**
 * @brief Blocking forms of the stream calls (the ring must be
 *        #HVC_RING_BLOCKING); same results, plus -HVC_ETIMEDOUT.
 *        The timeout applies to each wait, not the whole message.
 */
HVC_API int hvc_ring_stream_send_wait(struct hvc_ring *ring, struct hvc_ring_stream *st,
                                      const void *buf, uint64_t len,
                                      int64_t timeout_ns);
/** @copydoc hvc_ring_stream_send_wait */
HVC_API int hvc_ring_stream_recv_wait(struct hvc_ring *ring, struct hvc_ring_stream *st,
                                      void *buf, uint64_t cap, uint64_t *len,
                                      int64_t timeout_ns);

/* ---- counters ---- */

/**
 * @brief Read a ring's counters (any peer, no handle needed).
 *
 * Safe on a corrupt object: the header is checked, nothing outside the
 * object is read.
 *
 * @retval 0 filled in.
 * @retval -HVC_EINVAL bad arguments.
 * @retval -HVC_ETYPE not a ring.
 * @retval -HVC_ENOTREADY still being created.
 * @retval -HVC_EVERSION unknown layout version.
 * @retval -HVC_EPROTO inconsistent header.
 * @retval -HVC_ENOTSUP a feature flag this build does not know.
 *
 * Context: thread or interrupt; reads only.
 */
HVC_API int hvc_ring_stats(struct hvc_region *r, const struct hvc_obj *obj,
                           struct hvc_ring_stats *out);

/* ---- inline fast paths ---- */

/** @cond internal */
/** Out-of-line paths of hvc_ring_send() and hvc_ring_recv(): every case. */
HVC_API int hvc__ring_send_slow(struct hvc_ring *ring, const void *buf, uint32_t len);
/** @copydoc hvc__ring_send_slow */
HVC_API int hvc__ring_recv_slow(struct hvc_ring *ring, void *buf, uint32_t cap);
/** Publish the consumer index (and wake a sleeping producer). */
HVC_API void hvc__ring_cons_publish(struct hvc_ring *ring);
/** Publish the producer index (and wake a sleeping consumer). */
HVC_API void hvc__ring_prod_publish(struct hvc_ring *ring);
/** Wake the other side, whose sleep word read `v` (odd), through its event
 *  (the rare case of an inline publication on a blocking ring). */
HVC_API void hvc__ring_wake(struct hvc_ring *ring, uint32_t v);

/* Copy a payload: short ones in 8-byte steps, the last step overlapping
 * the one before (no tail loop), without a call to memcpy. A byte of the
 * source may be read twice; the copy is still a copy (nothing is parsed
 * on the way), so a source the peer can write is fine. */
static inline void hvc__copy(void *dst, const void *src, uint32_t n)
{
#ifdef __OPTIMIZE_SIZE__
    /* Built for size (-Os, small targets): one call. */
    __builtin_memcpy(dst, src, n);
#else
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;

    if (n >= 8) {
        if (n > 64) {
            __builtin_memcpy(d, s, n);
            return;
        }
        uint32_t last = (n - 8u) & 63u; /* n - 8, written so for -Warray-bounds */

        for (uint32_t i = 0; i < last; i += 8u)
            __builtin_memcpy(d + i, s + i, 8);
        __builtin_memcpy(d + last, s + last, 8);
        return;
    }
    if (n >= 4) {
        __builtin_memcpy(d, s, 4);
        __builtin_memcpy(d + (n & 3u), s + (n & 3u), 4); /* n - 4 */
        return;
    }
    if (n > 0) {
        d[0] = s[0];
        d[n >> 1] = s[n >> 1];
        d[n - 1u] = s[n - 1u];
    }
#endif
}

/* The inline paths go into the caller's code even where the compiler would
 * rather call one out-of-line copy of them (which loses a constant length
 * and costs a call on every message); not when building for size. */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define HVC__RING_INLINE __attribute__((always_inline)) inline
#else
#define HVC__RING_INLINE inline
#endif

/** Handle-only bit of hvc_ring::wflags (never in shared memory): the
 *  region is not coherent, the out-of-line paths do the cache maintenance
 *  (ring.c), the inline ones step aside. */
#define HVC__RING_WF_CACHE 0x80000000u

/** hvc_ring::stalled of a consumer of a ring that does not block, after an
 *  empty result that was counted and whose index was published
 *  (hvc__ring_recv_slow()): while the tag word at its head still says
 *  "not yet", the inline receive returns -HVC_EAGAIN at once, which is
 *  what the out-of-line path would do (count nothing, publish nothing). */
#define HVC__RING_QUIET 2u

/*
 * Light publication of a blocking ring's index, inline: both sides in one
 * fence domain (the other side's fence word, read once, is our own
 * domain): a release store, a compiler barrier that keeps the load of the
 * sleep word after it in program order, and a wake-up only when that word
 * is odd; exactly publish_blocking() of ring.c (the model,
 * tests/events/model/ring.pml, checks this order). Returns 0 when it is
 * not light: the out-of-line publication then reads the fence word
 * afresh, decides on its own copy and fences.
 */
static inline int hvc__ring_publish_light(struct hvc_ring *q, uint32_t *index,
                                          const uint32_t *peer_fence,
                                          const uint32_t *sleep_word)
{
#ifdef HVC_CONFIG_NO_BLOCKING
    /* A small target's build without blocking rings: never light inline
     * (the out-of-line path decides, should a blocking ring ever reach
     * this code), and no wake-up call linked in. */
    (void)q, (void)index, (void)peer_fence, (void)sleep_word;
    return 0;
#else
    uint32_t v;

    if ((q->fence & 1u) == 0 || hvc_load_relaxed(peer_fence) != q->fence)
        return 0;
    /* Pairs with the other side's acquire load of the index. */
    hvc_store_release(index, q->head);
    q->published = q->head;
    hvc_compiler_barrier();
    v = hvc_load_relaxed(sleep_word);
    if ((v & 1u) != 0)
        hvc__ring_wake(q, v);
    return 1;
#endif
}

/* The producer's released end: the consumer may have read up to here (a
 * held record and what follows it are not visible yet). */
static inline uint32_t hvc__ring_released(const struct hvc_ring *q)
{
    return q->held ? q->held_pos : q->head;
}

/*
 * Inline refresh of the producer's cached consumer index, with the checks
 * of the out-of-line path (read once into a local, checked, only then
 * cached). Returns 0 when the index brought nothing new or is bad: the
 * out-of-line path then reads it afresh, decides on its own copy and
 * counts the stall or the error. It keeps the common "cache used up" case
 * inline, so a send costs the same number of instructions whether or not
 * the cache had to be refreshed (bench/ring/callgrind.sh).
 */
static inline int hvc__ring_cons_refresh(struct hvc_ring *q)
{
    if (q->wflags & HVC__RING_WF_CACHE)
        return 0;
    {
    /* Pairs with the consumer's release store of cons: its reads of the
     * records before it are done. The consumer only moves forward, up to
     * what we released (it finds records by their tags, so it may be
     * ahead of the prod we published). */
    uint32_t c = hvc_load_acquire(&q->w->cons);

    if ((c & 7u) != 0 || c - q->peer > hvc__ring_released(q) - q->peer)
        return 0;
    q->peer = c;
    return 1;
    }
}

/* Results of hvc__ring_rec_check() that reject a record. */
#define HVC__REC_BAD_TAG (-1) /* tag does not match position/length, or no kind */
#define HVC__REC_BAD_PAD (-2) /* padding at offset 0, not to the end, or unpublished */
#define HVC__REC_BAD_LEN (-3) /* over max_msg, past the end, or past what is published */

/*
 * The one record-acceptance rule of the consumer, used by the inline fast
 * path, the batch loop and hvc__ring_next() (every other reader): `tag`
 * and `len` are the private copies (each read once) of the header at the
 * consumer's head. Exactly one kind per record (whole, first, middle,
 * last, padding); the tag must match the position and length; padding
 * only alone, not at offset 0 (a record of at most capacity / 2 always
 * fits there), exactly to the end; any other record at most max_msg and
 * before the end. Returns the record's flags (0 for a whole message) or an
 * HVC__REC_BAD_ code. #HVC_REC_EMPTY (nothing released yet) is a bad tag
 * here: the callers test for it first.
 *
 * There is no "within what the producer published" rule: the tag is the
 * publication. It is the producer's release store of this very word, made
 * after the record and the #HVC_REC_EMPTY word of the next position, so an
 * honest producer's ring holds, at the consumer's head, either that
 * record's tag or #HVC_REC_EMPTY, never an older lap's bytes. A hostile
 * producer can make us accept a record of its choosing, but only one that
 * lies inside the data area and is at most max_msg long.
 */
static inline int hvc__ring_rec_check(const struct hvc_ring *q, uint32_t tag, uint32_t len)
{
    uint32_t flags = tag & 0xffu, to_end = q->capacity - (q->head & q->mask);

    /* The tag's low 8 bits are the flags: one hash for every kind. */
    if ((tag & ~0xffu) != HVC_REC_TAG(q->head, len, 0))
        return HVC__REC_BAD_TAG;
    if (flags == 0 || flags == HVC_REC_FRAG_FIRST || flags == HVC_REC_FRAG_MIDDLE ||
        flags == HVC_REC_FRAG_LAST)
        return len > q->max_msg || HVC_RING_RECORD_SIZE(len) > to_end ? HVC__REC_BAD_LEN
                                                                        : (int)flags;
    if (flags != HVC_REC_PAD)
        return HVC__REC_BAD_TAG;
    return to_end == q->capacity || len != to_end - 8u ? HVC__REC_BAD_PAD : (int)flags;
}
/** @endcond */

static HVC__RING_INLINE int hvc_ring_send(struct hvc_ring *q, const void *buf, uint32_t len)
{
    uint32_t size = HVC_RING_RECORD_SIZE(len), head, off;

    /* q is tested before anything is read through it (NULL gives the slow
     * path's -HVC_EINVAL). The record and the #HVC_REC_EMPTY word of the
     * next position (8 bytes) must fit the free space. On a region that is
     * not coherent the slow path writes it (each record is cleaned before
     * its tag is stored). The handle's fields are kept in locals: the
     * stores into the ring could alias them as far as the compiler knows. */
    if (q == NULL)
        return hvc__ring_send_slow(q, buf, len);
    head = q->head;
    off = head & q->mask;
    if (q->role == HVC_RING_PRODUCER && (q->pending | q->held) == 0 &&
        !(q->wflags & HVC__RING_WF_CACHE) && len <= q->max_msg &&
        (buf != NULL || len == 0) && size <= q->capacity - off &&
        (size < q->capacity - (head - q->peer) ||
         (hvc__ring_cons_refresh(q) && size < q->capacity - (head - q->peer)))) {
        uint8_t *data = q->data;
        struct hvc_wire_ring_rec *h = (struct hvc_wire_ring_rec *)(void *)(data + off);
        struct hvc_wire_ring_rec *next =
            (struct hvc_wire_ring_rec *)(void *)(data + ((head + size) & q->mask));
        struct hvc_wire_ring *w = q->w;
        uint32_t wflags = q->wflags;

        hvc__copy(h + 1, buf, len);
        hvc_store_relaxed(&h->len, len);
        /* The next position says "not yet" before this record is visible. */
        hvc_store_relaxed(&next->tag, HVC_REC_EMPTY);
        /* Pairs with the acquire load of the tag by the consumer. */
        hvc_store_release(&h->tag, HVC_REC_TAG(head, len, 0));
        head += size;
        q->head = head;
        q->msgs++;
        q->bytes += len;
        q->stalled = 0;
        /* prod and the counters are for hvc_ring_stats(), a restarting
         * producer and the sleep protocol; the consumer of a ring that
         * does not block never reads this line, so it stays here. */
        hvc_store_relaxed(&w->msgs_lo, (uint32_t)q->msgs);
        hvc_store_relaxed(&w->msgs_hi, (uint32_t)(q->msgs >> 32));
        hvc_store_relaxed(&w->bytes_lo, (uint32_t)q->bytes);
        hvc_store_relaxed(&w->bytes_hi, (uint32_t)(q->bytes >> 32));
        if (!(wflags & HVC_RING_WF_BLOCKING)) {
            hvc_store_release(&w->prod, head);
            q->published = head;
        } else if (!hvc__ring_publish_light(q, &w->prod, &w->cons_fence,
                                            &w->cons_sleeping)) {
            hvc__ring_prod_publish(q); /* fenced */
        }
        return 0;
    }
    return hvc__ring_send_slow(q, buf, len);
}

/** @cond internal */
/*
 * The consumer's publication after a receive, inline: cons with release
 * (light on a blocking ring; fenced out of line) and the counters. Called
 * when hvc__ring_cons_done()'s rule says so (ring.c).
 */
static inline void hvc__ring_cons_publish_fast(struct hvc_ring *q, uint32_t head)
{
#ifdef __OPTIMIZE_SIZE__
    /* Built for size (-Os, small targets): the one out-of-line copy. */
    (void)head;
    hvc__ring_cons_publish(q);
#else
    struct hvc_wire_ring *w = q->w;

    hvc_store_relaxed(&w->rmsgs_lo, (uint32_t)q->msgs);
    hvc_store_relaxed(&w->rmsgs_hi, (uint32_t)(q->msgs >> 32));
    hvc_store_relaxed(&w->rbytes_lo, (uint32_t)q->bytes);
    hvc_store_relaxed(&w->rbytes_hi, (uint32_t)(q->bytes >> 32));
    if (!(q->wflags & HVC_RING_WF_BLOCKING)) {
        /* Pairs with the producer's acquire load of cons: our reads of
         * the records before head are done. */
        hvc_store_release(&w->cons, head);
        q->published = head;
    } else if (!hvc__ring_publish_light(q, &w->cons, &w->prod_fence, &w->prod_sleeping)) {
        hvc__ring_cons_publish(q); /* fenced */
    }
#endif
}
/** @endcond */

static HVC__RING_INLINE int hvc_ring_recv(struct hvc_ring *q, void *buf, uint32_t cap)
{
    if (q != NULL && q->role == HVC_RING_CONSUMER && q->pending == 0 &&
        (buf != NULL || cap == 0) && !(q->wflags & HVC__RING_WF_CACHE)) {
        uint32_t head = q->head;
        const uint8_t *data = q->data;
        const struct hvc_wire_ring_rec *h =
            (const struct hvc_wire_ring_rec *)(const void *)(data + (head & q->mask));
        /* Read once each; pairs with the producer's release store of the
         * tag: the one line that holds it is all a small message costs.
         * Anything but a plain, well-formed record goes to the slow path,
         * which reads the record again and decides on its own copy. */
        uint32_t tag = hvc_load_acquire(&h->tag), len;

        /* Whole messages only (flags 0), the rule folds to the plain checks. */
        if ((tag & 0xffu) == 0 && (len = hvc_load_relaxed(&h->len),
                                   hvc__ring_rec_check(q, tag, len) == 0 && len <= cap)) {
            const struct hvc_wire_ring_rec *next;

            hvc__copy(buf, h + 1, len);
            head += HVC_RING_RECORD_SIZE(len);
            q->head = head;
            q->msgs++;
            q->bytes += len;
            q->stalled = 0;
            /* Publish lazily (see hvc__ring_cons_done() in ring.c): when
             * the next record is not there yet (a hint, read relaxed). */
            next = (const struct hvc_wire_ring_rec *)(const void *)(data + (head & q->mask));
            if (hvc_load_relaxed(&next->tag) == HVC_REC_EMPTY ||
                head - q->published >= q->capacity / 4u ||
                ((q->wflags & HVC_RING_WF_BLOCKING) &&
                 (hvc_load_relaxed(&q->w->prod_sleeping) & 1u) != 0))
                hvc__ring_cons_publish_fast(q, head);
            return (int)len;
        }
        /* Still "not yet", and the stall already counted and published
         * (#HVC__RING_QUIET): a poll of an empty ring is this load and
         * compare. The first empty poll of each stall goes out of line. */
        if (tag == HVC_REC_EMPTY && q->stalled == HVC__RING_QUIET)
            return -HVC_EAGAIN;
    }
    return hvc__ring_recv_slow(q, buf, cap);
}

/** @cond internal */
/*
 * The blocking calls' first try, inline: the inline send or receive
 * (which publish light inline), before any wait machinery; the exported
 * functions (ring_wait.c) do everything else, the same checks included.
 * hvc_ring_send_wait() and hvc_ring_recv_wait() stay exported functions
 * (src/hvcomm.map); the macros below route calls to them through these.
 * `(hvc_ring_send_wait)(...)` calls the function directly.
 */
static HVC__RING_INLINE int hvc__ring_send_wait_fast(struct hvc_ring *q, const void *buf,
                                                     uint32_t len, int64_t timeout_ns)
{
    if (q != NULL && (q->wflags & HVC_RING_WF_BLOCKING) != 0) {
        int rc = hvc_ring_send(q, buf, len);

        if (rc != -HVC_EAGAIN)
            return rc;
    }
    return (hvc_ring_send_wait)(q, buf, len, timeout_ns);
}

static HVC__RING_INLINE int hvc__ring_recv_wait_fast(struct hvc_ring *q, void *buf, uint32_t cap,
                                                     int64_t timeout_ns)
{
    if (q != NULL && (q->wflags & HVC_RING_WF_BLOCKING) != 0 && timeout_ns >= HVC_FOREVER) {
        int rc = hvc_ring_recv(q, buf, cap);

        if (rc != -HVC_EAGAIN)
            return rc;
    }
    return (hvc_ring_recv_wait)(q, buf, cap, timeout_ns);
}

#define hvc_ring_send_wait(ring, buf, len, timeout_ns) \
    hvc__ring_send_wait_fast((ring), (buf), (len), (timeout_ns))
#define hvc_ring_recv_wait(ring, buf, cap, timeout_ns) \
    hvc__ring_recv_wait_fast((ring), (buf), (cap), (timeout_ns))
/** @endcond */

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_RING_H */
