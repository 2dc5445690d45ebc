/* hvcomm-ivshmem-server and the ivshmem host peer backend, without QEMU:
 * host peers as server clients, doorbells, joins and leaves, death seen
 * through the server, hostile clients, refusal when full, clean exit. */
#define _GNU_SOURCE
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ivshmem_proto.h"

#define SIZE (1u << 20)
#define SEC 1000000000LL

static char dir[64], sock_path[128], shm_path[128];
static pid_t server;
static const struct hvc_platform *host;

static void start_server(const char *peers)
{
    char size[32];

    snprintf(size, sizeof(size), "%u", SIZE);
    fflush(NULL);
    server = fork();
    ck_assert_int_ge(server, 0);
    if (server == 0) {
        execl(SERVER_BIN, SERVER_BIN, "--socket", sock_path, "--shm", shm_path, "--size",
              size, "--vectors", "2", "--peers", peers,
              getenv("HVCT_LOG") != NULL ? "-vv" : "-v", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        struct stat sb;
        if (stat(sock_path, &sb) == 0)
            return;
        usleep(10000);
    }
    ck_abort_msg("server did not create %s", sock_path);
}

static void setup(void)
{
    hvct_log_to_stderr();
    strcpy(dir, "/tmp/hvct-ivs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
    snprintf(shm_path, sizeof(shm_path), "%s/shm", dir);
    host = hvc_platform_ivshmem_host();
    ck_assert_ptr_nonnull(host);
    hvct_leak_setup();
}

static void teardown(void)
{
    hvct_leak_teardown();
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
        server = 0;
    }
    unlink(sock_path);
    unlink(shm_path);
    rmdir(dir);
}

/* A raw client of the server, for hostile behaviour. */
static int raw_connect(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(s, 0);
    strcpy(sa.sun_path, sock_path);
    ck_assert_int_eq(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return s;
}

/* Wait for a doorbell on `vector`, ignoring others. */
static void expect_bell(struct hvc_region *r, uint32_t want)
{
    uint32_t v = 99;

    hvct_assert_rc(hvc_platform_wait_notify(hvc_region_platform(r), 5 * SEC, &v), 0);
    ck_assert_uint_eq(v, want);
}

static void wait_listed(struct hvc_region *r, uint32_t peer, int want)
{
    for (int i = 0; i < 500; i++) {
        if (hvc_ivshmem_host_peer_listed(hvc_region_platform(r), peer) == want)
            return;
        usleep(10000);
    }
    ck_abort_msg("peer %u never became listed=%d", peer, want);
}

START_TEST(host_peers_talk)
{
    struct hvc_region_config cfg = {.size = SIZE};
    struct hvc_obj_spec spec = {.name = "box", .type = HVC_OBJ_RAW, .size = 64,
                                .writer = HVC_PEER_ANY};
    struct hvc_region a, b;
    struct hvc_obj oa, ob;
    uint32_t v;

    start_server("16");
    hvct_assert_rc(hvc_region_format(&a, host, sock_path, &cfg), 0);
    hvct_assert_rc(hvc_ivshmem_mode(hvc_region_platform(&a)), HVC_IVSHMEM_HOST);
    hvct_assert_rc(hvc_peer_join(&a, "host-a"), 0);
    hvct_assert_rc(hvc_obj_create(&a, &spec, &oa), 0);
    hvct_assert_rc(hvc_region_attach(&b, host, sock_path, 0), 0);
    hvct_assert_rc(hvc_peer_join(&b, "host-b"), 1);
    hvct_assert_rc(hvc_obj_open(&b, "box", HVC_OBJ_RAW, &ob), 0);
    ck_assert_uint_eq(oa.offset, ob.offset);

    /* A learns of B from the server; then doorbells both ways. */
    wait_listed(&a, 1, 1);
    ((volatile uint32_t *)oa.ptr)[0] = 42;
    hvct_assert_rc(hvc_platform_notify(hvc_region_platform(&a), 1, 0), 0);
    expect_bell(&b, 0);
    ck_assert_uint_eq(((volatile uint32_t *)ob.ptr)[0], 42);
    hvct_assert_rc(hvc_platform_notify(hvc_region_platform(&b), 0, 1), 0);
    expect_bell(&a, 1);
    /* Nothing pending: a poll times out. */
    hvct_assert_rc(hvc_platform_wait_notify(hvc_region_platform(&a), 0, &v), -HVC_ETIMEDOUT);
    /* Bounds. */
    hvct_assert_rc(hvc_platform_notify(hvc_region_platform(&a), 1, 2), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_notify(hvc_region_platform(&a), 16, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_notify(hvc_region_platform(&a), 5, 0), -HVC_EPEERGONE);
    hvct_assert_rc(hvc_platform_peer_alive(hvc_region_platform(&a), 1, HVC_IVSHMEM_TOKEN(1)), 1);
    hvct_assert_rc(hvc_platform_peer_alive(hvc_region_platform(&a), 1, 12345), -HVC_ENOTSUP);

    /* B leaves: the server tells A. */
    hvct_assert_rc(hvc_region_detach(&b), 0);
    wait_listed(&a, 1, 0);
    hvct_assert_rc(hvc_platform_notify(hvc_region_platform(&a), 1, 0), -HVC_EPEERGONE);
    hvct_assert_rc(hvc_region_detach(&a), 0);
}
END_TEST

static int join_and_hang(void *arg)
{
    struct hvc_region r;

    (void)arg;
    if (hvc_region_attach(&r, hvc_platform_ivshmem_host(), sock_path, 0) < 0 ||
        hvc_peer_join(&r, "doomed") < 0)
        return 1;
    for (;;)
        pause();
}

START_TEST(death_seen_through_server)
{
    struct hvc_region_config cfg = {.size = SIZE};
    struct hvc_region a, c;
    struct hvc_peer_info pi;
    pid_t child;
    uint32_t epoch;

    start_server("16");
    hvct_assert_rc(hvc_region_format(&a, host, sock_path, &cfg), 0);
    hvct_assert_rc(hvc_peer_join(&a, "host-a"), 0);
    child = hvct_fork(join_and_hang, NULL);
    for (int i = 0; i < 500; i++) {
        hvct_assert_rc(hvc_peer_info(&a, 1, &pi), 0);
        if (pi.state == HVC_PEER_READY)
            break;
        usleep(10000);
    }
    ck_assert_uint_eq(pi.state, HVC_PEER_READY);
    ck_assert_uint_eq(pi.token, HVC_IVSHMEM_TOKEN(1));
    epoch = pi.epoch;
    hvct_assert_rc(hvc_peer_scan(&a, 0), 0); /* alive: nothing to do */
    kill(child, SIGKILL);
    ck_assert_int_eq(hvct_wait(child), 128 + SIGKILL);
    wait_listed(&a, 1, 0);
    hvct_assert_rc(hvc_peer_scan(&a, 0), 1);
    hvct_assert_rc(hvc_peer_info(&a, 1, &pi), 0);
    ck_assert_uint_eq(pi.state, HVC_PEER_GONE);

    /* A new client gets the free id 1 and takes the slot, with a new epoch. */
    hvct_assert_rc(hvc_region_attach(&c, host, sock_path, 0), 0);
    hvct_assert_rc(hvc_peer_join(&c, "again"), 1);
    hvct_assert_rc(hvc_peer_info(&a, 1, &pi), 0);
    ck_assert_uint_eq(pi.state, HVC_PEER_READY);
    ck_assert_uint_ne(pi.epoch, epoch);
    hvct_assert_rc(hvc_region_detach(&c), 0);
    hvct_assert_rc(hvc_region_detach(&a), 0);
}
END_TEST

START_TEST(hostile_clients)
{
    struct hvc_region_config cfg = {.size = SIZE};
    struct hvc_region a, b, c;
    int s1, s2, s3, status;

    start_server("3");
    /* A client that hangs up at once. */
    s2 = raw_connect();
    close(s2);
    /* Garbage from a client: it is dropped (we see the server close it,
     * after its greeting). */
    s1 = raw_connect();
    ck_assert_int_eq(write(s1, "garbage!garbage!", 16), 16);
    {
        struct pollfd pfd = {.fd = s1, .events = POLLIN};
        char junk[256];
        ssize_t n;

        do {
            ck_assert_int_eq(poll(&pfd, 1, 10000), 1); /* 10 s: a failure bound */
            n = read(s1, junk, sizeof(junk));
        } while (n > 0);
    }
    /* A client that reads nothing after the server's first message (which
     * shows it was accepted and holds an id) and stays. */
    s3 = raw_connect();
    {
        int64_t v;
        int fd;

        hvct_assert_rc(hvc__ivs_recv(s3, &v, &fd, 0, 10000), 0);
        if (fd >= 0)
            close(fd);
    }

    hvct_assert_rc(hvc_region_format(&a, host, sock_path, &cfg), 0);
    ck_assert_int_ge(hvc_peer_join(&a, "a"), 0);
    hvct_assert_rc(hvc_region_attach(&b, host, sock_path, 0), 0);
    /* s3 holds one of three ids: a fourth client is refused cleanly. */
    hvct_assert_rc(hvc_region_attach(&c, host, sock_path, 0), -HVC_EPROTO);
    close(s3);
    close(s1);
    ck_assert_int_eq(waitpid(server, &status, WNOHANG), 0); /* still serving */
    ck_assert_int_ge(hvc_peer_join(&b, "b"), 0);
    wait_listed(&a, (uint32_t)hvc_peer_self(&b), 1);
    hvct_assert_rc(hvc_platform_notify(hvc_region_platform(&a), (uint32_t)hvc_peer_self(&b), 0), 0);
    expect_bell(&b, 0);
    hvct_assert_rc(hvc_region_detach(&b), 0);
    hvct_assert_rc(hvc_region_detach(&a), 0);

    /* SIGTERM: a clean exit that removes the socket. */
    kill(server, SIGTERM);
    ck_assert_int_eq(hvct_wait(server), 0);
    server = 0;
    ck_assert_int_ne(access(sock_path, F_OK), 0);
}
END_TEST

/* A client that looks like QEMU (program qemu-fake-client) holds the stdin
 * pipe end; closing it ends the client. */
static pid_t start_fake_qemu(int *ctl)
{
    int p[2];
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(p[0], 0);
        close(p[1]);
        execl(FAKE_QEMU_BIN, FAKE_QEMU_BIN, sock_path, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    *ctl = p[1];
    return pid;
}

/* QEMU writes into freed memory when an id it heard leave is announced
 * again: the server must not reuse such an id while that QEMU is there. */
START_TEST(no_id_reuse_under_qemu)
{
    struct hvc_region_config cfg = {.size = SIZE};
    struct hvc_region a, b, c, d;
    pid_t q;
    int ctl;

    start_server("16");
    hvct_assert_rc(hvc_region_format(&a, host, sock_path, &cfg), 0);
    hvct_assert_rc(hvc_peer_join(&a, "a"), 0);
    q = start_fake_qemu(&ctl);
    wait_listed(&a, 1, 1); /* the fake QEMU is peer 1 */
    hvct_assert_rc(hvc_region_attach(&b, host, sock_path, 0), 0);
    hvct_assert_rc(hvc_peer_join(&b, "b"), 2);
    hvct_assert_rc(hvc_region_detach(&b), 0);
    wait_listed(&a, 2, 0);
    /* The fake QEMU heard 2 leave: the next client gets 3. */
    hvct_assert_rc(hvc_region_attach(&c, host, sock_path, 0), 0);
    hvct_assert_rc(hvc_platform_self_id(hvc_region_platform(&c)), 3);
    /* Once that QEMU is gone, 2 (and 1) are free again. */
    close(ctl);
    ck_assert_int_eq(hvct_wait(q), 0);
    wait_listed(&a, 1, 0);
    hvct_assert_rc(hvc_region_attach(&d, host, sock_path, 0), 0);
    hvct_assert_rc(hvc_platform_self_id(hvc_region_platform(&d)), 1);
    hvct_assert_rc(hvc_region_detach(&d), 0);
    hvct_assert_rc(hvc_region_detach(&c), 0);
    hvct_assert_rc(hvc_region_detach(&a), 0);
}
END_TEST

/* Named events (event.h) over the host backend: they sleep on the server's
 * eventfds (doorbells), as they will between host and guests. */
static int event_echo(void *arg)
{
    struct hvc_region r;
    struct hvc_event ping, pong;

    (void)arg;
    if (hvc_region_attach(&r, hvc_platform_ivshmem_host(), sock_path, 0) < 0 ||
        hvc_peer_join(&r, "echo") < 0 || hvc_event_open(&r, "ping", 0, NULL, &ping) < 0 ||
        hvc_event_open(&r, "pong", 0, NULL, &pong) < 0)
        return 1;
    hvc_event_set_spin(&ping, 0);
    for (int i = 0; i < 50; i++) {
        if (hvc_event_wait(&ping, 5 * SEC) < 0 || hvc_event_signal(&pong) < 0)
            return 2;
    }
    hvc_region_detach(&r);
    return 0;
}

START_TEST(events_over_doorbells)
{
    struct hvc_region_config cfg = {.size = SIZE};
    struct hvc_event_attr attr = {.vector = 1};
    struct hvc_region a;
    struct hvc_event ping, pong;
    pid_t child;

    start_server("16");
    hvct_assert_rc(hvc_region_format(&a, host, sock_path, &cfg), 0);
    hvct_assert_rc(hvc_peer_join(&a, "a"), 0);
    hvct_assert_rc(hvc_event_create(&a, "ping", &attr, &ping), 0);
    hvct_assert_rc(hvc_event_create(&a, "pong", &attr, &pong), 0);
    hvct_assert_rc(hvc_event_set_spin(&pong, 0), 0);
    child = hvct_fork(event_echo, NULL);
    for (int i = 0; i < 50; i++) {
        hvct_assert_rc(hvc_event_signal(&ping), 0);
        hvct_assert_rc(hvc_event_wait(&pong, 5 * SEC), 0);
    }
    ck_assert_int_eq(hvct_wait(child), 0);
    hvct_assert_rc(hvc_region_detach(&a), 0);
}
END_TEST

START_TEST(no_server)
{
    struct hvc_region r;

    hvct_assert_rc(hvc_region_attach(&r, host, sock_path, 0), -HVC_ENOENT);
}
END_TEST

/* ---- a hostile server: the host backend must check what it is told ---- */

enum { NOFD, SHMFD, EVFD };
struct msg {
    int64_t value;
    int fd;
};

/* What the fake server does after its script. */
enum tail { HOLD, FLOOD, TRICKLE };

/* Serve one client with a script, then hold the connection until it closes,
 * or repeat the script's last message: as fast as the socket takes it
 * (FLOOD) or one every 100 ms (TRICKLE, well within the old 5 s per
 * message), until the client hangs up. */
static void fake_server_tail(const struct msg *script, int n, uint64_t shm_size,
                             enum tail tail)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(ls, 0);
    strcpy(sa.sun_path, sock_path);
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(ls, 1), 0);
    fflush(NULL);
    server = fork();
    ck_assert_int_ge(server, 0);
    if (server == 0) {
        int c = accept(ls, NULL, NULL), shm = memfd_create("fake", MFD_CLOEXEC);
        char b;
        if (c < 0 || shm < 0 || ftruncate(shm, (off_t)shm_size) < 0)
            _exit(1);
        for (int i = 0; i < n; i++) {
            int fd = script[i].fd == SHMFD ? shm
                     : script[i].fd == EVFD ? eventfd(0, EFD_CLOEXEC) : -1;
            if (hvc__ivs_send(c, script[i].value, fd) < 0)
                _exit(1);
        }
        if (tail != HOLD) {
            const struct msg *last = &script[n - 1];

            for (;;) {
                int fd = last->fd == EVFD ? eventfd(0, EFD_CLOEXEC) : -1;
                int rc = hvc__ivs_send(c, last->value, fd);

                if (fd >= 0)
                    close(fd);
                if (rc == -HVC_EAGAIN) {
                    /* The socket is full: wait until it takes more. */
                    struct pollfd pfd = {.fd = c, .events = POLLOUT};

                    if (poll(&pfd, 1, -1) < 0 || (pfd.revents & (POLLERR | POLLHUP)))
                        _exit(0);
                    continue;
                }
                if (rc < 0)
                    _exit(0); /* the client hung up */
                if (tail == TRICKLE)
                    usleep(100000); /* the pace of the hostile server, not a wait */
            }
        }
        while (read(c, &b, 1) > 0)
            ;
        _exit(0);
    }
    close(ls);
}

static void fake_server(const struct msg *script, int n, uint64_t shm_size)
{
    fake_server_tail(script, n, shm_size, HOLD);
}

static int map_against(const struct msg *script, int n, uint64_t size)
{
    struct hvc_platform_handle h;
    int rc;

    fake_server(script, n, 1u << 20);
    rc = hvc_platform_open(&h, host, sock_path, size, 0);
    if (rc == 0)
        hvc_platform_close(&h);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    server = 0;
    unlink(sock_path);
    return rc;
}

START_TEST(hostile_server_setup)
{
    static const struct msg bad_version[] = {{1, NOFD}};
    static const struct msg id_with_fd[] = {{0, NOFD}, {0, EVFD}};
    static const struct msg bad_id[] = {{0, NOFD}, {-5, NOFD}};
    static const struct msg big_id[] = {{0, NOFD}, {70000, NOFD}};
    static const struct msg untracked_id[] = {{0, NOFD}, {16, NOFD}};
    static const struct msg shm_no_fd[] = {{0, NOFD}, {0, NOFD}, {-1, NOFD}};
    static const struct msg shm_bad_id[] = {{0, NOFD}, {0, NOFD}, {7, SHMFD}};
    static const struct msg cut_short[] = {{0, NOFD}, {0, NOFD}, {-1, SHMFD}};
    static const struct msg good[] = {{0, NOFD}, {2, NOFD}, {-1, SHMFD}, {0, EVFD},
                                      {70000, EVFD}, {1, EVFD}, {1, EVFD}, {1, EVFD},
                                      {1, EVFD}, {1, EVFD}, {2, EVFD}};

    hvct_assert_rc(map_against(bad_version, 1, 0), -HVC_EPROTO);
    hvct_assert_rc(map_against(id_with_fd, 2, 0), -HVC_EPROTO);
    hvct_assert_rc(map_against(bad_id, 2, 0), -HVC_EPROTO);
    hvct_assert_rc(map_against(big_id, 2, 0), -HVC_EPROTO);
    hvct_assert_rc(map_against(untracked_id, 2, 0), -HVC_ENOSPC);
    hvct_assert_rc(map_against(shm_no_fd, 3, 0), -HVC_EPROTO);
    hvct_assert_rc(map_against(shm_bad_id, 3, 0), -HVC_EPROTO);
    /* The server stops before our own eventfds: a timeout (5 s), not a hang. */
    hvct_assert_rc(map_against(cut_short, 3, 0), -HVC_ETIMEDOUT);
    /* Out-of-range peers and surplus vectors are skipped, not fatal. */
    hvct_assert_rc(map_against(good, 11, 0), 0);
    /* Asking for more than the server's memory. */
    hvct_assert_rc(map_against(good, 11, 2u << 20), -HVC_EINVAL);
}
END_TEST

/*
 * A server that never stops talking: setup has one overall deadline (5 s),
 * however the messages are paced, and the drain after setup (and each
 * service call) takes a bounded number of messages.
 */
START_TEST(hostile_server_pacing)
{
    /* Never our own eventfd: "peer 1 left" again and again. */
    static const struct msg trickle[] = {{0, NOFD}, {0, NOFD}, {-1, SHMFD}, {1, NOFD}};
    /* A complete setup, then peer 1's eventfd again and again. */
    static const struct msg flood[] = {{0, NOFD}, {0, NOFD}, {-1, SHMFD}, {0, EVFD},
                                       {1, EVFD}};
    struct hvc_platform_handle h;
    unsigned long long t0, spent;
    int rc;

    for (int k = 0; k < 2; k++) {
        fake_server_tail(trickle, 4, 1u << 20, k == 0 ? TRICKLE : FLOOD);
        t0 = hvct_now_ns();
        rc = hvc_platform_open(&h, host, sock_path, 0, 0);
        spent = hvct_now_ns() - t0;
        if (rc == 0)
            hvc_platform_close(&h);
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
        server = 0;
        unlink(sock_path);
        ck_assert_msg(rc == -HVC_ETIMEDOUT, "%s: %d (%s)", k == 0 ? "trickle" : "flood", rc,
                      hvc_errname(rc));
        ck_assert_uint_ge(spent, 4 * (unsigned long long)SEC);
        ck_assert_msg(spent < 20 * (unsigned long long)SEC, "setup took %llu ns", spent);
    }

    fake_server_tail(flood, 5, 1u << 20, FLOOD);
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_platform_open(&h, host, sock_path, 0, 0), 0);
    ck_assert_uint_lt(hvct_now_ns() - t0, 20 * (unsigned long long)SEC);
    /* Each call returns; some find the socket full and stop at the bound
     * (the 5 s is a failure bound only). */
    {
        int at_bound = 0;

        t0 = hvct_now_ns();
        while (at_bound < 3 && hvct_now_ns() - t0 < 5 * (unsigned long long)SEC) {
            rc = hvc_ivshmem_host_service(&h);
            ck_assert_msg(rc >= 0 && rc <= 4 * 16 * 4, "service took %d messages", rc);
            at_bound += rc == 4 * 16 * 4;
        }
        ck_assert_int_eq(at_bound, 3);
    }
    hvc_platform_close(&h);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    server = 0;
    unlink(sock_path);
}
END_TEST

/* The guest backend on a machine without an ivshmem device. */
START_TEST(guest_without_device)
{
    const struct hvc_platform *g = hvc_platform_ivshmem_guest();
    struct hvc_platform_handle h;

    ck_assert_ptr_nonnull(g);
    hvct_assert_rc(hvc_platform_open(&h, g, "0000:ff:1f.7", 0, 0), -HVC_ENOENT);
    hvct_assert_rc(hvc_platform_open(&h, g, "auto,bogus", 0, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_open(&h, g, "../../x", 0, 0), -HVC_EINVAL);
    if (access("/sys/bus/pci/devices", F_OK) == 0) {
        int rc = hvc_platform_open(&h, g, "auto", 0, 0);
        if (rc == 0) /* a guest with ivshmem: fine too */
            hvc_platform_close(&h);
        else
            hvct_assert_rc(rc, -HVC_ENOENT);
    }
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return hvct_main("ivshmem_server", setup, teardown, 60,
                     HVCT_TESTS(host_peers_talk, death_seen_through_server, hostile_clients,
                                no_server, no_id_reuse_under_qemu, events_over_doorbells,
                                hostile_server_setup, hostile_server_pacing,
                                guest_without_device));
}
