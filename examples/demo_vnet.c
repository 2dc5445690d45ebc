/*
 * The demo's vnet step: a TCP echo over a vnet link between the two guests,
 * each with its own lwIP (NO_SYS=1, raw API) and its own netif.
 *
 * Guest A (role 0) creates the link "demo-vnet" and runs an echo server on
 * 10.0.0.1:7; guest B (role 1) opens the link, connects from 10.0.0.2,
 * sends a few lines one at a time, and prints each echo with its round trip.
 *
 * Link with hvcomm_vnet (and so lwIP). lwip_init() runs here: call this
 * once per process.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/vnet.h>

#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "vnet_guest.h"

int demo_vnet(struct hvc_region *r, int role, FILE *out);

#define DV_LINK "demo-vnet"
#define DV_PORT 7
#define DV_WAIT_MS 30000u

static const char *const lines[] = {
    "hello from guest B over vnet",
    "ordinary TCP/IP, lwIP on both sides",
    "frames travel through two shared-memory rings",
};

struct dv {
    struct hvc_region *r;
    struct hvc_vnet v;
    struct netif nif;
    struct tcp_pcb *pcb;
    FILE *out;
    char buf[256];    /* client: echo received so far */
    size_t got;
    int closed;       /* server: client closed; client: error */
};

static uint64_t dv_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t dv_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One main-loop turn: input, lwIP timers, sleep up to 1 ms when idle. */
static void dv_step(struct dv *d)
{
    if (hvc_vnet_poll(&d->v, 64) == 0) {
        sys_check_timeouts();
        hvc_vnet_wait(&d->v, 1000000);
    } else {
        sys_check_timeouts();
    }
}

