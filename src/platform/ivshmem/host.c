/*
 * The ivshmem host peer: a host process as one more client of the ivshmem
 * server, so it shares the guests' memory (the server's shm fd) and rings
 * and receives doorbells through the same eventfds QEMU uses.
 *
 * Everything the server sends is checked: ids outside 0..0xffff, an fd with
 * a message that must not carry one, or a second shm fd are protocol
 * errors, logged and skipped. The eventfd table is bounded
 * (HVC_IVSHMEM_HOST_MAX_PEERS x HVC_IVSHMEM_HOST_MAX_VECTORS) so that the
 * whole state fits in the handle.
 */
#define _GNU_SOURCE
#include <hvcomm/ivshmem.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../hosted.h"
#include "ivshmem_internal.h"
#include "ivshmem_proto.h"

#define NPEERS HVC_IVSHMEM_HOST_MAX_PEERS
#define NVEC HVC_IVSHMEM_HOST_MAX_VECTORS
/* The whole setup (version, id, shm fd, the peers' and our eventfds) must
 * be done within this time, however the server paces its messages. */
#define SETUP_TIMEOUT_MS 5000
/* Messages taken per service call: a flooding server cannot hold a caller
 * (the rest waits for the next call). Four times a full table. */
#define DRAIN_MAX ((int)(4 * NPEERS * NVEC))

struct ivh_state {
    uint32_t magic;
    int sock;           /* -1 once the server hung up */
    int shm_fd;
    int32_t self;
    void *base;
    uint64_t size;
    uint32_t listed;    /* bit per peer the server lists */
    uint32_t proto_errors;
    uint8_t nfd[NPEERS];
    int32_t fd[NPEERS][NVEC];
    pthread_mutex_t lock; /* fd table and the socket */
};

_Static_assert(sizeof(struct ivh_state) <= HVC_PLATFORM_STATE_MAX, "state");
_Static_assert(NPEERS <= 32, "listed is a 32-bit mask");

#define IVH_MAGIC 0x49564831u /* "IVH1" */

static void forget_peer(struct ivh_state *st, uint32_t id)
{
    for (uint32_t v = 0; v < st->nfd[id]; v++)
        close(st->fd[id][v]);
    st->nfd[id] = 0;
    st->listed &= ~(1u << id);
}

static int proto_error(struct ivh_state *st, const char *what, int64_t v)
{
    st->proto_errors++;
    hvc_log(HVC_LOG_WARN, "ivshmem-host: server protocol error: %s (%lld)", what,
            (long long)v);
    return -HVC_EPROTO;
}

/* One message after setup: a peer's eventfd, or a peer's departure. */
static int handle(struct ivh_state *st, int64_t v, int fd)
{
    uint32_t id;

    if (v < 0 || v > HVC__IVS_MAX_ID) {
        if (fd >= 0)
            close(fd);
        return proto_error(st, "peer id out of range", v);
    }
    id = (uint32_t)v;
    if (id >= NPEERS) {
        if (fd >= 0)
            close(fd);
        hvc_log(HVC_LOG_WARN, "ivshmem-host: ignoring peer %u (tracking ids < %u)",
                id, NPEERS);
        return 0;
    }
    if (fd < 0) {
        if ((int32_t)id == st->self)
            return proto_error(st, "server says we left", v);
        if (st->listed & (1u << id))
            hvc_log(HVC_LOG_INFO, "ivshmem-host: peer %u left", id);
        forget_peer(st, id);
        return 0;
    }
    if (st->nfd[id] >= NVEC) {
        close(fd);
        hvc_log(HVC_LOG_DEBUG, "ivshmem-host: peer %u: vector beyond %u ignored", id, NVEC);
        return 0;
    }
    if (!(st->listed & (1u << id)) && (int32_t)id != st->self)
        hvc_log(HVC_LOG_INFO, "ivshmem-host: peer %u joined", id);
    if ((int32_t)id == st->self) {
        /* Ours to read. Whoever else holds this description (QEMU sets
         * O_NONBLOCK on its own vectors) reads nothing from it. */
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    st->fd[id][st->nfd[id]++] = fd;
    st->listed |= 1u << id;
    return 0;
}

/* Drain pending server messages, at most DRAIN_MAX; called with the lock
 * held. */
static int service_locked(struct ivh_state *st)
{
    int n = 0, rc = 0;

    for (int taken = 0; st->sock >= 0 && taken < DRAIN_MAX; taken++) {
        int64_t v;
        int fd;

        rc = hvc__ivs_recv(st->sock, &v, &fd, 1, 0);
        if (rc == -HVC_EAGAIN)
            return n;
        if (rc == -HVC_EPEERGONE || rc == -HVC_EIO) {
            hvc_log(HVC_LOG_WARN, "ivshmem-host: server connection lost");
            close(st->sock);
            st->sock = -1;
            return -HVC_EPEERGONE;
        }
        if (rc < 0) {
            proto_error(st, "malformed message", 0);
            continue;
        }
        n++;
        rc = handle(st, v, fd);
    }
    if (st->sock >= 0 && n == DRAIN_MAX)
        return n; /* bounded; more may be pending */
    return n > 0 ? n : (rc < 0 ? rc : -HVC_EPEERGONE);
}

static uint64_t now_ms(void)
{
    return hvc__hosted_now_ns() / 1000000u;
}

/* Milliseconds left of the setup, or -HVC_ETIMEDOUT. */
static int setup_left(uint64_t deadline)
{
    uint64_t t = now_ms();

    return t >= deadline ? -HVC_ETIMEDOUT : (int)(deadline - t);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -HVC_ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -HVC_EIO;
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(s);
        return (e == ENOENT || e == ECONNREFUSED) ? -HVC_ENOENT
               : (e == EACCES || e == EPERM)      ? -HVC_EACCES
                                                  : -HVC_EIO;
    }
    return s;
}

