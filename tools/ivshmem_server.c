/*
 * hvcomm-ivshmem-server: the ivshmem server QEMU's ivshmem-doorbell device
 * connects to (protocol: QEMU's docs/specs/ivshmem-spec.rst), for QEMU
 * guests and hvcomm host peers alike.
 *
 * It owns the shared-memory file and, per client, one eventfd per vector.
 * A new client gets its id (the lowest free one below --peers, so that ids
 * index an hvcomm peer table), the shared-memory fd and every peer's
 * eventfds; the others learn of it, and of its departure. Clients never
 * talk: a client that sends anything, hangs up or whose socket fills up is
 * dropped, and the others are told it left. Nothing a client does stops
 * the server; SIGINT and SIGTERM end it cleanly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <hvcomm/error.h>

#include "ivshmem_proto.h"

#define MAX_CLIENTS 256
#define MAX_VECTORS 64

struct client {
    int sock;          /* -1: slot free */
    int id;
    int nvec;
    int efd[MAX_VECTORS];
    int qemu;          /* may be a QEMU process (see id_reusable()) */
    uint64_t join_gen; /* leaves announced before this client came */
};

/*
 * Peer ids and QEMU. When QEMU's ivshmem device hears that peer N left, it
 * frees N's eventfd array, and when a new peer N is announced later it
 * writes into that freed array (hw/misc/ivshmem.c: close_peer_eventfds()
 * frees, process_msg_connect() does not reallocate): heap corruption, the
 * QEMU process aborts. QEMU's own server avoids it by counting ids up to
 * 65535; ours hands out small ids (they index the hvcomm peer table), so it
 * gives id N again only when no QEMU that heard N leave is still connected.
 * A client is taken for QEMU when the program of its peer credentials
 * (/proc/PID/exe) is named qemu* or cannot be read; hvcomm host peers
 * handle reuse.
 */
static uint64_t leave_gen;           /* leaves announced so far */
static uint64_t left_gen[MAX_CLIENTS]; /* leave_gen when each id last left */

static struct client clients[MAX_CLIENTS];
static int nclients;
static int shm_fd = -1;
static int vectors = 1;
static int max_peers = 16;
static int verbose;
static volatile sig_atomic_t stop_signal;

static void say(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(int level, const char *fmt, ...)
{
    va_list ap;

    if (level > verbose)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "hvcomm-ivshmem-server: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hvcomm-ivshmem-server --socket PATH --shm FILE --size BYTES\n"
            "                             [--vectors N] [--peers N] [-v]\n"
            "  --socket PATH  UNIX socket QEMU connects to (-chardev socket,path=PATH)\n"
            "  --shm FILE     shared memory: a file path, or /NAME or shm:NAME for\n"
            "                 POSIX shared memory; created (or grown) to --size\n"
            "  --size BYTES   size, power of two (suffixes K, M, G)\n"
            "  --vectors N    interrupt vectors per peer, 1..%d (default 1;\n"
            "                 match the device's vectors= property)\n"
            "  --peers N      most peers at once, ids 0..N-1 (default 16)\n"
            "  -v             log joins and leaves to stderr (-vv: more)\n",
            MAX_VECTORS);
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno != 0 || end == s)
        return -1;
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    if (*end != '\0' || v == 0)
        return -1;
    *out = v;
    return 0;
}

