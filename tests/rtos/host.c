/*
 * The Linux side of tests/rtos: a bare-metal riscv64 virt guest under QEMU
 * and two Linux processes in one hvcomm system (rtos-linux.yaml), the
 * region a window of the guest's RAM file (FILE@0x2000000 on the POSIX
 * backend = guest-physical 0x82000000).
 *
 * The parent is peer "monitor": it creates the RAM file, formats the
 * region and applies the system as the creator, boots QEMU, and forks peer
 * "linux" for each traffic run (events round trips, a checksummed stream
 * each way, the guest's sampling port). Then the lifecycle: QEMU is killed,
 * the monitor sees the guest go stale in the peer table, boots a new guest
 * and traffic resumes; a "linux" process dies (SIGKILL), the guest sees it
 * gone (its own heartbeat scan) and keeps serving the monitor. Between
 * the two, the network: hvcomm-bridge joins with a TAP edge in a network
 * namespace a child makes, and Linux's ping (v4, v6) and iperf 2 reach
 * lwIP and lwiperf on the guest over the vnet link "net".
 *
 * Every wait is for an observable condition (a peer state, an event, a
 * counter on the sampling port), polled: the guest has no doorbell into
 * Linux. Deadlines only bound failures.
 *
 * Usage: test_rtos_host SYSTEM.yaml GUEST.elf BRIDGE_TOOL [RAMFILE]
 */
#define _GNU_SOURCE
#include <hvcomm/config.h>
#include <hvcomm/hvcomm.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

#define RAM_SIZE (64u << 20)
#define REGION_OFFSET 0x2000000u /* guest-physical 0x82000000 */
#define DEADLINE_NS 30000000000ull
#define STALE_NS 500000000ull   /* the monitor's heartbeat timeout for the guest */
#define ROUND_TRIPS 300
#define STREAM_MSGS 400

