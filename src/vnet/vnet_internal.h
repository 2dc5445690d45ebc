/* vnet internals shared by driver.c and netif.c. */
#ifndef HVC_VNET_INTERNAL_H
#define HVC_VNET_INTERNAL_H

#include <hvcomm/vnet.h>

/* Private state bits of struct hvc_vnet::state (the link's own state is
 * the port's). */
enum {
    HVC__VNET_LWIP_UP = 1u << 0, /* lwIP was told the link is up */
    HVC__VNET_INPOLL = 1u << 1,  /* inside hvc_vnet_poll(): batch tx */
};

#endif
