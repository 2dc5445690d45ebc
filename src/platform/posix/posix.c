/*
 * The POSIX host backend (Linux): regions are files or POSIX shared-memory
 * objects mapped MAP_SHARED, waits are futexes on the shared words (not
 * FUTEX_PRIVATE: waiters and wakers are different processes), liveness is
 * the process id plus its start time, so a recycled pid is not taken for
 * the peer that died.
 */
#define _GNU_SOURCE
#include <hvcomm/posix.h>

#include "../hosted.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PID_BITS HVC_POSIX_TOKEN_PID_BITS /* pid_max is at most 2^22 on Linux */

struct posix_state {
    int fd;
    void *base;
    uint64_t size;
    uint64_t offset; /* where the region starts in the file (NAME@OFFSET) */
};

_Static_assert(sizeof(struct posix_state) <= HVC_PLATFORM_STATE_MAX, "state");

#define from_errno hvc__hosted_errno

/* "/name" (one slash) and "shm:name" are POSIX shm objects; the rest files. */
static const char *shm_name(const char *name, char *buf, size_t len)
{
    if (strncmp(name, "shm:", 4) == 0) {
        if (snprintf(buf, len, "/%s", name + 4) >= (int)len)
            return NULL;
        return buf;
    }
    if (name[0] == '/' && name[1] != '\0' && strchr(name + 1, '/') == NULL)
        return name;
    return NULL;
}

/*
 * "PATH@OFFSET": the region starts OFFSET bytes into PATH (decimal or 0x
 * hex, a multiple of the page size), so a process can map a window of the
 * file QEMU's memory-backend-file uses as guest RAM. Only a '@' followed
 * by a digit starts an offset; any other '@' belongs to the path. Copies
 * the path part into buf. Returns 0, or a negative code for a bad offset.
 */
static int split_offset(const char *name, char *buf, size_t len, uint64_t *offset)
{
    const char *at = strrchr(name, '@');
    unsigned long long v;
    char *end;
    long page = sysconf(_SC_PAGESIZE);

    *offset = 0;
    if (at == NULL || at[1] < '0' || at[1] > '9') {
        if (strlen(name) >= len)
            return -HVC_ENAMETOOLONG;
        strcpy(buf, name);
        return 0;
    }
    if ((size_t)(at - name) >= len)
        return -HVC_ENAMETOOLONG;
    errno = 0;
    v = strtoull(at + 1, &end, 0);
    if (*end != '\0' || errno == ERANGE || at == name) {
        hvc_log(HVC_LOG_ERROR, "posix: %s: bad offset after '@'", name);
        return -HVC_EINVAL;
    }
    if (page > 0 && v % (unsigned long long)page != 0) {
        hvc_log(HVC_LOG_ERROR, "posix: %s: offset %#llx is not a multiple of the page "
                "size (%ld)", name, v, page);
        return -HVC_EINVAL;
    }
    if (v > (unsigned long long)INT64_MAX)
        return -HVC_EOVERFLOW;
    memcpy(buf, name, (size_t)(at - name));
    buf[at - name] = '\0';
    *offset = v;
    return 0;
}

static int posix_open(const char *name, int oflags)
{
    char buf[256];
    const char *shm = shm_name(name, buf, sizeof(buf));

    if (shm != NULL)
        return shm_open(shm, oflags, 0660);
    return open(name, oflags | O_CLOEXEC, 0660);
}

