/*
 * The lwIP driver's end of a link: open (claim an end, create its ring with
 * link.c's shared code), close, and the counters mirrored into the link.
 */
#include <string.h>

#include "vnet_internal.h"

void hvc__vnet_mirror(struct hvc_vnet *v)
{
    struct hvc_wire_vnet_end *we = &v->w->end[v->end];
    const struct hvc_vnet_stats *s = &v->st;

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

int hvc_vnet_open(struct hvc_vnet *v, struct hvc_region *r, const char *name,
                  const struct hvc_vnet_config *cfg)
{
    struct hvc__vnet_geom g;
    struct hvc_obj obj;
    int self, rc;

    if (v == NULL || r == NULL)
        return -HVC_EINVAL;
    rc = hvc__vnet_name_check(name);
    if (rc < 0)
        return rc;
    self = hvc_peer_self(r);
    if (self < 0)
        return -HVC_EINVAL;
    if (cfg != NULL && (cfg->zc_max > HVC_VNET_ZC_MAX ||
                        (cfg->flags & ~(uint32_t)(HVC_VNET_COPY_RX | HVC_VNET_MAC_SET |
                                                  HVC_VNET_NO_SCAN)) != 0 ||
                        ((cfg->flags & HVC_VNET_MAC_SET) && (cfg->mac[0] & 1u))))
        return -HVC_EINVAL;
    rc = hvc_obj_open(r, name, HVC_OBJ_VNET, &obj);
    if (rc < 0)
        return rc;
    rc = hvc__vnet_check(r, &obj, &g);
    if (rc < 0)
        return rc;
    memset(v, 0, sizeof(*v));
    v->region = r;
    v->obj = obj;
    v->w = obj.ptr;
    v->mtu = g.mtu;
    /* lwIP's pbuf lengths are 16 bits: a frame is at most 65535 bytes,
     * so a 65535 link carries IP packets of up to 65521 bytes here. */
    v->frame_max = g.mtu + HVC_VNET_ETH_HLEN;
    if (v->frame_max > HVC_VNET_LWIP_FRAME_MAX)
        v->frame_max = HVC_VNET_LWIP_FRAME_MAX;
    v->capacity = g.capacity;
    v->lflags = g.flags;
    v->flags = cfg != NULL ? cfg->flags : 0u;
    v->zc_max = cfg != NULL && cfg->zc_max != 0 ? cfg->zc_max : 8u;
    v->check_ms = cfg != NULL && cfg->check_ms != 0 ? cfg->check_ms : 100u;
    v->owner = hvc_peer_owner(r);
    if (cfg != NULL && (cfg->flags & HVC_VNET_MAC_SET))
        memcpy(v->mac, cfg->mac, 6);
    else
        hvc__vnet_derive_mac(v->mac, r->session_id, (uint32_t)self);
    rc = hvc__vnet_claim(r, v->w, self, v->owner, &v->end);
    if (rc < 0)
        goto fail;
    rc = hvc__vnet_make_tx(r, v->w, v->end, name, v->capacity, v->owner, v->mac, &v->tx);
    if (rc < 0) {
        uint32_t mine = v->owner;

        hvc_cas(&v->w->end[v->end].owner, &mine, 0);
        goto fail;
    }
    v->state = HVC__VNET_OPEN;
    hvc__vnet_mirror(v);
    return 0;
fail:
    memset(v, 0, sizeof(*v));
    return rc;
}

int hvc_vnet_close(struct hvc_vnet *v)
{
    uint32_t mine;
    int busy;

    if (v == NULL || v->w == NULL || !(v->state & HVC__VNET_OPEN))
        return -HVC_EINVAL;
    busy = v->zc_busy != 0;
    if (v->netif != NULL && (v->state & HVC__VNET_UP))
        netif_set_link_down(v->netif);
    if (v->zc_held == 0)
        hvc_ring_flush(&v->rx);
    hvc_ring_flush(&v->tx);
    v->tx_unpublished = 0;
    mine = v->owner;
    /* The end is free again; its ring stays until the next owner replaces
     * it, so the other end sees owner 0 and drops it. */
    hvc_cas(&v->w->end[v->end].owner, &mine, 0);
    v->state = 0;
    v->w = NULL;
    return busy ? -HVC_EBUSY : 0;
}
