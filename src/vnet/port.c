/*
 * vnet ports: one end of a link, frame by frame, without lwIP. The only
 * implementation of a link end: the lwIP driver (netif.c) runs on it.
 * hvc_vnet_port_recv() copies a frame out of the ring into the caller's
 * buffer, so the other end cannot change it after the length checks or
 * while a bridge applies its rules; hvc_vnet_port_peek() and _release()
 * hand out the frame in the ring instead (the driver's zero-copy receive).
 *
 * Holding frames and the ring's in-order release: a ring consumer gives
 * space back by publishing its index, which covers every record before it.
 * A held frame is released from the handle at once with HVC_RING_MORE (the
 * handle moves on, the producer does not see it), and the index is
 * published only while no frame of this ring is held. So the producer
 * never reuses a slot the caller still reads. A ring that is dropped or
 * replaced gets a new generation: tickets of the old one are ignored.
 */
#include <string.h>

#include <hvcomm/vnet_port.h>

#include "vnet_shared.h"

enum {
    PORT_OPEN = 1u << 0,    /* end claimed, tx ring created */
    PORT_RX = 1u << 1,      /* the other end's ring is attached */
    PORT_UP = 1u << 2,      /* link up */
    PORT_BROKEN = 1u << 3,  /* rx ring gave a protocol error */
    PORT_LOST = 1u << 4,    /* our end was taken or we were declared gone */
    PORT_CHECKED = 1u << 5, /* checked at least once */
};

#define PORT_LIVE_MASK (PORT_RX | PORT_BROKEN | PORT_LOST)

static uint64_t now_ns(const struct hvc_vnet_port *p)
{
    return hvc_platform_now(hvc_region_platform(p->region));
}

static void mirror(struct hvc_vnet_port *p)
{
    struct hvc_wire_vnet_end *we = &p->w->end[p->end];
    const struct hvc_vnet_stats *s = &p->st;

    /* Counters for tools: relaxed stores by the end's owner only. */
    hvc_store_relaxed(&we->rx_frames, (uint32_t)s->rx_frames);
    hvc_store_relaxed(&we->tx_frames, (uint32_t)s->tx_frames);
    hvc_store_relaxed(&we->rx_bytes_lo, (uint32_t)s->rx_bytes);
    hvc_store_relaxed(&we->rx_bytes_hi, (uint32_t)(s->rx_bytes >> 32));
    hvc_store_relaxed(&we->tx_bytes_lo, (uint32_t)s->tx_bytes);
    hvc_store_relaxed(&we->tx_bytes_hi, (uint32_t)(s->tx_bytes >> 32));
    hvc_store_relaxed(&we->rx_zerocopy, (uint32_t)s->rx_zerocopy);
    hvc_store_relaxed(&we->drop_short, s->drop_short);
    hvc_store_relaxed(&we->drop_long, s->drop_long);
    hvc_store_relaxed(&we->drop_bad, s->drop_bad);
    hvc_store_relaxed(&we->drop_full, s->drop_full);
    hvc_store_relaxed(&we->drop_nomem, s->drop_nomem);
    hvc_store_relaxed(&we->drop_down, s->drop_down);
    hvc_store_relaxed(&we->link_changes, s->link_changes);
}

int hvc_vnet_port_open(struct hvc_vnet_port *p, struct hvc_region *r, const char *name,
                       const struct hvc_vnet_port_config *cfg)
{
    struct hvc__vnet_geom g;
    struct hvc_obj obj;
    int self, rc;

    if (p == NULL || r == NULL)
        return -HVC_EINVAL;
    rc = hvc__vnet_name_check(name);
    if (rc < 0)
        return rc;
    self = hvc_peer_self(r);
    if (self < 0)
        return -HVC_EINVAL;
    if (cfg != NULL &&
        ((cfg->flags & ~(uint32_t)(HVC_VNET_PORT_MAC_SET | HVC_VNET_PORT_NO_SCAN)) != 0 ||
         ((cfg->flags & HVC_VNET_PORT_MAC_SET) && (cfg->mac[0] & 1u))))
        return -HVC_EINVAL;
    rc = hvc_obj_open(r, name, HVC_OBJ_VNET, &obj);
    if (rc < 0)
        return rc;
    rc = hvc__vnet_check(r, &obj, &g);
    if (rc < 0)
        return rc;
    memset(p, 0, sizeof(*p));
    p->region = r;
    p->obj = obj;
    p->w = obj.ptr;
    p->mtu = g.mtu;
    p->frame_max = g.mtu + HVC_VNET_ETH_HLEN;
    p->capacity = g.capacity;
    p->lflags = g.flags;
    p->flags = cfg != NULL ? cfg->flags : 0u;
    p->check_ms = cfg != NULL && cfg->check_ms != 0 ? cfg->check_ms : 100u;
    p->owner = hvc_peer_owner(r);
    if (cfg != NULL && (cfg->flags & HVC_VNET_PORT_MAC_SET))
        memcpy(p->mac, cfg->mac, 6);
    else
        hvc__vnet_derive_mac(p->mac, r->session_id, (uint32_t)self);
    rc = hvc__vnet_claim(r, p->w, self, p->owner, &p->end);
    if (rc < 0)
        goto fail;
    rc = hvc__vnet_make_tx(r, p->w, p->end, name, p->capacity, p->owner, p->mac, &p->tx);
    if (rc < 0) {
        uint32_t mine = p->owner;

        hvc_cas(&p->w->end[p->end].owner, &mine, 0);
        goto fail;
    }
    p->state = PORT_OPEN;
    mirror(p);
    return 0;
fail:
    memset(p, 0, sizeof(*p));
    return rc;
}

