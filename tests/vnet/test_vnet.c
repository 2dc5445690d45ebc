/* vnet between two processes, each with its own lwIP: ARP + ping (IPv4 and
 * IPv6) both ways, UDP broadcast and multicast (IGMP and MLD), and a hostile
 * peer writing malformed frames straight into its ring. */
#define _GNU_SOURCE
#include "testutil.h"
#include "vnettest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hvcomm/config.h>

#include "lwip/etharp.h"
#include "lwip/icmp.h"
#include "lwip/icmp6.h"
#include "lwip/igmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/mld6.h"
#include "lwip/prot/icmp6.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/udp.h"

static const char *g_path;
/* Set by the tests that take their system from a file (doc/config.md). */
static struct hvc_config *g_system;

static void setup(void)
{
    hvct_leak_setup();
}

/* The test process's side: region, link, board; children do the rest. */
struct parent {
    struct hvc_region r;
    struct vt_board *board;
};

static void parent_setup(struct parent *pt, const char *tag,
                         const struct hvc_vnet_link_attr *attr)
{
    g_path = hvct_region_path(tag);
    pt->board = vt_setup(&pt->r, g_path, attr);
    ck_assert_ptr_nonnull(pt->board);
}

static void parent_done(struct parent *pt)
{
    hvct_assert_rc(hvc_region_detach(&pt->r), 0);
}

static const struct hvc_vnet_link_attr any_peers = {.peer = {HVC_PEER_ANY, HVC_PEER_ANY}};

/* ---- ping ---- */

static int echo_replies;

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
    u16_t hl = (u16_t)ip_current_header_tot_len();
    u8_t type;

    (void)arg;
    (void)pcb;
    (void)addr;
    if (p->tot_len < hl + 8u || pbuf_copy_partial(p, &type, 1, hl) != 1)
        return 0;
    if ((IP_IS_V6(addr) && type == ICMP6_TYPE_EREP) || (!IP_IS_V6(addr) && type == ICMP_ER)) {
        echo_replies++;
        pbuf_free(p);
        return 1;
    }
    return 0; /* requests go on to lwIP, which answers them */
}

static void send_echo(struct raw_pcb *pcb, const ip_addr_t *dst, int v6, u16_t seq)
{
    struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + 56, PBUF_RAM);
    struct icmp_echo_hdr *h;

    ck_assert_ptr_nonnull(p);
    h = p->payload;
    memset(h, 0xa5, p->len);
    h->type = v6 ? ICMP6_TYPE_EREQ : ICMP_ECHO;
    h->code = 0;
    h->chksum = 0;
    h->id = PP_HTONS(0x7e57);
    h->seqno = lwip_htons(seq);
    if (!v6)
        h->chksum = inet_chksum(h, p->len);
    raw_sendto(pcb, p, dst);
    pbuf_free(p);
}

static int ping_guest(void *arg)
{
    int idx = (int)(intptr_t)arg, other = 1 - idx, rc = 0;
    struct vt_guest g;
    struct raw_pcb *p4, *p6;
    ip_addr_t dst4, dst6;
    struct hvc_vnet_stats st;
    struct eth_addr *mac;
    const ip4_addr_t *ipret;
    struct hvc_vnet_link_info info;
    struct hvc_obj obj;

    if ((g_system != NULL
             ? vt_guest_start_system(&g, g_path, &g_system->system, idx ? "guest-b" : "guest-a",
                                     VT_LINK, NULL)
             : vt_guest_start(&g, g_path, idx, NULL)) < 0 ||
        g.idx != idx)
        return 10;
    if (!vt_guest_wait_up(&g, 10000))
        return 11;
    p4 = raw_new(IP_PROTO_ICMP);
    p6 = raw_new_ip6(IP6_NEXTH_ICMP6);
    raw_recv(p4, ping_recv, NULL);
    raw_recv(p6, ping_recv, NULL);
    p6->chksum_reqd = 1;
    p6->chksum_offset = 2;
    vt_ip4(&dst4, other);
    vt_ip6(&dst6, other);
    for (u16_t i = 0; i < 3; i++) {
        int before = echo_replies;
        uint64_t end = vt_ms() + 5000;

        /* The first ones wait in lwIP for ARP / neighbour discovery. */
        send_echo(p4, &dst4, 0, i);
        send_echo(p6, &dst6, 1, i);
        while (echo_replies < before + 2 && vt_ms() < end)
            vt_guest_step(&g);
        if (echo_replies < before + 2)
            rc = 20 + i;
    }
    /* ARP learnt the other guest's MAC, the one its end announces. */
    if (rc == 0 && (etharp_find_addr(&g.nif, ip_2_ip4(&dst4), &mac, &ipret) < 0 ||
                    hvc_obj_open(&g.r, VT_LINK, HVC_OBJ_VNET, &obj) < 0 ||
                    hvc_vnet_link_info(&g.r, &obj, &info) < 0 ||
                    memcmp(mac->addr, info.mac[g.v.port.end ^ 1u], 6) != 0))
        rc = 30;
    hvc_vnet_stats(&g.v, &st);
    /* The default receive copies: nothing went up from the ring itself. */
    if (rc == 0 && (st.rx_frames < 6 || st.tx_frames < 6 || st.rx_zerocopy != 0 ||
                    st.drop_short + st.drop_long + st.drop_bad + st.drop_full != 0))
        rc = 31;
    /* Keep answering until the other guest is done too. */
    vt_add(&g.board->flag[0], 1);
    if (!vt_guest_wait_flag(&g, 0, 2, 10000) && rc == 0)
        rc = 32;
    for (int i = 0; i < 20; i++)
        vt_guest_step(&g);
    raw_remove(p4);
    raw_remove(p6);
    vt_guest_stop(&g);
    return rc;
}

