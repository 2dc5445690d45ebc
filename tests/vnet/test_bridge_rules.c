/* Bridge rules against IPv4, IPv6 (extension headers, fragments) and
 * VLAN-tagged frames, in one process: two external ports, frames built by
 * hand, hvc_bridge_input() says forwarded or dropped and the counters say
 * why. Also the IPv6 rule syntax, and frames from a link port (headers
 * parsed from the bridge's private copy, deep ones from a copy of the
 * whole frame, the payload copied ring to ring). */
#define _GNU_SOURCE
#include "testutil.h"
#include "vnettest.h"

#include <string.h>

#include <hvcomm/bridge.h>

static int tx_count[2];

static int tx_fn(void *ctx, const void *frame, uint32_t len)
{
    (void)frame;
    (void)len;
    tx_count[(intptr_t)ctx]++;
    return 0;
}

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Frame builder: Ethernet (broadcast, so it floods to the other port),
 * up to two VLAN tags, then an IPv4 or IPv6 header and a transport. */
struct fb {
    uint8_t f[256];
    uint32_t len;
};

static void eth(struct fb *b, int tags, uint32_t type)
{
    uint32_t o = 12;

    memset(b->f, 0, sizeof(b->f));
    memset(b->f, 0xff, 6);
    b->f[6] = 0x02, b->f[11] = 0x01;
    for (int i = 0; i < tags; i++, o += 4) {
        be16(b->f + o, i == 0 && tags == 2 ? 0x88a8 : 0x8100);
        be16(b->f + o + 2, 100u + (uint32_t)i); /* VLAN id */
    }
    be16(b->f + o, type);
    b->len = o + 2;
}

static void ip4(struct fb *b, int tags, const uint8_t dst[4], uint8_t proto, uint16_t dport,
                uint16_t frag)
{
    uint8_t *ip;

    eth(b, tags, 0x0800);
    ip = b->f + b->len;
    ip[0] = 0x45;
    be16(ip + 2, 20 + 8);
    be16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = proto;
    ip[12] = 10, ip[15] = 2;
    memcpy(ip + 16, dst, 4);
    be16(ip + 20, 40000);
    be16(ip + 22, dport);
    b->len += 28;
}

/* IPv6 from src to dst, with `ext` hop-by-hop headers (8 bytes each) and
 * an optional fragment header (frag_off in bytes, -1 for none). */
static void ip6(struct fb *b, int tags, const uint8_t src[16], const uint8_t dst[16],
                uint8_t proto, uint16_t dport, int ext, int frag_off)
{
    uint8_t *ip, *p;
    uint8_t *nh;

    eth(b, tags, 0x86dd);
    ip = b->f + b->len;
    ip[0] = 0x60;
    ip[7] = 64;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, dst, 16);
    nh = ip + 6;
    p = ip + 40;
    for (int i = 0; i < ext; i++, p += 8) {
        *nh = 0; /* hop-by-hop (used here as a generic options header) */
        nh = p;
        p[1] = 0; /* (0 + 1) * 8 bytes */
    }
    if (frag_off >= 0) {
        *nh = 44;
        nh = p;
        be16(p + 2, (uint32_t)frag_off);
        p += 8;
    }
    *nh = proto;
    be16(p, 40000);
    be16(p + 2, dport);
    p += 8;
    be16(ip + 4, (uint32_t)(p - ip - 40));
    b->len = (uint32_t)(p - b->f);
}