static int posix_map(const struct hvc_platform *p, void *state, const char *name,
                     uint64_t size, unsigned flags, struct hvc_mapping *out)
{
    struct posix_state *st = state;
    bool rdonly = flags & HVC_MAP_RDONLY;
    int oflags = rdonly ? O_RDONLY : O_RDWR;
    char path[PATH_MAX];
    uint64_t off;
    struct stat sb;
    void *base;
    int rc;

    (void)p;
    st->fd = -1;
    rc = split_offset(name, path, sizeof(path), &off);
    if (rc < 0)
        return rc;
    name = path;
    if (size > (uint64_t)INT64_MAX - off)
        return -HVC_EOVERFLOW;
    if (name[0] == '\0' || size > (uint64_t)SIZE_MAX || (size == 0 && (flags & HVC_MAP_CREATE)) ||
        (rdonly && (flags & HVC_MAP_CREATE)))
        return -HVC_EINVAL;
    if (flags & HVC_MAP_CREATE)
        oflags |= O_CREAT | ((flags & HVC_MAP_EXCL) ? O_EXCL : 0);
    st->fd = posix_open(name, oflags);
    if (st->fd < 0)
        return from_errno(errno);
    if (fstat(st->fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        rc = S_ISDIR(sb.st_mode) ? -HVC_EINVAL : from_errno(errno);
        goto fail;
    }
    if (size == 0) {
        if (sb.st_size == 0) {
            rc = -HVC_EMAGIC; /* an empty file holds no region */
            goto fail;
        }
        if ((uint64_t)sb.st_size <= off) {
            hvc_log(HVC_LOG_ERROR, "posix: %s: offset %#llx is at or past the end of "
                    "the file (%lld bytes)", name, (unsigned long long)off,
                    (long long)sb.st_size);
            rc = -HVC_EINVAL;
            goto fail;
        }
        size = (uint64_t)sb.st_size - off; /* the rest of the file */
    } else if ((uint64_t)sb.st_size < off + size) {
        if (!(flags & HVC_MAP_CREATE)) {
            rc = -HVC_EINVAL;
            goto fail;
        }
        if (ftruncate(st->fd, (off_t)(off + size)) < 0) {
            rc = from_errno(errno);
            goto fail;
        }
    }
    if (size > (uint64_t)SIZE_MAX) {
        rc = -HVC_ENOMEM;
        goto fail;
    }
    base = mmap(NULL, (size_t)size, PROT_READ | (rdonly ? 0 : PROT_WRITE),
                MAP_SHARED, st->fd, (off_t)off);
    if (base == MAP_FAILED) {
        rc = from_errno(errno);
        goto fail;
    }
    st->base = base;
    st->size = size;
    st->offset = off;
    out->base = base;
    out->size = size;
    out->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    return 0;

fail:
    close(st->fd);
    st->fd = -1;
    return rc;
}

static int posix_unmap(const struct hvc_platform *p, void *state)
{
    struct posix_state *st = state;

    (void)p;
    if (st->base != NULL)
        munmap(st->base, (size_t)st->size);
    if (st->fd >= 0)
        close(st->fd);
    st->base = NULL;
    st->fd = -1;
    return 0;
}

static int posix_unlink(const struct hvc_platform *p, const char *name)
{
    char buf[256], path[PATH_MAX];
    const char *shm;
    uint64_t off;
    int rc;

    (void)p;
    rc = split_offset(name, path, sizeof(path), &off);
    if (rc < 0)
        return rc;
    if (off != 0)
        return -HVC_ENOTSUP; /* a window of a file: removing it removes the rest */
    shm = shm_name(name, buf, sizeof(buf));
    if ((shm != NULL ? shm_unlink(shm) : unlink(name)) < 0)
        return from_errno(errno);
    return 0;
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks since boot. */
static int proc_start_time(pid_t pid, uint64_t *start, char *state)
{
    char path[64], buf[1024], *s;
    unsigned long long t;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: skip to the last ')'. */
    s = strrchr(buf, ')');
    if (s == NULL || sscanf(s + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                                   "%*u %*u %*d %*d %*d %*d %*d %*d %llu",
                            state, &t) != 2)
        return -1;
    *start = t;
    return 0;
}

static int posix_self_token(const struct hvc_platform *p, void *state,
                            uint64_t *token)
{
    pid_t pid = getpid();
    uint64_t start;
    char st;

    (void)p;
    (void)state;
    if ((uint64_t)pid >= (1u << PID_BITS) || proc_start_time(pid, &start, &st) < 0)
        return -HVC_ENOTSUP;
    *token = start << PID_BITS | (uint64_t)pid;
    return 0;
}

static int posix_peer_alive(const struct hvc_platform *p, void *state,
                            uint32_t peer, uint64_t token)
{
    pid_t pid = (pid_t)HVC_POSIX_TOKEN_PID(token);
    uint64_t start;
    char st;

    (void)p;
    (void)state;
    (void)peer;
    if (token == 0 || pid <= 0)
        return -HVC_ENOTSUP;
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 0;
    if (proc_start_time(pid, &start, &st) < 0)
        return 0; /* gone between the two looks */
    /* A zombie is dead (killed, not yet reaped); another start time is
     * another process that got the same pid. */
    if (st == 'Z' || st == 'X' || (start & ((1ull << (64 - PID_BITS)) - 1)) != token >> PID_BITS)
        return 0;
    return 1;
}

static int posix_wait_word(const struct hvc_platform *p, void *state,
                           const uint32_t *addr, uint32_t expected,
                           int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;

    (void)p;
    (void)state;
    if (timeout_ns == 0)
        return __atomic_load_n(addr, __ATOMIC_ACQUIRE) != expected ? 0 : -HVC_ETIMEDOUT;
    if (timeout_ns > 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    if (syscall(SYS_futex, addr, FUTEX_WAIT, expected, tsp, NULL, 0) < 0 &&
        errno == ETIMEDOUT)
        return -HVC_ETIMEDOUT;
    return 0; /* woken, value changed (EAGAIN), or interrupted: re-check */
}

static int posix_wake_word(const struct hvc_platform *p, void *state,
                           const uint32_t *addr, uint32_t count)
{
    (void)p;
    (void)state;
    if (syscall(SYS_futex, addr, FUTEX_WAKE, count > INT_MAX ? INT_MAX : (int)count,
                NULL, NULL, 0) < 0)
        return from_errno(errno);
    return 0;
}

static uint64_t posix_now_ns(const struct hvc_platform *p)
{
    (void)p;
    return hvc__hosted_now_ns();
}

static int posix_map_view(const struct hvc_platform *p, void *state,
                          uint64_t offset, uint64_t len, unsigned flags,
                          void **addr)
{
    struct posix_state *st = state;
    void *v;

    (void)p;
    v = mmap(NULL, (size_t)len,
             PROT_READ | ((flags & HVC_MAP_RDONLY) ? 0 : PROT_WRITE), MAP_SHARED,
             st->fd, (off_t)(st->offset + offset));
    if (v == MAP_FAILED)
        return from_errno(errno);
    *addr = v;
    return 0;
}

static int posix_unmap_view(const struct hvc_platform *p, void *state,
                            void *addr, uint64_t len)
{
    (void)p;
    (void)state;
    return munmap(addr, (size_t)len) < 0 ? from_errno(errno) : 0;
}

/*
 * Peer fences (HVC_PLATFORM_OP_FENCE_DOMAIN / _PEER_FENCE, platform.h):
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) makes every running thread
 * of every process registered for it pass a full barrier, on this kernel.
 * The domain names the kernel (a hash of its boot id, never 0), so a peer
 * of another kernel that maps the same memory never takes our fence for
 * its own. A forked child registers again (pthread_atfork), so that a
 * handle it inherited stays reachable.
 */
static int membarrier_call(int cmd)
{
    return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

static uint32_t fence_domain; /* 0: not registered (yet, or it failed) */
static pthread_once_t fence_once = PTHREAD_ONCE_INIT;

static void fence_reregister(void)
{
    if (membarrier_call(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0)
        __atomic_store_n(&fence_domain, 0u, __ATOMIC_SEQ_CST);
}

static void fence_init(void)
{
    char id[64];
    uint32_t h = 2166136261u; /* FNV-1a */
    ssize_t n;
    int fd, q = membarrier_call(MEMBARRIER_CMD_QUERY);

    if (q < 0 || !(q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) ||
        !(q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED))
        return;
    fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, id, sizeof(id));
    close(fd);
    if (n < 16)
        return;
    for (ssize_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)id[i]) * 16777619u;
    if (pthread_atfork(NULL, NULL, fence_reregister) != 0 ||
        membarrier_call(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0)
        return;
    __atomic_store_n(&fence_domain, h | 1u, __ATOMIC_SEQ_CST);
}

static int posix_control(const struct hvc_platform *p, void *state, uint32_t op, void *arg)
{
    (void)p;
    (void)state;
    if (op == HVC_PLATFORM_OP_FENCE_DOMAIN) {
        uint32_t d;

        if (arg == NULL)
            return -HVC_EINVAL;
        (void)pthread_once(&fence_once, fence_init);
        d = __atomic_load_n(&fence_domain, __ATOMIC_SEQ_CST);
        if (d == 0)
            return -HVC_ENOTSUP;
        *(uint32_t *)arg = d;
        return 0;
    }
    if (op == HVC_PLATFORM_OP_PEER_FENCE) {
        if (__atomic_load_n(&fence_domain, __ATOMIC_SEQ_CST) == 0)
            return -HVC_ENOTSUP;
        return membarrier_call(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0 ? 0 : from_errno(errno);
    }
    return -HVC_ENOTSUP;
}

static const struct hvc_platform posix_platform = {
    .version = HVC_PLATFORM_VERSION,
    .token_ns = HVC_TOKEN_NS_POSIX,
    .state_size = sizeof(struct posix_state),
    .name = "posix",
    .map = posix_map,
    .unmap = posix_unmap,
    .unlink = posix_unlink,
    .self_token = posix_self_token,
    .peer_alive = posix_peer_alive,
    .wait_word = posix_wait_word,
    .wake_word = posix_wake_word,
    .now_ns = posix_now_ns,
    .map_view = posix_map_view,
    .unmap_view = posix_unmap_view,
    .control = posix_control,
};

const struct hvc_platform *hvc_platform_posix(void)
{
    return &posix_platform;
}
