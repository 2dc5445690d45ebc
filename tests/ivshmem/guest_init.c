/*
 * The guest side of the QEMU tests: a statically linked program that is
 * /init of the test initramfs. It mounts /proc, /sys and /dev, loads the
 * kernel modules listed in /modules (VFIO) with finit_module, runs the
 * scenario named on the kernel command line (hvc.test=...), prints
 * "HVC-RESULT: PASS|FAIL ..." on the console and powers the machine off.
 *
 * Run as an ordinary program (not pid 1) it just runs the scenario.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <hvcomm/hvcomm.h>

#include "scenario.h"
#ifdef HVC_IVS_VNET
#include "vnet_stack.h"
#endif

#define SEC 1000000000LL

static char test_name[32] = "none";
static char role[16] = "";
static struct hvc_region region;
static volatile uint32_t *w;

__attribute__((format(printf, 3, 0))) static void log_console(void *ctx, int level, const char *fmt, va_list ap)
{
    (void)ctx;
    printf("[hvcomm %d] ", level);
    vprintf(fmt, ap);
    printf("\n");
}

static void finish(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void finish(int ok, const char *fmt, ...)
{
    va_list ap;

    if (w != NULL)
        hvc_store_release((uint32_t *)&w[W_DONE], ok ? 1 : 2);
    printf("HVC-RESULT: %s %s: ", ok ? "PASS" : "FAIL", test_name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (getpid() == 1) {
        sync();
        reboot(RB_POWER_OFF);
    }
    exit(ok ? 0 : 1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void setup_pid1(void)
{
    int fd;

    mkdir("/proc", 0755);
    mkdir("/sys", 0755);
    mkdir("/dev", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    fd = open("/dev/console", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

static void parse_cmdline(void)
{
    char buf[1024], *tok, *save;
    int fd = open("/proc/cmdline", O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (tok = strtok_r(buf, " \n", &save); tok != NULL; tok = strtok_r(NULL, " \n", &save)) {
        if (strncmp(tok, "hvc.test=", 9) == 0)
            snprintf(test_name, sizeof(test_name), "%s", tok + 9);
        else if (strncmp(tok, "hvc.role=", 9) == 0)
            snprintf(role, sizeof(role), "%s", tok + 9);
    }
}

/* /modules: one "file.ko [params]" per line, in dependency order. */
static void load_modules(void)
{
    FILE *f = fopen("/modules", "r");
    char line[256];

    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *params = strchr(line, ' ');
        char path[300];
        int fd;

        line[strcspn(line, "\n")] = '\0';
        if (params != NULL)
            *params++ = '\0';
        if (line[0] == '\0')
            continue;
        snprintf(path, sizeof(path), "/lib/modules/%s", line);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            printf("init: cannot open %s\n", path);
            continue;
        }
        if (syscall(SYS_finit_module, fd, params != NULL ? params : "", 0) < 0 &&
            errno != EEXIST)
            printf("init: %s: %s\n", line, strerror(errno));
        close(fd);
    }
    fclose(f);
}

static uint32_t load(int i)
{
    return hvc_load_acquire((const uint32_t *)&w[i]);
}

static void store(int i, uint32_t v)
{
    hvc_store_release((uint32_t *)&w[i], v);
}

static void attach(const char *name)
{
    struct hvc_obj obj;
    int rc;

    for (int tries = 0;; tries++) {
        rc = hvc_region_attach(&region, hvc_platform_ivshmem_guest(), name, 0);
        if (rc != -HVC_EMAGIC || tries > 200)
            break;
        usleep(50000); /* the host may still be formatting */
    }
    if (rc < 0)
        finish(0, "attach %s: %s", name, hvc_strerror(rc));
    rc = hvc_peer_join(&region, "guest");
    if (rc < 0)
        finish(0, "join: %s", hvc_strerror(rc));
    rc = hvc_obj_open(&region, IVS_OBJ, HVC_OBJ_RAW, &obj);
    if (rc < 0 || obj.size < W_COUNT * 4)
        finish(0, "open %s: %s", IVS_OBJ, hvc_strerror(rc));
    w = obj.ptr;
}

/* Wait until word i holds v, sleeping on doorbells (re-checking each time,
 * as doorbells coalesce) or spinning when `poll`. */
