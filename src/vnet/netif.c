/*
 * vnet's lwIP glue: netif init, link output, input (copy, or zero-copy
 * for a trusted peer), link up/down told to lwIP. Everything link-level
 * (attach and drop the other end's ring, validation, counters, batching,
 * the sleep) is the embedded port's (port.c).
 *
 * Receive copies by default: the frame is read once out of the ring into
 * a pbuf lwIP owns, and the ring space is given back. lwIP reads headers
 * more than once and writes into received frames (IPv4 and IPv6
 * reassembly keep their list pointers inside the fragment's IP header),
 * so a frame left in the ring would let the other guest read those
 * pointers back and forge them (doc/vnet.md, "Receive").
 *
 * Zero-copy receive, only with HVC_VNET_RX_ZEROCOPY_TRUSTED (the user
 * trusts the other guest): a frame handed to lwIP without a copy is released
 * from the port with HVC_VNET_RELEASE_HOLD, and the ring space is given
 * back only when lwIP holds no zero-copy frame of this ring (port.c says
 * why). Two bounds keep a frame that lwIP keeps for long (TCP out-of-order
 * queue, IP reassembly, an application holding its pbufs) from starving
 * the link: at most zc_max frames are held, and none is handed out without
 * a copy once half the ring waits for publication; later frames are copied.
 */
#include <string.h>

#include "vnet_internal.h"

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#if !LWIP_SUPPORT_CUSTOM_PBUF
#error "vnet needs LWIP_SUPPORT_CUSTOM_PBUF=1 in lwipopts.h"
#endif

/* One zero-copy buffer, kept in the opaque storage of struct hvc_vnet. */
struct zc_slot {
    struct pbuf_custom pc; /* first: lwIP hands us back the pbuf */
    struct hvc_vnet *v;
    uint32_t ticket;       /* from hvc_vnet_port_release() */
    uint32_t index;
};

_Static_assert(sizeof(struct zc_slot) <= HVC_VNET_ZC_BYTES, "zero-copy slot storage");
_Static_assert(_Alignof(struct zc_slot) <= 16, "zero-copy slot alignment");
_Static_assert(HVC_VNET_ZC_MAX <= 32, "zc_busy is a 32-bit map");

static struct zc_slot *slot_at(struct hvc_vnet *v, uint32_t i)
{
    return (struct zc_slot *)(void *)v->zc[i];
}

static void zc_count(struct hvc_vnet *v)
{
    v->port.st.zc_held = (uint32_t)__builtin_popcount(v->zc_busy);
}

/* lwIP frees a zero-copy pbuf: the ring may give its space back. */
static void zc_free(struct pbuf *p)
{
    struct zc_slot *s = (struct zc_slot *)(void *)p;
    struct hvc_vnet *v = s->v;

    v->zc_busy &= ~(1u << s->index);
    zc_count(v);
    /* After hvc_vnet_close() the port refuses: nothing to give back. */
    (void)hvc_vnet_port_unhold(&v->port, s->ticket);
}

/* Tell lwIP what the port says about the link. */
static void link_sync(struct hvc_vnet *v)
{
    int up = hvc_vnet_port_is_up(&v->port);

    if (v->netif == NULL || up == !!(v->state & HVC__VNET_LWIP_UP))
        return;
    if (up) {
        v->state |= HVC__VNET_LWIP_UP;
        netif_set_link_up(v->netif);
    } else {
        v->state &= ~(uint32_t)HVC__VNET_LWIP_UP;
        netif_set_link_down(v->netif);
    }
}

static int zc_pick(struct hvc_vnet *v, uint32_t len)
{
    uint32_t free_map;

    if (!(v->flags & HVC_VNET_RX_ZEROCOPY_TRUSTED) || (v->flags & HVC_VNET_COPY_RX) ||
        v->port.rx_unpublished + HVC_RING_RECORD_SIZE(len) > v->port.capacity / 2u)
        return -1;
    free_map = ~v->zc_busy & ((v->zc_max >= 32u ? 0u : (1u << v->zc_max)) - 1u);
    if (free_map == 0)
        return -1;
    return __builtin_ctz(free_map);
}

/* One frame up to lwIP: a copy, or (trusted peer) a pbuf_custom over the
 * ring. */
static void input_one(struct hvc_vnet *v, const void *ptr, uint32_t len)
{
    struct pbuf *p;
    int slot = zc_pick(v, len);

    if (slot >= 0) {
        struct zc_slot *s = slot_at(v, (uint32_t)slot);

        s->pc.custom_free_function = zc_free;
        s->v = v;
        s->index = (uint32_t)slot;
        p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &s->pc,
                                (void *)(uintptr_t)ptr, (u16_t)len);
        if (p != NULL) {
            hvc_vnet_port_release(&v->port, HVC_VNET_RELEASE_HOLD, &s->ticket);
            v->zc_busy |= 1u << slot;
            zc_count(v);
        }
    } else {
        /* Pool chains for small frames, one heap block for big ones. */
        p = pbuf_alloc(PBUF_RAW, (u16_t)len, len <= PBUF_POOL_BUFSIZE ? PBUF_POOL : PBUF_RAM);
        if (p != NULL)
            pbuf_take(p, ptr, (u16_t)len);
        hvc_vnet_port_release(&v->port, p != NULL ? 0u : HVC_VNET_RELEASE_DROP, NULL);
    }
    if (p == NULL) {
        if (slot >= 0) /* pbuf_alloced_custom() does not fail; be safe */
            hvc_vnet_port_release(&v->port, HVC_VNET_RELEASE_DROP, NULL);
        return;
    }
    if (v->netif->input(p, v->netif) != ERR_OK)
        pbuf_free(p);
}

