/**
 * @file vnet.h
 * @brief vnet: an lwIP Ethernet driver over a pair of shared rings.
 *
 * A vnet link is a named directory object (#HVC_OBJ_VNET, layout
 * `struct hvc_wire_vnet` in wire.h) with two ends. The peer that opens a
 * link claims a free end (or the end of a peer that died) and creates that
 * end's transmit ring, the ring object "<link>.<end>", with itself as the
 * writer; it receives from the other end's ring. Each Ethernet frame is one
 * ring message, so a frame is as long as the link's MTU allows (576 to
 * 65535 bytes of IP packet plus a 14-byte Ethernet header).
 *
 * The driver is shaped like lwIP's own netif drivers
 * (contrib/examples/ethernetif): hvc_vnet_open() sets up the caller-owned
 * `struct hvc_vnet`, `netif_add(netif, ..., v, hvc_vnet_netif_init,
 * ethernet_input)` binds it to a netif, and the main loop calls
 * hvc_vnet_poll() (input and link state) and, to sleep while idle,
 * hvc_vnet_wait(). Output is lwIP's `linkoutput`, which copies a frame into
 * the transmit ring.
 *
 * Received frames are copied, once, out of the ring into pbufs lwIP owns
 * (pool pbufs for small frames, one heap pbuf for big ones), and the ring
 * space goes back to the other end. Nothing lwIP reads twice or writes
 * stays in memory the other guest can write: lwIP writes into received
 * frames (IPv4 and IPv6 reassembly keep list pointers inside a fragment's
 * IP header), and a frame left in the ring would let the other guest read
 * those heap addresses and forge them.
 *
 * Zero-copy receive is an opt-in for a peer the user trusts
 * (#HVC_VNET_RX_ZEROCOPY_TRUSTED): a `pbuf_custom` refers to the frame in
 * the ring, and the ring slot is given back when lwIP frees the pbuf;
 * frames are still copied when all zero-copy buffers are in use or too
 * much of the ring is held (see doc/vnet.md).
 *
 * The other end is untrusted: a frame shorter than an Ethernet header or
 * longer than the MTU is dropped and counted; a ring record with a bad
 * length or tag stops input from that ring (counted, link down) until the
 * other end re-creates its ring. Nothing the peer writes is passed up
 * unchecked, nothing it writes makes the driver read or write outside the
 * link's objects.
 *
 * Thread safety: lwIP with NO_SYS=1 is single-threaded; every function
 * here that takes a `struct hvc_vnet` must be called from the thread that
 * runs lwIP, never from an interrupt handler. hvc_vnet_link_create(),
 * hvc_vnet_link_delete() and hvc_vnet_link_info() may be called from any
 * thread.
 *
 * This header includes lwIP's headers (`lwip/err.h`, `lwip/netif.h`, and
 * through them the `lwipopts.h` and `arch/cc.h` lwIP was built with): it
 * is not part of hvcomm.h. Include it explicitly and link the
 * `hvcomm_vnet` library, which the installed package provides with the
 * lwIP it was built against (CMake `hvcomm::hvcomm_vnet`, pkg-config
 * `hvcomm-vnet`; see doc/vnet.md, "Using the installed libraries").
 */
#ifndef HVCOMM_VNET_H
#define HVCOMM_VNET_H

#include <stdint.h>

#include <hvcomm/error.h>
#include <hvcomm/region.h>
#include <hvcomm/ring.h>
#include <hvcomm/wire.h>
#include <hvcomm/vnet_port.h>

