/*
 * vnet's lwIP side: netif init, link output, input (zero-copy or copy),
 * the sleep, and link state from the peer table.
 *
 * Zero-copy receive and the ring's in-order release: a ring consumer gives
 * space back by publishing its index, which covers every record before it.
 * A frame handed to lwIP without a copy is released from the handle at once
 * with HVC_RING_MORE (the handle moves on, the producer does not see it),
 * and the index is published only when lwIP holds no zero-copy frame of
 * this ring. So the producer never reuses a slot lwIP still reads. Two
 * bounds keep a frame that lwIP keeps for long (TCP out-of-order queue, IP
 * reassembly, an application holding its pbufs) from starving the link: at
 * most zc_max frames are held, and none is handed out without a copy once
 * half the ring waits for publication; later frames are copied.
 */
#include <string.h>

#include "vnet_internal.h"

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "netif/ethernet.h"

#if !LWIP_SUPPORT_CUSTOM_PBUF
#error "vnet needs LWIP_SUPPORT_CUSTOM_PBUF=1 in lwipopts.h"
#endif

/* One zero-copy buffer, kept in the opaque storage of struct hvc_vnet. */
struct zc_slot {
    struct pbuf_custom pc; /* first: lwIP hands us back the pbuf */
    struct hvc_vnet *v;
    uint32_t epoch;        /* rx_epoch of the ring the frame lives in */
    uint32_t index;
};

_Static_assert(sizeof(struct zc_slot) <= HVC_VNET_ZC_BYTES, "zero-copy slot storage");
_Static_assert(_Alignof(struct zc_slot) <= 16, "zero-copy slot alignment");
_Static_assert(HVC_VNET_ZC_MAX <= 32, "zc_busy is a 32-bit map");

static struct zc_slot *slot_at(struct hvc_vnet *v, uint32_t i)
{
    return (struct zc_slot *)(void *)v->zc[i];
}

static void rx_publish(struct hvc_vnet *v)
{
    if (v->zc_held == 0 && v->unpublished != 0) {
        hvc_ring_flush(&v->rx);
        v->unpublished = 0;
    }
}

/* lwIP frees a zero-copy pbuf: the ring may give its space back. */
static void zc_free(struct pbuf *p)
{
    struct zc_slot *s = (struct zc_slot *)(void *)p;
    struct hvc_vnet *v = s->v;

    v->zc_busy &= ~(1u << s->index);
    v->st.zc_held = (uint32_t)__builtin_popcount(v->zc_busy);
    if (s->epoch != v->rx_epoch || !(v->state & HVC__VNET_RX))
        return; /* a frame of a ring we no longer use */
    v->zc_held--;
    rx_publish(v);
}

static void rx_detach(struct hvc_vnet *v)
{
    /* Frames lwIP still holds point into the old ring; it stays mapped, so
     * they stay readable (the new owner may scribble on it: lwIP sees a
     * corrupt frame of a connection that is gone anyway). */
    if (v->zc_held == 0 && (v->state & HVC__VNET_RX))
        hvc_ring_flush(&v->rx);
    memset(&v->rx, 0, sizeof(v->rx));
    v->state &= ~(uint32_t)(HVC__VNET_RX | HVC__VNET_BROKEN);
    v->zc_held = 0;
    v->unpublished = 0;
    v->peer_owner = 0;
    v->peer_ring = 0;
    v->rx_epoch++;
}

/*
 * A ring that an earlier consumer already read from (its consumer index
 * moved) belongs to a producer that outlived our end's previous owner:
 * what waits in it was sent to that dead incarnation (TCP segments of its
 * connections, which a new connection on the same ports would take for its
 * own). Drop it, bounded by one ring's worth. A fresh ring is kept whole.
 */
static void drain_stale(struct hvc_vnet *v, const struct hvc_obj *obj)
{
    struct hvc_ring_stats rs;
    uint32_t n = 0;

    if (hvc_ring_stats(v->region, obj, &rs) < 0 || rs.cons == 0)
        return;
    while (n++ < v->capacity / 8u) {
        const void *ptr;

        if (hvc_ring_peek(&v->rx, &ptr) < 0)
            break; /* empty, or bad: hvc_vnet_poll() deals with it */
        hvc_ring_release(&v->rx, HVC_RING_MORE);
        v->st.drop_stale++;
    }
    hvc_ring_flush(&v->rx);
}

