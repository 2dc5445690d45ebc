/*
 * The Linux side of the doorbell variant of tests/rtos (rtos-doorbell.yaml,
 * doc/rtos-linux.md): hvcomm-ivshmem-server, this process as the host peer
 * (hvc_platform_ivshmem_host(), peer "host", id 0) and a bare-metal
 * riscv64 virt guest under QEMU with an ivshmem-doorbell device (peer
 * "guest", id 1 = its IVPosition). The region is the server's shared
 * memory: the guest's BAR2.
 *
 * 1. Start the server; format the region through it (retrying while its
 *    socket is not there yet); apply the system as the creator; boot QEMU;
 *    wait for the guest READY and its status (its self-test: a doorbell to
 *    itself came back as an MSI-X interrupt).
 * 2. ROUNDS ping/pong round trips, both sides sleeping (spin 0): the
 *    guest in WFI, woken by MSI-X; this process in poll() on its eventfd.
 *    Each side signals only once the other is registered as a sleeper on
 *    the event (hvc_event_stats(): the observable "on its way to sleep"),
 *    so every signal rings a doorbell. Proof that doorbells did it: this
 *    process's backend is wrapped to count wait_notify results (an eventfd
 *    read vs a timed-out slice), and the guest counts, per wait, doorbell
 *    interrupts and timer interrupts. A wait satisfied only when its slice
 *    timed out (polling) fails the test.
 * 3. The polling baseline in the same run: DB_POLL_ROUNDS round trips with
 *    both sides spinning on trywait.
 * 4. A checksummed stream both ways with blocking waits (send_wait and
 *    recv_wait on both sides, in lock step: message i on l2g, then
 *    message i back on g2l), every message checked by the receiver; both
 *    receivers find their ring empty and sleep until a doorbell.
 * 5. TCP over the vnet link "net": lwIP in this process (hvc_vnet on the
 *    ivshmem host backend) connects to the guest's echo server, sends
 *    DB_NET_BULK (at most NET_AHEAD ahead of the echo), then DB_NET_RTT
 *    round trips of DB_NET_PIECE bytes, each sent once the guest is
 *    registered as a sleeper on the ring (so each rings its doorbell),
 *    and checks every byte echoed; the guest runs lwIP from its main loop, sleeping in
 *    hvc_vnet_wait() and woken by the doorbell interrupt. Its counts of
 *    waits ended by a doorbell interrupt are checked.
 * 6. QEMU is killed: the server announces the leave, the backend's
 *    peer_alive says 0 for the guest's ivshmem token, hvc_peer_scan() marks
 *    it GONE; a new guest gets the same IVPosition, takes the slot over,
 *    and steps 2 and 4 run again. Then "quit"; the guest's exit status
 *    says whether it saw anything bad.
 *
 * No time is used as synchronisation: every wait is for an event, a peer
 * state or a counter, with deadlines only as failure bounds.
 *
 * Usage: test_rtos_doorbell SYSTEM.yaml GUEST.elf SERVER_TOOL
 */
#define _GNU_SOURCE
#include <hvcomm/config.h>
#include <hvcomm/hvcomm.h>
#include <hvcomm/ivshmem.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db_proto.h"

#include <hvcomm/vnet.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define DEADLINE_NS 30000000000ull
#define WAIT_NS 10000000000ll
#define ROUNDS 300

#define FAIL(...)                                                               \
    do {                                                                        \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                    \
        fprintf(stderr, __VA_ARGS__);                                           \
        fputc('\n', stderr);                                                    \
        cleanup();                                                              \
        exit(1);                                                                \
    } while (0)
