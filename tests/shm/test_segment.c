/* Locked segments: lock, try-lock, timeouts, unlock errors, a killed
 * holder and the recovery, read-only views that fault, contention. */
#define _GNU_SOURCE
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (1u << 20)

static const struct hvc_platform *posix;

static void setup(void)
{
    hvct_leak_setup();
    posix = hvc_platform_posix();
}

struct sc {
    const char *path;
    int fd;    /* child writes one byte when ready */
    int mode;  /* what the child does */
    long n;
};

enum { HOLD_AND_HANG, HOLD_BRIEFLY, UNLOCK_NOT_HELD, COUNT, WRITE_RO, READ_RO };

/* Wait until the lock has had `contended` waits and a waiter sleeps on it
 * now (an observable condition instead of "it sleeps by now"); the 10 s is
 * a failure bound. 0, or -1. */
static int await_lock_waiter(struct hvc_region *r, struct hvc_seg *s, uint32_t contended)
{
    unsigned long long t0 = hvct_now_ns();
    struct hvc_seg_stats st;

    for (;;) {
        if (hvc_seg_stats(r, &s->obj, &st) == 0 && st.contended >= contended &&
            st.waiters >= 1)
            return 0;
        if (hvct_now_ns() - t0 > 10000000000ull)
            return -1;
        usleep(100);
    }
}

static int child(void *arg)
{
    struct sc *c = arg;
    struct hvc_region r;
    struct hvc_seg s;
    char b = 'r';

    if (hvc_region_attach(&r, posix, c->path, 0) < 0 || hvc_peer_join(&r, "child") < 0)
        return 2;
    if (hvc_seg_open(&r, "seg", (c->mode == WRITE_RO || c->mode == READ_RO) ? HVC_SEG_O_RDONLY : 0,
                     &s) < 0)
        return 3;
    switch (c->mode) {
    case HOLD_AND_HANG:
        if (hvc_seg_lock(&s) != 0)
            return 4;
        strcpy(hvc_seg_data(&s), "half-writ");
        if (write(c->fd, &b, 1) != 1)
            return 5;
        for (;;)
            pause();
    case HOLD_BRIEFLY:
        if (hvc_seg_lock(&s) != 0)
            return 4;
        if (write(c->fd, &b, 1) != 1)
            return 5;
        /* Hold it until the other peer sleeps in its second wait (the
         * first, lock_timeout, times out). */
        if (await_lock_waiter(&r, &s, 2) != 0)
            return 8;
        return hvc_seg_unlock(&s) == 0 ? 0 : 6;
    case UNLOCK_NOT_HELD:
        return hvc_seg_unlock(&s) == -HVC_EPERM && hvc_seg_trylock(&s) == -HVC_EBUSY ? 0 : 7;
    case COUNT:
        hvc_seg_set_spin(&s, c->mode & 1 ? 0 : 5000);
        for (long i = 0; i < c->n; i++) {
            volatile long *v = hvc_seg_data(&s);

            if (hvc_seg_lock(&s) != 0)
                return 8;
            *v = *v + 1;
            if (hvc_seg_unlock(&s) != 0)
                return 9;
        }
        hvc_region_detach(&r);
        return 0;
    case READ_RO:
        if (!s.ro_enforced || strcmp(hvc_seg_data(&s), "hello") != 0)
            return 10;
        if (hvc_seg_lock(&s) != -HVC_EPERM || hvc_seg_unlock(&s) != -HVC_EPERM)
            return 11;
        hvc_seg_close(&s);
        hvc_region_detach(&r);
        return 0;
    case WRITE_RO:
        /* ASan installs its own SIGSEGV handler: we want the plain death. */
        signal(SIGSEGV, SIG_DFL);
        *(volatile char *)hvc_seg_data(&s) = 'X';
        return 12; /* not reached */
    }
    return 99;
}

