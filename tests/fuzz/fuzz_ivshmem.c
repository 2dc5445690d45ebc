/*
 * The ivshmem server protocol from both ends, against hostile input.
 *
 * Mode "host" (first byte even): a hostile server. A thread plays the
 * server: it accepts the host backend's connection and writes a script of
 * messages taken from the input (any 64-bit value, with no fd, a memfd, an
 * eventfd, two fds, or a truncated message), then hangs up. The victim is
 * hvc_platform_ivshmem_host(): map (the setup handshake), then service,
 * notify, peer_alive, wait_notify and peer_listed on whatever the script
 * left. Afterwards no fd may be left open (every fd received was closed).
 *
 * Mode "server" (first byte odd): hostile clients of hvcomm-ivshmem-server
 * (tools/ivshmem_server.c, compiled in with its main() renamed). Clients
 * connect, send bytes, hang up, read what the server sent them (checked:
 * the handshake, then ids below --peers, one eventfd per vector), and the
 * server's poll loop runs one turn at a time. Ids are never given twice at
 * once; no fd leaks once every client is gone.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/eventfd.h>

#define main hvc_fz_server_main
int hvc_fz_server_main(int argc, char **argv);
#include "../../tools/ivshmem_server.c"
#undef main

#include <hvcomm/ivshmem.h>

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    FZ_CHECK(d != NULL);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ---- host mode ---- */

struct script {
    uint8_t bytes[4096];
    size_t len;
};

static char host_path[108];
static int host_lsock = -1;
static struct script script;
static sem_t go, done;

static void send_fds(int s, const void *buf, size_t len, const int *fds, int nfd)
{
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(2 * sizeof(int))];
    } ctl;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

    memset(&ctl, 0, sizeof(ctl));
    if (nfd > 0) {
        struct cmsghdr *c;

        msg.msg_control = ctl.space;
        msg.msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int));
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfd * sizeof(int));
    }
    (void)sendmsg(s, &msg, MSG_NOSIGNAL);
}

/* The hostile server: plays the script to one connection, then hangs up.
 * Script records: [kind][value 8 bytes][memfd size class]. */
static void *server_thread(void *arg)
{
    (void)arg;
    for (;;) {
        int s;

        sem_wait(&go);
        s = accept4(host_lsock, NULL, NULL, SOCK_CLOEXEC);
        FZ_CHECK(s >= 0);
        for (size_t i = 0; i + 10 <= script.len; i += 10) {
            const uint8_t *r = script.bytes + i;
            int64_t v;
            int fds[2] = {-1, -1}, nfd = 0;

            memcpy(&v, r + 1, 8);
            switch (r[0] % 5u) {
            case 0:
                break;
            case 1:
            case 3:
                fds[nfd] = memfd_create("fz-ivshmem", MFD_CLOEXEC);
                FZ_CHECK(fds[nfd] >= 0);
                FZ_CHECK(ftruncate(fds[nfd], (off_t)(r[9] % 3u) * 32768) == 0);
                nfd++;
                if (r[0] % 5u == 1)
                    break;
                /* fall through */
            case 2:
                fds[nfd] = eventfd(0, EFD_CLOEXEC);
                FZ_CHECK(fds[nfd] >= 0);
                nfd++;
                break;
            default:
                /* A truncated message: 1..7 bytes, then the stream goes on. */
                send_fds(s, &v, 1u + r[9] % 7u, NULL, 0);
                continue;
            }
            send_fds(s, &v, 8, fds, nfd);
            for (int k = 0; k < nfd; k++)
                close(fds[k]);
        }
        close(s); /* the server hangs up: nothing waits for ever */
        sem_post(&done);
    }
    return NULL;
}

static char server_path[108];

static void remove_sockets(void)
{
    unlink(host_path);
    unlink(server_path);
}

