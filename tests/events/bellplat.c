#define _GNU_SOURCE
#include "bellplat.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <hvcomm/wire.h>

int hvct_bell_self = -1;
unsigned long hvct_bell_received;

#define OFF 64 /* the POSIX backend's state starts here in ours */
#define STRIDE 16
#define SIDE_SIZE (HVC_MAX_PEERS * STRIDE * 4)

struct bell_state {
    uint32_t *words; /* side file: one counter per peer, a cache line each */
    uint32_t last;   /* the counter of our own word when we last looked */
};

static struct hvc_platform bell;

static void side_name(char *buf, size_t n, const char *region)
{
    snprintf(buf, n, "%s.bells", region);
}

static int bell_map(const struct hvc_platform *p, void *state, const char *name,
                    uint64_t size, unsigned flags, struct hvc_mapping *out)
{
    const struct hvc_platform *px = hvc_platform_posix();
    struct bell_state *st = state;
    char side[512];
    int rc, fd;

    (void)p;
    rc = px->map(px, (char *)state + OFF, name, size, flags, out);
    if (rc < 0)
        return rc;
    side_name(side, sizeof(side), name);
    fd = open(side, O_RDWR | O_CREAT, 0600);
    if (fd < 0 || ftruncate(fd, SIDE_SIZE) < 0) {
        if (fd >= 0)
            close(fd);
        px->unmap(px, (char *)state + OFF);
        return -HVC_EIO;
    }
    st->words = mmap(NULL, SIDE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (st->words == MAP_FAILED) {
        px->unmap(px, (char *)state + OFF);
        return -HVC_ENOMEM;
    }
    st->last = hvct_bell_self >= 0
                   ? __atomic_load_n(&st->words[hvct_bell_self * STRIDE], __ATOMIC_ACQUIRE)
                   : 0;
    return 0;
}

static int bell_unmap(const struct hvc_platform *p, void *state)
{
    const struct hvc_platform *px = hvc_platform_posix();
    struct bell_state *st = state;

    (void)p;
    munmap(st->words, SIDE_SIZE);
    return px->unmap(px, (char *)state + OFF);
}

static int bell_self_id(const struct hvc_platform *p, void *state)
{
    (void)p;
    (void)state;
    return hvct_bell_self >= 0 ? hvct_bell_self : -HVC_ENOTSUP;
}

static int bell_notify(const struct hvc_platform *p, void *state, uint32_t peer,
                       uint32_t vector)
{
    struct bell_state *st = state;
    uint32_t *w;

    (void)p;
    (void)vector;
    if (peer >= HVC_MAX_PEERS)
        return -HVC_EINVAL;
    w = &st->words[peer * STRIDE];
    __atomic_fetch_add(w, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    return 0;
}

/* Latched, like a real doorbell: a ring before the wait is not lost. */
static int bell_wait_notify(const struct hvc_platform *p, void *state,
                            int64_t timeout_ns, uint32_t *vector)
{
    struct bell_state *st = state;
    uint32_t *w, v;
    struct timespec ts, *tsp = NULL;

    (void)p;
    if (hvct_bell_self < 0)
        return -HVC_EINVAL;
    w = &st->words[hvct_bell_self * STRIDE];
    v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
    if (v == st->last && timeout_ns != 0) {
        if (timeout_ns > 0) {
            ts.tv_sec = timeout_ns / 1000000000;
            ts.tv_nsec = timeout_ns % 1000000000;
            tsp = &ts;
        }
        syscall(SYS_futex, w, FUTEX_WAIT, v, tsp, NULL, 0);
        v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
    }
    if (v == st->last)
        return -HVC_ETIMEDOUT;
    st->last = v;
    hvct_bell_received++;
    *vector = 0;
    return 0;
}

/* The POSIX methods that use their state get it at its place in ours. */
static int bell_map_view(const struct hvc_platform *p, void *state, uint64_t offset,
                         uint64_t len, unsigned flags, void **addr)
{
    const struct hvc_platform *px = hvc_platform_posix();

    (void)p;
    return px->map_view(px, (char *)state + OFF, offset, len, flags, addr);
}

static int bell_unmap_view(const struct hvc_platform *p, void *state, void *addr,
                           uint64_t len)
{
    const struct hvc_platform *px = hvc_platform_posix();

    (void)p;
    return px->unmap_view(px, (char *)state + OFF, addr, len);
}

const struct hvc_platform *hvct_bell_platform(void)
{
    const struct hvc_platform *px = hvc_platform_posix();

    if (px == NULL)
        return NULL;
    bell = *px;
    bell.name = "posix+bells";
    bell.state_size = OFF + px->state_size;
    bell.map = bell_map;
    bell.unmap = bell_unmap;
    bell.self_id = bell_self_id;
    bell.notify = bell_notify;
    bell.wait_notify = bell_wait_notify;
    bell.map_view = bell_map_view;
    bell.unmap_view = bell_unmap_view;
    return &bell;
}

void hvct_bell_unlink(const char *region)
{
    char side[512];

    side_name(side, sizeof(side), region);
    unlink(side);
}
