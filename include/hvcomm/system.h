/**
 * @file system.h
 * @brief A whole system (region, peers, objects and who may use them) as
 *        one constant table, applied to a region in one call.
 *
 * A `struct hvc_system` describes a region and everything in it. It comes
 * from a YAML file (doc/config.md): loaded at run time on a hosted system
 * (hvc_system_load(), config.h, library `hvcomm_config`), or compiled in as
 * the constant table that `hvcomm gen` writes, for a bare-metal or RTOS
 * image. hvc_system_apply() is part of the freestanding core: it needs no
 * malloc and no parser.
 *
 * The system's *creator* peer creates every object, in table order, and
 * last a small directory object named #HVC_SYSTEM_OBJ that records the
 * system's name and the hash of the file it came from: its presence tells
 * every other peer that the system is complete. Every other peer checks
 * that the region holds exactly the declared objects.
 *
 * Roles: each object lists the peers (by id, as bit masks) that write it,
 * that read it, and that may only read it. The hvc_system_open_*()
 * functions open an object in the role this peer has, and give
 * `-HVC_EPERM` to a peer that has no role on it.
 *
 * Thread safety: apply as hvc_peer_join() (not concurrently with other
 * calls on the region); the lookups may be called from any thread; the
 * open functions as the module's own open. Not from interrupt handlers.
 */
#ifndef HVCOMM_SYSTEM_H
#define HVCOMM_SYSTEM_H

#include <stdint.h>

