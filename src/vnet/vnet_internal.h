/* vnet internals shared by link.c and netif.c. */
#ifndef HVC_VNET_INTERNAL_H
#define HVC_VNET_INTERNAL_H

#include <hvcomm/atomic.h>
#include <hvcomm/vnet.h>

#include "vnet_shared.h"

/* Private state bits of struct hvc_vnet::state. */
enum {
    HVC__VNET_OPEN = 1u << 0,    /* end claimed, tx ring created */
    HVC__VNET_RX = 1u << 1,      /* the other end's ring is attached */
    HVC__VNET_UP = 1u << 2,      /* link up (what lwIP was told) */
    HVC__VNET_BROKEN = 1u << 3,  /* rx ring gave a protocol error */
    HVC__VNET_LOST = 1u << 4,    /* our end was taken or we were declared gone */
    HVC__VNET_CHECKED = 1u << 5, /* the link was checked at least once */
    HVC__VNET_INPOLL = 1u << 6,  /* inside hvc_vnet_poll(): batch tx */
};

/* Copy the private counters into our end of the link. */
void hvc__vnet_mirror(struct hvc_vnet *v);
/* Check the peer table and the other end; attach or drop rx; tell lwIP. */
void hvc__vnet_link_check(struct hvc_vnet *v);

#endif
