/* A hostile peer against an lwIP receiver, in one process (so the clang
 * ASan build sees every access of the receiver):
 *
 * - the reassembly attack of issue 9: the peer (a raw vnet port writing its
 *   own ring, no lwIP) sends IPv4 fragment A to an lwIP guest, reads its
 *   ring back for bytes the receiver wrote (lwIP keeps its reassembly list
 *   pointers inside a fragment's IP header), overwrites the fragment's
 *   memory with forged pointers, sends fragment B and C; the same with
 *   IPv6 fragments. With the default (copy) receive nothing in the ring may
 *   change, the receiver must not crash and must deliver the datagram as
 *   first sent. With the trusted zero-copy opt-in the same detector must
 *   see the write-back, down to the address of a receiver's pbuf: the
 *   proof that the detector can fail.
 * - a flood of 1-byte records: one hvc_vnet_port_recv() / peek call drops
 *   at most HVC_VNET_DROP_BATCH of them. */
#define _GNU_SOURCE
#include "testutil.h"
#include "vnettest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

static const struct hvc_vnet_link_attr small_link = {.ring_capacity = 256u << 10,
                                                     .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};

/* The datagram the peer sends in three fragments: UDP header + 40 bytes. */
#define DG_DATA 40u
#define DG_LEN (8u + DG_DATA)
#define FRAG 16u /* bytes of the UDP datagram per fragment (a multiple of 8) */
#define UDP_PORT 7000u

static uint8_t dg_got[DG_LEN]; /* the UDP payload lwIP delivered */
static int dg_count, dg_len;

static void udp_cb(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                   u16_t port)
{
    (void)arg;
    (void)pcb;
    (void)addr;
    (void)port;
    dg_count++;
    dg_len = p->tot_len;
    pbuf_copy_partial(p, dg_got, sizeof(dg_got), 0);
    pbuf_free(p);
}

/* The attacker's side: a raw port on the test's own peer. */
struct attack {
    struct hvc_region r;
    struct vt_board *board;
    struct hvc_vnet_port port;
    struct vt_guest g;            /* the lwIP receiver, in this process */
    uint8_t victim_mac[6];
    uint8_t *snap;                /* the ring's data area as last written */
    uint32_t cap;
    uint8_t udp[DG_LEN];          /* the datagram as first sent */
    uint8_t *slot[3];             /* where each fragment lies in our ring */
    uint32_t slot_len[3];
};

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i + 1u < n; i += 2)
        sum += ((uint32_t)p[i] << 8) | p[i + 1];
    if (n & 1u)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

/* The UDP datagram 10.0.0.2 / fd00::2 -> port 7000, with its checksum. */
static void build_udp(struct attack *a, int v6)
{
    uint8_t pseudo[40];
    uint32_t sum, n;

    memset(a->udp, 0, sizeof(a->udp));
    be16(a->udp, 40000);
    be16(a->udp + 2, UDP_PORT);
    be16(a->udp + 4, DG_LEN);
    for (uint32_t i = 0; i < DG_DATA; i++)
        a->udp[8 + i] = (uint8_t)(0x30 + i);
    memset(pseudo, 0, sizeof(pseudo));
    if (v6) {
        ip_addr_t s, d;

        vt_ip6(&s, 1);
        vt_ip6(&d, 0);
        memcpy(pseudo, ip_2_ip6(&s)->addr, 16);
        memcpy(pseudo + 16, ip_2_ip6(&d)->addr, 16);
        pseudo[35] = DG_LEN;
        pseudo[39] = 17;
        n = 40;
    } else {
        const uint8_t ips[8] = {10, 0, 0, 2, 10, 0, 0, 1};

        memcpy(pseudo, ips, 8);
        pseudo[9] = 17;
        be16(pseudo + 10, DG_LEN);
        n = 12;
    }
    sum = csum_add(csum_add(0, pseudo, n), a->udp, DG_LEN);
    be16(a->udp + 6, csum_fold(sum) == 0 ? 0xffffu : csum_fold(sum));
}

