/*
 * The bridge: a learning switch over vnet ports and external ports, with
 * ingress token buckets and first-match allow/deny rules. No lwIP, no
 * allocation; the caller owns the state and the MAC table.
 */
#include <string.h>

#include <hvcomm/bridge.h>

#include "vnet_shared.h"

enum { KIND_LINK = 1, KIND_EXT = 2 };

/* hvc_bridge_wait()'s fallback (no wait on all ports at once): sleep
 * slices while a poll took frames in the last WAIT_BUSY_NS. */
#define WAIT_SLICE_NS 50000
#define WAIT_BUSY_NS 10000000u
#define AGING_DEFAULT (300ull * 1000000000ull)
#define ALL_MATCH                                                                    \
    (HVC_BRIDGE_M_SRC_MAC | HVC_BRIDGE_M_DST_MAC | HVC_BRIDGE_M_SRC_IP |            \
     HVC_BRIDGE_M_DST_IP | HVC_BRIDGE_M_PROTO | HVC_BRIDGE_M_DPORT |                \
     HVC_BRIDGE_M_SRC_IP6 | HVC_BRIDGE_M_DST_IP6)
/* Fields only an IP frame has. */
#define IP_MATCH                                                                     \
    (HVC_BRIDGE_M_SRC_IP | HVC_BRIDGE_M_DST_IP | HVC_BRIDGE_M_PROTO |               \
     HVC_BRIDGE_M_DPORT | HVC_BRIDGE_M_SRC_IP6 | HVC_BRIDGE_M_DST_IP6)

static uint64_t now_ns(const struct hvc_bridge *b)
{
    return hvc_platform_now(hvc_region_platform(b->region));
}

static void put64(uint64_t *dst, uint64_t v)
{
    __atomic_store_n(dst, v, __ATOMIC_RELAXED);
}

static uint64_t get64(const uint64_t *src)
{
    return __atomic_load_n(src, __ATOMIC_RELAXED);
}

/* Counters for tools: relaxed stores by the bridge only. */
static void mirror(struct hvc_bridge *b)
{
    struct hvc_wire_bridge *w = b->w;
    uint32_t used = 0;

    for (uint32_t i = 0; i < b->nports; i++) {
        const struct hvc_wire_bridge_port *c = &b->port[i].c;
        struct hvc_wire_bridge_port *d = &w->port[i];

        hvc_store_relaxed(&d->up, b->port[i].up);
        put64(&d->rate, b->port[i].rate);
        put64(&d->burst, b->port[i].burst);
        put64(&d->rx_frames, c->rx_frames);
        put64(&d->rx_bytes, c->rx_bytes);
        put64(&d->tx_frames, c->tx_frames);
        put64(&d->tx_bytes, c->tx_bytes);
        put64(&d->flood, c->flood);
        put64(&d->drop_rate, c->drop_rate);
        put64(&d->drop_rule, c->drop_rule);
        put64(&d->drop_malformed, c->drop_malformed);
        put64(&d->drop_full, c->drop_full);
        put64(&d->drop_down, c->drop_down);
        put64(&d->drop_len, c->drop_len);
    }
    for (uint32_t i = 0; i < b->nrules; i++)
        put64(&w->rule[i].hits, b->hits[i]);
    for (uint32_t i = 0; i < b->fdb_size; i++)
        used += b->fdb[i].port != 0;
    hvc_store_relaxed(&w->fdb_used, used);
    put64(&w->unknown_port, b->unknown_port);
    b->dirty = 0;
}

int hvc_bridge_init(struct hvc_bridge *b, struct hvc_region *r, const char *name,
                    const struct hvc_bridge_config *cfg)
{
    struct hvc_obj_spec spec = {0};
    struct hvc_obj obj;
    struct hvc_wire_bridge *w;
    size_t n;
    int rc;

    if (b == NULL || r == NULL || name == NULL || cfg == NULL || cfg->fdb == NULL ||
        cfg->fdb_size == 0 || cfg->fdb_size > 65536u || cfg->default_action > HVC_BRIDGE_DENY)
        return -HVC_EINVAL;
    for (n = 0; n <= HVC_NAME_MAX && name[n] != '\0'; n++)
        ;
    if (n == 0)
        return -HVC_EINVAL;
    if (n > HVC_NAME_MAX)
        return -HVC_ENAMETOOLONG;
    if (hvc_peer_self(r) < 0)
        return -HVC_EINVAL;
    spec.name = name;
    spec.type = HVC_OBJ_BRIDGE;
    spec.size = sizeof(struct hvc_wire_bridge);
    spec.writer = hvc_peer_self(r); /* only the bridge writes it */
    rc = hvc_obj_create(r, &spec, &obj);
    if (rc < 0)
        return rc;
    memset(b, 0, offsetof(struct hvc_bridge, frame));
    b->region = r;
    b->w = w = obj.ptr; /* zeroed by hvc_obj_create() */
    memcpy(b->name, name, n + 1);
    b->fdb = cfg->fdb;
    b->fdb_size = cfg->fdb_size;
    memset(b->fdb, 0, sizeof(*b->fdb) * cfg->fdb_size);
    b->default_action = cfg->default_action;
    b->aging_ns = cfg->aging_ns != 0 ? cfg->aging_ns : AGING_DEFAULT;
    w->version = HVC_BRIDGE_VERSION;
    w->hdr_size = sizeof(struct hvc_wire_bridge);
    w->default_action = b->default_action;
    w->fdb_size = b->fdb_size;
    /* Pairs with the acquire load of magic in hvc_bridge_stats(). */
    hvc_store_release(&w->magic, HVC_BRIDGE_MAGIC);
    return 0;
}