static void host_setup(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    pthread_t t;

    snprintf(host_path, sizeof(host_path), "/tmp/hvc-fuzz-ivs-%d.sock", (int)getpid());
    unlink(host_path);
    atexit(remove_sockets);
    strcpy(sa.sun_path, host_path);
    host_lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FZ_CHECK(host_lsock >= 0);
    FZ_CHECK(bind(host_lsock, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    FZ_CHECK(listen(host_lsock, 4) == 0);
    sem_init(&go, 0, 0);
    sem_init(&done, 0, 0);
    FZ_CHECK(pthread_create(&t, NULL, server_thread, NULL) == 0);
    pthread_detach(t);
}

static void host_mode(void)
{
    static struct hvc_platform_handle h;
    const struct hvc_platform *ops = hvc_platform_ivshmem_host();
    unsigned nmsg = fz_u8() % 40u;
    int before, rc;

    if (host_lsock < 0)
        host_setup();
    /* The script: a few well-formed setup values are likely (small ids). */
    script.len = 0;
    for (unsigned i = 0; i < nmsg && script.len + 10 <= sizeof(script.bytes); i++) {
        uint8_t *r = script.bytes + script.len;
        uint8_t kind = fz_u8();
        int64_t v = (kind & 0x80) ? (int64_t)fz_u64() : (int64_t)(int8_t)fz_u8();

        r[0] = kind & 0x7f;
        memcpy(r + 1, &v, 8);
        r[9] = fz_u8();
        script.len += 10;
    }
    before = count_fds();
    sem_post(&go);
    rc = hvc_platform_open(&h, ops, host_path, 0, 0);
    sem_wait(&done);
    if (rc == 0) {
        FZ_CHECK(h.base != NULL && h.size > 0);
        for (unsigned steps = 0; fz_more() && steps < 32; steps++) {
            uint8_t op = fz_u8(), x = fz_u8();
            uint32_t vec;

            switch (op % 5u) {
            case 0:
                rc = hvc_ivshmem_host_service(&h);
                break;
            case 1:
                rc = hvc_platform_notify(&h, x % 20u, (x >> 5) % 6u);
                break;
            case 2:
                rc = hvc_platform_peer_alive(&h, x % 20u, HVC_IVSHMEM_TOKEN(x % 20u));
                break;
            case 3:
                rc = hvc_platform_wait_notify(&h, 0, &vec);
                break;
            default:
                rc = hvc_ivshmem_host_peer_listed(&h, x % 20u);
                break;
            }
            FZ_CHECK(fz_rc_ok(rc));
        }
        hvc_platform_close(&h);
    } else {
        FZ_CHECK(fz_rc_ok(rc));
    }
    FZ_CHECK(count_fds() == before); /* every fd the server sent was closed */
}

/* ---- server mode ---- */

#define NCLI 12

static int server_lsock = -1;

static void server_poll_once(void)
{
    struct pollfd pfd[MAX_CLIENTS + 1];
    struct client *who[MAX_CLIENTS + 1];
    int n = 0;

    pfd[n].fd = server_lsock;
    pfd[n].events = POLLIN;
    who[n++] = NULL;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].sock < 0)
            continue;
        pfd[n].fd = clients[i].sock;
        pfd[n].events = POLLIN;
        who[n++] = &clients[i];
    }
    if (poll(pfd, (nfds_t)n, 0) <= 0)
        return;
    for (int i = 1; i < n; i++)
        if (pfd[i].revents != 0 && who[i]->sock == pfd[i].fd)
            client_event(who[i], pfd[i].revents);
    if (pfd[0].revents & POLLIN)
        accept_one(server_lsock);
}

