/* Link handling shared by the lwIP driver (link.c, netif.c) and the
 * lwIP-free port layer (port.c, bridge.c): no lwIP header here. */
#ifndef HVC_VNET_SHARED_H
#define HVC_VNET_SHARED_H

#include <hvcomm/atomic.h>
#include <hvcomm/region.h>
#include <hvcomm/ring.h>
#include <hvcomm/wire.h>

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
/* Shared by the lwIP driver (link.c, netif.c) and the port layer (port.c). */
int hvc__vnet_name_check(const char *name);
void hvc__vnet_derive_mac(uint8_t mac[6], uint64_t session, uint32_t peer);
int hvc__vnet_claim(struct hvc_region *r, struct hvc_wire_vnet *w, int self, uint32_t owner,
                    uint32_t *end);
int hvc__vnet_make_tx(struct hvc_region *r, struct hvc_wire_vnet *w, uint32_t end,
                      const char *name, uint32_t capacity, uint32_t owner,
                      const uint8_t mac[6], struct hvc_ring *tx);

#endif