int hvc_bridge_close(struct hvc_bridge *b)
{
    if (b == NULL || b->w == NULL)
        return -HVC_EINVAL;
    for (uint32_t i = 0; i < b->nports; i++)
        if (b->port[i].kind == KIND_LINK)
            hvc_vnet_port_close(&b->port[i].vp);
    hvc_obj_delete(b->region, b->name);
    b->w = NULL;
    b->nports = 0;
    return 0;
}

static int add_port(struct hvc_bridge *b, const char *name, uint32_t kind)
{
    struct hvc_bridge_port *p;
    size_t n;

    if (b->nports >= HVC_BRIDGE_PORTS_MAX)
        return -HVC_ENOSPC;
    p = &b->port[b->nports];
    memset(&p->c, 0, sizeof(p->c));
    for (n = 0; n < HVC_BRIDGE_PORT_NAME - 1u && name[n] != '\0'; n++)
        ;
    memcpy(p->c.name, name, n);
    p->kind = kind;
    p->c.kind = kind;
    memcpy(b->w->port[b->nports].name, p->c.name, HVC_BRIDGE_PORT_NAME);
    b->w->port[b->nports].kind = kind;
    /* Pairs with the acquire load of nports in hvc_bridge_stats(). */
    hvc_store_release(&b->w->nports, b->nports + 1u);
    return (int)b->nports++;
}

int hvc_bridge_add_link(struct hvc_bridge *b, const char *link)
{
    struct hvc_vnet_port_config pc = {.flags = HVC_VNET_PORT_NO_SCAN};
    int rc;

    if (b == NULL || b->w == NULL || link == NULL)
        return -HVC_EINVAL;
    if (b->nports >= HVC_BRIDGE_PORTS_MAX)
        return -HVC_ENOSPC;
    rc = hvc_vnet_port_open(&b->port[b->nports].vp, b->region, link, &pc);
    if (rc < 0)
        return rc;
    b->port[b->nports].tx = NULL;
    b->port[b->nports].rate = 0;
    b->port[b->nports].up = 0;
    return add_port(b, link, KIND_LINK);
}

int hvc_bridge_add_ext(struct hvc_bridge *b, const char *name, hvc_bridge_tx_fn tx, void *ctx)
{
    int i;

    if (b == NULL || b->w == NULL || name == NULL || tx == NULL)
        return -HVC_EINVAL;
    if (b->nports >= HVC_BRIDGE_PORTS_MAX)
        return -HVC_ENOSPC;
    memset(&b->port[b->nports].vp, 0, sizeof(b->port[b->nports].vp));
    b->port[b->nports].tx = tx;
    b->port[b->nports].tx_ctx = ctx;
    b->port[b->nports].rate = 0;
    b->port[b->nports].up = 1;
    i = add_port(b, name, KIND_EXT);
    return i;
}

int hvc_bridge_port_find(const struct hvc_bridge *b, const char *name)
{
    if (b == NULL || name == NULL)
        return -HVC_EINVAL;
    for (uint32_t i = 0; i < b->nports; i++)
        if (strncmp(b->port[i].c.name, name, HVC_BRIDGE_PORT_NAME) == 0)
            return (int)i;
    return -HVC_ENOENT;
}

int hvc_bridge_set_rate(struct hvc_bridge *b, unsigned port, uint64_t bytes_per_s, uint64_t burst)
{
    struct hvc_bridge_port *p;

    if (b == NULL || b->w == NULL || port >= b->nports)
        return -HVC_EINVAL;
    p = &b->port[port];
    if (burst == 0) {
        burst = bytes_per_s / 10u;
        if (burst < HVC_VNET_FRAME_MAX)
            burst = HVC_VNET_FRAME_MAX;
    }
    p->rate = bytes_per_s;
    p->burst = bytes_per_s != 0 ? burst : 0;
    p->tokens = p->burst;
    p->last_ns = now_ns(b);
    mirror(b);
    return 0;
}

int hvc_bridge_add_rule(struct hvc_bridge *b, const struct hvc_bridge_rule *rule)
{
    struct hvc_wire_bridge_rule *wr;
    uint32_t i;

    if (b == NULL || b->w == NULL || rule == NULL || (rule->match & ~(uint32_t)ALL_MATCH) != 0 ||
        rule->action > HVC_BRIDGE_DENY ||
        rule->src_prefix > ((rule->match & HVC_BRIDGE_M_SRC_IP6) ? 128 : 32) ||
        rule->dst_prefix > ((rule->match & HVC_BRIDGE_M_DST_IP6) ? 128 : 32) ||
        ((rule->match & HVC_BRIDGE_M_SRC_IP) && (rule->match & HVC_BRIDGE_M_SRC_IP6)) ||
        ((rule->match & HVC_BRIDGE_M_DST_IP) && (rule->match & HVC_BRIDGE_M_DST_IP6)))
        return -HVC_EINVAL;
    if (b->nrules >= HVC_BRIDGE_RULES_MAX)
        return -HVC_ENOSPC;
    i = b->nrules;
    b->rule[i] = *rule;
    b->hits[i] = 0;
    wr = &b->w->rule[i];
    wr->match = rule->match;
    wr->action = rule->action;
    memcpy(wr->src_mac, rule->src_mac, 6);
    memcpy(wr->dst_mac, rule->dst_mac, 6);
    wr->src_ip = rule->src_ip;
    wr->dst_ip = rule->dst_ip;
    wr->src_prefix = rule->src_prefix;
    wr->dst_prefix = rule->dst_prefix;
    wr->proto = rule->proto;
    wr->dport = rule->dport;
    put64(&wr->hits, 0);
    b->nrules++;
    /* Pairs with the acquire load of nrules in hvc_bridge_stats(). */
    hvc_store_release(&b->w->nrules, b->nrules);
    return (int)i;
}

