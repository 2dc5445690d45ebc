/*
 * The bare-metal guest of the doorbell variant of tests/rtos
 * (rtos-doorbell.yaml, doc/rtos-linux.md): one riscv64 virt hart in M-mode
 * with QEMU's ivshmem-doorbell device on its PCI bus. No firmware runs
 * (`-bios none`), so the guest finds the device through ECAM, assigns its
 * BARs (registers and MSI-X table in the 32-bit window, the shared memory
 * BAR2 at the system file's `baremetal:` address in the 64-bit window),
 * enables memory decoding and bus mastering, routes MSI-X vector 0 to its
 * M-level IMSIC (AIA) and takes the interrupt in its trap handler, which
 * feeds the bare-metal backend's ivshmem doorbell driver. Its hvcomm peer
 * id is its IVPosition, its liveness token the ivshmem one, so the Linux
 * host peer judges it by the server's list.
 *
 * Every wait sleeps (spin 0, WFI): on "ping" it answers "pong" (once the
 * host is registered as a sleeper on it); on "poll"
 * it answers DB_POLL_ROUNDS pings by polling (the baseline); on "stream"
 * it receives DB_STREAM_MSGS checked messages on l2g and sends one on g2l
 * after each, in lock step with the host, both with blocking waits; on
 * "tcp" it brings up lwIP on the vnet link "net" and runs it from its main
 * loop, sleeping in hvc_vnet_wait() (WFI) and woken by the doorbell
 * interrupt, until the host's TCP connection to its echo server is echoed
 * and closed; on "quit" it exits (0 when nothing was
 * bad). Outside the TCP phase its waits' alarm arms nothing
 * (doorbell_only_alarm()), so WFI ends only with a doorbell interrupt; it counts per wait whether the wait
 * slept and took a doorbell interrupt, and the timer interrupts (there
 * should be none), and publishes that on the sampling port "status".
 */
#include <hvcomm/hvcomm.h>
#include <hvcomm/ivshmem.h>

#include "../../ports/bm-common/pci.h"
#include "../../ports/riscv-virt/virt.h"
#include "../baremetal/bmlib.h"
#include "db_proto.h"

#include <hvcomm/vnet.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

/* Passed to every wait; with no alarm armed (doorbell_only_alarm()) a wait
 * ends only by a doorbell, and the host's deadlines bound a failure. */
#define WAIT_NS 20000000000ll

extern const struct hvc_system hvc_system_rtos_doorbell;
#define SYS (&hvc_system_rtos_doorbell)

static struct hvc_baremetal bm;
static struct hvc_ivshmem_bm_ctx ivs;
static struct hvc_region region;
static struct hvc_event ping, pong, pollev, stream, tcpev, quit;
static struct hvc_ring l2g, g2l;
static struct hvc_sampling status_port;
static struct db_status st;
static struct rtos_msg in, out;
static struct hvc_baremetal_region window;
static uint32_t ivpos;
static struct hvc_vnet vnet;
static struct netif nif;
static bool net_timers; /* the TCP phase: the waits' alarm is armed for lwIP */
static struct pbuf *echo_q; /* received, not yet queued back */
static bool echo_eof;

static void ext_irq(void)
{
    unsigned id;

    while ((id = imsic_claim()) != 0)
        hvc_baremetal_irq(&bm, id);
}

static uint64_t now_hook(void *ctx)
{
    (void)ctx;
    return board_now_ns();
}

static int core_hook(void *ctx)
{
    (void)ctx;
    return (int)ivpos;
}

/*
 * The timer's alarm for the backend's waits: deliberately none. It arms
 * nothing and says it did, so a wait's WFI ends only with an interrupt,
 * and the only interrupt the guest enables besides the (unarmed) timer is
 * the doorbell's MSI-X: every wait of the test is satisfied by a doorbell
 * or not at all (the host's deadlines then fail the run). A real board
 * arms its timer here (board_alarm()), as the TCP phase does: lwIP's
 * timers need it.
 */