/* The region, the peers, the board and the link come from a system file,
 * tests/config/systems/vnet_pair.yaml: each guest joins at its declared id
 * and opens its declared end with the file's address. */
START_TEST(ping_both_ways)
{
    struct parent pt;
    pid_t a, b;

    hvct_assert_rc(hvc_system_load(HVCT_SYSTEMS "/vnet_pair.yaml", &g_system, NULL, NULL), 0);
    g_path = hvct_region_path("ping");
    pt.board = vt_setup_system(&pt.r, g_path, &g_system->system);
    ck_assert_ptr_nonnull(pt.board);
    a = hvct_fork(ping_guest, (void *)(intptr_t)0);
    b = hvct_fork(ping_guest, (void *)(intptr_t)1);
    ck_assert_int_eq(hvct_wait(a), 0);
    ck_assert_int_eq(hvct_wait(b), 0);
    parent_done(&pt);
    hvc_config_free(g_system);
    g_system = NULL;
}
END_TEST

/* ---- broadcast and multicast ---- */

#define MC4 "239.1.2.3"
#define MC6 "ff15::1234"
enum { GOT_BCAST = 1, GOT_MC4 = 2, GOT_MC6 = 4, GOT_STRAY = 8 };
static int udp_got;

static void udp_cb(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                   u16_t port)
{
    char msg[16] = {0};

    (void)arg;
    (void)pcb;
    (void)addr;
    (void)port;
    pbuf_copy_partial(p, msg, sizeof(msg) - 1, 0);
    if (strcmp(msg, "bcast") == 0)
        udp_got |= GOT_BCAST;
    else if (strcmp(msg, "mc4") == 0)
        udp_got |= GOT_MC4;
    else if (strcmp(msg, "mc6") == 0)
        udp_got |= GOT_MC6;
    else
        udp_got |= GOT_STRAY;
    pbuf_free(p);
}

static void udp_send_str(struct udp_pcb *pcb, const ip_addr_t *dst, const char *s)
{
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)strlen(s), PBUF_RAM);

    ck_assert_ptr_nonnull(p);
    pbuf_take(p, s, (u16_t)strlen(s));
    udp_sendto(pcb, p, dst, 7000);
    pbuf_free(p);
}