/* Read what the server sent one client and check its shape. */
static void client_read(int s, int *stage)
{
    for (;;) {
        int64_t v;
        int fd, rc = hvc__ivs_recv(s, &v, &fd, 1, 0);

        if (rc < 0)
            return;
        if (*stage == 0)
            FZ_CHECK(v == HVC__IVS_PROTO_VERSION && fd < 0);
        else if (*stage == 1)
            FZ_CHECK(v >= 0 && v < max_peers && fd < 0);
        else if (*stage == 2)
            FZ_CHECK(v == HVC__IVS_SHM_ID && fd >= 0);
        else
            FZ_CHECK(v >= 0 && v < max_peers);
        (*stage)++;
        if (fd >= 0)
            close(fd);
    }
}

static void server_mode(void)
{
    int cli[NCLI], stage[NCLI];
    int before;

    if (server_lsock < 0) {
        snprintf(server_path, sizeof(server_path), "/tmp/hvc-fuzz-ivsrv-%d.sock",
                 (int)getpid());
        server_lsock = listen_on(server_path);
        atexit(remove_sockets);
        FZ_CHECK(server_lsock >= 0);
        shm_fd = memfd_create("fz-shm", MFD_CLOEXEC);
        FZ_CHECK(shm_fd >= 0 && ftruncate(shm_fd, 65536) == 0);
        for (int i = 0; i < MAX_CLIENTS; i++)
            clients[i].sock = -1;
    }
    verbose = -1;
    vectors = 1 + fz_u8() % 4;
    max_peers = 1 + fz_u8() % 6;
    leave_gen = 0;
    memset(left_gen, 0, sizeof(left_gen));
    for (int i = 0; i < NCLI; i++)
        cli[i] = -1;
    before = count_fds();

    for (unsigned steps = 0; fz_more() && steps < 64; steps++) {
        uint8_t op = fz_u8(), x = fz_u8();
        int k = x % NCLI;

        switch (op % 6u) {
        case 0: { /* connect */
            struct sockaddr_un sa = {.sun_family = AF_UNIX};

            if (cli[k] >= 0)
                break;
            strcpy(sa.sun_path, server_path);
            cli[k] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            FZ_CHECK(cli[k] >= 0);
            FZ_CHECK(connect(cli[k], (struct sockaddr *)&sa, sizeof(sa)) == 0);
            stage[k] = 0;
            accept_one(server_lsock);
            break;
        }
        case 1: /* a client talks (clients must not) */
            if (cli[k] >= 0) {
                uint8_t junk[3] = {x, op, x};

                (void)send(cli[k], junk, 1u + op % 3u, MSG_NOSIGNAL);
            }
            break;
        case 2: /* a client hangs up */
            if (cli[k] >= 0) {
                if (op & 0x80)
                    shutdown(cli[k], SHUT_WR);
                else {
                    close(cli[k]);
                    cli[k] = -1;
                }
            }
            break;
        case 3:
            server_poll_once();
            break;
        case 4: /* a client that might be QEMU (id reuse rules) */
            for (int i = 0; i < MAX_CLIENTS; i++)
                if (clients[i].sock >= 0 && (clients[i].id % NCLI) == k)
                    clients[i].qemu = op & 1;
            break;
        default:
            if (cli[k] >= 0)
                client_read(cli[k], &stage[k]);
            break;
        }
        /* Invariants: live ids distinct and below --peers. */
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].sock < 0)
                continue;
            FZ_CHECK(clients[i].id >= 0 && clients[i].id < max_peers);
            for (int j = i + 1; j < MAX_CLIENTS; j++)
                FZ_CHECK(clients[j].sock < 0 || clients[j].id != clients[i].id);
        }
    }
    for (int i = 0; i < NCLI; i++)
        if (cli[i] >= 0)
            close(cli[i]);
    for (int i = 0; i < 4; i++)
        server_poll_once(); /* the server notices the hang-ups */
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].sock >= 0)
            release(&clients[i]);
    FZ_CHECK(nclients == 0);
    FZ_CHECK(count_fds() == before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t m;

    fz_begin(data, size, FZ_FUTEX);
    m = fz_u8();
    if (m & 1)
        server_mode();
    else
        host_mode();
    fz_end();
    return 0;
}