static void await(int i, uint32_t v, int poll)
{
    struct hvc_platform_handle *h = hvc_region_platform(&region);
    uint64_t start = now_ns();

    while (load(i) != v) {
        uint32_t vec;
        if (now_ns() - start > 60 * SEC)
            finish(0, "timeout waiting for word %d = %u (is %u)", i, v, load(i));
        if (!poll) {
            int rc = hvc_platform_wait_notify(h, SEC, &vec);
            if (rc < 0 && rc != -HVC_ETIMEDOUT)
                finish(0, "wait_notify: %s", hvc_strerror(rc));
        }
    }
}

static void ring(uint32_t peer, uint32_t vec)
{
    int rc = hvc_platform_notify(hvc_region_platform(&region), peer, vec);

    if (rc < 0)
        finish(0, "notify %u/%u: %s", peer, vec, hvc_strerror(rc));
}

static void scenario_plain(void)
{
    struct hvc_platform_handle *h;
    uint32_t q;

    attach("auto");
    h = hvc_region_platform(&region);
    if (hvc_ivshmem_mode(h) != HVC_IVSHMEM_PLAIN)
        finish(0, "mode %d, expected plain", hvc_ivshmem_mode(h));
    if (hvc_platform_self_id(h) != -HVC_ENOTSUP)
        finish(0, "plain device reports an id");
    q = load(W_QUESTION);
    store(W_GUEST_ID, (uint32_t)hvc_peer_self(&region));
    store(W_ANSWER, q * 2 + 1);
    finish(1, "peer %d answered %u to %u", hvc_peer_self(&region), q * 2 + 1, q);
}

/* Poll mode on the doorbell device (",poll": no VFIO): the id is read from
 * IVPosition through sysfs resource0, doorbells can be rung, not received.
 * Run before VFIO takes the device. */
static void check_poll_mode(void)
{
    const struct hvc_platform *g = hvc_platform_ivshmem_guest();
    struct hvc_platform_handle h;
    uint32_t vec;
    int rc = hvc_platform_open(&h, g, "auto,poll", 0, 0);

    if (rc < 0)
        finish(0, "open auto,poll: %s", hvc_strerror(rc));
    if (hvc_ivshmem_mode(&h) != HVC_IVSHMEM_DOORBELL_POLL)
        finish(0, "auto,poll: mode %d", hvc_ivshmem_mode(&h));
    if (hvc_platform_self_id(&h) < 0)
        finish(0, "auto,poll: no IVPosition");
    if (hvc_platform_wait_notify(&h, 0, &vec) != -HVC_ENOTSUP)
        finish(0, "auto,poll: wait_notify should be ENOTSUP");
    printf("poll mode: id %d from IVPosition, wait_notify not supported: ok\n",
           hvc_platform_self_id(&h));
    hvc_platform_close(&h);
}

static void scenario_doorbell(int stay)
{
    struct hvc_platform_handle *h;
    uint32_t host, rounds, id;
    uint64_t t0;

    check_poll_mode();
    attach("auto");
    h = hvc_region_platform(&region);
    if (hvc_ivshmem_mode(h) != HVC_IVSHMEM_DOORBELL_VFIO)
        finish(0, "mode %d, expected doorbell with VFIO", hvc_ivshmem_mode(h));
    id = (uint32_t)hvc_peer_self(&region);
    host = load(W_HOST_ID);
    rounds = load(W_ROUNDS);
    store(W_GUEST_ID, id);
    store(W_PHASE, 1);
    /* Host -> guest: the host rings, we answer with a doorbell. */
    for (uint32_t i = 1; i <= rounds; i++) {
        await(W_H2G_SEQ, i, 0);
        store(W_H2G_ACK, i);
        ring(host, IVS_VEC_TO_HOST);
    }
    store(W_PHASE, 2);
    /* Guest -> host. */
    t0 = now_ns();
    for (uint32_t i = 1; i <= rounds; i++) {
        store(W_G2H_SEQ, i);
        ring(host, IVS_VEC_TO_HOST);
        await(W_G2H_ACK, i, 0);
    }
    store(W_G2H_NS, (uint32_t)((now_ns() - t0) / (rounds ? rounds : 1)));
    store(W_PHASE, 3);
    /* Polling: the host writes, we spin and answer. */
    for (uint32_t i = 1; i <= rounds; i++) {
        await(W_POLL_SEQ, i, 1);
        store(W_POLL_ACK, i);
    }
    store(W_PHASE, 4);
    printf("guest %u: %u doorbell round trips each way and %u polled, with host %u\n",
           id, rounds, rounds, host);
    if (!stay)
        finish(1, "peer %u, %u rounds; guest->host %u ns", id, rounds, load(W_G2H_NS));
    printf("HVC-STAYING: peer %u waits to be killed\n", id);
    fflush(stdout);
    for (;;) {
        hvc_peer_heartbeat(&region);
        usleep(100000);
    }
}