#define FAIL(...)                                                               \
    do {                                                                        \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                    \
        fprintf(stderr, __VA_ARGS__);                                           \
        fputc('\n', stderr);                                                    \
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
static char region_name[512];
static const char *guest_elf, *ram_file, *bridge_tool;
static struct hvc_sampling *g_status; /* the monitor's reader, for the net child */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One poll step: keep our heartbeat fresh (the guest declares silent
 * peers gone) and give the other processes the CPU. */
static void poll_step(struct hvc_region *r)
{
    if (hvc_peer_heartbeat(r) != 0)
        FAIL("declared gone by another peer");
    sched_yield();
}

static int read_status(struct hvc_sampling *sp, struct rtos_status *out)
{
    int n = hvc_sampling_read(sp, out, sizeof(*out), NULL);

    if (n == -HVC_EAGAIN)
        return 0;
    if (n != (int)sizeof(*out) || out->magic != RTOS_MSG_MAGIC)
        FAIL("status port: %d bytes (%s)", n, n < 0 ? hvc_errname(n) : "short");
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* n round trips: signal `req`, poll `rsp`; prints the median. */
static void round_trips(struct hvc_region *r, struct hvc_event *req, struct hvc_event *rsp,
                        int n, const char *what)
{
    static uint64_t t[ROUND_TRIPS];
    uint64_t deadline = now_ns() + DEADLINE_NS, start = now_ns();

    if (n > ROUND_TRIPS)
        n = ROUND_TRIPS;
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        int rc;

        CHECK_RC(hvc_event_signal(req));
        while ((rc = hvc_event_trywait(rsp)) == -HVC_EAGAIN) {
            if (now_ns() > deadline)
                FAIL("%s: no answer to round trip %d", what, i);
            if ((i & 7) == 0)
                poll_step(r);
        }
        CHECK_RC(rc);
        t[i] = now_ns() - t0;
    }
    start = now_ns() - start;
    qsort(t, (size_t)n, sizeof(t[0]), cmp_u64);
    printf("%s: %d event round trips (polling both sides) in %.1f ms: median %.1f us, "
           "p10 %.1f, p90 %.1f\n", what, n, start / 1e6, t[n / 2] / 1e3, t[n / 10] / 1e3,
           t[n * 9 / 10] / 1e3);
}

static void wait_peer(struct hvc_region *r, uint32_t id, int ready, uint32_t not_epoch)
{
    struct hvc_peer_info pi;
    uint64_t deadline = now_ns() + DEADLINE_NS;

    for (;;) {
        CHECK_RC(hvc_peer_info(r, id, &pi));
        if (ready ? (pi.state == HVC_PEER_READY && pi.epoch != not_epoch)
                  : pi.state != HVC_PEER_READY)
            return;
        if (now_ns() > deadline)
            FAIL("peer %u never became %s (state %s)", id, ready ? "ready" : "not ready",
                 hvc_peer_state_name(pi.state));
        poll_step(r);
    }
}

/* ---- peer "linux": one traffic run, in a child process ---- */

static int linux_run(int die)
{
    struct hvc_region r;
    struct hvc_event ping, pong;
    struct hvc_ring l2g, g2l;
    struct hvc_sampling sp;
    struct rtos_status s0, s;
    static struct rtos_msg m, want;
    uint32_t sent = 0, got = 0;
    uint64_t deadline, t0;
    int rc;

    CHECK_RC(hvc_region_attach(&r, hvc_platform_posix(), region_name, 0));
    CHECK_RC(hvc_system_apply(&r, sys, "linux"));
    CHECK_RC(hvc_system_open_event(&r, sys, "ping", &ping));
    CHECK_RC(hvc_system_open_event(&r, sys, "pong", &pong));
    CHECK_RC(hvc_system_open_ring(&r, sys, "l2g", &l2g));
    CHECK_RC(hvc_system_open_ring(&r, sys, "g2l", &g2l));
    CHECK_RC(hvc_system_open_sampling(&r, sys, "status", &sp));
    wait_peer(&r, 1, 1, 0);
    deadline = now_ns() + DEADLINE_NS;
    while (!read_status(&sp, &s0)) {
        if (now_ns() > deadline)
            FAIL("the guest never published its status");
        poll_step(&r);
    }
    if (die) {
        /* Die only once the guest has seen us READY (its linux_seen moved). */
        uint32_t seen0 = s0.linux_seen;

        round_trips(&r, &ping, &pong, 20, "linux (about to die)");
        do {
            if (now_ns() > deadline)
                FAIL("the guest never saw this linux peer ready");
            poll_step(&r);
            read_status(&sp, &s);
        } while (s.linux_seen == seen0 && s.boot == s0.boot &&
                 (s0.linux_seen == 0 || s.linux_seen == s0.linux_seen));
        printf("linux: the guest has seen us (seen %u); dying with SIGKILL\n",
               (unsigned)s.linux_seen);
        fflush(stdout);
        kill(getpid(), SIGKILL);
    }
    round_trips(&r, &ping, &pong, ROUND_TRIPS, "linux <-> guest");

    /* The stream both ways: ask for STREAM_MSGS on g2l, send as many on l2g. */
    m.magic = RTOS_MSG_MAGIC;
    m.type = RTOS_SEND;
    m.seq = STREAM_MSGS;
    m.len = 0;
    m.sum = rtos_sum(&m);
    while ((rc = hvc_ring_send(&l2g, &m, RTOS_HDR)) == -HVC_EAGAIN)
        poll_step(&r);
    CHECK_RC(rc);
    t0 = now_ns();
    deadline = t0 + DEADLINE_NS;
    while (sent < STREAM_MSGS || got < STREAM_MSGS) {
        int progress = 0;

        if (sent < STREAM_MSGS) {
            uint32_t len = rtos_fill(&m, sent, RTOS_SALT_L2G);

            rc = hvc_ring_send(&l2g, &m, RTOS_HDR + len);
            if (rc == 0)
                sent++, progress = 1;
            else if (rc != -HVC_EAGAIN)
                FAIL("l2g send: %s", hvc_errname(rc));
        }
        rc = hvc_ring_recv(&g2l, &m, sizeof(m));
        if (rc >= 0) {
            rtos_fill(&want, got, RTOS_SALT_G2L);
            if (rc != (int)(RTOS_HDR + want.len) || m.magic != RTOS_MSG_MAGIC ||
                m.sum != rtos_sum(&m) || m.sum != want.sum || m.seq != got ||
                memcmp(m.payload, want.payload, want.len) != 0)
                FAIL("g2l message %u: bad (%d bytes, seq %u)", got, rc, m.seq);
            got++, progress = 1;
        } else if (rc != -HVC_EAGAIN) {
            FAIL("g2l recv: %s", hvc_errname(rc));
        }
        if (!progress) {
            if (now_ns() > deadline)
                FAIL("stream stuck: sent %u, got %u", sent, got);
            poll_step(&r);
        }
    }
    /* The guest checked ours: its rx counter says so. */
    do {
        if (now_ns() > deadline)
            FAIL("the guest counted %u of %u messages", s.rx - s0.rx, STREAM_MSGS);
        poll_step(&r);
        read_status(&sp, &s);
    } while (s.rx - s0.rx < STREAM_MSGS && s.bad == s0.bad);
    if (s.bad != 0 || s.rx - s0.rx != STREAM_MSGS)
        FAIL("the guest saw %u bad messages, %u good of %u", s.bad, s.rx - s0.rx,
             STREAM_MSGS);
    printf("linux: stream %u checked messages each way in %.1f ms; sampling port: guest "
           "loops %u, pings %u, rx %u, tx %u, bad %u\n", STREAM_MSGS,
           (now_ns() - t0) / 1e6, s.loops, s.pings, s.rx, s.tx, s.bad);
    CHECK_RC(hvc_region_detach(&r));
    return 0;
}

/* ---- the network: hvcomm-bridge's TAP edge in a network namespace ---- */

#define TAP_IF "hvctap0"

static int tap_ready(void)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok = 0;

    if (s < 0)
        return 0;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TAP_IF);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) &&
        ioctl(s, SIOCGIFADDR, &ifr) == 0)
        ok = 1;
    close(s);
    return ok;
}