static int doorbell_only_alarm(void *ctx, uint64_t deadline_ns)
{
    if (net_timers)
        return board_alarm(ctx, deadline_ns); /* lwIP's timeouts (TCP phase only) */
    (void)ctx;
    (void)deadline_ns;
    return 0;
}

_Noreturn static void fail(const char *what)
{
    bm_printf("guest: FAIL %s\n", what);
    board_exit(3);
}

/* Find the device, assign its BARs, route its MSI-X vector 0 to this
 * hart's IMSIC; the registers' base, and BAR2's in *shm (size in *len). */
static uintptr_t device_up(uint64_t *shm, uint64_t *len)
{
    struct bm_pci_dev d;
    struct bm_pci_window w32 = {VIRT_PCIE_MMIO32, VIRT_PCIE_MMIO32 + VIRT_PCIE_MMIO32_SIZE};
    struct bm_pci_bar b2;
    uint64_t bars[6] = {0};
    uint64_t want = SYS->region.baremetal_base;

    /* Bus 0 only: without firmware no bridge has a secondary bus number. */
    if (bm_pci_find(VIRT_PCIE_ECAM, 1, HVC_IVSHMEM_VENDOR, HVC_IVSHMEM_DEVICE, &d) < 0)
        fail("no ivshmem device (1af4:1110) on bus 0");
    if (bm_pci_bar_assign(&d, 0, &w32, &bars[0]) < 0 ||
        bm_pci_bar_assign(&d, 1, &w32, &bars[1]) < 0)
        fail("BAR0/BAR1 do not fit the 32-bit window");
    if (bm_pci_bar_probe(&d, 2, &b2) < 0 || !b2.is64 || b2.size < SYS->region.size ||
        (want & (b2.size - 1)) != 0 || want < VIRT_PCIE_MMIO64 ||
        want - VIRT_PCIE_MMIO64 > VIRT_PCIE_MMIO64_SIZE - b2.size ||
        bm_pci_bar_set(&d, 2, &b2, want) < 0)
        fail("BAR2 cannot go at the system's baremetal address");
    bars[2] = want;
    bm_pci_enable(&d, true);
    if (bm_pci_msix_route(&d, bars, 0, VIRT_IMSIC_M(0), DB_MSI_ID) < 0 ||
        bm_pci_msix_enable(&d, true) < 0)
        fail("no MSI-X on the device");
    imsic_enable(DB_MSI_ID);
    bm_printf("guest: ivshmem-doorbell at %02x:%02x.%x: BAR0 0x%lx, BAR1 (MSI-X) 0x%lx, "
              "BAR2 0x%lx (%lu KiB); MSI-X vector 0 -> IMSIC M-file of hart 0, id %u\n",
              d.bus, d.dev, d.fn, (unsigned long)bars[0], (unsigned long)bars[1],
              (unsigned long)bars[2], (unsigned long)(b2.size >> 10), DB_MSI_ID);
    *shm = want;
    *len = b2.size;
    return (uintptr_t)bars[0];
}

/* Mask, check, WFI, unmask: until the doorbell count moves or the
 * deadline (the alarm ends the WFI). 0 when it moved. */
static int wait_irq(uint32_t seen, uint64_t deadline)
{
    for (;;) {
        struct hvc_baremetal_stats s;
        uint64_t now;

        __asm__ volatile("csrci mstatus, 8" ::: "memory");
        hvc_baremetal_stats(&bm, &s);
        now = board_now_ns();
        if (s.irqs != seen || now >= deadline) {
            __asm__ volatile("csrsi mstatus, 8" ::: "memory");
            return s.irqs != seen ? 0 : -1;
        }
        board_alarm(NULL, deadline);
        __asm__ volatile("wfi" ::: "memory");
        __asm__ volatile("csrsi mstatus, 8" ::: "memory");
    }
}

