/* TCP over vnet between two lwIP guests (raw API): a 100 MB transfer with
 * its checksum checked, at MTU 1500 and at 64 KiB; and a peer killed with
 * SIGKILL mid-transfer: the survivor's connection fails cleanly, its link
 * goes down, and after a new process rejoins, a new connection works. */
#define _GNU_SOURCE
#include "testutil.h"
#include "vnettest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwip/tcp.h"

#define PORT 5001
#define MB (1024u * 1024u)

static const char *g_path;
static uint64_t g_total; /* bytes the client sends; UINT64_MAX: until killed */

static void setup(void)
{
    hvct_leak_setup();
}

/* ---- connection state (one process, one guest) ---- */

struct conn {
    struct tcp_pcb *pcb;
    uint64_t bytes;     /* received (server) or queued (client) */
    uint64_t acked;     /* client: acknowledged */
    uint64_t hash;
    uint64_t seen;      /* server: bytes at the last poll */
    err_t err;          /* from the error callback, ERR_OK if none */
    int failed;         /* the error callback ran */
    int closed;         /* server: FIN seen; client: closed after all acked */
};

static struct conn conns[4];
static int nconns;

static void conn_err(void *arg, err_t err)
{
    struct conn *c = arg;

    c->pcb = NULL; /* already freed by lwIP */
    c->err = err;
    c->failed = 1;
}

/* ---- server ---- */

static err_t srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct conn *c = arg;

    (void)err;
    if (p == NULL) {
        c->closed = 1;
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_poll(pcb, NULL, 0);
        c->pcb = NULL;
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    for (struct pbuf *q = p; q != NULL; q = q->next)
        c->hash = vt_fnv(c->hash, q->payload, q->len);
    c->bytes += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

/* Every second: a connection that made no progress while the link is down
 * is given up (lwIP's own retransmission timeout takes minutes). */
static err_t srv_poll(void *arg, struct tcp_pcb *pcb)
{
    struct conn *c = arg;

    if (c->bytes == c->seen && !netif_is_link_up(netif_default)) {
        tcp_abort(pcb); /* runs conn_err(ERR_ABRT) */
        return ERR_ABRT;
    }
    c->seen = c->bytes;
    return ERR_OK;
}

static err_t srv_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct conn *c;

    (void)arg;
    if (err != ERR_OK || pcb == NULL || nconns == 4)
        return ERR_VAL;
    c = &conns[nconns++];
    memset(c, 0, sizeof(*c));
    c->pcb = pcb;
    c->hash = VT_FNV_INIT;
    tcp_arg(pcb, c);
    tcp_recv(pcb, srv_recv);
    tcp_err(pcb, conn_err);
    tcp_poll(pcb, srv_poll, 2);
    return ERR_OK;
}

static struct tcp_pcb *listen_on(void)
{
    struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_ANY);

    if (l == NULL || tcp_bind(l, IP_ANY_TYPE, PORT) != ERR_OK)
        return NULL;
    l = tcp_listen(l);
    if (l != NULL)
        tcp_accept(l, srv_accept);
    return l;
}

/* ---- client ---- */

static void cli_push(struct conn *c)
{
    while (c->pcb != NULL && c->bytes < g_total) {
        /* tcp_sndbuf() reports at most 0xffff even with window scaling */
        uint32_t room = tcp_sndbuf(c->pcb), off = (uint32_t)(c->bytes % VT_PATTERN);
        uint64_t n = VT_PATTERN - off;
        err_t e;

        if (room < 1024 || tcp_sndqueuelen(c->pcb) > TCP_SND_QUEUELEN - 8)
            break;
        if (n > room)
            n = room;
        if (n > g_total - c->bytes)
            n = g_total - c->bytes;
        e = tcp_write(c->pcb, vt_pattern + off, (u16_t)n, TCP_WRITE_FLAG_COPY);
        if (e == ERR_MEM)
            break;
        if (e != ERR_OK) {
            c->failed = 1;
            return;
        }
        c->hash = vt_fnv(c->hash, vt_pattern + off, (size_t)n);
        c->bytes += n;
    }
    if (c->pcb != NULL)
        tcp_output(c->pcb);
}

