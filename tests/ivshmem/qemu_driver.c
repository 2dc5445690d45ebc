/*
 * The host side of the QEMU tests: starts hvcomm-ivshmem-server and real
 * QEMU virtual machines (their /init is guest_init.c), takes part in the
 * region as a host process, and checks what the guests did. Every wait has
 * a deadline; on any failure every child is killed and the guest consoles
 * are shown. Exit: 0 pass, 1 fail, 77 skip.
 *
 * usage: qemu_driver SCENARIO --qemu BIN --kernel FILE --initrd FILE
 *                    --server BIN --work DIR [--accel tcg|kvm] [--rounds N]
 *                    [--timeout SEC]
 * SCENARIO: plain | doorbell | kill | g2g | events | g2gev | vnet | bench (a table,
 *           not a test); vnet only when built with hvcomm_vnet (HVC_IVS_VNET)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hvcomm/hvcomm.h>

#include "scenario.h"
#ifdef HVC_IVS_VNET
#include <hvcomm/vnet_port.h>

#include "vnet_stack.h"
#endif

#define SEC 1000000000LL
#define MAXVM 8

static const char *qemu_bin, *kernel, *initrd, *server_bin, *work, *accel = "tcg";
static const char *scenario;
static uint32_t rounds = 20;
static int timeout_s = 240;
static uint64_t t_start;

static pid_t server_pid;
static pid_t vm_pid[MAXVM];
static char vm_console[MAXVM][512];
static uint64_t vm_started[MAXVM];
static int nvm;
static char sock_path[512], shm_path[512];

static struct hvc_region region;
static volatile uint32_t *w;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static void show_console(int i)
{
    char line[512];
    FILE *f = fopen(vm_console[i], "r");

    if (f == NULL)
        return;
    fprintf(stderr, "---- console of vm %d (%s) ----\n", i, vm_console[i]);
    while (fgets(line, sizeof(line), f) != NULL)
        fputs(line, stderr);
    fclose(f);
    fprintf(stderr, "---- end of console ----\n");
}

static void kill_all(void)
{
    for (int i = 0; i < nvm; i++)
        if (vm_pid[i] > 0) {
            kill(vm_pid[i], SIGKILL);
            waitpid(vm_pid[i], NULL, 0);
            vm_pid[i] = 0;
        }
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "FAIL %s: ", scenario);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (after %.1f s)\n", secs(now_ns() - t_start));
    kill_all();
    for (int i = 0; i < nvm; i++)
        show_console(i);
    exit(1);
}

static void check_deadline(void)
{
    if (now_ns() - t_start > (uint64_t)timeout_s * SEC)
        fail("timeout of %d s", timeout_s);
}

__attribute__((format(printf, 3, 0))) static void log_stderr(void *ctx, int level, const char *fmt, va_list ap)
{
    (void)ctx;
    fprintf(stderr, "[hvcomm %d] ", level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static uint32_t load(int i)
{
    return hvc_load_acquire((const uint32_t *)&w[i]);
}

static void store(int i, uint32_t v)
{
    hvc_store_release((uint32_t *)&w[i], v);
}

/* ---- children ---- */