static void publish(void)
{
    struct hvc_baremetal_stats s;

    hvc_baremetal_stats(&bm, &s);
    st.irqs = s.irqs;
    st.sleeps = s.sleeps;
    st.timer_irqs = board_timer_irqs;
    hvc_sampling_write(&status_port, &st, sizeof(st));
}

/* One wait with its accounting: did it sleep, what woke it. */
static int counted_wait(struct hvc_event *const evs[], unsigned n)
{
    struct hvc_baremetal_stats s0, s1;
    uint32_t t0 = board_timer_irqs;
    int rc;

    hvc_baremetal_stats(&bm, &s0);
    rc = hvc_event_wait_any(evs, n, WAIT_NS);
    hvc_baremetal_stats(&bm, &s1);
    if (s1.sleeps != s0.sleeps) {
        st.waits_slept++;
        if (s1.irqs == s0.irqs)
            st.waits_slept_noirq++;
    }
    if (s1.irqs != s0.irqs)
        st.waits_irq++;
    else if (board_timer_irqs != t0)
        st.waits_timer_only++;
    return rc;
}

/* Answer a ping only once the host is registered as a sleeper on "pong"
 * (the observable condition of a waiter on its way to sleep): the pong
 * then always rings its eventfd. False when it never registers. */
static bool host_waiting(uint32_t host)
{
    uint64_t deadline = board_now_ns() + (uint64_t)WAIT_NS;
    struct hvc_event_stats es;

    while (hvc_event_stats(&region, &pong.obj, &es) == 0 && board_now_ns() < deadline)
        if (es.sleepers & (1ull << host))
            return true;
    return false;
}

static void polled_rounds(void)
{
    /* "Ready to poll": the host sends no ping before it has this, so no
     * ping of the polled rounds can be taken by the sleeping wait. */
    hvc_event_signal(&pong);
    for (uint32_t i = 0; i < DB_POLL_ROUNDS; i++) {
        uint64_t deadline = board_now_ns() + (uint64_t)WAIT_NS;
        int rc;

        while ((rc = hvc_event_trywait(&ping)) == -HVC_EAGAIN && board_now_ns() < deadline)
            hvc_cpu_relax();
        if (rc != 0) {
            st.bad++;
            bm_printf("guest: polled ping %u: %s\n", (unsigned)i, hvc_errname(rc));
            return;
        }
        hvc_event_signal(&pong);
        st.polls++;
    }
}

/* In lock step with the host: receive message i on l2g, send message i
 * on g2l; each recv_wait finds the ring empty and sleeps until the
 * host's doorbell. */
static void stream_run(void)
{
    struct hvc_baremetal_stats s0, s1;
    static struct rtos_msg want;

    hvc_baremetal_stats(&bm, &s0);
    for (uint32_t i = 0; i < DB_STREAM_MSGS; i++) {
        int n = hvc_ring_recv_wait(&l2g, &in, sizeof(in), WAIT_NS);
        uint32_t len;

        rtos_fill(&want, i, RTOS_SALT_L2G);
        if (n < 0) {
            st.bad++;
            bm_printf("guest: l2g message %u: %s\n", (unsigned)i, hvc_errname(n));
            return;
        }
        if (n != (int)(RTOS_HDR + want.len) || in.magic != RTOS_MSG_MAGIC ||
            in.type != RTOS_DATA || in.seq != i || rtos_sum(&in) != in.sum ||
            in.sum != want.sum || __builtin_memcmp(in.payload, want.payload, want.len) != 0) {
            st.bad++;
            bm_printf("guest: l2g message %u is bad (%d bytes, seq %u)\n", (unsigned)i, n,
                      (unsigned)in.seq);
        } else {
            st.rx++;
        }
        len = rtos_fill(&out, i, RTOS_SALT_G2L);
        n = hvc_ring_send_wait(&g2l, &out, RTOS_HDR + len, WAIT_NS);
        if (n != 0) {
            st.bad++;
            bm_printf("guest: g2l message %u: %s\n", (unsigned)i, hvc_errname(n));
            return;
        }
        st.tx++;
    }
    hvc_baremetal_stats(&bm, &s1);
    st.stream_sleeps = s1.sleeps - s0.sleeps;
    st.stream_irqs = s1.irqs - s0.irqs;
}