/* Run a shell command line; its output into out (the tail), its status. */
static int run_cmd(const char *cmd, char *out, size_t cap)
{
    FILE *f = popen(cmd, "r");
    size_t got = 0;
    int st;

    if (f == NULL)
        return -1;
    for (;;) {
        size_t n = fread(out + got, 1, cap - 1 - got, f);

        if (n == 0)
            break;
        got += n;
        if (got == cap - 1)
            got = 0;
    }
    out[got] = '\0';
    st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A Linux process of ours talks TCP to the guest: connect to lwiperf's
 * port, send an iperf 2 header with no flags (no test back) and data,
 * TCP_BYTES in all, close; the guest's lwiperf counts what arrived. */
#define TCP_BYTES (1u << 20)

static void tcp_run(void)
{
    static uint8_t buf[64 * 1024];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001)};
    struct timeval tv = {10, 0};
    struct rtos_status s0, s;
    uint64_t t0, deadline;
    uint32_t left = TCP_BYTES;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    read_status(g_status, &s0);
    inet_pton(AF_INET, "10.9.0.2", &a.sin_addr);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        FAIL("TCP connect to 10.9.0.2:5001: %s", strerror(errno));
    for (size_t i = 24; i < sizeof(buf); i++)
        buf[i] = (uint8_t)i; /* the first 24 bytes: the header, all zero */
    t0 = now_ns();
    /* The header in a segment of its own, as iperf 2 sends it: lwiperf
     * counts only the header of the connection's first segment. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int)) < 0 ||
        send(fd, buf, 24, MSG_NOSIGNAL) != 24)
        FAIL("TCP: header: %s", strerror(errno));
    left -= 24;
    while (left > 0) {
        ssize_t n = send(fd, buf + 24, left < sizeof(buf) - 24 ? left : sizeof(buf) - 24,
                         MSG_NOSIGNAL);

        if (n <= 0)
            FAIL("TCP send: %s", n < 0 ? strerror(errno) : "closed");
        left -= (uint32_t)n;
    }
    shutdown(fd, SHUT_WR);
    if (recv(fd, buf, sizeof(buf), 0) != 0) /* the guest closes after our FIN */
        FAIL("TCP: no orderly close from the guest (%s)", strerror(errno));
    close(fd);
    deadline = now_ns() + DEADLINE_NS;
    do {
        if (now_ns() > deadline)
            FAIL("the guest's lwiperf never reported our TCP session");
        usleep(2000); /* the pace of a poll of the status port */
        read_status(g_status, &s);
    } while (s.iperf_runs == s0.iperf_runs);
    if (s.iperf_kb != TCP_BYTES / 1024u)
        FAIL("the guest counted %u KiB of our %u", s.iperf_kb, TCP_BYTES / 1024u);
    printf("net: a Linux TCP client of ours sent %u KiB to the guest in %.0f ms; the "
           "guest counted all of it\n", TCP_BYTES / 1024u, (now_ns() - t0) / 1e6);
}

