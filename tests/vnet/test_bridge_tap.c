/* The TAP edge: hvcomm-bridge attaches a TAP device inside a network
 * namespace this test creates (nothing on the machine's real network is
 * touched), Linux gets 10.9.0.1/24 on it, an lwIP guest 10.9.0.2 on a vnet
 * link behind the bridge. Linux `ping` reaches the guest, and Debian's
 * `iperf` (2.x) as a client completes a short run against the guest's
 * lwiperf server. SKIP (77) without root, /dev/net/tun, ping or iperf. */
#define _GNU_SOURCE
#include "testutil.h"
#include "vnettest.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwip/apps/lwiperf.h"

#define TAP_LINK "edge"
#define TAP_IF "hvctap0"

static const char *g_path;
static char ping_path[256], iperf_path[256];

/* Board: flag[0] stop, flag[1] guest up, value[0] lwiperf reports. */

static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *la,
                         u16_t lp, const ip_addr_t *ra, u16_t rp, u32_t bytes, u32_t ms,
                         u32_t kbps)
{
    struct vt_guest *g = arg;

    (void)type, (void)la, (void)lp, (void)ra, (void)rp, (void)ms, (void)kbps;
    vt_add(&g->board->value[0], 1);
    vt_set64(&g->board->big[0], bytes);
}

static int guest_main(void *arg)
{
    struct vt_guest g;
    ip4_addr_t ip, mask, gw;

    (void)arg;
    if (vt_guest_start_on(&g, g_path, 1, TAP_LINK, NULL) < 0)
        return 10;
    IP4_ADDR(&ip, 10, 9, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 9, 0, 1);
    netif_set_addr(&g.nif, &ip, &mask, &gw);
    if (lwiperf_start_tcp_server_default(iperf_report, &g) == NULL)
        return 11;
    if (!vt_guest_wait_up(&g, 10000))
        return 12;
    vt_set(&g.board->flag[1], 1);
    while (!vt_get(&g.board->flag[0]))
        vt_guest_step(&g);
    vt_guest_stop(&g);
    return 0;
}

/* Writable copies of argument strings (execv takes char *const[]). */
static char *sarg(const char *s)
{
    static char pool[1024];
    static size_t used;
    size_t n = strlen(s) + 1;
    char *p = pool + used;

    if (used + n > sizeof(pool))
        return NULL;
    memcpy(p, s, n);
    used += n;
    return p;
}

/* Run argv with stdout into out (NUL-terminated); the exit status. */
static int run(char *const argv[], char *out, size_t cap, int timeout_s)
{
    int pfd[2], status = 0;
    size_t got = 0;
    pid_t pid;

    if (pipe(pfd) < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        alarm((unsigned)timeout_s);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        ssize_t n = read(pfd[0], out + got, cap - 1 - got);

        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == cap - 1)
            got = 0; /* keep the tail */
    }
    out[got] = '\0';
    close(pfd[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The tool has made the TAP and given it its address and IFF_UP (the
 * device exists a moment before it is configured). */
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

/* Everything below runs in a fresh network namespace. */
static int ns_main(void *arg)
{
    char bridge_tool[] = HVC_BRIDGE_TOOL;
    char region[256], out[8192];
    struct vt_board *board = arg;
    pid_t guest, bridge;
    int rc = 0, status;
    uint64_t end;

    if (unshare(CLONE_NEWNET) < 0)
        return 2;
    snprintf(region, sizeof(region), "%s", g_path);
    guest = hvct_fork(guest_main, NULL);
    bridge = fork();
    if (bridge == 0) {
        char *argv[] = {bridge_tool, region, sarg("--link"), sarg(TAP_LINK), sarg("--tap"),
                        sarg(TAP_IF), sarg("--tap-addr"), sarg("10.9.0.1/24"), NULL};

        execv(argv[0], argv);
        _exit(127);
    }
    end = vt_ms() + 10000;
    while ((!vt_get(&board->flag[1]) || !tap_ready()) && vt_ms() < end)
        usleep(5000);
    if (!vt_get(&board->flag[1]) || !tap_ready()) {
        rc = 3;
        goto out;
    }
    {
        char *argv[] = {ping_path, sarg("-c"), sarg("3"), sarg("-i"), sarg("0.2"), sarg("-W"),
                        sarg("2"), sarg("10.9.0.2"), NULL};

        if (run(argv, out, sizeof(out), 20) != 0) {
            fprintf(stderr, "ping failed:\n%s\n", out);
            rc = 4;
            goto out;
        }
        fprintf(stderr, "%s", strstr(out, "---") != NULL ? strstr(out, "---") : out);
    }
    {
        char *argv[] = {iperf_path, sarg("-c"), sarg("10.9.0.2"), sarg("-t"), sarg("2"),
                        sarg("-y"), sarg("C"), NULL};
        const char *comma;
        double bps;

        if (run(argv, out, sizeof(out), 30) != 0) {
            fprintf(stderr, "iperf failed:\n%s\n", out);
            rc = 5;
            goto out;
        }
        /* CSV: ...,interval,bytes,bits_per_second */
        comma = strrchr(out, ',');
        bps = comma != NULL ? strtod(comma + 1, NULL) : 0.0;
        fprintf(stderr, "iperf client -> lwiperf over the TAP edge: %.1f Mbit/s\n", bps / 1e6);
        if (bps <= 0.0) {
            fprintf(stderr, "iperf output:\n%s\n", out);
            rc = 6;
        }
    }
out:
    kill(bridge, SIGTERM);
    waitpid(bridge, &status, 0);
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        rc = 7; /* SIGTERM stops the bridge cleanly */
    vt_set(&board->flag[0], 1);
    if (hvct_wait(guest) != 0 && rc == 0)
        rc = 8;
    return rc;
}

START_TEST(tap_ping_iperf)
{
    struct hvc_vnet_link_attr attr = {.peer = {HVC_PEER_ANY, HVC_PEER_ANY},
                                      .flags = HVC_VNET_CHECKSUM};
    struct hvc_region r;
    struct vt_board *board;

    g_path = hvct_region_path("tap");
    board = vt_setup(&r, g_path, &attr);
    ck_assert_ptr_nonnull(board);
    hvct_assert_rc(hvc_vnet_link_create(&r, TAP_LINK, &attr), 0);
    ck_assert_int_eq(hvct_wait(hvct_fork(ns_main, board)), 0);
    ck_assert_uint_ge(vt_get(&board->value[0]), 1); /* lwiperf saw the run */
    hvct_assert_rc(hvc_region_detach(&r), 0);
}
END_TEST

static int find(const char *name, char *out, size_t cap)
{
    static const char *const dirs[] = {"/usr/bin", "/bin", "/usr/sbin", "/sbin"};

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(out, cap, "%s/%s", dirs[i], name);
        if (access(out, X_OK) == 0)
            return 1;
    }
    return 0;
}

static void setup(void)
{
    hvct_leak_setup();
}

int main(void)
{
    if (geteuid() != 0) {
        printf("SKIP: the TAP edge test needs root (a network namespace and a TAP device)\n");
        return 77;
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        printf("SKIP: no /dev/net/tun\n");
        return 77;
    }
    if (!find("ping", ping_path, sizeof(ping_path)) || !find("iperf", iperf_path, sizeof(iperf_path))) {
        printf("SKIP: needs ping and iperf (2.x): apt-get install -y iputils-ping iperf\n");
        return 77;
    }
    return hvct_main("vnet_tap", setup, hvct_leak_teardown, 90,
                     HVCT_TESTS(tap_ping_iperf));
}
