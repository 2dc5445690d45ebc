/*
 * vnet_tap: an lwIP guest reached from Linux through the bridge's TAP edge.
 *
 *   vnet_tap [--region PATH]
 *
 * Formats the region, creates the link "edge" with checksums on (it faces
 * Linux), and runs a guest with 10.9.0.2/24 (gateway 10.9.0.1) that answers
 * ping and runs lwiperf's iperf 2 server on port 5001. Then, as root:
 *
 *   hvcomm-bridge /dev/shm/hvcomm-vnet-tap --link edge \
 *                 --tap hvctap0 --tap-addr 10.9.0.1/24 &
 *   ping -c 3 10.9.0.2
 *   iperf -c 10.9.0.2 -t 5
 *
 * (inside `unshare --net` to keep the device private). Ctrl-C stops it.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/vnet.h>

#include "lwip/apps/lwiperf.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void report(void *arg, enum lwiperf_report_type type, const ip_addr_t *la, u16_t lp,
                   const ip_addr_t *ra, u16_t rp, u32_t bytes, u32_t ms, u32_t kbitps)
{
    (void)arg, (void)type, (void)la, (void)lp, (void)rp;
    printf("lwiperf: %s sent %lu bytes in %lu ms, %lu Mbit/s\n", ipaddr_ntoa(ra),
           (unsigned long)bytes, (unsigned long)ms, (unsigned long)(kbitps / 1000u));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *path = "/dev/shm/hvcomm-vnet-tap";
    struct hvc_region_config cfg = {.size = 32u << 20};
    struct hvc_vnet_link_attr attr = {.peer = {HVC_PEER_ANY, HVC_PEER_ANY},
                                      .flags = HVC_VNET_CHECKSUM};
    static struct hvc_region r;
    static struct hvc_vnet v;
    static struct netif nif;
    ip4_addr_t ip, mask, gw;
    struct sigaction sa;
    int rc;

    if (argc == 3 && strcmp(argv[1], "--region") == 0) {
        path = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: vnet_tap [--region PATH]\n");
        return 2;
    }
    if ((rc = hvc_region_format(&r, hvc_platform_posix(), path, &cfg)) < 0 ||
        (rc = hvc_peer_join(&r, "tap-guest")) < 0 ||
        (rc = hvc_vnet_link_create(&r, "edge", &attr)) < 0 ||
        (rc = hvc_vnet_open(&v, &r, "edge", NULL)) < 0) {
        fprintf(stderr, "vnet_tap: %s: %s\n", path, hvc_strerror(rc));
        return 1;
    }
    lwip_init();
    IP4_ADDR(&ip, 10, 9, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 9, 0, 1);
    netif_add(&nif, &ip, &mask, &gw, &v, hvc_vnet_netif_init, ethernet_input);
    netif_set_default(&nif);
    netif_set_up(&nif);
    lwiperf_start_tcp_server_default(report, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("vnet_tap: guest 10.9.0.2 on link \"edge\" of %s; now run:\n"
           "  hvcomm-bridge %s --link edge --tap hvctap0 --tap-addr 10.9.0.1/24\n",
           path, path);
    fflush(stdout);
    while (!stop) {
        if (hvc_vnet_poll(&v, 64) == 0)
            hvc_vnet_wait(&v, 10 * 1000 * 1000);
        sys_check_timeouts();
    }
    netif_remove(&nif);
    hvc_vnet_close(&v);
    hvc_region_detach(&r);
    return 0;
}