#define CHECK_RC(expr)                                                          \
    do {                                                                        \
        int rc_ = (expr);                                                       \
        if (rc_ < 0)                                                            \
            FAIL("%s = %s", #expr, hvc_errname(rc_));                           \
    } while (0)

static struct hvc_config *cfg;
static const struct hvc_system *sys;
static const char *guest_elf, *server_tool;
static char sock_path[128], shm_path[128];
static pid_t server_pid = -1, qemu_pid = -1;
static struct hvc_region r;
static struct hvc_event ping, pong, pollev, stream, tcpev, quit;
static struct hvc_ring l2g, g2l;
static struct hvc_sampling status_port;

static void cleanup(void)
{
    if (qemu_pid > 0)
        kill(qemu_pid, SIGKILL);
    if (server_pid > 0)
        kill(server_pid, SIGTERM);
    unlink(shm_path);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the ivshmem host backend, wrapped to count what wakes its waits ---- */

static const struct hvc_platform *ivs;
static struct hvc_platform counting;
static struct {
    uint64_t calls, notified, timeouts;
    int last;
} wn;

static int counting_wait_notify(const struct hvc_platform *p, void *state, int64_t timeout_ns,
                                uint32_t *vector)
{
    int rc = ivs->wait_notify(p, state, timeout_ns, vector);

    (void)p;
    wn.calls++;
    wn.last = rc;
    if (rc == 0)
        wn.notified++;
    else if (rc == -HVC_ETIMEDOUT)
        wn.timeouts++;
    return rc;
}

/* ---- helpers ---- */

static int read_status(struct db_status *out)
{
    int n = hvc_sampling_read(&status_port, out, sizeof(*out), NULL);

    if (n == -HVC_EAGAIN)
        return 0;
    if (n != (int)sizeof(*out) || out->magic != RTOS_MSG_MAGIC)
        FAIL("status port: %d bytes (%s)", n, n < 0 ? hvc_errname(n) : "short");
    return 1;
}

/* Poll the status port until the guest booted `boot_not` is replaced and
 * its phase reached `phase` (the pace of a poll, not synchronisation). */
static void status_wait(struct db_status *s, uint32_t boot_not, uint32_t phase)
{
    uint64_t deadline = now_ns() + DEADLINE_NS;

    for (;;) {
        if (read_status(s) && s->boot != boot_not && s->phase >= phase)
            return;
        if (now_ns() > deadline)
            FAIL("guest status: boot %u (not %u), phase %u (want %u)", s->boot, boot_not,
                 s->phase, phase);
        usleep(1000);
    }
}

static void wait_peer_ready(uint32_t not_epoch)
{
    struct hvc_peer_info pi;
    uint64_t deadline = now_ns() + DEADLINE_NS;

    for (;;) {
        CHECK_RC(hvc_peer_info(&r, 1, &pi));
        if (pi.state == HVC_PEER_READY && pi.epoch != not_epoch)
            return;
        if (now_ns() > deadline)
            FAIL("the guest never became ready (state %s)", hvc_peer_state_name(pi.state));
        if (qemu_pid > 0 && waitpid(qemu_pid, NULL, WNOHANG) == qemu_pid)
            FAIL("QEMU ended before the guest joined");
        usleep(1000);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void print_times(const char *what, uint64_t *t, int n)
{
    qsort(t, (size_t)n, sizeof(t[0]), cmp_u64);
    printf("BENCH %s: %d round trips: median %.1f us, p10 %.1f, p90 %.1f\n", what, n,
           t[n / 2] / 1e3, t[n / 10] / 1e3, t[n * 9 / 10] / 1e3);
}

/* ---- the phases ---- */

static void doorbell_rounds(const char *what)
{
    static uint64_t t[ROUNDS];
    uint32_t slept = 0, by_bell = 0, by_slice = 0;
    uint64_t n0 = wn.notified;

    for (int i = 0; i < ROUNDS; i++) {
        uint64_t calls, t0, deadline = now_ns() + DEADLINE_NS;
        struct hvc_event_stats es;
        int rc;

        /* Ping only a guest that is registered as a sleeper on "ping"
         * (on its way to WFI or in it): the signal must then ring it, and
         * the guest cannot find the ping by looking before it sleeps. */
        for (;;) {
            CHECK_RC(hvc_event_stats(&r, &ping.obj, &es));
            if (es.sleepers & (1u << 1))
                break;
            if (now_ns() > deadline)
                FAIL("%s: round trip %d: the guest never waited for the ping", what, i);
            sched_yield();
        }
        calls = wn.calls;
        t0 = now_ns();
        CHECK_RC(hvc_event_signal(&ping));
        rc = hvc_event_wait(&pong, WAIT_NS);
        t[i] = now_ns() - t0;
        if (rc != 0)
            FAIL("%s: round trip %d: %s", what, i, hvc_errname(rc));
        if (wn.calls != calls) {
            slept++;
            if (wn.last == 0)
                by_bell++;
            else
                by_slice++;
        }
    }
    print_times(what, t, ROUNDS);
    printf("%s: host: %llu eventfd notifications read for %d pongs; waits that reached "
           "poll() %u, ended by a notification %u, by a timed-out slice %u\n", what,
           (unsigned long long)(wn.notified - n0), ROUNDS, slept, by_bell, by_slice);
    /* A slice of the host's wait can time out under load (the guest's
     * vCPU not running for 50 ms) and find the pong set just before its
     * doorbell's eventfd write: allow 1%. The guest side is strict. */
    if (wn.notified - n0 < ROUNDS * 9 / 10 || by_slice > ROUNDS / 100)
        FAIL("%s: the host's waits were not woken by doorbells", what);
}

/* The guest's counters over one guest's traffic (a: before, b: after the
 * stream): each ping must have come with a doorbell interrupt. */
static void check_guest_waits(const struct db_status *a, const struct db_status *b,
                              const char *what)
{
    uint32_t slept = b->waits_slept - a->waits_slept, irq = b->waits_irq - a->waits_irq,
             noirq = b->waits_slept_noirq - a->waits_slept_noirq,
             timer = b->waits_timer_only - a->waits_timer_only, pings = b->pings - a->pings,
             irqs = b->irqs - a->irqs - b->stream_irqs;

    printf("%s: guest: %u pings; %u of its event waits slept (WFI), %u of those without a "
           "doorbell interrupt; %u waits took one (MSI-X), %u only the timer; %u doorbell "
           "irqs outside the stream (doorbells coalesce), %u timer irqs in all\n", what, pings,
           slept, noirq, irq, timer, irqs, b->timer_irqs - a->timer_irqs);
    /* The guest's waits have no alarm, so its WFI ends only with an
     * interrupt: most waits slept, every one that slept took a doorbell
     * interrupt, and no timer interrupt came. (Two doorbells that QEMU
     * takes from the eventfd at once make one MSI-X: the interrupt count
     * may be below the pings.) */
    if (pings != ROUNDS || slept < ROUNDS / 2 || noirq != 0 || timer != 0 ||
        b->timer_irqs != a->timer_irqs || irqs < slept)
        FAIL("%s: the guest's waits were not woken by doorbells", what);
}

static void polled_rounds(void)
{
    static uint64_t t[DB_POLL_ROUNDS];

    CHECK_RC(hvc_event_signal(&pollev));
    CHECK_RC(hvc_event_wait(&pong, WAIT_NS)); /* the guest polls from now on */
    for (uint32_t i = 0; i < DB_POLL_ROUNDS; i++) {
        uint64_t t0 = now_ns(), deadline = t0 + DEADLINE_NS;
        int rc;

        CHECK_RC(hvc_event_signal(&ping));
        while ((rc = hvc_event_trywait(&pong)) == -HVC_EAGAIN)
            if (now_ns() > deadline)
                FAIL("polled round trip %u: no answer", i);
        CHECK_RC(rc);
        t[i] = now_ns() - t0;
    }
    print_times("host <-> guest, polling both sides", t, DB_POLL_ROUNDS);
}

/* What the rings and their events look like when a stream is stuck. */
static void dump_ring(const char *name, struct hvc_ring *q)
{
    struct hvc_event_stats d, sp;

    hvc_event_stats(&r, &q->data_ev.obj, &d);
    hvc_event_stats(&r, &q->space_ev.obj, &sp);
    fprintf(stderr, "%s: prod %u cons %u cons_sleeping %u prod_sleeping %u; data event "
            "state %#x sleepers %#llx signals %u wakes %u sleeps %u; space event state %#x "
            "sleepers %#llx\n", name, q->w->prod, q->w->cons, q->w->cons_sleeping,
            q->w->prod_sleeping, d.state, (unsigned long long)d.sleepers, d.signals, d.wakes,
            d.sleeps, sp.state, (unsigned long long)sp.sleepers);
}

static void stream_run(const char *what, uint32_t phase, struct db_status *s)
{
    static struct rtos_msg m, want;
    uint64_t t0 = now_ns(), n0 = wn.notified, to0 = wn.timeouts;
    struct db_status before;
    int rc;

    status_wait(&before, 0, phase - 1);
    CHECK_RC(hvc_event_signal(&stream));
    for (uint32_t i = 0; i < DB_STREAM_MSGS; i++) {
        uint32_t len = rtos_fill(&m, i, RTOS_SALT_L2G);

        rc = hvc_ring_send_wait(&l2g, &m, RTOS_HDR + len, WAIT_NS);
        if (rc != 0)
            FAIL("%s: l2g send %u: %s", what, i, hvc_errname(rc));
        rc = hvc_ring_recv_wait(&g2l, &m, sizeof(m), WAIT_NS);
        rtos_fill(&want, i, RTOS_SALT_G2L);
        if (rc != (int)(RTOS_HDR + want.len) || m.magic != RTOS_MSG_MAGIC ||
            m.type != RTOS_DATA || m.seq != i || m.sum != rtos_sum(&m) ||
            m.sum != want.sum || memcmp(m.payload, want.payload, want.len) != 0) {
            dump_ring("l2g", &l2g);
            dump_ring("g2l", &g2l);
            FAIL("%s: g2l message %u: bad (%d, seq %u)", what, i, rc, m.seq);
        }
    }
    status_wait(s, 0, phase);
    if (s->rx - before.rx != DB_STREAM_MSGS || s->bad != 0)
        FAIL("%s: the guest counted %u good messages of %u, %u bad", what, s->rx - before.rx,
             DB_STREAM_MSGS, s->bad);
    printf("%s: %u checked messages each way with blocking waits in %.1f ms; host woken by "
           "%llu eventfd notifications (%llu slices timed out); guest slept %u times, took "
           "%u doorbell irqs\n", what, DB_STREAM_MSGS, (now_ns() - t0) / 1e6,
           (unsigned long long)(wn.notified - n0), (unsigned long long)(wn.timeouts - to0),
           s->stream_sleeps, s->stream_irqs);
    /* How many waits spin out and sleep depends on timing; that they do,
     * and are woken by doorbells, does not. */
    if (s->stream_sleeps == 0 || s->stream_irqs < s->stream_sleeps * 9 / 10 ||
        wn.notified == n0)
        FAIL("%s: the stream's blocking waits did not sleep on doorbells (guest slept %u, "
             "irqs %u; host notified %llu, slices timed out %llu)", what, s->stream_sleeps,
             s->stream_irqs, (unsigned long long)(wn.notified - n0),
             (unsigned long long)(wn.timeouts - to0));
}

/* One guest's traffic: round trips with doorbells, the polled baseline
 * (first guest only), the stream. `phase0` is its phase before. */
static void traffic(const char *who, uint32_t boot, int baseline)
{
    struct db_status a, b;
    uint32_t phase;
    char what[96];

    status_wait(&a, 0, 0);
    if (a.boot != boot)
        FAIL("%s: not the guest we booted", who);
    phase = a.phase;
    snprintf(what, sizeof(what), "%s, doorbells both ways", who);
    doorbell_rounds(what);
    if (baseline) {
        polled_rounds();
        phase++;
    }
    snprintf(what, sizeof(what), "%s, ring stream", who);
    stream_run(what, ++phase, &b);
    snprintf(what, sizeof(what), "%s, doorbells both ways", who);
    check_guest_waits(&a, &b, what);
}

static void start_server(void)
{
    char size[32];

    snprintf(size, sizeof(size), "%llu", (unsigned long long)sys->region.size);
    fflush(stdout);
    server_pid = fork();
    if (server_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execl(server_tool, server_tool, "--socket", sock_path, "--shm", shm_path, "--size",
              size, "--vectors", "1", "--peers", "4", (char *)NULL);
        perror(server_tool);
        _exit(127);
    }
    if (server_pid < 0)
        FAIL("fork: %s", strerror(errno));
}

/* Two harts although the guest uses one (the other stays in WFI): QEMU's
 * TCG emits the guest's fences and atomic instructions as host barriers
 * and locked operations only when it translates for more than one vCPU
 * (CF_PARALLEL, max_cpus > 1). With -smp 1 a guest "fence rw,rw" is
 * dropped, the x86 host reorders the guest's store of its sleep word
 * after its load of the ring index, and a wake-up is lost (seen: the
 * stream stalled with the guest's cons_sleeping odd and the data event
 * never signalled). */
static pid_t boot_guest(void)
{
    char chardev[200];
    pid_t pid;

    snprintf(chardev, sizeof(chardev), "socket,path=%s,id=ivs", sock_path);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execlp("qemu-system-riscv64", "qemu-system-riscv64", "-machine",
               "virt,aia=aplic-imsic", "-cpu", "rv64,x-smaia=true", "-m", "64M", "-smp", "2",
               "-bios", "none", "-nographic", "-monitor", "none", "-serial", "stdio",
               "-chardev", chardev, "-device", "ivshmem-doorbell,chardev=ivs,vectors=1",
               "-kernel", guest_elf, (char *)NULL);
        perror("qemu-system-riscv64");
        _exit(127);
    }
    if (pid < 0)
        FAIL("fork: %s", strerror(errno));
    return pid;
}

/* ---- TCP over "net": this process's lwIP, the guest's echo server ---- */

#define NET_AHEAD (96u * 1024u) /* bytes sent and not yet echoed, at most */

static struct hvc_vnet hv;
static struct netif hnif;
static struct tcp_pcb *cpcb;
static uint8_t net_buf[DB_NET_BYTES];
static uint32_t net_sent, net_got, net_bad;
static uint64_t net_t0, net_bulk_ns;
static uint32_t net_guest; /* the guest's peer id */
/* 0 connecting, 1 connected, 2 all echoed, -1 failed, -3 the guest never slept */
static int net_state;

static uint64_t rtt_t0, rtt_ns[DB_NET_RTT];
static uint32_t rtt_n;

/* Before each round trip's piece: the guest registered as a sleeper on
 * the data event of our transmit ring (its receive ring), the observable
 * condition of its main loop on its way to WFI, so every piece rings its
 * doorbell. False when it never does. */
static bool guest_asleep(void)
{
    uint64_t deadline = now_ns() + DEADLINE_NS;
    struct hvc_event_stats es;

    while (hvc_event_stats(&r, &hv.port.tx.data_ev.obj, &es) == 0 && now_ns() < deadline) {
        if (es.sleepers & (1ull << net_guest))
            return true;
        sched_yield();
    }
    return false;
}

/* The bulk part: up to NET_AHEAD bytes ahead of the echo. Then round
 * trips: one DB_NET_PIECE piece, sent only when all before it came back. */
static void client_push(void)
{
    while (net_state == 1 && net_sent < DB_NET_BULK && net_sent - net_got < NET_AHEAD) {
        u32_t len = DB_NET_BULK - net_sent, room = tcp_sndbuf(cpcb);

        if (len > NET_AHEAD - (net_sent - net_got))
            len = NET_AHEAD - (net_sent - net_got);
        if (len > room)
            len = room;
        if (len > 0xffffu)
            len = 0xffffu;
        if (len == 0 || tcp_write(cpcb, net_buf + net_sent, (u16_t)len, 0) != ERR_OK)
            break;
        net_sent += len;
    }
    if (net_state == 1 && net_sent >= DB_NET_BULK && net_sent < DB_NET_BYTES &&
        net_got == net_sent && tcp_sndbuf(cpcb) >= DB_NET_PIECE) {
        if (!guest_asleep())
            net_state = -3;
        else if (tcp_write(cpcb, net_buf + net_sent, DB_NET_PIECE, 0) == ERR_OK) {
            net_sent += DB_NET_PIECE;
            rtt_t0 = now_ns();
        }
    }
    if (cpcb != NULL)
        tcp_output(cpcb);
}

static err_t client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        if (net_got != DB_NET_BYTES)
            net_state = -1;
        return ERR_OK;
    }
    for (struct pbuf *q = p; q != NULL; q = q->next) {
        if (net_got + q->len > net_sent || memcmp(q->payload, net_buf + net_got, q->len) != 0)
            net_bad++;
        net_got += q->len;
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (net_sent > DB_NET_BULK && net_got == net_sent && rtt_n < DB_NET_RTT)
        rtt_ns[rtt_n++] = now_ns() - rtt_t0;
    if (net_got == DB_NET_BULK)
        net_bulk_ns = now_ns() - net_t0;
    if (net_got >= DB_NET_BYTES) {
        net_state = net_got == DB_NET_BYTES ? 2 : -1;
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK)
            tcp_abort(pcb);
        cpcb = NULL;
        return ERR_OK;
    }
    client_push();
    return ERR_OK;
}

static err_t client_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg;
    (void)pcb;
    (void)len;
    client_push();
    return ERR_OK;
}