/* Fragment k (0, 1, 2) of the datagram as an Ethernet frame into f. */
static uint32_t build_frag(const struct attack *a, int v6, int k, uint8_t *f)
{
    uint32_t off = (uint32_t)k * FRAG, len = FRAG, more = k < 2, ip;

    memcpy(f, a->victim_mac, 6);
    memcpy(f + 6, a->port.mac, 6);
    ip = HVC_VNET_ETH_HLEN;
    if (!v6) {
        be16(f + 12, 0x0800);
        memset(f + ip, 0, 20);
        f[ip] = 0x45;
        be16(f + ip + 2, 20 + len);
        be16(f + ip + 4, 0x4242);                      /* id */
        be16(f + ip + 6, (more ? 0x2000u : 0u) | off / 8u); /* MF, offset */
        f[ip + 8] = 64;
        f[ip + 9] = 17;
        f[ip + 12] = 10, f[ip + 13] = 0, f[ip + 14] = 0, f[ip + 15] = 2;
        f[ip + 16] = 10, f[ip + 17] = 0, f[ip + 18] = 0, f[ip + 19] = 1;
        be16(f + ip + 10, csum_fold(csum_add(0, f + ip, 20)));
        memcpy(f + ip + 20, a->udp + off, len);
        return ip + 20 + len;
    } else {
        ip_addr_t s, d;

        vt_ip6(&s, 1);
        vt_ip6(&d, 0);
        be16(f + 12, 0x86dd);
        memset(f + ip, 0, 48);
        f[ip] = 0x60;
        be16(f + ip + 4, 8 + len);                     /* payload: frag header + data */
        f[ip + 6] = 44;                                /* fragment header */
        f[ip + 7] = 64;
        memcpy(f + ip + 8, ip_2_ip6(&s)->addr, 16);
        memcpy(f + ip + 24, ip_2_ip6(&d)->addr, 16);
        f[ip + 40] = 17;
        be16(f + ip + 42, off | more);                 /* offset (8-byte units << 3), M */
        f[ip + 44] = 0x13, f[ip + 45] = 0x57, f[ip + 46] = 0x9b, f[ip + 47] = 0xdf; /* id */
        memcpy(f + ip + 48, a->udp + off, len);
        return ip + 48 + len;
    }
}

static void attack_start(struct attack *a, const char *tag, uint32_t vflags)
{
    struct hvc_vnet_config cfg = {.flags = vflags};
    const char *path = hvct_region_path(tag);
    struct udp_pcb *pcb;
    uint64_t end;

    memset(a, 0, sizeof(*a));
    a->board = vt_setup(&a->r, path, &small_link);
    ck_assert_ptr_nonnull(a->board);
    hvct_assert_rc(vt_guest_start(&a->g, path, 0, &cfg), 0);
    a->g.busy = 1;
    hvct_assert_rc(hvc_vnet_port_open(&a->port, &a->r, VT_LINK, NULL), 0);
    end = vt_ms() + 10000;
    while ((hvc_vnet_port_poll(&a->port) != 1 || !netif_is_link_up(&a->g.nif)) &&
           vt_ms() < end)
        vt_guest_step(&a->g);
    ck_assert_msg(hvc_vnet_port_is_up(&a->port) && netif_is_link_up(&a->g.nif), "link not up");
    hvct_assert_rc(hvc_vnet_mac(&a->g.v, a->victim_mac), 0);
    pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    ck_assert_ptr_nonnull(pcb);
    ck_assert_int_eq(udp_bind(pcb, IP_ANY_TYPE, UDP_PORT), ERR_OK);
    udp_recv(pcb, udp_cb, NULL);
    a->cap = a->port.tx.capacity;
    a->snap = malloc(a->cap);
    ck_assert_ptr_nonnull(a->snap);
    dg_count = 0;
}

static void attack_stop(struct attack *a)
{
    free(a->snap);
    vt_guest_stop(&a->g);
    hvct_assert_rc(hvc_vnet_port_close(&a->port), 0);
    hvct_assert_rc(hvc_region_detach(&a->r), 0);
}

/* Send one frame by writing it in place in our ring; remember where. */
static void send_frag(struct attack *a, int v6, int k)
{
    uint8_t f[128];
    uint32_t len = build_frag(a, v6, k, f);
    void *dst;

    hvct_assert_rc(hvc_vnet_port_reserve(&a->port, len, &dst), 0);
    memcpy(dst, f, len);
    a->slot[k] = dst;
    a->slot_len[k] = len;
    hvct_assert_rc(hvc_vnet_port_commit(&a->port, 0), 0);
    memcpy(a->snap, a->port.tx.data, a->cap);
}

