/*
 * The bare-metal guest of tests/rtos: one riscv64 virt hart, the region of
 * rtos-linux.yaml at guest-physical 0x80400000 in RAM that QEMU shares with
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

#include "../baremetal/bmlib.h"
#include "proto.h"

#define STALE_NS 2000000000ull /* a peer silent this long (guest clock) is gone */
#define PEER_LINUX 0u

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
    bm_printf("guest: joined %s as peer %d (region at 0x%lx, %u bytes), serving\n",
              SYS->name, hvc_peer_self(&region), (unsigned long)window.base,
              (unsigned)window.size);

    for (;;) {
        st.loops++;
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