int hvc_vnet_port_close(struct hvc_vnet_port *p)
{
    uint32_t mine;

    if (p == NULL || p->w == NULL || !(p->state & PORT_OPEN))
        return -HVC_EINVAL;
    if ((p->state & PORT_RX) && p->rx_held == 0)
        hvc_ring_flush(&p->rx);
    hvc_ring_flush(&p->tx);
    mine = p->owner;
    hvc_cas(&p->w->end[p->end].owner, &mine, 0);
    p->state = 0;
    p->w = NULL;
    return 0;
}

static void rx_detach(struct hvc_vnet_port *p)
{
    /* Held frames point into the old ring; it stays mapped, so they stay
     * readable (the new owner may scribble on it: the holder sees a
     * corrupt frame of a connection that is gone anyway). */
    if ((p->state & PORT_RX) && p->rx_held == 0)
        hvc_ring_flush(&p->rx);
    p->rx_unpublished = 0;
    p->rx_held = 0;
    p->rx_peeked = 0;
    p->rx_gen++;
    memset(&p->rx, 0, sizeof(p->rx));
    p->state &= ~(uint32_t)(PORT_RX | PORT_BROKEN);
    p->peer_owner = 0;
    p->peer_ring = 0;
}

/*
 * A ring that an earlier consumer already read from (its consumer index
 * moved) belongs to a producer that outlived our end's previous owner:
 * what waits in it was sent to that dead incarnation (TCP segments of its
 * connections, which a new connection on the same ports would take for its
 * own). Drop it, bounded by one ring's worth. A fresh ring is kept whole.
 */
static void drain_stale(struct hvc_vnet_port *p, const struct hvc_obj *obj)
{
    struct hvc_ring_stats rs;
    uint32_t n = 0;

    if (hvc_ring_stats(p->region, obj, &rs) < 0 || rs.cons == 0)
        return;
    while (n++ < p->capacity / 8u) {
        const void *ptr;

        if (hvc_ring_peek(&p->rx, &ptr) < 0)
            break;
        hvc_ring_release(&p->rx, HVC_RING_MORE);
        p->st.drop_stale++;
    }
    hvc_ring_flush(&p->rx);
}

static void rx_attach(struct hvc_vnet_port *p, uint32_t po)
{
    char rname[HVC_NAME_MAX + 1];
    struct hvc_obj obj;

    hvc__vnet_ring_name(rname, p->obj.name, p->end ^ 1u);
    if (hvc_obj_open(p->region, rname, HVC_OBJ_RING, &obj) < 0)
        return;
    if (obj.writer != HVC_OWNER_PEER(po))
        return;
    if (hvc_ring_attach(&p->rx, p->region, &obj, HVC_RING_CONSUMER) < 0 ||
        hvc_ring_max_msg(&p->rx) < p->frame_max) {
        memset(&p->rx, 0, sizeof(p->rx));
        return;
    }
    drain_stale(p, &obj);
    p->state |= PORT_RX;
    p->rx_gen++;
    p->peer_owner = po;
    p->peer_ring = po;
}

static void set_link(struct hvc_vnet_port *p, int up)
{
    if (up == !!(p->state & PORT_UP))
        return;
    p->st.link_changes++;
    if (up)
        p->state |= PORT_UP;
    else
        p->state &= ~(uint32_t)PORT_UP;
}

