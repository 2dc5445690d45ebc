/* See vnet_stack.h. A compact NO_SYS=1 lwIP loop in the way of
 * examples/vnet_echo.c: hvc_vnet_poll(), sys_check_timeouts(), and
 * hvc_vnet_wait() when the ring was empty. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/vnet.h>

#include "lwip/def.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/prot/icmp.h"
#include "lwip/raw.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "vnet_stack.h"

#define PING_ID 0x4856 /* "HV" */
#define PING_DATA 56

char ivs_vnet_error[160];

static struct hvc_vnet vnet;
static struct netif nif;
static int started;
static int slept;                   /* the last wait blocked and returned early */
static uint64_t frame_wakes, idle_timeouts;
static void (*tick_fn)(void);

static struct raw_pcb *ping_pcb;
static uint16_t ping_seq;
static uint64_t ping_answered; /* now_ns() of the awaited answer, 0 before */

static struct tcp_pcb *listener, *conn;
static int conn_closed, conn_failed;
static uint64_t echoed;
static uint8_t *back_buf;
static size_t back_want, back_got;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 1, 2))) static int set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ivs_vnet_error, sizeof(ivs_vnet_error), fmt, ap);
    va_end(ap);
    return -1;
}

void ivs_vnet_set_tick(void (*tick)(void))
{
    tick_fn = tick;
}

/* Sleeps are counted through the public API only: a wait that ran out is
 * an idle sleep; a wait that lasted past the ring's spin (20 us at most)
 * and was followed by frames was a sleep ended by the other end's
 * doorbell. */
void ivs_vnet_step(void)
{
    int n = hvc_vnet_poll(&vnet, 64);

    if (slept && n > 0)
        frame_wakes++;
    slept = 0;
    sys_check_timeouts();
    if (tick_fn != NULL)
        tick_fn();
    if (n == 0) {
        uint64_t t0 = now_ns();
        int rc = hvc_vnet_wait(&vnet, 10 * 1000 * 1000);

        if (rc == -HVC_ETIMEDOUT)
            idle_timeouts++;
        else if (rc == 0 && now_ns() - t0 >= 100 * 1000)
            slept = 1;
    }
}

static void addr_of(ip_addr_t *a, unsigned idx)
{
    IP_ADDR4(a, 10, 0, 0, idx + 1);
}

int ivs_vnet_start(struct hvc_region *r, const char *link, unsigned idx)
{
    ip4_addr_t ip, mask, gw;
    int rc;

    if ((rc = hvc_vnet_open(&vnet, r, link, NULL)) < 0)
        return set_error("hvc_vnet_open %s: %s", link, hvc_strerror(rc));
    lwip_init();
    IP4_ADDR(&ip, 10, 0, 0, idx + 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    if (netif_add(&nif, &ip, &mask, &gw, &vnet, hvc_vnet_netif_init, ethernet_input) == NULL) {
        hvc_vnet_close(&vnet);
        return set_error("netif_add failed");
    }
    netif_set_default(&nif);
    netif_set_up(&nif);
    started = 1;
    return 0;
}

int ivs_vnet_wait_up(uint64_t timeout_ns)
{
    uint64_t t0 = now_ns();

    while (!netif_is_link_up(&nif)) {
        if (now_ns() - t0 > timeout_ns)
            return set_error("link not up after %.0f s", (double)timeout_ns / 1e9);
        ivs_vnet_step();
    }
    return 0;
}

void ivs_vnet_run_for(uint64_t ns)
{
    uint64_t t0 = now_ns();

    while (now_ns() - t0 < ns)
        ivs_vnet_step();
}

/* ---- ICMP echo (raw API) ---- */

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
    struct icmp_echo_hdr hdr;

    (void)arg;
    (void)pcb;
    (void)addr;
    /* A raw ICMP pcb sees the IPv4 header first. */
    if (p->tot_len < IP_HLEN + sizeof(hdr) ||
        pbuf_copy_partial(p, &hdr, sizeof(hdr), IP_HLEN) != sizeof(hdr))
        return 0;
    if (hdr.type != ICMP_ER || hdr.id != PP_HTONS(PING_ID) || lwip_ntohs(hdr.seqno) != ping_seq)
        return 0; /* not ours: let lwIP have it */
    ping_answered = now_ns();
    pbuf_free(p);
    return 1;
}

int ivs_vnet_ping(unsigned idx, uint16_t seq, uint64_t timeout_ns, uint64_t *rtt_ns)
{
    const size_t len = sizeof(struct icmp_echo_hdr) + PING_DATA;
    struct icmp_echo_hdr *hdr;
    ip_addr_t dst;
    struct pbuf *p;
    uint64_t t0;
    err_t err;

    if (ping_pcb == NULL) {
        if ((ping_pcb = raw_new(IP_PROTO_ICMP)) == NULL)
            return set_error("raw_new failed");
        raw_recv(ping_pcb, ping_recv, NULL);
        raw_bind(ping_pcb, IP_ADDR_ANY);
    }
    if ((p = pbuf_alloc(PBUF_IP, (u16_t)len, PBUF_RAM)) == NULL)
        return set_error("pbuf_alloc failed");
    hdr = p->payload;
    ICMPH_TYPE_SET(hdr, ICMP_ECHO);
    ICMPH_CODE_SET(hdr, 0);
    hdr->chksum = 0;
    hdr->id = PP_HTONS(PING_ID);
    hdr->seqno = lwip_htons(seq);
    for (size_t i = 0; i < PING_DATA; i++)
        ((uint8_t *)(hdr + 1))[i] = (uint8_t)(i + seq);
    hdr->chksum = inet_chksum(hdr, (u16_t)len);
    addr_of(&dst, idx);
    ping_seq = seq;
    ping_answered = 0;
    t0 = now_ns();
    err = raw_sendto(ping_pcb, p, &dst);
    pbuf_free(p);
    if (err != ERR_OK)
        return set_error("raw_sendto: lwIP error %d", (int)err);
    while (ping_answered == 0) {
        if (now_ns() - t0 > timeout_ns)
            return set_error("no echo reply to seq %u", seq);
        ivs_vnet_step();
    }
    *rtt_ns = ping_answered - t0;
    return 0;
}