/* Another guest watches the kill scenario in the peer table: the victim
 * READY, then GONE (the host marks it, told by the server), then the guest
 * that joined after it READY. */
static void scenario_observe(void)
{
    struct hvc_peer_info pi;
    uint32_t victim, who = 0;
    uint64_t t0 = now_ns();

    attach("auto");
    victim = load(W_VICTIM);
    store(W_OBS_ID, (uint32_t)hvc_peer_self(&region));
    for (uint32_t stage = 1; stage <= 3;) {
        uint32_t rejoin = load(W_REJOIN);

        who = stage < 3 ? victim : rejoin - 1;
        if ((stage < 3 || rejoin != 0) && hvc_peer_info(&region, who, &pi) < 0)
            finish(0, "peer_info %u", who);
        if ((stage == 1 && pi.state == HVC_PEER_READY) ||
            (stage == 2 && pi.state == HVC_PEER_GONE) ||
            (stage == 3 && rejoin != 0 && pi.state == HVC_PEER_READY)) {
            printf("observer: peer %u is %s (epoch %u)\n", who,
                   hvc_peer_state_name(pi.state), pi.epoch);
            store(W_OBS_STAGE, stage++);
        }
        hvc_peer_heartbeat(&region);
        if (now_ns() - t0 > 120 * SEC)
            finish(0, "observer stuck at stage %u", stage);
        usleep(10000);
    }
    finish(1, "observer %d saw peer %u ready then gone, and the new peer %u ready",
           hvc_peer_self(&region), victim, who);
}

/* Blocking rings across the VM boundary: the host sends "msg N" on its
 * blocking ring h2g; we sleep in hvc_ring_recv_wait() (on the ring's data
 * event, i.e. on MSI-X through VFIO), take the message and answer "ack N"
 * on our blocking ring g2h, whose send wakes the host the same way. */
static void scenario_events(void)
{
    struct hvc_ring_attr ra = {.max_msg = 64, .writer = -1, .flags = HVC_RING_BLOCKING};
    struct hvc_ring h2g, g2h;
    char msg[65], want[32];
    uint32_t rounds;
    int rc;

    attach("auto");
    rounds = load(W_ROUNDS);
    if ((rc = hvc_ring_open(&h2g, &region, "h2g", HVC_RING_CONSUMER)) < 0 ||
        (rc = hvc_ring_create(&g2h, &region, "g2h", &ra)) < 0)
        finish(0, "rings: %s", hvc_strerror(rc));
    /* Sleep on the doorbell at once, not after the event's spin. */
    hvc_event_set_spin(&h2g.data_ev, 0);
    store(W_GUEST_ID, (uint32_t)hvc_peer_self(&region));
    store(W_PHASE, 1);
    for (uint32_t i = 1; i <= rounds; i++) {
        if ((rc = hvc_ring_recv_wait(&h2g, msg, sizeof(msg) - 1, 30 * SEC)) < 0)
            finish(0, "recv %u: %s", i, hvc_strerror(rc));
        msg[rc] = '\0';
        snprintf(want, sizeof(want), "msg %u", i);
        if (strcmp(msg, want) != 0)
            finish(0, "got '%s', expected '%s'", msg, want);
        snprintf(msg, sizeof(msg), "ack %u", i);
        if ((rc = hvc_ring_send_wait(&g2h, msg, (uint32_t)strlen(msg), 30 * SEC)) < 0)
            finish(0, "answer %u: %s", i, hvc_strerror(rc));
    }
    if (h2g.data_ev.sleep_calls == 0)
        finish(0, "never slept on the h2g ring's event");
    finish(1, "peer %d answered %u messages over blocking rings, slept %llu times on the "
           "ring's event", hvc_peer_self(&region), rounds,
           (unsigned long long)h2g.data_ev.sleep_calls);
}

static void open_ring_retry(struct hvc_ring *ring, const char *name)
{
    uint64_t t0 = now_ns();
    int rc;

    while ((rc = hvc_ring_open(ring, &region, name, HVC_RING_CONSUMER)) == -HVC_ENOENT ||
           rc == -HVC_ENOTREADY) {
        if (now_ns() - t0 > 60 * SEC)
            finish(0, "ring %s never appeared", name);
        usleep(10000);
    }
    if (rc < 0)
        finish(0, "open ring %s: %s", name, hvc_strerror(rc));
}

