/* The dispatch layer and the POSIX backend. */
#define _GNU_SOURCE
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a minimal backend: static memory, a clock, nothing else ---- */

static _Alignas(64) uint8_t static_mem[16384];
static uint64_t fake_clock;

static int mini_map(const struct hvc_platform *p, void *state, const char *name,
                    uint64_t size, unsigned flags, struct hvc_mapping *out)
{
    (void)p;
    (void)state;
    (void)name;
    (void)flags;
    if (size > sizeof(static_mem))
        return -HVC_ENOMEM;
    out->base = static_mem;
    out->size = sizeof(static_mem);
    return 0;
}

static int mini_unmap(const struct hvc_platform *p, void *state)
{
    (void)p;
    (void)state;
    return 0;
}

static uint64_t mini_now(const struct hvc_platform *p)
{
    (void)p;
    return fake_clock += 1000000; /* 1 ms per look */
}

static const struct hvc_platform mini = {
    .version = 1, .name = "mini", .map = mini_map, .unmap = mini_unmap, .now_ns = mini_now,
};

START_TEST(check_rejects_bad_tables)
{
    struct hvc_platform p = mini;

    hvct_assert_rc(hvc_platform_check(&mini), 0);
    hvct_assert_rc(hvc_platform_check(NULL), -HVC_EINVAL);
    p.version = 0;
    hvct_assert_rc(hvc_platform_check(&p), -HVC_EVERSION);
    p = mini;
    p.map = NULL;
    hvct_assert_rc(hvc_platform_check(&p), -HVC_EINVAL);
    p = mini;
    p.now_ns = NULL;
    hvct_assert_rc(hvc_platform_check(&p), -HVC_EINVAL);
    p = mini;
    p.state_size = HVC_PLATFORM_STATE_MAX + 1;
    hvct_assert_rc(hvc_platform_check(&p), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_check(hvc_platform_posix()), 0);
}
END_TEST

START_TEST(fallbacks_of_a_minimal_backend)
{
    struct hvc_platform_handle h;
    uint32_t *word = (uint32_t *)(void *)static_mem + 100, vector, outside = 0;
    uint64_t token = 99;
    void *view;

    hvct_assert_rc(hvc_platform_open(&h, &mini, "any", 0, 0), 0);
    hvct_assert_rc(hvc_platform_self_id(&h), -HVC_ENOTSUP);
    hvct_assert_rc(hvc_platform_self_token(&h, &token), 0);
    ck_assert_uint_eq(token, 0);
    hvct_assert_rc(hvc_platform_peer_alive(&h, 1, 5), -HVC_ENOTSUP);
    hvct_assert_rc(hvc_platform_notify(&h, 1, 0), -HVC_ENOTSUP);
    hvct_assert_rc(hvc_platform_wait_notify(&h, 0, &vector), -HVC_ENOTSUP);
    hvct_assert_rc(hvc_platform_unlink(&mini, "any"), -HVC_ENOTSUP);
    /* wait_word polls: the word differs at once, or time runs out. */
    *word = 7;
    hvct_assert_rc(hvc_platform_wait_word(&h, word, 6, HVC_FOREVER), 0);
    hvct_assert_rc(hvc_platform_wait_word(&h, word, 7, 50000000), -HVC_ETIMEDOUT);
    hvct_assert_rc(hvc_platform_wake_word(&h, word, 1), 0);
    /* Words outside the mapping are refused, not touched. */
    hvct_assert_rc(hvc_platform_wait_word(&h, &outside, 0, 0), -HVC_EINVAL);
    /* map_view: a plain pointer, protection not enforced. */
    hvct_assert_rc(hvc_platform_map_view(&h, 4096, 4096, HVC_MAP_RDONLY, &view), 0);
    ck_assert_ptr_eq(view, static_mem + 4096);
    hvct_assert_rc(hvc_platform_unmap_view(&h, view, 4096), 0);
    hvct_assert_rc(hvc_platform_map_view(&h, 16384, 1, 0, &view), -HVC_EINVAL);
    hvc_platform_cache_clean(&h, static_mem, 64);
    hvc_platform_cache_invalidate(&h, static_mem, 64);
    hvct_assert_rc(hvc_platform_close(&h), 0);
    hvct_assert_rc(hvc_platform_close(&h), -HVC_EINVAL);
}
END_TEST