/* Guest 0 joins the groups and listens; guest 1 sends (again until told). */
static int mcast_guest(void *arg)
{
    int idx = (int)(intptr_t)arg, rc = 0;
    struct vt_guest g;
    struct udp_pcb *pcb;
    ip_addr_t mc4, mc6, bc;

    if (vt_guest_start(&g, g_path, idx, NULL) < 0)
        return 10;
    if (!vt_guest_wait_up(&g, 10000))
        return 11;
    ipaddr_aton(MC4, &mc4);
    ipaddr_aton(MC6, &mc6);
    IP_ADDR4(&bc, 255, 255, 255, 255);
    pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    udp_bind(pcb, IP_ANY_TYPE, 7000);
    udp_recv(pcb, udp_cb, NULL);
    if (idx == 0) {
        if (igmp_joingroup_netif(&g.nif, ip_2_ip4(&mc4)) != ERR_OK ||
            mld6_joingroup_netif(&g.nif, ip_2_ip6(&mc6)) != ERR_OK)
            rc = 12;
        vt_set(&g.board->flag[1], 1); /* joined */
        uint64_t end = vt_ms() + 10000;
        while (udp_got != (GOT_BCAST | GOT_MC4 | GOT_MC6) && vt_ms() < end)
            vt_guest_step(&g);
        if (udp_got != (GOT_BCAST | GOT_MC4 | GOT_MC6))
            rc = 20 + udp_got;
        vt_set(&g.board->flag[2], 1); /* done */
    } else {
        ip_addr_t other_mc;

        /* A group nobody joined is not delivered. */
        ipaddr_aton("239.9.9.9", &other_mc);
        vt_guest_wait_flag(&g, 1, 1, 10000);
        while (vt_get(&g.board->flag[2]) == 0) {
            udp_send_str(pcb, &other_mc, "stray");
            udp_send_str(pcb, &bc, "bcast");
            udp_send_str(pcb, &mc4, "mc4");
            udp_send_str(pcb, &mc6, "mc6");
            if (!vt_guest_wait_flag(&g, 2, 1, 50) && vt_get(&g.board->flag[3]) > 200)
                break;
            vt_add(&g.board->flag[3], 1);
        }
    }
    udp_remove(pcb);
    vt_guest_stop(&g);
    return rc;
}

START_TEST(broadcast_multicast)
{
    struct parent pt;
    pid_t a, b;

    parent_setup(&pt, "mcast", &any_peers);
    a = hvct_fork(mcast_guest, (void *)(intptr_t)0);
    b = hvct_fork(mcast_guest, (void *)(intptr_t)1);
    ck_assert_int_eq(hvct_wait(a), 0);
    ck_assert_int_eq(hvct_wait(b), 0);
    parent_done(&pt);
}
END_TEST

/* ---- a hostile peer ---- */

/* A valid Ethernet + IPv4 + UDP frame to 10.0.0.1:7000 (checksums off on
 * this link), written by hand. */
static uint16_t build_udp(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                          const char *msg)
{
    uint16_t n = (uint16_t)strlen(msg), ip_len = (uint16_t)(20 + 8 + n);
    uint8_t *ip = f + 14, *udp = ip + 20;

    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)(ip_len >> 8);
    ip[3] = (uint8_t)ip_len;
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 10, ip[13] = 0, ip[14] = 0, ip[15] = 2;
    ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = 1;
    udp[0] = 0x1b, udp[1] = 0x58; /* 7000 */
    udp[2] = 0x1b, udp[3] = 0x58;
    udp[4] = (uint8_t)((8 + n) >> 8);
    udp[5] = (uint8_t)(8 + n);
    udp[6] = udp[7] = 0;
    memcpy(udp + 8, msg, n);
    return (uint16_t)(14 + ip_len);
}

static int hostile_victim(void *arg)
{
    struct hvc_vnet_config cfg = {.flags = arg != NULL ? HVC_VNET_RX_ZEROCOPY_TRUSTED : 0u};
    struct vt_guest g;
    struct udp_pcb *pcb;
    struct hvc_vnet_stats st;
    int rc = 0;

    if (vt_guest_start(&g, g_path, 0, &cfg) < 0)
        return 10;
    pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    udp_bind(pcb, IP_ANY_TYPE, 7000);
    udp_recv(pcb, udp_cb, NULL);
    if (!vt_guest_wait_up(&g, 10000))
        return 11;
    vt_set(&g.board->flag[0], 1); /* up: the hostile peer may write */
    uint64_t end = vt_ms() + 10000;
    do {
        vt_guest_step(&g);
        hvc_vnet_stats(&g.v, &st);
    } while ((st.drop_bad == 0 || vt_get(&g.board->flag[1]) == 0) && vt_ms() < end);
    for (int i = 0; i < 20; i++)
        vt_guest_step(&g);
    hvc_vnet_stats(&g.v, &st);
    g.board->value[0] = st.drop_short;
    g.board->value[1] = st.drop_long;
    g.board->value[2] = st.drop_bad;
    g.board->value[3] = (uint32_t)st.rx_frames;
    g.board->value[4] = (uint32_t)udp_got;
    g.board->value[5] = (uint32_t)hvc_vnet_link_is_up(&g.v);
    g.board->value[6] = g.link_down;
    g.board->value[7] = (uint32_t)st.rx_zerocopy;
    /* Only the good frame reached lwIP. */
    if (udp_got != GOT_BCAST)
        rc = 20;
    vt_set(&g.board->flag[2], 1);
    udp_remove(pcb);
    vt_guest_stop(&g);
    return rc;
}