static void rx_attach(struct hvc_vnet *v, uint32_t po)
{
    char rname[HVC_NAME_MAX + 1];
    struct hvc_obj obj;

    hvc__vnet_ring_name(rname, v->obj.name, v->end ^ 1u);
    if (hvc_obj_open(v->region, rname, HVC_OBJ_RING, &obj) < 0)
        return;
    /* The directory says who may write the ring: it must be the owner. */
    if (obj.writer != HVC_OWNER_PEER(po))
        return;
    if (hvc_ring_attach(&v->rx, v->region, &obj, HVC_RING_CONSUMER) < 0 ||
        hvc_ring_max_msg(&v->rx) < v->frame_max) {
        memset(&v->rx, 0, sizeof(v->rx));
        return;
    }
    drain_stale(v, &obj);
    v->state |= HVC__VNET_RX;
    v->peer_owner = po;
    v->peer_ring = po;
    v->rx_epoch++;
}

static void set_link(struct hvc_vnet *v, int up)
{
    if (up == !!(v->state & HVC__VNET_UP))
        return;
    v->st.link_changes++;
    if (up)
        v->state |= HVC__VNET_UP;
    else
        v->state &= ~(uint32_t)HVC__VNET_UP;
    if (v->netif != NULL) {
        if (up)
            netif_set_link_up(v->netif);
        else
            netif_set_link_down(v->netif);
    }
}

void hvc__vnet_link_check(struct hvc_vnet *v)
{
    struct hvc_wire_vnet_end *pe = &v->w->end[v->end ^ 1u];
    uint32_t mine, po, pr;
    int live;

    v->state |= HVC__VNET_CHECKED;
    if (!(v->flags & HVC_VNET_NO_SCAN))
        hvc_peer_scan(v->region, 0);
    mine = hvc_load_acquire(&v->w->end[v->end].owner);
    if (mine != v->owner || !hvc_peer_owner_live(v->region, v->owner))
        v->state |= HVC__VNET_LOST; /* declared gone: reopen to get back */
    /* Pairs with the CAS of owner and the release store of ring_owner in
     * make_tx_ring() of the other end: a ring_owner equal to the owner
     * means that incarnation's ring is complete. */
    po = hvc_load_acquire(&pe->owner);
    pr = hvc_load_acquire(&pe->ring_owner);
    live = po != 0 && hvc_peer_owner_live(v->region, po);
    if ((v->state & HVC__VNET_RX) && (!live || po != v->peer_owner || pr != v->peer_ring))
        rx_detach(v);
    if (!(v->state & (HVC__VNET_RX | HVC__VNET_LOST)) && live && pr == po)
        rx_attach(v, po);
    set_link(v, (v->state & (HVC__VNET_RX | HVC__VNET_BROKEN | HVC__VNET_LOST)) ==
                    HVC__VNET_RX);
    hvc__vnet_mirror(v);
}

/* The rx ring gave a protocol error: the other end replaced its ring (not
 * the peer's fault) or wrote garbage (counted; input stops until it
 * re-creates its ring). */
static void rx_fault(struct hvc_vnet *v)
{
    struct hvc_wire_vnet_end *pe = &v->w->end[v->end ^ 1u];

    if (hvc_load_acquire(&pe->owner) != v->peer_owner ||
        hvc_load_acquire(&pe->ring_owner) != v->peer_ring) {
        hvc__vnet_link_check(v);
        return;
    }
    v->st.drop_bad++;
    v->state |= HVC__VNET_BROKEN;
    set_link(v, 0);
    hvc__vnet_mirror(v);
}

static int zc_pick(struct hvc_vnet *v, uint32_t rec)
{
    uint32_t free_map;

    if ((v->flags & HVC_VNET_COPY_RX) || v->unpublished + rec > v->capacity / 2u)
        return -1;
    free_map = ~v->zc_busy & ((v->zc_max >= 32u ? 0u : (1u << v->zc_max)) - 1u);
    if (free_map == 0)
        return -1;
    return __builtin_ctz(free_map);
}