START_TEST(seg_basic_errors)
{
    const char *path = hvct_region_path("seg");
    struct hvc_region a;
    struct hvc_seg s, t;
    struct hvc_seg_stats st;
    struct hvc_obj_spec raw = {.name = "raw", .type = HVC_OBJ_RAW, .size = 64,
                               .writer = HVC_PEER_ANY};

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_seg_open(&a, "seg", 0, &s), -HVC_ENOENT);
    hvct_assert_rc(hvc_seg_create(&a, "seg", 0, &s), -HVC_EINVAL);
    hvct_assert_rc(hvc_seg_create(&a, "seg", 1000, &s), 0);
    hvct_assert_rc(hvc_seg_create(&a, "seg", 1000, &t), -HVC_EEXIST);
    hvct_assert_rc(hvc_obj_create(&a, &raw, NULL), 0);
    hvct_assert_rc(hvc_seg_open(&a, "raw", 0, &t), -HVC_ETYPE);
    hvct_assert_rc(hvc_seg_open(&a, "seg", 0x40, &t), -HVC_EINVAL);
    ck_assert_uint_eq(hvc_seg_size(&s), 1000);
    ck_assert_uint_eq(s.obj.offset % 4096, 0);
    hvct_assert_rc(hvc_seg_unlock(&s), -HVC_EPERM);
    hvct_assert_rc(hvc_seg_consistent(&s), -HVC_EPERM);
    hvct_assert_rc(hvc_seg_lock(&s), 0);
    hvct_assert_rc(hvc_seg_trylock(&s), -HVC_EBUSY);
    hvct_assert_rc(hvc_seg_lock_timeout(&s, 0), -HVC_EBUSY);
    hvct_assert_rc(hvc_seg_consistent(&s), 0); /* already consistent */
    hvct_assert_rc(hvc_seg_stats(&a, &s.obj, &st), 0);
    ck_assert_uint_eq(st.valid, 1);
    ck_assert_uint_eq(st.owner, hvc_peer_owner(&a));
    ck_assert_uint_eq(st.data_size, 1000);
    hvct_assert_rc(hvc_seg_unlock(&s), 0);
    hvct_assert_rc(hvc_seg_unlock(&s), -HVC_EPERM);
    hvct_assert_rc(hvc_seg_trylock(&s), 0);
    hvct_assert_rc(hvc_seg_unlock(&s), 0);
    hvct_assert_rc(hvc_seg_lock_timeout(&s, -7), -HVC_EINVAL);
    hvct_assert_rc(hvc_seg_close(&s), 0);
    hvct_assert_rc(hvc_seg_close(&s), -HVC_EINVAL);
    hvct_assert_rc(hvc_seg_lock(&s), -HVC_EINVAL);
    hvct_assert_rc(hvc_seg_stats(&a, &s.obj, &st), -HVC_EINVAL);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(seg_two_process_lock_timeout_unlock)
{
    const char *path = hvct_region_path("seg2");
    struct hvc_region a;
    struct hvc_seg s;
    struct sc c = {.path = path, .mode = HOLD_BRIEFLY};
    int fds[2];
    char b;
    pid_t pid;
    unsigned long long t0;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_seg_create(&a, "seg", 64, &s), 0);
    ck_assert_int_eq(pipe(fds), 0);
    c.fd = fds[1];
    /* the other peer cannot unlock our lock */
    hvct_assert_rc(hvc_seg_lock(&s), 0);
    c.mode = UNLOCK_NOT_HELD;
    ck_assert_int_eq(hvct_wait(hvct_fork(child, &c)), 0);
    hvct_assert_rc(hvc_seg_unlock(&s), 0);
    /* the other peer holds it until we sleep in lock() */
    c.mode = HOLD_BRIEFLY;
    pid = hvct_fork(child, &c);
    ck_assert_int_eq(read(fds[0], &b, 1), 1);
    hvct_assert_rc(hvc_seg_trylock(&s), -HVC_EBUSY);
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_seg_lock_timeout(&s, 30000000), -HVC_ETIMEDOUT);
    ck_assert_uint_ge(hvct_now_ns() - t0, 30000000ull);
    hvc_seg_set_spin(&s, 0);
    hvct_assert_rc(hvc_seg_lock(&s), 0); /* sleeps until the unlock */
    {
        struct hvc_seg_stats st;

        hvct_assert_rc(hvc_seg_stats(&a, &s.obj, &st), 0);
        ck_assert_uint_ge(st.contended, 2); /* it did wait */
    }
    hvct_assert_rc(hvc_seg_unlock(&s), 0);
    ck_assert_int_eq(hvct_wait(pid), 0);
    close(fds[0]);
    close(fds[1]);
    hvc_seg_close(&s);
    hvc_region_detach(&a);
}
END_TEST