static int open_shm(const char *name, uint64_t size)
{
    struct stat sb;
    int fd;

    if (strncmp(name, "shm:", 4) == 0) {
        char buf[256];
        snprintf(buf, sizeof(buf), "/%s", name + 4);
        fd = shm_open(buf, O_RDWR | O_CREAT, 0660);
    } else if (name[0] == '/' && strchr(name + 1, '/') == NULL) {
        fd = shm_open(name, O_RDWR | O_CREAT, 0660);
    } else {
        fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
    }
    if (fd < 0) {
        say(0, "cannot open %s: %s", name, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        say(0, "%s is not a regular file", name);
        close(fd);
        return -1;
    }
    /* Grow, never shrink: the file may hold a region other peers use. */
    if ((uint64_t)sb.st_size < size && ftruncate(fd, (off_t)size) < 0) {
        say(0, "cannot size %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char staged[sizeof(sa.sun_path)];
    struct stat sb;
    int s, n;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        say(0, "socket path too long: %s", path);
        return -1;
    }
    /* Replace a stale socket from a server that died, nothing else. */
    if (lstat(path, &sb) == 0) {
        if (!S_ISSOCK(sb.st_mode)) {
            say(0, "%s exists and is not a socket", path);
            return -1;
        }
        unlink(path);
    }
    /* Listen on a private name first and rename it into place, so that the
     * path appears only once connections are accepted: a client that sees
     * it can connect (no window between bind and listen). */
    n = snprintf(staged, sizeof(staged), "%s.%d", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(staged))
        strcpy(staged, path); /* no room for a suffix: bind in place */
    strcpy(sa.sun_path, staged);
    if (strcmp(staged, path) != 0)
        unlink(staged);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 16) < 0 ||
        (strcmp(staged, path) != 0 && rename(staged, path) < 0)) {
        say(0, "cannot listen on %s: %s", path, strerror(errno));
        if (s >= 0) {
            close(s);
            unlink(staged);
        }
        return -1;
    }
    return s;
}

static void drop(struct client *c, const char *why);

static int id_reusable(int id)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].sock >= 0 && (clients[i].id == id ||
                                     (clients[i].qemu && clients[i].join_gen < left_gen[id])))
            return 0;
    return 1;
}

static int maybe_qemu(int sock)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    char path[64], exe[512];
    const char *base;
    ssize_t n;

    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0)
        return 1;
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)cred.pid);
    n = readlink(path, exe, sizeof(exe) - 1);
    if (n <= 0)
        return 1;
    exe[n] = '\0';
    base = strrchr(exe, '/');
    /* qemu-system-x86_64, qemu-kvm, ... */
    return strncmp(base != NULL ? base + 1 : exe, "qemu", 4) == 0;
}

/* Tell `to` about every eventfd of `about`. A failure drops `to`. */
static int advertise(struct client *to, const struct client *about)
{
    for (int v = 0; v < about->nvec; v++) {
        int rc = hvc__ivs_send(to->sock, about->id, about->efd[v]);
        if (rc < 0) {
            drop(to, hvc_strerror(rc));
            return -1;
        }
    }
    return 0;
}

static void release(struct client *c)
{
    close(c->sock);
    for (int v = 0; v < c->nvec; v++)
        close(c->efd[v]);
    c->sock = -1;
    c->nvec = 0;
    nclients--;
}

/* Remove a client and tell the others it left (an id without fd). Dropping
 * a client may make another fail in turn; each is dropped at most once. */
static void drop(struct client *c, const char *why)
{
    int id = c->id;

    if (c->sock < 0)
        return;
    say(1, "peer %d left (%s)", id, why);
    release(c);
    left_gen[id] = ++leave_gen;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *o = &clients[i];
        if (o->sock < 0)
            continue;
        int rc = hvc__ivs_send(o->sock, id, -1);
        if (rc < 0)
            drop(o, hvc_strerror(rc));
    }
}

static void accept_one(int lsock)
{
    struct client *c = NULL;
    int s, id, rc;

    s = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (s < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* The pending connection stays pending and the socket stays
             * readable: back off instead of spinning. */
            say(0, "accept: %s; retrying in 100 ms", strerror(errno));
            usleep(100000);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            say(1, "accept: %s", strerror(errno));
        }
        return;
    }
    for (id = 0; id < max_peers && !id_reusable(id); id++)
        ;
    for (int i = 0; i < MAX_CLIENTS && c == NULL; i++)
        if (clients[i].sock < 0)
            c = &clients[i];
    if (id >= max_peers || c == NULL) {
        say(1, "refusing a client: %d peers connected; the other ids below --peers %d "
            "are remembered as departed by a connected QEMU", nclients, max_peers);
        close(s); /* QEMU reports the closed socket; others are unaffected */
        return;
    }
    c->sock = s;
    c->id = id;
    c->nvec = 0;
    c->qemu = maybe_qemu(s);
    c->join_gen = leave_gen;
    nclients++;
    for (int v = 0; v < vectors; v++) {
        c->efd[v] = eventfd(0, EFD_CLOEXEC);
        if (c->efd[v] < 0) {
            say(0, "eventfd: %s", strerror(errno));
            release(c);
            return;
        }
        c->nvec++;
    }
    if ((rc = hvc__ivs_send(s, HVC__IVS_PROTO_VERSION, -1)) < 0 ||
        (rc = hvc__ivs_send(s, id, -1)) < 0 ||
        (rc = hvc__ivs_send(s, HVC__IVS_SHM_ID, shm_fd)) < 0) {
        say(1, "new client gone during setup: %s", hvc_strerror(rc));
        release(c);
        return;
    }
    say(1, "peer %d joined", id);
    /* The others first learn of the new peer, then it learns of them, and
     * last of itself (the order QEMU's own server uses). */
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].sock >= 0 && &clients[i] != c)
            advertise(&clients[i], c);
    for (int i = 0; i < MAX_CLIENTS && c->sock >= 0; i++)
        if (clients[i].sock >= 0 && &clients[i] != c && advertise(c, &clients[i]) < 0)
            return;
    if (c->sock >= 0)
        advertise(c, c);
}