static void link_check(struct hvc_vnet_port *p)
{
    struct hvc_wire_vnet_end *pe = &p->w->end[p->end ^ 1u];
    uint32_t mine, po, pr;
    int live;

    p->state |= PORT_CHECKED;
    if (!(p->flags & HVC_VNET_PORT_NO_SCAN))
        hvc_peer_scan(p->region, 0);
    mine = hvc_load_acquire(&p->w->end[p->end].owner);
    if (mine != p->owner || !hvc_peer_owner_live(p->region, p->owner))
        p->state |= PORT_LOST;
    /* Pairs with the CAS of owner and the release store of ring_owner in
     * hvc__vnet_make_tx() of the other end. */
    po = hvc_load_acquire(&pe->owner);
    pr = hvc_load_acquire(&pe->ring_owner);
    live = po != 0 && hvc_peer_owner_live(p->region, po);
    if ((p->state & PORT_RX) && (!live || po != p->peer_owner || pr != p->peer_ring))
        rx_detach(p);
    if (!(p->state & (PORT_RX | PORT_LOST)) && live && pr == po)
        rx_attach(p, po);
    set_link(p, (p->state & PORT_LIVE_MASK) == PORT_RX);
    mirror(p);
}

int hvc_vnet_port_poll(struct hvc_vnet_port *p)
{
    uint64_t now;
    uint32_t ro = 0;

    if (p == NULL || p->w == NULL || !(p->state & PORT_OPEN))
        return -HVC_EINVAL;
    now = now_ns(p);
    if (!(p->state & PORT_RX)) {
        ro = hvc_load_acquire(&p->w->end[p->end ^ 1u].ring_owner);
        if (ro == p->seen_ring)
            ro = 0;
        else
            p->seen_ring = ro;
    }
    if (!(p->state & PORT_CHECKED) || ro != 0 ||
        now - p->last_check >= (uint64_t)p->check_ms * 1000000u) {
        p->last_check = now;
        link_check(p);
    }
    return (p->state & PORT_UP) != 0;
}

static void rx_fault(struct hvc_vnet_port *p)
{
    struct hvc_wire_vnet_end *pe = &p->w->end[p->end ^ 1u];

    if (hvc_load_acquire(&pe->owner) != p->peer_owner ||
        hvc_load_acquire(&pe->ring_owner) != p->peer_ring) {
        link_check(p);
        return;
    }
    p->st.drop_bad++;
    p->state |= PORT_BROKEN;
    set_link(p, 0);
    mirror(p);
}

/* Consumed frames are released from the handle at once but published
 * (the producer sees the space) once per batch: one index store and at most
 * one wake-up of a waiting producer per batch instead of per frame. */
static void rx_publish(struct hvc_vnet_port *p)
{
    if (p->rx_unpublished != 0 && p->rx_held == 0 && (p->state & PORT_RX)) {
        hvc_ring_flush(&p->rx);
        p->rx_unpublished = 0;
    }
}

static void rx_consumed(struct hvc_vnet_port *p, uint32_t len)
{
    hvc_ring_release(&p->rx, HVC_RING_MORE);
    p->rx_unpublished += HVC_RING_RECORD_SIZE(len);
    if (p->rx_unpublished >= p->capacity / 4u)
        rx_publish(p);
}

int hvc_vnet_port_peek(struct hvc_vnet_port *p, const void **frame)
{
    if (p == NULL || frame == NULL || p->w == NULL || !(p->state & PORT_OPEN))
        return -HVC_EINVAL;
    p->rx_peeked = 0;
    if ((p->state & PORT_LIVE_MASK) != PORT_RX)
        return -HVC_EAGAIN;
    /* Bounded: a producer flooding records of a bad length cannot hold
     * the caller here; after a batch of them the caller hears "again"
     * (and may poll its other work first). */
    for (uint32_t dropped = 0;;) {
        const void *ptr;
        uint32_t len;
        int rc = hvc_ring_peek(&p->rx, &ptr);

        if (rc == -HVC_EAGAIN) {
            rx_publish(p);
            return rc;
        }
        if (rc < 0) { /* bad record, or a fragment no vnet end sends */
            rx_fault(p);
            return -HVC_EPROTO;
        }
        /* The ring's checked private copy of the length: the producer can
         * change the bytes, not how many there are. */
        len = (uint32_t)rc;
        if (len < HVC_VNET_ETH_HLEN || len > p->frame_max) {
            if (len < HVC_VNET_ETH_HLEN)
                p->st.drop_short++;
            else
                p->st.drop_long++;
            rx_consumed(p, len);
            if (++dropped >= HVC_VNET_DROP_BATCH) {
                rx_publish(p);
                return -HVC_EAGAIN;
            }
            continue;
        }
        p->rx_peeked = len;
        *frame = ptr;
        return (int)len;
    }
}

