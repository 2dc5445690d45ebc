/*
 * vnet_echo: a TCP echo server and client over a vnet link, as two separate
 * program runs (two guests), each with its own lwIP (NO_SYS=1, raw API).
 *
 *   vnet_echo server [--region PATH] [--mtu N]     formats the region, makes
 *                                                  the link, echoes on :7
 *   vnet_echo client [--region PATH] [--count N]   connects from 10.0.0.2,
 *                                                  sends lines, times echoes
 *
 * The client sends the lines of its standard input, or with --count N that
 * many generated lines, and prints each echo with its round-trip time.
 * Link with hvcomm_vnet.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/vnet.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define LINK "echo"
#define PORT 7

static struct hvc_region region;
static struct hvc_vnet vnet;
static struct netif nif;
static struct tcp_pcb *conn;
static char echo_buf[4096];
static size_t echo_got;
static int done;

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The main loop's turn: frames in, lwIP timers, sleep when idle. */
static void step(void)
{
    int n = hvc_vnet_poll(&vnet, 64);

    sys_check_timeouts();
    if (n == 0)
        hvc_vnet_wait(&vnet, 10 * 1000 * 1000);
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
    fprintf(stderr, "vnet_echo: 10.0.0.%d, waiting for the other guest\n", idx + 1);
    while (!netif_is_link_up(&nif))
        step();
    fprintf(stderr, "vnet_echo: link up\n");
    return 0;
}

static err_t srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        done = 1;
        tcp_recv(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    for (struct pbuf *q = p; q != NULL; q = q->next)
        tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
    tcp_output(pcb);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t srv_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, srv_recv);
    fprintf(stderr, "vnet_echo: client connected\n");
    return ERR_OK;
}

static int server(const char *path, uint32_t mtu)
{
    struct hvc_region_config cfg = {.size = 16u << 20};
    struct hvc_vnet_link_attr attr = {.mtu = mtu, .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct tcp_pcb *l;
    int rc;

    if ((rc = hvc_region_format(&region, hvc_platform_posix(), path, &cfg)) < 0 ||
        (rc = hvc_peer_join(&region, "echo-server")) < 0 ||
        (rc = hvc_vnet_link_create(&region, LINK, &attr)) < 0 ||
        (rc = hvc_vnet_open(&vnet, &region, LINK, NULL)) < 0) {
        fprintf(stderr, "vnet_echo: %s\n", hvc_strerror(rc));
        return 1;
    }
    if (bring_up(0) < 0)
        return 1;
    l = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (l == NULL || tcp_bind(l, IP4_ADDR_ANY, PORT) != ERR_OK || (l = tcp_listen(l)) == NULL)
        return 1;
    tcp_accept(l, srv_accept);
    while (!done)
        step();
    for (int i = 0; i < 20; i++)
        step();
    fprintf(stderr, "vnet_echo: client closed; bye\n");
    tcp_close(l);
    netif_remove(&nif);
    hvc_vnet_close(&vnet);
    hvc_region_detach(&region);
    return 0;
}

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        done = 1;
        return ERR_OK;
    }
    if (echo_got < sizeof(echo_buf))
        echo_got += pbuf_copy_partial(p, echo_buf + echo_got,
                                      (u16_t)(sizeof(echo_buf) - echo_got), 0);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void cli_err(void *arg, err_t err)
{
    (void)arg;
    fprintf(stderr, "vnet_echo: connection failed (lwIP error %d)\n", (int)err);
    conn = NULL;
    done = 1;
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    return err;
}

static int client(const char *path, long count)
{
    ip_addr_t dst;
    char line[1024];
    int rc = -HVC_ENOENT;

    for (int i = 0; i < 500 && rc < 0; i++) { /* the server may not be there yet */
        struct timespec ts = {0, 10 * 1000 * 1000};

        rc = hvc_region_attach(&region, hvc_platform_posix(), path, 0);
        if (rc == 0 && (rc = hvc_peer_join(&region, "echo-client")) >= 0)
            rc = hvc_vnet_open(&vnet, &region, LINK, NULL);
        if (rc < 0) {
            hvc_region_detach(&region);
            nanosleep(&ts, NULL);
        }
    }
    if (rc < 0) {
        fprintf(stderr, "vnet_echo: %s\n", hvc_strerror(rc));
        return 1;
    }
    if (bring_up(1) < 0 || (conn = tcp_new_ip_type(IPADDR_TYPE_V4)) == NULL)
        return 1;
    IP_ADDR4(&dst, 10, 0, 0, 1);
    tcp_nagle_disable(conn);
    tcp_recv(conn, cli_recv);
    tcp_err(conn, cli_err);
    if (tcp_connect(conn, &dst, PORT, cli_connected) != ERR_OK)
        return 1;
    while (conn != NULL && conn->state != ESTABLISHED)
        step();
    for (long i = 0; conn != NULL && (count > 0 ? i < count : 1); i++) {
        size_t n;
        uint64_t t0;

        if (count > 0) {
            snprintf(line, sizeof(line), "line %ld over vnet", i);
        } else if (fgets(line, sizeof(line), stdin) == NULL) {
            break;
        }
        line[strcspn(line, "\n")] = '\0';
        n = strlen(line);
        if (n == 0)
            continue;
        echo_got = 0;
        t0 = now_us();
        if (tcp_write(conn, line, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        tcp_output(conn);
        while (conn != NULL && echo_got < n && !done)
            step();
        printf("%.*s  (%llu us)\n", (int)echo_got, echo_buf, (unsigned long long)(now_us() - t0));
    }
    if (conn != NULL) {
        tcp_err(conn, NULL);
        tcp_recv(conn, NULL);
        if (tcp_close(conn) != ERR_OK)
            tcp_abort(conn);
    }
    for (int i = 0; i < 20; i++)
        step();
    netif_remove(&nif);
    hvc_vnet_close(&vnet);
    hvc_region_detach(&region);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = "/dev/shm/hvcomm-vnet-echo", *role = NULL;
    uint32_t mtu = 1500;
    long count = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--mtu") == 0 && i + 1 < argc)
            mtu = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = strtol(argv[++i], NULL, 0);
        else if (role == NULL)
            role = argv[i];
    }
    if (role != NULL && strcmp(role, "server") == 0)
        return server(path, mtu);
    if (role != NULL && strcmp(role, "client") == 0)
        return client(path, count);
    fprintf(stderr, "usage: vnet_echo server|client [--region PATH] [--mtu N] [--count N]\n");
    return 2;
}
