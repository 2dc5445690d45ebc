/*
 * The bare-metal guest of tests/rtos: one riscv64 virt hart, the region of
 * rtos-linux.yaml at guest-physical 0x82000000 in RAM that QEMU shares with
 * Linux through memory-backend-file. No doorbells (QEMU cannot deliver a
 * host eventfd into the CLINT): every wait is a poll in the main loop.
 *
 * The main loop serves, until the monitor signals "quit": answers ping
 * (from linux) with pong and mping (from monitor) with mpong; checks every
 * DATA message on l2g against the stream it must be (seq, length, bytes,
 * checksum); on a SEND request sends that many DATA messages on g2l;
 * publishes its counters on the sampling port; beats its heartbeat, and
 * scans the peer table so that a Linux peer that died (no heartbeat for
 * STALE_NS) is declared gone, which it counts and survives.
 */
#include <hvcomm/hvcomm.h>
#include <hvcomm/vnet.h>

#include "../baremetal/bmlib.h"
#include "proto.h"

#include "lwip/apps/lwiperf.h"
#include "lwip/init.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define STALE_NS 5000000000ull /* a peer silent this long (guest clock) is gone */
#define PEER_LINUX 3u

extern const struct hvc_system hvc_system_rtos;
#define SYS (&hvc_system_rtos)

static struct hvc_baremetal bm;
static struct hvc_region region;
static struct hvc_event ping, pong, mping, mpong, quit;
static struct hvc_ring l2g, g2l;
static struct hvc_sampling status_port;
static struct rtos_status st;
static struct rtos_msg in, out;
static struct hvc_baremetal_region window;
static struct hvc_vnet vnet;
static struct netif nif;

/* lwIP's clock (NO_SYS=1): milliseconds of the board timer. */
u32_t sys_now(void)
{
    return (u32_t)(board_now_ns() / 1000000u);
}

static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *la,
                         u16_t lp, const ip_addr_t *ra, u16_t rp, u32_t bytes, u32_t ms,
                         u32_t kbps)
{
    (void)arg, (void)la, (void)lp, (void)ra, (void)rp;
    st.iperf_runs++;
    st.iperf_kbps = kbps;
    st.iperf_kb = bytes / 1024u;
    bm_printf("guest: lwiperf session done (type %d): %u KiB in %u ms, %u kbit/s\n", (int)type,
              (unsigned)(bytes / 1024u), (unsigned)ms, (unsigned)kbps);
}

/* lwIP on the vnet link "net" of the system: IPv4 from the table, a
 * static IPv6 address, lwiperf's TCP server on port 5001. */
static int net_up(void)
{
    int idx = hvc_system_object_find(SYS, "net");
    const struct hvc_system_vnet_end *e;
    ip4_addr_t ip, mask, gw;
    ip6_addr_t ip6;
    s8_t slot;
    int rc;

    if (idx < 0)
        return idx;
    {
    e = &SYS->objects[idx].end[SYS->objects[idx].end[0].peer == 1u ? 0 : 1];
    struct hvc_vnet_config vc = {0};

    if (e->has_mac) {
        vc.flags = HVC_VNET_MAC_SET;
        __builtin_memcpy(vc.mac, e->mac, 6);
    }
    lwip_init();
    rc = hvc_vnet_open(&vnet, &region, "net", &vc);
    if (rc < 0)
        return rc;
    ip4_addr_set_u32(&ip, lwip_htonl(e->ipv4));
    ip4_addr_set_u32(&mask, e->prefix ? lwip_htonl(~0u << (32 - e->prefix)) : 0);
    ip4_addr_set_zero(&gw);
    if (netif_add(&nif, &ip, &mask, &gw, &vnet, hvc_vnet_netif_init, ethernet_input) == NULL)
        return -HVC_EINVAL;
    netif_set_default(&nif);
    netif_create_ip6_linklocal_address(&nif, 1);
    IP6_ADDR(&ip6, PP_HTONL(0xfd000009u), 0, 0, PP_HTONL(2u)); /* fd00:9::2 */
    if (netif_add_ip6_address(&nif, &ip6, &slot) != ERR_OK)
        return -HVC_ENOSPC;
    netif_ip6_addr_set_state(&nif, slot, IP6_ADDR_PREFERRED);
    netif_set_up(&nif);
    if (lwiperf_start_tcp_server_default(iperf_report, NULL) == NULL)
        return -HVC_ENOMEM;
    }
    return 0;
}

static uint64_t now_hook(void *ctx)
{
    (void)ctx;
    return board_now_ns();
}

static void check_message(uint32_t *expect, int n)
{
    static struct rtos_msg want;

    if (n < (int)RTOS_HDR || in.magic != RTOS_MSG_MAGIC ||
        in.len != (uint32_t)n - RTOS_HDR || rtos_sum(&in) != in.sum) {
        st.bad++;
        bm_printf("guest: bad message (%d bytes, seq %u)\n", n, (unsigned)in.seq);
        return;
    }
    if (in.type == RTOS_SEND) {
        *expect = 0; /* a new stream starts with this request */
        return;
    }
    rtos_fill(&want, *expect, RTOS_SALT_L2G);
    if (in.type != RTOS_DATA || in.seq != *expect || in.len != want.len ||
        __builtin_memcmp(in.payload, want.payload, want.len) != 0) {
        st.bad++;
        bm_printf("guest: message %u is not stream message %u\n", (unsigned)in.seq,
                  (unsigned)*expect);
    } else {
        st.rx++;
    }
    (*expect)++;
}