/* In a child, in its own network namespace: the bridge with a TAP edge,
 * Linux's ping (v4, v6) and iperf 2 against the guest's lwiperf. */
static int net_run(int full)
{
    static char out[16384];
    struct rtos_status s0, s;
    uint64_t deadline;
    pid_t bridge;
    const char *comma;
    double bps;
    int rc = 0, status;

    if (unshare(CLONE_NEWNET) < 0)
        FAIL("unshare(CLONE_NEWNET): %s (the test needs root)", strerror(errno));
    read_status(g_status, &s0);
    bridge = fork();
    if (bridge == 0) {
        execl(bridge_tool, bridge_tool, region_name, "--link", "net", "--tap", TAP_IF,
              "--tap-addr", "10.9.0.1/24", (char *)NULL);
        perror(bridge_tool);
        _exit(127);
    }
    deadline = now_ns() + DEADLINE_NS;
    for (;;) {
        read_status(g_status, &s);
        if (tap_ready() && s.net == 1)
            break;
        if (s.net == 2 || now_ns() > deadline || waitpid(bridge, &status, WNOHANG) == bridge)
            FAIL("no link: tap %s, guest net %u", tap_ready() ? "up" : "down", s.net);
        usleep(2000); /* the pace of a poll for the TAP and the link */
    }
    printf("net: bridge up, TAP %s 10.9.0.1/24 + fd00:9::1/64 in a new namespace\n", TAP_IF);
    if (run_cmd("ip -6 addr add fd00:9::1/64 dev " TAP_IF " nodad 2>&1", out, sizeof(out)) != 0)
        FAIL("ip -6 addr add: %s", out);
    if (run_cmd("ping -c 3 -i 0.2 -W 5 10.9.0.2 2>&1", out, sizeof(out)) != 0)
        FAIL("ping 10.9.0.2:\n%s", out);
    printf("net: ping 10.9.0.2 %s", strstr(out, "---") ? strstr(out, "---") : out);
    if (run_cmd("ping -6 -c 3 -i 0.2 -W 5 fd00:9::2 2>&1", out, sizeof(out)) != 0)
        FAIL("ping -6 fd00:9::2:\n%s", out);
    printf("net: ping -6 fd00:9::2 %s", strstr(out, "---") ? strstr(out, "---") : out);
    if (!full)
        goto stop;
    if (run_cmd("iperf -c 10.9.0.2 -t 2 -y C 2>&1", out, sizeof(out)) != 0)
        FAIL("iperf:\n%s", out);
    comma = strrchr(out, ',');
    bps = comma != NULL ? strtod(comma + 1, NULL) : 0.0;
    if (bps <= 0.0)
        FAIL("iperf gave no figure:\n%s", out);
    printf("net: iperf 2 client (Linux) -> lwiperf on the bare-metal guest through the "
           "bridge: %.2f Mbit/s\n", bps / 1e6);
    deadline = now_ns() + DEADLINE_NS;
    do {
        if (now_ns() > deadline)
            FAIL("the guest's lwiperf never reported the session");
        usleep(2000);
        read_status(g_status, &s);
    } while (s.iperf_runs == s0.iperf_runs);
    printf("net: the guest's lwiperf counted %u KiB at %u kbit/s\n", s.iperf_kb, s.iperf_kbps);
    tcp_run();
stop:
    kill(bridge, SIGTERM);
    waitpid(bridge, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        FAIL("the bridge ended with status %#x", status);
    return rc;
}

static pid_t spawn_net(int full)
{
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(net_run(full));
    if (pid < 0)
        FAIL("fork: %s", strerror(errno));
    return pid;
}

/* ---- the monitor ---- */

static pid_t boot_guest(void)
{
    char obj[600];
    pid_t pid;

    snprintf(obj, sizeof(obj), "memory-backend-file,id=m,size=%u,mem-path=%s,share=on",
             RAM_SIZE, ram_file);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failing monitor takes QEMU with it */
        execlp("qemu-system-riscv64", "qemu-system-riscv64", "-machine",
               "virt,memory-backend=m", "-m", "64M", "-smp", "2", "-bios", "none",
               "-nographic", "-monitor", "none", "-serial", "stdio", "-object", obj,
               "-kernel", guest_elf, (char *)NULL);
        perror("qemu-system-riscv64");
        _exit(127);
    }
    if (pid < 0)
        FAIL("fork: %s", strerror(errno));
    return pid;
}