/* The receiver takes the frame in (observable: its rx_frames count). */
static void deliver(struct attack *a)
{
    struct hvc_vnet_stats st;
    uint64_t before, end = vt_ms() + 5000;
    uint8_t junk[HVC_VNET_FRAME_MAX];

    hvct_assert_rc(hvc_vnet_stats(&a->g.v, &st), 0);
    before = st.rx_frames;
    do {
        vt_guest_step(&a->g);
        hvct_assert_rc(hvc_vnet_stats(&a->g.v, &st), 0);
    } while (st.rx_frames == before && vt_ms() < end);
    ck_assert_uint_eq(st.rx_frames, before + 1);
    /* Whatever the receiver says back (ND, reports) is read and dropped. */
    while (hvc_vnet_port_recv(&a->port, junk, sizeof(junk)) > 0)
        ;
}

/* Bytes of our ring's data area the receiver changed since we wrote it. */
static uint32_t changed(const struct attack *a, uint32_t *first)
{
    uint32_t n = 0;

    *first = UINT32_MAX;
    for (uint32_t i = 0; i < a->cap; i++)
        if (a->port.tx.data[i] != a->snap[i]) {
            if (n++ == 0)
                *first = i;
        }
    return n;
}

/* Does any fragment's memory hold the address of one of the receiver's
 * zero-copy pbufs (what ip_reass_helper::next_pbuf points at)? */
static int pbuf_address_leaked(const struct attack *a)
{
    for (int k = 0; k < 3; k++)
        for (uint32_t i = 0; a->slot[k] != NULL && i + sizeof(void *) <= a->slot_len[k]; i++)
            for (uint32_t z = 0; z < HVC_VNET_ZC_MAX; z++) {
                const void *addr = a->g.v.zc[z];

                if (memcmp(a->slot[k] + i, &addr, sizeof(addr)) == 0)
                    return 1;
            }
    return 0;
}

/* Overwrite everything after the Ethernet header of fragment k with
 * forged pointers (to a page nobody maps) and lengths. */
static void forge(struct attack *a, int k)
{
    uint8_t *f = a->slot[k];

    for (uint32_t i = HVC_VNET_ETH_HLEN; i < a->slot_len[k]; i++)
        f[i] = (i & 7u) == 7u ? 0x00 : 0x41;
    memcpy(a->snap, a->port.tx.data, a->cap);
}

/* _i: 0 IPv4, 1 IPv6. The default receive: no write-back, no crash, the
 * datagram as first sent. */
START_TEST(reassembly_attack_default)
{
    int v6 = _i;
    struct attack a;
    uint32_t first;

    attack_start(&a, v6 ? "atk6" : "atk4", 0);
    build_udp(&a, v6);
    for (int k = 0; k < 3; k++) {
        send_frag(&a, v6, k);
        deliver(&a);
        ck_assert_msg(changed(&a, &first) == 0,
                      "%s fragment %d: the receiver wrote into the sender's ring at %u",
                      v6 ? "IPv6" : "IPv4", k, first);
        ck_assert(!pbuf_address_leaked(&a));
        if (k < 2) /* the next fragment makes lwIP walk this one's helper */
            forge(&a, k);
    }
    ck_assert_int_eq(dg_count, 1);
    ck_assert_int_eq(dg_len, (int)DG_DATA);
    ck_assert_int_eq(memcmp(dg_got, a.udp + 8, DG_DATA), 0); /* what was first sent */
    ck_assert_uint_eq(a.g.v.port.st.rx_zerocopy, 0);
    attack_stop(&a);
}
END_TEST

/* The same detector against the trusted zero-copy opt-in: lwIP writes its
 * reassembly helper into the ring, and after fragment B the pointer to B's
 * pbuf is readable in fragment A. Nothing is forged here (it would crash
 * the receiver: that is the point of the default). */
START_TEST(reassembly_attack_zerocopy_trusted_leaks)
{
    int v6 = _i;
    struct attack a;
    uint32_t first, n;

    attack_start(&a, v6 ? "atkz6" : "atkz4", HVC_VNET_RX_ZEROCOPY_TRUSTED);
    build_udp(&a, v6);
    send_frag(&a, v6, 0);
    deliver(&a);
    n = changed(&a, &first);
    ck_assert_msg(n > 0, "zero-copy: no write-back seen after fragment A");
    ck_assert_uint_ge(first, (uint32_t)(a.slot[0] - a.port.tx.data));
    ck_assert_uint_lt(first, (uint32_t)(a.slot[0] - a.port.tx.data) + a.slot_len[0]);
    send_frag(&a, v6, 1);
    deliver(&a);
    ck_assert_msg(pbuf_address_leaked(&a), "zero-copy: no pbuf address in the ring");
    send_frag(&a, v6, 2);
    deliver(&a);
    ck_assert_int_eq(dg_count, 1);
    ck_assert_int_eq(dg_len, (int)DG_DATA);
    ck_assert_int_eq(memcmp(dg_got, a.udp + 8, DG_DATA), 0);
    ck_assert_uint_ge(a.g.v.port.st.rx_zerocopy, 1);
    attack_stop(&a);
}
END_TEST

