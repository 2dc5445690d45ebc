/**
 * @file wire.h
 * @brief The shared-memory layout of a region: every structure that lives
 *        in shared memory, described once.
 *
 * Rules for everything in this file:
 * - fixed-width fields, explicit padding, little-endian (all supported
 *   targets are), no pointers: positions are byte offsets from the start of
 *   the region;
 * - every size and offset is checked by `_Static_assert` below;
 * - a 32-bit field that more than one peer touches after publication is an
 *   atomic word, accessed only through atomic.h; wider fields are written
 *   before the 32-bit word that publishes them and never change afterwards;
 * - anything another peer wrote is untrusted: read it once into private
 *   memory, check it, then use the private copy.
 *
 * Region layout:
 *
 *     0                      struct hvc_wire_header      (256 bytes)
 *     peer_offset            struct hvc_wire_peer   x max_peers   (64 each)
 *     dir_offset             struct hvc_wire_dirent x max_objects (64 each)
 *     heap_offset            objects, each aligned to HVC_CACHELINE
 *     region_size            end
 */
#ifndef HVCOMM_WIRE_H
#define HVCOMM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup wire Wire format
 * @brief The layout of shared memory.
 * @{
 */

/** "HVCM" read as a little-endian 32-bit word. */
#define HVC_WIRE_MAGIC 0x4d435648u
/** Layout version of the region header, peer table and directory. */
#define HVC_WIRE_VERSION 1u
/** Alignment of objects and of independently written words. */
#define HVC_CACHELINE 64u
/** Longest object name, without its terminating NUL. */
#define HVC_NAME_MAX 31u
/** Longest peer label, without its terminating NUL. */
#define HVC_LABEL_MAX 23u
/** Most peers a region can have (event sleeper sets are 64-bit masks). */
#define HVC_MAX_PEERS 64u
/** Most directory entries a region can have. */
#define HVC_MAX_OBJECTS 4096u
/** "Any peer" in a writer field. */
#define HVC_PEER_ANY 0xffffu

/** States of a peer slot (low two bits of hvc_wire_peer::status). */
enum hvc_peer_state {
    HVC_PEER_ABSENT = 0,  /**< never used, or left cleanly */
    HVC_PEER_JOINING = 1, /**< being claimed */
    HVC_PEER_READY = 2,   /**< joined and running */
    HVC_PEER_GONE = 3,    /**< died without leaving; slot reclaimable */
};

/** @brief Pack a peer status word: epoch in bits 2..31, state in 0..1. */
#define HVC_PEER_STATUS(epoch, state) (((uint32_t)(epoch) << 2) | (uint32_t)(state))
/** @brief The state of a peer status word. */
#define HVC_PEER_STATUS_STATE(s) ((s) & 3u)
/** @brief The epoch (per-slot session id) of a peer status word. */
#define HVC_PEER_STATUS_EPOCH(s) ((s) >> 2)

/**
 * @brief An owner word: which incarnation of which peer holds something.
 *
 * Bits 0..7 hold the peer id + 1 (0 means "nobody"), bits 8..31 the low 24
 * bits of that peer's epoch, so a peer that died and rejoined is not taken
 * for its former self.
 */
#define HVC_OWNER(peer, epoch) ((((uint32_t)(epoch) & 0xffffffu) << 8) | ((uint32_t)(peer) + 1u))
/** @brief Peer id of an owner word (undefined for 0). */
#define HVC_OWNER_PEER(w) (((w) & 0xffu) - 1u)
/** @brief Epoch bits of an owner word. */
#define HVC_OWNER_EPOCH(w) ((w) >> 8)

/** States of a directory entry (low two bits of hvc_wire_dirent::status). */
enum hvc_dirent_state {
    HVC_DIRENT_FREE = 0,  /**< unused */
    HVC_DIRENT_BUSY = 1,  /**< being created or deleted, under the directory lock */
    HVC_DIRENT_READY = 2, /**< published */
};

/** The region header, at offset 0. Immutable after format except where noted. */
struct hvc_wire_header {
    uint32_t magic;        /**< #HVC_WIRE_MAGIC, stored last at format (release) */
    uint32_t version;      /**< #HVC_WIRE_VERSION */
    uint32_t header_size;  /**< sizeof(struct hvc_wire_header) */
    uint32_t flags;        /**< reserved, 0 */
    uint64_t region_size;  /**< bytes, as formatted */
    uint64_t session_id;   /**< new at every format, never 0 */
    uint32_t max_peers;    /**< entries in the peer table, 1..HVC_MAX_PEERS */
    uint32_t max_objects;  /**< entries in the directory, 1..HVC_MAX_OBJECTS */
    uint32_t peer_offset;  /**< offset of the peer table */
    uint32_t peer_size;    /**< sizeof(struct hvc_wire_peer) */
    uint32_t dir_offset;   /**< offset of the directory */
    uint32_t dirent_size;  /**< sizeof(struct hvc_wire_dirent) */
    uint64_t heap_offset;  /**< first byte objects may use */
    /* ---- cache line 1: mutable, atomic words ---- */
    uint32_t dir_lock;     /**< owner word (#HVC_OWNER) of the directory lock, 0 free */
    uint32_t dir_gen;      /**< bumped at every directory change */
    uint32_t peer_gen;     /**< bumped at every peer table change */
    uint32_t proto_errors; /**< protocol errors any peer detected */
    uint32_t unsupported;  /**< objects refused as not supported (a newer peer's feature flags) */
    uint8_t pad1[HVC_CACHELINE - 20]; /**< padding */
    /* ---- cache lines 2-3: reserved for later layout versions ---- */
    uint8_t reserved[2 * HVC_CACHELINE]; /**< 0 */
};

/** One slot of the peer table. */
struct hvc_wire_peer {
    uint32_t status;    /**< atomic: #HVC_PEER_STATUS(epoch, state) */
    uint32_t heartbeat; /**< atomic: bumped by the peer while alive */
    uint32_t token_lo;  /**< platform liveness token, low half (written while JOINING) */
    uint32_t token_hi;  /**< platform liveness token, high half */
    uint32_t flags;     /**< atomic: peer capabilities (HVC_PEER_F_...) */
    uint32_t token_ns;  /**< #hvc_token_ns of the token: its issuer (written while JOINING; 0 unknown) */
    char label[HVC_LABEL_MAX + 1]; /**< NUL-terminated label (written while JOINING) */
    uint8_t reserved[HVC_CACHELINE - 48]; /**< 0 */
};

/** One entry of the object directory. */
struct hvc_wire_dirent {
    uint32_t status;  /**< atomic: generation in bits 2..31, #hvc_dirent_state in 0..1 */
    uint32_t type;    /**< object type (HVC_OBJ_...) */
    uint64_t offset;  /**< object start, from the region start */
    uint64_t size;    /**< object size in bytes */
    uint16_t writer;  /**< peer allowed to write, #HVC_PEER_ANY for any */
    uint16_t creator; /**< peer that created it */
    uint32_t flags;   /**< object flags (HVC_OBJ_F_...) */
    char name[HVC_NAME_MAX + 1]; /**< NUL-terminated name */
};

#ifndef __cplusplus
_Static_assert(sizeof(struct hvc_wire_header) == 4 * HVC_CACHELINE, "header size");
_Static_assert(offsetof(struct hvc_wire_header, region_size) == 16, "region_size");
_Static_assert(offsetof(struct hvc_wire_header, session_id) == 24, "session_id");
_Static_assert(offsetof(struct hvc_wire_header, max_peers) == 32, "max_peers");
_Static_assert(offsetof(struct hvc_wire_header, heap_offset) == 56, "heap_offset");
_Static_assert(offsetof(struct hvc_wire_header, dir_lock) == HVC_CACHELINE, "dir_lock");
_Static_assert(offsetof(struct hvc_wire_header, proto_errors) == HVC_CACHELINE + 12, "proto_errors");
_Static_assert(offsetof(struct hvc_wire_header, unsupported) == HVC_CACHELINE + 16, "unsupported");
_Static_assert(offsetof(struct hvc_wire_header, reserved) == 2 * HVC_CACHELINE, "reserved");
_Static_assert(sizeof(struct hvc_wire_peer) == HVC_CACHELINE, "peer size");
_Static_assert(offsetof(struct hvc_wire_peer, token_lo) == 8, "token");
_Static_assert(offsetof(struct hvc_wire_peer, token_ns) == 20, "token_ns");
_Static_assert(offsetof(struct hvc_wire_peer, label) == 24, "label");
_Static_assert(sizeof(struct hvc_wire_dirent) == HVC_CACHELINE, "dirent size");
_Static_assert(offsetof(struct hvc_wire_dirent, offset) == 8, "dirent offset");
_Static_assert(offsetof(struct hvc_wire_dirent, size) == 16, "dirent size field");
_Static_assert(offsetof(struct hvc_wire_dirent, writer) == 24, "dirent writer");
_Static_assert(offsetof(struct hvc_wire_dirent, flags) == 28, "dirent flags");
_Static_assert(offsetof(struct hvc_wire_dirent, name) == 32, "dirent name");
#endif

/**
 * @brief The first two words of every typed object (events, segments, rings,
 *        ports, links): checked by hvc_obj_check_header().
 *
 * Every typed object also has a word of feature flags in its immutable
 * line (its row of #HVC_OBJ_TYPE_MAP says where, and which bits this build
 * knows). A flag bit this build does not know means a newer peer made the
 * object: it is refused with -HVC_ENOTSUP ("not supported"), not as a
 * protocol error, and counted in hvc_wire_header::unsupported.
 */
struct hvc_wire_obj_head {
    uint32_t magic;   /**< the type's magic, stored last at creation (release); 0 while being made */
    uint32_t version; /**< the type's layout version */
};

/* ---- events and locked segments: layouts of HVC_OBJ_EVENT, HVC_OBJ_SEGMENT ---- */

/** "HVEV": magic of an event object. */
#define HVC_WIRE_EVENT_MAGIC 0x56455648u
/** "HVEB": magic of the per-region doorbell-emulation words (wait-any). */
#define HVC_WIRE_BELLS_MAGIC 0x42455648u
/** "HVSG": magic of a locked segment. */
#define HVC_WIRE_SEG_MAGIC 0x47535648u
/** Layout version of events. */
#define HVC_WIRE_EVENT_VERSION 1u
/** Layout version of the doorbell-emulation words (".hvc.bells"). */
#define HVC_WIRE_BELLS_VERSION 1u
/** Layout version of locked segments. */
#define HVC_WIRE_SEG_VERSION 1u
/** Feature flags of an event (hvc_wire_event::flags) this build knows: none. */
#define HVC_EVENT_WF_KNOWN 0u
/** Feature flags of a segment (hvc_wire_seg::flags) this build knows: none. */
#define HVC_SEG_WF_KNOWN 0u

/**
 * @brief A named event (directory type HVC_OBJ_EVENT). See doc/events.md.
 *
 * Line 0 is written by the creator before `magic` is published (release)
 * and never changes. Line 1 holds every word the protocol touches, on one
 * line on purpose: a signaler's read-modify-write of `state` brings the
 * line in, and its check of `waiters` and the sleeper masks then costs no
 * further cache miss. Line 2 holds statistics (relaxed, never trusted).
 */
struct hvc_wire_event {
    uint32_t magic;        /**< #HVC_WIRE_EVENT_MAGIC, stored last (release) */
    uint32_t version;      /**< #HVC_WIRE_EVENT_VERSION */
    uint32_t kind;         /**< hvc_event_kind: 1 auto, 2 counting, 3 broadcast */
    uint32_t max_count;    /**< counting: largest count (1 for auto) */
    uint32_t vector;       /**< doorbell vector rung for this event */
    uint32_t flags;        /**< feature flags; none defined (#HVC_EVENT_WF_KNOWN) */
    uint32_t signalers_lo; /**< peers allowed to signal, bits 0..31; 0 and 0: any other peer */
    uint32_t signalers_hi; /**< bits 32..63 */
    uint8_t pad0[HVC_CACHELINE - 32]; /**< padding to the end of the cache line, 0 */
    /* ---- line 1: the protocol words (atomic) ---- */
    /** Bits 0..30: auto 0/1, counting: units, broadcast: generation (wraps
     *  at 2^31); bit 31: sleep hint, set by a waiter before it sleeps. The
     *  futex word of the futex path. */
    uint32_t state;
    uint32_t waiters;      /**< threads registered to sleep on `state` (futex path) */
    uint32_t sleepers_lo;  /**< peers sleeping on a doorbell / bell, bits 0..31 */
    uint32_t sleepers_hi;  /**< bits 32..63 */
    uint8_t pad1[HVC_CACHELINE - 16]; /**< padding to the end of the cache line, 0 */
    /* ---- line 2: statistics (atomic, relaxed) ---- */
    uint32_t signals;      /**< signals accepted */
    uint32_t wakes;        /**< wake calls issued (futex wakes and doorbells) */
    uint32_t sleeps;       /**< sleeps started */
    uint32_t overflows;    /**< counting signals refused at max_count */
    uint8_t pad2[HVC_CACHELINE - 16]; /**< padding to the end of the cache line, 0 */
};

/**
 * @brief One wake-up word per peer (object ".hvc.bells", HVC_OBJ_RAW),
 *        used where the platform has no doorbells: a signaler bumps the
 *        word of each peer in an event's sleeper mask and wakes it.
 */
struct hvc_wire_bells {
    uint32_t magic;     /**< #HVC_WIRE_BELLS_MAGIC, stored last (release) */
    uint32_t version;   /**< #HVC_WIRE_BELLS_VERSION */
    uint8_t pad0[HVC_CACHELINE - 8]; /**< padding to the end of the cache line, 0 */
    /** word[p * 16]: peer p's bell (atomic), one cache line each */
    uint32_t word[HVC_MAX_PEERS * (HVC_CACHELINE / 4)];
};

/** Consistency states of a locked segment (hvc_wire_seg::state). */
enum hvc_seg_state {
    HVC_SEG_CONSISTENT = 0,     /**< normal */
    HVC_SEG_INCONSISTENT = 1,   /**< a holder died; the new holder must repair */
    HVC_SEG_NOTRECOVERABLE = 2, /**< unlocked without repair: unusable */
};

/**
 * @brief The header of a locked segment (HVC_OBJ_SEGMENT); the data
 *        follows at `data_offset` from the object's start.
 */
struct hvc_wire_seg {
    uint32_t magic;       /**< #HVC_WIRE_SEG_MAGIC, stored last (release) */
    uint32_t version;     /**< #HVC_WIRE_SEG_VERSION */
    uint32_t data_offset; /**< from the object start; 128 */
    uint32_t flags;       /**< feature flags; none defined (#HVC_SEG_WF_KNOWN) */
    uint64_t data_size;   /**< bytes of data */
    uint8_t pad0[HVC_CACHELINE - 24]; /**< padding to the end of the cache line, 0 */
    /* ---- line 1: the lock (atomic) ---- */
    uint32_t lock;        /**< #HVC_OWNER of the holder, 0 when free; futex word */
    uint32_t waiters;     /**< threads registered to sleep on `lock` */
    uint32_t state;       /**< #hvc_seg_state */
    uint32_t contended;   /**< statistics: lock calls that had to wait */
    uint32_t acquired;    /**< statistics: successful locks */
    uint32_t recovered;   /**< statistics: locks taken from a dead holder */
    uint8_t pad1[HVC_CACHELINE - 24]; /**< padding to the end of the cache line, 0 */
};

#ifndef __cplusplus
_Static_assert(sizeof(struct hvc_wire_event) == 3 * HVC_CACHELINE, "event size");
_Static_assert(offsetof(struct hvc_wire_event, signalers_lo) == 24, "event signalers");
_Static_assert(offsetof(struct hvc_wire_event, state) == HVC_CACHELINE, "event state");
_Static_assert(offsetof(struct hvc_wire_event, sleepers_hi) == HVC_CACHELINE + 12, "event sleepers");
_Static_assert(offsetof(struct hvc_wire_event, signals) == 2 * HVC_CACHELINE, "event stats");
_Static_assert(offsetof(struct hvc_wire_bells, word) == HVC_CACHELINE, "bells words");
_Static_assert(sizeof(struct hvc_wire_bells) == (HVC_MAX_PEERS + 1) * HVC_CACHELINE, "bells size");
_Static_assert(sizeof(struct hvc_wire_seg) == 2 * HVC_CACHELINE, "segment header size");
_Static_assert(offsetof(struct hvc_wire_seg, data_size) == 16, "segment data_size");
_Static_assert(offsetof(struct hvc_wire_seg, lock) == HVC_CACHELINE, "segment lock");
_Static_assert(offsetof(struct hvc_wire_seg, recovered) == HVC_CACHELINE + 20, "segment stats");
#endif

/* ---- rings, sampling ports, queuing ports: HVC_OBJ_RING, _SAMPLING, _QUEUE ---- */

/** "HVRG": magic of a message ring (hvc_wire_ring::magic). */
#define HVC_RING_MAGIC 0x47525648u
/** "HVSP": magic of a sampling port. */
#define HVC_SAMPLING_MAGIC 0x50535648u
/** "HVQP": magic of a queuing port. */
#define HVC_QUEUE_MAGIC 0x50515648u
/** Layout version of rings. Version 2 gave the last fragment of a
 *  fragmented message its own flag (#HVC_REC_LAST); a version 1 last fragment
 *  looked like a whole message. Version 3 lets the consumer find records by
 *  their tags alone: the tag word after the newest record always holds
 *  #HVC_REC_EMPTY (the producer writes it before it releases the record's
 *  tag, and the creator at offset 0), and `prod` may lag the records. Older
 *  rings are refused (-HVC_EVERSION) rather than misread. */
#define HVC_RING_VERSION 3u
/** Layout version of sampling ports (no records, so the ring's versions
 *  do not concern them). */
#define HVC_SAMPLING_VERSION 1u
/** Layout version of queuing ports. */
#define HVC_QUEUE_VERSION 1u
/** Former version constant shared by both kinds of port; use
 *  #HVC_SAMPLING_VERSION or #HVC_QUEUE_VERSION. */
#define HVC_PORT_VERSION 1u

/** Ring flags (hvc_wire_ring::flags, immutable). */
#define HVC_RING_WF_BLOCKING 1u /**< sides may sleep: publishers check the sleep words */
/** Ring feature flags this build knows. */
#define HVC_RING_WF_KNOWN HVC_RING_WF_BLOCKING
/** Feature flags of a sampling port (hvc_wire_sampling::flags) this build knows: none. */
#define HVC_SAMPLING_WF_KNOWN 0u
/** Feature flags of a queuing port (hvc_wire_queue::flags) this build knows: none. */
#define HVC_QUEUE_WF_KNOWN 0u

/**
 * Record flags (low 8 bits of hvc_wire_ring_rec::tag). A record is exactly
 * one of: a whole message (no flag), a first fragment (#HVC_REC_FRAG_FIRST),
 * a middle fragment (#HVC_REC_FRAG_MIDDLE), a last fragment
 * (#HVC_REC_FRAG_LAST), or padding (#HVC_REC_PAD alone). Any other
 * combination is a bad tag (-HVC_EPROTO).
 */
#define HVC_REC_PAD 0x01u   /**< padding up to the end of the data area (wrap) */
#define HVC_REC_FIRST 0x02u /**< first fragment of a fragmented message */
#define HVC_REC_MORE 0x04u  /**< more fragments of this message follow */
#define HVC_REC_LAST 0x08u  /**< last fragment of a fragmented message */
#define HVC_REC_FLAGS 0x0fu /**< every defined record flag */
/**
 * The whole tag word of the record position after the newest record: "not
 * written yet". No record kind has this flag, so it never matches a tag; a
 * consumer that finds it at its head has reached the end of what the
 * producer released (an empty ring), where any other mismatch is a
 * protocol error.
 */
#define HVC_REC_EMPTY 0x80u
/** Flags of a first fragment. */
#define HVC_REC_FRAG_FIRST (HVC_REC_FIRST | HVC_REC_MORE)
/** Flags of a middle fragment. */
#define HVC_REC_FRAG_MIDDLE HVC_REC_MORE
/** Flags of a last fragment. */
#define HVC_REC_FRAG_LAST HVC_REC_LAST

/**
 * @brief The check bits of a record tag: a hash of the record's free-running
 *        position and its length, in bits 8..31.
 *
 * A record left over from an earlier lap, or a length overwritten with
 * another value, no longer matches its tag.
 */
#define HVC_REC_TAG(pos, len, flags) \
    ((((((uint32_t)(pos) >> 3) * 0x9e3779b1u) ^ ((uint32_t)(len) * 0x85ebca6bu) ^ 0x5a17c0deu) & \
      0xffffff00u) | (uint32_t)(flags))

/**
 * @brief Header of every record in a ring's data area (8 bytes).
 *
 * A record is this header, then `len` payload bytes, padded to 8 bytes; it
 * never wraps: when it does not fit before the end of the data area, the
 * producer fills the rest with one #HVC_REC_PAD record and starts again at 0.
 * `tag` is stored after `len`, the payload and the #HVC_REC_EMPTY word of
 * the next record position, with release order: the consumer polls the tag
 * at its head and needs no other line to find a record (doc/ring.md).
 */
struct hvc_wire_ring_rec {
    uint32_t len; /**< payload bytes (for PAD: bytes of padding after the header) */
    uint32_t tag; /**< #HVC_REC_TAG(position, len, flags) */
};

/**
 * @brief A single-producer single-consumer message ring.
 *
 * Line 0 is immutable after creation; line 1 is written by the producer
 * only, line 2 by the consumer only, line 3 holds the sleep words (each
 * written by one side, rarely); the data area follows. Indices are
 * free-running byte counts; position in the data area = index & (capacity - 1).
 */
struct hvc_wire_ring {
    /* ---- line 0: immutable after creation ---- */
    uint32_t magic;       /**< #HVC_RING_MAGIC, stored last at creation (release) */
    uint32_t version;     /**< #HVC_RING_VERSION */
    uint32_t hdr_size;    /**< sizeof(struct hvc_wire_ring): offset of the data area */
    uint32_t capacity;    /**< data area bytes, a power of two, >= 64 */
    uint32_t max_msg;     /**< largest payload; 2 * record(max_msg) <= capacity */
    uint32_t flags;       /**< HVC_RING_WF_... */
    uint32_t writer;      /**< producer peer id */
    uint32_t reserved0[9]; /**< 0 */
    /* ---- line 1: producer ---- */
    uint32_t prod;          /**< atomic: producer index (bytes published); may lag the released records (doc/ring.md) */
    uint32_t msgs_lo;       /**< messages sent, low half */
    uint32_t msgs_hi;       /**< messages sent, high half */
    uint32_t bytes_lo;      /**< payload bytes sent, low half */
    uint32_t bytes_hi;      /**< payload bytes sent, high half */
    uint32_t full_stalls;   /**< times the producer found the ring full */
    uint32_t prod_errors;   /**< protocol errors the producer detected */
    uint32_t wakeups_sent;  /**< wake-ups of a sleeping consumer */
    uint32_t reserved1[8];  /**< 0 */
    /* ---- line 2: consumer ---- */
    uint32_t cons;          /**< atomic: consumer index (bytes released) */
    uint32_t rmsgs_lo;      /**< messages received, low half */
    uint32_t rmsgs_hi;      /**< messages received, high half */
    uint32_t rbytes_lo;     /**< payload bytes received, low half */
    uint32_t rbytes_hi;     /**< payload bytes received, high half */
    uint32_t empty_stalls;  /**< times the consumer found the ring empty */
    uint32_t cons_errors;   /**< protocol errors the consumer detected */
    uint32_t rwakeups_sent; /**< wake-ups of a sleeping producer */
    uint32_t frag_drops;    /**< fragment records the consumer dropped: not reassemblable (see doc/ring.md) */
    uint32_t reserved2[7];  /**< 0 */
    /* ---- line 3: sleep words ---- */
    uint32_t cons_sleeping; /**< atomic, consumer-written: odd while it waits for data (a new odd value per sleep) */
    uint32_t cons_fence;    /**< atomic, consumer-written: its fence domain, 0 if none: it issues a peer fence before it sleeps (doc/ring.md) */
    uint32_t reserved3[6];  /**< 0 */
    uint32_t prod_sleeping; /**< atomic, producer-written: odd while it waits for room (a new odd value per sleep) */
    uint32_t prod_fence;    /**< atomic, producer-written: its fence domain, 0 if none (as cons_fence) */
    uint32_t reserved4[6];  /**< 0 */
    /* data area (capacity bytes) follows */
};

/* ---- fixed-size-element rings: HVC_OBJ_FRING (fring.h, doc/ring.md) ---- */

/** "HVFR": magic of a fixed-size-element ring (hvc_wire_fring::magic). */
#define HVC_FRING_MAGIC 0x52465648u
/** Layout version of fixed-size-element rings (their own, not the ring's). */
#define HVC_FRING_VERSION 1u
/** Feature flags a version 1 fring may carry (hvc_wire_fring::flags): none
 *  yet; any bit set is refused (-HVC_EPROTO), so a later feature (such as
 *  sleeping on the words of line 3) is a flag, not a new layout. */
#define HVC_FRING_WF_KNOWN 0u

/**
 * @brief A single-producer single-consumer ring of fixed-size elements.
 *
 * Line 0 is immutable after creation; line 1 is written by the producer
 * only, line 2 by the consumer only; line 3 is reserved (0) for sleep
 * words. The data area follows: `capacity` elements of `elem_size` bytes,
 * back to back, no per-element header. Indices are free-running element
 * counts; element i lives at `(i & (capacity - 1)) * elem_size`.
 */
struct hvc_wire_fring {
    /* ---- line 0: immutable after creation ---- */
    uint32_t magic;       /**< #HVC_FRING_MAGIC, stored last at creation (release) */
    uint32_t version;     /**< #HVC_FRING_VERSION */
    uint32_t hdr_size;    /**< sizeof(struct hvc_wire_fring): offset of the data area */
    uint32_t elem_size;   /**< bytes per element, 1..HVC_FRING_ELEM_MAX (fring.h) */
    uint32_t capacity;    /**< elements, a power of two */
    uint32_t flags;       /**< feature flags, within #HVC_FRING_WF_KNOWN */
    uint32_t writer;      /**< producer peer id */
    uint32_t reserved0[9]; /**< 0 */
    /* ---- line 1: producer ---- */
    uint32_t prod;        /**< atomic: producer index (elements published) */
    uint32_t prod_laps;   /**< times prod wrapped past 2^32 (statistics) */
    uint32_t full_stalls; /**< times the producer found the ring full */
    uint32_t prod_errors; /**< protocol errors the producer detected */
    uint32_t reserved1[12]; /**< 0 */
    /* ---- line 2: consumer ---- */
    uint32_t cons;        /**< atomic: consumer index (elements released) */
    uint32_t cons_laps;   /**< times cons wrapped past 2^32 (statistics) */
    uint32_t empty_stalls; /**< times the consumer found the ring empty */
    uint32_t cons_errors; /**< protocol errors the consumer detected */
    uint32_t reserved2[12]; /**< 0 */
    /* ---- line 3: reserved for sleep words ---- */
    uint32_t reserved3[16]; /**< 0 */
    /* data area (capacity * elem_size bytes) follows */
};

#ifndef __cplusplus
_Static_assert(offsetof(struct hvc_wire_fring, elem_size) == 12, "fring elem_size");
_Static_assert(offsetof(struct hvc_wire_fring, writer) == 24, "fring writer");
_Static_assert(offsetof(struct hvc_wire_fring, prod) == HVC_CACHELINE, "fring prod line");
_Static_assert(offsetof(struct hvc_wire_fring, prod_errors) == HVC_CACHELINE + 12, "fring prod errors");
_Static_assert(offsetof(struct hvc_wire_fring, cons) == 2 * HVC_CACHELINE, "fring cons line");
_Static_assert(offsetof(struct hvc_wire_fring, cons_errors) == 2 * HVC_CACHELINE + 12, "fring cons errors");
_Static_assert(offsetof(struct hvc_wire_fring, reserved3) == 3 * HVC_CACHELINE, "fring line 3");
_Static_assert(sizeof(struct hvc_wire_fring) == 4 * HVC_CACHELINE, "fring header size");
#endif

/** Number of slots of a sampling port (the writer never waits for readers). */
#define HVC_SAMPLING_SLOTS 4u

/** One slot of a sampling port: header then `max_msg` bytes rounded to 8. */
struct hvc_wire_sampling_slot {
    uint32_t gen;     /**< atomic: publication number held, 0 while being written */
    uint32_t len;     /**< payload bytes */
    uint32_t time_lo; /**< writer's clock at publication (ns), low half */
    uint32_t time_hi; /**< high half */
};

/**
 * @brief A sampling port: the latest value, in #HVC_SAMPLING_SLOTS slots
 *        written round-robin; readers check the slot's gen before and after
 *        copying (a per-slot sequence lock), so they never see a torn value
 *        and never make the writer wait.
 */
struct hvc_wire_sampling {
    /* ---- line 0: immutable ---- */
    uint32_t magic;      /**< #HVC_SAMPLING_MAGIC, stored last (release) */
    uint32_t version;    /**< #HVC_SAMPLING_VERSION */
    uint32_t hdr_size;   /**< offset of slot 0 */
    uint32_t max_msg;    /**< largest payload */
    uint32_t slot_size;  /**< bytes per slot: 16 + max_msg rounded to 64 */
    uint32_t writer;     /**< writer peer id */
    uint32_t refresh_lo; /**< refresh period (ns), low half */
    uint32_t refresh_hi; /**< high half */
    uint32_t flags;      /**< feature flags; none defined (#HVC_SAMPLING_WF_KNOWN) */
    uint32_t reserved0[7]; /**< 0 */
    /* ---- line 1: writer ---- */
    uint32_t latest;     /**< atomic: publication number of the latest value, 0 none */
    uint32_t reserved1[15]; /**< 0 */
    /* slots follow */
};

/** Overflow policies of a queuing port. */
#define HVC_QUEUE_REJECT 0u      /**< a full queue refuses the new message */
#define HVC_QUEUE_DROP_OLDEST 1u /**< a full queue drops its oldest message */

/** One slot of a queuing port: header then `max_msg` bytes rounded to 8. */
struct hvc_wire_queue_slot {
    uint32_t seq; /**< atomic: m + 1 once message m is complete (release), m while the writer fills it */
    uint32_t len; /**< payload bytes */
};

/**
 * @brief A queuing port: a FIFO of at most `max_count` whole messages in
 *        `slots` (a power of two >= max_count) fixed-size slots.
 */
struct hvc_wire_queue {
    /* ---- line 0: immutable ---- */
    uint32_t magic;      /**< #HVC_QUEUE_MAGIC, stored last (release) */
    uint32_t version;    /**< #HVC_QUEUE_VERSION */
    uint32_t hdr_size;   /**< offset of slot 0 */
    uint32_t max_msg;    /**< largest payload */
    uint32_t max_count;  /**< most messages waiting */
    uint32_t slots;      /**< slot count, power of two >= max_count */
    uint32_t slot_size;  /**< bytes per slot: 8 + max_msg rounded to 8 */
    uint32_t policy;     /**< HVC_QUEUE_REJECT or HVC_QUEUE_DROP_OLDEST */
    uint32_t writer;     /**< writer peer id */
    uint32_t flags;      /**< feature flags; none defined (#HVC_QUEUE_WF_KNOWN) */
    uint32_t reserved0[6]; /**< 0 */
    /* ---- line 1: writer ---- */
    uint32_t prod;       /**< atomic: messages sent (free-running) */
    uint32_t rejected;   /**< messages refused because the queue was full */
    uint32_t prod_errors; /**< protocol errors the writer detected */
    uint32_t reserved1[13]; /**< 0 */
    /* ---- line 2: reader ---- */
    uint32_t cons;       /**< atomic: messages received or dropped (free-running) */
    uint32_t dropped;    /**< messages the reader found overwritten */
    uint32_t cons_errors; /**< protocol errors the reader detected */
    uint32_t reserved2[13]; /**< 0 */
    /* slots follow */
};

#ifndef __cplusplus
_Static_assert(sizeof(struct hvc_wire_ring_rec) == 8, "ring record header");
_Static_assert(offsetof(struct hvc_wire_ring, prod) == HVC_CACHELINE, "ring prod line");
_Static_assert(offsetof(struct hvc_wire_ring, cons) == 2 * HVC_CACHELINE, "ring cons line");
_Static_assert(offsetof(struct hvc_wire_ring, cons_sleeping) == 3 * HVC_CACHELINE, "ring sleep line");
_Static_assert(offsetof(struct hvc_wire_ring, prod_sleeping) == 3 * HVC_CACHELINE + 32, "ring prod sleep");
_Static_assert(offsetof(struct hvc_wire_ring, full_stalls) == HVC_CACHELINE + 20, "ring full_stalls");
_Static_assert(offsetof(struct hvc_wire_ring, empty_stalls) == 2 * HVC_CACHELINE + 20, "ring empty_stalls");
_Static_assert(offsetof(struct hvc_wire_ring, frag_drops) == 2 * HVC_CACHELINE + 32, "ring frag_drops");
_Static_assert(sizeof(struct hvc_wire_ring) == 4 * HVC_CACHELINE, "ring header size");
_Static_assert(sizeof(struct hvc_wire_sampling_slot) == 16, "sampling slot header");
_Static_assert(offsetof(struct hvc_wire_sampling, refresh_lo) == 24, "sampling refresh");
_Static_assert(offsetof(struct hvc_wire_sampling, flags) == 32, "sampling flags");
_Static_assert(offsetof(struct hvc_wire_sampling, latest) == HVC_CACHELINE, "sampling latest line");
_Static_assert(sizeof(struct hvc_wire_sampling) == 2 * HVC_CACHELINE, "sampling header size");
_Static_assert(sizeof(struct hvc_wire_queue_slot) == 8, "queue slot header");
_Static_assert(offsetof(struct hvc_wire_queue, policy) == 28, "queue policy");
_Static_assert(offsetof(struct hvc_wire_queue, flags) == 36, "queue flags");
_Static_assert(offsetof(struct hvc_wire_queue, prod) == HVC_CACHELINE, "queue prod line");
_Static_assert(offsetof(struct hvc_wire_queue, cons) == 2 * HVC_CACHELINE, "queue cons line");
_Static_assert(sizeof(struct hvc_wire_queue) == 3 * HVC_CACHELINE, "queue header size");
#endif

/* ---- vnet links (vnet.h) ---- */

/** Magic of a vnet link object ("HVVN"). */
#define HVC_VNET_MAGIC 0x4e565648u
/** Layout version of a vnet link object. */
#define HVC_VNET_VERSION 1u
/** Link flag: the ends generate and check IP/TCP/UDP/ICMP checksums. */
#define HVC_VNET_LF_CHECKSUM (1u << 0)
/** Link flags this build knows. */
#define HVC_VNET_LF_KNOWN HVC_VNET_LF_CHECKSUM

/**
 * @brief One end of a vnet link: who holds it, the incarnation that
 *        created its transmit ring, and its counters. Two cache lines.
 *
 * The end's transmit ring is the ring object named "<link>.<end>", created
 * (or re-created) by the peer that claims the end, with itself as writer.
 */
struct hvc_wire_vnet_end {
    uint32_t owner;       /**< atomic: owner word (#HVC_OWNER) holding the end, 0 free (CAS) */
    uint32_t ring_owner;  /**< atomic: owner word of the incarnation that created the current tx ring (release), 0 none */
    uint32_t peer;        /**< immutable: the peer id allowed here, #HVC_PEER_ANY for any */
    uint8_t mac[6];       /**< the owner's MAC (written before ring_owner; informational) */
    uint8_t pad0[2];      /**< 0 */
    /* Counters, written by the owner only (relaxed stores), read by tools. */
    uint32_t rx_frames;   /**< frames passed up to the stack */
    uint32_t tx_frames;   /**< frames put in the tx ring */
    uint32_t rx_bytes_lo; /**< bytes passed up, low word */
    uint32_t rx_bytes_hi; /**< bytes passed up, high word */
    uint32_t tx_bytes_lo; /**< bytes sent, low word */
    uint32_t tx_bytes_hi; /**< bytes sent, high word */
    uint32_t drop_short;  /**< received frames shorter than an Ethernet header */
    uint32_t drop_long;   /**< received frames longer than MTU + header */
    uint32_t drop_bad;    /**< protocol errors of the rx ring (bad length, tag) */
    uint32_t drop_full;   /**< frames not sent: tx ring full */
    uint32_t drop_nomem;  /**< received frames dropped: no pbuf */
    uint32_t drop_down;   /**< frames not sent: link down */
    uint32_t rx_zerocopy; /**< frames passed up without a copy */
    uint32_t link_changes; /**< link up/down transitions seen by the owner */
    uint32_t reserved[13]; /**< 0 */
};

/**
 * @brief A vnet link object (#HVC_OBJ_VNET): an immutable line, then the
 *        two ends.
 */
struct hvc_wire_vnet {
    /* ---- line 0: immutable after creation ---- */
    uint32_t magic;         /**< #HVC_VNET_MAGIC, stored last (release) */
    uint32_t version;       /**< #HVC_VNET_VERSION */
    uint32_t hdr_size;      /**< sizeof(struct hvc_wire_vnet) */
    uint32_t mtu;           /**< IP MTU, 576..65535 */
    uint32_t ring_capacity; /**< data bytes of each tx ring */
    uint32_t flags;         /**< HVC_VNET_LF_ flags */
    uint32_t reserved0[10]; /**< 0 */
    /* ---- lines 1-4: the ends ---- */
    struct hvc_wire_vnet_end end[2]; /**< end 0 and end 1 */
};

#ifndef __cplusplus
_Static_assert(sizeof(struct hvc_wire_vnet_end) == 2 * HVC_CACHELINE, "vnet end size");
_Static_assert(offsetof(struct hvc_wire_vnet_end, rx_frames) == 20, "vnet end counters");
_Static_assert(offsetof(struct hvc_wire_vnet, end) == HVC_CACHELINE, "vnet ends line");
_Static_assert(sizeof(struct hvc_wire_vnet) == 5 * HVC_CACHELINE, "vnet header size");
#endif

/* ---- vnet bridges (bridge.h) ---- */

/** Magic of a bridge object ("HVBR"). */
#define HVC_BRIDGE_MAGIC 0x52425648u
/** Layout version of a bridge object. */
#define HVC_BRIDGE_VERSION 1u
/** Feature flags of a bridge (hvc_wire_bridge::flags) this build knows: none. */
#define HVC_BRIDGE_WF_KNOWN 0u
/** Ports of a bridge. */
#define HVC_BRIDGE_PORTS_MAX 16u
/** Rules of a bridge. */
#define HVC_BRIDGE_RULES_MAX 32u
/** Bytes of a port name, NUL included. */
#define HVC_BRIDGE_PORT_NAME 32u

/**
 * @brief One bridge port's description and counters, written by the bridge
 *        only (relaxed stores), read by tools. Three cache lines.
 */
struct hvc_wire_bridge_port {
    char name[HVC_BRIDGE_PORT_NAME]; /**< link name or external port name */
    uint32_t kind;            /**< 1 vnet link, 2 external (TAP) */
    uint32_t up;              /**< 1 while the port's link is up (external ports: always) */
    uint64_t rate;            /**< ingress limit in bytes/s, 0 none */
    uint64_t burst;           /**< token bucket depth in bytes */
    uint64_t rx_frames;       /**< frames received from the port */
    uint64_t rx_bytes;        /**< bytes received from the port */
    uint64_t tx_frames;       /**< frames sent out of the port */
    uint64_t tx_bytes;        /**< bytes sent out of the port */
    uint64_t flood;           /**< frames from the port that were flooded */
    uint64_t drop_rate;       /**< received frames over the rate */
    uint64_t drop_rule;       /**< received frames denied by a rule */
    uint64_t drop_malformed;  /**< received frames too short for their headers */
    uint64_t drop_full;       /**< frames not sent out: ring or device full */
    uint64_t drop_down;       /**< frames not sent out: link down */
    uint64_t drop_len;        /**< frames of a link port dropped for their length (< 14, > MTU + 14) */
    uint64_t reserved[6];     /**< 0 */
};

/**
 * @brief One rule as configured, and its hit counter. One cache line.
 */
struct hvc_wire_bridge_rule {
    uint32_t match;       /**< HVC_BRIDGE_M_ bits */
    uint32_t action;      /**< 0 allow, 1 deny */
    uint8_t src_mac[6];   /**< with HVC_BRIDGE_M_SRC_MAC */
    uint8_t dst_mac[6];   /**< with HVC_BRIDGE_M_DST_MAC */
    uint32_t src_ip;      /**< IPv4, host order, with HVC_BRIDGE_M_SRC_IP */
    uint32_t dst_ip;      /**< IPv4, host order, with HVC_BRIDGE_M_DST_IP */
    uint8_t src_prefix;   /**< 0..32 */
    uint8_t dst_prefix;   /**< 0..32 */
    uint8_t proto;        /**< IP protocol, with HVC_BRIDGE_M_PROTO */
    uint8_t pad0;         /**< 0 */
    uint16_t dport;       /**< TCP/UDP destination port, with HVC_BRIDGE_M_DPORT */
    uint16_t pad1;        /**< 0 */
    uint64_t hits;        /**< frames the rule matched (written by the bridge) */
    uint32_t reserved[4]; /**< 0 */
};

/**
 * @brief A bridge object (#HVC_OBJ_BRIDGE): a header line, the ports, the
 *        rules. Written by the bridge only.
 */
struct hvc_wire_bridge {
    uint32_t magic;          /**< #HVC_BRIDGE_MAGIC, stored last (release) */
    uint32_t version;        /**< #HVC_BRIDGE_VERSION */
    uint32_t hdr_size;       /**< sizeof(struct hvc_wire_bridge) */
    uint32_t nports;         /**< ports in use (atomic, grows) */
    uint32_t nrules;         /**< rules in use */
    uint32_t default_action; /**< 0 allow, 1 deny */
    uint32_t fdb_size;       /**< MAC table entries */
    uint32_t fdb_used;       /**< MAC table entries learned and not aged */
    uint64_t unknown_port;   /**< frames dropped: no port to send to */
    uint32_t flags;          /**< feature flags; none defined (#HVC_BRIDGE_WF_KNOWN) */
    uint32_t reserved[5];    /**< 0 */
    struct hvc_wire_bridge_port port[HVC_BRIDGE_PORTS_MAX]; /**< ports */
    struct hvc_wire_bridge_rule rule[HVC_BRIDGE_RULES_MAX]; /**< rules */
};

#ifndef __cplusplus
_Static_assert(sizeof(struct hvc_wire_bridge_port) == 3 * HVC_CACHELINE, "bridge port size");
_Static_assert(sizeof(struct hvc_wire_bridge_rule) == HVC_CACHELINE, "bridge rule size");
_Static_assert(offsetof(struct hvc_wire_bridge, flags) == 40, "bridge flags");
_Static_assert(offsetof(struct hvc_wire_bridge, port) == HVC_CACHELINE, "bridge ports");
_Static_assert(sizeof(struct hvc_wire_bridge) ==
                   (1 + 3 * HVC_BRIDGE_PORTS_MAX + HVC_BRIDGE_RULES_MAX) * HVC_CACHELINE,
               "bridge size");
#endif

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_WIRE_H */