static pid_t spawn_linux(int die)
{
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(linux_run(die));
    if (pid < 0)
        FAIL("fork: %s", strerror(errno));
    return pid;
}

/* Wait for a child, keeping the monitor's heartbeat fresh meanwhile. */
static int wait_child(struct hvc_region *r, pid_t pid, const char *what)
{
    uint64_t deadline = now_ns() + 2 * DEADLINE_NS;
    int status;

    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);

        if (w == pid)
            return status;
        if (w < 0)
            FAIL("waitpid %s: %s", what, strerror(errno));
        if (now_ns() > deadline) {
            kill(pid, SIGKILL);
            FAIL("%s did not finish", what);
        }
        poll_step(r);
        usleep(1000); /* not synchronisation: the pace of a poll for an exit */
    }
}

static void status_wait(struct hvc_region *r, struct hvc_sampling *sp,
                        struct rtos_status *s, uint32_t boot_not, uint32_t gone_min)
{
    uint64_t deadline = now_ns() + DEADLINE_NS;

    for (;;) {
        if (read_status(sp, s) && s->boot != boot_not && s->linux_gone >= gone_min)
            return;
        if (now_ns() > deadline)
            FAIL("guest status: boot %u (not %u), linux_gone %u (want %u)", s->boot,
                 boot_not, s->linux_gone, gone_min);
        poll_step(r);
    }
}