static int fake_notify(const struct hvc_platform *p, void *state, uint32_t peer, uint32_t vector)
{
    (void)p;
    (void)state;
    (void)peer;
    (void)vector;
    return 0;
}

static int fake_wait_notify(const struct hvc_platform *p, void *state, int64_t timeout_ns,
                            uint32_t *vector)
{
    (void)p;
    (void)state;
    (void)timeout_ns;
    *vector = 0;
    return 0;
}

/* Like an ivshmem guest without VFIO: can ring, cannot receive. */
static uint32_t ring_only_caps(const struct hvc_platform *p, void *state)
{
    (void)p;
    (void)state;
    return HVC_CAP_NOTIFY | HVC_CAP_VIEWS; /* VIEWS is not in the table: ignored */
}

START_TEST(caps_from_table_and_backend)
{
    struct hvc_platform bells = mini;
    struct hvc_platform_handle h;
    const char *path = hvct_region_path("caps");

    hvct_assert_rc(hvc_platform_open(&h, &mini, "any", 0, 0), 0);
    ck_assert_uint_eq(hvc_platform_caps(&h), 0);
    hvc_platform_close(&h);
    ck_assert_uint_eq(hvc_platform_caps(&h), 0);

    bells.notify = fake_notify;
    bells.wait_notify = fake_wait_notify;
    hvct_assert_rc(hvc_platform_open(&h, &bells, "any", 0, 0), 0);
    ck_assert_uint_eq(hvc_platform_caps(&h), HVC_CAP_NOTIFY | HVC_CAP_WAIT_NOTIFY);
    hvc_platform_close(&h);
    bells.caps = ring_only_caps;
    hvct_assert_rc(hvc_platform_open(&h, &bells, "any", 0, 0), 0);
    ck_assert_uint_eq(hvc_platform_caps(&h), HVC_CAP_NOTIFY);
    hvc_platform_close(&h);

    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), path, 4096, HVC_MAP_CREATE), 0);
    ck_assert_uint_eq(hvc_platform_caps(&h), HVC_CAP_WAIT_WORD | HVC_CAP_LIVENESS | HVC_CAP_VIEWS);
    hvc_platform_close(&h);
}
END_TEST

START_TEST(region_on_a_minimal_backend)
{
    struct hvc_region r;
    struct hvc_region_config cfg = {.size = 0, .max_peers = 2, .max_objects = 4};
    struct hvc_obj_spec spec = {.name = "x", .type = HVC_OBJ_RAW, .size = 64,
                                .writer = HVC_PEER_ANY};
    struct hvc_obj o;

    /* Regions, peers and objects work with only map, unmap and a clock. */
    hvct_assert_rc(hvc_region_format(&r, &mini, "static", &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "bare"), 0);
    hvct_assert_rc(hvc_obj_create(&r, &spec, &o), 0);
    ck_assert_ptr_eq(o.ptr, static_mem + o.offset);
    hvct_assert_rc(hvc_peer_scan(&r, 0), 0);
    hvct_assert_rc(hvc_region_detach(&r), 0);
}
END_TEST

/* ---- POSIX: futex waits between processes ---- */

struct futex_args {
    const char *path;
};

static int child_waker(void *arg)
{
    struct futex_args *a = arg;
    struct hvc_platform_handle h;
    uint32_t *word;

    if (hvc_platform_open(&h, hvc_platform_posix(), a->path, 0, 0) < 0)
        return 1;
    word = h.base;
    /* Wake the parent once it sleeps (its state in /proc says so; an
     * observable condition, 10 s a failure bound). Were it not asleep yet,
     * its wait would see the new value and return at once: correct too,
     * only the sleeping path would go untested. */
    {
        unsigned long long t0 = hvct_now_ns();
        char fn[64], buf[512];

        snprintf(fn, sizeof(fn), "/proc/%d/stat", (int)getppid());
        for (;;) {
            FILE *f = fopen(fn, "r");
            size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
            const char *rp;

            if (f != NULL)
                fclose(f);
            buf[n] = '\0';
            rp = strrchr(buf, ')');
            if (rp != NULL && rp[1] == ' ' && rp[2] == 'S')
                break;
            if (hvct_now_ns() - t0 > 10000000000ull)
                return 3;
            usleep(100);
        }
    }
    __atomic_store_n(word, 1, __ATOMIC_RELEASE);
    if (hvc_platform_wake_word(&h, word, 1) < 0)
        return 2;
    hvc_platform_close(&h);
    return 0;
}