/* lwIP's clock (NO_SYS=1): milliseconds of the board timer. */
u32_t sys_now(void)
{
    return (u32_t)(board_now_ns() / 1000000u);
}

/* Queue back what was received, as far as the send buffer takes it; the
 * window opens by what was queued. Closes once the client closed and all
 * is queued. */
static void echo_push(struct tcp_pcb *pcb)
{
    while (echo_q != NULL) {
        u32_t room = tcp_sndbuf(pcb);
        u16_t len = echo_q->len;

        if (room == 0)
            break;
        if (len > room)
            len = (u16_t)room;
        if (tcp_write(pcb, echo_q->payload, len, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break; /* the queue is full: sent() calls again */
        st.net_tx += len;
        tcp_recved(pcb, len);
        echo_q = pbuf_free_header(echo_q, len);
    }
    tcp_output(pcb);
    if (echo_q == NULL && echo_eof) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK)
            tcp_abort(pcb);
        st.net_done = 1;
    }
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        echo_eof = true;
    } else {
        st.net_rx += p->tot_len;
        if (echo_q == NULL)
            echo_q = p;
        else
            pbuf_cat(echo_q, p);
    }
    echo_push(pcb);
    return ERR_OK;
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg;
    (void)len;
    echo_push(pcb);
    return ERR_OK;
}

static void echo_err(void *arg, err_t err)
{
    (void)arg;
    st.bad++;
    st.net_done = 2;
    bm_printf("guest: echo connection failed: %d\n", (int)err);
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    tcp_recv(pcb, echo_recv);
    tcp_sent(pcb, echo_sent);
    tcp_err(pcb, echo_err);
    tcp_nagle_disable(pcb);
    return ERR_OK;
}

/* lwIP on the guest's end of "net" (MAC and IPv4 from the table), the
 * echo server listening. */
static int net_up(void)
{
    int idx = hvc_system_object_find(SYS, "net");
    const struct hvc_system_vnet_end *e;
    struct hvc_vnet_config vc = {0};
    ip4_addr_t ip, mask, gw;
    struct tcp_pcb *l;
    int rc;

    if (idx < 0)
        return idx;
    e = &SYS->objects[idx].end[SYS->objects[idx].end[0].peer == ivpos ? 0 : 1];
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
    netif_set_up(&nif);
    l = tcp_new();
    if (l == NULL || tcp_bind(l, IP_ADDR_ANY, DB_ECHO_PORT) != ERR_OK)
        return -HVC_ENOMEM;
    l = tcp_listen(l);
    if (l == NULL)
        return -HVC_ENOMEM;
    tcp_accept(l, echo_accept);
    return 0;
}

/* The TCP phase: the main loop runs lwIP and sleeps in hvc_vnet_wait()
 * (WFI), until the host's connection is echoed and closed. Each wait is
 * counted: slept or not, ended by a doorbell interrupt or by the timer
 * only (the alarm is armed for lwIP's next timeout in this phase). */