static err_t cli_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct conn *c = arg;

    c->acked += len;
    if (c->acked == g_total && !c->closed) {
        c->closed = 1;
        tcp_arg(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
        c->pcb = NULL;
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    cli_push(c);
    return ERR_OK;
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct conn *c = arg;

    (void)pcb;
    if (err != ERR_OK)
        return err;
    cli_push(c);
    return ERR_OK;
}

static int cli_connect(struct conn *c)
{
    ip_addr_t dst;

    memset(c, 0, sizeof(*c));
    c->hash = VT_FNV_INIT;
    c->pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (c->pcb == NULL)
        return -1;
    vt_ip4(&dst, 0);
    tcp_arg(c->pcb, c);
    tcp_sent(c->pcb, cli_sent);
    tcp_err(c->pcb, conn_err);
    return tcp_connect(c->pcb, &dst, PORT, cli_connected) == ERR_OK ? 0 : -1;
}

/* ---- transfer: guest 0 receives, guest 1 sends ---- */

static int server_guest(void *arg)
{
    struct vt_guest g;
    struct tcp_pcb *l;
    uint64_t end;

    (void)arg;
    if (vt_guest_start(&g, g_path, 0, NULL) < 0)
        return 10;
    if ((l = listen_on()) == NULL)
        return 11;
    /* The link's checksum setting reached lwIP's per-netif control. */
    if (!!(g.v.port.lflags & HVC_VNET_LF_CHECKSUM) !=
        !!(g.nif.chksum_flags & (NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_GEN_TCP)))
        return 12;
    vt_set(&g.board->flag[0], 1);
    end = vt_ms() + 120000;
    while ((nconns == 0 || !(conns[0].closed || conns[0].failed)) && vt_ms() < end)
        vt_guest_step(&g);
    if (getenv("VT_DEBUG")) {
        struct hvc_vnet_stats st;

        hvc_vnet_stats(&g.v, &st);
        fprintf(stderr, "server: tx %llu rx %llu zc %llu full %u nomem %u down %u\n",
                (unsigned long long)st.tx_frames, (unsigned long long)st.rx_frames,
                (unsigned long long)st.rx_zerocopy, st.drop_full, st.drop_nomem, st.drop_down);
    }
    vt_set64(&g.board->big[0], nconns ? conns[0].bytes : 0);
    vt_set64(&g.board->big[1], nconns ? conns[0].hash : 0);
    vt_set(&g.board->flag[1], 1);
    for (int i = 0; i < 50; i++) /* let the FIN's ACK go out */
        vt_guest_step(&g);
    tcp_close(l);
    vt_guest_stop(&g);
    return nconns == 1 && conns[0].closed ? 0 : 20;
}

static int client_guest(void *arg)
{
    struct vt_guest g;
    struct conn *c = &conns[0];
    uint64_t t0, end;

    (void)arg;
    if (vt_guest_start(&g, g_path, 1, NULL) < 0)
        return 10;
    if (!vt_guest_wait_up(&g, 10000) || !vt_guest_wait_flag(&g, 0, 1, 10000))
        return 11;
    t0 = hvct_now_ns();
    if (cli_connect(c) < 0)
        return 12;
    end = vt_ms() + 120000;
    while (!c->closed && !c->failed && vt_ms() < end) {
        vt_guest_step(&g);
        if (c->pcb != NULL)
            cli_push(c); /* also after ERR_MEM from tcp_write */
    }
    vt_set64(&g.board->big[4], hvct_now_ns() - t0);
    if (getenv("VT_DEBUG")) {
        struct hvc_vnet_stats st;

        hvc_vnet_stats(&g.v, &st);
        fprintf(stderr, "client: tx %llu rx %llu zc %llu full %u nomem %u down %u\n",
                (unsigned long long)st.tx_frames, (unsigned long long)st.rx_frames,
                (unsigned long long)st.rx_zerocopy, st.drop_full, st.drop_nomem, st.drop_down);
    }
    vt_set64(&g.board->big[2], c->bytes);
    vt_set64(&g.board->big[3], c->hash);
    if (g_total != UINT64_MAX)
        vt_guest_wait_flag(&g, 1, 1, 10000);
    vt_guest_stop(&g);
    return c->closed && !c->failed ? 0 : 20 + c->failed;
}

static void transfer(const char *tag, uint32_t mtu, uint64_t total, uint32_t flags)
{
    struct hvc_vnet_link_attr attr = {.mtu = mtu, .peer = {HVC_PEER_ANY, HVC_PEER_ANY},
                                      .flags = flags};
    struct hvc_region r;
    struct vt_board *b;
    pid_t a, c;
    double ms;

    g_path = hvct_region_path(tag);
    g_total = total;
    b = vt_setup(&r, g_path, &attr);
    ck_assert_ptr_nonnull(b);
    a = hvct_fork(server_guest, NULL);
    c = hvct_fork(client_guest, NULL);
    ck_assert_int_eq(hvct_wait(c), 0);
    ck_assert_int_eq(hvct_wait(a), 0);
    ck_assert_uint_eq(vt_get64(&b->big[0]), total);
    ck_assert_uint_eq(vt_get64(&b->big[2]), total);
    ck_assert_uint_eq(vt_get64(&b->big[1]), vt_get64(&b->big[3]));
    ms = (double)vt_get64(&b->big[4]) / 1e6;
    fprintf(stderr, "vnet tcp, MTU %u%s: %llu MB in %.0f ms (%.0f MB/s), checksum %016llx ok\n",
            mtu, flags ? " with IP/TCP checksums" : "", (unsigned long long)(total / MB), ms, (double)total / MB / (ms / 1e3),
            (unsigned long long)vt_get64(&b->big[1]));
    hvct_assert_rc(hvc_region_detach(&r), 0);
}

START_TEST(tcp_100mb_mtu1500)
{
    transfer("tcp1500", 1500, 100ull * MB, 0);
}
END_TEST

START_TEST(tcp_100mb_mtu64k)
{
    transfer("tcp64k", 65535, 100ull * MB, 0);
}
END_TEST

/* A link with checksums on (as a TAP edge will have): lwIP generates and
 * checks them on both ends. */
START_TEST(tcp_checksummed_link)
{
    transfer("tcpsum", 9000, 16ull * MB, HVC_VNET_CHECKSUM);
}
END_TEST

/* ---- a peer killed mid-transfer ---- */

static int kill_server(void *arg)
{
    struct vt_guest g;
    struct tcp_pcb *l;
    uint64_t end;
    int rc = 0;

    (void)arg;
    if (vt_guest_start(&g, g_path, 0, NULL) < 0)
        return 10;
    if ((l = listen_on()) == NULL)
        return 11;
    vt_set(&g.board->flag[0], 1);
    /* First connection: runs until the client dies. */
    end = vt_ms() + 60000;
    while (!(nconns >= 1 && conns[0].failed && g.link_down >= 1) && vt_ms() < end) {
        vt_guest_step(&g);
        if (nconns >= 1)
            vt_set64(&g.board->big[0], conns[0].bytes);
    }
    if (!(nconns >= 1 && conns[0].failed && g.link_down >= 1))
        rc = 20;
    g.board->value[0] = (uint32_t)(int32_t)conns[0].err;
    g.board->value[1] = g.link_down;
    vt_set(&g.board->flag[1], 1); /* failed cleanly and saw the link go */
    /* Second connection, from the new process. */
    end = vt_ms() + 60000;
    while (!(nconns >= 2 && (conns[1].closed || conns[1].failed)) && vt_ms() < end)
        vt_guest_step(&g);
    if (rc == 0 && !(nconns == 2 && conns[1].closed && g.link_up >= 2))
        rc = 21;
    vt_set64(&g.board->big[1], nconns >= 2 ? conns[1].bytes : 0);
    vt_set64(&g.board->big[2], nconns >= 2 ? conns[1].hash : 0);
    g.board->value[2] = g.link_up;
    if (getenv("VT_DEBUG")) {
        struct hvc_vnet_stats st;

        hvc_vnet_stats(&g.v, &st);
        fprintf(stderr, "kill server: nconns %d c1 closed %d failed %d err %d bytes %llu up %u down %u; "
                "tx %llu rx %llu full %u down %u bad %u\n", nconns, conns[1].closed, conns[1].failed,
                conns[1].err, (unsigned long long)conns[1].bytes, g.link_up, g.link_down,
                (unsigned long long)st.tx_frames, (unsigned long long)st.rx_frames, st.drop_full,
                st.drop_down, st.drop_bad);
    }
    vt_set(&g.board->flag[2], 1);
    for (int i = 0; i < 50; i++)
        vt_guest_step(&g);
    tcp_close(l);
    vt_guest_stop(&g);
    return rc;
}

static int rejoin_client(void *arg)
{
    struct vt_guest g;
    struct conn *c = &conns[0];
    uint64_t end;

    (void)arg;
    g_total = 4ull * MB;
    if (vt_guest_start(&g, g_path, 1, NULL) < 0)
        return 10;
    if (!vt_guest_wait_up(&g, 10000))
        return 11;
    if (cli_connect(c) < 0)
        return 12;
    end = vt_ms() + 30000;
    while (!c->closed && !c->failed && vt_ms() < end) {
        vt_guest_step(&g);
        if (c->pcb != NULL)
            cli_push(c);
    }
    vt_set64(&g.board->big[3], c->hash);
    if (getenv("VT_DEBUG")) {
        struct hvc_vnet_stats st;

        hvc_vnet_stats(&g.v, &st);
        fprintf(stderr, "rejoin: tx %llu rx %llu full %u down %u bad %u\n",
                (unsigned long long)st.tx_frames, (unsigned long long)st.rx_frames,
                st.drop_full, st.drop_down, st.drop_bad);
    }
    if (getenv("VT_DEBUG"))
        fprintf(stderr, "rejoin client: closed %d failed %d err %d bytes %llu acked %llu\n",
                c->closed, c->failed, c->err, (unsigned long long)c->bytes,
                (unsigned long long)c->acked);
    vt_guest_wait_flag(&g, 2, 1, 10000);
    vt_guest_stop(&g);
    return c->closed && !c->failed ? 0 : 20 + c->failed;
}

START_TEST(peer_killed_then_rejoins)
{
    struct hvc_vnet_link_attr attr = {.peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct hvc_region r;
    struct vt_board *b;
    pid_t a, c, c2;
    uint64_t end;

    g_path = hvct_region_path("kill");
    g_total = UINT64_MAX;
    b = vt_setup(&r, g_path, &attr);
    ck_assert_ptr_nonnull(b);
    a = hvct_fork(kill_server, NULL);
    c = hvct_fork(client_guest, NULL);
    end = vt_ms() + 60000;
    while (vt_get64(&b->big[0]) < 20ull * MB && vt_ms() < end)
        usleep(2000);
    ck_assert_uint_ge(vt_get64(&b->big[0]), 20ull * MB);
    ck_assert_int_eq(kill(c, SIGKILL), 0);
    ck_assert_int_eq(hvct_wait(c), 128 + SIGKILL);
    end = vt_ms() + 30000;
    while (vt_get(&b->flag[1]) == 0 && vt_ms() < end)
        usleep(2000);
    ck_assert_uint_eq(vt_get(&b->flag[1]), 1);
    ck_assert_int_eq((int32_t)b->value[0], ERR_ABRT); /* our timeout gave up */
    ck_assert_uint_ge(b->value[1], 1);                 /* link went down */
    c2 = hvct_fork(rejoin_client, NULL);
    ck_assert_int_eq(hvct_wait(c2), 0);
    ck_assert_int_eq(hvct_wait(a), 0);
    ck_assert_uint_eq(vt_get64(&b->big[1]), 4ull * MB);
    ck_assert_uint_eq(vt_get64(&b->big[2]), vt_get64(&b->big[3]));
    ck_assert_uint_ge(b->value[2], 2); /* up, down, up again */
    hvct_assert_rc(hvc_region_detach(&r), 0);
}
END_TEST

int main(void)
{
    vt_pattern_init();
    if (getenv("VT_ONLY_KILL") == NULL) {
    }
    return hvct_main("vnet_tcp", setup, hvct_leak_teardown, 300,
                     HVCT_TESTS(tcp_100mb_mtu1500, tcp_100mb_mtu64k, tcp_checksummed_link,
                                peer_killed_then_rejoins));
}