/* ---- rule text ---- */

static int parse_uint(const char *s, size_t n, uint32_t max, uint32_t *out)
{
    uint32_t v = 0;

    if (n == 0 || n > 10)
        return -HVC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -HVC_EINVAL;
        v = v * 10u + (uint32_t)(s[i] - '0');
        if (v > max)
            return -HVC_EINVAL;
    }
    *out = v;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_mac(const char *s, size_t n, uint8_t mac[6])
{
    if (n != 17)
        return -HVC_EINVAL;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

        if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
            return -HVC_EINVAL;
        mac[i] = (uint8_t)(hi * 16 + lo);
    }
    return 0;
}

static int parse_ip(const char *s, size_t n, uint32_t *ip, uint8_t *prefix)
{
    uint32_t v = 0, part, plen = 32;
    size_t i = 0;

    for (int k = 0; k < 4; k++) {
        size_t j = i;

        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++;
        if (parse_uint(s + i, j - i, 255, &part) < 0)
            return -HVC_EINVAL;
        v = (v << 8) | part;
        i = j;
        if (k < 3) {
            if (i >= n || s[i] != '.')
                return -HVC_EINVAL;
            i++;
        }
    }
    if (i < n) {
        if (s[i] != '/' || parse_uint(s + i + 1, n - i - 1, 32, &plen) < 0)
            return -HVC_EINVAL;
    }
    *ip = v;
    *prefix = (uint8_t)plen;
    return 0;
}