static void client_err(void *arg, err_t err)
{
    (void)arg;
    fprintf(stderr, "host: TCP connection failed: %d\n", (int)err);
    cpcb = NULL;
    net_state = -1;
}

static err_t client_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    if (err != ERR_OK) {
        net_state = -1;
        return err;
    }
    net_state = 1;
    client_push();
    return ERR_OK;
}

/* One main loop turn of this process's lwIP: frames, timers, and a wait
 * for the guest's doorbell (eventfd) bounded by lwIP's next timeout. */
static void host_net_step(void)
{
    u32_t ms;
    int rc;

    hvc_vnet_poll(&hv, 64);
    sys_check_timeouts();
    ms = sys_timeouts_sleeptime();
    if (ms > 100u)
        ms = 100u;
    rc = hvc_vnet_wait(&hv, (int64_t)ms * 1000000);
    if (rc < 0 && rc != -HVC_ETIMEDOUT)
        FAIL("host: vnet wait: %s", hvc_errname(rc));
}

static void tcp_run(void)
{
    int idx = hvc_system_object_find(sys, "net");
    const struct hvc_system_vnet_end *e, *g;
    struct hvc_vnet_config vc = {0};
    ip4_addr_t ip, mask, gw;
    ip_addr_t gip = IPADDR4_INIT(0);
    struct db_status before, s;
    uint64_t deadline, t0, t1, n0 = wn.notified, to0 = wn.timeouts;
    uint32_t phase;

    if (idx < 0)
        FAIL("no vnet link \"net\" in the system");
    net_guest = (uint32_t)hvc_system_peer_find(sys, "guest");
    if (net_guest >= 64u)
        FAIL("no peer \"guest\" in the system");
    e = &sys->objects[idx].end[sys->objects[idx].end[0].peer == net_guest ? 1 : 0];
    g = &sys->objects[idx].end[sys->objects[idx].end[0].peer == net_guest ? 0 : 1];
    for (uint32_t i = 0; i < DB_NET_BYTES; i++)
        net_buf[i] = (uint8_t)(i * 2654435761u >> 13);
    if (e->has_mac) {
        vc.flags = HVC_VNET_MAC_SET;
        memcpy(vc.mac, e->mac, 6);
    }
    lwip_init();
    CHECK_RC(hvc_vnet_open(&hv, &r, "net", &vc));
    ip4_addr_set_u32(&ip, lwip_htonl(e->ipv4));
    ip4_addr_set_u32(&mask, e->prefix ? lwip_htonl(~0u << (32 - e->prefix)) : 0);
    ip4_addr_set_zero(&gw);
    ip4_addr_set_u32(ip_2_ip4(&gip), lwip_htonl(g->ipv4));
    if (netif_add(&hnif, &ip, &mask, &gw, &hv, hvc_vnet_netif_init, ethernet_input) == NULL)
        FAIL("netif_add");
    netif_set_default(&hnif);
    netif_set_up(&hnif);

    status_wait(&before, 0, 0);
    phase = before.phase;
    CHECK_RC(hvc_event_signal(&tcpev));
    deadline = now_ns() + 4 * DEADLINE_NS;
    /* The guest opens its end on "tcp": wait for the link to come up. */
    while (!netif_is_link_up(&hnif)) {
        if (now_ns() > deadline)
            FAIL("host: the vnet link never came up");
        host_net_step();
    }
    cpcb = tcp_new();
    if (cpcb == NULL)
        FAIL("tcp_new");
    tcp_nagle_disable(cpcb);
    tcp_recv(cpcb, client_recv);
    tcp_sent(cpcb, client_sent);
    tcp_err(cpcb, client_err);
    t0 = now_ns();
    net_t0 = t0;
    if (tcp_connect(cpcb, &gip, DB_ECHO_PORT, client_connected) != ERR_OK)
        FAIL("tcp_connect");
    while (net_state == 0 || net_state == 1) {
        if (now_ns() > deadline)
            FAIL("host: TCP echo: %u bytes sent, %u echoed by the deadline", net_sent, net_got);
        host_net_step();
    }
    t1 = now_ns();
    if (net_state != 2 || net_bad != 0)
        FAIL("host: TCP echo failed: state %d, %u of %u bytes back, %u bad pieces", net_state,
             net_got, DB_NET_BYTES, net_bad);
    /* The guest's FIN and the status: keep this lwIP running meanwhile. */
    for (;;) {
        if (read_status(&s) && s.phase > phase)
            break;
        if (now_ns() > deadline)
            FAIL("host: the guest did not end its TCP phase");
        host_net_step();
    }
    printf("host <-> guest, TCP over vnet: %u bytes streamed, echoed and checked in %.1f ms "
           "(from the connect): %.1f Mbit/s each way (TCG emulator figure); %u round trips of "
           "%u bytes; all in %.1f ms; host woken by %llu eventfd notifications (%llu slices "
           "timed out)\n", DB_NET_BULK, net_bulk_ns / 1e6,
           DB_NET_BULK * 8.0 / (net_bulk_ns / 1e3), DB_NET_RTT, DB_NET_PIECE, (t1 - t0) / 1e6,
           (unsigned long long)(wn.notified - n0), (unsigned long long)(wn.timeouts - to0));
    if (rtt_n != DB_NET_RTT)
        FAIL("host: %u TCP round trips timed, %u expected", rtt_n, DB_NET_RTT);
    print_times("host <-> guest, TCP round trips over vnet", rtt_ns, (int)rtt_n);
    printf("host <-> guest, TCP over vnet: guest received %u, sent %u; its main loop's "
           "vnet waits: %u slept, %u ended by a doorbell interrupt, %u by the timer only; "
           "%u doorbell irqs\n", s.net_rx, s.net_tx, s.net_waits_slept, s.net_waits_irq,
           s.net_waits_timer, s.net_irqs);
    if (s.net_rx != DB_NET_BYTES || s.net_tx != DB_NET_BYTES || s.net_done != 1 || s.bad != 0)
        FAIL("guest: TCP phase: rx %u, tx %u, done %u, bad %u", s.net_rx, s.net_tx,
             s.net_done, s.bad);
    /* How many waits sleep depends on timing; that the sleeping ones are
     * ended by doorbells (and not by lwIP's timer) does not. */
    if (s.net_waits_irq < DB_NET_RTT || s.net_waits_irq <= s.net_waits_timer ||
        wn.notified == n0)
        FAIL("guest: the TCP phase's waits were not ended by doorbells (%u slept, %u by a "
             "doorbell, %u by the timer only)", s.net_waits_slept, s.net_waits_irq,
             s.net_waits_timer);
}