/* Guest to guest: ring messages woken by named events (doorbells through
 * VFIO both ways). Role ping sends "msg N" on a2b and signals gg-ping; role
 * pong answers "ack N" on b2a and signals gg-pong. */
static void scenario_g2g_events(void)
{
    struct hvc_ring_attr ra = {.max_msg = 64, .writer = -1};
    struct hvc_event ping, pong, *mine, *theirs;
    struct hvc_ring out, in;
    int is_ping = strcmp(role, "ping") == 0, rc;
    char msg[65], want[32];
    uint32_t rounds;
    uint64_t t0;

    attach("auto");
    rounds = load(W_ROUNDS);
    if ((rc = hvc_event_open(&region, "gg-ping", 0, NULL, &ping)) < 0 ||
        (rc = hvc_event_open(&region, "gg-pong", 0, NULL, &pong)) < 0)
        finish(0, "event open: %s", hvc_strerror(rc));
    if ((rc = hvc_ring_create(&out, &region, is_ping ? "gg-a2b" : "gg-b2a", &ra)) < 0)
        finish(0, "ring create: %s", hvc_strerror(rc));
    open_ring_retry(&in, is_ping ? "gg-b2a" : "gg-a2b");
    mine = is_ping ? &pong : &ping;   /* the event we wait on */
    theirs = is_ping ? &ping : &pong; /* the event we signal */
    hvc_event_set_spin(mine, 0);
    t0 = now_ns();
    for (uint32_t i = 1; i <= rounds; i++) {
        if (is_ping) {
            snprintf(msg, sizeof(msg), "msg %u", i);
            if ((rc = hvc_ring_send(&out, msg, (uint32_t)strlen(msg))) < 0 ||
                (rc = hvc_event_signal(theirs)) < 0)
                finish(0, "send %u: %s", i, hvc_strerror(rc));
        }
        while ((rc = hvc_ring_recv(&in, msg, sizeof(msg) - 1)) == -HVC_EAGAIN)
            if ((rc = hvc_event_wait(mine, 30 * SEC)) < 0)
                finish(0, "wait %u: %s", i, hvc_strerror(rc));
        if (rc < 0)
            finish(0, "recv %u: %s", i, hvc_strerror(rc));
        msg[rc] = '\0';
        snprintf(want, sizeof(want), is_ping ? "ack %u" : "msg %u", i);
        if (strcmp(msg, want) != 0)
            finish(0, "got '%s', expected '%s'", msg, want);
        if (!is_ping) {
            snprintf(msg, sizeof(msg), "ack %u", i);
            if ((rc = hvc_ring_send(&out, msg, (uint32_t)strlen(msg))) < 0 ||
                (rc = hvc_event_signal(theirs)) < 0)
                finish(0, "answer %u: %s", i, hvc_strerror(rc));
        }
    }
    if (is_ping)
        store(W_G2G_NS, (uint32_t)((now_ns() - t0) / rounds));
    finish(1, "%s peer %d: %u ring messages each way, woken by events", role,
           hvc_peer_self(&region), rounds);
}

static void scenario_g2g(void)
{
    uint32_t id, peer, rounds;
    uint64_t t0;

    attach("auto");
    if (hvc_ivshmem_mode(hvc_region_platform(&region)) != HVC_IVSHMEM_DOORBELL_VFIO)
        finish(0, "mode %d, expected doorbell with VFIO",
               hvc_ivshmem_mode(hvc_region_platform(&region)));
    id = (uint32_t)hvc_peer_self(&region);
    rounds = load(W_ROUNDS);
    if (strcmp(role, "pong") == 0) {
        /* Answer: announce ourselves, then serve doorbells and polls. */
        store(W_G2G_PEER, id);
        for (uint32_t i = 1; i <= rounds; i++) {
            await(W_G2G_SEQ, i, 0);
            store(W_G2G_ACK, i);
            ring(load(W_GUEST_ID), IVS_VEC_TO_GUEST);
        }
        for (uint32_t i = 1; i <= rounds; i++) {
            await(W_G2G_PSEQ, i, 1);
            store(W_G2G_PACK, i);
        }
        finish(1, "pong peer %u served %u rounds", id, rounds);
    }
    store(W_GUEST_ID, id);
    t0 = now_ns();
    while ((peer = load(W_G2G_PEER)) == 0) {
        if (now_ns() - t0 > 60 * SEC)
            finish(0, "no pong peer announced");
        usleep(1000);
    }
    t0 = now_ns();
    for (uint32_t i = 1; i <= rounds; i++) {
        store(W_G2G_SEQ, i);
        ring(peer, IVS_VEC_TO_GUEST);
        await(W_G2G_ACK, i, 0);
    }
    store(W_G2G_NS, (uint32_t)((now_ns() - t0) / (rounds ? rounds : 1)));
    t0 = now_ns();
    for (uint32_t i = 1; i <= rounds; i++) {
        store(W_G2G_PSEQ, i);
        await(W_G2G_PACK, i, 1);
    }
    store(W_G2G_POLL_NS, (uint32_t)((now_ns() - t0) / (rounds ? rounds : 1)));
    finish(1, "ping peer %u <-> peer %u: %u rounds, doorbell %u ns, poll %u ns", id, peer,
           rounds, load(W_G2G_NS), load(W_G2G_POLL_NS));
}