int hvc_vnet_port_release(struct hvc_vnet_port *p, unsigned flags, uint32_t *ticket)
{
    uint32_t len;

    if (p == NULL || p->w == NULL || !(p->state & PORT_OPEN) || p->rx_peeked == 0 ||
        (flags & ~(unsigned)(HVC_VNET_RELEASE_HOLD | HVC_VNET_RELEASE_DROP)) != 0 ||
        ((flags & HVC_VNET_RELEASE_HOLD) && (ticket == NULL || (flags & HVC_VNET_RELEASE_DROP))))
        return -HVC_EINVAL;
    len = p->rx_peeked;
    p->rx_peeked = 0;
    if (flags & HVC_VNET_RELEASE_HOLD) {
        /* Released from the handle, not published while rx_held > 0. */
        p->rx_held++;
        *ticket = p->rx_gen;
        p->st.rx_zerocopy++;
    }
    rx_consumed(p, len);
    if (flags & HVC_VNET_RELEASE_DROP) {
        p->st.drop_nomem++;
        return 0;
    }
    p->st.rx_frames++;
    p->st.rx_bytes += len;
    return 0;
}

int hvc_vnet_port_unhold(struct hvc_vnet_port *p, uint32_t ticket)
{
    if (p == NULL || p->w == NULL || !(p->state & PORT_OPEN))
        return -HVC_EINVAL;
    if (ticket != p->rx_gen || !(p->state & PORT_RX))
        return 0; /* a frame of a ring we no longer use */
    if (p->rx_held == 0)
        return -HVC_EINVAL;
    p->rx_held--;
    rx_publish(p);
    return 0;
}

int hvc_vnet_port_recv(struct hvc_vnet_port *p, void *buf, uint32_t cap)
{
    const void *ptr;
    int rc;

    if (buf == NULL)
        return -HVC_EINVAL;
    rc = hvc_vnet_port_peek(p, &ptr);
    if (rc < 0)
        return rc;
    if ((uint32_t)rc > cap)
        return -HVC_EMSGSIZE; /* stays queued: the next peek sees it again */
    memcpy(buf, ptr, (uint32_t)rc);
    hvc_vnet_port_release(p, 0, NULL);
    return rc;
}

int hvc_vnet_port_reserve(struct hvc_vnet_port *p, uint32_t len, void **dst)
{
    int rc;

    if (p == NULL || dst == NULL || p->w == NULL || !(p->state & PORT_OPEN))
        return -HVC_EINVAL;
    if (len < HVC_VNET_ETH_HLEN || len > p->frame_max)
        return -HVC_EMSGSIZE;
    if (!(p->state & PORT_UP)) {
        p->st.drop_down++;
        return -HVC_EPEERGONE;
    }
    rc = hvc_ring_reserve(&p->tx, len, dst);
    if (rc < 0) {
        p->tx_reserved = 0;
        p->st.drop_full++;
        return rc;
    }
    p->tx_reserved = len;
    return 0;
}

int hvc_vnet_port_commit(struct hvc_vnet_port *p, unsigned flags)
{
    struct hvc_wire_vnet_end *we;
    uint32_t len;

    if (p == NULL || p->w == NULL || !(p->state & PORT_OPEN) || p->tx_reserved == 0 ||
        (flags & ~(unsigned)HVC_VNET_SEND_MORE) != 0)
        return -HVC_EINVAL;
    len = p->tx_reserved;
    p->tx_reserved = 0;
    if (flags & HVC_VNET_SEND_MORE) {
        hvc_ring_commit(&p->tx, len, HVC_RING_MORE);
        p->tx_unpublished += HVC_RING_RECORD_SIZE(len);
    } else {
        hvc_ring_commit(&p->tx, len, 0);
        p->tx_unpublished = 0;
    }
    p->st.tx_frames++;
    p->st.tx_bytes += len;
    /* For tools, at once: a sender may not poll for a while. */
    we = &p->w->end[p->end];
    hvc_store_relaxed(&we->tx_frames, (uint32_t)p->st.tx_frames);
    hvc_store_relaxed(&we->tx_bytes_lo, (uint32_t)p->st.tx_bytes);
    hvc_store_relaxed(&we->tx_bytes_hi, (uint32_t)(p->st.tx_bytes >> 32));
    return 0;
}

int hvc_vnet_port_send(struct hvc_vnet_port *p, const void *frame, uint32_t len, unsigned flags)
{
    void *dst;
    int rc;

    if (frame == NULL || (flags & ~(unsigned)HVC_VNET_SEND_MORE) != 0)
        return -HVC_EINVAL;
    rc = hvc_vnet_port_reserve(p, len, &dst);
    if (rc < 0)
        return rc;
    memcpy(dst, frame, len);
    return hvc_vnet_port_commit(p, flags);
}