int main(int argc, char **argv)
{
    struct hvc_region_config rc;
    struct hvc_peer_info pi;
    struct db_status s;
    uint64_t t0, deadline;
    int frc, status;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 4) {
        fprintf(stderr, "usage: %s SYSTEM.yaml GUEST.elf SERVER_TOOL\n", argv[0]);
        return 2;
    }
    guest_elf = argv[2];
    server_tool = argv[3];
    snprintf(sock_path, sizeof(sock_path), "/tmp/hvc-rtos-db-%d.sock", (int)getpid());
    snprintf(shm_path, sizeof(shm_path), "/dev/shm/hvc-rtos-db-%d", (int)getpid());
    if (hvc_system_load(argv[1], &cfg, NULL, NULL) < 0)
        FAIL("cannot load %s", argv[1]);
    sys = &cfg->system;
    ivs = hvc_platform_ivshmem_host();
    if (ivs == NULL)
        FAIL("no ivshmem host backend in this build");
    counting = *ivs;
    counting.wait_notify = counting_wait_notify;

    /* 1. The server, the region in its memory, the guest. */
    start_server();
    hvc_system_region_config(sys, &rc);
    deadline = now_ns() + DEADLINE_NS;
    while ((frc = hvc_region_format(&r, &counting, sock_path, &rc)) == -HVC_ENOENT) {
        if (now_ns() > deadline || waitpid(server_pid, NULL, WNOHANG) == server_pid)
            FAIL("the ivshmem server never listened on %s", sock_path);
        usleep(2000); /* the pace of a poll for the server's socket */
    }
    CHECK_RC(frc);
    CHECK_RC(hvc_system_apply(&r, sys, "host"));
    if (hvc_peer_self(&r) != 0)
        FAIL("the server gave the host id %d, the system file says 0", hvc_peer_self(&r));
    CHECK_RC(hvc_system_open_event(&r, sys, "ping", &ping));
    CHECK_RC(hvc_system_open_event(&r, sys, "pong", &pong));
    CHECK_RC(hvc_system_open_event(&r, sys, "poll", &pollev));
    CHECK_RC(hvc_system_open_event(&r, sys, "stream", &stream));
    CHECK_RC(hvc_system_open_event(&r, sys, "quit", &quit));
    CHECK_RC(hvc_system_open_event(&r, sys, "tcp", &tcpev));
    CHECK_RC(hvc_system_open_ring(&r, sys, "l2g", &l2g));
    CHECK_RC(hvc_system_open_ring(&r, sys, "g2l", &g2l));
    CHECK_RC(hvc_system_open_sampling(&r, sys, "status", &status_port));
    CHECK_RC(hvc_event_set_spin(&pong, 0)); /* sleep at once: doorbells only */
    CHECK_RC(hvc_event_set_spin(&g2l.data_ev, 0));
    CHECK_RC(hvc_event_set_spin(&l2g.space_ev, 0));
    printf("host: server %s, region of %llu bytes formatted in its memory (%s) as peer 0; "
           "booting the guest\n", sock_path, (unsigned long long)sys->region.size, shm_path);

    t0 = now_ns();
    qemu_pid = boot_guest();
    wait_peer_ready(0);
    status_wait(&s, 0, 0);
    printf("host: guest ready (IVPosition %u, self-test doorbell -> MSI-X %s) %.0f ms after "
           "QEMU started\n", s.ivposition, s.selftest_irq ? "ok" : "missing",
           (now_ns() - t0) / 1e6);
    if (s.ivposition != 1 || !s.selftest_irq)
        FAIL("guest: IVPosition %u, self-test %u", s.ivposition, s.selftest_irq);
    traffic("host <-> guest", s.boot, 1);
    tcp_run();

    /* 5. Kill the guest: the server's leave makes it GONE; a new one joins. */
    CHECK_RC(hvc_peer_info(&r, 1, &pi));
    t0 = now_ns();
    kill(qemu_pid, SIGKILL);
    waitpid(qemu_pid, &status, 0);
    qemu_pid = -1;
    deadline = t0 + DEADLINE_NS;
    for (;;) {
        struct hvc_peer_info now;

        CHECK_RC(hvc_peer_scan(&r, 0)); /* no heartbeat: the server's word only */
        CHECK_RC(hvc_peer_info(&r, 1, &now));
        if (now.state == HVC_PEER_GONE)
            break;
        if (now_ns() > deadline)
            FAIL("the killed guest is still %s", hvc_peer_state_name(now.state));
        usleep(1000); /* the pace of the scan */
    }
    printf("host: QEMU killed; the server announced the leave and the guest was declared "
           "gone %.2f ms after the kill (no heartbeat timeout involved); listed by the server: "
           "%d\n",
           (now_ns() - t0) / 1e6, hvc_ivshmem_host_peer_listed(hvc_region_platform(&r), 1));
    {
        uint32_t old_boot = s.boot;

        qemu_pid = boot_guest();
        wait_peer_ready(pi.epoch);
        status_wait(&s, old_boot, 0);
    }
    printf("host: a new guest joined (IVPosition %u); traffic resumes\n", s.ivposition);
    traffic("host <-> new guest", s.boot, 0);

    CHECK_RC(hvc_event_signal(&quit));
    deadline = now_ns() + DEADLINE_NS;
    while (waitpid(qemu_pid, &status, WNOHANG) != qemu_pid) {
        if (now_ns() > deadline)
            FAIL("the guest did not quit");
        usleep(1000); /* the pace of a poll for an exit */
    }
    qemu_pid = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        FAIL("guest ended with status %#x", status);
    printf("host: guest quit cleanly; pass\n");
    hvc_region_detach(&r);
    kill(server_pid, SIGTERM);
    waitpid(server_pid, &status, 0);
    server_pid = -1;
    unlink(shm_path);
    hvc_config_free(cfg);
    return 0;
}