/* ---- TCP echo: server ---- */

static err_t srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        conn_closed = 1;
        tcp_recv(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    for (struct pbuf *q = p; q != NULL; q = q->next)
        if (tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY) != ERR_OK)
            conn_failed = 1;
    tcp_output(pcb);
    echoed += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void tcp_failed(void *arg, err_t err)
{
    (void)arg;
    (void)err;
    conn = NULL; /* lwIP freed the pcb */
    conn_failed = 1;
}

static err_t srv_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, srv_recv);
    tcp_err(pcb, tcp_failed);
    return ERR_OK;
}

int ivs_vnet_echo_serve(uint64_t timeout_ns)
{
    struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_V4);
    uint64_t t0 = now_ns();

    if (l == NULL || tcp_bind(l, IP4_ADDR_ANY, IVS_VNET_PORT) != ERR_OK ||
        (listener = tcp_listen(l)) == NULL)
        return set_error("cannot listen on port %d", IVS_VNET_PORT);
    tcp_accept(listener, srv_accept);
    conn_closed = conn_failed = 0;
    echoed = 0;
    while (!conn_closed && !conn_failed) {
        if (now_ns() - t0 > timeout_ns)
            return set_error("echo server: no close after %.0f s (%llu bytes echoed)",
                         (double)timeout_ns / 1e9, (unsigned long long)echoed);
        ivs_vnet_step();
    }
    if (conn_failed)
        return set_error("echo server: connection failed after %llu bytes",
                     (unsigned long long)echoed);
    /* Let our FIN and the last ACKs go out. */
    for (int i = 0; i < 20; i++)
        ivs_vnet_step();
    tcp_close(listener);
    listener = NULL;
    return echoed > INT32_MAX ? INT32_MAX : (int)echoed;
}

/* ---- TCP echo: client ---- */

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        conn_closed = 1;
        return ERR_OK;
    }
    if (back_buf != NULL && back_got < back_want)
        back_got += pbuf_copy_partial(p, back_buf + back_got,
                                      (u16_t)(back_want - back_got < 0xffff ? back_want - back_got
                                                                            : 0xffff), 0);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    return err;
}

int ivs_vnet_echo_connect(unsigned idx, uint64_t timeout_ns)
{
    uint64_t t0 = now_ns();
    ip_addr_t dst;
    err_t err;

    if ((conn = tcp_new_ip_type(IPADDR_TYPE_V4)) == NULL)
        return set_error("tcp_new failed");
    addr_of(&dst, idx);
    tcp_nagle_disable(conn);
    tcp_recv(conn, cli_recv);
    tcp_err(conn, tcp_failed);
    conn_closed = conn_failed = 0;
    if ((err = tcp_connect(conn, &dst, IVS_VNET_PORT, cli_connected)) != ERR_OK)
        return set_error("tcp_connect: lwIP error %d", (int)err);
    while (conn != NULL && conn->state != ESTABLISHED) {
        if (now_ns() - t0 > timeout_ns)
            return set_error("connect: not established after %.0f s", (double)timeout_ns / 1e9);
        ivs_vnet_step();
    }
    if (conn == NULL)
        return set_error("connect failed");
    return 0;
}

int ivs_vnet_echo_round(const void *msg, size_t n, void *back, uint64_t timeout_ns)
{
    uint64_t t0 = now_ns();
    err_t err;

    if (conn == NULL || n > 0xffff || n > tcp_sndbuf(conn))
        return set_error("echo round: no connection or %zu bytes too many", n);
    back_buf = back;
    back_want = n;
    back_got = 0;
    if ((err = tcp_write(conn, msg, (u16_t)n, TCP_WRITE_FLAG_COPY)) != ERR_OK)
        return set_error("tcp_write: lwIP error %d", (int)err);
    tcp_output(conn);
    while (back_got < n) {
        if (conn == NULL || conn_closed)
            return set_error("connection lost after %zu of %zu bytes", back_got, n);
        if (now_ns() - t0 > timeout_ns)
            return set_error("echo: %zu of %zu bytes after %.0f s", back_got, n,
                         (double)timeout_ns / 1e9);
        ivs_vnet_step();
    }
    back_buf = NULL;
    return 0;
}

void ivs_vnet_echo_close(void)
{
    if (conn != NULL) {
        tcp_err(conn, NULL);
        tcp_recv(conn, NULL);
        if (tcp_close(conn) != ERR_OK)
            tcp_abort(conn);
        conn = NULL;
    }
    for (int i = 0; i < 20; i++)
        ivs_vnet_step();
}

void ivs_vnet_sleeps(uint64_t *woken, uint64_t *timeouts)
{
    *woken = frame_wakes;
    *timeouts = idle_timeouts;
}

void ivs_vnet_frames(uint64_t *tx, uint64_t *rx)
{
    struct hvc_vnet_stats st;

    memset(&st, 0, sizeof(st));
    hvc_vnet_stats(&vnet, &st);
    *tx = st.tx_frames;
    *rx = st.rx_frames;
}

void ivs_vnet_stop(void)
{
    if (!started)
        return;
    if (ping_pcb != NULL) {
        raw_remove(ping_pcb);
        ping_pcb = NULL;
    }
    netif_remove(&nif);
    hvc_vnet_close(&vnet);
    started = 0;
}