START_TEST(posix_futex_across_processes)
{
    const char *path = hvct_region_path("futex");
    struct futex_args a = {.path = path};
    struct hvc_platform_handle h;
    unsigned long long t0;
    uint32_t *word;
    pid_t pid;

    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), path, 4096, HVC_MAP_CREATE), 0);
    word = h.base;
    t0 = hvct_now_ns();
    hvct_assert_rc(hvc_platform_wait_word(&h, word, 0, 20000000), -HVC_ETIMEDOUT);
    ck_assert_uint_ge(hvct_now_ns() - t0, 19000000ull);
    hvct_assert_rc(hvc_platform_wait_word(&h, word, 0, 0), -HVC_ETIMEDOUT);
    pid = hvct_fork(child_waker, &a);
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
        ck_assert_int_ge(hvc_platform_wait_word(&h, word, 0, 5000000000ll), 0);
    ck_assert_int_eq(hvct_wait(pid), 0);
    hvct_assert_rc(hvc_platform_wait_word(&h, word, 0, 0), 0);
    hvct_assert_rc(hvc_platform_close(&h), 0);
}
END_TEST

static int child_write_view(void *arg)
{
    volatile uint8_t *p = arg;

    signal(SIGSEGV, SIG_DFL); /* not the sanitizer's handler: die of it */
    p[0] = 1; /* must fault */
    return 0;
}

START_TEST(posix_read_only_view_enforced)
{
    const char *path = hvct_region_path("view");
    struct hvc_platform_handle h;
    uint8_t *rw;
    void *ro;

    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), path, 3 * 4096, HVC_MAP_CREATE), 0);
    ck_assert_uint_eq(h.page_size, (uint32_t)sysconf(_SC_PAGESIZE));
    rw = h.base;
    ck_assert_int_eq(hvc_platform_map_view(&h, 4096, 4096, HVC_MAP_RDONLY, &ro), 1);
    rw[4096] = 42;
    ck_assert_int_eq(((volatile uint8_t *)ro)[0], 42);
    ck_assert_int_eq(hvct_wait(hvct_fork(child_write_view, ro)), 128 + SIGSEGV);
    hvct_assert_rc(hvc_platform_map_view(&h, 100, 4096, HVC_MAP_RDONLY, &ro), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_unmap_view(&h, ro, 4096), 0);
    hvct_assert_rc(hvc_platform_close(&h), 0);
}
END_TEST

START_TEST(posix_errors)
{
    struct hvc_platform_handle h;
    const char *path = hvct_region_path("perr");

    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), path, 0, 0), -HVC_ENOENT);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), path, 4096, HVC_MAP_CREATE), 0);
    hvc_platform_close(&h);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), path, 4096,
                                     HVC_MAP_CREATE | HVC_MAP_EXCL), -HVC_EEXIST);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), "/proc/no/such/dir/x", 4096,
                                     HVC_MAP_CREATE), -HVC_ENOENT);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), path, 0,
                                     HVC_MAP_CREATE), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), "", 4096, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_open(NULL, hvc_platform_posix(), path, 0, 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_unlink(hvc_platform_posix(), path), 0);
}
END_TEST