static void start_server(void)
{
    char size[32];

    snprintf(sock_path, sizeof(sock_path), "%s/ivshmem.sock", work);
    snprintf(shm_path, sizeof(shm_path), "%s/ivshmem.shm", work);
    unlink(shm_path);
    snprintf(size, sizeof(size), "%u", IVS_REGION_SIZE);
    fflush(NULL);
    server_pid = fork();
    if (server_pid == 0) {
        execl(server_bin, server_bin, "--socket", sock_path, "--shm", shm_path, "--size",
              size, "--vectors", "2", "--peers", "16", "-v", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (access(sock_path, F_OK) == 0)
            return;
        usleep(10000);
    }
    fail("server did not start");
}

/* Start a VM. plain: memory-backend-file on `shm`; else ivshmem-doorbell
 * on the server socket, on q35 with an emulated IOMMU for VFIO. */
static int start_vm(const char *test, const char *role, const char *plain_file)
{
    char append[512], mem[600], out[512];
    const char *argv[64];
    int n = 0, i = nvm++;

    if (i >= MAXVM)
        fail("too many VMs");
    snprintf(vm_console[i], sizeof(vm_console[i]), "%s/console-%s-%d.log", work, scenario, i);
    snprintf(out, sizeof(out), "%s/qemu-%s-%d.out", work, scenario, i);
    snprintf(append, sizeof(append),
             "console=ttyS0 panic=-1 loglevel=4 hvc.test=%s%s%s%s", test,
             role != NULL ? " hvc.role=" : "", role != NULL ? role : "",
             plain_file == NULL ? " intel_iommu=on" : "");
    argv[n++] = qemu_bin;
    argv[n++] = "-accel";
    argv[n++] = accel;
    argv[n++] = "-machine";
    argv[n++] = plain_file != NULL ? "pc" : "q35";
    argv[n++] = "-m";
    argv[n++] = "256";
    argv[n++] = "-smp";
    argv[n++] = "1";
    argv[n++] = "-nodefaults";
    argv[n++] = "-no-reboot";
    argv[n++] = "-display";
    argv[n++] = "none";
    argv[n++] = "-serial";
    static char serial[MAXVM][600];
    snprintf(serial[i], sizeof(serial[i]), "file:%s", vm_console[i]);
    argv[n++] = serial[i];
    argv[n++] = "-kernel";
    argv[n++] = kernel;
    argv[n++] = "-initrd";
    argv[n++] = initrd;
    argv[n++] = "-append";
    argv[n++] = append;
    if (plain_file != NULL) {
        snprintf(mem, sizeof(mem), "memory-backend-file,id=hvcmem,size=%u,share=on,mem-path=%s",
                 IVS_REGION_SIZE, plain_file);
        argv[n++] = "-object";
        argv[n++] = mem;
        argv[n++] = "-device";
        argv[n++] = "ivshmem-plain,memdev=hvcmem";
    } else {
        snprintf(mem, sizeof(mem), "socket,path=%s,id=ivs", sock_path);
        argv[n++] = "-device";
        argv[n++] = "intel-iommu,intremap=on";
        argv[n++] = "-chardev";
        argv[n++] = mem;
        argv[n++] = "-device";
        argv[n++] = "ivshmem-doorbell,chardev=ivs,vectors=2";
    }
    argv[n] = NULL;
    unlink(vm_console[i]);
    fprintf(stderr, "vm %d:", i);
    for (int k = 0; k < n; k++)
        fprintf(stderr, " %s", argv[k]);
    fprintf(stderr, "\n");
    fflush(NULL);
    vm_started[i] = now_ns();
    vm_pid[i] = fork();
    if (vm_pid[i] == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(qemu_bin, (char *const *)argv);
        _exit(127);
    }
    return i;
}

/* 1: the console says PASS, 0: not yet. A FAIL or a dead QEMU fails. */
static int vm_result(int i)
{
    char line[512];
    int found = 0, st;
    FILE *f = fopen(vm_console[i], "r");

    if (f != NULL) {
        while (fgets(line, sizeof(line), f) != NULL) {
            if (strstr(line, "HVC-RESULT: PASS") != NULL) {
                found = 1;
                fprintf(stderr, "vm %d: %s", i, line);
            } else if (strstr(line, "HVC-RESULT: FAIL") != NULL) {
                fclose(f);
                fail("vm %d: %s", i, line);
            }
        }
        fclose(f);
    }
    if (found)
        return 1;
    if (vm_pid[i] > 0 && waitpid(vm_pid[i], &st, WNOHANG) == vm_pid[i]) {
        vm_pid[i] = 0;
        /* It may have printed PASS just before powering off. */
        f = fopen(vm_console[i], "r");
        while (f != NULL && fgets(line, sizeof(line), f) != NULL)
            if (strstr(line, "HVC-RESULT: PASS") != NULL)
                found = 1;
        if (f != NULL)
            fclose(f);
        if (!found)
            fail("vm %d: QEMU exited (status %#x) without a result", i, st);
        return 1;
    }
    return 0;
}

static int console_has(int i, const char *what)
{
    char line[512];
    int found = 0;
    FILE *f = fopen(vm_console[i], "r");

    while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
        found = strstr(line, what) != NULL;
    if (f != NULL)
        fclose(f);
    return found;
}

static double wait_vm_pass(int i)
{
    while (!vm_result(i)) {
        check_deadline();
        usleep(50000);
    }
    return secs(now_ns() - vm_started[i]);
}

static void wait_vm_exit(int i)
{
    while (vm_pid[i] > 0 && waitpid(vm_pid[i], NULL, WNOHANG) != vm_pid[i]) {
        check_deadline();
        usleep(50000);
    }
    vm_pid[i] = 0;
}

/* ---- region ---- */

static void make_object(void)
{
    struct hvc_obj_spec spec = {.name = IVS_OBJ, .type = HVC_OBJ_RAW, .size = W_COUNT * 4,
                                .writer = HVC_PEER_ANY};
    struct hvc_obj obj;
    int rc = hvc_peer_join(&region, "host");

    if (rc < 0)
        fail("host join: %s", hvc_strerror(rc));
    rc = hvc_obj_create(&region, &spec, &obj);
    if (rc < 0)
        fail("create: %s", hvc_strerror(rc));
    w = obj.ptr;
    store(W_HOST_ID, (uint32_t)hvc_peer_self(&region));
    store(W_ROUNDS, rounds);
}

static uint32_t ignore_peer = ~0u; /* a READY peer wait_ready_peer() skips */

/* Wait until a peer other than us is READY; returns its id. */
static uint32_t wait_ready_peer(int vm, uint32_t not_epoch_of, uint32_t old_epoch)
{
    struct hvc_peer_info pi;

    for (;;) {
        for (uint32_t id = 0; id < HVC_DEFAULT_PEERS; id++) {
            if ((int)id == hvc_peer_self(&region) || id == ignore_peer ||
                hvc_peer_info(&region, id, &pi) < 0)
                continue;
            if (pi.state == HVC_PEER_READY && !(id == not_epoch_of && pi.epoch == old_epoch))
                return id;
        }
        vm_result(vm);
        check_deadline();
        usleep(20000);
    }
}

/* Sleep on our doorbells until word i is v (doorbells coalesce: re-check). */
static void await_bell(int i, uint32_t v, int vm)
{
    struct hvc_platform_handle *h = hvc_region_platform(&region);
    uint32_t vec;
    int n = 0;

    while (load(i) != v) {
        int rc = hvc_platform_wait_notify(h, SEC / 5, &vec);
        if (rc < 0 && rc != -HVC_ETIMEDOUT)
            fail("wait_notify: %s", hvc_strerror(rc));
        if (rc == -HVC_ETIMEDOUT && (++n % 5) == 0) {
            vm_result(vm);
            check_deadline();
        }
    }
}

static void await_spin(int i, uint32_t v, int vm)
{
    uint64_t n = 0;

    while (load(i) != v)
        if ((++n & 0xfffff) == 0) {
            vm_result(vm);
            check_deadline();
        }
}

static void ring(uint32_t peer, uint32_t vec)
{
    int rc = hvc_platform_notify(hvc_region_platform(&region), peer, vec);

    if (rc < 0)
        fail("notify %u/%u: %s", peer, vec, hvc_strerror(rc));
}

struct rtt {
    double h2g_bell, g2h_bell, h2g_poll;
};

/* The host half of guest_init.c's scenario_doorbell. */
static struct rtt exchange(uint32_t g, int vm)
{
    struct rtt r;
    uint64_t t0;

    while (load(W_PHASE) < 1) {
        vm_result(vm);
        check_deadline();
        usleep(10000);
    }
    t0 = now_ns();
    for (uint32_t i = 1; i <= rounds; i++) {
        store(W_H2G_SEQ, i);
        ring(g, IVS_VEC_TO_GUEST);
        await_bell(W_H2G_ACK, i, vm);
    }
    r.h2g_bell = (double)(now_ns() - t0) / rounds;
    for (uint32_t i = 1; i <= rounds; i++) {
        await_bell(W_G2H_SEQ, i, vm);
        store(W_G2H_ACK, i);
        ring(g, IVS_VEC_TO_GUEST);
    }
    while (load(W_PHASE) < 3) {
        vm_result(vm);
        check_deadline();
    }
    r.g2h_bell = load(W_G2H_NS);
    t0 = now_ns();
    for (uint32_t i = 1; i <= rounds; i++) {
        store(W_POLL_SEQ, i);
        await_spin(W_POLL_ACK, i, vm);
    }
    r.h2g_poll = (double)(now_ns() - t0) / rounds;
    return r;
}

static void reset_words(void)
{
    for (int i = 0; i < W_COUNT; i++)
        if (i != W_HOST_ID && i != W_ROUNDS)
            store(i, 0);
}

static void print_rtt(const char *what, struct rtt r)
{
    printf("BENCH %-10s host->guest doorbell %10.1f us  guest->host doorbell %10.1f us  "
           "host->guest poll %10.1f us  (%u rounds, accel %s)\n",
           what, r.h2g_bell / 1e3, r.g2h_bell / 1e3, r.h2g_poll / 1e3, rounds, accel);
}

/* A client that sends garbage and one that hangs up during setup: the
 * server must drop them and keep serving. */
static int hostile_clients(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s1, s2;

    if (strlen(sock_path) >= sizeof(sa.sun_path))
        fail("socket path too long: %s", sock_path);
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    s1 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    s2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(s1, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        connect(s2, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fail("cannot connect to the server");
    close(s2);
    if (write(s1, "\x01\x02garbage\xff", 10) < 0)
        fail("write to the server");
    return s1;
}

/* ---- scenarios ---- */

static void run_plain(void)
{
    struct hvc_region_config cfg = {.size = IVS_REGION_SIZE};
    char path[600];
    int vm, rc;

    snprintf(path, sizeof(path), "%s/plain.shm", work);
    unlink(path);
    rc = hvc_region_format(&region, hvc_platform_posix(), path, &cfg);
    if (rc < 0)
        fail("format %s: %s", path, hvc_strerror(rc));
    make_object();
    store(W_QUESTION, 20);
    vm = start_vm("plain", NULL, path);
    double t = wait_vm_pass(vm);
    if (load(W_ANSWER) != 41)
        fail("answer %u, expected 41", load(W_ANSWER));
    printf("PASS plain: guest peer %u attached the host's region, found '%s' and "
           "answered 41 (boot to answer %.1f s)\n", load(W_GUEST_ID), IVS_OBJ, t);
}

static void open_host_region(void)
{
    struct hvc_region_config cfg = {.size = IVS_REGION_SIZE};
    int rc;

    start_server();
    rc = hvc_region_format(&region, hvc_platform_ivshmem_host(), sock_path, &cfg);
    if (rc < 0)
        fail("format through the server: %s", hvc_strerror(rc));
    make_object();
}

static void run_doorbell(void)
{
    int garbage, vm;
    uint32_t g;
    struct rtt r;

    open_host_region();
    garbage = hostile_clients();
    vm = start_vm("doorbell", NULL, NULL);
    g = wait_ready_peer(vm, ~0u, 0);
    printf("guest peer %u READY after %.1f s\n", g, secs(now_ns() - vm_started[vm]));
    r = exchange(g, vm);
    double t = wait_vm_pass(vm);
    close(garbage);
    print_rtt("doorbell", r);
    printf("PASS doorbell: host peer %d and guest peer %u rang each other %u times each "
           "way (guest through VFIO MSI-X); the server dropped a garbage client and kept "
           "serving (boot to pass %.1f s)\n", hvc_peer_self(&region), g, rounds, t);
}

static void run_kill(void)
{
    struct hvc_platform_handle *h;
    struct hvc_peer_info pi;
    uint32_t g, g2, epoch;
    uint64_t t0;
    int vm, obs, rc;

    open_host_region();
    h = hvc_region_platform(&region);
    vm = start_vm("stay", NULL, NULL);
    g = wait_ready_peer(vm, ~0u, 0);
    store(W_VICTIM, g);
    exchange(g, vm);
    while (load(W_PHASE) < 4 || !console_has(vm, "HVC-STAYING")) {
        vm_result(vm);
        check_deadline();
        usleep(20000);
    }
    /* A second guest watches the victim in the peer table. */
    obs = start_vm("observe", NULL, NULL);
    while (load(W_OBS_STAGE) < 1) {
        vm_result(obs);
        vm_result(vm);
        check_deadline();
        usleep(20000);
    }
    ignore_peer = load(W_OBS_ID);
    hvc_peer_info(&region, g, &pi);
    epoch = pi.epoch;
    if (hvc_ivshmem_host_peer_listed(h, g) != 1)
        fail("peer %u not listed by the server", g);
    /* Kill the guest's QEMU: the server sees its socket close and tells us. */
    t0 = now_ns();
    kill(vm_pid[vm], SIGKILL);
    wait_vm_exit(vm);
    while (hvc_ivshmem_host_peer_listed(h, g) != 0) {
        check_deadline();
        usleep(1000);
    }
    double t_leave = secs(now_ns() - t0);
    rc = hvc_peer_scan(&region, 0);
    hvc_peer_info(&region, g, &pi);
    if (rc != 1 || pi.state != HVC_PEER_GONE)
        fail("after the kill: scan %d, peer %u state %s", rc, g, hvc_peer_state_name(pi.state));
    printf("killed guest peer %u: server leave seen after %.3f s, peer table says %s\n", g,
           t_leave, hvc_peer_state_name(pi.state));
    while (load(W_OBS_STAGE) < 2) {
        vm_result(obs);
        check_deadline();
        usleep(20000);
    }
    printf("the observing guest (peer %u) saw peer %u gone in the peer table\n",
           load(W_OBS_ID), g);
    /* A new guest joins. The server does not give it the victim's id while
     * the observing QEMU, which heard that id leave, is connected (QEMU
     * would write into the freed eventfd array of that id). */
    for (int i = 0; i < W_COUNT; i++)
        if (i < W_OBS_ID && i != W_HOST_ID && i != W_ROUNDS)
            store(i, 0);
    vm = start_vm("doorbell", NULL, NULL);
    g2 = wait_ready_peer(vm, g, epoch);
    store(W_REJOIN, g2 + 1);
    if (g2 == g)
        fail("the server gave the victim's id %u to the new guest while a QEMU that "
             "heard it leave is connected", g);
    exchange(g2, vm);
    wait_vm_pass(vm);
    wait_vm_pass(obs);
    hvc_peer_info(&region, g, &pi);
    if (pi.state != HVC_PEER_GONE)
        fail("the victim's slot %u is %s, expected gone", g, hvc_peer_state_name(pi.state));
    printf("PASS kill: guest %u killed, seen gone through the server (%.3f s) and in the "
           "peer table by the host and by another guest (peer %u); a new guest joined as "
           "peer %u and rang doorbells\n", g, t_leave, load(W_OBS_ID), g2);
}

static void run_g2g_vms(double *bell, double *poll)
{
    int a, b;
    double t;

    b = start_vm("g2g", "pong", NULL);
    a = start_vm("g2g", "ping", NULL);
    t = wait_vm_pass(a);
    wait_vm_pass(b);
    printf("BENCH g2g        guest->guest doorbell %10.1f us  guest->guest poll %10.1f us  "
           "(%u rounds, accel %s)\n", load(W_G2G_NS) / 1e3, load(W_G2G_POLL_NS) / 1e3,
           rounds, accel);
    printf("PASS g2g: guests %u and %u rang each other's doorbells (%.1f s)\n",
           load(W_GUEST_ID), load(W_G2G_PEER), t);
    *bell = load(W_G2G_NS);
    *poll = load(W_G2G_POLL_NS);
}

static void run_g2g(void)
{
    double bell, poll;

    open_host_region();
    run_g2g_vms(&bell, &poll);
}

/* Ring messages between the host peer and a guest over blocking rings,
 * both sides sleeping on doorbells through the rings' own events (the
 * guest half is scenario_events()): no separate event, no polling. */
static double events_vm(void)
{
    struct hvc_ring_attr ra = {.max_msg = 64, .writer = -1, .flags = HVC_RING_BLOCKING};
    struct hvc_event_stats es;
    struct hvc_ring h2g, g2h;
    char msg[65], want[32];
    uint64_t t0;
    int vm, rc;

    if ((rc = hvc_ring_create(&h2g, &region, "h2g", &ra)) < 0)
        fail("ring create: %s", hvc_strerror(rc));
    vm = start_vm("events", NULL, NULL);
    while (load(W_PHASE) < 1) {
        vm_result(vm);
        check_deadline();
        usleep(10000);
    }
    if ((rc = hvc_ring_open(&g2h, &region, "g2h", HVC_RING_CONSUMER)) < 0)
        fail("open the guest's ring: %s", hvc_strerror(rc));
    /* Sleep at once rather than spin in the event: every answer must come
     * through a doorbell (the ring still spins briefly before that). */
    hvc_event_set_spin(&g2h.data_ev, 0);
    /* Let the guest fall asleep on the h2g ring's event before the first
     * message: back to back, its ring's spin can catch every message and it
     * never sleeps (its check fails: seen 2 runs in 6 on a fast host).
     * Asleep is observable: its registration counts in the event's sleeps. */
    while (hvc_event_stats(&region, &h2g.data_ev.obj, &es) < 0 || es.sleeps == 0) {
        vm_result(vm);
        check_deadline();
        usleep(1000);
    }
    t0 = now_ns();
    for (uint32_t i = 1; i <= rounds; i++) {
        snprintf(msg, sizeof(msg), "msg %u", i);
        if ((rc = hvc_ring_send_wait(&h2g, msg, (uint32_t)strlen(msg), SEC)) < 0)
            fail("send %u: %s", i, hvc_strerror(rc));
        while ((rc = hvc_ring_recv_wait(&g2h, msg, sizeof(msg) - 1, SEC)) == -HVC_ETIMEDOUT) {
            vm_result(vm);
            check_deadline();
        }
        if (rc < 0)
            fail("recv %u: %s", i, hvc_strerror(rc));
        msg[rc] = '\0';
        snprintf(want, sizeof(want), "ack %u", i);
        if (strcmp(msg, want) != 0)
            fail("got '%s', expected '%s'", msg, want);
    }
    double rtt = (double)(now_ns() - t0) / rounds;
    wait_vm_pass(vm);
    wait_vm_exit(vm);
    /* The host slept on the g2h ring's data event and the guest woke it. */
    if ((rc = hvc_event_stats(&region, &g2h.data_ev.obj, &es)) < 0 || !es.valid)
        fail("g2h data event stats: %s", hvc_strerror(rc));
    if (es.sleeps == 0 || es.wakes == 0 || g2h.data_ev.sleep_calls == 0)
        fail("the host never slept on the g2h ring's event (sleeps %u, wakes %u)", es.sleeps,
             es.wakes);
    printf("BENCH events     host->guest->host blocking-ring round trip       %10.1f us "
           "(%u rounds, accel %s)\n", rtt / 1e3, rounds, accel);
    printf("PASS events: host and guest peer %u exchanged %u messages each way over blocking "
           "rings, sleeping on the rings' events over doorbells (host: %llu sleeps, %u "
           "wakes by the guest)\n", load(W_GUEST_ID), rounds,
           (unsigned long long)g2h.data_ev.sleep_calls, es.wakes);
    return rtt;
}

static void run_events(void)
{
    open_host_region();
    events_vm();
}

/* Two guests exchange ring messages woken by events (scenario_g2g_events()). */
static double g2g_events_vms(void)
{
    struct hvc_event_attr attr = {.vector = IVS_VEC_TO_GUEST};
    struct hvc_event e;
    int a, b, rc;

    if ((rc = hvc_event_create(&region, "gg-ping", &attr, &e)) < 0 ||
        (rc = hvc_event_create(&region, "gg-pong", &attr, &e)) < 0)
        fail("event create: %s", hvc_strerror(rc));
    b = start_vm("g2gev", "pong", NULL);
    a = start_vm("g2gev", "ping", NULL);
    wait_vm_pass(a);
    wait_vm_pass(b);
    printf("BENCH g2gev      guest->guest->guest ring message + event round trip %10.1f us "
           "(%u rounds, accel %s)\n", load(W_G2G_NS) / 1e3, rounds, accel);
    printf("PASS g2gev: two guests exchanged %u ring messages each way, woken by named "
           "events over doorbells\n", rounds);
    return load(W_G2G_NS);
}

static void run_g2g_events(void)
{
    open_host_region();
    g2g_events_vms();
}

#ifdef HVC_IVS_VNET
/* ---- vnet over ivshmem ---- */

#define VNET_MSG 4096 /* bytes per TCP echo round */

static int vnet_vm = -1;
static uint64_t vnet_checked;

/* Every loop of the lwIP stack: the guest's console (not on every frame:
 * reading it would weigh on the timings) and our deadline. */
static void vnet_tick(void)
{
    uint64_t t = now_ns();

    if (t - vnet_checked < SEC / 5)
        return;
    vnet_checked = t;
    vm_result(vnet_vm);
    check_deadline();
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* min / median / mean / max of n round trips, in microseconds. */
static void print_rtts(const char *what, uint64_t *ns, uint32_t n)
{
    double sum = 0;

    qsort(ns, n, sizeof(*ns), cmp_u64);
    for (uint32_t i = 0; i < n; i++)
        sum += (double)ns[i];
    printf("BENCH vnet %-26s min %8.1f  median %8.1f  mean %8.1f  max %8.1f us  (%u rounds, "
           "accel %s)\n", what, (double)ns[0] / 1e3, (double)ns[n / 2] / 1e3, sum / n / 1e3,
           (double)ns[n - 1] / 1e3, n, accel);
}

/* The host peer and a guest, each with its own lwIP on a vnet link over
 * ivshmem (the guest half is guest_init.c's scenario_vnet()): the host
 * pings 10.0.0.2, then sends VNET_MSG bytes `rounds` times through the
 * guest's TCP echo server and checks what comes back. */
static void run_vnet(void)
{
    struct hvc_vnet_link_attr attr = {.ring_capacity = 512u << 10,
                                      .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    static uint8_t msg[VNET_MSG], back[VNET_MSG];
    uint64_t *ping_ns, *idle_ns, *tcp_ns, first_ping, t0, tx, rx;
    double t_up;
    int rc;

    if ((ping_ns = calloc(rounds, sizeof(*ping_ns))) == NULL ||
        (idle_ns = calloc(rounds, sizeof(*idle_ns))) == NULL ||
        (tcp_ns = calloc(rounds, sizeof(*tcp_ns))) == NULL)
        fail("out of memory");
    open_host_region();
    if ((rc = hvc_vnet_link_create(&region, IVS_VNET_LINK, &attr)) < 0)
        fail("vnet link create: %s", hvc_strerror(rc));
    if (ivs_vnet_start(&region, IVS_VNET_LINK, 0) < 0)
        fail("vnet: %s", ivs_vnet_error);
    vnet_vm = start_vm("vnet", NULL, NULL);
    ivs_vnet_set_tick(vnet_tick);
    if (ivs_vnet_wait_up((uint64_t)timeout_s * SEC) < 0)
        fail("vnet: %s", ivs_vnet_error);
    t_up = secs(now_ns() - vm_started[vnet_vm]);
    printf("vnet link up %.1f s after the guest's QEMU started\n", t_up);

    /* ICMP: the first echo also resolves the guest's MAC (ARP). */
    if (ivs_vnet_ping(1, 1, 30 * SEC, &first_ping) < 0)
        fail("vnet ping: %s", ivs_vnet_error);
    for (uint32_t i = 0; i < rounds; i++)
        if (ivs_vnet_ping(1, (uint16_t)(i + 2), 30 * SEC, &ping_ns[i]) < 0)
            fail("vnet ping: %s", ivs_vnet_error);
    /* The same after 20 ms of quiet each: the guest is asleep in
     * hvc_vnet_wait() and the echo request wakes it by doorbell (MSI-X). */
    for (uint32_t i = 0; i < rounds; i++) {
        ivs_vnet_run_for(SEC / 50);
        if (ivs_vnet_ping(1, (uint16_t)(rounds + i + 2), 30 * SEC, &idle_ns[i]) < 0)
            fail("vnet ping after idle: %s", ivs_vnet_error);
    }

    /* TCP echo, content checked. */
    if (ivs_vnet_echo_connect(1, 60 * SEC) < 0)
        fail("vnet: %s", ivs_vnet_error);
    t0 = now_ns();
    for (uint32_t i = 0; i < rounds; i++) {
        uint64_t t1 = now_ns();

        for (uint32_t k = 0; k < VNET_MSG; k++)
            msg[k] = (uint8_t)(i * 131u + k * 7u + (k >> 8));
        memset(back, 0, sizeof(back));
        if (ivs_vnet_echo_round(msg, VNET_MSG, back, 60 * SEC) < 0)
            fail("vnet echo round %u: %s", i, ivs_vnet_error);
        tcp_ns[i] = now_ns() - t1;
        if (memcmp(msg, back, VNET_MSG) != 0)
            fail("vnet echo round %u: the echo differs from what was sent", i);
    }
    double tcp_total = secs(now_ns() - t0);
    ivs_vnet_echo_close();
    ivs_vnet_frames(&tx, &rx);
    double t_pass = wait_vm_pass(vnet_vm);
    if (load(W_VNET_WOKEN) < rounds)
        fail("the guest was woken from hvc_vnet_wait() by the host %u times, expected at "
             "least one per ping after idle (%u)", load(W_VNET_WOKEN), rounds);
    if (load(W_VNET_ECHOED) != rounds * VNET_MSG)
        fail("the guest echoed %u bytes, expected %u", load(W_VNET_ECHOED), rounds * VNET_MSG);
    printf("BENCH vnet first ping (with ARP)      %8.1f us\n", (double)first_ping / 1e3);
    print_rtts("ICMP echo, back to back", ping_ns, rounds);
    print_rtts("ICMP echo, guest asleep", idle_ns, rounds);
    print_rtts("TCP echo 4 KiB", tcp_ns, rounds);
    printf("PASS vnet: host 10.0.0.1 and guest peer %u (10.0.0.2), each with its own lwIP on "
           "a vnet link over ivshmem: %u pings answered, %u x %u bytes echoed over TCP and "
           "checked (%.2f s, %.1f KiB/s); host %llu frames out, %llu in; the guest slept in "
           "hvc_vnet_wait and was woken by a doorbell %u times (boot to pass %.1f s)\n", load(W_GUEST_ID), 2 * rounds + 1, rounds,
           VNET_MSG, tcp_total, rounds * VNET_MSG / 1024.0 / tcp_total,
           (unsigned long long)tx, (unsigned long long)rx, load(W_VNET_WOKEN), t_pass);
    ivs_vnet_stop();
    free(ping_ns);
    free(idle_ns);
    free(tcp_ns);
}
#endif

/* ---- benchmark: one table, host-only baselines measured in the same run ---- */

/* Child of the host-only baselines: answer `rounds` pings on `r`. */
static int answer(struct hvc_region *r, int bells, uint32_t host)
{
    struct hvc_obj obj;
    volatile uint32_t *x;
    uint32_t vec;

    if (hvc_obj_open(r, IVS_OBJ, HVC_OBJ_RAW, &obj) < 0)
        return 1;
    x = obj.ptr;
    for (uint32_t i = 1; i <= rounds; i++) {
        while (hvc_load_acquire((const uint32_t *)&x[W_POLL_SEQ]) != i)
            if (bells)
                hvc_platform_wait_notify(hvc_region_platform(r), SEC, &vec);
        hvc_store_release((uint32_t *)&x[W_POLL_ACK], i);
        if (bells)
            hvc_platform_notify(hvc_region_platform(r), host, 0);
    }
    return 0;
}

static double ping(int bells, uint32_t peer)
{
    uint64_t t0 = now_ns();
    uint32_t vec;

    for (uint32_t i = 1; i <= rounds; i++) {
        store(W_POLL_SEQ, i);
        if (bells)
            ring(peer, 0);
        while (load(W_POLL_ACK) != i)
            if (bells)
                hvc_platform_wait_notify(hvc_region_platform(&region), SEC, &vec);
        check_deadline();
    }
    return (double)(now_ns() - t0) / rounds;
}

static void run_bench(void)
{
    struct hvc_region_config cfg = {.size = IVS_REGION_SIZE};
    char path[600];
    double posix_poll, host_bell, host_poll, g2g_bell, g2g_poll, ev_hg, ev_gg;
    struct rtt hg;
    pid_t child;
    int vm, st;

    /* Host-only, POSIX backend: two processes, polling (POSIX has no doorbells). */
    snprintf(path, sizeof(path), "%s/bench.shm", work);
    unlink(path);
    if (hvc_region_format(&region, hvc_platform_posix(), path, &cfg) < 0)
        fail("format %s", path);
    make_object();
    fflush(NULL);
    if ((child = fork()) == 0) {
        struct hvc_region r;
        _exit(hvc_region_attach(&r, hvc_platform_posix(), path, 0) < 0 ? 1 : answer(&r, 0, 0));
    }
    posix_poll = ping(0, 0);
    waitpid(child, &st, 0);
    hvc_region_detach(&region);
    unlink(path);

    /* Host-only through the ivshmem server: eventfd doorbells, then polling. */
    open_host_region();
    fflush(NULL);
    if ((child = fork()) == 0) {
        struct hvc_region r;
        int rc = hvc_region_attach(&r, hvc_platform_ivshmem_host(), sock_path, 0);
        if (rc == 0)
            rc = hvc_peer_join(&r, "bench") < 0 ? 1 : answer(&r, 1, 0);
        _exit(rc != 0);
    }
    while (hvc_ivshmem_host_peer_listed(hvc_region_platform(&region), 1) != 1)
        check_deadline();
    host_bell = ping(1, 1);
    waitpid(child, &st, 0);
    reset_words();
    if ((child = fork()) == 0) {
        struct hvc_region r;
        int rc = hvc_region_attach(&r, hvc_platform_ivshmem_host(), sock_path, 0);
        _exit(rc != 0 || answer(&r, 0, 0) != 0);
    }
    host_poll = ping(0, 0);
    waitpid(child, &st, 0);
    reset_words();

    /* Host <-> guest, then guest <-> guest, on the same server. */
    vm = start_vm("doorbell", NULL, NULL);
    hg = exchange(wait_ready_peer(vm, ~0u, 0), vm);
    wait_vm_pass(vm);
    wait_vm_exit(vm);
    reset_words();
    run_g2g_vms(&g2g_bell, &g2g_poll);
    reset_words();
    ev_hg = events_vm();
    reset_words();
    ev_gg = g2g_events_vms();

    printf("\nRound trip, mean of %u, accel %s (microseconds)\n", rounds, accel);
    printf("%-34s %12s %12s\n", "path", "doorbell", "polling");
    printf("%-34s %12s %12.2f\n", "host <-> host, POSIX backend", "n/a", posix_poll / 1e3);
    printf("%-34s %12.2f %12.2f\n", "host <-> host, ivshmem server", host_bell / 1e3,
           host_poll / 1e3);
    printf("%-34s %12.2f %12.2f\n", "host -> guest", hg.h2g_bell / 1e3, hg.h2g_poll / 1e3);
    printf("%-34s %12.2f %12s\n", "guest -> host (guest clock)", hg.g2h_bell / 1e3, "-");
    printf("%-34s %12.2f %12.2f\n", "guest -> guest (guest clock)", g2g_bell / 1e3,
           g2g_poll / 1e3);
    printf("%-34s %12.2f %12s\n", "host -> guest, ring + event", ev_hg / 1e3, "-");
    printf("%-34s %12.2f %12s\n", "guest -> guest, ring + event", ev_gg / 1e3, "-");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"qemu", required_argument, NULL, 'q'},   {"kernel", required_argument, NULL, 'k'},
        {"initrd", required_argument, NULL, 'i'}, {"server", required_argument, NULL, 's'},
        {"work", required_argument, NULL, 'w'},   {"accel", required_argument, NULL, 'a'},
        {"rounds", required_argument, NULL, 'r'}, {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'q': qemu_bin = optarg; break;
        case 'k': kernel = optarg; break;
        case 'i': initrd = optarg; break;
        case 's': server_bin = optarg; break;
        case 'w': work = optarg; break;
        case 'a': accel = optarg; break;
        case 'r': rounds = (uint32_t)atoi(optarg); break;
        case 't': timeout_s = atoi(optarg); break;
        default: return 2;
        }
    }
    if (optind + 1 != argc || qemu_bin == NULL || kernel == NULL || initrd == NULL ||
        server_bin == NULL || work == NULL || rounds == 0) {
        fprintf(stderr, "usage: qemu_driver SCENARIO --qemu BIN --kernel F "
                        "--initrd F --server BIN --work DIR [--accel A] [--rounds N] "
                        "[--timeout S]\n");
        return 2;
    }
    scenario = argv[optind];
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    hvc_log_set(log_stderr, NULL, getenv("HVCT_LOG") ? atoi(getenv("HVCT_LOG")) : HVC_LOG_WARN);
    mkdir(work, 0755);
    t_start = now_ns();
    if (strcmp(scenario, "plain") == 0)
        run_plain();
    else if (strcmp(scenario, "doorbell") == 0)
        run_doorbell();
    else if (strcmp(scenario, "kill") == 0)
        run_kill();
    else if (strcmp(scenario, "g2g") == 0)
        run_g2g();
    else if (strcmp(scenario, "events") == 0)
        run_events();
    else if (strcmp(scenario, "g2gev") == 0)
        run_g2g_events();
#ifdef HVC_IVS_VNET
    else if (strcmp(scenario, "vnet") == 0)
        run_vnet();
#endif
    else if (strcmp(scenario, "bench") == 0)
        run_bench();
    else
        fail("unknown scenario");
    hvc_region_detach(&region);
    kill_all();
    printf("total %.1f s\n", secs(now_ns() - t_start));
    return 0;
}