/* Receive one setup message that must have the given shape, before the
 * setup's deadline. */
static int expect(struct ivh_state *st, uint64_t deadline, int want_fd, int64_t *v, int *fd)
{
    int rc = setup_left(deadline);

    *fd = -1;
    if (rc >= 0)
        rc = hvc__ivs_recv(st->sock, v, fd, 0, rc);
    if (rc < 0)
        return rc == -HVC_EPEERGONE ? -HVC_EPROTO : rc;
    if ((*fd >= 0) != want_fd) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return proto_error(st, want_fd ? "setup message without fd"
                                       : "setup message with an fd", *v);
    }
    return 0;
}

static int host_unmap(const struct hvc_platform *p, void *state);

static int host_map(const struct hvc_platform *p, void *state, const char *name,
                    uint64_t size, unsigned flags, struct hvc_mapping *out)
{
    struct ivh_state *st = state;
    bool rdonly = flags & HVC_MAP_RDONLY;
    struct stat sb;
    int64_t v;
    int fd, rc;
    uint64_t deadline = now_ms() + SETUP_TIMEOUT_MS;

    (void)p;
    st->magic = IVH_MAGIC;
    st->shm_fd = -1;
    st->self = -1;
    pthread_mutex_init(&st->lock, NULL);
    st->sock = connect_to(name);
    if (st->sock < 0) {
        rc = st->sock;
        goto fail;
    }
    if ((rc = expect(st, deadline, 0, &v, &fd)) < 0)
        goto fail;
    if (v != HVC__IVS_PROTO_VERSION) {
        rc = proto_error(st, "unknown protocol version", v);
        goto fail;
    }
    if ((rc = expect(st, deadline, 0, &v, &fd)) < 0)
        goto fail;
    if (v < 0 || v > HVC__IVS_MAX_ID) {
        rc = proto_error(st, "own id out of range", v);
        goto fail;
    }
    if (v >= NPEERS) {
        hvc_log(HVC_LOG_ERROR, "ivshmem-host: server gave id %lld; this backend "
                "tracks ids below %u (start the server with --peers %u)",
                (long long)v, NPEERS, NPEERS);
        rc = -HVC_ENOSPC;
        goto fail;
    }
    st->self = (int32_t)v;
    if ((rc = expect(st, deadline, 1, &v, &fd)) < 0)
        goto fail;
    st->shm_fd = fd;
    if (v != HVC__IVS_SHM_ID) {
        rc = proto_error(st, "shm fd with an id other than -1", v);
        goto fail;
    }
    if (fstat(fd, &sb) < 0 || sb.st_size <= 0) {
        rc = -HVC_EIO;
        goto fail;
    }
    if (size > (uint64_t)sb.st_size || (uint64_t)sb.st_size > SIZE_MAX) {
        rc = -HVC_EINVAL;
        goto fail;
    }
    st->size = (uint64_t)sb.st_size;
    st->base = mmap(NULL, (size_t)st->size, PROT_READ | (rdonly ? 0 : PROT_WRITE),
                    MAP_SHARED, fd, 0);
    if (st->base == MAP_FAILED) {
        st->base = NULL;
        rc = errno == ENOMEM ? -HVC_ENOMEM : -HVC_EIO;
        goto fail;
    }
    /* The peers' eventfds follow at once, ours last: wait for our first
     * (within the one deadline, however many other messages come first),
     * then take a bounded number of whatever else is already there. */
    while (st->nfd[st->self] == 0) {
        if ((rc = setup_left(deadline)) < 0 ||
            (rc = hvc__ivs_recv(st->sock, &v, &fd, 0, rc)) < 0) {
            if (rc == -HVC_EPEERGONE)
                rc = -HVC_EPROTO;
            goto fail;
        }
        handle(st, v, fd);
    }
    service_locked(st);
    out->base = st->base;
    out->size = st->size;
    out->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    hvc_log(HVC_LOG_INFO, "ivshmem-host: peer %d, %llu bytes, %u vectors", st->self,
            (unsigned long long)st->size, st->nfd[st->self]);
    return 0;

fail:
    host_unmap(p, state);
    return rc;
}

