/*
 * The lwIP driver's end of a link: open and close on the port layer
 * (port.c), the options only the driver has, and the accessors.
 */
#include <string.h>

#include "vnet_internal.h"

#include "lwip/netif.h"

int hvc_vnet_open(struct hvc_vnet *v, struct hvc_region *r, const char *name,
                  const struct hvc_vnet_config *cfg)
{
    struct hvc_vnet_port_config pc = {0};
    int rc;

    if (v == NULL || r == NULL)
        return -HVC_EINVAL;
    if (cfg != NULL && (cfg->zc_max > HVC_VNET_ZC_MAX ||
                        (cfg->flags & ~(uint32_t)(HVC_VNET_COPY_RX | HVC_VNET_MAC_SET |
                                                  HVC_VNET_NO_SCAN |
                                                  HVC_VNET_RX_ZEROCOPY_TRUSTED)) != 0 ||
                        ((cfg->flags & HVC_VNET_MAC_SET) && (cfg->mac[0] & 1u))))
        return -HVC_EINVAL;
    if (cfg != NULL) {
        /* The port's flags have the same values as the driver's. */
        if (cfg->flags & HVC_VNET_MAC_SET)
            pc.flags |= HVC_VNET_PORT_MAC_SET;
        if (cfg->flags & HVC_VNET_NO_SCAN)
            pc.flags |= HVC_VNET_PORT_NO_SCAN;
        memcpy(pc.mac, cfg->mac, 6);
        pc.check_ms = cfg->check_ms;
    }
    memset(v, 0, sizeof(*v));
    rc = hvc_vnet_port_open(&v->port, r, name, &pc);
    if (rc < 0)
        return rc;
    /* lwIP's pbuf lengths are 16 bits: a frame is at most 65535 bytes,
     * so a 65535 link carries IP packets of up to 65521 bytes here (longer
     * received frames are dropped as drop_long). */
    if (v->port.frame_max > HVC_VNET_LWIP_FRAME_MAX)
        v->port.frame_max = HVC_VNET_LWIP_FRAME_MAX;
    v->flags = cfg != NULL ? cfg->flags : 0u;
    v->zc_max = cfg != NULL && cfg->zc_max != 0 ? cfg->zc_max : 8u;
    return 0;
}

int hvc_vnet_close(struct hvc_vnet *v)
{
    int busy, rc;

    if (v == NULL)
        return -HVC_EINVAL;
    busy = v->zc_busy != 0;
    if (v->port.w != NULL && v->netif != NULL && (v->state & HVC__VNET_LWIP_UP)) {
        v->state &= ~(uint32_t)HVC__VNET_LWIP_UP;
        netif_set_link_down(v->netif);
    }
    rc = hvc_vnet_port_close(&v->port);
    if (rc < 0)
        return rc;
    v->state = 0;
    return busy ? -HVC_EBUSY : 0;
}

int hvc_vnet_stats(const struct hvc_vnet *v, struct hvc_vnet_stats *out)
{
    return v == NULL ? -HVC_EINVAL : hvc_vnet_port_stats(&v->port, out);
}

int hvc_vnet_link_is_up(const struct hvc_vnet *v)
{
    return v != NULL && hvc_vnet_port_is_up(&v->port);
}

int hvc_vnet_mac(const struct hvc_vnet *v, uint8_t mac[6])
{
    return v == NULL ? -HVC_EINVAL : hvc_vnet_port_mac(&v->port, mac);
}

const struct hvc_vnet_port *hvc_vnet_port_of(const struct hvc_vnet *v)
{
    return v == NULL ? NULL : &v->port;
}