static const uint8_t v4_a[4] = {10, 0, 0, 1}, v4_deny[4] = {10, 9, 1, 1};
static const uint8_t v6_a[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_3[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};
static const uint8_t v6_net1[16] = {0xfd, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
static const uint8_t v6_net2[16] = {0xfd, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};

struct rig {
    struct hvc_region r;
    struct hvc_bridge br;
    struct hvc_bridge_fdb fdb[16];
};

static void rig_start(struct rig *g, const char *tag, const char *const *rules, uint32_t def)
{
    struct hvc_bridge_config cfg = {.fdb = g->fdb, .fdb_size = 16, .default_action = def};
    struct hvc_vnet_link_attr attr = {.peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct hvc_bridge_rule rule;

    ck_assert_ptr_nonnull(vt_setup(&g->r, hvct_region_path(tag), &attr));
    hvct_assert_rc(hvc_bridge_init(&g->br, &g->r, "br", &cfg), 0);
    hvct_assert_rc(hvc_bridge_add_ext(&g->br, "in", tx_fn, (void *)(intptr_t)0), 0);
    hvct_assert_rc(hvc_bridge_add_ext(&g->br, "out", tx_fn, (void *)(intptr_t)1), 1);
    for (int i = 0; rules[i] != NULL; i++) {
        hvct_assert_rc(hvc_bridge_rule_parse(rules[i], &rule), 0);
        hvct_assert_rc(hvc_bridge_add_rule(&g->br, &rule), i);
    }
    tx_count[0] = tx_count[1] = 0;
}

static void rig_stop(struct rig *g)
{
    hvct_assert_rc(hvc_bridge_close(&g->br), 0);
    hvct_assert_rc(hvc_region_detach(&g->r), 0);
}

/* Input on port 0; 0 forwarded (and seen on port 1), 1 dropped. */
static int in(struct rig *g, const struct fb *b)
{
    int before = tx_count[1];
    int rc = hvc_bridge_input(&g->br, 0, b->f, b->len);

    ck_assert_int_ge(rc, 0);
    ck_assert_int_eq(tx_count[1] - before, rc == 0 ? 1 : 0);
    return rc;
}

#define FWD(x) ck_assert_msg(in(&g, &fb) == 0, "dropped: %s", x)
#define DROP(x) ck_assert_msg(in(&g, &fb) == 1, "forwarded: %s", x)

START_TEST(rules_ipv6_and_vlan)
{
    static const char *const rules[] = {
        "deny,proto=tcp,dport=22",        /* 0: both families */
        "deny,src=fd00:1::/32,proto=udp", /* 1: IPv6 prefix */
        "deny,dst=10.9.0.0/16",           /* 2: IPv4 prefix */
        "deny,dst=fd00::3",               /* 3: one IPv6 address */
        NULL,
    };
    static struct rig g;
    struct fb fb;
    uint64_t drop_rule;

    rig_start(&g, "brv6", rules, HVC_BRIDGE_ALLOW);
    /* IPv4, untagged, as before */
    ip4(&fb, 0, v4_a, 6, 22, 0), DROP("v4 tcp/22");
    ip4(&fb, 0, v4_a, 6, 80, 0), FWD("v4 tcp/80");
    ip4(&fb, 0, v4_deny, 17, 53, 0), DROP("v4 to 10.9/16");
    /* IPv6: ports, next header after extension headers, prefixes */
    ip6(&fb, 0, v6_net2, v6_a, 6, 22, 0, -1), DROP("v6 tcp/22");
    ip6(&fb, 0, v6_net2, v6_a, 6, 80, 0, -1), FWD("v6 tcp/80");
    ip6(&fb, 0, v6_net2, v6_a, 6, 22, 3, -1), DROP("v6 tcp/22 after 3 extension headers");
    ip6(&fb, 0, v6_net2, v6_a, 6, 22, 0, 0), DROP("v6 tcp/22, first fragment");
    ip6(&fb, 0, v6_net2, v6_a, 6, 22, 0, 64), FWD("v6 tcp, later fragment (no ports)");
    ip6(&fb, 0, v6_net1, v6_a, 17, 53, 0, -1), DROP("v6 udp from fd00:1::/32");
    ip6(&fb, 0, v6_net1, v6_a, 6, 80, 0, -1), FWD("v6 tcp/80 from fd00:1::/32 (rule 1 is udp)");
    ip6(&fb, 0, v6_net2, v6_a, 17, 53, 0, -1), FWD("v6 udp from fd00:2::");
    ip6(&fb, 0, v6_net2, v6_3, 58, 0, 0, -1), DROP("v6 to fd00::3");
    /* an IPv4 address rule does not match IPv6, nor the other way round */
    ip4(&fb, 0, v4_a, 17, 53, 0), FWD("v4 udp (rule 1 is IPv6)");
    /* one VLAN tag: the rules see the frame inside */
    ip4(&fb, 1, v4_a, 6, 22, 0), DROP("802.1Q v4 tcp/22");
    ip4(&fb, 1, v4_a, 6, 80, 0), FWD("802.1Q v4 tcp/80");
    ip4(&fb, 1, v4_deny, 1, 0, 0), DROP("802.1Q v4 to 10.9/16");
    ip6(&fb, 1, v6_net2, v6_a, 6, 22, 1, -1), DROP("802.1Q v6 tcp/22");
    ip6(&fb, 1, v6_net2, v6_3, 17, 9, 0, -1), DROP("802.1Q v6 to fd00::3");
    ip6(&fb, 1, v6_net2, v6_a, 6, 443, 0, -1), FWD("802.1Q v6 tcp/443");
    /* what cannot be read fails closed against deny rules with IP fields */
    ip4(&fb, 2, v4_a, 6, 80, 0), DROP("802.1ad + 802.1Q (stacked tags)");
    ip6(&fb, 0, v6_net2, v6_a, 6, 80, 9, -1), DROP("9 IPv6 extension headers");
    /* not IP: only MAC rules would match */
    eth(&fb, 0, 0x0806), fb.len = 60, FWD("ARP");
    eth(&fb, 1, 0x0806), fb.len = 64, FWD("802.1Q ARP");
    drop_rule = g.br.port[0].c.drop_rule;
    ck_assert_uint_eq(drop_rule, 13);
    ck_assert_uint_eq(g.br.hits[0], 8); /* tcp/22 in all its forms, and the 2 unreadable */
    ck_assert_uint_eq(g.br.hits[1], 1);
    ck_assert_uint_eq(g.br.hits[2], 2);
    ck_assert_uint_eq(g.br.hits[3], 2);
    /* truncated headers are malformed, not matched */
    ip6(&fb, 0, v6_net2, v6_a, 6, 22, 0, -1), fb.len = 14 + 40 + 2, DROP("v6, no room for ports");
    ip6(&fb, 0, v6_net2, v6_a, 6, 22, 2, -1), fb.len = 14 + 40 + 4, DROP("v6, cut extension header");
    eth(&fb, 1, 0x86dd), fb.len = 16, DROP("VLAN tag cut short");
    ip6(&fb, 0, v6_net2, v6_a, 6, 22, 0, -1), fb.f[14] = 0x45, DROP("v6 type, version 4");
    ck_assert_uint_eq(g.br.port[0].c.drop_malformed, 4);
    ck_assert_uint_eq(g.br.port[0].c.drop_rule, drop_rule);
    rig_stop(&g);
}
END_TEST

/* Allow rules with IP fields fail closed too: an unreadable frame matches
 * no allow rule and takes the default (deny). */
START_TEST(allow_rules_fail_closed)
{
    static const char *const rules[] = {"allow,proto=tcp", NULL};
    static struct rig g;
    struct fb fb;

    rig_start(&g, "brallow", rules, HVC_BRIDGE_DENY);
    ip6(&fb, 0, v6_net2, v6_a, 6, 22, 0, -1), FWD("v6 tcp allowed");
    ip4(&fb, 1, v4_a, 6, 22, 0), FWD("802.1Q v4 tcp allowed");
    ip4(&fb, 0, v4_a, 17, 53, 0), DROP("v4 udp: default deny");
    ip4(&fb, 2, v4_a, 6, 80, 0), DROP("stacked tags match no allow rule");
    ip6(&fb, 0, v6_net2, v6_a, 6, 80, 9, -1), DROP("9 extension headers match no allow rule");
    rig_stop(&g);
}
END_TEST

START_TEST(rule_syntax_ipv6)
{
    static struct rig g;
    static const char *const none[] = {NULL};
    struct hvc_bridge_rule r;
    static const uint8_t want[16] = {0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd};

    hvct_assert_rc(hvc_bridge_rule_parse("deny,src=fd00:1::abcd/48,proto=icmp6", &r), 0);
    ck_assert_uint_eq(r.match, HVC_BRIDGE_M_SRC_IP6 | HVC_BRIDGE_M_PROTO);
    ck_assert_int_eq(memcmp(r.src_ip6, want, 16), 0);
    ck_assert_uint_eq(r.src_prefix, 48);
    ck_assert_uint_eq(r.proto, 58);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=::", &r), 0);
    ck_assert_uint_eq(r.match, HVC_BRIDGE_M_DST_IP6);
    ck_assert_uint_eq(r.dst_prefix, 128);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=::1", &r), 0);
    ck_assert_uint_eq(r.dst_ip6[15], 1);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=1:2:3:4:5:6:7:8/0", &r), 0);
    ck_assert_uint_eq(r.dst_ip6[14], 0);
    ck_assert_uint_eq(r.dst_ip6[15], 8);
    ck_assert_uint_eq(r.dst_prefix, 0);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=fe80::", &r), 0);
    ck_assert_uint_eq(r.dst_ip6[0], 0xfe);
    ck_assert_uint_eq(r.dst_ip6[1], 0x80);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=fd00::1/129", &r), -HVC_EINVAL);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=fd00::1::2", &r), -HVC_EINVAL);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=1:2:3:4:5:6:7", &r), -HVC_EINVAL);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=1:2:3:4:5:6:7:8:9", &r), -HVC_EINVAL);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=12345::", &r), -HVC_EINVAL);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=fd00:", &r), -HVC_EINVAL);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=:fd00::1", &r), -HVC_EINVAL);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=fd00::g", &r), -HVC_EINVAL);
    hvct_assert_rc(hvc_bridge_rule_parse("deny,dst=fd00::1,dst=10.0.0.1", &r), -HVC_EINVAL);
    /* add_rule checks the IPv6 limits */
    rig_start(&g, "brsyn6", none, HVC_BRIDGE_ALLOW);
    memset(&r, 0, sizeof(r));
    r.action = HVC_BRIDGE_DENY;
    r.match = HVC_BRIDGE_M_SRC_IP6;
    r.src_prefix = 128;
    hvct_assert_rc(hvc_bridge_add_rule(&g.br, &r), 0);
    r.src_prefix = 129;
    hvct_assert_rc(hvc_bridge_add_rule(&g.br, &r), -HVC_EINVAL);
    r.match = HVC_BRIDGE_M_SRC_IP;
    r.src_prefix = 33;
    hvct_assert_rc(hvc_bridge_add_rule(&g.br, &r), -HVC_EINVAL);
    r.src_prefix = 8;
    r.match = HVC_BRIDGE_M_SRC_IP | HVC_BRIDGE_M_SRC_IP6;
    hvct_assert_rc(hvc_bridge_add_rule(&g.br, &r), -HVC_EINVAL);
    r.match = HVC_BRIDGE_M_DST_IP | HVC_BRIDGE_M_DST_IP6;
    hvct_assert_rc(hvc_bridge_add_rule(&g.br, &r), -HVC_EINVAL);
    rig_stop(&g);
}
END_TEST

