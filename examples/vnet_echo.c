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

#include "vnet_guest.h"

#define LINK "echo"
#define PORT 7
#define IDLE_NS (10 * 1000 * 1000)

static struct vnet_guest g;
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

static int fail(int rc)
{
    fprintf(stderr, "vnet_echo: %s\n", hvc_strerror(rc));
    return 1;
}

static int server(const char *path, uint32_t mtu)
{
    struct tcp_pcb *l;
    int rc;

    if ((rc = vnet_guest_create(&g, path, "echo-server", LINK, mtu, 16u << 20)) < 0)
        return fail(rc);
    fprintf(stderr, "vnet_echo: 10.0.0.1, waiting for the other guest\n");
    if ((rc = vnet_guest_up(&g, 0)) < 0)
        return fail(rc);
    fprintf(stderr, "vnet_echo: link up\n");
    if ((l = vnet_guest_echo_listen(PORT, &done)) == NULL)
        return fail(-HVC_ENOMEM);
    while (!done)
        vnet_guest_step(&g, IDLE_NS);
    fprintf(stderr, "vnet_echo: client closed; bye\n");
    tcp_close(l);
    vnet_guest_down(&g);
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
    int rc;

    /* The server may not be there yet. */
    if ((rc = vnet_guest_join(&g, path, "echo-client", LINK)) < 0)
        return fail(rc);
    fprintf(stderr, "vnet_echo: 10.0.0.2, waiting for the other guest\n");
    if ((rc = vnet_guest_up(&g, 1)) < 0 || (conn = tcp_new_ip_type(IPADDR_TYPE_V4)) == NULL)
        return fail(rc < 0 ? rc : -HVC_ENOMEM);
    fprintf(stderr, "vnet_echo: link up\n");
    IP_ADDR4(&dst, 10, 0, 0, 1);
    tcp_nagle_disable(conn);
    tcp_recv(conn, cli_recv);
    tcp_err(conn, cli_err);
    if (tcp_connect(conn, &dst, PORT, cli_connected) != ERR_OK)
        return 1;
    while (conn != NULL && conn->state != ESTABLISHED)
        vnet_guest_step(&g, IDLE_NS);
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
            vnet_guest_step(&g, IDLE_NS);
        printf("%.*s  (%llu us)\n", (int)echo_got, echo_buf, (unsigned long long)(now_us() - t0));
    }
    if (conn != NULL) {
        tcp_err(conn, NULL);
        tcp_recv(conn, NULL);
        if (tcp_close(conn) != ERR_OK)
            tcp_abort(conn);
    }
    vnet_guest_down(&g);
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