static void client_event(struct client *c, short revents)
{
    char buf[64];
    ssize_t n;

    if (revents & POLLIN) {
        n = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            drop(c, "sent data; clients must not send");
            return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        drop(c, n == 0 ? "disconnected" : strerror(errno));
        return;
    }
    if (revents & (POLLHUP | POLLERR | POLLNVAL))
        drop(c, "hung up");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"shm", required_argument, NULL, 'm'},
        {"size", required_argument, NULL, 'l'},
        {"vectors", required_argument, NULL, 'n'},
        {"peers", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sock_path = NULL, *shm_name = NULL;
    uint64_t size = 0;
    struct pollfd pfd[MAX_CLIENTS + 1];
    struct client *who[MAX_CLIENTS + 1];
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t block, orig;
    int lsock, opt;

    while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (opt) {
        case 's': sock_path = optarg; break;
        case 'm': shm_name = optarg; break;
        case 'l':
            if (parse_size(optarg, &size) < 0 || (size & (size - 1)) != 0) {
                fprintf(stderr, "--size: a power of two, e.g. 4M\n");
                return 2;
            }
            break;
        case 'n':
            vectors = atoi(optarg);
            if (vectors < 1 || vectors > MAX_VECTORS) {
                fprintf(stderr, "--vectors: 1..%d\n", MAX_VECTORS);
                return 2;
            }
            break;
        case 'p':
            max_peers = atoi(optarg);
            if (max_peers < 1 || max_peers > MAX_CLIENTS) {
                fprintf(stderr, "--peers: 1..%d\n", MAX_CLIENTS);
                return 2;
            }
            break;
        case 'v': verbose++; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (sock_path == NULL || shm_name == NULL || size == 0 || optind != argc) {
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].sock = -1;

    /* A peer that vanishes mid-send must not kill us (sends also use
     * MSG_NOSIGNAL). SIGINT/SIGTERM are let through only inside ppoll(). */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &orig);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    shm_fd = open_shm(shm_name, size);
    if (shm_fd < 0)
        return 1;
    lsock = listen_on(sock_path);
    if (lsock < 0)
        return 1;
    say(1, "listening on %s: shm %s, %" PRIu64 " bytes, %d vectors, %d peers",
        sock_path, shm_name, size, vectors, max_peers);

    while (!stop_signal) {
        int n = 0;

        pfd[n].fd = lsock;
        pfd[n].events = POLLIN;
        who[n++] = NULL;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].sock < 0)
                continue;
            pfd[n].fd = clients[i].sock;
            pfd[n].events = POLLIN;
            who[n++] = &clients[i];
        }
        int r = ppoll(pfd, (nfds_t)n, NULL, &orig);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            say(0, "poll: %s", strerror(errno));
            break;
        }
        /* Clients first: a departure is announced before a join reuses its id. */
        for (int i = 1; i < n; i++)
            if (pfd[i].revents != 0 && who[i]->sock == pfd[i].fd)
                client_event(who[i], pfd[i].revents);
        if (pfd[0].revents & POLLIN)
            accept_one(lsock);
    }
    say(1, "exiting on signal %d", (int)stop_signal);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].sock >= 0)
            release(&clients[i]);
    close(lsock);
    unlink(sock_path);
    close(shm_fd);
    return 0;
}