/* ---- link ports: headers parsed from a private copy, payload ring to ring ---- */

static uint8_t ext_frame[HVC_VNET_FRAME_MAX];
static uint32_t ext_len;

static int tx_keep(void *ctx, const void *frame, uint32_t len)
{
    (void)ctx;
    ck_assert_uint_le(len, sizeof(ext_frame));
    memcpy(ext_frame, frame, len);
    ext_len = len;
    tx_count[1]++;
    return 0;
}

/* A broadcast IPv4/TCP frame of len bytes to dport, with a payload. */
static uint32_t big_ip4(uint8_t *f, uint32_t len, uint16_t dport)
{
    memset(f, 0, len);
    memset(f, 0xff, 6);
    f[6] = 0x02, f[11] = 0x07;
    be16(f + 12, 0x0800);
    f[14] = 0x45;
    be16(f + 16, len - 14u);
    f[22] = 64, f[23] = 6;
    f[26] = 10, f[29] = 7, f[30] = 10, f[33] = 9;
    be16(f + 34, 40000);
    be16(f + 36, dport);
    for (uint32_t i = 54; i < len; i++)
        f[i] = (uint8_t)(i * 7u + 3u);
    return len;
}

/* A broadcast IPv6 frame whose destination options header (264 bytes)
 * pushes the TCP ports past the bridge's private header copy. */