static void net_run(void)
{
    struct hvc_baremetal_stats s0, w0, w1;
    int rc = net_up();

    if (rc < 0) {
        st.bad++;
        bm_printf("guest: no network: %s\n", hvc_errname(rc));
        return;
    }
    hvc_baremetal_stats(&bm, &s0);
    net_timers = true;
    while (st.net_done == 0) {
        uint32_t t0 = board_timer_irqs;
        uint32_t ms;

        hvc_vnet_poll(&vnet, 64);
        sys_check_timeouts();
        if (st.net_done != 0)
            break;
        ms = sys_timeouts_sleeptime();
        if (ms > 1000u)
            ms = 1000u;
        /* Sleep at once (doorbells only), as the other waits do; the
         * receive ring is (re)attached by hvc_vnet_poll(), so set it
         * each time (its data event is a plain hvc_event). */
        hvc_event_set_spin(&vnet.port.rx.data_ev, 0);
        hvc_baremetal_stats(&bm, &w0);
        rc = hvc_vnet_wait(&vnet, (int64_t)ms * 1000000);
        hvc_baremetal_stats(&bm, &w1);
        if (rc < 0 && rc != -HVC_ETIMEDOUT) {
            st.bad++;
            bm_printf("guest: vnet wait: %s\n", hvc_errname(rc));
            break;
        }
        if (w1.sleeps != w0.sleeps) {
            st.net_waits_slept++;
            if (w1.irqs != w0.irqs)
                st.net_waits_irq++;
            else if (board_timer_irqs != t0)
                st.net_waits_timer++;
        }
    }
    net_timers = false;
    __asm__ volatile("csrc mie, %0" ::"r"(1ul << 7)); /* no lwIP alarm left armed */
    hvc_baremetal_stats(&bm, &w1);
    st.net_irqs = w1.irqs - s0.irqs;
    bm_printf("guest: TCP echo done: %u bytes in, %u out; %u waits slept, %u ended by a "
              "doorbell, %u by the timer only; %u doorbell irqs\n", (unsigned)st.net_rx,
              (unsigned)st.net_tx, (unsigned)st.net_waits_slept, (unsigned)st.net_waits_irq,
              (unsigned)st.net_waits_timer, (unsigned)st.net_irqs);
}

