/*
 * The demo's vnet step: a TCP echo over a vnet link between the two guests,
 * each with its own lwIP (NO_SYS=1, raw API) and its own netif.
 *
 * The system file declares the link "demo-vnet" with guest A on one end
 * and guest B on the other, and each end's address. Guest A (role 0) runs
 * an echo server on its address, port 7; guest B (role 1) connects from its
 * own, sends a few lines one at a time, and prints each echo with its
 * round trip.
 *
 * Link with hvcomm_vnet (and so lwIP). lwip_init() runs here: call this
 * once per process.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/system.h>
#include <hvcomm/vnet.h>

#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "vnet_guest.h"

int demo_vnet(struct hvc_region *r, const struct hvc_system *sys, int role, FILE *out);

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
    uint32_t ip[2];      /* each end's address (host order), from the system */
    uint8_t prefix[2];   /* and its prefix */
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
    ip4_addr_set_u32(&ip, lwip_htonl(d->ip[idx]));
    ip4_addr_set_u32(&mask, lwip_htonl(d->prefix[idx] ? ~0u << (32 - d->prefix[idx]) : 0));
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
    struct tcp_pcb *l;
    int rc;

    rc = hvc_vnet_open(&d->v, d->r, DV_LINK, NULL); /* the system made the link */
    if (rc < 0) {
        fprintf(d->out, "  vnet: cannot open link: %s\n", hvc_strerror(rc));
        return rc;
    }
    fprintf(d->out, "  vnet: link '%s' (MTU 1500), TCP echo server on %u.%u.%u.%u:%d\n",
            DV_LINK, (unsigned)(d->ip[0] >> 24), (unsigned)(d->ip[0] >> 16 & 255),
            (unsigned)(d->ip[0] >> 8 & 255), (unsigned)(d->ip[0] & 255), DV_PORT);
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

    rc = hvc_vnet_open(&d->v, d->r, DV_LINK, NULL); /* the system made the link */
    if (rc < 0) {
        fprintf(d->out, "  vnet: cannot open link: %s\n", hvc_strerror(rc));
        return rc;
    }
    if (dv_up(d, 1) < 0) {
        fprintf(d->out, "  vnet: guest A never came up\n");
        dv_down(d);
        return -HVC_ETIMEDOUT;
    }
    fprintf(d->out, "  vnet: link up, connecting from %u.%u.%u.%u to %u.%u.%u.%u:%d\n",
            (unsigned)(d->ip[1] >> 24), (unsigned)(d->ip[1] >> 16 & 255),
            (unsigned)(d->ip[1] >> 8 & 255), (unsigned)(d->ip[1] & 255),
            (unsigned)(d->ip[0] >> 24), (unsigned)(d->ip[0] >> 16 & 255),
            (unsigned)(d->ip[0] >> 8 & 255), (unsigned)(d->ip[0] & 255), DV_PORT);
    IP_ADDR4(&dst, (u8_t)(d->ip[0] >> 24), (u8_t)(d->ip[0] >> 16), (u8_t)(d->ip[0] >> 8),
             (u8_t)d->ip[0]);
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

int demo_vnet(struct hvc_region *r, const struct hvc_system *sys, int role, FILE *out)
{
    static struct dv d; /* lwIP keeps pointers to the netif: not on a stack that ends */
    int i, rc;

    if (r == NULL || sys == NULL || out == NULL || (role != 0 && role != 1))
        return -HVC_EINVAL;
    memset(&d, 0, sizeof(d));
    d.r = r;
    d.out = out;
    /* This guest's end of the link (and so the peer's), as the file says. */
    rc = hvc_system_vnet_end(r, sys, DV_LINK, NULL);
    if (rc < 0)
        return rc;
    i = hvc_system_object_find(sys, DV_LINK);
    for (int e = 0; e < 2; e++) {
        d.ip[e] = sys->objects[i].end[e].ipv4;
        d.prefix[e] = sys->objects[i].end[e].prefix;
    }
    if (d.ip[0] == 0 || d.ip[1] == 0)
        return -HVC_EINVAL; /* the demo needs an address on each end */
    return role == 0 ? dv_server(&d) : dv_client(&d);
}
