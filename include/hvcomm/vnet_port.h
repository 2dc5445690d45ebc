/**
 * @file vnet_port.h
 * @brief vnet links without lwIP: link objects and a frame-level port.
 *
 * A vnet link (see vnet.h) is a named directory object with two ends, each
 * end transmitting on its own ring. This header declares the link objects
 * (create, delete, info) and `struct hvc_vnet_port`, one end of a link
 * driven frame by frame: hvc_vnet_port_open() claims an end and creates
 * its transmit ring, hvc_vnet_port_poll() follows the other end (attaches
 * its ring as it comes, drops it as it goes), hvc_vnet_port_recv() and
 * hvc_vnet_port_send() move whole Ethernet frames. It is what a bridge or
 * any stack other than lwIP uses, and what vnet.h's lwIP driver runs on
 * (`struct hvc_vnet` embeds a port), so a port and an lwIP guest are two
 * ends of one link speaking one protocol.
 *
 * The other end is untrusted: hvc_vnet_port_recv() copies a frame out of
 * the ring into the caller's buffer; hvc_vnet_port_peek() and
 * hvc_vnet_port_release() hand out the frame where it lies in the ring
 * (zero-copy: the other end may still change its bytes, never its length).
 * Lengths are checked (shorter than an Ethernet header or longer than
 * MTU + 14: dropped and counted); a ring record with a bad length or tag
 * stops input until the other end re-creates its ring.
 *
 * No lwIP header is included. Thread safety: one thread per port.
 */
#ifndef HVCOMM_VNET_PORT_H
#define HVCOMM_VNET_PORT_H

#include <stdint.h>