/* No lwIP here: open the link, then write into our ring by hand. */
static int hostile_peer(void *arg)
{
    struct hvc_region r;
    struct hvc_vnet v;
    struct hvc_obj obj;
    struct vt_board *board;
    struct hvc_vnet_link_info info;
    uint8_t frame[2048], *rec;
    void *ptr;
    uint32_t pos, bad = 0x7ffffff0u;

    (void)arg;
    if (hvc_region_attach(&r, hvc_platform_posix(), g_path, 0) < 0 ||
        hvc_peer_join(&r, "hostile") < 0 || hvc_vnet_open(&v, &r, VT_LINK, NULL) < 0 ||
        hvc_obj_open(&r, "board", HVC_OBJ_RAW, &obj) < 0)
        return 10;
    board = obj.ptr;
    while (vt_get(&board->flag[0]) == 0)
        usleep(1000);
    if (hvc_obj_open(&r, VT_LINK, HVC_OBJ_VNET, &obj) < 0 ||
        hvc_vnet_link_info(&r, &obj, &info) < 0)
        return 11;
    memset(frame, 0x55, sizeof(frame));
    /* Too short for an Ethernet header. */
    if (hvc_ring_send(&v.port.tx, frame, 6) < 0)
        return 12;
    /* Longer than MTU + header (the ring itself takes up to 64 KiB). */
    if (hvc_ring_send(&v.port.tx, frame, 1500 + 14 + 100) < 0)
        return 13;
    /* A good one: it must still get through (as "bcast" for udp_cb). */
    uint16_t n = build_udp(frame, info.mac[v.port.end ^ 1u], v.port.mac, "bcast");
    if (hvc_ring_send(&v.port.tx, frame, n) < 0)
        return 14;
    /* A record whose length runs past the ring, with a matching tag. */
    if (hvc_ring_reserve(&v.port.tx, 64, &ptr) < 0)
        return 15;
    memset(ptr, 0, 64);
    if (hvc_ring_commit(&v.port.tx, 64, HVC_RING_MORE) < 0)
        return 16;
    pos = v.port.tx.head - HVC_RING_RECORD_SIZE(64);
    rec = (uint8_t *)ptr - 8;
    memcpy(rec, &bad, 4);
    uint32_t tag = HVC_REC_TAG(pos, bad, 0);
    memcpy(rec + 4, &tag, 4);
    hvc_ring_flush(&v.port.tx);
    vt_set(&board->flag[1], 1);
    while (vt_get(&board->flag[2]) == 0)
        usleep(1000);
    hvc_vnet_close(&v);
    hvc_region_detach(&r);
    return 0;
}

START_TEST(hostile_frames_dropped)
{
    struct parent pt;
    pid_t a, h;

    /* _i = 0: the default (copy) receive; 1: HVC_VNET_RX_ZEROCOPY_TRUSTED */
    parent_setup(&pt, _i ? "hostile-zc" : "hostile", &any_peers);
    a = hvct_fork(hostile_victim, _i ? (void *)&pt : NULL);
    h = hvct_fork(hostile_peer, NULL);
    ck_assert_int_eq(hvct_wait(h), 0);
    ck_assert_int_eq(hvct_wait(a), 0);
    ck_assert_uint_eq(pt.board->value[0], 1); /* too short */
    ck_assert_uint_eq(pt.board->value[1], 1); /* too long */
    ck_assert_uint_eq(pt.board->value[2], 1); /* bad length: counted once */
    ck_assert_uint_eq(pt.board->value[3], 1); /* only the good frame went up */
    ck_assert_uint_eq(pt.board->value[5], 0); /* the link is down now */
    ck_assert_uint_ge(pt.board->value[6], 1); /* and lwIP was told */
    ck_assert_uint_eq(pt.board->value[7], _i ? 1 : 0); /* copied or not */
    parent_done(&pt);
}
END_TEST

