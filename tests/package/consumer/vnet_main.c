/* A user's vnet program, built against the installed hvcomm only: an lwIP
 * guest (vnet.h, hvcomm_vnet, the installed lwIP) and a frame port
 * (vnet_port.h, hvcomm_vnet_port) on the two ends of one link, in one
 * process; lwIP sends a UDP broadcast, the port receives it. And a bridge
 * rule parsed (bridge.h). */
#include <hvcomm/hvcomm.h>
#include <hvcomm/vnet.h>

#include <stdio.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"

#define MSG "hello from lwIP"

static int fail(const char *what, int rc)
{
    fprintf(stderr, "consumer_vnet: %s: %s\n", what, hvc_strerror(rc));
    return 1;
}

/* Is this frame our UDP broadcast (IPv4, UDP, port 7, the message)? */
static int is_msg(const uint8_t *f, int len)
{
    int ihl;

    if (len < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 17)
        return 0;
    ihl = (f[14] & 0x0f) * 4;
    if (len < 14 + ihl + 8 + (int)strlen(MSG) || f[14 + ihl + 2] != 0 || f[14 + ihl + 3] != 7)
        return 0;
    return memcmp(f + 14 + ihl + 8, MSG, strlen(MSG)) == 0;
}

int main(int argc, char **argv)
{
    static struct hvc_vnet v;
    static struct hvc_vnet_port port;
    static uint8_t frame[HVC_VNET_FRAME_MAX];
    struct hvc_region_config cfg = {.size = 4u << 20};
    struct hvc_vnet_link_attr attr = {.ring_capacity = 256u << 10,
                                      .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct hvc_bridge_rule rule;
    struct hvc_region r1, r2;
    struct netif nif;
    ip4_addr_t ip, mask, gw;
    ip_addr_t bc;
    struct udp_pcb *pcb;
    struct pbuf *p;
    uint64_t end;
    int rc, got = 0;

    if (argc != 2)
        return 2;
    rc = hvc_region_format(&r1, hvc_platform_posix(), argv[1], &cfg);
    if (rc < 0 || (rc = hvc_peer_join(&r1, "guest")) < 0)
        return fail("region", rc);
    if ((rc = hvc_vnet_link_create(&r1, "lan", &attr)) < 0)
        return fail("link", rc);
    if ((rc = hvc_region_attach(&r2, hvc_platform_posix(), argv[1], 0)) < 0 ||
        (rc = hvc_peer_join(&r2, "port")) < 0)
        return fail("second peer", rc);
    if ((rc = hvc_vnet_open(&v, &r1, "lan", NULL)) < 0)
        return fail("hvc_vnet_open", rc);
    if ((rc = hvc_vnet_port_open(&port, &r2, "lan", NULL)) < 0)
        return fail("hvc_vnet_port_open", rc);
    lwip_init();
    IP4_ADDR(&ip, 10, 0, 0, 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    if (netif_add(&nif, &ip, &mask, &gw, &v, hvc_vnet_netif_init, ethernet_input) == NULL)
        return fail("netif_add", -HVC_EIO);
    netif_set_default(&nif);
    netif_set_up(&nif);
    end = hvc_platform_now(hvc_region_platform(&r1)) + 5000000000ull;
    while ((hvc_vnet_port_poll(&port) != 1 || !hvc_vnet_link_is_up(&v)) &&
           hvc_platform_now(hvc_region_platform(&r1)) < end) {
        hvc_vnet_poll(&v, 16);
        sys_check_timeouts();
    }
    if (!hvc_vnet_link_is_up(&v) || !hvc_vnet_port_is_up(&port))
        return fail("link up", -HVC_ETIMEDOUT);
    pcb = udp_new();
    p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)strlen(MSG), PBUF_RAM);
    if (pcb == NULL || p == NULL)
        return fail("lwIP", -HVC_ENOMEM);
    pbuf_take(p, MSG, (u16_t)strlen(MSG));
    IP_ADDR4(&bc, 255, 255, 255, 255);
    if (udp_sendto(pcb, p, &bc, 7) != ERR_OK)
        return fail("udp_sendto", -HVC_EIO);
    pbuf_free(p);
    while (!got && hvc_platform_now(hvc_region_platform(&r1)) < end) {
        hvc_vnet_poll(&v, 16);
        rc = hvc_vnet_port_recv(&port, frame, sizeof(frame));
        if (rc > 0)
            got = is_msg(frame, rc);
        else if (rc != -HVC_EAGAIN)
            return fail("hvc_vnet_port_recv", rc);
    }
    if (!got)
        return fail("no broadcast from lwIP", -HVC_ETIMEDOUT);
    if ((rc = hvc_bridge_rule_parse("deny,dst=fd00::/8,proto=tcp,dport=22", &rule)) < 0)
        return fail("hvc_bridge_rule_parse", rc);
    printf("hvcomm %s vnet: lwIP -> port broadcast received; rule match bits 0x%x\n",
           hvc_version(), (unsigned)rule.match);
    udp_remove(pcb);
    netif_remove(&nif);
    hvc_vnet_close(&v);
    hvc_vnet_port_close(&port);
    hvc_vnet_link_delete(&r1, "lan");
    hvc_region_detach(&r2);
    hvc_region_detach(&r1);
    return hvc_platform_unlink(hvc_platform_posix(), argv[1]) == 0 ? 0 : 1;
}
