/*
 * What every vnet example guest does around its own application: make or
 * find the region and the link, bring lwIP up on 10.0.0.N, run the main
 * loop, and (for the echo examples) serve TCP echo. One lwIP stack per
 * process (NO_SYS=1): a guest is a process.
 */
#ifndef HVC_EXAMPLES_VNET_GUEST_H
#define HVC_EXAMPLES_VNET_GUEST_H

#include <stdint.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/vnet.h>

#include "lwip/netif.h"
#include "lwip/tcp.h"

struct vnet_guest {
    struct hvc_region region;
    struct hvc_vnet vnet;
    struct netif nif;
};

/* Format the region at path, join, create the link and open it. */
int vnet_guest_create(struct vnet_guest *g, const char *path, const char *label,
                      const char *link, uint32_t mtu, uint64_t region_size);
/* Attach, join and open the link, retrying for up to 5 s while the other
 * guest has not made them yet. */
int vnet_guest_join(struct vnet_guest *g, const char *path, const char *label,
                    const char *link);
/* lwip_init(), add the netif as 10.0.0.(idx + 1)/24, wait for link up. */
int vnet_guest_up(struct vnet_guest *g, int idx);
/* One main-loop turn: frames in, lwIP timers, sleep up to wait_ns when idle. */
void vnet_guest_step(struct vnet_guest *g, int64_t wait_ns);
/* Let the last frames out (20 turns), then take everything down. */
void vnet_guest_down(struct vnet_guest *g);

/* Listen on port and echo every byte back; *closed is set when a client
 * closes. Returns the listening pcb, or NULL. */
struct tcp_pcb *vnet_guest_echo_listen(uint16_t port, int *closed);

#endif
