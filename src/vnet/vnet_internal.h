/* vnet internals shared by link.c and netif.c. */
#ifndef HVC_VNET_INTERNAL_H
#define HVC_VNET_INTERNAL_H

#include <hvcomm/atomic.h>
#include <hvcomm/vnet.h>

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

/* Default ring bytes per direction. */
#define HVC__VNET_RING_DEFAULT (1u << 20)
#define HVC__VNET_RING_BIG (4u << 20)

/* Checked copies of a link header's immutable line. */
struct hvc__vnet_geom {
    uint32_t mtu, capacity, flags;
};

int hvc__vnet_check(struct hvc_region *r, const struct hvc_obj *obj,
                    struct hvc__vnet_geom *g);
/* "<link>.<end>" into out (HVC_NAME_MAX + 1 bytes). */
void hvc__vnet_ring_name(char *out, const char *link, uint32_t end);
/* Copy the private counters into our end of the link. */
void hvc__vnet_mirror(struct hvc_vnet *v);
/* Check the peer table and the other end; attach or drop rx; tell lwIP. */
void hvc__vnet_link_check(struct hvc_vnet *v);

#endif