int board_main(uint32_t core)
{
    struct hvc_baremetal_desc d = {0};
    struct hvc_baremetal_stats s;
    struct hvc_event *evs[5] = {&ping, &pollev, &stream, &tcpev, &quit};
    uint64_t shm, shm_len;
    uint32_t id, host = (uint32_t)hvc_system_peer_find(SYS, "host");
    int rc;

    if (core != 0)
        return 0;
    ivs.regs = device_up(&shm, &shm_len);
    ivs.msi_base = DB_MSI_ID;
    id = *(volatile const uint32_t *)(ivs.regs + HVC_IVSHMEM_REG_IVPOSITION);
    if (id >= SYS->region.max_peers)
        fail("IVPosition beyond the system's peer table");
    ivpos = id;
    window = (struct hvc_baremetal_region){"rtos", (uintptr_t)shm, SYS->region.size};
    d.regions = &window;
    d.nregions = 1;
    d.ncores = SYS->region.max_peers; /* ivshmem ids = hvcomm peer ids */
    d.peer_id = HVC_BAREMETAL_PEER_CORE;
    d.core_id = core_hook;
    d.doorbell = hvc_doorbell_ivshmem();
    d.doorbell_ctx = &ivs;
    d.timer.now_ns = now_hook;
    d.timer.alarm = doorbell_only_alarm;
    d.token_ns = HVC_TOKEN_NS_IVSHMEM;
    d.token = HVC_IVSHMEM_TOKEN(ivpos);
    rc = hvc_baremetal_init(&bm, &d);
    if (rc != 0)
        fail("hvc_baremetal_init");
    board_ext_irq = ext_irq;
    board_irq_on();

    /* The interrupt path first: a doorbell to ourselves must come back.
     * QEMU takes the eventfds the server sends after the shared memory
     * (the other peers', then ours) in its main loop, possibly after this
     * vCPU has started; until it has ours, a Doorbell write to ourselves
     * is dropped. So ring again every 2 ms until the interrupt comes: once
     * it does, QEMU also has every eventfd sent before ours, and our
     * doorbells to the host are not dropped either. */
    hvc_baremetal_stats(&bm, &s);
    {
        uint64_t end = board_now_ns() + 10000000000ull;
        int got = -1;

        while (got != 0 && board_now_ns() < end) {
            if (d.doorbell->send(&ivs, ivpos, 0) != 0)
                break;
            got = wait_irq(s.irqs, board_now_ns() + 2000000u);
        }
        if (got != 0)
            fail("a doorbell rung to ourselves raised no MSI-X interrupt");
    }
    st.selftest_irq = 1;
    rc = hvc_region_attach(&region, hvc_platform_baremetal(&bm), "rtos", 0);
    if (rc == 0) {
        uint32_t vec;

        /* The self-test's channel bit is still pending: take it. */
        (void)hvc_platform_wait_notify(hvc_region_platform(&region), 0, &vec);
    }
    if (rc == 0)
        rc = hvc_system_apply(&region, SYS, "guest");
    if (rc == 0 &&
        (hvc_system_open_event(&region, SYS, "ping", &ping) < 0 ||
         hvc_system_open_event(&region, SYS, "pong", &pong) < 0 ||
         hvc_system_open_event(&region, SYS, "poll", &pollev) < 0 ||
         hvc_system_open_event(&region, SYS, "stream", &stream) < 0 ||
         hvc_system_open_event(&region, SYS, "quit", &quit) < 0 ||
         hvc_system_open_event(&region, SYS, "tcp", &tcpev) < 0 ||
         hvc_system_open_ring(&region, SYS, "l2g", &l2g) < 0 ||
         hvc_system_open_ring(&region, SYS, "g2l", &g2l) < 0 ||
         hvc_system_open_sampling(&region, SYS, "status", &status_port) < 0))
        rc = -HVC_EPROTO;
    if (rc != 0) {
        bm_printf("guest: FAIL joining the system: %s\n", hvc_errname(rc));
        board_exit(3);
    }
    for (unsigned i = 0; i < 5; i++)
        hvc_event_set_spin(evs[i], 0); /* sleep at once: doorbells only */
    hvc_event_set_spin(&l2g.data_ev, 0);
    hvc_event_set_spin(&g2l.space_ev, 0);
    st.magic = RTOS_MSG_MAGIC;
    st.boot = (uint32_t)board_now_ns() | 1u;
    st.ivposition = ivpos;
    publish();
    bm_printf("guest: joined %s as peer %d (IVPosition %u), region at 0x%lx, serving\n",
              SYS->name, hvc_peer_self(&region), (unsigned)ivpos, (unsigned long)window.base);

    for (;;) {
        rc = counted_wait(evs, 5);
        if (rc == 0) {
            if (!host_waiting(host)) {
                st.bad++;
                bm_printf("guest: the host never waited for pong %u\n", (unsigned)st.pings);
            }
            hvc_event_signal(&pong);
            st.pings++;
            continue;
        }
        if (rc < 0) {
            st.bad++;
            bm_printf("guest: wait: %s\n", hvc_errname(rc));
            publish();
            continue;
        }
        if (rc == 1)
            polled_rounds();
        else if (rc == 2)
            stream_run();
        else if (rc == 3)
            net_run();
        else
            break;
        st.phase++;
        publish();
    }
    publish();
    bm_printf("guest: quit: %u pings (%u waits slept, %u woken by a doorbell, %u by the "
              "timer only), %u polled, rx %u, tx %u, %u doorbell irqs, %u timer irqs, "
              "%u bad\n", (unsigned)st.pings, (unsigned)st.waits_slept,
              (unsigned)st.waits_irq, (unsigned)st.waits_timer_only, (unsigned)st.polls,
              (unsigned)st.rx, (unsigned)st.tx, (unsigned)st.irqs, (unsigned)st.timer_irqs,
              (unsigned)st.bad);
    hvc_region_detach(&region);
    board_exit(st.bad == 0 ? 0 : 1);
}