static uint32_t deep_ip6(uint8_t *f, uint16_t dport)
{
    uint32_t len = 14u + 40u + 264u + 20u + 100u;

    memset(f, 0, len);
    memset(f, 0xff, 6);
    f[6] = 0x02, f[11] = 0x07;
    be16(f + 12, 0x86dd);
    f[14] = 0x60;
    be16(f + 18, len - 54u);
    f[20] = 60; /* destination options */
    f[21] = 64;
    f[22] = 0xfd, f[37] = 1;
    f[38] = 0xfd, f[53] = 2;
    f[54] = 6;  /* then TCP */
    f[55] = 32; /* (32 + 1) * 8 = 264 bytes */
    be16(f + 54 + 264, 40000);
    be16(f + 54 + 266, dport);
    return len;
}

START_TEST(link_ports_forward_private_headers)
{
    static const char *const rules[] = {"deny,proto=tcp,dport=7", NULL};
    static struct hvc_bridge br;
    static struct hvc_bridge_fdb fdb[16];
    static struct hvc_vnet_port src, dst;
    static uint8_t f[2048], got[2048];
    struct hvc_bridge_config cfg = {.fdb = fdb, .fdb_size = 16};
    struct hvc_vnet_link_attr attr = {.peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct hvc_region r, r2, r3;
    struct hvc_bridge_rule rule;
    struct hvc_bridge_info info;
    struct hvc_obj obj;
    const char *path = hvct_region_path("brlink");
    uint64_t end;
    uint32_t len;
    int n;

    ck_assert_ptr_nonnull(vt_setup(&r, path, &attr));
    hvct_assert_rc(hvc_vnet_link_create(&r, "lan2", &attr), 0);
    hvct_assert_rc(hvc_bridge_init(&br, &r, "br", &cfg), 0);
    hvct_assert_rc(hvc_bridge_add_link(&br, VT_LINK), 0);
    hvct_assert_rc(hvc_bridge_add_link(&br, "lan2"), 1);
    hvct_assert_rc(hvc_bridge_add_ext(&br, "out", tx_keep, NULL), 2);
    hvct_assert_rc(hvc_bridge_rule_parse(rules[0], &rule), 0);
    hvct_assert_rc(hvc_bridge_add_rule(&br, &rule), 0);
    /* Two more peers of this process hold the other ends. */
    hvct_assert_rc(hvc_region_attach(&r2, hvc_platform_posix(), path, 0), 0);
    ck_assert_int_ge(hvc_peer_join(&r2, "sender"), 0);
    hvct_assert_rc(hvc_region_attach(&r3, hvc_platform_posix(), path, 0), 0);
    ck_assert_int_ge(hvc_peer_join(&r3, "sink"), 0);
    hvct_assert_rc(hvc_vnet_port_open(&src, &r2, VT_LINK, NULL), 0);
    hvct_assert_rc(hvc_vnet_port_open(&dst, &r3, "lan2", NULL), 0);
    end = vt_ms() + 10000;
    while ((hvc_vnet_port_poll(&src) != 1 || hvc_vnet_port_poll(&dst) != 1 ||
            !br.port[0].up || !br.port[1].up) && vt_ms() < end)
        hvc_bridge_poll(&br, 64);
    ck_assert_msg(hvc_vnet_port_is_up(&src) && hvc_vnet_port_is_up(&dst), "links not up");

    /* A 1500-byte frame: out of the other link and the external port, byte
     * for byte (private headers, then the payload from the ring). */
    len = big_ip4(f, 1514, 80);
    tx_count[1] = 0;
    hvct_assert_rc(hvc_vnet_port_send(&src, f, len, 0), 0);
    ck_assert_int_eq(hvc_bridge_poll(&br, 64), 1);
    ck_assert_int_eq(tx_count[1], 1);
    ck_assert_uint_eq(ext_len, len);
    ck_assert_mem_eq(ext_frame, f, len);
    n = hvc_vnet_port_recv(&dst, got, sizeof(got));
    ck_assert_int_eq(n, (int)len);
    ck_assert_mem_eq(got, f, len);
    /* A minimum frame (all of it private) */
    len = big_ip4(f, 60, 80);
    hvct_assert_rc(hvc_vnet_port_send(&src, f, len, 0), 0);
    ck_assert_int_eq(hvc_bridge_poll(&br, 64), 1);
    ck_assert_int_eq(hvc_vnet_port_recv(&dst, got, sizeof(got)), (int)len);
    ck_assert_mem_eq(got, f, len);
    /* The deny rule sees TCP/7 past the private header copy (the bridge
     * copies the whole frame and parses again); TCP/80 there goes out
     * whole. */
    len = deep_ip6(f, 7);
    hvct_assert_rc(hvc_vnet_port_send(&src, f, len, 0), 0);
    ck_assert_int_eq(hvc_bridge_poll(&br, 64), 1);
    ck_assert_int_eq(hvc_vnet_port_recv(&dst, got, sizeof(got)), -HVC_EAGAIN);
    ck_assert_int_eq(tx_count[1], 2);
    len = deep_ip6(f, 80);
    hvct_assert_rc(hvc_vnet_port_send(&src, f, len, 0), 0);
    ck_assert_int_eq(hvc_bridge_poll(&br, 64), 1);
    ck_assert_int_eq(hvc_vnet_port_recv(&dst, got, sizeof(got)), (int)len);
    ck_assert_mem_eq(got, f, len);
    ck_assert_int_eq(tx_count[1], 3);
    ck_assert_mem_eq(ext_frame, f, len);
    /* The same with a truncated TCP header after the deep options:
     * malformed, from the full copy. */
    len = 14u + 40u + 264u + 2u;
    deep_ip6(f, 80);
    be16(f + 18, len - 54u);
    hvct_assert_rc(hvc_vnet_port_send(&src, f, len, 0), 0);
    ck_assert_int_eq(hvc_bridge_poll(&br, 64), 1);
    ck_assert_int_eq(hvc_vnet_port_recv(&dst, got, sizeof(got)), -HVC_EAGAIN);

    hvct_assert_rc(hvc_obj_open(&r, "br", HVC_OBJ_BRIDGE, &obj), 0);
    hvct_assert_rc(hvc_bridge_stats(&r, &obj, &info), 0);
    ck_assert_uint_eq(info.rule[0].hits, 1);
    ck_assert_uint_eq(info.port[0].rx_frames, 5);
    ck_assert_uint_eq(info.port[0].drop_rule, 1);
    ck_assert_uint_eq(info.port[0].drop_malformed, 1);
    ck_assert_uint_eq(info.port[1].tx_frames, 3);
    hvct_assert_rc(hvc_vnet_port_close(&src), 0);
    hvct_assert_rc(hvc_vnet_port_close(&dst), 0);
    hvct_assert_rc(hvc_bridge_close(&br), 0);
    hvct_assert_rc(hvc_region_detach(&r3), 0);
    hvct_assert_rc(hvc_region_detach(&r2), 0);
    hvct_assert_rc(hvc_region_detach(&r), 0);
}
END_TEST

static void setup(void)
{
    hvct_leak_setup();
}

int main(void)
{
    return hvct_main("vnet_bridge_rules", setup, hvct_leak_teardown, 30,
                     HVCT_TESTS(rules_ipv6_and_vlan, allow_rules_fail_closed,
                                rule_syntax_ipv6, link_ports_forward_private_headers));
}