/* The holder is killed with -9; the next locker recovers. */
START_TEST(seg_owner_dead_recovery)
{
    const char *path = hvct_region_path("segdead");
    struct hvc_region a;
    struct hvc_seg s;
    struct hvc_seg_stats st;
    struct sc c = {.path = path, .mode = HOLD_AND_HANG};
    int fds[2];
    char b;
    pid_t pid;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_seg_create(&a, "seg", 64, &s), 0);
    ck_assert_int_eq(pipe(fds), 0);
    c.fd = fds[1];

    /* 1: killed while we are not waiting; trylock recovers after a scan. */
    pid = hvct_fork(child, &c);
    ck_assert_int_eq(read(fds[0], &b, 1), 1);
    hvct_assert_rc(hvc_seg_trylock(&s), -HVC_EBUSY);
    kill(pid, SIGKILL);
    ck_assert_int_eq(hvct_wait(pid), 128 + SIGKILL);
    hvct_assert_rc(hvc_peer_scan(&a, 0), 1);
    hvct_assert_rc(hvc_seg_trylock(&s), HVC_SEG_OWNERDEAD);
    ck_assert_str_eq(hvc_seg_data(&s), "half-writ");
    strcpy(hvc_seg_data(&s), "repaired");
    hvct_assert_rc(hvc_seg_consistent(&s), 0);
    hvct_assert_rc(hvc_seg_unlock(&s), 0);
    hvct_assert_rc(hvc_seg_lock(&s), 0);
    hvct_assert_rc(hvc_seg_unlock(&s), 0);

    /* 2: killed while we sleep in lock(): we wake and recover. */
    pid = hvct_fork(child, &c);
    ck_assert_int_eq(read(fds[0], &b, 1), 1);
    hvc_seg_set_spin(&s, 0);
    {
        struct hvc_seg_stats st0;

        hvct_assert_rc(hvc_seg_stats(&a, &s.obj, &st0), 0);
        if (fork() == 0) { /* a killer, once we are asleep in lock() */
            if (await_lock_waiter(&a, &s, st0.contended + 1) != 0)
                _exit(1);
            kill(pid, SIGKILL);
            _exit(0);
        }
    }
    hvct_assert_rc(hvc_seg_lock(&s), HVC_SEG_OWNERDEAD);
    ck_assert_int_eq(hvct_wait(pid), 128 + SIGKILL);
    wait(NULL);
    hvct_assert_rc(hvc_seg_stats(&a, &s.obj, &st), 0);
    ck_assert_uint_eq(st.state, HVC_SEG_INCONSISTENT);
    ck_assert_uint_eq(st.recovered, 2);
    /* 3: unlocked without repair: not recoverable for everyone after. */
    hvct_assert_rc(hvc_seg_unlock(&s), 0);
    hvct_assert_rc(hvc_seg_lock(&s), -HVC_ENOTRECOVERABLE);
    hvct_assert_rc(hvc_seg_trylock(&s), -HVC_ENOTRECOVERABLE);
    close(fds[0]);
    close(fds[1]);
    hvc_seg_close(&s);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(seg_readonly_view_faults)
{
    const char *path = hvct_region_path("segro");
    struct hvc_region a;
    struct hvc_seg s, ro;
    struct sc c = {.path = path, .fd = -1};

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_seg_create(&a, "seg", 5000, &s), 0);
    strcpy(hvc_seg_data(&s), "hello");
    hvct_assert_rc(hvc_seg_open(&a, "seg", HVC_SEG_O_RDONLY, &ro), 0);
    ck_assert_uint_eq(ro.ro_enforced, 1);
    ck_assert_str_eq(hvc_seg_data(&ro), "hello");
    hvct_assert_rc(hvc_seg_close(&ro), 0); /* the view is unmapped (leak check) */
    c.mode = READ_RO;
    ck_assert_int_eq(hvct_wait(hvct_fork(child, &c)), 0);
    c.mode = WRITE_RO;
    ck_assert_int_eq(hvct_wait(hvct_fork(child, &c)), 128 + SIGSEGV);
    ck_assert_str_eq(hvc_seg_data(&s), "hello"); /* not corrupted */
    hvc_seg_close(&s);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(seg_contention)
{
    const char *path = hvct_region_path("segcnt");
    struct hvc_region a;
    struct hvc_seg s;
    struct hvc_seg_stats st;
    struct sc c = {.path = path, .fd = -1, .mode = COUNT, .n = 200000};
    pid_t p1, p2;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_seg_create(&a, "seg", sizeof(long), &s), 0);
    p1 = hvct_fork(child, &c);
    p2 = hvct_fork(child, &c);
    ck_assert_int_eq(hvct_wait(p1), 0);
    ck_assert_int_eq(hvct_wait(p2), 0);
    ck_assert_int_eq(*(long *)hvc_seg_data(&s), 2 * c.n);
    hvct_assert_rc(hvc_seg_stats(&a, &s.obj, &st), 0);
    ck_assert_uint_eq(st.owner, 0);
    ck_assert_uint_eq(st.waiters, 0);
    ck_assert_uint_eq(st.acquired, 2 * c.n);
    printf("segment: %ld locks, %u contended\n", 2 * c.n, st.contended);
    hvc_seg_close(&s);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(seg_corrupt)
{
    const char *path = hvct_region_path("segbad");
    struct hvc_region a;
    struct hvc_seg s, t;
    struct hvc_seg_stats st;

    hvct_format(&a, posix, path, SIZE, 8, 0, "parent");
    hvct_assert_rc(hvc_seg_create(&a, "seg", 64, &s), 0);
    /* a lock word naming a peer beyond the table: recovered, counted */
    s.w->lock = HVC_OWNER(60, 1);
    hvct_assert_rc(hvc_seg_trylock(&s), HVC_SEG_OWNERDEAD);
    hvct_assert_rc(hvc_seg_consistent(&s), 0);
    hvct_assert_rc(hvc_seg_unlock(&s), 0);
    s.w->state = 77;
    hvct_assert_rc(hvc_seg_stats(&a, &s.obj, &st), 0);
    ck_assert_uint_eq(st.valid, 0);
    hvct_assert_rc(hvc_seg_lock(&s), HVC_SEG_OWNERDEAD); /* data untrusted */
    hvct_assert_rc(hvc_seg_consistent(&s), 0);
    hvct_assert_rc(hvc_seg_unlock(&s), 0);
    s.w->data_size = 1u << 30;
    hvct_assert_rc(hvc_seg_open(&a, "seg", 0, &t), -HVC_EPROTO);
    s.w->data_size = 64;
    s.w->magic = 1;
    hvct_assert_rc(hvc_seg_open(&a, "seg", 0, &t), -HVC_EPROTO);
    s.w->magic = 0;
    hvct_assert_rc(hvc_seg_open(&a, "seg", 0, &t), -HVC_ENOTREADY);
    hvc_seg_close(&s);
    hvc_region_detach(&a);
}
END_TEST

int main(void)
{
    if (hvc_platform_posix() == NULL) {
        printf("SKIP: no POSIX backend on this host\n");
        return 77;
    }
    return hvct_main("segment", setup, hvct_leak_teardown, 120,
                     HVCT_TESTS(seg_basic_errors, seg_two_process_lock_timeout_unlock,
                                seg_owner_dead_recovery, seg_readonly_view_faults,
                                seg_contention, seg_corrupt));
}
