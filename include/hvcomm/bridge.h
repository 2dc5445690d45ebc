/**
 * @file bridge.h
 * @brief A learning Ethernet switch joining vnet links (and external ports
 *        such as a TAP device), with per-port rate limits and rules.
 *
 * A bridge owns up to #HVC_BRIDGE_PORTS_MAX ports. A port is one end of a
 * vnet link (hvc_bridge_add_link(), driven with vnet_port.h, no lwIP), or
 * an external port (hvc_bridge_add_ext()): the application hands the
 * bridge the frames it reads (hvc_bridge_input()) and the bridge calls the
 * port's transmit function for frames going out of it. The TAP edge of
 * `hvcomm-bridge --tap` is such a port.
 *
 * Forwarding: the source MAC of every accepted frame is learned into a
 * fixed-size, caller-owned MAC table (entries age out); a frame to a
 * learned unicast MAC goes out of that port only, a broadcast, multicast
 * or unknown unicast frame is flooded to every other port that is up; a
 * frame never goes back out of the port it came from.
 *
 * Policy, applied to each received frame in this order: a frame too short
 * for the headers it announces (Ethernet; one 802.1Q or 802.1ad tag; the
 * IPv4 header, or the IPv6 header and its extension headers; the first
 * four bytes of TCP or UDP in a first fragment) is dropped as malformed;
 * the ingress port's token bucket
 * (bytes per second, burst in bytes) drops frames over the rate; the rules
 * are tried in order and the first that matches decides (allow or deny),
 * else the default action. Headers are parsed from the bridge's private
 * copy of the frame: a link's other end cannot change a frame after it was
 * checked.
 *
 * What rules see: a frame with one VLAN tag (802.1Q 0x8100 or 802.1ad
 * 0x88a8) is matched on the frame inside the tag. IPv4 and IPv6 are both
 * parsed: IPv4 address fields (#HVC_BRIDGE_M_SRC_IP, #HVC_BRIDGE_M_DST_IP)
 * match IPv4 frames only, IPv6 address fields (#HVC_BRIDGE_M_SRC_IP6,
 * #HVC_BRIDGE_M_DST_IP6) IPv6 frames only, `proto` and `dport` alone match
 * both (for IPv6, `proto` is the header after the extension headers:
 * hop-by-hop, routing, fragment, destination options, AH). A frame whose
 * IP headers the bridge cannot read (two or more VLAN tags, more than 8
 * IPv6 extension headers) fails closed: it matches every deny rule that
 * has an IP, protocol or port field (if its MAC fields match) and no allow
 * rule that has one. Ports are only in a first fragment: later fragments
 * of a datagram match no `dport` rule (the receiver cannot reassemble them
 * without the first). Frames that are not IP (ARP, others) match only
 * rules without IP, protocol or port fields.
 *
 * Counters per port and per rule live in a directory object
 * (#HVC_OBJ_BRIDGE, `struct hvc_wire_bridge`) so `hvcomm info` shows them;
 * hvc_bridge_stats() reads them from any peer.
 *
 * The bridge never allocates, prints or exits; its state is the caller's
 * `struct hvc_bridge` (large: it holds a frame buffer; allocate it
 * statically or on the heap). One thread drives a bridge.
 */
#ifndef HVCOMM_BRIDGE_H
#define HVCOMM_BRIDGE_H

#include <stdint.h>