#include <hvcomm/error.h>
#include <hvcomm/event.h>
#include <hvcomm/export.h>
#include <hvcomm/port.h>
#include <hvcomm/region.h>
#include <hvcomm/ring.h>
#include <hvcomm/shm.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup system System descriptions
 * @brief One table for a region, its peers and every object.
 * @{
 */

/** Layout version of `struct hvc_system` (hvc_system::version). */
#define HVC_SYSTEM_VERSION 1u
/** Name of the directory object that records the system a region holds. */
#define HVC_SYSTEM_OBJ ".hvc.system"
/** Longest system name kept in #HVC_SYSTEM_OBJ. */
#define HVC_SYSTEM_NAME_MAX 47u
/** Longest source file name kept in #HVC_SYSTEM_OBJ (longer ones keep their end). */
#define HVC_SYSTEM_SOURCE_MAX 63u
/** Magic of the #HVC_SYSTEM_OBJ object ("HVSY"). */
#define HVC_SYSTEM_MAGIC 0x59535648u

/** Roles a peer may have on an object (hvc_system_role()). */
enum hvc_system_role {
    HVC_SYSTEM_NONE = 0,     /**< no role: opening gives -HVC_EPERM */
    HVC_SYSTEM_WRITE = 1,    /**< writes (ring/port writer, signaler, segment writer) */
    HVC_SYSTEM_READ = 2,     /**< reads (ring/port reader, event waiter) */
    HVC_SYSTEM_READONLY = 3, /**< may only read (a read-only segment view) */
};

/** Flags of hvc_system_object::flags. */
enum hvc_system_object_flags {
    HVC_SYSTEM_F_BLOCKING = 1u << 0, /**< ring: #HVC_RING_BLOCKING */
    HVC_SYSTEM_F_CHECKSUM = 1u << 1, /**< vnet: #HVC_VNET_CHECKSUM (vnet_port.h) */
};

/** Where the region lives on each platform (NULL / 0 when not declared). */
struct hvc_system_region {
    uint64_t size;          /**< region bytes */
    uint32_t max_peers;     /**< peer table entries */
    uint32_t max_objects;   /**< directory entries */
    const char *posix;      /**< POSIX: a file path, `/NAME` or `shm:NAME` */
    const char *ivshmem;    /**< ivshmem: the server's UNIX socket path */
    uint64_t baremetal_base; /**< bare metal: physical base address */
    uint64_t x86hv_base;    /**< x86 hypervisor: guest-physical base address */
};

/** A peer (partition, guest). */
struct hvc_system_peer {
    const char *name; /**< unique name */
    uint32_t id;      /**< fixed peer id, below hvc_system_region::max_peers */
};

/** One end of a vnet link. */
struct hvc_system_vnet_end {
    uint32_t peer;       /**< peer id */
    uint8_t mac[6];      /**< MAC address; all zero: derived by the port */
    uint8_t prefix;      /**< IPv4 prefix length; 0 when no address */
    uint8_t has_mac;     /**< 1 when `mac` was declared */
    uint32_t ipv4;       /**< IPv4 address, host byte order; 0 when none */
};

/** A bridge port's rate limit. */
struct hvc_system_bridge_port {
    const char *link;   /**< a vnet link of the system */
    uint64_t rate;      /**< bytes per second, 0 for no limit */
    uint64_t burst;     /**< bucket depth in bytes, 0 for the default */
};

/**
 * @brief One object. Which fields mean something depends on `type`;
 *        the others are 0.
 */
struct hvc_system_object {
    const char *name;   /**< directory name */
    uint32_t type;      /**< #hvc_obj_type: EVENT, SEGMENT, RING, SAMPLING,
                             QUEUE, VNET or BRIDGE */
    uint32_t flags;     /**< #hvc_system_object_flags */
    uint64_t size;      /**< segment: data bytes; ring, vnet: ring capacity */
    uint32_t max_msg;   /**< ring, sampling, queue: largest message */
    uint32_t count;     /**< queue: depth; counting event: max count */
    uint32_t kind;      /**< event: #hvc_event_kind; queue: overflow policy */
    uint32_t mtu;       /**< vnet: IP MTU */
    uint64_t period_ns; /**< sampling: refresh period */
    uint64_t writers;   /**< peer ids (bits) with #HVC_SYSTEM_WRITE */
    uint64_t readers;   /**< peer ids (bits) with #HVC_SYSTEM_READ */
    uint64_t readonly;  /**< peer ids (bits) with #HVC_SYSTEM_READONLY */
    struct hvc_system_vnet_end end[2];            /**< vnet: the two ends */
    const struct hvc_system_bridge_port *ports;   /**< bridge: its ports */
    uint32_t nports;                              /**< bridge: port count */
    uint32_t nrules;                              /**< bridge: rule count */
    const char *const *rules;                     /**< bridge: rules, the
                                                       hvc_bridge_rule_parse() text */
};

/**
 * Creates an object the core cannot create itself (vnet links live in the
 * vnet library): hvc_system_vnet_create() there.
 */
typedef int (*hvc_system_create_fn)(struct hvc_region *r,
                                    const struct hvc_system_object *obj);

/** A whole system. Constant: nothing in it changes at run time. */
struct hvc_system {
    uint32_t version;                       /**< #HVC_SYSTEM_VERSION */
    uint32_t creator;                       /**< index in `peers` of the peer that creates the objects */
    const char *name;                       /**< system name */
    uint64_t hash;                          /**< FNV-1a 64 of the source file */
    const char *source;                     /**< the source file's name (may be NULL) */
    struct hvc_system_region region;        /**< the region */
    const struct hvc_system_peer *peers;    /**< the peers */
    uint32_t npeers;                        /**< peer count */
    uint32_t nobjects;                      /**< object count */
    const struct hvc_system_object *objects; /**< the objects, in creation order */
    hvc_system_create_fn create_vnet;       /**< needed when a vnet link is declared */
};

/** The content of the #HVC_SYSTEM_OBJ object (wire layout). */
struct hvc_wire_system {
    uint32_t magic;                       /**< #HVC_SYSTEM_MAGIC, written last */
    uint32_t version;                     /**< #HVC_SYSTEM_VERSION */
    uint64_t hash;                        /**< hvc_system::hash */
    uint32_t nobjects;                    /**< objects the system declares */
    uint32_t creator;                     /**< creator peer id */
    char name[HVC_SYSTEM_NAME_MAX + 1];   /**< system name, NUL-terminated */
    char source[HVC_SYSTEM_SOURCE_MAX + 1]; /**< source file name, NUL-terminated */
};
_Static_assert(sizeof(struct hvc_wire_system) == 136, "hvc_wire_system size");

/** What hvc_system_info() read from a region. */
struct hvc_system_info {
    uint64_t hash;                      /**< hash of the source file */
    uint32_t nobjects;                  /**< objects declared */
    uint32_t creator;                   /**< creator peer id */
    char name[HVC_SYSTEM_NAME_MAX + 1]; /**< system name */
    char source[HVC_SYSTEM_SOURCE_MAX + 1]; /**< source file name (its last 63 characters) */
};

/**
 * @brief Apply a system to a mapped region as peer `peer`.
 *
 * Joins the region at the peer's declared id (unless already joined there).
 * Then, when the region holds the system (#HVC_SYSTEM_OBJ is present),
 * checks that every declared object is there with its type, size and
 * writer, and that the recorded hash is the system's. When it holds no
 * object at all and `peer` is the system's creator, creates every object
 * in table order, then #HVC_SYSTEM_OBJ.
 *
 * Format the region first (hvc_region_format() with
 * hvc_system_region_config()) on the creator, or attach (hvc_region_attach())
 * on the others.
 *
 * @param r a mapped, writable region (attached or formatted).
 * @param sys the system.
 * @param peer the name of this peer in the system.
 * @retval 0 the region holds the system; this peer is joined at its id.
 * @retval -HVC_EINVAL bad arguments, a table that fails
 *         hvc_system_validate(), or a region whose size or table sizes are
 *         not the declared ones.
 * @retval -HVC_ENOENT `peer` is not a peer of the system.
 * @retval -HVC_EBUSY the peer's slot is held by a live peer, or this
 *         region is joined at another id.
 * @retval -HVC_ENOTREADY the creator has not finished (try again later).
 * @retval -HVC_EEXIST the region holds other objects, or another system
 *         (another hash, or an object that differs from the table).
 * @retval -HVC_ENOTSUP a vnet link is declared and `create_vnet` is NULL
 *         (nothing is made, this peer is not joined).
 * @retval -HVC_ENOSPC / -HVC_ETIMEDOUT / -HVC_EPROTO creating an object
 *         failed (see hvc_obj_create()).
 */
HVC_API int hvc_system_apply(struct hvc_region *r, const struct hvc_system *sys,
                             const char *peer);

/**
 * @brief Join the region at the declared id of peer `peer` (the first step
 *        of hvc_system_apply()).
 *
 * A slot held by a dead incarnation of the peer is taken over. On a
 * platform that assigns peer ids (ivshmem), the assigned id must be the
 * declared one.
 *
 * @param r a mapped, writable region.
 * @param sys the system.
 * @param peer the peer's name.
 * @retval 0 joined (or already joined at that id).
 * @retval -HVC_EINVAL bad arguments, or an id outside the peer table.
 * @retval -HVC_ENOENT no such peer in the system.
 * @retval -HVC_EBUSY the slot is held by a live peer, this region is
 *         joined at another id, or the platform assigned another id.
 */
HVC_API int hvc_system_join(struct hvc_region *r, const struct hvc_system *sys,
                            const char *peer);

/**
 * @brief Create one object of the table (what hvc_system_apply() does for
 *        each, in order; tools use it to plan a layout step by step).
 * @param r the region (joined).
 * @param sys the system.
 * @param index the object's index in hvc_system::objects.
 * @retval 0 created (a bridge: nothing to create, its process makes it).
 * @retval -HVC_EINVAL bad arguments or index.
 * @retval -HVC_ENOTSUP a vnet link and hvc_system::create_vnet is NULL.
 * @retval others as the module's create call (-HVC_ENOSPC: no room).
 */
HVC_API int hvc_system_create(struct hvc_region *r, const struct hvc_system *sys,
                              uint32_t index);

/**
 * @brief Write the #HVC_SYSTEM_OBJ record (the last step of apply).
 * @param r the region (joined).
 * @param sys the system.
 * @retval 0 written.
 * @retval -HVC_EINVAL bad arguments.
 * @retval others as hvc_obj_create().
 */
HVC_API int hvc_system_mark(struct hvc_region *r, const struct hvc_system *sys);

/**
 * @brief Check a table's internal consistency (what a loader or `gen`
 *        already guarantees, checked again for hand-written tables).
 * @param sys the system.
 * @retval 0 consistent.
 * @retval -HVC_EINVAL wrong version, a peer id out of range or repeated,
 *         a name too long or repeated, an unknown type, a role for an
 *         undeclared peer, or an object without a writer where one is needed.
 */
HVC_API int hvc_system_validate(const struct hvc_system *sys);

/**
 * @brief The region parameters for hvc_region_format().
 * @param sys the system.
 * @param cfg filled in (flags 0).
 */
HVC_API void hvc_system_region_config(const struct hvc_system *sys,
                                      struct hvc_region_config *cfg);

/**
 * @brief Find a peer by name.
 * @return its index in hvc_system::peers.
 * @retval -HVC_ENOENT no such peer (or a NULL argument).
 */
HVC_API int hvc_system_peer_find(const struct hvc_system *sys, const char *name);

/**
 * @brief Find an object by name.
 * @return its index in hvc_system::objects.
 * @retval -HVC_ENOENT no such object (or a NULL argument).
 */
HVC_API int hvc_system_object_find(const struct hvc_system *sys, const char *name);

/**
 * @brief The role peer id `peer_id` has on object `obj`.
 * @return an #hvc_system_role (#HVC_SYSTEM_NONE when out of range).
 */
HVC_API int hvc_system_role(const struct hvc_system_object *obj, uint32_t peer_id);

/**
 * @brief Read the #HVC_SYSTEM_OBJ record of a region (for `hvcomm info`).
 * @param r an attached region.
 * @param out filled in.
 * @retval 0 found and checked.
 * @retval -HVC_EINVAL bad arguments.
 * @retval -HVC_ENOENT the region was not made from a system.
 * @retval -HVC_ENOTREADY the record is being written.
 * @retval -HVC_EPROTO the record is corrupt.
 */
HVC_API int hvc_system_info(struct hvc_region *r, struct hvc_system_info *out);

/**
 * @brief Open a ring in this peer's role: producer for its writer,
 *        consumer for a reader.
 * @param r the region, joined by hvc_system_apply().
 * @param sys the system.
 * @param name the ring.
 * @param ring caller-owned handle.
 * @retval 0 opened.
 * @retval -HVC_ENOENT the system declares no such object.
 * @retval -HVC_ETYPE it is not a ring.
 * @retval -HVC_EPERM this peer has no role on it.
 * @retval -HVC_EINVAL not joined.
 * @retval others as hvc_ring_open().
 */
HVC_API int hvc_system_open_ring(struct hvc_region *r, const struct hvc_system *sys,
                                 const char *name, struct hvc_ring *ring);

/**
 * @brief Open an event: for a declared signaler or waiter.
 * @retval 0 opened.
 * @retval -HVC_ENOENT / -HVC_ETYPE / -HVC_EPERM / -HVC_EINVAL as
 *         hvc_system_open_ring().
 * @retval others as hvc_event_open().
 */
HVC_API int hvc_system_open_event(struct hvc_region *r, const struct hvc_system *sys,
                                  const char *name, struct hvc_event *ev);

/**
 * @brief Open a segment: read-write for a writer, read-only
 *        (#HVC_SEG_O_RDONLY) for a read-only opener.
 * @retval 0 opened.
 * @retval -HVC_ENOENT / -HVC_ETYPE / -HVC_EPERM / -HVC_EINVAL as
 *         hvc_system_open_ring().
 * @retval others as hvc_seg_open().
 */
HVC_API int hvc_system_open_segment(struct hvc_region *r, const struct hvc_system *sys,
                                    const char *name, struct hvc_seg *seg);

/**
 * @brief Open a sampling port: writer or reader, as declared.
 * @retval 0 opened.
 * @retval -HVC_ENOENT / -HVC_ETYPE / -HVC_EPERM / -HVC_EINVAL as
 *         hvc_system_open_ring().
 * @retval others as hvc_sampling_open().
 */
HVC_API int hvc_system_open_sampling(struct hvc_region *r, const struct hvc_system *sys,
                                     const char *name, struct hvc_sampling *sp);

/**
 * @brief Open a queuing port: writer or reader, as declared.
 * @retval 0 opened.
 * @retval -HVC_ENOENT / -HVC_ETYPE / -HVC_EPERM / -HVC_EINVAL as
 *         hvc_system_open_ring().
 * @retval others as hvc_queue_open().
 */
HVC_API int hvc_system_open_queue(struct hvc_region *r, const struct hvc_system *sys,
                                  const char *name, struct hvc_queue *qp);

/**
 * @brief This peer's end of a vnet link (to open it with the vnet API and
 *        configure its MAC and address).
 * @param r the region, joined by hvc_system_apply().
 * @param sys the system.
 * @param name the link.
 * @param end filled in with this peer's end.
 * @return the end index, 0 or 1.
 * @retval -HVC_ENOENT / -HVC_ETYPE / -HVC_EPERM / -HVC_EINVAL as
 *         hvc_system_open_ring().
 */
HVC_API int hvc_system_vnet_end(struct hvc_region *r, const struct hvc_system *sys,
                                const char *name, struct hvc_system_vnet_end *end);

/**
 * @brief Create a vnet link from its table entry (in the `hvcomm_vnet_port`
 *        library; set hvc_system::create_vnet to it).
 * @param r the region (joined).
 * @param obj an object of type #HVC_OBJ_VNET.
 * @retval 0 created.
 * @retval others as hvc_vnet_link_create().
 */
HVC_API int hvc_system_vnet_create(struct hvc_region *r, const struct hvc_system_object *obj);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_SYSTEM_H */