static int host_unmap(const struct hvc_platform *p, void *state)
{
    struct ivh_state *st = state;

    (void)p;
    for (uint32_t id = 0; id < NPEERS; id++)
        forget_peer(st, id);
    if (st->base != NULL)
        munmap(st->base, (size_t)st->size);
    if (st->shm_fd >= 0)
        close(st->shm_fd);
    if (st->sock >= 0)
        close(st->sock);
    pthread_mutex_destroy(&st->lock);
    memset(st, 0, sizeof(*st));
    return 0;
}

static int host_self_id(const struct hvc_platform *p, void *state)
{
    (void)p;
    return ((struct ivh_state *)state)->self;
}

static int host_self_token(const struct hvc_platform *p, void *state,
                           uint64_t *token)
{
    (void)p;
    *token = HVC_IVSHMEM_TOKEN(((struct ivh_state *)state)->self);
    return 0;
}

static int host_peer_alive(const struct hvc_platform *p, void *state,
                           uint32_t peer, uint64_t token)
{
    struct ivh_state *st = state;
    int rc;

    (void)p;
    if (token != HVC_IVSHMEM_TOKEN(peer) || peer >= NPEERS)
        return -HVC_ENOTSUP; /* not a token of ours, or beyond our table */
    pthread_mutex_lock(&st->lock);
    service_locked(st);
    rc = st->sock < 0 ? -HVC_ENOTSUP : (int)((st->listed >> peer) & 1);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static int host_notify(const struct hvc_platform *p, void *state, uint32_t peer,
                       uint32_t vector)
{
    struct ivh_state *st = state;
    const uint64_t one = 1;
    int rc = 0;

    (void)p;
    if (peer >= NPEERS || vector >= NVEC)
        return -HVC_EINVAL;
    pthread_mutex_lock(&st->lock);
    /* Take pending joins and leaves first: a peer that left and came back
     * under the same id has new eventfds, and the old ones lead nowhere.
     * One non-blocking recvmsg when nothing is pending. */
    service_locked(st);
    if (!(st->listed & (1u << peer)))
        rc = -HVC_EPEERGONE;
    else if (vector >= st->nfd[peer])
        rc = -HVC_EINVAL;
    else if (write(st->fd[peer][vector], &one, sizeof(one)) != (ssize_t)sizeof(one) &&
             errno != EAGAIN) /* EAGAIN: the counter is full, it rang */
        rc = -HVC_EIO;
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static uint64_t host_now_ns(const struct hvc_platform *p)
{
    (void)p;
    return hvc__hosted_now_ns();
}

static int host_wait_notify(const struct hvc_platform *p, void *state,
                            int64_t timeout_ns, uint32_t *vector)
{
    struct ivh_state *st = state;
    struct pollfd pfd[NVEC + 1];
    uint64_t start = host_now_ns(p);
    uint32_t nvec;
    int64_t left = timeout_ns;

    for (;;) {
        int n, ms;

        /* Our own eventfds are only ever appended, under the lock: map
         * returns after the first, and the server's later messages (read
         * by service_locked(), here or in another thread) may bring more.
         * A doorbell rung on one of those before it is known is not lost:
         * the eventfd keeps its count until it is read below. */
        pthread_mutex_lock(&st->lock);
        nvec = st->nfd[st->self];
        pthread_mutex_unlock(&st->lock);

        for (uint32_t v = 0; v < nvec; v++) {
            uint64_t cnt;
            if (read(st->fd[st->self][v], &cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt)) {
                *vector = v;
                return 0;
            }
        }
        if (timeout_ns != HVC_FOREVER) {
            uint64_t el = host_now_ns(p) - start;
            if (el >= (uint64_t)timeout_ns)
                return -HVC_ETIMEDOUT;
            left = timeout_ns - (int64_t)el;
        }
        for (uint32_t v = 0; v < nvec; v++) {
            pfd[v].fd = st->fd[st->self][v];
            pfd[v].events = POLLIN;
        }
        pthread_mutex_lock(&st->lock);
        pfd[nvec].fd = st->sock; /* -1 is ignored by poll */
        pthread_mutex_unlock(&st->lock);
        pfd[nvec].events = POLLIN;
        ms = timeout_ns == HVC_FOREVER ? -1 : (int)((left + 999999) / 1000000);
        if (ms > 1000 || ms < 0)
            ms = 1000; /* re-check the server now and then */
        n = poll(pfd, nvec + 1, ms);
        if (n > 0 && pfd[nvec].revents != 0) {
            pthread_mutex_lock(&st->lock);
            service_locked(st);
            pthread_mutex_unlock(&st->lock);
        }
    }
}

static int host_map_view(const struct hvc_platform *p, void *state,
                         uint64_t offset, uint64_t len, unsigned flags, void **addr)
{
    struct ivh_state *st = state;
    void *v;

    (void)p;
    v = mmap(NULL, (size_t)len, PROT_READ | ((flags & HVC_MAP_RDONLY) ? 0 : PROT_WRITE),
             MAP_SHARED, st->shm_fd, (off_t)offset);
    if (v == MAP_FAILED)
        return errno == ENOMEM ? -HVC_ENOMEM : -HVC_EIO;
    *addr = v;
    return 0;
}

static int host_unmap_view(const struct hvc_platform *p, void *state, void *addr,
                           uint64_t len)
{
    (void)p;
    (void)state;
    return munmap(addr, (size_t)len) < 0 ? -HVC_EINVAL : 0;
}

static int host_control(const struct hvc_platform *p, void *state, uint32_t op,
                        void *arg)
{
    struct ivh_state *st = state;
    uint32_t peer;
    int rc;

    (void)p;
    if (st->magic != IVH_MAGIC)
        return -HVC_EINVAL;
    switch (op) {
    case HVC_PLATFORM_OP_IVSHMEM_MODE:
        return HVC_IVSHMEM_HOST;
    case HVC_PLATFORM_OP_IVSHMEM_SERVICE:
        pthread_mutex_lock(&st->lock);
        rc = st->sock < 0 ? -HVC_EPEERGONE : service_locked(st);
        pthread_mutex_unlock(&st->lock);
        return rc;
    case HVC_PLATFORM_OP_IVSHMEM_PEER_LISTED:
        if (arg == NULL)
            return -HVC_EINVAL;
        peer = *(const uint32_t *)arg;
        if (peer >= NPEERS)
            return -HVC_EINVAL;
        pthread_mutex_lock(&st->lock);
        service_locked(st);
        rc = (int)((st->listed >> peer) & 1);
        pthread_mutex_unlock(&st->lock);
        return rc;
    default:
        return -HVC_ENOTSUP;
    }
}

static const struct hvc_platform host_platform = {
    .version = HVC_PLATFORM_VERSION,
    .token_ns = HVC_TOKEN_NS_IVSHMEM,
    .state_size = sizeof(struct ivh_state),
    .name = "ivshmem-host",
    .map = host_map,
    .unmap = host_unmap,
    .self_id = host_self_id,
    .self_token = host_self_token,
    .peer_alive = host_peer_alive,
    .notify = host_notify,
    .wait_notify = host_wait_notify,
    .now_ns = host_now_ns,
    .map_view = host_map_view,
    .unmap_view = host_unmap_view,
    .control = host_control,
};

const struct hvc_platform *hvc_platform_ivshmem_host(void)
{
    return &host_platform;
}

/* The public ivshmem host calls, through the dispatch layer's control. */
int hvc_ivshmem_host_service(struct hvc_platform_handle *h)
{
    return hvc__ivshmem_control(h, HVC_PLATFORM_OP_IVSHMEM_SERVICE, NULL);
}

int hvc_ivshmem_host_peer_listed(struct hvc_platform_handle *h, uint32_t peer)
{
    return hvc__ivshmem_control(h, HVC_PLATFORM_OP_IVSHMEM_PEER_LISTED, &peer);
}
