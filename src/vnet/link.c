/*
 * vnet links: the link object, claiming an end, and the end's ring.
 *
 * The link object holds no ring itself. Each end's transmit ring is its
 * own ring object, created by the peer that claims the end, with that peer
 * as the only writer: a ring has one writer for its whole life, so a peer
 * that takes over the end of a dead one makes a new ring rather than
 * inheriting indices the dead one may have left half-published. The
 * end's `ring_owner` word says which incarnation made the current ring;
 * the other end attaches only a ring whose creator is the end's owner.
 */
#include <string.h>

#include <hvcomm/vnet_port.h>

#include "vnet_shared.h"

static size_t name_len(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

int hvc__vnet_name_check(const char *name)
{
    size_t n;

    if (name == NULL)
        return -HVC_EINVAL;
    n = name_len(name, HVC_NAME_MAX + 1u);
    if (n == 0)
        return -HVC_EINVAL;
    if (n > HVC_VNET_NAME_MAX)
        return -HVC_ENAMETOOLONG;
    return 0;
}

void hvc__vnet_ring_name(char *out, const char *link, uint32_t end)
{
    size_t n = name_len(link, HVC_VNET_NAME_MAX);

    memcpy(out, link, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + (end & 1u));
    out[n + 2] = '\0';
}

static uint32_t ring_min(void)
{
    uint32_t need = 2u * HVC_RING_RECORD_SIZE(HVC_VNET_FRAME_MAX), cap = 64;

    while (cap < need)
        cap <<= 1;
    return cap;
}

static uint32_t pow2_ceil(uint32_t v)
{
    uint32_t p = 64;

    while (p < v && p < HVC_RING_CAPACITY_MAX)
        p <<= 1;
    return p;
}

/* The immutable line, read once into locals, checked against the object. */
int hvc__vnet_check(struct hvc_region *r, const struct hvc_obj *obj,
                    struct hvc__vnet_geom *g)
{
    struct hvc_wire_vnet *w;
    uint32_t cap;
    int rc;

    if (r == NULL || g == NULL)
        return -HVC_EINVAL;
    /* Header, feature flags: the checks every type shares. The magic's
     * acquire pairs with its release in hvc_vnet_link_create(). */
    rc = hvc_obj_validate(r, obj, hvc_obj_type_desc(HVC_OBJ_VNET), &g->flags);
    if (rc < 0)
        return rc;
    w = obj->ptr;
    g->mtu = hvc_load_relaxed(&w->mtu);
    cap = hvc_load_relaxed(&w->ring_capacity);
    if (hvc_load_relaxed(&w->hdr_size) != sizeof(struct hvc_wire_vnet) ||
        g->mtu < HVC_VNET_MTU_MIN || g->mtu > HVC_VNET_MTU_MAX ||
        cap < ring_min() || cap > HVC_RING_CAPACITY_MAX || (cap & (cap - 1u)) != 0) {
        hvc_region_proto_error(r, "vnet: inconsistent header");
        return -HVC_EPROTO;
    }
    g->capacity = cap;
    return 0;
}

int hvc_vnet_link_create(struct hvc_region *r, const char *name,
                         const struct hvc_vnet_link_attr *attr)
{
    struct hvc_obj_spec spec = {0};
    struct hvc_obj obj;
    struct hvc_wire_vnet *w;
    uint32_t mtu, cap;
    int rc;

    if (r == NULL || attr == NULL || (attr->flags & ~(uint32_t)HVC_VNET_CHECKSUM) != 0)
        return -HVC_EINVAL;
    rc = hvc__vnet_name_check(name);
    if (rc < 0)
        return rc;
    if (hvc_peer_self(r) < 0)
        return -HVC_EINVAL;
    mtu = attr->mtu != 0 ? attr->mtu : 1500u;
    if (mtu < HVC_VNET_MTU_MIN || mtu > HVC_VNET_MTU_MAX)
        return -HVC_EINVAL;
    for (int e = 0; e < 2; e++)
        if (attr->peer[e] != HVC_PEER_ANY && attr->peer[e] >= r->max_peers)
            return -HVC_EINVAL;
    cap = attr->ring_capacity;
    if (cap == 0)
        cap = mtu > 9000u ? HVC__VNET_RING_BIG : HVC__VNET_RING_DEFAULT;
    if (cap > HVC_RING_CAPACITY_MAX)
        return -HVC_EINVAL;
    cap = pow2_ceil(cap);
    if (cap < ring_min())
        return -HVC_EINVAL;
    spec.name = name;
    spec.type = HVC_OBJ_VNET;
    spec.size = sizeof(struct hvc_wire_vnet);
    spec.writer = HVC_PEER_ANY; /* both ends write their own end line */
    rc = hvc_obj_create(r, &spec, &obj);
    if (rc < 0)
        return rc;
    w = obj.ptr; /* zeroed by hvc_obj_create() */
    w->version = HVC_VNET_VERSION;
    w->hdr_size = sizeof(struct hvc_wire_vnet);
    w->mtu = mtu;
    w->ring_capacity = cap;
    w->flags = (attr->flags & HVC_VNET_CHECKSUM) ? HVC_VNET_LF_CHECKSUM : 0u;
    w->end[0].peer = attr->peer[0];
    w->end[1].peer = attr->peer[1];
    /* Pairs with the acquire load of magic in hvc__vnet_check(). */
    hvc_store_release(&w->magic, HVC_VNET_MAGIC);
    return 0;
}

int hvc_vnet_link_delete(struct hvc_region *r, const char *name)
{
    char rname[HVC_NAME_MAX + 1];
    struct hvc_obj obj;
    int rc;

    if (r == NULL)
        return -HVC_EINVAL;
    rc = hvc__vnet_name_check(name);
    if (rc < 0)
        return rc;
    rc = hvc_obj_open(r, name, HVC_OBJ_VNET, &obj);
    if (rc < 0)
        return rc;
    for (uint32_t e = 0; e < 2; e++) {
        hvc__vnet_ring_name(rname, name, e);
        rc = hvc_obj_delete(r, rname);
        if (rc < 0 && rc != -HVC_ENOENT)
            return rc;
    }
    return hvc_obj_delete(r, name);
}

int hvc_vnet_link_info(struct hvc_region *r, const struct hvc_obj *obj,
                       struct hvc_vnet_link_info *out)
{
    struct hvc__vnet_geom g;
    struct hvc_wire_vnet *w;
    int rc;

    if (out == NULL)
        return -HVC_EINVAL;
    rc = hvc__vnet_check(r, obj, &g);
    if (rc < 0)
        return rc;
    w = obj->ptr;
    memset(out, 0, sizeof(*out));
    out->mtu = g.mtu;
    out->ring_capacity = g.capacity;
    out->flags = (g.flags & HVC_VNET_LF_CHECKSUM) ? HVC_VNET_CHECKSUM : 0u;
    for (int e = 0; e < 2; e++) {
        struct hvc_wire_vnet_end *we = &w->end[e];
        struct hvc_vnet_stats *s = &out->stats[e];

        out->owner[e] = hvc_load_acquire(&we->owner);
        out->live[e] = (uint32_t)hvc_peer_owner_live(r, out->owner[e]);
        out->ring_owner[e] = hvc_load_acquire(&we->ring_owner);
        for (int i = 0; i < 6; i++)
            out->mac[e][i] = __atomic_load_n(&we->mac[i], __ATOMIC_RELAXED);
        s->rx_frames = hvc_load_relaxed(&we->rx_frames);
        s->tx_frames = hvc_load_relaxed(&we->tx_frames);
        s->rx_bytes = hvc_load_split64(&we->rx_bytes_lo, &we->rx_bytes_hi);
        s->tx_bytes = hvc_load_split64(&we->tx_bytes_lo, &we->tx_bytes_hi);
        s->rx_zerocopy = hvc_load_relaxed(&we->rx_zerocopy);
        s->drop_short = hvc_load_relaxed(&we->drop_short);
        s->drop_long = hvc_load_relaxed(&we->drop_long);
        s->drop_bad = hvc_load_relaxed(&we->drop_bad);
        s->drop_full = hvc_load_relaxed(&we->drop_full);
        s->drop_nomem = hvc_load_relaxed(&we->drop_nomem);
        s->drop_down = hvc_load_relaxed(&we->drop_down);
        s->link_changes = hvc_load_relaxed(&we->link_changes);
    }
    return 0;
}


/* A locally administered unicast MAC, stable for (session, peer) and unique
 * in the region: the peer id is the last byte, the session's hash the
 * middle four. */
void hvc__vnet_derive_mac(uint8_t mac[6], uint64_t session, uint32_t peer)
{
    uint64_t h = session + 0x9e3779b97f4a7c15ull;

    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
    mac[0] = 0x02; /* locally administered, unicast */
    mac[1] = (uint8_t)(h >> 8);
    mac[2] = (uint8_t)(h >> 16);
    mac[3] = (uint8_t)(h >> 24);
    mac[4] = (uint8_t)(h >> 32);
    mac[5] = (uint8_t)peer;
}

/* Claim a free end, or the end of an incarnation that is no longer live. */
int hvc__vnet_claim(struct hvc_region *r, struct hvc_wire_vnet *w, int self, uint32_t owner,
                    uint32_t *end)
{
    for (uint32_t e = 0; e < 2; e++)
        if (hvc_load_acquire(&w->end[e].owner) == owner)
            return -HVC_EBUSY;
    for (uint32_t e = 0; e < 2; e++) {
        uint32_t allowed = hvc_load_relaxed(&w->end[e].peer);
        uint32_t cur;

        if (allowed != HVC_PEER_ANY && allowed != (uint32_t)self)
            continue;
        cur = hvc_load_acquire(&w->end[e].owner);
        if (cur != 0 && hvc_peer_owner_live(r, cur))
            continue;
        if (hvc_cas(&w->end[e].owner, &cur, owner)) {
            *end = e;
            return 0;
        }
    }
    return -HVC_EBUSY;
}

/* (Re-)create our end's transmit ring with us as its writer. */
int hvc__vnet_make_tx(struct hvc_region *r, struct hvc_wire_vnet *w, uint32_t end,
                      const char *name, uint32_t capacity, uint32_t owner,
                      const uint8_t mac[6], struct hvc_ring *tx)
{
    struct hvc_wire_vnet_end *we = &w->end[end];
    struct hvc_ring_attr ra = {0};
    char rname[HVC_NAME_MAX + 1];
    int rc;

    /* The old ring (a dead incarnation's) goes first; the other end stops
     * using it when it sees ring_owner change. */
    hvc_store_release(&we->ring_owner, 0);
    hvc__vnet_ring_name(rname, name, end);
    rc = hvc_obj_delete(r, rname);
    if (rc < 0 && rc != -HVC_ENOENT)
        return rc;
    ra.capacity = capacity;
    ra.max_msg = HVC_VNET_FRAME_MAX;
    ra.writer = -1;
    ra.flags = HVC_RING_BLOCKING;
    rc = hvc_ring_create(tx, r, rname, &ra);
    if (rc < 0)
        return rc;
    for (int i = 0; i < 6; i++)
        __atomic_store_n(&we->mac[i], mac[i], __ATOMIC_RELAXED);
    /* Pairs with the acquire load of ring_owner in the link checks of the
     * other end: the ring is complete before the other end may attach it. */
    hvc_store_release(&we->ring_owner, owner);
    hvc_platform_wake_word(hvc_region_platform(r), &we->ring_owner, 1);
    return 0;
}