/* ---- sleeping in hvc_vnet_wait() until a frame arrives ---- */

static int sleeper_guest(void *arg)
{
    /* Link checks far apart: only a frame can end the wait early. */
    struct hvc_vnet_config cfg = {.check_ms = 20000};
    int idx = (int)(intptr_t)arg, rc = 0;
    struct vt_guest g;
    struct udp_pcb *pcb;

    if (vt_guest_start(&g, g_path, idx, &cfg) < 0)
        return 10;
    if (!vt_guest_wait_up(&g, 10000))
        return 11;
    pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    udp_bind(pcb, IP_ANY_TYPE, 7000);
    udp_recv(pcb, udp_cb, NULL);
    if (idx == 0) {
        uint64_t end;
        int w = 0, wakes = 0;

        /* Drain what link-up brought (ARP, reports), then sleep; a late
         * report may wake us too: sleep again until the datagram came. */
        for (int i = 0; i < 50; i++)
            hvc_vnet_poll(&g.v, 64);
        vt_set(&g.board->flag[0], 1);
        end = hvct_now_ns() + 5000000000ull;
        while (udp_got == 0 && w == 0 && hvct_now_ns() < end) {
            w = hvc_vnet_wait(&g.v, (int64_t)(end - hvct_now_ns()));
            wakes++;
            hvc_vnet_poll(&g.v, 64);
        }
        g.board->big[0] = hvct_now_ns();
        g.board->value[0] = (uint32_t)wakes;
        if (w != 0) {
            fprintf(stderr, "wait: %d (%s)\n", w, hvc_errname(w));
            rc = 20;
        } else if (udp_got != GOT_BCAST) {
            rc = 21;
        }
        vt_set(&g.board->flag[1], 1);
    } else {
        ip_addr_t bc;
        uint64_t end;

        IP_ADDR4(&bc, 255, 255, 255, 255);
        vt_guest_wait_flag(&g, 0, 1, 10000);
        /* Send once the other guest sleeps on our ring: its consumer sleep
         * word is odd while it waits in hvc_ring_wait_readable(). */
        end = vt_ms() + 10000;
        while (!(__atomic_load_n(&g.v.port.tx.w->cons_sleeping, __ATOMIC_ACQUIRE) & 1u) &&
               vt_ms() < end)
            hvc_vnet_poll(&g.v, 64);
        if (!(__atomic_load_n(&g.v.port.tx.w->cons_sleeping, __ATOMIC_ACQUIRE) & 1u))
            rc = 30;
        g.board->big[1] = hvct_now_ns();
        udp_send_str(pcb, &bc, "bcast");
        vt_guest_wait_flag(&g, 1, 1, 10000);
    }
    udp_remove(pcb);
    vt_guest_stop(&g);
    return rc;
}

START_TEST(wait_wakes_on_frame)
{
    struct parent pt;
    pid_t a, b;
    uint64_t slept;

    parent_setup(&pt, "wait", &any_peers);
    a = hvct_fork(sleeper_guest, (void *)(intptr_t)0);
    b = hvct_fork(sleeper_guest, (void *)(intptr_t)1);
    ck_assert_int_eq(hvct_wait(a), 0);
    ck_assert_int_eq(hvct_wait(b), 0);
    /* Woken by the frame (sent once it was seen asleep), not by the 5 s
     * timeout nor by a link check (20 s apart here). */
    slept = pt.board->big[0] - pt.board->big[1];
    ck_assert_uint_lt(slept, 500000000ull);
    ck_assert_uint_le(pt.board->value[0], 10);
    parent_done(&pt);
}
END_TEST

/* ---- zero-copy frames held by the application (trusted opt-in) ---- */

#define HOLD_N 4000u
#define HOLD_LEN 100u
static struct pbuf *held[2];
static uint32_t hold_next, hold_bad;

static void hold_fill(uint8_t *b, uint32_t seq)
{
    for (uint32_t i = 0; i < HOLD_LEN; i++)
        b[i] = (uint8_t)(seq * 7u + i);
    memcpy(b, &seq, 4);
}

