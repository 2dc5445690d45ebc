#define _POSIX_C_SOURCE 200809L
#include "vnet_guest.h"

#include <time.h>

#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

int vnet_guest_create(struct vnet_guest *g, const char *path, const char *label,
                      const char *link, uint32_t mtu, uint64_t region_size)
{
    struct hvc_region_config cfg = {.size = region_size};
    struct hvc_vnet_link_attr attr = {.mtu = mtu, .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    int rc;

    if ((rc = hvc_region_format(&g->region, hvc_platform_posix(), path, &cfg)) < 0)
        return rc;
    if ((rc = hvc_peer_join(&g->region, label)) < 0 ||
        (rc = hvc_vnet_link_create(&g->region, link, &attr)) < 0 ||
        (rc = hvc_vnet_open(&g->vnet, &g->region, link, NULL)) < 0) {
        hvc_region_detach(&g->region);
        return rc;
    }
    return 0;
}

int vnet_guest_join(struct vnet_guest *g, const char *path, const char *label,
                    const char *link)
{
    int rc = -HVC_ENOENT;

    for (int i = 0; i < 500 && rc < 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};

        rc = hvc_region_attach(&g->region, hvc_platform_posix(), path, 0);
        if (rc < 0) {
            nanosleep(&ts, NULL);
            continue;
        }
        if ((rc = hvc_peer_join(&g->region, label)) >= 0)
            rc = hvc_vnet_open(&g->vnet, &g->region, link, NULL);
        if (rc < 0) {
            hvc_region_detach(&g->region);
            nanosleep(&ts, NULL);
        }
    }
    return rc < 0 ? rc : 0;
}

void vnet_guest_step(struct vnet_guest *g, int64_t wait_ns)
{
    int n = hvc_vnet_poll(&g->vnet, 64);

    sys_check_timeouts();
    if (n == 0)
        hvc_vnet_wait(&g->vnet, wait_ns);
}

int vnet_guest_up(struct vnet_guest *g, int idx)
{
    ip4_addr_t ip, mask, gw;

    lwip_init();
    IP4_ADDR(&ip, 10, 0, 0, idx + 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    if (netif_add(&g->nif, &ip, &mask, &gw, &g->vnet, hvc_vnet_netif_init,
                  ethernet_input) == NULL)
        return -HVC_EINVAL;
    netif_set_default(&g->nif);
    netif_set_up(&g->nif);
    while (!netif_is_link_up(&g->nif))
        vnet_guest_step(g, 10 * 1000 * 1000);
    return 0;
}

void vnet_guest_down(struct vnet_guest *g)
{
    for (int i = 0; i < 20; i++)
        vnet_guest_step(g, 1000 * 1000);
    netif_remove(&g->nif);
    hvc_vnet_close(&g->vnet);
    hvc_region_detach(&g->region);
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    int *closed = arg;

    (void)err;
    if (p == NULL) {
        *closed = 1;
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    /* The send buffer is far larger than what one receive brings. */
    for (struct pbuf *q = p; q != NULL; q = q->next)
        tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
    tcp_output(pcb);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    tcp_nagle_disable(pcb);
    tcp_arg(pcb, arg);
    tcp_recv(pcb, echo_recv);
    return ERR_OK;
}

struct tcp_pcb *vnet_guest_echo_listen(uint16_t port, int *closed)
{
    struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_V4);

    if (l == NULL)
        return NULL;
    if (tcp_bind(l, IP4_ADDR_ANY, port) != ERR_OK) {
        tcp_close(l);
        return NULL;
    }
    l = tcp_listen(l);
    if (l != NULL) {
        tcp_arg(l, closed);
        tcp_accept(l, echo_accept);
    }
    return l;
}
