/*
 * The backend conformance suite: one program that every platform backend
 * runs, through the dispatch layer only (hvc_platform_*()), checking what
 * platform.h promises: mapping and re-mapping, views, peer ids, liveness
 * tokens, doorbells between two processes, sleeping on a shared word and
 * waking it, the clock, the capability bits, unlink.
 *
 * A backend is described by a fixture (struct backend): how to make a
 * region name, what to expect. To run a new backend here, add one entry to
 * the table at the end. Every check runs for every backend (Check's loop
 * tests); a check whose capability the backend does not claim verifies the
 * documented fallback instead (-HVC_ENOTSUP, polling, a plain pointer).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bellplat.h"

#define SIZE (1u << 20)
#define SEC 1000000000ll
#define DEADLINE (20 * SEC) /* a failure bound, never a synchronisation */

/* Words of the region the checks use to talk between processes. */
#define W_CHILD_ID 0   /* the child's peer id + 1, once mapped */
#define W_CHILD_TOK 16 /* the child's token, two words, then W_CHILD_ID */
#define W_GO 32        /* the parent's go-ahead for the child to exit */
#define W_SLEEP 48     /* the word of the wait_word checks */
#define W_BASE 4096    /* bytes below this in the region are the checks' */

struct backend {
    const char *name;
    const struct hvc_platform *(*ops)(void);
    /* Make the region exist (or the server that serves it); write its name. */
    void (*setup)(char *name, size_t len);
    void (*teardown)(const char *name);
    /* Called in a process before it opens its handle (0 parent, 1 child). */
    void (*before_open)(int who);
    unsigned open_flags; /* flags of the first open (the creator) */
    uint64_t open_size;  /* size of the first open */
    uint32_t nvectors;   /* doorbell vectors the backend delivers */
};

static const struct backend *be;
static char region[128];
static unsigned seq;

/* ---- fixtures ---- */

static void posix_file_setup(char *name, size_t len)
{
    snprintf(name, len, "%s/hvct-conf-%d-%u", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
             (int)getpid(), seq++);
    unlink(name);
}

static void posix_shm_setup(char *name, size_t len)
{
    snprintf(name, len, "/hvct-conf-%d-%u", (int)getpid(), seq++);
    hvc_platform_unlink(hvc_platform_posix(), name);
}

static void posix_teardown(const char *name)
{
    hvc_platform_unlink(hvc_platform_posix(), name);
}

static void bell_teardown(const char *name)
{
    posix_teardown(name);
    hvct_bell_unlink(name);
}

static void bell_before_open(int who)
{
    hvct_bell_self = who;
}

static pid_t server;
static char ivs_dir[64];