/* ---- a flood of records too short for a frame ---- */

START_TEST(short_record_flood_bounded)
{
    struct hvc_region r, r2;
    struct hvc_vnet_port a, b;
    struct hvc_vnet_stats st;
    const char *path = hvct_region_path("flood");
    struct vt_board *board;
    uint8_t f[64], g[HVC_VNET_FRAME_MAX];
    const void *fp;
    uint32_t sent = 0, calls = 0;
    uint64_t end;
    int rc;

    board = vt_setup(&r, path, &small_link);
    ck_assert_ptr_nonnull(board);
    hvct_assert_rc(hvc_region_attach(&r2, hvc_platform_posix(), path, 0), 0);
    ck_assert_int_ge(hvc_peer_join(&r2, "flooder"), 0);
    hvct_assert_rc(hvc_vnet_port_open(&a, &r, VT_LINK, NULL), 0);
    hvct_assert_rc(hvc_vnet_port_open(&b, &r2, VT_LINK, NULL), 0);
    end = vt_ms() + 5000;
    while ((hvc_vnet_port_poll(&a) != 1 || hvc_vnet_port_poll(&b) != 1) && vt_ms() < end)
        ;
    ck_assert_int_eq(hvc_vnet_port_is_up(&a), 1);
    /* Fill b's ring with 1-byte records (the ring takes them; a port
     * would not send them), then one good frame. */
    memset(f, 0xab, sizeof(f));
    while (sent < 10000 && hvc_ring_send(&b.tx, f, 1) == 0)
        sent++;
    ck_assert_uint_gt(sent, 4u * HVC_VNET_DROP_BATCH);
    /* One call drops at most a batch, and says "again". */
    hvct_assert_rc(hvc_vnet_port_recv(&a, g, sizeof(g)), -HVC_EAGAIN);
    hvct_assert_rc(hvc_vnet_port_stats(&a, &st), 0);
    ck_assert_uint_eq(st.drop_short, HVC_VNET_DROP_BATCH);
    hvct_assert_rc(hvc_vnet_port_peek(&a, &fp), -HVC_EAGAIN);
    hvct_assert_rc(hvc_vnet_port_stats(&a, &st), 0);
    ck_assert_uint_eq(st.drop_short, 2u * HVC_VNET_DROP_BATCH);
    /* The space of what was dropped went back: the producer sees it. */
    ck_assert_int_eq(hvc_ring_send(&b.tx, f, 60), 0);
    do {
        rc = hvc_vnet_port_recv(&a, g, sizeof(g));
        calls++;
    } while (rc == -HVC_EAGAIN && calls < sent);
    hvct_assert_rc(rc, 60);
    hvct_assert_rc(hvc_vnet_port_stats(&a, &st), 0);
    ck_assert_uint_eq(st.drop_short, sent);
    /* A batch per call, the good frame in the call after the last full one. */
    ck_assert_uint_eq(calls, (sent - 2u * HVC_VNET_DROP_BATCH) / HVC_VNET_DROP_BATCH + 1u);
    ck_assert_uint_eq(st.rx_frames, 1);
    hvct_assert_rc(hvc_vnet_port_recv(&a, g, sizeof(g)), -HVC_EAGAIN);
    hvct_assert_rc(hvc_vnet_port_close(&a), 0);
    hvct_assert_rc(hvc_vnet_port_close(&b), 0);
    hvct_assert_rc(hvc_region_detach(&r2), 0);
    hvct_assert_rc(hvc_region_detach(&r), 0);
}
END_TEST

static void setup(void)
{
    hvct_leak_setup();
}

int main(void)
{
    TCase *tc;
    Suite *s;

    s = hvct_suite("vnet_hostile", setup, hvct_leak_teardown, 60,
                   HVCT_TESTS(short_record_flood_bounded), &tc);
    tcase_add_loop_test(tc, reassembly_attack_default, 0, 2);
    tcase_add_loop_test(tc, reassembly_attack_zerocopy_trusted_leaks, 0, 2);
    return hvct_run(s);
}
