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

#include "lwip/apps/lwiperf.h"

#include "vnet_guest.h"

#define LINK "iperf"

#define IDLE_NS (10 * 1000 * 1000)

static struct vnet_guest g;
static int reports;

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
        rc = vnet_guest_create(&g, path, "iperf-server", LINK, (uint32_t)mtu, 32u << 20);
        if (rc < 0) {
            fprintf(stderr, "vnet_iperf: %s\n", hvc_strerror(rc));
            return 1;
        }
        fprintf(stderr, "vnet_iperf: iperf 2 server on 10.0.0.1:%d (MTU %lu), waiting\n",
                LWIPERF_TCP_PORT_DEFAULT, mtu);
        if (vnet_guest_up(&g, 0) < 0 || lwiperf_start_tcp_server_default(report, NULL) == NULL)
            return 1;
    } else {
        ip_addr_t dst;

        /* The server may not be there yet. */
        if ((rc = vnet_guest_join(&g, path, "iperf-client", LINK)) < 0) {
            fprintf(stderr, "vnet_iperf: %s\n", hvc_strerror(rc));
            return 1;
        }
        IP_ADDR4(&dst, 10, 0, 0, 1);
        if (vnet_guest_up(&g, 1) < 0 || lwiperf_start_tcp_client_default(&dst, report, NULL) == NULL)
            return 1;
    }
    while (reports == 0)
        vnet_guest_step(&g, IDLE_NS);
    vnet_guest_down(&g);
    return 0;
}
