/*
 * vnet_iperf: lwIP's lwiperf (iperf 2 compatible) in a guest, over vnet.
 *
 *   vnet_iperf server [--region PATH] [--mtu N]   formats the region, makes
 *                                                 the link, runs an iperf 2
 *                                                 TCP server on 10.0.0.1:5001
 *   vnet_iperf client [--region PATH]             10.0.0.2 runs lwiperf's
 *                                                 client (10 s) against it
 *
 * Both sides print lwiperf's report. The same server is what a Linux
 * `iperf -c` will reach through the bridge's TAP edge (a later step).
 * Link with hvcomm_vnet (lwiperf is part of the hvcomm_lwip build).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/vnet.h>

#include "lwip/apps/lwiperf.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define LINK "iperf"

static struct hvc_region region;
static struct hvc_vnet vnet;
static struct netif nif;
static int reports;

static void step(void)
{
    int n = hvc_vnet_poll(&vnet, 64);

    sys_check_timeouts();
    if (n == 0)
        hvc_vnet_wait(&vnet, 10 * 1000 * 1000);
}

static void report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr,
                   u16_t local_port, const ip_addr_t *remote_addr, u16_t remote_port,
                   u32_t bytes, u32_t ms, u32_t kbitps)
{
    static const char *const names[] = {"server done", "client done", "local error",
                                        "remote error", "remote error", "remote error"};

    (void)arg;
    (void)local_addr;
    (void)local_port;
    (void)remote_port;
    printf("lwiperf %s with %s: %lu bytes in %lu ms, %lu Mbit/s\n",
           (unsigned)type < 6 ? names[type] : "report", ipaddr_ntoa(remote_addr),
           (unsigned long)bytes, (unsigned long)ms, (unsigned long)(kbitps / 1000u));
    fflush(stdout);
    reports++;
}

static int bring_up(int idx)
{
    ip4_addr_t ip, mask, gw;

    lwip_init();
    IP4_ADDR(&ip, 10, 0, 0, idx + 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    if (netif_add(&nif, &ip, &mask, &gw, &vnet, hvc_vnet_netif_init, ethernet_input) == NULL)
        return -1;
    netif_set_default(&nif);
    netif_set_up(&nif);
    while (!netif_is_link_up(&nif))
        step();
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: vnet_iperf server|client [--region PATH] [--mtu N]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = "/dev/shm/hvcomm-vnet-iperf", *role = NULL;
    unsigned long mtu = 65535;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--mtu") == 0 && i + 1 < argc)
            sscanf(argv[++i], "%lu", &mtu);
        else if (role == NULL)
            role = argv[i];
        else
            return usage();
    }
    if (role == NULL || (strcmp(role, "server") != 0 && strcmp(role, "client") != 0))
        return usage();
    if (strcmp(role, "server") == 0) {
        struct hvc_region_config cfg = {.size = 32u << 20};
        struct hvc_vnet_link_attr attr = {.mtu = (uint32_t)mtu,
                                          .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};

        if ((rc = hvc_region_format(&region, hvc_platform_posix(), path, &cfg)) < 0 ||
            (rc = hvc_peer_join(&region, "iperf-server")) < 0 ||
            (rc = hvc_vnet_link_create(&region, LINK, &attr)) < 0 ||
            (rc = hvc_vnet_open(&vnet, &region, LINK, NULL)) < 0) {
            fprintf(stderr, "vnet_iperf: %s\n", hvc_strerror(rc));
            return 1;
        }
        fprintf(stderr, "vnet_iperf: iperf 2 server on 10.0.0.1:%d (MTU %lu), waiting\n",
                LWIPERF_TCP_PORT_DEFAULT, mtu);
        if (bring_up(0) < 0 || lwiperf_start_tcp_server_default(report, NULL) == NULL)
            return 1;
        while (reports == 0)
            step();
    } else {
        ip_addr_t dst;

        rc = -HVC_ENOENT;
        for (int i = 0; i < 500 && rc < 0; i++) { /* the server may not be there yet */
            struct timespec ts = {0, 10 * 1000 * 1000};

            rc = hvc_region_attach(&region, hvc_platform_posix(), path, 0);
            if (rc == 0 && (rc = hvc_peer_join(&region, "iperf-client")) >= 0)
                rc = hvc_vnet_open(&vnet, &region, LINK, NULL);
            if (rc < 0) {
                hvc_region_detach(&region);
                nanosleep(&ts, NULL);
            }
        }
        if (rc < 0) {
            fprintf(stderr, "vnet_iperf: %s\n", hvc_strerror(rc));
            return 1;
        }
        IP_ADDR4(&dst, 10, 0, 0, 1);
        if (bring_up(1) < 0 || lwiperf_start_tcp_client_default(&dst, report, NULL) == NULL)
            return 1;
        while (reports == 0)
            step();
    }
    for (int i = 0; i < 20; i++)
        step();
    netif_remove(&nif);
    hvc_vnet_close(&vnet);
    hvc_region_detach(&region);
    return 0;
}
