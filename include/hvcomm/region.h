/**
 * @file region.h
 * @brief Shared regions: format and attach, the peer table, and the
 *        directory of named objects.
 *
 * A region is one block of shared memory, mapped by every peer through a
 * platform backend (platform.h). One peer formats it; others attach. Its
 * layout is in wire.h. Attach distrusts the region: every field another peer
 * could have written is read once, checked, and used from private memory, so
 * a corrupt or hostile region gives an error code, never a crash.
 *
 * Thread safety: a `struct hvc_region` may be used by several threads of one
 * peer at once for lookups, object creation and peer queries; format,
 * attach, detach, join and leave must not run concurrently with other calls
 * on the same `struct hvc_region`. None of these functions may be called
 * from an interrupt handler.
 */
#ifndef HVCOMM_REGION_H
#define HVCOMM_REGION_H

#include <stdbool.h>
#include <stdint.h>

#include <hvcomm/error.h>
#include <hvcomm/export.h>
#include <hvcomm/platform.h>
#include <hvcomm/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup region Regions, peers and the directory
 * @brief Format, attach, join, and find objects by name.
 * @{
 */

/** Peers in a region formatted with max_peers = 0. */
#define HVC_DEFAULT_PEERS 16u
/** Directory entries in a region formatted with max_objects = 0. */
#define HVC_DEFAULT_OBJECTS 64u
/** The smallest region: header, tables and one cache line of heap. */
#define HVC_REGION_MIN_SIZE 4096u

/** Object types kept in the directory. */
enum hvc_obj_type {
    HVC_OBJ_ANY = 0,      /**< in lookups: any type */
    HVC_OBJ_RAW = 1,      /**< bytes with no structure known to hvcomm */
    HVC_OBJ_EVENT = 2,    /**< a named event */
    HVC_OBJ_SEGMENT = 3,  /**< a locked segment */
    HVC_OBJ_RING = 4,     /**< an SPSC message ring */
    HVC_OBJ_SAMPLING = 5, /**< a sampling port */
    HVC_OBJ_QUEUE = 6,    /**< a queuing port */
    HVC_OBJ_VNET = 7,     /**< a vnet link */
    HVC_OBJ_BRIDGE = 8,   /**< a vnet bridge's configuration and counters */
    HVC_OBJ_FRING = 9,    /**< an SPSC ring of fixed-size elements (fring.h) */
    HVC_OBJ_USER = 0x1000 /**< first type free for applications */
};

/**
 * @brief The list of object types hvcomm knows, one row each:
 *        X(NAME, name, magic, version, header, flags_at, known_flags, writer_at).
 *
 * - `NAME`: the #hvc_obj_type constant is `HVC_OBJ_<NAME>`;
 * - `name`: the type's name (hvc_obj_type_name(), `hvcomm info`), also the
 *   suffix of its descriptor `hvc__objdesc_<name>` and of the tools'
 *   describe function;
 * - `magic`, `version`: the object's first two words (wire.h; 0 for a raw
 *   object, which has no header);
 * - `header`: bytes of the type's header, the smallest such object;
 * - `flags_at`: offset of the word of feature flags in the immutable line;
 * - `known_flags`: the feature flags this build understands (any other
 *   bit: -HVC_ENOTSUP);
 * - `writer_at`: offset of the writer peer id, checked against the
 *   directory entry's writer, or 0 for a type without one.
 *
 * Expanded by the library into one `struct hvc_obj_desc` per type (the
 * checks of hvc_obj_validate()) and the table of hvc_obj_type_desc(), and by
 * the tools into `hvcomm info`'s table of describe functions. A new type is
 * its module's file, one #hvc_obj_type constant and one row here (see
 * doc/design.md, "Object types").
 */
#define HVC_OBJ_TYPE_MAP(X)                                                            \
    X(RAW, raw, 0u, 0u, 0u, 0u, 0u, 0u)                                                \
    X(EVENT, event, HVC_WIRE_EVENT_MAGIC, HVC_WIRE_EVENT_VERSION,                      \
      sizeof(struct hvc_wire_event), offsetof(struct hvc_wire_event, flags),           \
      HVC_EVENT_WF_KNOWN, 0u)                                                          \
    X(SEGMENT, segment, HVC_WIRE_SEG_MAGIC, HVC_WIRE_SEG_VERSION,                      \
      sizeof(struct hvc_wire_seg), offsetof(struct hvc_wire_seg, flags),               \
      HVC_SEG_WF_KNOWN, 0u)                                                            \
    X(RING, ring, HVC_RING_MAGIC, HVC_RING_VERSION, sizeof(struct hvc_wire_ring),      \
      offsetof(struct hvc_wire_ring, flags), HVC_RING_WF_KNOWN,                        \
      offsetof(struct hvc_wire_ring, writer))                                          \
    X(SAMPLING, sampling, HVC_SAMPLING_MAGIC, HVC_SAMPLING_VERSION,                    \
      sizeof(struct hvc_wire_sampling), offsetof(struct hvc_wire_sampling, flags),     \
      HVC_SAMPLING_WF_KNOWN, offsetof(struct hvc_wire_sampling, writer))               \
    X(QUEUE, queue, HVC_QUEUE_MAGIC, HVC_QUEUE_VERSION, sizeof(struct hvc_wire_queue), \
      offsetof(struct hvc_wire_queue, flags), HVC_QUEUE_WF_KNOWN,                      \
      offsetof(struct hvc_wire_queue, writer))                                         \
    X(VNET, vnet, HVC_VNET_MAGIC, HVC_VNET_VERSION, sizeof(struct hvc_wire_vnet),      \
      offsetof(struct hvc_wire_vnet, flags), HVC_VNET_LF_KNOWN, 0u)                    \
    X(BRIDGE, bridge, HVC_BRIDGE_MAGIC, HVC_BRIDGE_VERSION,                            \
      sizeof(struct hvc_wire_bridge), offsetof(struct hvc_wire_bridge, flags),         \
      HVC_BRIDGE_WF_KNOWN, 0u)                                                          \
    X(FRING, fring, HVC_FRING_MAGIC, HVC_FRING_VERSION, sizeof(struct hvc_wire_fring), \
      offsetof(struct hvc_wire_fring, flags), HVC_FRING_WF_KNOWN,                      \
      offsetof(struct hvc_wire_fring, writer))

/**
 * @brief What this build knows of one object type: its row of
 *        #HVC_OBJ_TYPE_MAP. Immutable; from hvc_obj_type_desc().
 */
struct hvc_obj_desc {
    const char *name;     /**< "ring", "event", ... */
    uint32_t type;        /**< #hvc_obj_type */
    uint32_t magic;       /**< the object's first word; 0: no header (raw) */
    uint32_t version;     /**< the layout version this build reads */
    uint32_t hdr_size;    /**< bytes of the type's header */
    uint32_t known_flags; /**< feature flags this build understands */
    uint16_t flags_at;    /**< offset of the immutable feature-flag word */
    uint16_t writer_at;   /**< offset of the writer peer id, 0 none */
};

/** @cond INTERNAL */
/* One descriptor per type, each in its own section: a module refers to its
 * own only, so an image links the descriptors of the types it uses. */
#define HVC__OBJDESC_DECL(NAME, name, magic, version, hdr, flags_at, known, writer_at) \
    extern const struct hvc_obj_desc hvc__objdesc_##name;
HVC_OBJ_TYPE_MAP(HVC__OBJDESC_DECL)
#undef HVC__OBJDESC_DECL
/** @endcond */

/** Object flags. */
enum hvc_obj_flags {
    /** Align the object's start and size to 4 KiB pages (read-only views). */
    HVC_OBJ_F_PAGE_ALIGN = 1u << 0,
};

/** Flags of hvc_region_config::flags. */
enum hvc_format_flags {
    /** Fail with EEXIST if the backing region already exists. */
    HVC_FORMAT_EXCL = 1u << 0,
    /** Format even over a valid region that has live peers. */
    HVC_FORMAT_FORCE = 1u << 1,
};

/** Parameters of hvc_region_format(). */
struct hvc_region_config {
    uint64_t size;        /**< bytes; 0 keeps the size of an existing region */
    uint32_t max_peers;   /**< 0 for #HVC_DEFAULT_PEERS, at most #HVC_MAX_PEERS */
    uint32_t max_objects; /**< 0 for #HVC_DEFAULT_OBJECTS, at most #HVC_MAX_OBJECTS */
    uint32_t flags;       /**< #hvc_format_flags */
};

/** What a peer last looked like to this peer (private). */
struct hvc_peer_watch {
    uint32_t status;    /**< status word last seen */
    uint32_t heartbeat; /**< heartbeat last seen */
    uint64_t since_ns;  /**< when the heartbeat last changed, local clock */
};

/**
 * @brief A mapped region. Caller-owned; fields are private to the library.
 *
 * Everything here is this peer's checked copy of the region's immutable
 * header fields, or this peer's own state.
 */
struct hvc_region {
    struct hvc_platform_handle plat; /**< the mapping */
    uint8_t *base;                   /**< start of the mapping */
    uint64_t size;                   /**< checked region size */
    uint64_t session_id;             /**< checked session id */
    uint64_t heap_offset;            /**< checked heap start */
    uint32_t max_peers;              /**< checked peer table size */
    uint32_t max_objects;            /**< checked directory size */
    uint32_t peer_offset;            /**< checked peer table offset */
    uint32_t dir_offset;             /**< checked directory offset */
    int32_t self;                    /**< our peer id, -1 before join */
    uint32_t self_epoch;             /**< our epoch, valid after join */
    uint32_t state;                  /**< library state bits */
    uint32_t proto_errors;           /**< protocol errors this peer saw */
    struct hvc_peer_watch watch[HVC_MAX_PEERS]; /**< liveness observations */
};

/** A summary of a region, from hvc_region_info(). */
struct hvc_region_info {
    uint64_t size;         /**< region bytes */
    uint64_t session_id;   /**< session id of the current format */
    uint64_t heap_offset;  /**< first heap byte */
    uint64_t heap_used;    /**< bytes used by objects (sum of sizes) */
    uint32_t version;      /**< layout version */
    uint32_t max_peers;    /**< peer table size */
    uint32_t max_objects;  /**< directory size */
    uint32_t objects;      /**< directory entries in use */
    uint32_t peers_ready;  /**< peers in state READY */
    uint32_t proto_errors; /**< protocol errors reported by all peers */
    uint32_t unsupported;  /**< objects peers refused as not supported (newer feature flags) */
    int32_t self;          /**< this peer's id, or -1 */
    uint32_t self_epoch;   /**< this peer's epoch (session id) */
};

/** A peer as seen in the peer table, from hvc_peer_info(). */
struct hvc_peer_info {
    uint32_t id;        /**< slot index */
    uint32_t state;     /**< #hvc_peer_state */
    uint32_t epoch;     /**< per-slot session id: new at every join */
    uint32_t heartbeat; /**< liveness counter */
    uint32_t flags;     /**< capability flags */
    uint64_t token;     /**< platform liveness token (0: none) */
    uint32_t token_ns;  /**< its issuer, #hvc_token_ns (0: unknown) */
    char label[HVC_LABEL_MAX + 1]; /**< NUL-terminated label */
};

/** What to create, for hvc_obj_create(). */
struct hvc_obj_spec {
    const char *name; /**< 1..#HVC_NAME_MAX characters */
    uint32_t type;    /**< #hvc_obj_type (not HVC_OBJ_ANY) */
    uint64_t size;    /**< bytes, > 0; rounded up to #HVC_CACHELINE */
    uint16_t writer;  /**< peer allowed to write it, or #HVC_PEER_ANY */
    uint32_t flags;   /**< #hvc_obj_flags */
};

/** A directory entry, checked and copied into private memory. */
struct hvc_obj {
    void *ptr;        /**< start of the object in this peer's mapping */
    uint64_t offset;  /**< offset in the region */
    uint64_t size;    /**< bytes */
    uint32_t type;    /**< #hvc_obj_type */
    uint32_t flags;   /**< #hvc_obj_flags */
    uint32_t index;   /**< directory slot */
    uint32_t gen;     /**< directory entry generation when read */
    uint16_t writer;  /**< writer peer or #HVC_PEER_ANY */
    uint16_t creator; /**< creator peer */
    char name[HVC_NAME_MAX + 1]; /**< NUL-terminated name */
};

/* ---- regions ---- */

/**
 * @brief Create (if needed), map and format a region, then leave it mapped.
 *
 * Formatting gives the region a new session id, an empty peer table and an
 * empty directory. The caller is not joined; call hvc_peer_join().
 *
 * @param r caller-owned region, filled in on success.
 * @param ops the platform backend.
 * @param name the region's name in the backend's terms.
 * @param cfg size and table sizes.
 * @retval 0 formatted and mapped.
 * @retval -HVC_EINVAL bad arguments or table sizes.
 * @retval -HVC_ENOSPC the size cannot hold the tables and one object line.
 * @retval -HVC_EEXIST it exists and #HVC_FORMAT_EXCL was given.
 * @retval -HVC_EBUSY it holds a valid region with live peers, and
 *         #HVC_FORMAT_FORCE was not given.
 * @retval -HVC_EACCES / -HVC_ENOMEM / -HVC_EIO the platform failed.
 * @retval -HVC_ENOTSUP the library was built attach-only
 *         (HVC_CONFIG_ATTACH_ONLY, CMake HVC_ATTACH_ONLY), which leaves
 *         region format out.
 */
HVC_API int hvc_region_format(struct hvc_region *r,
                              const struct hvc_platform *ops, const char *name,
                              const struct hvc_region_config *cfg);

/**
 * @brief Map an existing region and check everything in it.
 *
 * @param r caller-owned region, filled in on success.
 * @param ops the platform backend.
 * @param name the region's name.
 * @param flags #HVC_MAP_RDONLY to map it read-only (joining then fails).
 * @retval 0 attached.
 * @retval -HVC_EINVAL bad arguments.
 * @retval -HVC_ENOENT no such region.
 * @retval -HVC_EMAGIC the region does not start with the hvcomm magic
 *         (also a region still being formatted).
 * @retval -HVC_EVERSION the layout version is not one this library reads.
 * @retval -HVC_EPROTO a size, offset or table entry is out of range,
 *         overlaps another, or a name has no terminator.
 * @retval -HVC_EACCES / -HVC_ENOMEM / -HVC_EIO the platform failed.
 */
HVC_API int hvc_region_attach(struct hvc_region *r,
                              const struct hvc_platform *ops, const char *name,
                              unsigned flags);

/**
 * @brief Leave (if joined) and unmap.
 * @retval 0 done.
 * @retval -HVC_EINVAL not attached.
 */
HVC_API int hvc_region_detach(struct hvc_region *r);

/**
 * @brief Check the whole region again: header, peer table and directory.
 *
 * Run at attach; run it again whenever a peer may have scribbled on the
 * region (the `hvcomm info` tool does).
 *
 * @retval 0 consistent.
 * @retval -HVC_EMAGIC / -HVC_EVERSION / -HVC_EPROTO as hvc_region_attach().
 * @retval -HVC_ESTALE the region was re-formatted since this peer attached.
 */
HVC_API int hvc_region_validate(struct hvc_region *r);

/**
 * @brief Summarise the region.
 * @retval 0 filled in.
 * @retval -HVC_EINVAL not attached.
 */
HVC_API int hvc_region_info(struct hvc_region *r, struct hvc_region_info *out);

/**
 * @brief The platform handle of a region, for modules built on it.
 * @return the handle, or NULL when `r` is not attached.
 */
HVC_API struct hvc_platform_handle *hvc_region_platform(struct hvc_region *r);

/**
 * @brief Record a protocol error detected in the region by this peer:
 *        counted privately and in the region header (shown by `hvcomm info`).
 */
HVC_API void hvc_region_proto_error(struct hvc_region *r, const char *what);

/**
 * @brief Record an object this peer refused as not supported (a feature
 *        flag a newer peer set, which this build does not know): counted
 *        in the region header (`unsupported`, when this peer's mapping is
 *        writable), apart from protocol errors, and logged.
 */
HVC_API void hvc_region_unsupported(struct hvc_region *r, const char *what);

/* ---- peers ---- */

/**
 * @brief Join the region: claim a peer slot and announce READY.
 *
 * On a platform that assigns peer ids (ivshmem), that slot is taken, even
 * from a former incarnation that died. Otherwise the first ABSENT slot is
 * claimed, then the first GONE one. Each join gets a new epoch (the peer's
 * session id), so others never take stale state for the new peer.
 *
 * @param r the region.
 * @param label a short label for tools (may be NULL), cut at #HVC_LABEL_MAX.
 * @return the peer id (>= 0).
 * @retval -HVC_EINVAL not attached, or attached read-only.
 * @retval -HVC_EBUSY already joined.
 * @retval -HVC_ENOSPC no free or reclaimable slot.
 * @retval -HVC_EPROTO the platform's peer id is outside the table.
 */
HVC_API int hvc_peer_join(struct hvc_region *r, const char *label);

/**
 * @brief Join at a given slot: the fixed peer id of a system table
 *        (system.h) or a board.
 *
 * Claims slot `id` when it is ABSENT or GONE, or when it is READY/JOINING
 * and the platform says its holder is dead (a restart of this peer). On a
 * platform that assigns ids, `id` must be the one it assigns.
 *
 * @param r the region.
 * @param id the slot.
 * @param label a short label for tools (may be NULL).
 * @return `id`.
 * @retval -HVC_EINVAL not attached writable, or `id` outside the table.
 * @retval -HVC_EBUSY the slot is held by a live (or not known dead)
 *         incarnation, the platform assigns another id, or this handle
 *         already joined at another id.
 */
HVC_API int hvc_peer_join_id(struct hvc_region *r, uint32_t id, const char *label);

/**
 * @brief Leave: mark our slot ABSENT.
 * @retval 0 left.
 * @retval -HVC_EINVAL not joined.
 * @retval -HVC_ESTALE another peer had declared us gone (the slot is left alone).
 */
HVC_API int hvc_peer_leave(struct hvc_region *r);

/**
 * @brief Bump our heartbeat and check that we are still a member.
 * @retval 0 alive and a member.
 * @retval -HVC_EINVAL not joined.
 * @retval -HVC_ESTALE another peer declared us gone, or the region was
 *         re-formatted: join again.
 *
 * Context: any thread of the joined peer.
 */
HVC_API int hvc_peer_heartbeat(struct hvc_region *r);

/**
 * @brief Our peer id.
 * @return the id (>= 0).
 * @retval -HVC_EINVAL not joined.
 */
HVC_API int hvc_peer_self(const struct hvc_region *r);

/**
 * @brief Our owner word (#HVC_OWNER of id and epoch), 0 when not joined.
 */
HVC_API uint32_t hvc_peer_owner(const struct hvc_region *r);

/**
 * @brief Read one slot of the peer table.
 * @retval 0 filled in (whatever the state).
 * @retval -HVC_EINVAL bad id or not attached.
 */
HVC_API int hvc_peer_info(struct hvc_region *r, uint32_t id,
                          struct hvc_peer_info *out);

/**
 * @brief Is the incarnation named by an owner word still a READY member?
 * @return 1 yes, 0 no (wrong epoch, not READY, or `owner` is 0 or invalid).
 */
HVC_API int hvc_peer_owner_live(struct hvc_region *r, uint32_t owner);

/**
 * @brief Look for peers that died without leaving, and declare them GONE.
 *
 * A READY (or JOINING) peer is declared gone when the platform says its
 * process is dead, or, when `stale_ns` is not 0, when its heartbeat has not
 * moved for `stale_ns` nanoseconds of this peer's clock (measured across
 * calls to this function). A GONE slot can be claimed by the next joiner.
 *
 * @param r the region.
 * @param stale_ns heartbeat timeout, 0 to rely on the platform only.
 * @return the number of peers declared gone by this call.
 * @retval -HVC_EINVAL not attached, or attached read-only.
 */
HVC_API int hvc_peer_scan(struct hvc_region *r, uint64_t stale_ns);

/**
 * @brief Free a GONE slot at once (make it ABSENT).
 * @retval 0 freed.
 * @retval -HVC_EINVAL bad id, or not attached writable.
 * @retval -HVC_EBUSY the slot is not GONE.
 */
HVC_API int hvc_peer_reclaim(struct hvc_region *r, uint32_t id);

/** @brief The name of a #hvc_peer_state ("absent", "ready", ...). */
HVC_API const char *hvc_peer_state_name(uint32_t state);

/* ---- objects ---- */

/**
 * @brief Create a named object: carve its space and publish it.
 *
 * Space is taken first-fit between existing objects, aligned to
 * #HVC_CACHELINE, and zeroed. Creation is serialised by the directory lock,
 * which is recovered from a peer that died holding it.
 *
 * @param r the region (joined).
 * @param spec name, type, size, writer and flags.
 * @param out filled in with the new object (may be NULL).
 * @retval 0 created.
 * @retval -HVC_EINVAL bad spec, or not joined.
 * @retval -HVC_ENAMETOOLONG name longer than #HVC_NAME_MAX.
 * @retval -HVC_EEXIST the name is taken.
 * @retval -HVC_ENOSPC no free directory entry or no room in the heap.
 * @retval -HVC_ETIMEDOUT the directory lock stayed held by a live peer.
 * @retval -HVC_EPROTO the directory is corrupt.
 * @retval -HVC_ENOTSUP built attach-only (HVC_CONFIG_ATTACH_ONLY: no
 *         directory create, delete or lock; every object create fails so).
 */
HVC_API int hvc_obj_create(struct hvc_region *r, const struct hvc_obj_spec *spec,
                           struct hvc_obj *out);

/**
 * @brief Find a named object.
 * @param r the region.
 * @param name the name.
 * @param type the type expected, or #HVC_OBJ_ANY.
 * @param out filled in on success.
 * @retval 0 found, checked and copied.
 * @retval -HVC_EINVAL bad arguments.
 * @retval -HVC_ENAMETOOLONG name longer than #HVC_NAME_MAX.
 * @retval -HVC_ENOENT no such name.
 * @retval -HVC_ETYPE it exists with another type.
 * @retval -HVC_EPROTO its entry is corrupt (out of range, overlapping).
 * @retval -HVC_EAGAIN the entry kept changing while read.
 */
HVC_API int hvc_obj_open(struct hvc_region *r, const char *name, uint32_t type,
                         struct hvc_obj *out);

/**
 * @brief Read directory slot `index`.
 * @retval 0 a published object, checked and copied.
 * @retval -HVC_ENOENT the slot is free or busy.
 * @retval -HVC_EINVAL index out of range or not attached.
 * @retval -HVC_EPROTO the entry is corrupt.
 * @retval -HVC_EAGAIN the entry kept changing while read.
 */
HVC_API int hvc_obj_get(struct hvc_region *r, uint32_t index,
                        struct hvc_obj *out);

/**
 * @brief Remove a named object from the directory; its space is reused.
 *
 * Peers that still use the object are not told; delete only what no peer
 * uses any more.
 *
 * @retval 0 removed.
 * @retval -HVC_EINVAL bad arguments, or not joined.
 * @retval -HVC_ENOENT no such name.
 * @retval -HVC_ETIMEDOUT the directory lock stayed held by a live peer.
 * @retval -HVC_ENOTSUP built attach-only (HVC_CONFIG_ATTACH_ONLY).
 */
HVC_API int hvc_obj_delete(struct hvc_region *r, const char *name);

/**
 * @brief Check that an object (from open or get) is still the published
 *        entry it was (not deleted and re-created since).
 * @retval 0 still current.
 * @retval -HVC_ESTALE changed or deleted.
 */
HVC_API int hvc_obj_check(struct hvc_region *r, const struct hvc_obj *obj);

/**
 * @brief The checks every typed object's header starts with.
 *
 * Checks the type, that the object is large enough for `min_size` bytes of
 * header and cache-line aligned, then loads the magic once (acquire: it is
 * the last word written at creation, so the header's other immutable fields
 * are visible once it is) and the version once. Used by every module on the
 * objects it opens; the module then checks its own fields.
 *
 * @param obj an object from hvc_obj_open() or hvc_obj_get().
 * @param type the type expected.
 * @param min_size bytes of the type's header (at least 8).
 * @param magic the type's magic.
 * @param version the layout version this library reads.
 * @retval 0 the header starts right.
 * @retval -HVC_EINVAL `obj` or its pointer is NULL, `min_size` < 8, or
 *         `magic` is 0.
 * @retval -HVC_ETYPE the object has another type.
 * @retval -HVC_ENOTREADY the magic is 0: the creator has not finished.
 * @retval -HVC_EPROTO too small, misaligned, or a wrong magic (the caller
 *         counts it with hvc_region_proto_error()).
 * @retval -HVC_EVERSION another layout version.
 *
 * Context: any thread; it only reads.
 */
HVC_API int hvc_obj_check_header(const struct hvc_obj *obj, uint32_t type,
                                 uint64_t min_size, uint32_t magic,
                                 uint32_t version);

/** @brief The name of an #hvc_obj_type ("ring", "event", ..., "user"). */
HVC_API const char *hvc_obj_type_name(uint32_t type);

/**
 * @brief The descriptor of a type this build knows (#HVC_OBJ_TYPE_MAP).
 * @param type an #hvc_obj_type.
 * @return the descriptor, or NULL for HVC_OBJ_ANY, an application type or
 *         a type this build does not know.
 *
 * Context: any; thread-safe.
 */
HVC_API const struct hvc_obj_desc *hvc_obj_type_desc(uint32_t type);

/**
 * @brief The checks every typed object starts with, one function for every
 *        module: the header (hvc_obj_check_header()), the feature flags,
 *        the writer.
 *
 * After the header, loads the feature-flag word once: a bit outside
 * `d->known_flags` means a newer peer made the object, which this build
 * cannot use; then checks the object's writer field against the directory
 * entry's. Counts what it finds: a protocol error with
 * hvc_region_proto_error(), an unsupported object with
 * hvc_region_unsupported(). The module then checks its own fields.
 * hvc_obj_check_header() is this check without the flags and the writer.
 *
 * @param r the region (attached) the object is in, for the counters; NULL
 *          counts nothing (the caller counts, as for hvc_obj_check_header()).
 * @param obj an object from hvc_obj_open() or hvc_obj_get().
 * @param d the type's descriptor (`&hvc__objdesc_ring` in the library,
 *          hvc_obj_type_desc() elsewhere; an application may fill one for
 *          its own type).
 * @param flags if not NULL, the feature flags read, on success.
 * @retval 0 the common part is right.
 * @retval -HVC_EINVAL `d`, `obj` or its pointer is NULL, or `d` describes
 *         no header (`magic` 0: raw objects).
 * @retval -HVC_ETYPE the object has another type.
 * @retval -HVC_ENOTREADY the creator has not finished.
 * @retval -HVC_EPROTO too small, misaligned, a wrong magic, or a writer
 *         that is not the directory entry's (counted).
 * @retval -HVC_EVERSION another layout version.
 * @retval -HVC_ENOTSUP a feature flag this build does not know (counted
 *         as unsupported, not as a protocol error).
 *
 * Context: any thread; it only reads the object.
 */
HVC_API int hvc_obj_validate(struct hvc_region *r, const struct hvc_obj *obj,
                             const struct hvc_obj_desc *d, uint32_t *flags);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_REGION_H */