int hvc_vnet_poll(struct hvc_vnet *v, unsigned budget)
{
    unsigned n = 0;

    if (v == NULL || v->w == NULL || v->netif == NULL || !(v->state & HVC__VNET_OPEN))
        return -HVC_EINVAL;
    {
        uint32_t now = sys_now(), ro = 0;

        /* Without the other end's ring, watch its ring_owner word on every
         * call (one load), so the link comes up as soon as the other end
         * is there, not at the next periodic check. */
        if (!(v->state & HVC__VNET_RX)) {
            ro = hvc_load_acquire(&v->w->end[v->end ^ 1u].ring_owner);
            if (ro == v->seen_ring)
                ro = 0;
            else
                v->seen_ring = ro;
        }
        if (!(v->state & HVC__VNET_CHECKED) || ro != 0 ||
            (uint32_t)(now - v->last_check) >= v->check_ms) {
            v->last_check = now;
            hvc__vnet_link_check(v);
        }
    }
    if ((v->state & (HVC__VNET_RX | HVC__VNET_BROKEN | HVC__VNET_LOST)) != HVC__VNET_RX)
        return 0;
    v->state |= HVC__VNET_INPOLL;
    while (n < budget) {
        const void *ptr;
        struct pbuf *p;
        uint32_t len, rec;
        int slot, rc = hvc_ring_peek(&v->rx, &ptr);

        if (rc == -HVC_EAGAIN)
            break;
        if (rc < 0) { /* bad record, or a fragment no vnet end sends */
            rx_fault(v);
            break;
        }
        n++;
        /* The length is the ring's checked private copy: the producer can
         * change the bytes, not how many there are. */
        len = (uint32_t)rc;
        rec = HVC_RING_RECORD_SIZE(len);
        if (len < HVC_VNET_ETH_HLEN || len > v->frame_max) {
            if (len < HVC_VNET_ETH_HLEN)
                v->st.drop_short++;
            else
                v->st.drop_long++;
            hvc_ring_release(&v->rx, HVC_RING_MORE);
            v->unpublished += rec;
            continue;
        }
        slot = zc_pick(v, rec);
        if (slot >= 0) {
            struct zc_slot *s = slot_at(v, (uint32_t)slot);

            s->pc.custom_free_function = zc_free;
            s->v = v;
            s->epoch = v->rx_epoch;
            s->index = (uint32_t)slot;
            p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &s->pc,
                                    (void *)(uintptr_t)ptr, (u16_t)len);
            v->zc_busy |= 1u << slot;
            v->zc_held++;
            v->st.rx_zerocopy++;
        } else {
            /* Pool chains for small frames, one heap block for big ones. */
            p = pbuf_alloc(PBUF_RAW, (u16_t)len,
                           len <= PBUF_POOL_BUFSIZE ? PBUF_POOL : PBUF_RAM);
            if (p != NULL)
                pbuf_take(p, ptr, (u16_t)len);
        }
        /* Released from the handle but not published while zc_held > 0:
         * the slot stays ours (see the comment at the top). */
        hvc_ring_release(&v->rx, HVC_RING_MORE);
        v->unpublished += rec;
        if (p == NULL) {
            v->st.drop_nomem++;
            continue;
        }
        v->st.rx_frames++;
        v->st.rx_bytes += len;
        if (v->netif->input(p, v->netif) != ERR_OK)
            pbuf_free(p);
        if ((v->state & (HVC__VNET_RX | HVC__VNET_OPEN)) != (HVC__VNET_RX | HVC__VNET_OPEN))
            break; /* the application closed or the link changed meanwhile */
        if (v->unpublished >= v->capacity / 4u)
            rx_publish(v);
    }
    if (v->state & HVC__VNET_RX)
        rx_publish(v);
    v->state &= ~(uint32_t)HVC__VNET_INPOLL;
    if (v->tx_unpublished != 0) {
        if (v->w != NULL)
            hvc_ring_flush(&v->tx);
        v->tx_unpublished = 0;
    }
    v->st.zc_held = (uint32_t)__builtin_popcount(v->zc_busy);
    if (v->w != NULL)
        hvc__vnet_mirror(v);
    return (int)n;
}

int hvc_vnet_wait(struct hvc_vnet *v, int64_t timeout_ns)
{
    int64_t limit, check_ns;
    uint32_t elapsed;
    int rc;

    if (v == NULL || v->w == NULL || !(v->state & HVC__VNET_OPEN) || timeout_ns < HVC_FOREVER)
        return -HVC_EINVAL;
    elapsed = (uint32_t)(sys_now() - v->last_check);
    check_ns = elapsed >= v->check_ms ? 0 : (int64_t)(v->check_ms - elapsed) * 1000000;
    limit = timeout_ns == HVC_FOREVER || timeout_ns > check_ns ? check_ns : timeout_ns;
    if ((v->state & (HVC__VNET_RX | HVC__VNET_BROKEN | HVC__VNET_LOST)) == HVC__VNET_RX) {
        rx_publish(v);
        rc = hvc_ring_wait_readable(&v->rx, limit);
    } else {
        /* No ring to wait on: wait for the other end to (re)make one. */
        const uint32_t *word = &v->w->end[v->end ^ 1u].ring_owner;

        rc = hvc_platform_wait_word(hvc_region_platform(v->region), word,
                                    hvc_load_acquire(word), limit);
        if (rc == 0)
            return 0;
    }
    if (rc == -HVC_ETIMEDOUT && limit != timeout_ns)
        return 0; /* a link check is due */
    return rc;
}