/* NAME@OFFSET: a window of a file (guest RAM of memory-backend-file). */
START_TEST(posix_offset_window)
{
    const char *path = hvct_region_path("window");
    long pg = sysconf(_SC_PAGESIZE);
    struct hvc_platform_handle whole, h;
    char name[512];
    uint8_t *file;
    void *v;

    hvct_assert_rc(hvc_platform_open(&whole, hvc_platform_posix(), path, 8 * (uint64_t)pg,
                                     HVC_MAP_CREATE), 0);
    file = whole.base;
    for (long i = 0; i < 8 * pg; i++)
        file[i] = (uint8_t)(i / pg);

    /* The rest of the file from page 2, in hex. */
    snprintf(name, sizeof(name), "%s@%#lx", path, 2 * pg);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 0, 0), 0);
    ck_assert_uint_eq(h.size, 6 * (uint64_t)pg);
    ck_assert_uint_eq(((uint8_t *)h.base)[0], 2);
    ck_assert_uint_eq(((uint8_t *)h.base)[h.size - 1], 7);
    ((uint8_t *)h.base)[1] = 0xaa; /* the same file bytes */
    ck_assert_uint_eq(file[2 * pg + 1], 0xaa);
    /* Views are relative to the offset. */
    ck_assert_int_eq(hvc_platform_map_view(&h, (uint64_t)pg, (uint64_t)pg, HVC_MAP_RDONLY, &v), 1);
    ck_assert_uint_eq(((uint8_t *)v)[0], 3);
    hvct_assert_rc(hvc_platform_unmap_view(&h, v, (uint64_t)pg), 0);
    hvct_assert_rc(hvc_platform_map_view(&h, 6 * (uint64_t)pg, (uint64_t)pg, 0, &v), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_close(&h), 0);

    /* A given size, in decimal. */
    snprintf(name, sizeof(name), "%s@%ld", path, 5 * pg);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, (uint64_t)pg, 0), 0);
    ck_assert_uint_eq(h.size, (uint64_t)pg);
    ck_assert_uint_eq(((uint8_t *)h.base)[0], 5);
    hvct_assert_rc(hvc_platform_close(&h), 0);
    /* Past the end without create; with create the file grows. */
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 4 * (uint64_t)pg, 0),
                   -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 4 * (uint64_t)pg,
                                     HVC_MAP_CREATE), 0);
    ck_assert_uint_eq(((uint8_t *)h.base)[0], 5);
    ck_assert_uint_eq(((uint8_t *)h.base)[3 * pg], 0);
    hvct_assert_rc(hvc_platform_close(&h), 0);

    /* Bad offsets. */
    snprintf(name, sizeof(name), "%s@%ld", path, pg + 1);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 0, 0), -HVC_EINVAL);
    snprintf(name, sizeof(name), "%s@0x1000zz", path);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 0, 0), -HVC_EINVAL);
    snprintf(name, sizeof(name), "%s@%ld", path, 9 * pg);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 0, 0), -HVC_EINVAL);
    snprintf(name, sizeof(name), "%s@99999999999999999999999", path);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 0, 0), -HVC_EINVAL);
    snprintf(name, sizeof(name), "%s@0x8000000000000000", path);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 0, 0), -HVC_EOVERFLOW);
    snprintf(name, sizeof(name), "%s@0x7ffffffffffff000", path);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 0x2000, 0), -HVC_EOVERFLOW);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), "@4096", 0, 0), -HVC_EINVAL);
    /* A window is not unlinked (the file is someone's RAM); a '@' not
     * followed by a digit is part of the path. */
    snprintf(name, sizeof(name), "%s@%ld", path, pg);
    hvct_assert_rc(hvc_platform_unlink(hvc_platform_posix(), name), -HVC_ENOTSUP);
    snprintf(name, sizeof(name), "%s@x", path);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_posix(), name, 0, 0), -HVC_ENOENT);
    hvct_assert_rc(hvc_platform_close(&whole), 0);
    hvct_assert_rc(hvc_platform_unlink(hvc_platform_posix(), path), 0);
}
END_TEST

static Suite *platform_suite(void)
{
    return hvct_suite("platform", hvct_leak_setup, hvct_leak_teardown, 0,
                      HVCT_TESTS(check_rejects_bad_tables, fallbacks_of_a_minimal_backend,
                                 caps_from_table_and_backend, region_on_a_minimal_backend,
                                 posix_futex_across_processes, posix_read_only_view_enforced,
                                 posix_errors, posix_offset_window), NULL);
}

int main(void)
{
    return hvct_run(platform_suite());
}