#include "lwip/err.h"
#include "lwip/netif.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup vnet vnet: Ethernet over shared rings for lwIP
 * @brief An lwIP netif driver whose link is a pair of rings in a region.
 * @{
 */

/** Most received frames lwIP may hold without a copy at once (with
 *  #HVC_VNET_RX_ZEROCOPY_TRUSTED). */
#define HVC_VNET_ZC_MAX 16u
/** Bytes of caller-owned storage per zero-copy buffer (a pbuf_custom). */
#define HVC_VNET_ZC_BYTES 64u
/** Flags of hvc_vnet_config::flags. */
enum hvc_vnet_flags {
    /** Copy received frames: the default, so this flag changes nothing
     *  (kept for programs written when zero-copy was the default). With
     *  #HVC_VNET_RX_ZEROCOPY_TRUSTED too, frames are still copied. */
    HVC_VNET_COPY_RX = 1u << 0,
    /** Use the MAC in hvc_vnet_config::mac instead of deriving one. */
    HVC_VNET_MAC_SET = 1u << 1,
    /** Do not call hvc_peer_scan() from hvc_vnet_poll(): the application
     *  scans the peer table itself. */
    HVC_VNET_NO_SCAN = 1u << 2,
    /** Zero-copy receive: hand lwIP pbufs that point into the other end's
     *  ring. Only for a peer you trust with this guest's memory: lwIP
     *  writes into received frames (IPv4/IPv6 reassembly pointers) and
     *  reads headers more than once, so the other guest can read heap
     *  addresses of this guest from its ring and make lwIP follow pointers
     *  it forged. Off by default (frames are copied). */
    HVC_VNET_RX_ZEROCOPY_TRUSTED = 1u << 3,
};

/** Options of hvc_vnet_open(); NULL or zeroed for the defaults. */
struct hvc_vnet_config {
    uint32_t flags;    /**< #hvc_vnet_flags */
    uint8_t mac[6];    /**< with #HVC_VNET_MAC_SET: the MAC (unicast) */
    /** With #HVC_VNET_RX_ZEROCOPY_TRUSTED: zero-copy buffers,
     *  1..#HVC_VNET_ZC_MAX; 0 for 8. */
    uint16_t zc_max;
    /** Milliseconds between link checks (peer table, other end's ring);
     *  0 for 100. */
    uint32_t check_ms;
};

/**
 * @brief A vnet driver instance. Caller-owned; fields private to the
 *        library. Its layout does not depend on lwIP's options (the
 *        zero-copy pbufs live in opaque storage checked at build time).
 *
 * Everything link-level (the end, the rings, link state, counters) is the
 * embedded port (vnet_port.h); the driver adds lwIP's netif and pbufs.
 */
struct hvc_vnet {
    struct hvc_vnet_port port;   /**< the link end */
    struct netif *netif;         /**< bound by hvc_vnet_netif_init() */
    uint32_t flags;              /**< #hvc_vnet_flags */
    uint32_t state;              /**< private state bits of the driver */
    uint32_t zc_max;             /**< zero-copy buffers in use */
    uint32_t zc_busy;            /**< bitmap of zero-copy buffers lwIP holds */
    /** Storage of the zero-copy pbufs (struct pbuf_custom and more). */
    _Alignas(16) uint8_t zc[HVC_VNET_ZC_MAX][HVC_VNET_ZC_BYTES];
};

/* ---- the driver ---- */

/**
 * @brief Open a link: claim an end, create its transmit ring, and set up
 *        the caller-owned driver state.
 *
 * The end claimed is the first one that is free, or held by a peer that is
 * no longer a live member (a peer that died and was found by
 * hvc_peer_scan()), and that allows this peer's id. The other end's ring
 * is attached later, by hvc_vnet_poll(), once the other peer is there.
 *
 * @param v caller-owned driver state.
 * @param r the region (joined).
 * @param name the link name.
 * @param cfg options, or NULL for the defaults.
 * @retval 0 opened; now netif_add() with hvc_vnet_netif_init().
 * @retval -HVC_EINVAL bad arguments, not joined, or a bad config (unknown
 *         flags, zc_max too large, a multicast MAC).
 * @retval -HVC_ENAMETOOLONG name longer than #HVC_VNET_NAME_MAX.
 * @retval -HVC_ENOENT no such link.
 * @retval -HVC_ETYPE the name is not a link.
 * @retval -HVC_ENOTREADY the link is still being created.
 * @retval -HVC_EVERSION unknown link layout version.
 * @retval -HVC_EPROTO the link header is inconsistent (counted).
 * @retval -HVC_ENOTSUP a link flag this build does not know
 *         (a newer peer made it; counted as unsupported, not as a protocol error).
 * @retval -HVC_EBUSY both ends are held by live peers, or this peer holds
 *         one already, or no end allows this peer's id.
 * @retval -HVC_ENOSPC / -HVC_ETIMEDOUT no room for the ring, or the
 *         directory lock stayed held (as hvc_ring_create()).
 *
 * Context: thread.
 */
HVC_API int hvc_vnet_open(struct hvc_vnet *v, struct hvc_region *r,
                          const char *name, const struct hvc_vnet_config *cfg);

/**
 * @brief Give up the end (its ring stays for the next owner to re-create).
 *
 * Frees nothing lwIP holds: call netif_remove() first. Zero-copy pbufs
 * still held after this point must not be freed any more.
 *
 * @param v an open vnet.
 * @retval 0 closed.
 * @retval -HVC_EINVAL not open.
 * @retval -HVC_EBUSY lwIP still holds zero-copy frames (the end is given up
 *         anyway).
 *
 * Context: the lwIP thread.
 */
HVC_API int hvc_vnet_close(struct hvc_vnet *v);

/**
 * @brief The netif init function: pass it to netif_add() with the opened
 *        `struct hvc_vnet` as state and ethernet_input as input.
 *
 * Sets the MAC, the MTU, the output functions, the flags (broadcast,
 * ARP, Ethernet, IGMP, MLD6) and the per-netif checksum control from the
 * link's flags; the link starts down and comes up in hvc_vnet_poll().
 *
 * @param netif the netif, whose `state` is the `struct hvc_vnet`.
 * @retval ERR_OK ready.
 * @retval ERR_ARG no state, or a state that is not an open vnet.
 *
 * Context: the lwIP thread (netif_add()).
 */
HVC_API err_t hvc_vnet_netif_init(struct netif *netif);

/**
 * @brief Pass received frames to lwIP and keep the link state current.
 *
 * Every `check_ms` milliseconds (and on the first call) the peer table is
 * scanned for dead peers (unless #HVC_VNET_NO_SCAN), the other end's ring
 * is attached, re-attached or dropped as the other end comes and goes, and
 * netif_set_link_up() / netif_set_link_down() follow. Then up to `budget`
 * frames are taken from the ring and given to `netif->input`.
 *
 * @param v an open vnet bound to a netif.
 * @param budget the most frames to pass up (0: only check the link).
 * @return the number of frames taken from the ring (passed up or dropped).
 * @retval -HVC_EINVAL not open or not bound to a netif.
 *
 * Context: the lwIP thread.
 */
HVC_API int hvc_vnet_poll(struct hvc_vnet *v, unsigned budget);

/**
 * @brief Sleep until a frame arrives, at most `timeout_ns` (and at most
 *        until the next link check is due).
 *
 * Uses the ring's blocking wait (hvc_ring_wait_readable()), so the other
 * end wakes this one only while it sleeps. Call hvc_vnet_poll() next.
 *
 * @param v an open vnet.
 * @param timeout_ns relative timeout; 0 checks once; #HVC_FOREVER.
 * @retval 0 a frame may be waiting, or the link needs a check.
 * @retval -HVC_ETIMEDOUT nothing arrived.
 * @retval -HVC_EINVAL not open.
 * @retval -HVC_EPROTO the ring is corrupt (hvc_vnet_poll() counts it).
 *
 * Context: the lwIP thread; may sleep.
 */
HVC_API int hvc_vnet_wait(struct hvc_vnet *v, int64_t timeout_ns);

/**
 * @brief Copy this end's counters.
 * @param v an open vnet.
 * @param out filled in.
 * @retval 0 filled in.
 * @retval -HVC_EINVAL bad arguments.
 *
 * Context: the lwIP thread.
 */
HVC_API int hvc_vnet_stats(const struct hvc_vnet *v, struct hvc_vnet_stats *out);

/**
 * @brief Is the link up (other end present, its ring attached and sane)?
 * @param v a vnet.
 * @return 1 up, 0 down (also for a bad handle).
 */
HVC_API int hvc_vnet_link_is_up(const struct hvc_vnet *v);

/**
 * @brief The MAC of this end (configured or derived: locally administered,
 *        unicast, from the region's session id and the peer id).
 * @param v an open vnet.
 * @param mac receives the 6 bytes.
 * @retval 0 copied.
 * @retval -HVC_EINVAL bad arguments.
 */
HVC_API int hvc_vnet_mac(const struct hvc_vnet *v, uint8_t mac[6]);

/**
 * @brief The link end under the driver, for reading only: its counters
 *        (hvc_vnet_port_stats()), link state (hvc_vnet_port_is_up()), MAC.
 *
 * Do not receive or send on it: frames go through lwIP.
 *
 * @param v a vnet.
 * @return the embedded port, NULL when v is NULL.
 */
HVC_API const struct hvc_vnet_port *hvc_vnet_port_of(const struct hvc_vnet *v);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_VNET_H */