#include <hvcomm/error.h>
#include <hvcomm/region.h>
#include <hvcomm/vnet_port.h>
#include <hvcomm/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup bridge bridge: a learning switch over vnet links
 * @brief Ports, MAC learning, rate limits, allow/deny rules, counters.
 * @{
 */

/** Rule actions and the default action. */
enum hvc_bridge_action {
    HVC_BRIDGE_ALLOW = 0, /**< forward */
    HVC_BRIDGE_DENY = 1,  /**< drop and count */
};

/** What a rule matches (hvc_bridge_rule::match); all set fields must match. */
enum hvc_bridge_match {
    HVC_BRIDGE_M_SRC_MAC = 1u << 0, /**< source MAC */
    HVC_BRIDGE_M_DST_MAC = 1u << 1, /**< destination MAC */
    HVC_BRIDGE_M_SRC_IP = 1u << 2,  /**< IPv4 source within src_ip/src_prefix */
    HVC_BRIDGE_M_DST_IP = 1u << 3,  /**< IPv4 destination within dst_ip/dst_prefix */
    HVC_BRIDGE_M_PROTO = 1u << 4,   /**< IPv4 protocol or IPv6 last next header */
    HVC_BRIDGE_M_DPORT = 1u << 5,   /**< TCP or UDP destination port (IPv4 or IPv6) */
    HVC_BRIDGE_M_SRC_IP6 = 1u << 6, /**< IPv6 source within src_ip6/src_prefix */
    HVC_BRIDGE_M_DST_IP6 = 1u << 7, /**< IPv6 destination within dst_ip6/dst_prefix */
};

/** A rule; the shared `struct hvc_wire_bridge_rule` has the same fields
 *  up to `pad2`, without the IPv6 addresses (tools see an IPv6 rule's match
 *  bits, prefixes, action and hits). An IPv4 and an IPv6 field for the same
 *  address (source or destination) cannot be combined. */
struct hvc_bridge_rule {
    uint32_t match;     /**< #hvc_bridge_match bits */
    uint32_t action;    /**< #hvc_bridge_action */
    uint8_t src_mac[6]; /**< source MAC */
    uint8_t dst_mac[6]; /**< destination MAC */
    uint32_t src_ip;    /**< IPv4 source, host byte order */
    uint32_t dst_ip;    /**< IPv4 destination, host byte order */
    uint8_t src_prefix; /**< source prefix length, 0..32 (IPv6: 0..128) */
    uint8_t dst_prefix; /**< destination prefix length, 0..32 (IPv6: 0..128) */
    uint8_t proto;      /**< IP protocol (1 ICMP, 6 TCP, 17 UDP) */
    uint8_t pad;        /**< 0 */
    uint16_t dport;     /**< TCP/UDP destination port */
    uint16_t pad2;      /**< 0 */
    uint8_t src_ip6[16]; /**< IPv6 source, network byte order */
    uint8_t dst_ip6[16]; /**< IPv6 destination, network byte order */
};

/** One MAC table entry (caller-owned array, see hvc_bridge_config). */
struct hvc_bridge_fdb {
    uint8_t mac[6];   /**< learned MAC */
    uint16_t port;    /**< port index + 1; 0 for an empty entry */
    uint32_t pad;     /**< unused */
    uint64_t seen_ns; /**< platform time of the last frame from the MAC */
};

/** Transmit function of an external port: send one whole frame. Returns 0,
 *  -HVC_EAGAIN when the device is full (counted in drop_full), or another
 *  negative code (counted in drop_down). */
typedef int (*hvc_bridge_tx_fn)(void *ctx, const void *frame, uint32_t len);

/** Options of hvc_bridge_init(). */
struct hvc_bridge_config {
    struct hvc_bridge_fdb *fdb; /**< the MAC table, caller-owned */
    uint32_t fdb_size;          /**< its entries, 1..65536 */
    uint32_t default_action;    /**< #hvc_bridge_action */
    uint64_t aging_ns;          /**< entry lifetime; 0 for 300 s */
};

/** One port of a bridge (private to the library). */
struct hvc_bridge_port {
    struct hvc_vnet_port vp;        /**< the link end (kind 1) */
    hvc_bridge_tx_fn tx;            /**< transmit (kind 2) */
    void *tx_ctx;                   /**< its context */
    uint32_t kind;                  /**< 1 link, 2 external */
    uint32_t up;                    /**< last link state */
    uint64_t rate;                  /**< token bucket rate, bytes/s (0: none) */
    uint64_t burst;                 /**< bucket depth, bytes */
    uint64_t tokens;                /**< bytes the port may still send */
    uint64_t last_ns;               /**< last refill */
    struct hvc_wire_bridge_port c;  /**< private counters, mirrored */
};

/** A bridge. Caller-owned; fields private to the library. */
struct hvc_bridge {
    struct hvc_region *region;      /**< the region */
    struct hvc_wire_bridge *w;      /**< the shared counters */
    struct hvc_bridge_fdb *fdb;     /**< MAC table */
    uint32_t fdb_size;              /**< its entries */
    uint32_t nports;                /**< ports in use */
    uint32_t nrules;                /**< rules in use */
    uint32_t default_action;        /**< #hvc_bridge_action */
    uint64_t aging_ns;              /**< MAC entry lifetime */
    uint64_t unknown_port;          /**< frames with nowhere to go */
    uint64_t last_scan;             /**< platform ns of the last peer scan */
    uint32_t busy;                  /**< port hvc_bridge_wait() puts first (wins a tie) */
    uint32_t next_wait;             /**< sliced fallback, idle: port hvc_bridge_wait() sleeps on next */
    uint64_t last_rx;               /**< platform ns of the last poll that took frames */
    uint32_t dirty;                 /**< counters changed since the last mirror */
    char name[HVC_NAME_MAX + 1];    /**< the bridge object's name */
    struct hvc_bridge_rule rule[HVC_BRIDGE_RULES_MAX]; /**< rules */
    uint64_t hits[HVC_BRIDGE_RULES_MAX];                /**< rule hits */
    struct hvc_bridge_port port[HVC_BRIDGE_PORTS_MAX];  /**< ports */
    _Alignas(16) uint8_t frame[HVC_VNET_FRAME_MAX];     /**< private frame copy */
};

/**
 * @brief Set up a bridge and create its directory object.
 * @param b caller-owned bridge state.
 * @param r the region (joined).
 * @param name the bridge object's name.
 * @param cfg MAC table and default action.
 * @retval 0 ready; add ports and rules.
 * @retval -HVC_EINVAL bad arguments, not joined, no MAC table, bad action.
 * @retval -HVC_ENAMETOOLONG name too long.
 * @retval -HVC_EEXIST an object of that name exists.
 * @retval -HVC_ENOSPC no room in the region.
 * @retval -HVC_ETIMEDOUT the directory lock stayed held.
 *
 * Context: thread.
 */
HVC_API int hvc_bridge_init(struct hvc_bridge *b, struct hvc_region *r, const char *name,
                            const struct hvc_bridge_config *cfg);

/**
 * @brief Close every link port and delete the bridge object.
 * @param b an initialised bridge.
 * @retval 0 done.
 * @retval -HVC_EINVAL not initialised.
 */
HVC_API int hvc_bridge_close(struct hvc_bridge *b);

/**
 * @brief Add a port on one end of a vnet link.
 * @param b the bridge.
 * @param link the link name.
 * @return the port index (0..#HVC_BRIDGE_PORTS_MAX - 1).
 * @retval -HVC_ENOSPC the bridge has #HVC_BRIDGE_PORTS_MAX ports.
 * @retval -HVC_EINVAL bad arguments.
 * @retval other codes of hvc_vnet_port_open().
 */
HVC_API int hvc_bridge_add_link(struct hvc_bridge *b, const char *link);

/**
 * @brief Add an external port (a TAP device, a NIC): frames come in
 *        through hvc_bridge_input() and go out through `tx`.
 * @param b the bridge.
 * @param name a name for the counters (truncated to 31 bytes).
 * @param tx transmit function.
 * @param ctx its context.
 * @return the port index.
 * @retval -HVC_ENOSPC no port left.
 * @retval -HVC_EINVAL bad arguments.
 */
HVC_API int hvc_bridge_add_ext(struct hvc_bridge *b, const char *name, hvc_bridge_tx_fn tx,
                               void *ctx);

/**
 * @brief Find a port by its link or external name.
 * @param b the bridge.
 * @param name the name.
 * @return the port index.
 * @retval -HVC_ENOENT no such port.
 * @retval -HVC_EINVAL bad arguments.
 */
HVC_API int hvc_bridge_port_find(const struct hvc_bridge *b, const char *name);

/**
 * @brief Limit what a port may send into the bridge (ingress policing).
 * @param b the bridge.
 * @param port the port index.
 * @param bytes_per_s the rate; 0 removes the limit.
 * @param burst bucket depth in bytes; 0 for max(one 64 KiB frame, rate/10).
 * @retval 0 set.
 * @retval -HVC_EINVAL bad port.
 */
HVC_API int hvc_bridge_set_rate(struct hvc_bridge *b, unsigned port, uint64_t bytes_per_s,
                                uint64_t burst);

/**
 * @brief Append a rule (rules are tried in the order added).
 * @param b the bridge.
 * @param rule the rule.
 * @return the rule index.
 * @retval -HVC_ENOSPC #HVC_BRIDGE_RULES_MAX rules already.
 * @retval -HVC_EINVAL bad arguments (unknown match bits or action, prefix
 *         above 32 for IPv4 or 128 for IPv6, IPv4 and IPv6 fields for the
 *         same address).
 */
HVC_API int hvc_bridge_add_rule(struct hvc_bridge *b, const struct hvc_bridge_rule *rule);

/**
 * @brief Parse a rule: `allow|deny[,KEY=VALUE]...` with keys `src_mac`,
 *        `dst_mac` (aa:bb:cc:dd:ee:ff), `src`, `dst` (IPv4[/prefix] or
 *        IPv6[/prefix], IPv6 in hex groups with at most one `::`, no
 *        dotted IPv4 tail), `proto` (icmp, icmp6, tcp, udp or a number)
 *        and `dport` (1..65535).
 *        Examples: `deny,proto=tcp,dst=10.0.0.3/32,dport=7`,
 *        `deny,src=fd00::/64,proto=udp,dport=53`.
 * @param text the rule text.
 * @param out the rule.
 * @retval 0 parsed.
 * @retval -HVC_EINVAL a syntax error.
 */
HVC_API int hvc_bridge_rule_parse(const char *text, struct hvc_bridge_rule *out);

/**
 * @brief Move frames: check every link port's state, take up to `budget`
 *        frames from each link port and forward them; publish the counters.
 *
 * Each frame's first 256 bytes are copied into the bridge's private
 * buffer and parsed there (the whole frame when its headers reach
 * further); the frame goes out as those private bytes followed by the
 * rest copied straight from the ingress ring into the egress ring, one
 * copy of the payload. What the rules, the MAC table and the policers
 * looked at is what leaves; the sender can change only payload bytes the
 * bridge does not read. External ports get a whole private copy. What a
 * port's batch forwarded is published before the next port's batch.
 * @param b the bridge.
 * @param budget frames per port per call.
 * @return frames taken (forwarded or dropped).
 * @retval -HVC_EINVAL bad arguments.
 */
HVC_API int hvc_bridge_poll(struct hvc_bridge *b, unsigned budget);

/**
 * @brief Forward one frame received on an external port (the bridge reads
 *        it from `frame`, which stays the caller's).
 * @param b the bridge.
 * @param port the external port's index.
 * @param frame the frame.
 * @param len its length.
 * @retval 0 forwarded (or flooded).
 * @retval 1 dropped (malformed, rate, rule, nowhere to go: counted).
 * @retval -HVC_EINVAL bad arguments or not an external port.
 */
HVC_API int hvc_bridge_input(struct hvc_bridge *b, unsigned port, const void *frame,
                             uint32_t len);

/**
 * @brief Sleep a little while no link port has a frame, at most
 *        `timeout_ns`.
 *
 * One sleep on the receive ring of every up link port
 * (hvc_vnet_port_wait_any(), hvc_ring_wait_any()): a frame on any of them
 * ends it at once, and an idle bridge makes no wake-ups before its
 * timeout (or the ports' next link check). The port that delivered the
 * most frames in the last poll that delivered any comes first and wins a
 * tie. External ports are not part of the sleep: the caller polls them
 * (hvcomm-bridge reads its TAP after each wait of at most 200 us). When
 * the ports cannot be slept on together (a library built with
 * HVC_CONFIG_NO_BLOCKING, no room for this peer's bells object, a corrupt
 * event), it falls back to sleeping on one port at a time: while traffic
 * is recent (a poll took frames in the last 10 ms) in slices of at most
 * 50 us over every up port, returning as soon as any has a frame;
 * otherwise the whole timeout on one port, the next one at each call.
 * @param b the bridge.
 * @param timeout_ns relative timeout.
 * @retval 0 woken or timed out.
 * @retval -HVC_EINVAL bad arguments.
 */
HVC_API int hvc_bridge_wait(struct hvc_bridge *b, int64_t timeout_ns);

/** A bridge as read from its object by hvc_bridge_stats(). */
struct hvc_bridge_info {
    uint32_t nports;         /**< ports */
    uint32_t nrules;         /**< rules */
    uint32_t default_action; /**< #hvc_bridge_action */
    uint32_t fdb_size;       /**< MAC table entries */
    uint32_t fdb_used;       /**< learned entries */
    uint32_t pad;            /**< 0 */
    uint64_t unknown_port;   /**< frames with nowhere to go */
    struct hvc_wire_bridge_port port[HVC_BRIDGE_PORTS_MAX]; /**< ports (names NUL-terminated) */
    struct hvc_wire_bridge_rule rule[HVC_BRIDGE_RULES_MAX]; /**< rules and hits */
};

/**
 * @brief Read a bridge's counters from its object (for `hvcomm info`).
 *        Reads only; safe on a corrupt object.
 * @param r the region (attached).
 * @param obj the bridge's directory entry.
 * @param out filled in.
 * @retval 0 filled in.
 * @retval -HVC_EINVAL bad arguments.
 * @retval -HVC_ETYPE not a bridge.
 * @retval -HVC_ENOTREADY still being created.
 * @retval -HVC_EVERSION unknown layout version.
 * @retval -HVC_EPROTO inconsistent header (counted).
 * @retval -HVC_ENOTSUP a feature flag this build does not know.
 *
 * Context: thread.
 */
HVC_API int hvc_bridge_stats(struct hvc_region *r, const struct hvc_obj *obj,
                             struct hvc_bridge_info *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_BRIDGE_H */