static err_t link_output(struct netif *netif, struct pbuf *p)
{
    struct hvc_vnet *v = netif->state;
    void *dst;
    int rc;

    if (v == NULL || v->w == NULL)
        return ERR_IF;
    if (!(v->state & HVC__VNET_UP)) {
        v->st.drop_down++;
        return ERR_IF;
    }
    if (p->tot_len > v->frame_max)
        return ERR_ARG;
    rc = hvc_ring_reserve(&v->tx, p->tot_len, &dst);
    if (rc < 0) {
        v->st.drop_full++;
        hvc_store_relaxed(&v->w->end[v->end].drop_full, v->st.drop_full);
        /* A TCP segment that could not go out stays queued in lwIP. */
        return rc == -HVC_EAGAIN ? ERR_MEM : ERR_IF;
    }
    pbuf_copy_partial(p, dst, p->tot_len, 0);
    /* Frames lwIP sends while handling input (ACKs, replies, more data
     * from a sent callback) are published once at the end of the poll:
     * one index store, and at most one wake-up of a sleeping peer, per
     * batch instead of per frame. Anything else goes out at once. */
    if (v->state & HVC__VNET_INPOLL) {
        hvc_ring_commit(&v->tx, p->tot_len, HVC_RING_MORE);
        v->tx_unpublished += HVC_RING_RECORD_SIZE(p->tot_len);
        if (v->tx_unpublished >= v->capacity / 8u) {
            hvc_ring_flush(&v->tx);
            v->tx_unpublished = 0;
        }
    } else {
        hvc_ring_commit(&v->tx, p->tot_len, 0);
    }
    v->st.tx_frames++;
    v->st.tx_bytes += p->tot_len;
    {
        struct hvc_wire_vnet_end *we = &v->w->end[v->end];

        hvc_store_relaxed(&we->tx_frames, (uint32_t)v->st.tx_frames);
        hvc_store_relaxed(&we->tx_bytes_lo, (uint32_t)v->st.tx_bytes);
        hvc_store_relaxed(&we->tx_bytes_hi, (uint32_t)(v->st.tx_bytes >> 32));
    }
    return ERR_OK;
}

err_t hvc_vnet_netif_init(struct netif *netif)
{
    struct hvc_vnet *v;

    if (netif == NULL || netif->state == NULL)
        return ERR_ARG;
    v = netif->state;
    if (v->w == NULL || !(v->state & HVC__VNET_OPEN))
        return ERR_ARG;
#if !LWIP_CHECKSUM_CTRL_PER_NETIF
    /* The other end may leave checksums out; this lwIP would drop them. */
    if (!(v->lflags & HVC_VNET_LF_CHECKSUM))
        return ERR_IF;
#endif
    v->netif = netif;
    netif->name[0] = 'v';
    netif->name[1] = 'n';
#if LWIP_IPV4
    netif->output = etharp_output;
#endif
#if LWIP_IPV6
    netif->output_ip6 = ethip6_output;
#endif
    netif->linkoutput = link_output;
    netif->mtu = (u16_t)(v->frame_max - HVC_VNET_ETH_HLEN);
#if LWIP_IPV6 && LWIP_ND6_ALLOW_RA_UPDATES
    netif->mtu6 = netif->mtu;
#endif
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, v->mac, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                   NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
#if LWIP_CHECKSUM_CTRL_PER_NETIF
    NETIF_SET_CHECKSUM_CTRL(netif, (v->lflags & HVC_VNET_LF_CHECKSUM)
                                       ? NETIF_CHECKSUM_ENABLE_ALL
                                       : NETIF_CHECKSUM_DISABLE_ALL);
#endif
    /* Up when hvc_vnet_poll() has seen the other end. */
    v->state &= ~(uint32_t)HVC__VNET_UP;
    return ERR_OK;
}

int hvc_vnet_stats(const struct hvc_vnet *v, struct hvc_vnet_stats *out)
{
    if (v == NULL || out == NULL)
        return -HVC_EINVAL;
    *out = v->st;
    return 0;
}

int hvc_vnet_link_is_up(const struct hvc_vnet *v)
{
    return v != NULL && v->w != NULL && (v->state & HVC__VNET_UP) != 0;
}

int hvc_vnet_mac(const struct hvc_vnet *v, uint8_t mac[6])
{
    if (v == NULL || mac == NULL || v->w == NULL)
        return -HVC_EINVAL;
    memcpy(mac, v->mac, 6);
    return 0;
}