static void hold_cb(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                    u16_t port)
{
    uint8_t want[HOLD_LEN], got[HOLD_LEN];

    (void)arg;
    (void)pcb;
    (void)addr;
    (void)port;
    hold_fill(want, hold_next);
    if (p->tot_len != HOLD_LEN || pbuf_copy_partial(p, got, HOLD_LEN, 0) != HOLD_LEN ||
        memcmp(got, want, HOLD_LEN) != 0)
        hold_bad++;
    /* The first two stay with the application, without a copy. */
    if (hold_next < 2 && (p->flags & PBUF_FLAG_IS_CUSTOM))
        held[hold_next] = p;
    else
        pbuf_free(p);
    hold_next++;
}

static int holder_guest(void *arg)
{
    struct hvc_vnet_config cfg = {.flags = HVC_VNET_RX_ZEROCOPY_TRUSTED, .zc_max = 2};
    int idx = (int)(intptr_t)arg, rc = 0;
    struct vt_guest g;
    struct udp_pcb *pcb;
    struct hvc_vnet_stats st;

    if (vt_guest_start(&g, g_path, idx, idx == 0 ? &cfg : NULL) < 0)
        return 10;
    if (!vt_guest_wait_up(&g, 10000))
        return 11;
    pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    udp_bind(pcb, IP_ANY_TYPE, 7000);
    if (idx == 0) {
        udp_recv(pcb, hold_cb, NULL);
        vt_set(&g.board->flag[0], 1);
        /* Hold the two zero-copy frames while taking in everything else
         * (copied) until the sender finds the ring full. */
        uint64_t until = vt_ms() + 20000;
        struct hvc_obj ro;
        struct hvc_ring_stats rs;
        char rname[HVC_NAME_MAX + 1];

        while ((hold_next < 2 || vt_get(&g.board->flag[1]) == 0) && vt_ms() < until)
            vt_guest_step(&g);
        while (hvc_vnet_poll(&g.v, 64) > 0)
            ;
        snprintf(rname, sizeof(rname), "%s.%u", VT_LINK, g.v.port.end ^ 1u);
        if (held[0] == NULL || held[1] == NULL || hvc_obj_open(&g.r, rname, HVC_OBJ_RING, &ro) < 0 ||
            hvc_ring_stats(&g.r, &ro, &rs) < 0) {
            rc = 20;
        } else {
            /* All read, nothing given back: the shared consumer index
             * stays before the held frames, the producer sees it full. */
            g.board->value[6] = rs.prod - rs.cons;
            if (rs.prod != g.v.port.rx.head || rs.cons == rs.prod || rs.prod - rs.cons < (200u << 10))
                rc = 22;
        }
        for (uint32_t i = 0; rc == 0 && i < 2; i++) {
            uint8_t want[HOLD_LEN];

            /* Still the frames they were: the producer did not reuse them. */
            hold_fill(want, i);
            if (memcmp(held[i]->payload, want, HOLD_LEN) != 0)
                rc = 21;
        }
        if (held[0] != NULL)
            pbuf_free(held[0]);
        if (held[1] != NULL)
            pbuf_free(held[1]);
        /* Freeing the last held frame gave everything back at once. */
        if (rc == 0 && (hvc_ring_stats(&g.r, &ro, &rs) < 0 || rs.cons != g.v.port.rx.head))
            rc = 23;
        uint64_t end = vt_ms() + 20000;
        while (hold_next < HOLD_N && vt_ms() < end)
            vt_guest_step(&g);
        hvc_vnet_stats(&g.v, &st);
        g.board->value[0] = hold_next;
        g.board->value[1] = hold_bad;
        g.board->value[2] = (uint32_t)st.rx_zerocopy;
        g.board->value[3] = (uint32_t)(st.rx_frames - st.rx_zerocopy);
        g.board->value[4] = st.zc_held;
        vt_set(&g.board->flag[2], 1);
    } else {
        ip_addr_t dst;
        uint8_t b[HOLD_LEN];
        uint64_t end = vt_ms() + 30000;

        struct hvc_vnet_link_info info;
        struct hvc_obj obj;

        /* A static ARP entry: lwIP keeps one packet while ARP resolves. */
        vt_ip4(&dst, 0);
        if (hvc_obj_open(&g.r, VT_LINK, HVC_OBJ_VNET, &obj) < 0 ||
            hvc_vnet_link_info(&g.r, &obj, &info) < 0 ||
            etharp_add_static_entry(ip_2_ip4(&dst),
                                    (struct eth_addr *)(void *)info.mac[g.v.port.end ^ 1u]) != ERR_OK)
            return 12;
        vt_guest_wait_flag(&g, 0, 1, 10000);
        for (uint32_t seq = 0; seq < HOLD_N && vt_ms() < end;) {
            struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, HOLD_LEN, PBUF_RAM);
            err_t e;

            hold_fill(b, seq);
            pbuf_take(p, b, HOLD_LEN);
            e = udp_sendto(pcb, p, &dst, 7000);
            pbuf_free(p);
            if (e == ERR_OK) {
                seq++;
                hvc_vnet_poll(&g.v, 64);
            } else {
                vt_set(&g.board->flag[1], 1); /* the ring is full */
                vt_guest_step(&g);
            }
        }
        hvc_vnet_stats(&g.v, &st);
        g.board->value[5] = st.drop_full;
        if (getenv("VT_DEBUG"))
            fprintf(stderr, "sender: tx %llu full %u down %u up %d; udp xmit %u ip xmit %u "
                    "link xmit %u etharp xmit %u memerr %u rterr %u\n",
                    (unsigned long long)st.tx_frames, st.drop_full, st.drop_down,
                    hvc_vnet_link_is_up(&g.v), (unsigned)lwip_stats.udp.xmit,
                    (unsigned)lwip_stats.ip.xmit, (unsigned)lwip_stats.link.xmit,
                    (unsigned)lwip_stats.etharp.xmit, (unsigned)lwip_stats.udp.memerr,
                    (unsigned)lwip_stats.ip.rterr);
        vt_guest_wait_flag(&g, 2, 1, 20000);
    }
    udp_remove(pcb);
    vt_guest_stop(&g);
    return rc;
}