static void flush(struct hvc_vnet_port *p)
{
    rx_publish(p);
    if (p->tx_unpublished != 0) {
        hvc_ring_flush(&p->tx);
        p->tx_unpublished = 0;
    }
}

int hvc_vnet_port_flush(struct hvc_vnet_port *p)
{
    if (p == NULL || p->w == NULL || !(p->state & PORT_OPEN))
        return -HVC_EINVAL;
    flush(p);
    /* Counters for tools once per batch: these stores share cache lines
     * with the other end's, so not per frame. */
    mirror(p);
    return 0;
}

int hvc_vnet_port_wait(struct hvc_vnet_port *p, int64_t timeout_ns)
{
    uint64_t elapsed, period;
    int64_t limit, check_ns;
    int rc;

    if (p == NULL || p->w == NULL || !(p->state & PORT_OPEN) || timeout_ns < HVC_FOREVER)
        return -HVC_EINVAL;
    flush(p);
    elapsed = now_ns(p) - p->last_check;
    period = (uint64_t)p->check_ms * 1000000u;
    check_ns = elapsed >= period ? 0 : (int64_t)(period - elapsed);
    limit = timeout_ns == HVC_FOREVER || timeout_ns > check_ns ? check_ns : timeout_ns;
    if ((p->state & PORT_LIVE_MASK) == PORT_RX) {
        rc = hvc_ring_wait_readable(&p->rx, limit);
    } else {
        const uint32_t *word = &p->w->end[p->end ^ 1u].ring_owner;

        rc = hvc_platform_wait_word(hvc_region_platform(p->region), word,
                                    hvc_load_acquire(word), limit);
        if (rc == 0)
            return 0;
    }
    if (rc == -HVC_ETIMEDOUT && limit != timeout_ns)
        return 0;
    return rc;
}

int hvc_vnet_port_wait_any(struct hvc_vnet_port *const ports[], unsigned n, int64_t timeout_ns)
{
    struct hvc_ring *rings[64];
    unsigned idx[64], nr = 0, due = 0;
    int64_t limit = timeout_ns;
    int rc;

    if (ports == NULL || n == 0 || n > 64 || timeout_ns < HVC_FOREVER)
        return -HVC_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        if (ports[i] == NULL || ports[i]->w == NULL || !(ports[i]->state & PORT_OPEN) ||
            ports[i]->region != ports[0]->region)
            return -HVC_EINVAL;
        for (unsigned j = 0; j < i; j++)
            if (ports[j] == ports[i])
                return -HVC_EINVAL;
    }
    for (unsigned i = 0; i < n; i++) {
        struct hvc_vnet_port *p = ports[i];
        uint64_t elapsed, period;
        int64_t check_ns;

        flush(p);
        /* The earliest link check due bounds the sleep (hvc_vnet_port_wait()). */
        elapsed = now_ns(p) - p->last_check;
        period = (uint64_t)p->check_ms * 1000000u;
        check_ns = elapsed >= period ? 0 : (int64_t)(period - elapsed);
        if (limit == HVC_FOREVER || check_ns < limit) {
            limit = check_ns;
            due = i;
        }
        if ((p->state & PORT_LIVE_MASK) == PORT_RX) {
            rings[nr] = &p->rx;
            idx[nr++] = i;
        }
    }
    if (nr == 0) {
        /* No receive ring: wait for the first port's peer, as it would. */
        rc = hvc_vnet_port_wait(ports[0], timeout_ns);
        return rc < 0 ? rc : 0;
    }
    /* One sleep on every receive ring (ring.h): a frame on any port ends it. */
    rc = hvc_ring_wait_any(rings, nr, limit);
    if (rc >= 0)
        return (int)idx[rc];
    if (rc == -HVC_ETIMEDOUT && limit != timeout_ns)
        return (int)due;
    return rc;
}

int hvc_vnet_port_stats(const struct hvc_vnet_port *p, struct hvc_vnet_stats *out)
{
    if (p == NULL || out == NULL)
        return -HVC_EINVAL;
    *out = p->st;
    return 0;
}

int hvc_vnet_port_is_up(const struct hvc_vnet_port *p)
{
    return p != NULL && p->w != NULL && (p->state & PORT_UP) != 0;
}

int hvc_vnet_port_mac(const struct hvc_vnet_port *p, uint8_t mac[6])
{
    if (p == NULL || mac == NULL || p->w == NULL)
        return -HVC_EINVAL;
    memcpy(mac, p->mac, 6);
    return 0;
}