/* IPv6 text: hex groups, at most one "::", an optional /prefix. */
static int parse_ip6_text(const char *s, size_t n, uint8_t ip[16], uint8_t *prefix)
{
    uint16_t g[8];
    uint32_t ng = 0, gap = 8, plen = 128, v;
    size_t i = 0, end = n;

    for (size_t k = 0; k < n; k++)
        if (s[k] == '/') {
            if (parse_uint(s + k + 1, n - k - 1, 128, &plen) < 0)
                return -HVC_EINVAL;
            end = k;
            break;
        }
    if (end >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (end >= 1 && s[0] == ':') {
        return -HVC_EINVAL;
    }
    while (i < end) {
        size_t j = i;
        int d;

        v = 0;
        while (j < end && j - i < 5 && (d = hexval(s[j])) >= 0) {
            v = v * 16u + (uint32_t)d;
            j++;
        }
        if (j == i || j - i > 4 || ng >= 8)
            return -HVC_EINVAL;
        g[ng++] = (uint16_t)v;
        i = j;
        if (i == end)
            break;
        if (s[i] != ':')
            return -HVC_EINVAL;
        i++;
        if (i < end && s[i] == ':') {
            if (gap != 8)
                return -HVC_EINVAL; /* a second "::" */
            gap = ng;
            i++;
        } else if (i == end) {
            return -HVC_EINVAL; /* a trailing single ':' */
        }
    }
    if (gap == 8 ? ng != 8 : ng > 7)
        return -HVC_EINVAL;
    memset(ip, 0, 16);
    for (uint32_t k = 0; k < ng; k++) {
        uint32_t at = gap != 8 && k >= gap ? 8u - ng + k : k;

        ip[2 * at] = (uint8_t)(g[k] >> 8);
        ip[2 * at + 1] = (uint8_t)g[k];
    }
    *prefix = (uint8_t)plen;
    return 0;
}

static int key_is(const char *s, size_t n, const char *key)
{
    size_t k = strlen(key);

    return n == k && memcmp(s, key, k) == 0;
}

int hvc_bridge_rule_parse(const char *text, struct hvc_bridge_rule *out)
{
    struct hvc_bridge_rule r = {0};
    const char *s = text;

    if (text == NULL || out == NULL)
        return -HVC_EINVAL;
    if (strncmp(s, "allow", 5) == 0) {
        r.action = HVC_BRIDGE_ALLOW;
        s += 5;
    } else if (strncmp(s, "deny", 4) == 0) {
        r.action = HVC_BRIDGE_DENY;
        s += 4;
    } else {
        return -HVC_EINVAL;
    }
    while (*s != '\0') {
        const char *k, *v;
        size_t kn, vn;
        uint32_t u;

        if (*s != ',')
            return -HVC_EINVAL;
        k = ++s;
        while (*s != '\0' && *s != '=' && *s != ',')
            s++;
        if (*s != '=')
            return -HVC_EINVAL;
        kn = (size_t)(s - k);
        v = ++s;
        while (*s != '\0' && *s != ',')
            s++;
        vn = (size_t)(s - v);
        if (key_is(k, kn, "src_mac")) {
            if (parse_mac(v, vn, r.src_mac) < 0)
                return -HVC_EINVAL;
            r.match |= HVC_BRIDGE_M_SRC_MAC;
        } else if (key_is(k, kn, "dst_mac")) {
            if (parse_mac(v, vn, r.dst_mac) < 0)
                return -HVC_EINVAL;
            r.match |= HVC_BRIDGE_M_DST_MAC;
        } else if (key_is(k, kn, "src")) {
            if (r.match & (HVC_BRIDGE_M_SRC_IP | HVC_BRIDGE_M_SRC_IP6))
                return -HVC_EINVAL;
            if (parse_ip(v, vn, &r.src_ip, &r.src_prefix) == 0)
                r.match |= HVC_BRIDGE_M_SRC_IP;
            else if (parse_ip6_text(v, vn, r.src_ip6, &r.src_prefix) == 0)
                r.match |= HVC_BRIDGE_M_SRC_IP6;
            else
                return -HVC_EINVAL;
        } else if (key_is(k, kn, "dst")) {
            if (r.match & (HVC_BRIDGE_M_DST_IP | HVC_BRIDGE_M_DST_IP6))
                return -HVC_EINVAL;
            if (parse_ip(v, vn, &r.dst_ip, &r.dst_prefix) == 0)
                r.match |= HVC_BRIDGE_M_DST_IP;
            else if (parse_ip6_text(v, vn, r.dst_ip6, &r.dst_prefix) == 0)
                r.match |= HVC_BRIDGE_M_DST_IP6;
            else
                return -HVC_EINVAL;
        } else if (key_is(k, kn, "proto")) {
            if (key_is(v, vn, "icmp"))
                u = 1;
            else if (key_is(v, vn, "icmp6"))
                u = 58;
            else if (key_is(v, vn, "tcp"))
                u = 6;
            else if (key_is(v, vn, "udp"))
                u = 17;
            else if (parse_uint(v, vn, 255, &u) < 0)
                return -HVC_EINVAL;
            r.proto = (uint8_t)u;
            r.match |= HVC_BRIDGE_M_PROTO;
        } else if (key_is(k, kn, "dport")) {
            if (parse_uint(v, vn, 65535, &u) < 0 || u == 0)
                return -HVC_EINVAL;
            r.dport = (uint16_t)u;
            r.match |= HVC_BRIDGE_M_DPORT;
        } else {
            return -HVC_EINVAL;
        }
    }
    *out = r;
    return 0;
}

/* ---- forwarding ---- */

/* The headers a rule looks at, parsed from the bridge's private copy.
 * That copy may hold only the first `avail` bytes of the frame (the
 * headers; the payload is copied ring to ring, see hvc_bridge_poll()):
 * parse() reads nothing past them, and says so (`more`) when the headers
 * reach further, so the caller copies the whole frame and parses again. */
struct hdrs {
    uint32_t avail; /* private bytes at f */
    int more;       /* the headers run past avail: copy more, parse again */
    const uint8_t *dst, *src;
    int ip;      /* 0 not IP, 4 or 6 */
    int opaque;  /* IP headers the bridge cannot read: rules fail closed */
    int l4;      /* dport is valid (TCP or UDP, first fragment) */
    uint32_t sip, dip;
    const uint8_t *sip6, *dip6;
    uint8_t proto;
    uint16_t dport;
};

/* Bytes of every frame the bridge copies privately before parsing: VLAN,
 * IPv4 with options, IPv6 with some extension headers and the first four
 * bytes of TCP/UDP fit; deeper headers take a copy of the whole frame. */
#define HDR_COPY 256u

/* 0 when the n first bytes are private, else -1 with h->more set. */
static int have(struct hdrs *h, uint32_t n)
{
    if (n <= h->avail)
        return 0;
    h->more = 1;
    return -1;
}

/* Most IPv6 extension headers walked before a frame counts as opaque. */
#define IP6_EXT_MAX 8u

static uint32_t be16(const uint8_t *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int is_vlan(uint32_t type)
{
    return type == 0x8100u || type == 0x88a8u;
}

/* The destination port at off if the transport header is there: TCP or
 * UDP needs its first four bytes (else -1: malformed). */
static int ports(struct hdrs *h, const uint8_t *f, uint32_t off, uint32_t end)
{
    if (h->proto != 6 && h->proto != 17)
        return 0;
    if (off + 4u > end || have(h, off + 4u) < 0)
        return -1;
    h->l4 = 1;
    h->dport = (uint16_t)be16(f + off + 2);
    return 0;
}

static int parse_ip4(struct hdrs *h, const uint8_t *f, uint32_t off, uint32_t len)
{
    uint32_t ihl, tot;

    if (len < off + 20u || have(h, off + 20u) < 0)
        return -1;
    ihl = (uint32_t)(f[off] & 0x0fu) * 4u;
    tot = be16(f + off + 2);
    if ((f[off] >> 4) != 4 || ihl < 20u || off + ihl > len || tot < ihl || off + tot > len)
        return -1;
    h->ip = 4;
    h->sip = be32(f + off + 12);
    h->dip = be32(f + off + 16);
    h->proto = f[off + 9];
    /* Ports only in the first fragment, which must hold them. */
    if ((be16(f + off + 6) & 0x1fffu) != 0)
        return 0;
    return ports(h, f, off + ihl, off + tot);
}

static int parse_ip6(struct hdrs *h, const uint8_t *f, uint32_t off, uint32_t len)
{
    uint32_t end, pos, nh, first = 1;

    if (len < off + 40u || have(h, off + 40u) < 0 || (f[off] >> 4) != 6)
        return -1;
    end = off + 40u + be16(f + off + 4);
    if (end > len)
        return -1;
    h->ip = 6;
    h->sip6 = f + off + 8;
    h->dip6 = f + off + 24;
    nh = f[off + 6];
    pos = off + 40u;
    for (uint32_t n = 0;; n++) {
        uint32_t hlen;

        if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
            break; /* the upper-layer header (or one we do not walk) */
        if (n == IP6_EXT_MAX) {
            h->opaque = 1;
            return 0;
        }
        if (pos + 8u > end || have(h, pos + 8u) < 0)
            return -1;
        if (nh == 44) {
            hlen = 8;
            if ((be16(f + pos + 2) & 0xfff8u) != 0)
                first = 0;
        } else if (nh == 51) {
            hlen = ((uint32_t)f[pos + 1] + 2u) * 4u;
        } else {
            hlen = ((uint32_t)f[pos + 1] + 1u) * 8u;
        }
        nh = f[pos];
        pos += hlen;
        if (pos > end)
            return -1;
    }
    h->proto = (uint8_t)nh;
    return first ? ports(h, f, pos, end) : 0;
}

/* 0, or -1 for a frame too short for the headers it announces (or, with
 * h->more set, whose headers run past the avail private bytes at f). */
static int parse(const uint8_t *f, uint32_t avail, uint32_t len, struct hdrs *h)
{
    uint32_t off = HVC_VNET_ETH_HLEN, type;

    memset(h, 0, sizeof(*h));
    h->avail = avail;
    if (len < HVC_VNET_ETH_HLEN || have(h, HVC_VNET_ETH_HLEN) < 0)
        return -1;
    h->dst = f;
    h->src = f + 6;
    type = be16(f + 12);
    if (is_vlan(type)) {
        /* One tag is skipped: the rules see the frame inside it. */
        if (len < off + 4u || have(h, off + 4u) < 0)
            return -1;
        type = be16(f + off + 2);
        off += 4u;
        if (is_vlan(type)) {
            h->opaque = 1; /* stacked tags: not parsed, rules fail closed */
            return 0;
        }
    }
    if (type == 0x0800u)
        return parse_ip4(h, f, off, len);
    if (type == 0x86ddu)
        return parse_ip6(h, f, off, len);
    return 0; /* not IP: only MAC fields match */
}

static int in_prefix(uint32_t ip, uint32_t net, uint8_t plen)
{
    uint32_t mask = plen == 0 ? 0u : ~0u << (32u - plen);

    return (ip & mask) == (net & mask);
}

static int in_prefix6(const uint8_t *ip, const uint8_t *net, uint8_t plen)
{
    uint32_t full = plen / 8u, rest = plen % 8u;

    if (memcmp(ip, net, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((ip[full] ^ net[full]) & (uint8_t)(0xffu << (8u - rest))) == 0;
}

static int rule_match(const struct hvc_bridge_rule *r, const struct hdrs *h)
{
    uint32_t m = r->match;

    if ((m & HVC_BRIDGE_M_SRC_MAC) && memcmp(h->src, r->src_mac, 6) != 0)
        return 0;
    if ((m & HVC_BRIDGE_M_DST_MAC) && memcmp(h->dst, r->dst_mac, 6) != 0)
        return 0;
    if (!(m & IP_MATCH))
        return 1;
    /* Headers we could not read: deny rules match, allow rules do not. */
    if (h->opaque)
        return r->action == HVC_BRIDGE_DENY;
    if (h->ip == 0)
        return 0;
    if ((m & (HVC_BRIDGE_M_SRC_IP | HVC_BRIDGE_M_DST_IP)) && h->ip != 4)
        return 0;
    if ((m & (HVC_BRIDGE_M_SRC_IP6 | HVC_BRIDGE_M_DST_IP6)) && h->ip != 6)
        return 0;
    if ((m & HVC_BRIDGE_M_SRC_IP) && !in_prefix(h->sip, r->src_ip, r->src_prefix))
        return 0;
    if ((m & HVC_BRIDGE_M_DST_IP) && !in_prefix(h->dip, r->dst_ip, r->dst_prefix))
        return 0;
    if ((m & HVC_BRIDGE_M_SRC_IP6) && !in_prefix6(h->sip6, r->src_ip6, r->src_prefix))
        return 0;
    if ((m & HVC_BRIDGE_M_DST_IP6) && !in_prefix6(h->dip6, r->dst_ip6, r->dst_prefix))
        return 0;
    if ((m & HVC_BRIDGE_M_PROTO) && h->proto != r->proto)
        return 0;
    if ((m & HVC_BRIDGE_M_DPORT) && (!h->l4 || h->dport != r->dport))
        return 0;
    return 1;
}

static uint32_t fdb_hash(const uint8_t mac[6], uint32_t size)
{
    uint32_t h = 2166136261u;

    for (int i = 0; i < 6; i++)
        h = (h ^ mac[i]) * 16777619u;
    return h % size;
}

/* Open addressing over a small window of slots; a full window evicts the
 * oldest entry in it. */
#define FDB_WINDOW 8u

static void fdb_learn(struct hvc_bridge *b, const uint8_t mac[6], uint32_t port, uint64_t now)
{
    uint32_t h = fdb_hash(mac, b->fdb_size), victim = h, k = h;
    uint64_t oldest = UINT64_MAX;

    for (uint32_t i = 0; i < FDB_WINDOW && i < b->fdb_size; i++, k = k + 1u == b->fdb_size ? 0 : k + 1u) {
        struct hvc_bridge_fdb *e = &b->fdb[k];

        if (e->port != 0 && memcmp(e->mac, mac, 6) == 0) {
            e->port = (uint16_t)(port + 1u);
            e->seen_ns = now;
            return;
        }
        /* The first free (or expired) slot, so that lookups find the
         * entry early (the last free one made every lookup walk the
         * whole window); else the oldest. */
        if (oldest == 0)
            continue;
        if (e->port == 0 || now - e->seen_ns > b->aging_ns) {
            victim = k;
            oldest = 0;
        } else if (e->seen_ns < oldest) {
            oldest = e->seen_ns;
            victim = k;
        }
    }
    /* The MAC may sit later in the window than a free slot: lookups scan
     * the whole window, so a duplicate is harmless but wasteful; rare. */
    memcpy(b->fdb[victim].mac, mac, 6);
    b->fdb[victim].port = (uint16_t)(port + 1u);
    b->fdb[victim].seen_ns = now;
    b->dirty = 1;
}

/* The port of a learned MAC, or -1. */
static int fdb_lookup(struct hvc_bridge *b, const uint8_t mac[6], uint64_t now)
{
    uint32_t k = fdb_hash(mac, b->fdb_size);

    for (uint32_t i = 0; i < FDB_WINDOW && i < b->fdb_size; i++, k = k + 1u == b->fdb_size ? 0 : k + 1u) {
        struct hvc_bridge_fdb *e = &b->fdb[k];

        if (e->port != 0 && memcmp(e->mac, mac, 6) == 0) {
            if (now - e->seen_ns > b->aging_ns) {
                e->port = 0;
                return -1;
            }
            return e->port - 1;
        }
    }
    return -1;
}

/*
 * A frame being forwarded. Its first `avail` bytes are private (the bridge
 * parsed them there); with `ring` set, the frame itself is still in the
 * ingress ring (memory its sender can write) and `f` is the bridge's
 * buffer. A frame goes out as its private bytes followed by the rest
 * copied straight from the ingress ring: one copy of the payload instead
 * of two (ring to buffer, buffer to ring), and what the bridge checked is
 * what it sends, whatever the sender writes meanwhile (it can change only
 * bytes the bridge does not look at).
 */
struct fwd {
    const uint8_t *f;    /* private: the first avail bytes */
    const uint8_t *ring; /* the whole frame in the ingress ring, or NULL */
    uint32_t avail, len;
};

/* The whole frame into the bridge's buffer (an external port's transmit
 * function takes one buffer; headers deeper than HDR_COPY are parsed). */
static void complete(struct hvc_bridge *b, struct fwd *fw)
{
    if (fw->avail < fw->len) {
        memcpy(b->frame + fw->avail, fw->ring + fw->avail, fw->len - fw->avail);
        fw->avail = fw->len;
    }
}

static void port_out(struct hvc_bridge *b, uint32_t i, struct fwd *fw)
{
    struct hvc_bridge_port *p = &b->port[i];
    uint32_t len = fw->len;
    int rc;

    if (p->kind == KIND_LINK) {
        void *dst;

        if (!p->up) {
            p->c.drop_down++;
            return;
        }
        rc = hvc_vnet_port_reserve(&p->vp, len, &dst);
        if (rc == 0) {
            memcpy(dst, fw->f, fw->avail);
            if (fw->avail < len)
                memcpy((uint8_t *)dst + fw->avail, fw->ring + fw->avail, len - fw->avail);
            rc = hvc_vnet_port_commit(&p->vp, HVC_VNET_SEND_MORE);
        }
    } else {
        complete(b, fw);
        rc = p->tx(p->tx_ctx, fw->f, len);
    }
    if (rc == 0) {
        p->c.tx_frames++;
        p->c.tx_bytes += len;
    } else if (rc == -HVC_EAGAIN) {
        p->c.drop_full++;
    } else {
        p->c.drop_down++;
    }
}

static int police(struct hvc_bridge *b, struct hvc_bridge_port *p, uint32_t len)
{
    uint64_t now, add;

    if (p->rate == 0)
        return 1;
    now = now_ns(b);
    if (now > p->last_ns) {
        uint64_t dt = now - p->last_ns;

        /* dt * rate may overflow past ~18 s at 1 GB/s: clamp dt first. */
        if (dt > 10000000000ull)
            dt = 10000000000ull;
        add = dt * (p->rate / 1000u) / 1000000u + dt * (p->rate % 1000u) / 1000000000u;
        if (add > 0) {
            p->tokens += add;
            if (p->tokens > p->burst)
                p->tokens = p->burst;
            p->last_ns = now;
        }
    }
    if (p->tokens < len)
        return 0;
    p->tokens -= len;
    return 1;
}

/* One frame from port `in`, parsed from private memory. 0 forwarded, 1
 * dropped. */
static int forward(struct hvc_bridge *b, uint32_t in, struct fwd *fw)
{
    struct hvc_bridge_port *p = &b->port[in];
    struct hdrs h;
    uint32_t action = b->default_action, len = fw->len;
    uint64_t now;
    int out, rc;

    b->dirty = 1;
    p->c.rx_frames++;
    p->c.rx_bytes += len;
    rc = parse(fw->f, fw->avail, len, &h);
    if (rc < 0 && h.more) { /* deep headers: parse a copy of all of it */
        complete(b, fw);
        rc = parse(fw->f, fw->avail, len, &h);
    }
    if (rc < 0) {
        p->c.drop_malformed++;
        return 1;
    }
    if (!police(b, p, len)) {
        p->c.drop_rate++;
        return 1;
    }
    for (uint32_t i = 0; i < b->nrules; i++) {
        if (rule_match(&b->rule[i], &h)) {
            b->hits[i]++;
            action = b->rule[i].action;
            break;
        }
    }
    if (action == HVC_BRIDGE_DENY) {
        p->c.drop_rule++;
        return 1;
    }
    now = now_ns(b);
    if (!(h.src[0] & 1u))
        fdb_learn(b, h.src, in, now);
    out = (h.dst[0] & 1u) ? -1 : fdb_lookup(b, h.dst, now);
    if (out == (int)in) {
        b->unknown_port++; /* the destination sits behind the ingress port */
        return 1;
    }
    if (out >= 0) {
        port_out(b, (uint32_t)out, fw);
        return 0;
    }
    p->c.flood++;
    for (uint32_t i = 0; i < b->nports; i++)
        if (i != in)
            port_out(b, i, fw);
    return 0;
}

int hvc_bridge_input(struct hvc_bridge *b, unsigned port, const void *frame, uint32_t len)
{
    int rc;

    if (b == NULL || b->w == NULL || frame == NULL || port >= b->nports ||
        b->port[port].kind != KIND_EXT || len > HVC_VNET_FRAME_MAX)
        return -HVC_EINVAL;
    {
        struct fwd fw = {.f = frame, .ring = NULL, .avail = len, .len = len};

        rc = forward(b, port, &fw);
    }
    for (uint32_t i = 0; i < b->nports; i++)
        if (b->port[i].kind == KIND_LINK)
            hvc_vnet_port_flush(&b->port[i].vp);
    return rc;
}

int hvc_bridge_poll(struct hvc_bridge *b, unsigned budget)
{
    unsigned most = 0;
    int total = 0;

    if (b == NULL || b->w == NULL)
        return -HVC_EINVAL;
    {
        /* The ports do not scan (HVC_VNET_PORT_NO_SCAN): one scan of the
         * peer table per 100 ms for all of them. */
        uint64_t now = now_ns(b);

        if (now - b->last_scan >= 100000000u) {
            b->last_scan = now;
            hvc_peer_scan(b->region, 0);
        }
    }
    for (uint32_t i = 0; i < b->nports; i++) {
        struct hvc_bridge_port *p = &b->port[i];

        uint32_t up;

        if (p->kind != KIND_LINK)
            continue;
        up = hvc_vnet_port_poll(&p->vp) == 1;
        if (up != p->up)
            b->dirty = 1;
        p->up = up;
    }
    for (uint32_t i = 0; i < b->nports; i++) {
        struct hvc_bridge_port *p = &b->port[i];
        unsigned n;

        if (p->kind != KIND_LINK || !p->up)
            continue;
        for (n = 0; n < budget; n++) {
            const void *ptr;
            struct fwd fw;
            int len = hvc_vnet_port_peek(&p->vp, &ptr);

            if (len < 0) {
                if (len == -HVC_EPROTO)
                    p->c.drop_malformed++;
                break;
            }
            /* The port checked the length (14..MTU + 14): a private copy
             * of the headers, parsed there; the rest goes ring to ring. */
            fw.len = (uint32_t)len;
            fw.avail = fw.len < HDR_COPY ? fw.len : HDR_COPY;
            fw.ring = ptr;
            fw.f = b->frame;
            memcpy(b->frame, ptr, fw.avail);
            forward(b, i, &fw);
            hvc_vnet_port_release(&p->vp, 0, NULL);
            total++;
        }
        if (n > most) { /* first in hvc_bridge_wait()'s sleep */
            most = n;
            b->busy = i;
        }
        /* What this port's batch forwarded goes out before the next
         * port's batch is copied: in a stream, the receiver's ACKs reach
         * the sender one batch of data earlier. */
        for (uint32_t j = 0; n > 0 && j < b->nports; j++)
            if (b->port[j].kind == KIND_LINK && b->port[j].vp.tx_unpublished != 0)
                hvc_vnet_port_flush(&b->port[j].vp);
    }
    for (uint32_t i = 0; i < b->nports; i++) {
        struct hvc_bridge_port *p = &b->port[i];

        if (p->kind == KIND_LINK) {
            struct hvc_vnet_stats s;

            hvc_vnet_port_flush(&p->vp);
            hvc_vnet_port_stats(&p->vp, &s);
            /* Frames the port layer dropped for their length count here. */
            p->c.drop_len = (uint64_t)s.drop_short + s.drop_long;
        }
    }
    if (total > 0)
        b->last_rx = now_ns(b);
    if (b->dirty || total == 0)
        mirror(b);
    return total;
}

/* A frame waits on some link port (a peek takes nothing). */
static int any_readable(struct hvc_bridge *b)
{
    for (uint32_t i = 0; i < b->nports; i++) {
        const void *ptr;

        if (b->port[i].kind == KIND_LINK && b->port[i].up &&
            hvc_vnet_port_peek(&b->port[i].vp, &ptr) >= 0)
            return 1;
    }
    return 0;
}

int hvc_bridge_wait(struct hvc_bridge *b, int64_t timeout_ns)
{
    struct hvc_vnet_port *ports[HVC_BRIDGE_PORTS_MAX];
    uint64_t start, spent;
    uint32_t n, first, nup = 0;
    int any_up = 0, rc;

    if (b == NULL || b->w == NULL || timeout_ns < 0)
        return -HVC_EINVAL;
    /*
     * One sleep on the receive ring of every up link port
     * (hvc_vnet_port_wait_any(), hvc_ring_wait_any()): a frame on any
     * port ends it at once, busy or idle. The port that delivered the
     * most frames in the last poll that delivered any comes first (it
     * wins a tie), the others follow in order.
     */
    first = b->busy < b->nports ? b->busy : 0;
    for (n = 0; n < b->nports; n++) {
        uint32_t i = (first + n) % b->nports;

        if (b->port[i].kind == KIND_LINK && b->port[i].up)
            ports[nup++] = &b->port[i].vp;
    }
    if (nup > 0) {
        rc = hvc_vnet_port_wait_any(ports, nup, timeout_ns);
        if (rc >= 0 || rc == -HVC_ETIMEDOUT)
            return 0;
        /* Cannot sleep on all at once (a build without blocking rings,
         * no room for the bells object, a corrupt event): the sliced
         * wait below, one ring at a time. */
    }
    /*
     * The fallback: a ring wakes only the consumer sleeping on it, and
     * hvc_vnet_port_wait() sleeps on one ring: a frame on another port
     * waits until that sleep ends. So the sleep is cut into slices of at
     * most WAIT_SLICE_NS, the first one on the busiest port (in a
     * stream, the data side: its sender keeps waking us while its window
     * lasts), then on each other up port in turn, with a look at every
     * port after each slice. Only while traffic is recent: an idle bridge
     * would wake every slice (doc/vnet.md).
     */
    start = now_ns(b);
    if (start - b->last_rx > WAIT_BUSY_NS) {
        /* Idle: the whole timeout on one port, the next one next time. */
        for (n = 0; n < b->nports; n++) {
            uint32_t i = (b->next_wait + n) % b->nports;

            if (b->port[i].kind == KIND_LINK && b->port[i].up) {
                b->next_wait = i + 1u;
                hvc_vnet_port_wait(&b->port[i].vp, timeout_ns);
                return 0;
            }
        }
        goto none_up;
    }
    first = b->busy < b->nports ? b->busy : 0;
    for (;;) {
        for (n = 0; n < b->nports; n++) {
            uint32_t i = (first + n) % b->nports;
            int64_t left;

            if (b->port[i].kind != KIND_LINK || !b->port[i].up)
                continue;
            any_up = 1;
            spent = now_ns(b) - start;
            if (spent >= (uint64_t)timeout_ns)
                return 0;
            left = timeout_ns - (int64_t)spent;
            hvc_vnet_port_wait(&b->port[i].vp, left < WAIT_SLICE_NS ? left : WAIT_SLICE_NS);
            if (any_readable(b))
                return 0;
        }
        if (!any_up)
            break;
    }
none_up:
    /* No link up: sleep on the first link port (it waits for its peer). */
    for (n = 0; n < b->nports; n++)
        if (b->port[n].kind == KIND_LINK) {
            hvc_vnet_port_wait(&b->port[n].vp, timeout_ns);
            break;
        }
    return 0;
}

int hvc_bridge_stats(struct hvc_region *r, const struct hvc_obj *obj, struct hvc_bridge_info *out)
{
    struct hvc_wire_bridge *w;
    uint32_t np, nr;
    int rc;

    if (r == NULL || out == NULL)
        return -HVC_EINVAL;
    /* Header, feature flags: the checks every type shares. The magic's
     * acquire pairs with its release in hvc_bridge_init(). */
    rc = hvc_obj_validate(r, obj, hvc_obj_type_desc(HVC_OBJ_BRIDGE), NULL);
    if (rc < 0)
        return rc;
    w = obj->ptr;
    /* Pairs with the release stores of nports and nrules. */
    np = hvc_load_acquire(&w->nports);
    nr = hvc_load_acquire(&w->nrules);
    if (hvc_load_relaxed(&w->hdr_size) != sizeof(struct hvc_wire_bridge) ||
        np > HVC_BRIDGE_PORTS_MAX || nr > HVC_BRIDGE_RULES_MAX) {
        hvc_region_proto_error(r, "bridge: inconsistent header");
        return -HVC_EPROTO;
    }
    memset(out, 0, sizeof(*out));
    out->nports = np;
    out->nrules = nr;
    out->default_action = hvc_load_relaxed(&w->default_action);
    out->fdb_size = hvc_load_relaxed(&w->fdb_size);
    out->fdb_used = hvc_load_relaxed(&w->fdb_used);
    out->unknown_port = get64(&w->unknown_port);
    for (uint32_t i = 0; i < np; i++) {
        const struct hvc_wire_bridge_port *s = &w->port[i];
        struct hvc_wire_bridge_port *d = &out->port[i];

        for (uint32_t k = 0; k + 1u < HVC_BRIDGE_PORT_NAME; k++)
            d->name[k] = __atomic_load_n(&s->name[k], __ATOMIC_RELAXED);
        d->name[HVC_BRIDGE_PORT_NAME - 1u] = '\0';
        d->kind = hvc_load_relaxed(&s->kind);
        d->up = hvc_load_relaxed(&s->up);
        d->rate = get64(&s->rate);
        d->burst = get64(&s->burst);
        d->rx_frames = get64(&s->rx_frames);
        d->rx_bytes = get64(&s->rx_bytes);
        d->tx_frames = get64(&s->tx_frames);
        d->tx_bytes = get64(&s->tx_bytes);
        d->flood = get64(&s->flood);
        d->drop_rate = get64(&s->drop_rate);
        d->drop_rule = get64(&s->drop_rule);
        d->drop_malformed = get64(&s->drop_malformed);
        d->drop_full = get64(&s->drop_full);
        d->drop_down = get64(&s->drop_down);
        d->drop_len = get64(&s->drop_len);
    }
    for (uint32_t i = 0; i < nr; i++) {
        const struct hvc_wire_bridge_rule *s = &w->rule[i];
        struct hvc_wire_bridge_rule *d = &out->rule[i];

        d->match = hvc_load_relaxed(&s->match);
        d->action = hvc_load_relaxed(&s->action);
        for (int k = 0; k < 6; k++) {
            d->src_mac[k] = __atomic_load_n(&s->src_mac[k], __ATOMIC_RELAXED);
            d->dst_mac[k] = __atomic_load_n(&s->dst_mac[k], __ATOMIC_RELAXED);
        }
        d->src_ip = hvc_load_relaxed(&s->src_ip);
        d->dst_ip = hvc_load_relaxed(&s->dst_ip);
        d->src_prefix = __atomic_load_n(&s->src_prefix, __ATOMIC_RELAXED);
        d->dst_prefix = __atomic_load_n(&s->dst_prefix, __ATOMIC_RELAXED);
        d->proto = __atomic_load_n(&s->proto, __ATOMIC_RELAXED);
        d->dport = __atomic_load_n(&s->dport, __ATOMIC_RELAXED);
        d->hits = get64(&s->hits);
    }
    return 0;
}