int main(int argc, char **argv)
{
    struct hvc_region_config rc;
    struct hvc_region r;
    struct hvc_event mping, mpong, quit;
    struct hvc_sampling sp;
    struct hvc_peer_info pi;
    struct rtos_status s;
    char tmp[64];
    pid_t qemu, child;
    uint64_t t0;
    int fd, status;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 4) {
        fprintf(stderr, "usage: %s SYSTEM.yaml GUEST.elf BRIDGE_TOOL [RAMFILE]\n", argv[0]);
        return 2;
    }
    guest_elf = argv[2];
    bridge_tool = argv[3];
    snprintf(tmp, sizeof(tmp), "/dev/shm/hvc-rtos-%d", (int)getpid());
    ram_file = argc > 4 ? argv[4] : tmp;
    if (hvc_system_load(argv[1], &cfg, NULL, NULL) < 0)
        FAIL("cannot load %s", argv[1]);
    sys = &cfg->system;
    if (sys->region.baremetal_base != 0x80000000u + REGION_OFFSET)
        FAIL("the system's bare-metal base is not guest-physical 0x%x", 0x80000000u + REGION_OFFSET);
    snprintf(region_name, sizeof(region_name), "%s@%#x", ram_file, REGION_OFFSET);

    /* The guest's RAM, made before QEMU maps it; the region formatted in it. */
    fd = open(ram_file, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, RAM_SIZE) < 0)
        FAIL("%s: %s", ram_file, strerror(errno));
    close(fd);
    hvc_system_region_config(sys, &rc);
    CHECK_RC(hvc_region_format(&r, hvc_platform_posix(), region_name, &rc));
    CHECK_RC(hvc_system_apply(&r, sys, "monitor"));
    CHECK_RC(hvc_system_open_event(&r, sys, "mping", &mping));
    CHECK_RC(hvc_system_open_event(&r, sys, "mpong", &mpong));
    CHECK_RC(hvc_system_open_event(&r, sys, "quit", &quit));
    CHECK_RC(hvc_system_open_sampling(&r, sys, "status", &sp));
    g_status = &sp;
    printf("monitor: region %s (%llu bytes) formatted from %s; booting the guest\n",
           region_name, (unsigned long long)sys->region.size, argv[1]);

    /* 1. Boot, join, traffic. */
    t0 = now_ns();
    qemu = boot_guest();
    wait_peer(&r, 1, 1, 0);
    printf("monitor: guest ready %.0f ms after QEMU started\n", (now_ns() - t0) / 1e6);
    status_wait(&r, &sp, &s, 0, 0);
    round_trips(&r, &mping, &mpong, 100, "monitor <-> guest");
    if (wait_child(&r, spawn_linux(0), "linux run 1") != 0)
        FAIL("linux run 1 failed");
    if (wait_child(&r, spawn_net(1), "network run") != 0)
        FAIL("network run failed");

    /* 2. The guest is killed: the monitor sees it go stale, a new one joins. */
    CHECK_RC(hvc_peer_info(&r, 1, &pi));
    kill(qemu, SIGKILL);
    waitpid(qemu, &status, 0);
    t0 = now_ns();
    {
        uint64_t deadline = t0 + DEADLINE_NS;
        struct hvc_peer_info now;

        for (;;) {
            CHECK_RC(hvc_peer_scan(&r, STALE_NS));
            CHECK_RC(hvc_peer_info(&r, 1, &now));
            if (now.state != HVC_PEER_READY)
                break;
            if (now_ns() > deadline)
                FAIL("the killed guest still looks ready");
            poll_step(&r);
            usleep(1000); /* the pace of the heartbeat scan */
        }
        printf("monitor: QEMU killed; guest declared %s after %.0f ms (heartbeat "
               "timeout %.0f ms)\n", hvc_peer_state_name(now.state), (now_ns() - t0) / 1e6,
               STALE_NS / 1e6);
    }
    qemu = boot_guest();
    wait_peer(&r, 1, 1, pi.epoch);
    {
        uint32_t old_boot = s.boot;

        status_wait(&r, &sp, &s, old_boot, 0);
    }
    printf("monitor: a new guest joined; traffic resumes\n");
    round_trips(&r, &mping, &mpong, 100, "monitor <-> new guest");
    if (wait_child(&r, spawn_linux(0), "linux run 2") != 0)
        FAIL("linux run 2 failed");
    /* The new guest took over the dead one's end of the vnet link. */
    if (wait_child(&r, spawn_net(0), "network run 2") != 0)
        FAIL("network run 2 (pings to the new guest) failed");

    /* 3. A Linux peer dies: the guest sees it gone and keeps serving. */
    {
        uint32_t gone = s.linux_gone, loops;

        child = spawn_linux(1);
        status = wait_child(&r, child, "dying linux");
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            FAIL("the dying linux peer ended with status %#x", status);
        t0 = now_ns();
        status_wait(&r, &sp, &s, 0, gone + 1);
        printf("monitor: the guest declared the dead linux peer gone %.0f ms after it "
               "died\n", (now_ns() - t0) / 1e6);
        loops = s.loops;
        round_trips(&r, &mping, &mpong, 100, "monitor <-> guest after linux died");
        read_status(&sp, &s);
        if (s.loops == loops)
            FAIL("the guest's loop stopped");
    }

    /* Done: the guest quits and reports its own checks in its exit status. */
    CHECK_RC(hvc_event_signal(&quit));
    status = wait_child(&r, qemu, "guest");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        FAIL("guest ended with status %#x", status);
    CHECK_RC(hvc_peer_info(&r, 1, &pi));
    printf("monitor: guest quit (%s); pass\n", hvc_peer_state_name(pi.state));
    hvc_region_detach(&r);
    if (argc <= 4)
        unlink(ram_file);
    hvc_config_free(cfg);
    return 0;
}