static int open_all(void)
{
    if (hvc_system_open_event(&region, SYS, "ping", &ping) < 0 ||
        hvc_system_open_event(&region, SYS, "pong", &pong) < 0 ||
        hvc_system_open_event(&region, SYS, "mping", &mping) < 0 ||
        hvc_system_open_event(&region, SYS, "mpong", &mpong) < 0 ||
        hvc_system_open_event(&region, SYS, "quit", &quit) < 0 ||
        hvc_system_open_ring(&region, SYS, "l2g", &l2g) < 0 ||
        hvc_system_open_ring(&region, SYS, "g2l", &g2l) < 0 ||
        hvc_system_open_sampling(&region, SYS, "status", &status_port) < 0)
        return -1;
    return 0;
}

int board_main(uint32_t core)
{
    struct hvc_baremetal_desc d = {0};
    struct hvc_peer_info pi;
    uint32_t expect = 0, to_send = 0, sent = 0, last_state = HVC_PEER_ABSENT;
    uint32_t pending_request = 0;
    int rc;

    if (core != 0)
        return 0;
    window = (struct hvc_baremetal_region){"rtos", (uintptr_t)SYS->region.baremetal_base,
                                           SYS->region.size};
    d.regions = &window;
    d.nregions = 1;
    d.ncores = 1;
    d.peer_id = (int32_t)hvc_system_peer_find(SYS, "guest");
    d.timer.now_ns = now_hook;
    rc = hvc_baremetal_init(&bm, &d);
    if (rc == 0)
        rc = hvc_region_attach(&region, hvc_platform_baremetal(&bm), "rtos", 0);
    if (rc == 0)
        rc = hvc_system_apply(&region, SYS, "guest");
    if (rc == 0)
        rc = open_all() < 0 ? -HVC_EPROTO : 0;
    if (rc != 0) {
        bm_printf("guest: FAIL joining the system: %s\n", hvc_errname(rc));
        board_exit(3);
    }
    st.magic = RTOS_MSG_MAGIC;
    st.boot = (uint32_t)board_now_ns();
    rc = net_up();
    if (rc < 0) {
        st.net = 2;
        bm_printf("guest: no network: %s\n", hvc_errname(rc));
    }
    bm_printf("guest: joined %s as peer %d (region at 0x%lx, %u bytes), serving\n",
              SYS->name, hvc_peer_self(&region), (unsigned long)window.base,
              (unsigned)window.size);

    for (;;) {
        st.loops++;
        if (st.net != 2) {
            hvc_vnet_poll(&vnet, 32);
            sys_check_timeouts();
            if (st.net == 0 && netif_is_link_up(&nif)) {
                st.net = 1;
                bm_printf("guest: vnet link up: 10.9.0.2, fd00:9::2\n");
            }
        }
        if (hvc_event_trywait(&ping) == 0) {
            hvc_event_signal(&pong);
            st.pings++;
        }
        if (hvc_event_trywait(&mping) == 0) {
            hvc_event_signal(&mpong);
            st.mpings++;
        }
        for (int i = 0; i < 8; i++) {
            int n = hvc_ring_recv(&l2g, &in, sizeof(in));

            if (n == -HVC_EAGAIN)
                break;
            if (n < 0) {
                st.bad++;
                bm_printf("guest: l2g: %s\n", hvc_errname(n));
                break;
            }
            check_message(&expect, n);
            if (in.type == RTOS_SEND && in.magic == RTOS_MSG_MAGIC)
                pending_request = in.seq;
        }
        if (pending_request != 0 && sent == to_send) {
            to_send = pending_request;
            sent = 0;
            pending_request = 0;
        }
        while (sent < to_send) {
            uint32_t len = rtos_fill(&out, sent, RTOS_SALT_G2L);

            if (hvc_ring_send(&g2l, &out, RTOS_HDR + len) != 0)
                break;
            sent++;
            st.tx++;
        }
        if ((st.loops & 15u) == 0) {
            if (hvc_peer_heartbeat(&region) != 0) {
                bm_printf("guest: FAIL: declared gone by another peer\n");
                board_exit(4);
            }
            hvc_sampling_write(&status_port, &st, sizeof(st));
        }
        if ((st.loops & 255u) == 0) {
            hvc_peer_scan(&region, STALE_NS);
            if (hvc_peer_info(&region, PEER_LINUX, &pi) == 0 && pi.state != last_state) {
                if (pi.state == HVC_PEER_READY) {
                    st.linux_seen++;
                    bm_printf("guest: peer linux is ready (epoch %u)\n", (unsigned)pi.epoch);
                } else if (last_state == HVC_PEER_READY) {
                    if (pi.state == HVC_PEER_GONE)
                        st.linux_gone++;
                    bm_printf("guest: peer linux is %s; serving on\n",
                              hvc_peer_state_name(pi.state));
                }
                last_state = pi.state;
            }
        }
        if (hvc_event_trywait(&quit) == 0)
            break;
    }
    bm_printf("guest: quit: %u loops, %u pings, %u mpings, %u rx, %u tx, %u bad, linux "
              "seen %u gone %u\n", (unsigned)st.loops, (unsigned)st.pings,
              (unsigned)st.mpings, (unsigned)st.rx, (unsigned)st.tx, (unsigned)st.bad,
              (unsigned)st.linux_seen, (unsigned)st.linux_gone);
    hvc_region_detach(&region);
    board_exit(st.bad == 0 ? 0 : 1);
}