#include <hvcomm/error.h>
#include <hvcomm/region.h>
#include <hvcomm/ring.h>
#include <hvcomm/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @addtogroup vnet
 * @{
 */

/** Smallest link MTU (IPv4's minimum datagram). */
#define HVC_VNET_MTU_MIN 576u
/** Largest link MTU. */
#define HVC_VNET_MTU_MAX 65535u
/** Bytes of the Ethernet header before the IP packet. */
#define HVC_VNET_ETH_HLEN 14u
/** The largest frame a ring carries: the largest MTU plus the header. The
 *  link's own limit (MTU + header) is checked by the driver. */
#define HVC_VNET_FRAME_MAX (HVC_VNET_MTU_MAX + HVC_VNET_ETH_HLEN)
/** The largest frame lwIP handles (its pbuf lengths are 16 bits): on a
 *  link whose MTU is above 65521, lwIP's netif MTU is 65521. */
#define HVC_VNET_LWIP_FRAME_MAX 65535u
/** Most frames of a bad length one hvc_vnet_port_recv() or
 *  hvc_vnet_port_peek() call drops before it returns -HVC_EAGAIN (so a
 *  peer flooding tiny records cannot keep one call busy). */
#define HVC_VNET_DROP_BATCH 64u
/** Longest link name: two characters are kept for the ring names. */
#define HVC_VNET_NAME_MAX (HVC_NAME_MAX - 2u)

/** Flags of hvc_vnet_link_attr::flags. */
enum hvc_vnet_link_flags {
    /** Generate and check IP, ICMP, UDP and TCP checksums on this link.
     *  Off by default: a memory-to-memory link does not corrupt frames. */
    HVC_VNET_CHECKSUM = 1u << 0,
};

/** Parameters of hvc_vnet_link_create(). */
struct hvc_vnet_link_attr {
    /** IP MTU, #HVC_VNET_MTU_MIN..#HVC_VNET_MTU_MAX; 0 for 1500. */
    uint32_t mtu;
    /** Data bytes of each direction's ring (rounded up to a power of two);
     *  0 picks 1 MiB, or 4 MiB when the MTU exceeds 9000. It must hold two
     *  records of #HVC_VNET_FRAME_MAX bytes (at least 256 KiB), and should
     *  hold the TCP windows in flight (TCP_WND) with room to spare. */
    uint32_t ring_capacity;
    /** The peer ids allowed on end 0 and end 1, #HVC_PEER_ANY (0xffff) for
     *  "the first peer that opens it". Zeroed attr means peer 0 on both
     *  ends: set both fields. */
    uint16_t peer[2];
    /** #hvc_vnet_link_flags */
    uint32_t flags;
};

/** Counters of one end, from hvc_vnet_stats() or hvc_vnet_link_info(). */
struct hvc_vnet_stats {
    uint64_t rx_frames;    /**< frames passed up to lwIP */
    uint64_t rx_bytes;     /**< bytes passed up */
    uint64_t tx_frames;    /**< frames sent */
    uint64_t tx_bytes;     /**< bytes sent */
    uint64_t rx_zerocopy;  /**< frames passed up without a copy */
    uint32_t drop_short;   /**< received frames shorter than 14 bytes */
    uint32_t drop_long;    /**< received frames longer than MTU + 14 */
    uint32_t drop_bad;     /**< rx ring protocol errors (bad length or tag) */
    uint32_t drop_full;    /**< frames not sent: tx ring full */
    uint32_t drop_nomem;   /**< received frames dropped: no pbuf */
    uint32_t drop_down;    /**< frames not sent: link down */
    uint32_t link_changes; /**< link up/down transitions */
    uint32_t zc_held;      /**< zero-copy frames lwIP holds now */
    uint32_t drop_stale;   /**< frames for the end's previous owner, dropped
                                when a new owner attached (not in the link) */
    uint32_t reserved;     /**< 0 */
};

/* ---- links ---- */

/**
 * @brief Create a link object in a region (no rings yet: each end creates
 *        its own transmit ring when it opens the link).
 *
 * @param r the region (joined).
 * @param name the link name, 1..#HVC_VNET_NAME_MAX characters.
 * @param attr MTU, ring size, the peers of each end, flags.
 * @retval 0 created.
 * @retval -HVC_EINVAL bad arguments, not joined, MTU out of range, a ring
 *         capacity too small for two maximum frames or above
 *         #HVC_RING_CAPACITY_MAX, a peer id outside the peer table, or
 *         unknown flags.
 * @retval -HVC_ENAMETOOLONG name longer than #HVC_VNET_NAME_MAX.
 * @retval -HVC_EEXIST / -HVC_ENOSPC / -HVC_ETIMEDOUT / -HVC_EPROTO as
 *         hvc_obj_create().
 *
 * Context: thread.
 */
HVC_API int hvc_vnet_link_create(struct hvc_region *r, const char *name,
                                 const struct hvc_vnet_link_attr *attr);

/**
 * @brief Delete a link and its rings. Only when no peer uses it.
 * @param r the region (joined).
 * @param name the link name.
 * @retval 0 deleted.
 * @retval -HVC_EINVAL bad arguments, or not joined.
 * @retval -HVC_ENAMETOOLONG name longer than #HVC_VNET_NAME_MAX.
 * @retval -HVC_ENOENT no such link.
 * @retval -HVC_ETYPE the name is not a link.
 * @retval -HVC_ETIMEDOUT the directory lock stayed held by a live peer.
 *
 * Context: thread.
 */
HVC_API int hvc_vnet_link_delete(struct hvc_region *r, const char *name);

/** A link as seen by any peer, from hvc_vnet_link_info(). */
struct hvc_vnet_link_info {
    uint32_t mtu;           /**< IP MTU */
    uint32_t ring_capacity; /**< bytes of each ring */
    uint32_t flags;         /**< #hvc_vnet_link_flags */
    uint32_t owner[2];      /**< owner word of each end, 0 when free */
    uint32_t live[2];       /**< 1 when that owner is a live member */
    uint32_t ring_owner[2]; /**< owner word that created each end's ring */
    uint8_t mac[2][6];      /**< MAC announced by each end */
    struct hvc_vnet_stats stats[2]; /**< counters of each end */
};

/**
 * @brief Read a link's header and both ends' counters (for `hvcomm info`);
 *        no handle needed. Reads only; safe on a corrupt object.
 * @param r the region (attached).
 * @param obj the link's directory entry (hvc_obj_open() or hvc_obj_get()).
 * @param out filled in.
 * @retval 0 filled in.
 * @retval -HVC_EINVAL bad arguments.
 * @retval -HVC_ETYPE not a vnet link.
 * @retval -HVC_ENOTREADY still being created.
 * @retval -HVC_EVERSION unknown layout version.
 * @retval -HVC_EPROTO inconsistent header (counted).
 * @retval -HVC_ENOTSUP a link flag this build does not know.
 *
 * Context: thread.
 */
HVC_API int hvc_vnet_link_info(struct hvc_region *r, const struct hvc_obj *obj,
                               struct hvc_vnet_link_info *out);

/* ---- ports: one end of a link, frame by frame, without lwIP ---- */

/** Flags of hvc_vnet_port_config::flags (same values as hvc_vnet_flags). */
enum hvc_vnet_port_flags {
    /** Use the MAC in hvc_vnet_port_config::mac instead of deriving one. */
    HVC_VNET_PORT_MAC_SET = 1u << 1,
    /** Do not call hvc_peer_scan() from hvc_vnet_port_poll(). */
    HVC_VNET_PORT_NO_SCAN = 1u << 2,
};

/** Options of hvc_vnet_port_open(); NULL or zeroed for the defaults. */
struct hvc_vnet_port_config {
    uint32_t flags;    /**< #hvc_vnet_port_flags */
    uint8_t mac[6];    /**< with #HVC_VNET_PORT_MAC_SET: the MAC announced */
    uint8_t pad[2];    /**< 0 */
    /** Milliseconds between link checks; 0 for 100. */
    uint32_t check_ms;
};

/** Flags of hvc_vnet_port_send(). */
enum hvc_vnet_send_flags {
    /** Do not publish yet: hvc_vnet_port_flush() (or a later send without
     *  the flag) publishes the batch with one index store. */
    HVC_VNET_SEND_MORE = 1u << 0,
};

/** Flags of hvc_vnet_port_release(). */
enum hvc_vnet_release_flags {
    /** Keep the frame's ring space until hvc_vnet_port_unhold(): the
     *  caller goes on reading the frame in the ring (zero-copy receive). */
    HVC_VNET_RELEASE_HOLD = 1u << 0,
    /** The caller dropped the frame (no buffer for it): counted in
     *  drop_nomem instead of rx_frames. */
    HVC_VNET_RELEASE_DROP = 1u << 1,
};

/**
 * @brief One end of a vnet link driven frame by frame. Caller-owned;
 *        fields private to the library.
 */
struct hvc_vnet_port {
    struct hvc_region *region;   /**< the region */
    struct hvc_wire_vnet *w;     /**< the link object */
    struct hvc_obj obj;          /**< the link's directory entry */
    struct hvc_ring tx;          /**< our end's ring (producer) */
    struct hvc_ring rx;          /**< the other end's ring (consumer) */
    uint32_t end;                /**< our end, 0 or 1 */
    uint32_t owner;              /**< our owner word */
    uint32_t peer_owner;         /**< owner of the other end when rx was attached */
    uint32_t peer_ring;          /**< its ring_owner when attached */
    uint32_t mtu;                /**< checked link MTU */
    uint32_t frame_max;          /**< mtu + 14 */
    uint32_t capacity;           /**< checked ring capacity */
    uint32_t lflags;             /**< checked HVC_VNET_LF_ flags */
    uint32_t flags;              /**< #hvc_vnet_port_flags */
    uint32_t state;              /**< private state bits */
    uint32_t check_ms;           /**< link check period */
    uint32_t seen_ring;          /**< other end's ring_owner last seen while detached */
    uint64_t last_check;         /**< platform ns of the last check */
    uint32_t tx_unpublished;     /**< tx ring bytes committed with HVC_VNET_SEND_MORE */
    uint32_t rx_unpublished;     /**< rx ring bytes released, not yet published */
    uint32_t rx_gen;             /**< bumped whenever rx is attached or dropped */
    uint32_t rx_held;            /**< held frames of the current rx ring */
    uint32_t rx_peeked;          /**< length of the frame peeked, 0 for none */
    uint32_t tx_reserved;        /**< length reserved for commit, 0 for none */
    uint8_t mac[6];              /**< our MAC */
    uint8_t pad[2];              /**< unused */
    struct hvc_vnet_stats st;    /**< counters (also mirrored in the link) */
};

/**
 * @brief Open one end of a link as a frame port: claim an end (as
 *        hvc_vnet_open()) and create its transmit ring.
 * @param p caller-owned port state.
 * @param r the region (joined).
 * @param name the link name.
 * @param cfg options, or NULL.
 * @retval 0 opened (the link comes up in hvc_vnet_port_poll()).
 * @retval -HVC_EINVAL bad arguments, not joined, unknown flags, multicast MAC.
 * @retval -HVC_ENAMETOOLONG name longer than #HVC_VNET_NAME_MAX.
 * @retval -HVC_ENOENT no such link.
 * @retval -HVC_ETYPE the name is not a link.
 * @retval -HVC_ENOTREADY the link is still being created.
 * @retval -HVC_EVERSION unknown link layout version.
 * @retval -HVC_EPROTO the link header is inconsistent (counted).
 * @retval -HVC_ENOTSUP a link flag this build does not know
 *         (a newer peer made it; counted as unsupported, not as a protocol error).
 * @retval -HVC_EBUSY both ends are held by live peers, this peer holds one
 *         already, or no end allows this peer's id.
 * @retval -HVC_ENOSPC no room for the ring.
 * @retval -HVC_ETIMEDOUT the directory lock stayed held.
 *
 * Context: thread.
 */
HVC_API int hvc_vnet_port_open(struct hvc_vnet_port *p, struct hvc_region *r,
                               const char *name, const struct hvc_vnet_port_config *cfg);

/**
 * @brief Give the end up (its ring stays for the next owner to re-create).
 * @param p an open port.
 * @retval 0 closed.
 * @retval -HVC_EINVAL not open.
 *
 * Context: the port's thread.
 */
HVC_API int hvc_vnet_port_close(struct hvc_vnet_port *p);

/**
 * @brief Keep the link state current: every `check_ms` (and on the first
 *        call, and as soon as the other end publishes a new ring) scan the
 *        peer table, attach, re-attach or drop the other end's ring.
 * @param p an open port.
 * @retval 1 the link is up.
 * @retval 0 the link is down.
 * @retval -HVC_EINVAL not open.
 *
 * Context: the port's thread.
 */
HVC_API int hvc_vnet_port_poll(struct hvc_vnet_port *p);

/**
 * @brief Take the next frame, copied into `buf`.
 *
 * Frames of a bad length are dropped and counted (drop_short, drop_long)
 * and the next one is tried, at most #HVC_VNET_DROP_BATCH of them per
 * call. Does not check the link: call hvc_vnet_port_poll() regularly.
 *
 * @param p an open port.
 * @param buf receives the frame.
 * @param cap bytes at buf; #HVC_VNET_FRAME_MAX always suffices.
 * @return the frame length (14..MTU + 14).
 * @retval -HVC_EAGAIN no frame waiting, the link is down, or
 *         #HVC_VNET_DROP_BATCH frames of a bad length were dropped in this
 *         call (call again).
 * @retval -HVC_EMSGSIZE the frame does not fit in cap (it stays queued).
 * @retval -HVC_EPROTO the other end's ring is corrupt (counted in
 *         drop_bad; the link goes down until it re-creates its ring).
 * @retval -HVC_EINVAL bad arguments or not open.
 *
 * Context: the port's thread.
 */
HVC_API int hvc_vnet_port_recv(struct hvc_vnet_port *p, void *buf, uint32_t cap);

/**
 * @brief Look at the next frame where it lies in the ring, without a copy.
 *
 * Frames of a bad length are dropped and counted (drop_short, drop_long)
 * and the next one is tried, at most #HVC_VNET_DROP_BATCH of them per
 * call. The frame stays queued (a second peek returns it again) until
 * hvc_vnet_port_release(). Its length is checked and private; its bytes
 * are shared memory the other end can still write, also after any check
 * the caller made: parse a private copy (hvc_vnet_port_recv() makes one),
 * never the frame in the ring, unless you trust the other end.
 * When the ring is empty, released ring space is published (unless frames
 * are held). Does not check the link: call hvc_vnet_port_poll().
 *
 * @param p an open port.
 * @param frame receives a pointer to the frame, valid until the frame is
 *        released (or, when released with #HVC_VNET_RELEASE_HOLD, until
 *        hvc_vnet_port_unhold() or hvc_vnet_port_close()).
 * @return the frame length (14..MTU + 14).
 * @retval -HVC_EAGAIN no frame waiting, the link is down, or
 *         #HVC_VNET_DROP_BATCH frames of a bad length were dropped in this
 *         call (call again).
 * @retval -HVC_EPROTO the other end's ring is corrupt (counted in
 *         drop_bad; the link goes down until it re-creates its ring).
 * @retval -HVC_EINVAL bad arguments or not open.
 *
 * Context: the port's thread.
 */
HVC_API int hvc_vnet_port_peek(struct hvc_vnet_port *p, const void **frame);

/**
 * @brief Consume the frame hvc_vnet_port_peek() returned.
 *
 * Without #HVC_VNET_RELEASE_HOLD the frame's ring space goes back to the
 * other end with the next batch (at the latest when the ring is found
 * empty or by hvc_vnet_port_flush()), and the pointer is no longer valid.
 * With it, the pointer stays valid, and no ring space at all is given back
 * while any frame of this ring is held (the ring's index covers every
 * record before it): hold few frames, briefly, and give them back with
 * hvc_vnet_port_unhold(). Counted in rx_frames and rx_bytes (and
 * rx_zerocopy when held), or in drop_nomem with #HVC_VNET_RELEASE_DROP.
 *
 * @param p an open port.
 * @param flags #hvc_vnet_release_flags.
 * @param ticket with #HVC_VNET_RELEASE_HOLD: receives the ticket to pass
 *        to hvc_vnet_port_unhold(); otherwise unused (may be NULL).
 * @retval 0 released.
 * @retval -HVC_EINVAL not open, no frame peeked since the last release,
 *         unknown flags, HOLD with DROP, or HOLD without a ticket.
 *
 * Context: the port's thread.
 */
HVC_API int hvc_vnet_port_release(struct hvc_vnet_port *p, unsigned flags,
                                  uint32_t *ticket);

/**
 * @brief Give back a frame released with #HVC_VNET_RELEASE_HOLD. When no
 *        frame of the ring is held any more, its released space is
 *        published. A ticket of a ring the port has since dropped or
 *        replaced (the other end went or re-created its ring) is accepted
 *        and changes nothing.
 * @param p an open port.
 * @param ticket from hvc_vnet_port_release().
 * @retval 0 given back.
 * @retval -HVC_EINVAL not open (frames held at hvc_vnet_port_close() must
 *         not be given back), or no frame of that ring is held.
 *
 * Context: the port's thread.
 */
HVC_API int hvc_vnet_port_unhold(struct hvc_vnet_port *p, uint32_t ticket);

/**
 * @brief Reserve room for one frame in our end's ring, to be written in
 *        place and sent with hvc_vnet_port_commit().
 *
 * Until the commit, no other send or reserve may be made on the port.
 *
 * @param p an open port.
 * @param len the frame length, 14..MTU + 14.
 * @param dst receives where to write the frame.
 * @retval 0 reserved.
 * @retval -HVC_EAGAIN the ring is full (counted in drop_full).
 * @retval -HVC_EPEERGONE the link is down (counted in drop_down).
 * @retval -HVC_EMSGSIZE len out of range.
 * @retval -HVC_EINVAL bad arguments or not open.
 *
 * Context: the port's thread.
 */
HVC_API int hvc_vnet_port_reserve(struct hvc_vnet_port *p, uint32_t len, void **dst);

/**
 * @brief Send the frame written at hvc_vnet_port_reserve()'s pointer.
 * @param p an open port.
 * @param flags #hvc_vnet_send_flags.
 * @retval 0 sent (or queued for hvc_vnet_port_flush()).
 * @retval -HVC_EINVAL not open, nothing reserved, or unknown flags.
 *
 * Context: the port's thread.
 */
HVC_API int hvc_vnet_port_commit(struct hvc_vnet_port *p, unsigned flags);

/**
 * @brief Send one frame (copied into our end's ring).
 * @param p an open port.
 * @param frame the Ethernet frame.
 * @param len its length, 14..MTU + 14.
 * @param flags #hvc_vnet_send_flags.
 * @retval 0 sent (or queued for hvc_vnet_port_flush()).
 * @retval -HVC_EAGAIN the ring is full (counted in drop_full).
 * @retval -HVC_EPEERGONE the link is down (counted in drop_down).
 * @retval -HVC_EMSGSIZE len out of range.
 * @retval -HVC_EINVAL bad arguments or not open.
 *
 * Context: the port's thread.
 */
HVC_API int hvc_vnet_port_send(struct hvc_vnet_port *p, const void *frame, uint32_t len,
                               unsigned flags);

/**
 * @brief Publish frames sent with #HVC_VNET_SEND_MORE, give the other end
 *        back the ring space of frames received (hvc_vnet_port_recv()
 *        does that itself when the ring is empty or a quarter of it waits;
 *        not while frames are held), and copy the counters into the link
 *        (what hvc_vnet_link_info() reads).
 * @param p an open port.
 * @retval 0 done.
 * @retval -HVC_EINVAL not open.
 */
HVC_API int hvc_vnet_port_flush(struct hvc_vnet_port *p);

/**
 * @brief Sleep until a frame may be waiting, at most `timeout_ns` (and at
 *        most until the next link check is due).
 * @param p an open port.
 * @param timeout_ns relative timeout; 0 checks once; #HVC_FOREVER.
 * @retval 0 a frame may be waiting, or a link check is due.
 * @retval -HVC_ETIMEDOUT nothing arrived.
 * @retval -HVC_EPROTO the ring is corrupt.
 * @retval -HVC_EINVAL not open.
 *
 * Context: the port's thread; may sleep.
 */
HVC_API int hvc_vnet_port_wait(struct hvc_vnet_port *p, int64_t timeout_ns);

/**
 * @brief Sleep until a frame may be waiting on any of several ports, at
 *        most `timeout_ns` (and at most until the first link check due).
 *
 * One sleep on the receive rings of every port whose link is live
 * (hvc_ring_wait_any()): a frame on any of them ends it at once. Ports
 * are looked at in order, an earlier one wins a tie: rotate the array to
 * serve them fairly. When no port has a live receive ring, it waits as
 * hvc_vnet_port_wait() on the first port.
 * @param ports open ports of one region, each at most once.
 * @param n how many, 1..64.
 * @param timeout_ns relative timeout; 0 checks once; #HVC_FOREVER.
 * @return the index (>= 0) of a port on which a frame may be waiting, or
 *         whose link check is due.
 * @retval -HVC_ETIMEDOUT nothing arrived.
 * @retval -HVC_EPROTO a ring's event is corrupt.
 * @retval -HVC_ENOTSUP the library was built without blocking rings
 *         (HVC_CONFIG_NO_BLOCKING).
 * @retval -HVC_ENOSPC this peer's bells object (hvc_event_wait_any())
 *         could not be created.
 * @retval -HVC_EINVAL bad arguments, a port not open, ports of different
 *         regions, or one port twice.
 *
 * Context: the ports' thread; may sleep.
 */
HVC_API int hvc_vnet_port_wait_any(struct hvc_vnet_port *const ports[], unsigned n,
                                   int64_t timeout_ns);

/**
 * @brief Copy the port's counters.
 * @param p a port.
 * @param out filled in.
 * @retval 0 filled in.
 * @retval -HVC_EINVAL bad arguments.
 */
HVC_API int hvc_vnet_port_stats(const struct hvc_vnet_port *p, struct hvc_vnet_stats *out);

/**
 * @brief Is the link up?
 * @param p a port.
 * @return 1 up, 0 down (also for a bad handle).
 */
HVC_API int hvc_vnet_port_is_up(const struct hvc_vnet_port *p);

/**
 * @brief The port's MAC (configured or derived).
 * @param p an open port.
 * @param mac receives 6 bytes.
 * @retval 0 copied.
 * @retval -HVC_EINVAL bad arguments.
 */
HVC_API int hvc_vnet_port_mac(const struct hvc_vnet_port *p, uint8_t mac[6]);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_VNET_PORT_H */