START_TEST(zero_copy_frames_held)
{
    /* The smallest ring (256 KiB) fills with ~1700 of these datagrams. */
    struct hvc_vnet_link_attr attr = {.ring_capacity = 256u << 10,
                                      .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct parent pt;
    pid_t a, b;

    parent_setup(&pt, "hold", &attr);
    a = hvct_fork(holder_guest, (void *)(intptr_t)0);
    b = hvct_fork(holder_guest, (void *)(intptr_t)1);
    ck_assert_int_eq(hvct_wait(b), 0);
    ck_assert_int_eq(hvct_wait(a), 0);
    ck_assert_uint_eq(pt.board->value[0], HOLD_N); /* all arrived, in order */
    ck_assert_uint_eq(pt.board->value[1], 0);      /* intact */
    ck_assert_uint_ge(pt.board->value[2], 2);      /* some without a copy */
    ck_assert_uint_gt(pt.board->value[3], 0);      /* the rest copied */
    ck_assert_uint_eq(pt.board->value[4], 0);      /* none held at the end */
    ck_assert_uint_gt(pt.board->value[5], 0);      /* the sender found it full */
    ck_assert_uint_ge(pt.board->value[6], 200u << 10); /* held back while held */
    parent_done(&pt);
}
END_TEST

/* ---- API errors ---- */

START_TEST(api_errors)
{
    struct parent pt;
    struct hvc_vnet_link_attr attr = any_peers;
    struct hvc_vnet v, w, x;
    struct hvc_vnet_config cfg = {0};
    struct hvc_obj obj;
    struct hvc_vnet_link_info info;
    uint8_t mac[6];

    parent_setup(&pt, "api", &any_peers);
    attr.mtu = 575;
    hvct_assert_rc(hvc_vnet_link_create(&pt.r, "l2", &attr), -HVC_EINVAL);
    attr.mtu = 65536;
    hvct_assert_rc(hvc_vnet_link_create(&pt.r, "l2", &attr), -HVC_EINVAL);
    attr.mtu = 9000;
    attr.ring_capacity = 4096;
    hvct_assert_rc(hvc_vnet_link_create(&pt.r, "l2", &attr), -HVC_EINVAL);
    attr.ring_capacity = 0;
    attr.peer[0] = 200;
    hvct_assert_rc(hvc_vnet_link_create(&pt.r, "l2", &attr), -HVC_EINVAL);
    attr.peer[0] = HVC_PEER_ANY;
    attr.flags = 0x80;
    hvct_assert_rc(hvc_vnet_link_create(&pt.r, "l2", &attr), -HVC_EINVAL);
    attr.flags = 0;
    hvct_assert_rc(hvc_vnet_link_create(&pt.r, "a-name-that-is-far-too-long-xy", &attr),
                   -HVC_ENAMETOOLONG);
    hvct_assert_rc(hvc_vnet_link_create(&pt.r, VT_LINK, &attr), -HVC_EEXIST);
    hvct_assert_rc(hvc_vnet_open(&v, &pt.r, "nope", NULL), -HVC_ENOENT);
    hvct_assert_rc(hvc_vnet_open(&v, &pt.r, "board", NULL), -HVC_ETYPE);
    cfg.zc_max = HVC_VNET_ZC_MAX + 1;
    hvct_assert_rc(hvc_vnet_open(&v, &pt.r, VT_LINK, &cfg), -HVC_EINVAL);
    cfg.zc_max = 0;
    cfg.flags = 1u << 4; /* unknown */
    hvct_assert_rc(hvc_vnet_open(&v, &pt.r, VT_LINK, &cfg), -HVC_EINVAL);
    cfg.flags = HVC_VNET_MAC_SET;
    cfg.mac[0] = 0x01; /* multicast */
    hvct_assert_rc(hvc_vnet_open(&v, &pt.r, VT_LINK, &cfg), -HVC_EINVAL);
    cfg.mac[0] = 0x02;
    cfg.mac[5] = 0x42;
    hvct_assert_rc(hvc_vnet_open(&v, &pt.r, VT_LINK, &cfg), 0);
    hvct_assert_rc(hvc_vnet_mac(&v, mac), 0);
    ck_assert_uint_eq(mac[5], 0x42);
    /* the port under the driver, read-only */
    ck_assert_ptr_null(hvc_vnet_port_of(NULL));
    hvct_assert_rc(hvc_vnet_port_mac(hvc_vnet_port_of(&v), mac), 0);
    ck_assert_uint_eq(mac[5], 0x42);
    ck_assert_int_eq(hvc_vnet_port_is_up(hvc_vnet_port_of(&v)), 0);
    /* one end per peer */
    hvct_assert_rc(hvc_vnet_open(&w, &pt.r, VT_LINK, NULL), -HVC_EBUSY);
    hvct_assert_rc(hvc_obj_open(&pt.r, VT_LINK, HVC_OBJ_VNET, &obj), 0);
    hvct_assert_rc(hvc_vnet_link_info(&pt.r, &obj, &info), 0);
    ck_assert_uint_eq(info.mtu, 1500);
    ck_assert_uint_eq(info.ring_capacity, 1u << 20);
    ck_assert_uint_eq(info.owner[0], hvc_peer_owner(&pt.r));
    ck_assert_uint_eq(info.ring_owner[0], hvc_peer_owner(&pt.r));
    ck_assert_uint_eq(info.live[0], 1);
    ck_assert_uint_eq(info.owner[1], 0);
    ck_assert_uint_eq(info.mac[0][5], 0x42);
    hvct_assert_rc(hvc_vnet_poll(&v, 1), -HVC_EINVAL); /* no netif */
    hvct_assert_rc(hvc_vnet_close(&v), 0);
    hvct_assert_rc(hvc_vnet_close(&v), -HVC_EINVAL);
    /* the end is free again; derived MACs are locally administered */
    hvct_assert_rc(hvc_vnet_open(&x, &pt.r, VT_LINK, NULL), 0);
    hvct_assert_rc(hvc_vnet_mac(&x, mac), 0);
    ck_assert_uint_eq(mac[0], 0x02);
    ck_assert_uint_eq(mac[5], (unsigned)hvc_peer_self(&pt.r));
    hvct_assert_rc(hvc_vnet_close(&x), 0);
    hvct_assert_rc(hvc_vnet_link_delete(&pt.r, VT_LINK), 0);
    hvct_assert_rc(hvc_vnet_link_delete(&pt.r, VT_LINK), -HVC_ENOENT);
    hvct_assert_rc(hvc_obj_open(&pt.r, VT_LINK ".0", HVC_OBJ_RING, &obj), -HVC_ENOENT);
    parent_done(&pt);
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *s;

    vt_pattern_init();
    s = hvct_suite("vnet", setup, hvct_leak_teardown, 120,
                   HVCT_TESTS(api_errors, ping_both_ways, broadcast_multicast,
                              wait_wakes_on_frame, zero_copy_frames_held), &tc);
    tcase_add_loop_test(tc, hostile_frames_dropped, 0, 2);
    return hvct_run(s);
}