#ifdef HVC_IVS_VNET
static uint64_t vnet_t0;

static void vnet_tick(void)
{
    if (now_ns() - vnet_t0 > 240 * SEC)
        finish(0, "vnet: no progress for 240 s");
}

/* vnet over ivshmem: our own lwIP stack on the host's link, 10.0.0.2; lwIP
 * answers the host's pings, we serve one TCP echo connection. Idle, the
 * loop sleeps in hvc_vnet_wait() on the rx ring's event: MSI-X through VFIO. */
static void scenario_vnet(void)
{
    uint64_t t_up, tx, rx, woken, idle;
    int echoed;

    attach("auto");
    if (hvc_ivshmem_mode(hvc_region_platform(&region)) != HVC_IVSHMEM_DOORBELL_VFIO)
        finish(0, "mode %d, expected doorbell with VFIO",
               hvc_ivshmem_mode(hvc_region_platform(&region)));
    store(W_GUEST_ID, (uint32_t)hvc_peer_self(&region));
    vnet_t0 = now_ns();
    ivs_vnet_set_tick(vnet_tick);
    if (ivs_vnet_start(&region, IVS_VNET_LINK, 1) < 0 || ivs_vnet_wait_up(120 * SEC) < 0)
        finish(0, "vnet: %s", ivs_vnet_error);
    t_up = now_ns() - vnet_t0;
    store(W_PHASE, 1);
    if ((echoed = ivs_vnet_echo_serve(180 * SEC)) < 0)
        finish(0, "vnet: %s", ivs_vnet_error);
    store(W_VNET_ECHOED, (uint32_t)echoed);
    ivs_vnet_sleeps(&woken, &idle);
    store(W_VNET_WOKEN, (uint32_t)woken);
    store(W_VNET_IDLE, (uint32_t)idle);
    if (woken == 0)
        finish(0, "vnet: never woken from hvc_vnet_wait() by the host");
    ivs_vnet_frames(&tx, &rx);
    ivs_vnet_stop();
    finish(1, "peer %d: 10.0.0.2 up after %.2f s, echoed %d bytes, %llu frames in, %llu out; "
           "slept in hvc_vnet_wait: %llu woken by the host's doorbell, %llu ran out idle",
           hvc_peer_self(&region), (double)t_up / 1e9, echoed, (unsigned long long)rx,
           (unsigned long long)tx, (unsigned long long)woken, (unsigned long long)idle);
}
#endif

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (getpid() == 1) {
        setup_pid1();
        parse_cmdline();
        load_modules();
    } else if (argc > 1) {
        snprintf(test_name, sizeof(test_name), "%s", argv[1]);
        if (argc > 2)
            snprintf(role, sizeof(role), "%s", argv[2]);
    }
    hvc_log_set(log_console, NULL, HVC_LOG_INFO);
    printf("HVC-GUEST: test %s %s\n", test_name, role);
    if (strcmp(test_name, "plain") == 0)
        scenario_plain();
    else if (strcmp(test_name, "doorbell") == 0)
        scenario_doorbell(0);
    else if (strcmp(test_name, "stay") == 0)
        scenario_doorbell(1);
    else if (strcmp(test_name, "g2g") == 0)
        scenario_g2g();
    else if (strcmp(test_name, "observe") == 0)
        scenario_observe();
    else if (strcmp(test_name, "events") == 0)
        scenario_events();
    else if (strcmp(test_name, "g2gev") == 0)
        scenario_g2g_events();
#ifdef HVC_IVS_VNET
    else if (strcmp(test_name, "vnet") == 0)
        scenario_vnet();
#endif
    finish(0, "unknown test");
}