static void ivshmem_setup(char *name, size_t len)
{
    char shm[128], size[32];

    strcpy(ivs_dir, "/tmp/hvct-conf-ivs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(ivs_dir));
    snprintf(name, len, "%s/sock", ivs_dir);
    snprintf(shm, sizeof(shm), "%s/shm", ivs_dir);
    snprintf(size, sizeof(size), "%u", SIZE);
    fflush(NULL);
    server = fork();
    ck_assert_int_ge(server, 0);
    if (server == 0) {
        execl(SERVER_BIN, SERVER_BIN, "--socket", name, "--shm", shm, "--size", size,
              "--vectors", "2", "--peers", "8", (char *)NULL);
        _exit(127);
    }
    /* The socket appears once the server listens: a condition, polled. */
    for (unsigned long long t0 = hvct_now_ns();;) {
        struct stat sb;

        if (stat(name, &sb) == 0)
            break;
        ck_assert_msg(hvct_now_ns() - t0 < (unsigned long long)DEADLINE,
                      "server did not create %s", name);
        ck_assert_int_eq(waitpid(server, NULL, WNOHANG), 0);
        sched_yield();
    }
}

static void ivshmem_teardown(const char *name)
{
    char shm[160];

    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    server = 0;
    unlink(name);
    snprintf(shm, sizeof(shm), "%s/shm", ivs_dir);
    unlink(shm);
    rmdir(ivs_dir);
}

static void no_before_open(int who)
{
    (void)who;
}

static const struct backend backends[] = {
    {"posix (file)", hvc_platform_posix, posix_file_setup, posix_teardown, no_before_open,
     HVC_MAP_CREATE, SIZE, 0},
    {"posix (shm)", hvc_platform_posix, posix_shm_setup, posix_teardown, no_before_open,
     HVC_MAP_CREATE, SIZE, 0},
    {"posix+bells (test doorbells)", hvct_bell_platform, posix_file_setup, bell_teardown,
     bell_before_open, HVC_MAP_CREATE, SIZE, 1},
    {"ivshmem host", hvc_platform_ivshmem_host, ivshmem_setup, ivshmem_teardown,
     no_before_open, 0, 0, 2},
};
#define NBACKENDS ((int)(sizeof(backends) / sizeof(backends[0])))

static void setup_backend(int i)
{
    be = &backends[i];
    hvct_leak_setup();
    be->setup(region, sizeof(region));
}

static void teardown_backend(void)
{
    be->teardown(region);
    hvct_leak_teardown();
}

/* Open the region as process `who` (0: the creator, 1: a second peer). */
static void open_as(struct hvc_platform_handle *h, int who)
{
    be->before_open(who);
    hvct_assert_rc(hvc_platform_open(h, be->ops(), region, who == 0 ? be->open_size : 0,
                                     who == 0 ? be->open_flags : 0),
                   0);
}

static uint32_t *word(struct hvc_platform_handle *h, uint32_t off)
{
    return (uint32_t *)(void *)((uint8_t *)h->base + off);
}

/* Wait, bounded, until *w != v; fails the test at the deadline. */
static uint32_t await_change(const uint32_t *w, uint32_t v, const char *what)
{
    unsigned long long t0 = hvct_now_ns();
    uint32_t x;

    while ((x = __atomic_load_n(w, __ATOMIC_ACQUIRE)) == v) {
        ck_assert_msg(hvct_now_ns() - t0 < (unsigned long long)DEADLINE, "timed out: %s", what);
        sched_yield();
    }
    return x;
}

/* ---- the checks ---- */

START_TEST(table_is_valid)
{
    const struct hvc_platform *ops;

    setup_backend(_i);
    ops = be->ops();
    ck_assert_ptr_nonnull(ops);
    hvct_assert_rc(hvc_platform_check(ops), 0);
    ck_assert_ptr_nonnull(ops->name);
    ck_assert_uint_le(ops->state_size, HVC_PLATFORM_STATE_MAX);
    teardown_backend();
}
END_TEST

START_TEST(map_and_remap)
{
    struct hvc_platform_handle a, b;

    setup_backend(_i);
    open_as(&a, 0);
    ck_assert_ptr_nonnull(a.base);
    ck_assert_uint_ge(a.size, SIZE);
    ck_assert_uint_eq((uintptr_t)a.base % HVC_CACHELINE, 0);
    ck_assert_ptr_eq(a.ops, be->ops());
    memset((uint8_t *)a.base + W_BASE, 0x5a, 4096);
    open_as(&b, 1);
    ck_assert_uint_eq(b.size, a.size);
    ck_assert_msg(memcmp((uint8_t *)b.base + W_BASE, (uint8_t *)a.base + W_BASE, 4096) == 0,
                  "a second mapping does not see the first one's writes");
    ((uint8_t *)b.base)[a.size - 1] = 0xa5;
    ck_assert_uint_eq(((uint8_t *)a.base)[a.size - 1], 0xa5);
    hvct_assert_rc(hvc_platform_close(&b), 0);
    ck_assert_ptr_null(b.ops);
    hvct_assert_rc(hvc_platform_close(&b), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_close(&a), 0);
    teardown_backend();
}
END_TEST

START_TEST(bad_names_and_args)
{
    struct hvc_platform_handle h;
    char missing[192];

    setup_backend(_i);
    snprintf(missing, sizeof(missing), "%s.missing", region);
    if (missing[0] == '/' && strchr(missing + 1, '/') == NULL)
        snprintf(missing, sizeof(missing), "/hvct-conf-none-%d", (int)getpid());
    hvct_assert_rc(hvc_platform_open(&h, be->ops(), missing, 0, 0), -HVC_ENOENT);
    hvct_assert_rc(hvc_platform_open(NULL, be->ops(), region, 0, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_open(&h, be->ops(), NULL, 0, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_open(&h, NULL, region, 0, 0), -HVC_EINVAL);
    teardown_backend();
}
END_TEST

START_TEST(caps_match_the_table)
{
    struct hvc_platform_handle h;
    const struct hvc_platform *ops;
    uint32_t caps, table = 0;

    setup_backend(_i);
    open_as(&h, 0);
    ops = h.ops;
    caps = hvc_platform_caps(&h);
    table |= ops->notify ? HVC_CAP_NOTIFY : 0;
    table |= ops->wait_notify ? HVC_CAP_WAIT_NOTIFY : 0;
    table |= ops->wait_word ? HVC_CAP_WAIT_WORD : 0;
    table |= ops->peer_alive ? HVC_CAP_LIVENESS : 0;
    table |= ops->map_view && h.page_size != 0 ? HVC_CAP_VIEWS : 0;
    table |= ops->self_id ? HVC_CAP_SELF_ID : 0;
    ck_assert_msg((caps & ~table) == 0, "caps 0x%x promise more than the table 0x%x", caps,
                  table);
    if (be->nvectors != 0)
        ck_assert_msg((caps & (HVC_CAP_NOTIFY | HVC_CAP_WAIT_NOTIFY)) ==
                          (HVC_CAP_NOTIFY | HVC_CAP_WAIT_NOTIFY),
                      "a doorbell backend without both doorbell caps");
    /* Version 2: a backend's extras go through control; an op it does not
     * know is "not supported", never a crash or another backend's answer. */
    ck_assert_int_ge(ops->version, 2);
    ck_assert_uint_eq(ops->reserved_v2, 0);
    hvct_assert_rc(hvc_platform_control(&h, HVC_PLATFORM_OP_USER + 0x1234u, NULL),
                   -HVC_ENOTSUP);
    if (ops == hvc_platform_ivshmem_host())
        hvct_assert_rc(hvc_ivshmem_mode(&h), HVC_IVSHMEM_HOST);
    else if (ops != hvc_platform_ivshmem_guest())
        hvct_assert_rc(hvc_ivshmem_mode(&h), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_control(NULL, HVC_PLATFORM_OP_IVSHMEM_MODE, NULL),
                   -HVC_EINVAL);
    hvc_platform_close(&h);
    ck_assert_uint_eq(hvc_platform_caps(&h), 0);
    hvct_assert_rc(hvc_platform_control(&h, HVC_PLATFORM_OP_IVSHMEM_MODE, NULL), -HVC_EINVAL);
    teardown_backend();
}
END_TEST

START_TEST(views)
{
    struct hvc_platform_handle h;
    void *v;
    int rc;

    setup_backend(_i);
    open_as(&h, 0);
    memset((uint8_t *)h.base + W_BASE, 0x3c, 64);
    hvct_assert_rc(hvc_platform_map_view(&h, h.size, 4096, HVC_MAP_RDONLY, &v), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_map_view(&h, 0, 0, HVC_MAP_RDONLY, &v), -HVC_EINVAL);
    rc = hvc_platform_map_view(&h, W_BASE, 4096, HVC_MAP_RDONLY, &v);
    if (hvc_platform_caps(&h) & HVC_CAP_VIEWS) {
        pid_t pid;
        int status;

        hvct_assert_rc(rc, 1);
        ck_assert_ptr_ne(v, (uint8_t *)h.base + W_BASE);
        ck_assert_uint_eq(((uint8_t *)v)[0], 0x3c);
        ((uint8_t *)h.base)[W_BASE] = 0x11; /* the same memory */
        ck_assert_uint_eq(((volatile uint8_t *)v)[0], 0x11);
        /* Read-only is enforced: a write through the view faults. */
        fflush(NULL);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            signal(SIGSEGV, SIG_DFL); /* not a sanitizer's report: the fault itself */
            ((volatile uint8_t *)v)[0] = 1;
            _exit(0);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                      "a write through a read-only view did not fault");
        hvct_assert_rc(hvc_platform_unmap_view(&h, v, 4096), 0);
        hvct_assert_rc(hvc_platform_map_view(&h, 1, 4096, HVC_MAP_RDONLY, &v), -HVC_EINVAL);
        /* A writable view writes the region. */
        hvct_assert_rc(hvc_platform_map_view(&h, W_BASE, 4096, 0, &v), 1);
        ((volatile uint8_t *)v)[1] = 0x22;
        ck_assert_uint_eq(((volatile uint8_t *)h.base)[W_BASE + 1], 0x22);
        hvct_assert_rc(hvc_platform_unmap_view(&h, v, 4096), 0);
    } else {
        /* The fallback: a pointer into the main mapping. */
        hvct_assert_rc(rc, 0);
        ck_assert_ptr_eq(v, (uint8_t *)h.base + W_BASE);
    }
    hvct_assert_rc(hvc_platform_unmap_view(&h, NULL, 4096), -HVC_EINVAL);
    hvc_platform_close(&h);
    teardown_backend();
}
END_TEST

/* Child of the id/token/doorbell checks: open as peer 1, publish id and
 * token, optionally wait for one doorbell (its vector + 1 is the exit
 * code), then wait for the parent's go-ahead. */
struct child_args {
    int wait_bell;
};

static int child_peer(void *arg)
{
    const struct child_args *ca = arg;
    struct hvc_platform_handle h;
    uint64_t tok = 0;
    uint32_t vec = 0;
    int id, code = 0;

    be->before_open(1);
    if (hvc_platform_open(&h, be->ops(), region, 0, 0) < 0)
        return 100;
    id = hvc_platform_self_id(&h);
    if (hvc_platform_self_token(&h, &tok) != 0)
        return 101;
    __atomic_store_n(word(&h, W_CHILD_TOK), (uint32_t)tok, __ATOMIC_RELAXED);
    __atomic_store_n(word(&h, W_CHILD_TOK + 4), (uint32_t)(tok >> 32), __ATOMIC_RELAXED);
    __atomic_store_n(word(&h, W_CHILD_ID), id >= 0 ? (uint32_t)id + 1u : 0xffffffffu,
                     __ATOMIC_RELEASE);
    if (ca->wait_bell) {
        int rc = hvc_platform_wait_notify(&h, DEADLINE, &vec);

        code = rc == 0 ? (int)vec + 1 : 102;
        if (rc != 0)
            fprintf(stderr, "child: wait_notify: %s\n", hvc_errname(rc));
    }
    /* Stay until the parent has seen what it needs (liveness checks). */
    await_change(word(&h, W_GO), 0, "parent's go-ahead");
    hvc_platform_close(&h);
    return code;
}

START_TEST(ids_and_tokens)
{
    struct child_args ca = {0};
    struct hvc_platform_handle h;
    uint64_t tok = 1, tok2 = 2, ctok;
    int id, cid, alive;
    uint32_t w;
    pid_t pid;

    setup_backend(_i);
    open_as(&h, 0);
    id = hvc_platform_self_id(&h);
    if (hvc_platform_caps(&h) & HVC_CAP_SELF_ID)
        ck_assert_int_ge(id, 0);
    else
        hvct_assert_rc(id, -HVC_ENOTSUP);
    hvct_assert_rc(hvc_platform_self_token(&h, &tok), 0);
    hvct_assert_rc(hvc_platform_self_token(&h, &tok2), 0);
    ck_assert_msg(tok == tok2, "the token changed between two calls");
    hvct_assert_rc(hvc_platform_self_token(&h, NULL), -HVC_EINVAL);
    /* Tokens name their issuer: a backend that can judge liveness has a
     * namespace, and is never asked about a token of another one. */
    if (hvc_platform_caps(&h) & HVC_CAP_LIVENESS)
        ck_assert_uint_ne(hvc_platform_token_ns(&h), HVC_TOKEN_NS_NONE);
    if (tok != 0) {
        uint32_t ns = hvc_platform_token_ns(&h);

        hvct_assert_rc(hvc_platform_token_alive(&h, 0, ns + 1u, tok), -HVC_ENOTSUP);
        hvct_assert_rc(hvc_platform_token_alive(&h, 0, HVC_TOKEN_NS_NONE, tok), -HVC_ENOTSUP);
    }
    hvct_assert_rc(hvc_platform_token_alive(&h, 0, hvc_platform_token_ns(&h), 0), -HVC_ENOTSUP);

    pid = hvct_fork(child_peer, &ca);
    w = await_change(word(&h, W_CHILD_ID), 0, "child mapped");
    ctok = (uint64_t)*word(&h, W_CHILD_TOK + 4) << 32 | *word(&h, W_CHILD_TOK);
    cid = w == 0xffffffffu ? -1 : (int)w - 1;
    if (id >= 0) {
        ck_assert_int_ge(cid, 0);
        ck_assert_int_ne(cid, id); /* two peers, two ids */
    }
    if (tok != 0)
        ck_assert_msg(ctok != tok, "two peers have the same token");
    if ((hvc_platform_caps(&h) & HVC_CAP_LIVENESS) && tok != 0 && ctok != 0) {
        uint32_t peer = cid >= 0 ? (uint32_t)cid : 1u;
        unsigned long long t0;

        hvct_assert_rc(hvc_platform_peer_alive(&h, id >= 0 ? (uint32_t)id : 0u, tok), 1);
        hvct_assert_rc(hvc_platform_peer_alive(&h, peer, ctok), 1);
        hvct_assert_rc(hvc_platform_token_alive(&h, peer, hvc_platform_token_ns(&h), ctok), 1);
        __atomic_store_n(word(&h, W_GO), 1, __ATOMIC_RELEASE);
        ck_assert_int_eq(hvct_wait(pid), 0);
        /* The platform learns of the death: bounded, not timed. */
        t0 = hvct_now_ns();
        while ((alive = hvc_platform_peer_alive(&h, peer, ctok)) == 1) {
            ck_assert_msg(hvct_now_ns() - t0 < (unsigned long long)DEADLINE,
                          "a dead peer stays alive");
            sched_yield();
        }
        hvct_assert_rc(alive, 0);
    } else {
        if (!(hvc_platform_caps(&h) & HVC_CAP_LIVENESS))
            hvct_assert_rc(hvc_platform_peer_alive(&h, 0, tok), -HVC_ENOTSUP);
        __atomic_store_n(word(&h, W_GO), 1, __ATOMIC_RELEASE);
        ck_assert_int_eq(hvct_wait(pid), 0);
    }
    hvc_platform_close(&h);
    teardown_backend();
}
END_TEST

START_TEST(doorbells)
{
    struct child_args ca = {.wait_bell = 1};
    struct hvc_platform_handle h;
    uint32_t vec, w, vector;
    unsigned long long t0;
    pid_t pid;
    int rc;

    setup_backend(_i);
    open_as(&h, 0);
    if (!(hvc_platform_caps(&h) & HVC_CAP_NOTIFY)) {
        hvct_assert_rc(hvc_platform_notify(&h, 0, 0), -HVC_ENOTSUP);
        if (!(hvc_platform_caps(&h) & HVC_CAP_WAIT_NOTIFY))
            hvct_assert_rc(hvc_platform_wait_notify(&h, 0, &vec), -HVC_ENOTSUP);
        hvc_platform_close(&h);
        teardown_backend();
        return;
    }
    /* Nothing rang: a poll and a short wait both time out. */
    hvct_assert_rc(hvc_platform_wait_notify(&h, 0, &vec), -HVC_ETIMEDOUT);
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_platform_wait_notify(&h, 20000000, &vec), -HVC_ETIMEDOUT);
    ck_assert_uint_ge(hvct_now_ns() - t0, 20000000ull);
    hvct_assert_rc(hvc_platform_wait_notify(&h, -2, &vec), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_wait_notify(&h, 0, NULL), -HVC_EINVAL);

    /* One ring to the child, on the highest vector the backend has. The
     * doorbell latches: it may ring before the child waits. */
    vector = be->nvectors - 1;
    pid = hvct_fork(child_peer, &ca);
    w = await_change(word(&h, W_CHILD_ID), 0, "child mapped");
    ck_assert_uint_ne(w, 0xffffffffu); /* doorbells need peer ids */
    t0 = hvct_now_ns();
    while ((rc = hvc_platform_notify(&h, w - 1, vector)) == -HVC_EPEERGONE) {
        /* the server has not told us of the child yet */
        ck_assert_msg(hvct_now_ns() - t0 < (unsigned long long)DEADLINE, "child never listed");
        sched_yield();
    }
    hvct_assert_rc(rc, 0);
    __atomic_store_n(word(&h, W_GO), 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(hvct_wait(pid), (int)vector + 1);
    hvc_platform_close(&h);
    teardown_backend();
}
END_TEST

struct sleeper {
    struct hvc_platform_handle *h;
    uint32_t *w;
    pid_t tid;
    int rc;
    unsigned long long ns;
};

static void *sleep_on_word(void *arg)
{
    struct sleeper *s = arg;
    unsigned long long t0 = hvct_now_ns();

    __atomic_store_n(&s->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    s->rc = hvc_platform_wait_word(s->h, s->w, 0, DEADLINE);
    s->ns = hvct_now_ns() - t0;
    return NULL;
}

/* Is thread tid of this process blocked in the kernel (state S)? */
static int thread_sleeps(pid_t tid)
{
    char path[64], buf[256], *p;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] == 'S';
}

START_TEST(wait_and_wake_word)
{
    struct hvc_platform_handle h;
    struct sleeper s = {0};
    unsigned long long t0;
    pthread_t t;
    uint32_t *w, outside = 0;

    setup_backend(_i);
    open_as(&h, 0);
    w = word(&h, W_SLEEP);
    __atomic_store_n(w, 0, __ATOMIC_RELEASE);
    /* Not the expected value: at once. Expected value: the timeout. */
    hvct_assert_rc(hvc_platform_wait_word(&h, w, 7, DEADLINE), 0);
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_platform_wait_word(&h, w, 0, 30000000), -HVC_ETIMEDOUT);
    ck_assert_uint_ge(hvct_now_ns() - t0, 30000000ull);
    hvct_assert_rc(hvc_platform_wait_word(&h, w, 0, 0), -HVC_ETIMEDOUT);
    hvct_assert_rc(hvc_platform_wait_word(&h, &outside, 0, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_wait_word(&h, w, 0, -2), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_wake_word(&h, &outside, 1), -HVC_EINVAL);

    /* A sleeper is woken by the change plus wake_word, long before its
     * deadline. Where the backend really sleeps, wait until the thread is
     * blocked in the kernel first, so the wake-up itself is what is tested. */
    s.h = &h;
    s.w = w;
    ck_assert_int_eq(pthread_create(&t, NULL, sleep_on_word, &s), 0);
    t0 = hvct_now_ns();
    while (__atomic_load_n(&s.tid, __ATOMIC_ACQUIRE) == 0)
        sched_yield();
    if (hvc_platform_caps(&h) & HVC_CAP_WAIT_WORD)
        while (!thread_sleeps(s.tid)) {
            ck_assert_msg(hvct_now_ns() - t0 < (unsigned long long)DEADLINE, "never slept");
            sched_yield();
        }
    __atomic_store_n(w, 1, __ATOMIC_RELEASE);
    hvct_assert_rc(hvc_platform_wake_word(&h, w, 1), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    hvct_assert_rc(s.rc, 0);
    ck_assert_msg(s.ns < (unsigned long long)DEADLINE / 2, "woken only by its timeout");
    hvc_platform_close(&h);
    teardown_backend();
}
END_TEST

START_TEST(monotonic_clock)
{
    struct hvc_platform_handle h;
    uint64_t a, b;

    setup_backend(_i);
    ck_assert_uint_eq(hvc_platform_now(NULL), 0);
    open_as(&h, 0);
    a = hvc_platform_now(&h);
    for (int i = 0; i < 1000; i++) {
        b = hvc_platform_now(&h);
        ck_assert_uint_ge(b, a);
        a = b;
    }
    /* It advances with real time (the wait is a timeout, not a sync). */
    hvc_platform_wait_word(&h, word(&h, W_SLEEP), *word(&h, W_SLEEP), 10000000);
    ck_assert_uint_ge(hvc_platform_now(&h) - a, 10000000ull);
    hvc_platform_close(&h);
    teardown_backend();
}
END_TEST

START_TEST(unlink_region)
{
    struct hvc_platform_handle h;
    int rc;

    setup_backend(_i);
    hvct_assert_rc(hvc_platform_unlink(be->ops(), NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_unlink(NULL, region), -HVC_EINVAL);
    if (be->open_flags & HVC_MAP_CREATE) {
        open_as(&h, 0);
        hvc_platform_close(&h);
    }
    rc = hvc_platform_unlink(be->ops(), region);
    if (rc != -HVC_ENOTSUP) {
        hvct_assert_rc(rc, 0);
        hvct_assert_rc(hvc_platform_open(&h, be->ops(), region, 0, 0), -HVC_ENOENT);
        hvct_assert_rc(hvc_platform_unlink(be->ops(), region), -HVC_ENOENT);
    }
    teardown_backend();
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *s;

    s = hvct_suite("platform conformance", NULL, NULL, 120,
                   HVCT_TESTS(NULL), &tc);
    tcase_add_loop_test(tc, table_is_valid, 0, NBACKENDS);
    tcase_add_loop_test(tc, map_and_remap, 0, NBACKENDS);
    tcase_add_loop_test(tc, bad_names_and_args, 0, NBACKENDS);
    tcase_add_loop_test(tc, caps_match_the_table, 0, NBACKENDS);
    tcase_add_loop_test(tc, views, 0, NBACKENDS);
    tcase_add_loop_test(tc, ids_and_tokens, 0, NBACKENDS);
    tcase_add_loop_test(tc, doorbells, 0, NBACKENDS);
    tcase_add_loop_test(tc, wait_and_wake_word, 0, NBACKENDS);
    tcase_add_loop_test(tc, monotonic_clock, 0, NBACKENDS);
    tcase_add_loop_test(tc, unlink_region, 0, NBACKENDS);
    return hvct_run(s);
}