static int dv_up(struct dv *d, int idx)
{
    ip4_addr_t ip, mask, gw;

    lwip_init();
    IP4_ADDR(&ip, 10, 0, 0, idx + 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    if (netif_add(&d->nif, &ip, &mask, &gw, &d->v, hvc_vnet_netif_init, ethernet_input) == NULL)
        return -1;
    netif_set_default(&d->nif);
    netif_set_up(&d->nif);
    for (uint64_t end = dv_ms() + DV_WAIT_MS; !netif_is_link_up(&d->nif);) {
        if (dv_ms() > end)
            return -1;
        dv_step(d);
    }
    return 0;
}

static void dv_down(struct dv *d)
{
    struct hvc_vnet_stats st;

    hvc_vnet_stats(&d->v, &st);
    /* Received frames are copied out of the other guest's ring (the
     * default: zero-copy is only for a trusted peer). */
    fprintf(d->out, "  vnet: %llu frames out, %llu in (%llu copied), %u dropped\n",
            (unsigned long long)st.tx_frames, (unsigned long long)st.rx_frames,
            (unsigned long long)(st.rx_frames - st.rx_zerocopy),
            st.drop_short + st.drop_long + st.drop_bad + st.drop_full + st.drop_nomem);
    netif_remove(&d->nif);
    hvc_vnet_close(&d->v);
}

/* ---- guest A: echo server ---- */

static int dv_server(struct dv *d)
{
    struct hvc_vnet_link_attr attr = {.ring_capacity = 256u << 10,
                                      .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct tcp_pcb *l;
    int rc;

    rc = hvc_vnet_link_create(d->r, DV_LINK, &attr);
    if (rc < 0 && rc != -HVC_EEXIST) {
        fprintf(d->out, "  vnet: cannot create link: %s\n", hvc_strerror(rc));
        return rc;
    }
    rc = hvc_vnet_open(&d->v, d->r, DV_LINK, NULL);
    if (rc < 0) {
        fprintf(d->out, "  vnet: cannot open link: %s\n", hvc_strerror(rc));
        return rc;
    }
    fprintf(d->out, "  vnet: link '%s' (MTU 1500), TCP echo server on 10.0.0.1:%d\n",
            DV_LINK, DV_PORT);
    if (dv_up(d, 0) < 0) {
        fprintf(d->out, "  vnet: guest B never came up\n");
        dv_down(d);
        return -HVC_ETIMEDOUT;
    }
    l = vnet_guest_echo_listen(DV_PORT, &d->closed);
    if (l == NULL) {
        dv_down(d);
        return -HVC_ENOMEM;
    }
    for (uint64_t end = dv_ms() + DV_WAIT_MS; !d->closed && dv_ms() < end;)
        dv_step(d);
    for (int i = 0; i < 20; i++) /* let the last ACKs out */
        dv_step(d);
    tcp_close(l);
    fprintf(d->out, "  vnet: %s\n", d->closed ? "guest B connected, was echoed, and closed" : "no client came");
    dv_down(d);
    return d->closed ? 0 : -HVC_ETIMEDOUT;
}

/* ---- guest B: client ---- */

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct dv *d = arg;

    (void)err;
    if (p == NULL) {
        d->closed = 1;
        return ERR_OK;
    }
    if (d->got < sizeof(d->buf))
        d->got += pbuf_copy_partial(p, d->buf + d->got, (u16_t)(sizeof(d->buf) - d->got), 0);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void cli_err(void *arg, err_t err)
{
    struct dv *d = arg;

    (void)err;
    d->pcb = NULL;
    d->closed = 1;
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    return err;
}

static int dv_client(struct dv *d)
{
    ip_addr_t dst;
    int rc = -HVC_ENOENT;

    /* Guest A may still be creating the link. */
    for (uint64_t end = dv_ms() + DV_WAIT_MS; dv_ms() < end;) {
        struct timespec ts = {0, 10 * 1000 * 1000};

        rc = hvc_vnet_open(&d->v, d->r, DV_LINK, NULL);
        if (rc != -HVC_ENOENT && rc != -HVC_ENOTREADY)
            break;
        nanosleep(&ts, NULL);
    }
    if (rc < 0) {
        fprintf(d->out, "  vnet: cannot open link: %s\n", hvc_strerror(rc));
        return rc;
    }
    if (dv_up(d, 1) < 0) {
        fprintf(d->out, "  vnet: guest A never came up\n");
        dv_down(d);
        return -HVC_ETIMEDOUT;
    }
    fprintf(d->out, "  vnet: link up, connecting from 10.0.0.2 to 10.0.0.1:%d\n", DV_PORT);
    IP_ADDR4(&dst, 10, 0, 0, 1);
    /* Guest A may not be listening yet: a refused connection (RST) is
     * tried again, as any client of a server that is starting would. */
    for (uint64_t end = dv_ms() + DV_WAIT_MS; dv_ms() < end;) {
        d->closed = 0;
        d->pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
        if (d->pcb == NULL) {
            dv_down(d);
            return -HVC_ENOMEM;
        }
        tcp_arg(d->pcb, d);
        tcp_recv(d->pcb, cli_recv);
        tcp_err(d->pcb, cli_err);
        if (tcp_connect(d->pcb, &dst, DV_PORT, cli_connected) != ERR_OK) {
            tcp_abort(d->pcb);
            dv_down(d);
            return -HVC_EIO;
        }
        while (d->pcb != NULL && d->pcb->state != ESTABLISHED && !d->closed && dv_ms() < end)
            dv_step(d);
        if (d->pcb != NULL && d->pcb->state == ESTABLISHED)
            break;
        for (int i = 0; i < 20; i++) /* refused: give A a moment */
            dv_step(d);
    }
    rc = d->pcb != NULL && d->pcb->state == ESTABLISHED ? 0 : -HVC_ETIMEDOUT;
    for (size_t i = 0; rc == 0 && i < sizeof(lines) / sizeof(lines[0]); i++) {
        size_t n = strlen(lines[i]);
        uint64_t t0 = dv_us(), end = dv_ms() + DV_WAIT_MS;

        d->got = 0;
        if (tcp_write(d->pcb, lines[i], (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
            rc = -HVC_EIO;
            break;
        }
        tcp_output(d->pcb);
        while (d->got < n && !d->closed && dv_ms() < end)
            dv_step(d);
        if (d->got != n || memcmp(d->buf, lines[i], n) != 0) {
            rc = -HVC_EPROTO;
            break;
        }
        fprintf(d->out, "  vnet: echo \"%.*s\" in %llu us\n", (int)n, d->buf,
                (unsigned long long)(dv_us() - t0));
    }
    if (d->pcb != NULL) {
        tcp_arg(d->pcb, NULL);
        tcp_recv(d->pcb, NULL);
        tcp_err(d->pcb, NULL);
        if (tcp_close(d->pcb) != ERR_OK)
            tcp_abort(d->pcb);
        d->pcb = NULL;
    }
    for (int i = 0; i < 20; i++) /* let the FIN out */
        dv_step(d);
    dv_down(d);
    return rc;
}

int demo_vnet(struct hvc_region *r, int role, FILE *out)
{
    static struct dv d; /* lwIP keeps pointers to the netif: not on a stack that ends */

    if (r == NULL || out == NULL || (role != 0 && role != 1))
        return -HVC_EINVAL;
    memset(&d, 0, sizeof(d));
    d.r = r;
    d.out = out;
    return role == 0 ? dv_server(&d) : dv_client(&d);
}