int hvc_vnet_poll(struct hvc_vnet *v, unsigned budget)
{
    unsigned n = 0;

    if (v == NULL || v->port.w == NULL || v->netif == NULL)
        return -HVC_EINVAL;
    hvc_vnet_port_poll(&v->port);
    link_sync(v);
    if (!hvc_vnet_port_is_up(&v->port))
        return 0;
    v->state |= HVC__VNET_INPOLL;
    while (n < budget) {
        const struct hvc_vnet_stats *st = &v->port.st;
        uint32_t dropped = st->drop_short + st->drop_long;
        const void *ptr;
        int rc = hvc_vnet_port_peek(&v->port, &ptr);

        /* Frames of a bad length, dropped by the port, were taken too. */
        n += st->drop_short + st->drop_long - dropped;
        if (rc < 0) { /* empty, or a corrupt ring (the port counted it) */
            link_sync(v);
            break;
        }
        n++;
        input_one(v, ptr, (uint32_t)rc);
        if (!hvc_vnet_port_is_up(&v->port))
            break; /* the application closed or the link changed meanwhile */
    }
    v->state &= ~(uint32_t)HVC__VNET_INPOLL;
    /* Frames lwIP sent while handling input, the ring space of what was
     * read, and the counters, once per poll. */
    zc_count(v);
    if (v->port.w != NULL) {
        hvc_vnet_port_flush(&v->port);
        link_sync(v);
    }
    return (int)n;
}

int hvc_vnet_wait(struct hvc_vnet *v, int64_t timeout_ns)
{
    if (v == NULL)
        return -HVC_EINVAL;
    return hvc_vnet_port_wait(&v->port, timeout_ns);
}

static err_t link_output(struct netif *netif, struct pbuf *p)
{
    struct hvc_vnet *v = netif->state;
    void *dst;
    int rc;

    if (v == NULL || v->port.w == NULL)
        return ERR_IF;
    if (p->tot_len > v->port.frame_max)
        return ERR_ARG;
    rc = hvc_vnet_port_reserve(&v->port, p->tot_len, &dst);
    if (rc < 0)
        /* A TCP segment that could not go out stays queued in lwIP. */
        return rc == -HVC_EAGAIN ? ERR_MEM : rc == -HVC_EMSGSIZE ? ERR_ARG : ERR_IF;
    pbuf_copy_partial(p, dst, p->tot_len, 0);
    /* Frames lwIP sends while handling input (ACKs, replies, more data
     * from a sent callback) are published once at the end of the poll:
     * one index store, and at most one wake-up of a sleeping peer, per
     * batch instead of per frame. Anything else goes out at once. */
    if (v->state & HVC__VNET_INPOLL) {
        hvc_vnet_port_commit(&v->port, HVC_VNET_SEND_MORE);
        if (v->port.tx_unpublished >= v->port.capacity / 8u)
            hvc_vnet_port_flush(&v->port);
    } else {
        hvc_vnet_port_commit(&v->port, 0);
    }
    return ERR_OK;
}

err_t hvc_vnet_netif_init(struct netif *netif)
{
    struct hvc_vnet *v;

    if (netif == NULL || netif->state == NULL)
        return ERR_ARG;
    v = netif->state;
    if (v->port.w == NULL)
        return ERR_ARG;
#if !LWIP_CHECKSUM_CTRL_PER_NETIF
    /* The other end may leave checksums out; this lwIP would drop them. */
    if (!(v->port.lflags & HVC_VNET_LF_CHECKSUM))
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
    netif->mtu = (u16_t)(v->port.frame_max - HVC_VNET_ETH_HLEN);
#if LWIP_IPV6 && LWIP_ND6_ALLOW_RA_UPDATES
    netif->mtu6 = netif->mtu;
#endif
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, v->port.mac, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                   NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
#if LWIP_CHECKSUM_CTRL_PER_NETIF
    NETIF_SET_CHECKSUM_CTRL(netif, (v->port.lflags & HVC_VNET_LF_CHECKSUM)
                                       ? NETIF_CHECKSUM_ENABLE_ALL
                                       : NETIF_CHECKSUM_DISABLE_ALL);
#endif
    /* Up when hvc_vnet_poll() has seen the other end. */
    v->state &= ~(uint32_t)HVC__VNET_LWIP_UP;
    return ERR_OK;
}
