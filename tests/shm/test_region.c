/* The shared region: format, attach, directory, peers, across processes. */
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

static void format(struct hvc_region *r, const char *path, uint32_t peers,
                   uint32_t objects)
{
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = peers, .max_objects = objects};

    hvct_assert_rc(hvc_region_format(r, posix, path, &cfg), 0);
}

static void create(struct hvc_region *r, const char *name, uint64_t size)
{
    struct hvc_obj_spec spec = {.name = name, .type = HVC_OBJ_RAW, .size = size,
                                .writer = HVC_PEER_ANY};

    hvct_assert_rc(hvc_obj_create(r, &spec, NULL), 0);
}

/* ---- format and attach ---- */

START_TEST(format_then_attach)
{
    const char *path = hvct_region_path("fa");
    struct hvc_region a, b;
    struct hvc_region_info ia, ib;

    format(&a, path, 8, 32);
    hvct_assert_rc(hvc_region_attach(&b, posix, path, 0), 0);
    hvct_assert_rc(hvc_region_info(&a, &ia), 0);
    hvct_assert_rc(hvc_region_info(&b, &ib), 0);
    ck_assert_uint_eq(ia.size, SIZE);
    ck_assert_uint_eq(ib.size, SIZE);
    ck_assert_uint_eq(ia.session_id, ib.session_id);
    ck_assert_uint_ne(ia.session_id, 0);
    ck_assert_uint_eq(ib.max_peers, 8);
    ck_assert_uint_eq(ib.max_objects, 32);
    ck_assert_uint_eq(ib.heap_offset % HVC_CACHELINE, 0);
    ck_assert_uint_ge(ib.heap_offset, sizeof(struct hvc_wire_header) + 8 * 64 + 32 * 64);
    hvct_assert_rc(hvc_region_detach(&b), 0);
    hvct_assert_rc(hvc_region_detach(&a), 0);
    hvct_assert_rc(hvc_region_detach(&a), -HVC_EINVAL);
}
END_TEST

START_TEST(format_gives_new_session)
{
    const char *path = hvct_region_path("fs");
    struct hvc_region a, b;
    uint64_t first;

    format(&a, path, 0, 0);
    first = a.session_id;
    hvct_assert_rc(hvc_region_attach(&b, posix, path, 0), 0);
    hvct_assert_rc(hvc_region_detach(&a), 0);
    format(&a, path, 0, 0);
    ck_assert_uint_ne(a.session_id, first);
    /* b attached to the old format: it must notice. */
    hvct_assert_rc(hvc_region_validate(&b), -HVC_ESTALE);
    hvc_region_detach(&b);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(format_refuses_live_region)
{
    const char *path = hvct_region_path("live");
    struct hvc_region_config cfg = {.size = SIZE, .flags = HVC_FORMAT_EXCL};
    struct hvc_region a, b;

    format(&a, path, 0, 0);
    ck_assert_int_ge(hvc_peer_join(&a, "a"), 0);
    hvct_assert_rc(hvc_region_format(&b, posix, path, &cfg), -HVC_EEXIST);
    cfg.flags = 0;
    hvct_assert_rc(hvc_region_format(&b, posix, path, &cfg), -HVC_EBUSY);
    cfg.flags = HVC_FORMAT_FORCE;
    hvct_assert_rc(hvc_region_format(&b, posix, path, &cfg), 0);
    /* a was pulled out from under: it learns so at its next heartbeat. */
    hvct_assert_rc(hvc_peer_heartbeat(&a), -HVC_ESTALE);
    hvc_region_detach(&a);
    hvc_region_detach(&b);
}
END_TEST

START_TEST(format_bad_config)
{
    const char *path = hvct_region_path("badcfg");
    struct hvc_region r;
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = HVC_MAX_PEERS + 1};

    hvct_assert_rc(hvc_region_format(&r, posix, path, &cfg), -HVC_EINVAL);
    cfg.max_peers = 0;
    cfg.max_objects = HVC_MAX_OBJECTS + 1;
    hvct_assert_rc(hvc_region_format(&r, posix, path, &cfg), -HVC_EINVAL);
    cfg.max_objects = 0;
    cfg.size = 100;
    hvct_assert_rc(hvc_region_format(&r, posix, path, &cfg), -HVC_EINVAL);
    cfg.size = 8192;
    cfg.max_objects = 4096; /* 256 KiB of directory in 8 KiB */
    hvct_assert_rc(hvc_region_format(&r, posix, path, &cfg), -HVC_ENOSPC);
    hvct_assert_rc(hvc_region_format(NULL, posix, path, &cfg), -HVC_EINVAL);
    hvct_assert_rc(hvc_region_format(&r, posix, path, NULL), -HVC_EINVAL);
}
END_TEST

START_TEST(attach_missing)
{
    struct hvc_region r;

    hvct_assert_rc(hvc_region_attach(&r, posix, "/dev/shm/hvct-does-not-exist", 0),
                   -HVC_ENOENT);
    hvct_assert_rc(hvc_region_attach(&r, posix, "shm:hvct-no-such-object", 0),
                   -HVC_ENOENT);
    hvct_assert_rc(hvc_region_attach(&r, posix, "/tmp/", 0), -HVC_EINVAL);
    hvct_assert_rc(hvc_region_attach(&r, NULL, "x", 0), -HVC_EINVAL);
}
END_TEST

START_TEST(posix_shm_object)
{
    char name[64];
    struct hvc_region a, b;
    struct hvc_region_config cfg = {.size = SIZE};

    snprintf(name, sizeof(name), "/hvct-shm-%d", (int)getpid());
    hvct_assert_rc(hvc_region_format(&a, posix, name, &cfg), 0);
    hvct_assert_rc(hvc_region_attach(&b, posix, name, 0), 0);
    ck_assert_uint_eq(a.session_id, b.session_id);
    hvc_region_detach(&b);
    hvc_region_detach(&a);
    hvct_assert_rc(hvc_platform_unlink(posix, name), 0);
    hvct_assert_rc(hvc_platform_unlink(posix, name), -HVC_ENOENT);
}
END_TEST

/* ---- directory ---- */

START_TEST(dir_create_lookup)
{
    const char *path = hvct_region_path("dir");
    struct hvc_region a, b;
    struct hvc_obj o1, o2, f;
    struct hvc_obj_spec spec = {.name = "sensor", .type = HVC_OBJ_RAW, .size = 100,
                                .writer = HVC_PEER_ANY};

    format(&a, path, 4, 8);
    hvct_assert_rc(hvc_obj_create(&a, &spec, &o1), -HVC_EINVAL); /* not joined */
    ck_assert_int_ge(hvc_peer_join(&a, "a"), 0);
    hvct_assert_rc(hvc_obj_create(&a, &spec, &o1), 0);
    ck_assert_uint_eq(o1.size, 128); /* rounded to cache lines */
    ck_assert_uint_eq(o1.offset % HVC_CACHELINE, 0);
    spec.name = "actuator";
    spec.size = 64;
    spec.writer = 0;
    hvct_assert_rc(hvc_obj_create(&a, &spec, &o2), 0);
    ck_assert(o2.offset >= o1.offset + o1.size || o2.offset + o2.size <= o1.offset);

    hvct_assert_rc(hvc_region_attach(&b, posix, path, 0), 0);
    hvct_assert_rc(hvc_obj_open(&b, "sensor", HVC_OBJ_RAW, &f), 0);
    ck_assert_uint_eq(f.offset, o1.offset);
    ck_assert_str_eq(f.name, "sensor");
    hvct_assert_rc(hvc_obj_open(&b, "actuator", HVC_OBJ_ANY, &f), 0);
    ck_assert_uint_eq(f.writer, 0);
    hvct_assert_rc(hvc_obj_open(&b, "sensor", HVC_OBJ_RING, &f), -HVC_ETYPE);
    hvct_assert_rc(hvc_obj_open(&b, "nothing", HVC_OBJ_ANY, &f), -HVC_ENOENT);
    hvct_assert_rc(hvc_obj_open(&b, "", HVC_OBJ_ANY, &f), -HVC_EINVAL);
    hvct_assert_rc(hvc_obj_open(&b, "a-name-that-is-far-too-long-for-it", HVC_OBJ_ANY, &f),
                   -HVC_ENAMETOOLONG);

    /* What one side writes the other reads. */
    memcpy(o1.ptr, "hello", 6);
    hvct_assert_rc(hvc_obj_open(&b, "sensor", HVC_OBJ_RAW, &f), 0);
    ck_assert_str_eq((char *)f.ptr, "hello");
    hvc_region_detach(&b);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(dir_duplicate_and_full)
{
    const char *path = hvct_region_path("full");
    struct hvc_region a;
    struct hvc_obj_spec spec = {.name = "x", .type = HVC_OBJ_RAW, .size = 64,
                                .writer = HVC_PEER_ANY};
    char name[16];

    format(&a, path, 2, 4);
    ck_assert_int_ge(hvc_peer_join(&a, "a"), 0);
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "obj%d", i);
        create(&a, name, 64);
    }
    spec.name = "obj2";
    hvct_assert_rc(hvc_obj_create(&a, &spec, NULL), -HVC_EEXIST);
    spec.name = "obj4";
    hvct_assert_rc(hvc_obj_create(&a, &spec, NULL), -HVC_ENOSPC);
    /* Deleting frees the entry and its space. */
    hvct_assert_rc(hvc_obj_delete(&a, "obj1"), 0);
    hvct_assert_rc(hvc_obj_delete(&a, "obj1"), -HVC_ENOENT);
    hvct_assert_rc(hvc_obj_create(&a, &spec, NULL), 0);
    spec.type = HVC_OBJ_ANY;
    hvct_assert_rc(hvc_obj_create(&a, &spec, NULL), -HVC_EINVAL);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(dir_heap_full_and_first_fit)
{
    const char *path = hvct_region_path("heap");
    struct hvc_region a;
    struct hvc_region_info info;
    struct hvc_obj o, big;
    struct hvc_obj_spec spec = {.name = "big", .type = HVC_OBJ_RAW, .writer = HVC_PEER_ANY};

    format(&a, path, 2, 8);
    ck_assert_int_ge(hvc_peer_join(&a, "a"), 0);
    hvct_assert_rc(hvc_region_info(&a, &info), 0);
    spec.size = SIZE; /* cannot fit beside the tables */
    hvct_assert_rc(hvc_obj_create(&a, &spec, NULL), -HVC_ENOSPC);
    create(&a, "first", 4096);
    create(&a, "second", 4096);
    hvct_assert_rc(hvc_obj_open(&a, "first", HVC_OBJ_ANY, &o), 0);
    hvct_assert_rc(hvc_obj_delete(&a, "first"), 0);
    /* The hole left by "first" is reused by an object that fits in it. */
    create(&a, "third", 1024);
    hvct_assert_rc(hvc_obj_open(&a, "third", HVC_OBJ_ANY, &big), 0);
    ck_assert_uint_eq(big.offset, o.offset);
    /* The rest of the heap is still usable, and no more. */
    spec.name = "rest";
    spec.size = SIZE - info.heap_offset - 2 * 4096;
    hvct_assert_rc(hvc_obj_create(&a, &spec, NULL), 0);
    spec.name = "more";
    spec.size = 4096;
    hvct_assert_rc(hvc_obj_create(&a, &spec, NULL), -HVC_ENOSPC);
    /* Page-aligned objects start and end on pages. */
    hvct_assert_rc(hvc_obj_delete(&a, "rest"), 0);
    spec.name = "paged";
    spec.size = 100;
    spec.flags = HVC_OBJ_F_PAGE_ALIGN;
    hvct_assert_rc(hvc_obj_create(&a, &spec, &o), 0);
    ck_assert_uint_eq(o.offset % 4096, 0);
    ck_assert_uint_eq(o.size, 4096);
    hvc_region_detach(&a);
}
END_TEST

struct child_args {
    const char *path;
    int value;
};

/* Guest B in another process: attach, find, read, write back. */
static int child_reader(void *arg)
{
    struct child_args *c = arg;
    struct hvc_region b;
    struct hvc_obj o;
    int id;

    if (hvc_region_attach(&b, hvc_platform_posix(), c->path, 0) < 0)
        return 10;
    id = hvc_peer_join(&b, "guest-b");
    if (id < 0)
        return 11;
    if (hvc_obj_open(&b, "shared", HVC_OBJ_RAW, &o) < 0)
        return 12;
    if (*(volatile int *)o.ptr != c->value)
        return 13;
    *(volatile int *)o.ptr = c->value + 1;
    hvc_region_detach(&b);
    return 0;
}

START_TEST(two_processes)
{
    const char *path = hvct_region_path("2p");
    struct child_args c = {.path = path, .value = 4242};
    struct hvc_region a;
    struct hvc_obj o;
    struct hvc_peer_info pi;

    format(&a, path, 4, 8);
    ck_assert_int_eq(hvc_peer_join(&a, "guest-a"), 0);
    create(&a, "shared", 64);
    hvct_assert_rc(hvc_obj_open(&a, "shared", HVC_OBJ_RAW, &o), 0);
    *(volatile int *)o.ptr = c.value;
    ck_assert_int_eq(hvct_wait(hvct_fork(child_reader, &c)), 0);
    ck_assert_int_eq(*(volatile int *)o.ptr, c.value + 1);
    /* B left cleanly: its slot is absent again, with its label kept. */
    hvct_assert_rc(hvc_peer_info(&a, 1, &pi), 0);
    ck_assert_uint_eq(pi.state, HVC_PEER_ABSENT);
    ck_assert_str_eq(pi.label, "guest-b");
    hvc_region_detach(&a);
}
END_TEST

/* ---- peers ---- */

START_TEST(peer_join_leave)
{
    const char *path = hvct_region_path("peers");
    struct hvc_region a, b, c, ro;
    struct hvc_peer_info pi;
    uint32_t epoch;

    format(&a, path, 2, 4);
    hvct_assert_rc(hvc_region_attach(&b, posix, path, 0), 0);
    hvct_assert_rc(hvc_region_attach(&c, posix, path, 0), 0);
    hvct_assert_rc(hvc_region_attach(&ro, posix, path, HVC_MAP_RDONLY), 0);
    hvct_assert_rc(hvc_peer_self(&a), -HVC_EINVAL);
    ck_assert_int_eq(hvc_peer_join(&a, "a"), 0);
    hvct_assert_rc(hvc_peer_join(&a, "a"), -HVC_EBUSY);
    ck_assert_int_eq(hvc_peer_join(&b, "b"), 1);
    hvct_assert_rc(hvc_peer_join(&c, "c"), -HVC_ENOSPC);
    hvct_assert_rc(hvc_peer_join(&ro, "ro"), -HVC_EINVAL);
    ck_assert_int_eq(hvc_peer_self(&b), 1);

    /* Each side sees the other. */
    hvct_assert_rc(hvc_peer_info(&a, 1, &pi), 0);
    ck_assert_uint_eq(pi.state, HVC_PEER_READY);
    ck_assert_str_eq(pi.label, "b");
    ck_assert_uint_ne(pi.token, 0);
    epoch = pi.epoch;
    ck_assert_int_eq(hvc_peer_owner_live(&a, hvc_peer_owner(&b)), 1);
    hvct_assert_rc(hvc_peer_heartbeat(&b), 0);
    hvct_assert_rc(hvc_peer_info(&a, 1, &pi), 0);
    ck_assert_uint_eq(pi.heartbeat, 1);

    /* b leaves, c takes the slot with a new epoch. */
    uint32_t old_owner = hvc_peer_owner(&b);
    hvct_assert_rc(hvc_peer_leave(&b), 0);
    hvct_assert_rc(hvc_peer_leave(&b), -HVC_EINVAL);
    ck_assert_int_eq(hvc_peer_owner_live(&a, old_owner), 0);
    ck_assert_int_eq(hvc_peer_join(&c, "c"), 1);
    hvct_assert_rc(hvc_peer_info(&a, 1, &pi), 0);
    ck_assert_uint_eq(pi.epoch, epoch + 1);
    ck_assert_int_eq(hvc_peer_owner_live(&a, old_owner), 0);
    hvct_assert_rc(hvc_peer_info(&a, 2, &pi), -HVC_EINVAL);
    ck_assert_str_eq(hvc_peer_state_name(HVC_PEER_GONE), "gone");

    hvc_region_detach(&ro);
    hvc_region_detach(&c);
    hvc_region_detach(&b);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(peer_death_detected)
{
    const char *path = hvct_region_path("death");
    struct hvc_region a;
    struct hvc_peer_info pi;
    pid_t pid;

    format(&a, path, 4, 4);
    ck_assert_int_eq(hvc_peer_join(&a, "a"), 0);
    pid = hvct_fork(hvct_join_and_hang, (void *)path);
    for (int i = 0; i < 2000; i++) {
        hvc_peer_info(&a, 1, &pi);
        if (pi.state == HVC_PEER_READY)
            break;
        usleep(1000);
    }
    ck_assert_uint_eq(pi.state, HVC_PEER_READY);
    hvct_assert_rc(hvc_peer_scan(&a, 0), 0); /* alive: nothing to do */
    kill(pid, SIGKILL);
    /* Not reaped yet: a zombie is dead all the same. Wait until it is one
     * (waitid with WNOWAIT leaves it unreaped) instead of guessing. */
    {
        siginfo_t si;

        ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    }
    hvct_assert_rc(hvc_peer_scan(&a, 0), 1);
    hvct_assert_rc(hvc_peer_info(&a, 1, &pi), 0);
    ck_assert_uint_eq(pi.state, HVC_PEER_GONE);
    ck_assert_int_eq(hvct_wait(pid), 128 + SIGKILL);
    /* The slot is reclaimable: the next joiner gets it with a new epoch. */
    uint32_t dead_epoch = pi.epoch;
    hvct_assert_rc(hvc_peer_reclaim(&a, 1), 0);
    hvct_assert_rc(hvc_peer_reclaim(&a, 1), -HVC_EBUSY);
    pid = hvct_fork(hvct_join_and_hang, (void *)path);
    for (int i = 0; i < 2000; i++) {
        hvc_peer_info(&a, 1, &pi);
        if (pi.state == HVC_PEER_READY)
            break;
        usleep(1000);
    }
    ck_assert_uint_eq(pi.state, HVC_PEER_READY);
    ck_assert_uint_gt(pi.epoch, dead_epoch);
    kill(pid, SIGKILL);
    hvct_wait(pid);
    hvct_assert_rc(hvc_peer_scan(&a, 0), 1);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(peer_heartbeat_staleness)
{
    const char *path = hvct_region_path("stale");
    struct hvc_region a, b;
    struct hvc_wire_peer *slot;
    struct hvc_peer_info pi;

    format(&a, path, 4, 4);
    hvct_assert_rc(hvc_region_attach(&b, posix, path, 0), 0);
    ck_assert_int_eq(hvc_peer_join(&a, "a"), 0);
    ck_assert_int_eq(hvc_peer_join(&b, "b"), 1);
    /* A peer on a platform without liveness tokens: heartbeats only. */
    slot = (struct hvc_wire_peer *)(void *)((uint8_t *)a.base + a.peer_offset) + 1;
    slot->token_lo = slot->token_hi = 0;
    hvct_assert_rc(hvc_peer_scan(&a, 30000000), 0);
    hvct_assert_rc(hvc_peer_heartbeat(&b), 0);
    usleep(20000);
    hvct_assert_rc(hvc_peer_scan(&a, 30000000), 0); /* it moved */
    usleep(40000);
    hvct_assert_rc(hvc_peer_scan(&a, 30000000), 1); /* it stopped */
    hvct_assert_rc(hvc_peer_info(&a, 1, &pi), 0);
    ck_assert_uint_eq(pi.state, HVC_PEER_GONE);
    /* The peer finds out and must rejoin, with a new epoch. */
    hvct_assert_rc(hvc_peer_heartbeat(&b), -HVC_ESTALE);
    hvct_assert_rc(hvc_peer_leave(&b), -HVC_ESTALE);
    int id = hvc_peer_join(&b, "b");
    ck_assert_int_ge(id, 0);
    hvct_assert_rc(hvc_peer_info(&a, (uint32_t)id, &pi), 0);
    ck_assert_uint_eq(pi.state, HVC_PEER_READY);
    hvc_region_detach(&b);
    hvc_region_detach(&a);
}
END_TEST

static int child_die_holding_dir_lock(void *arg)
{
    struct child_args *c = arg;
    struct hvc_region b;
    struct hvc_wire_header *h;

    if (hvc_region_attach(&b, hvc_platform_posix(), c->path, 0) < 0 ||
        hvc_peer_join(&b, "locker") < 0)
        return 1;
    h = (struct hvc_wire_header *)(void *)b.base;
    /* As if it died in the middle of hvc_obj_create(). */
    __atomic_store_n(&h->dir_lock, hvc_peer_owner(&b), __ATOMIC_SEQ_CST);
    raise(SIGKILL);
    return 2;
}

START_TEST(dir_lock_recovered_from_dead_peer)
{
    const char *path = hvct_region_path("dirlock");
    struct child_args c = {.path = path};
    struct hvc_region a;
    unsigned long long t0;

    format(&a, path, 4, 4);
    ck_assert_int_eq(hvc_peer_join(&a, "a"), 0);
    ck_assert_int_eq(hvct_wait(hvct_fork(child_die_holding_dir_lock, &c)), 128 + SIGKILL);
    t0 = hvct_now_ns();
    create(&a, "after", 64);
    ck_assert_uint_lt(hvct_now_ns() - t0, 1000000000ull);
    hvc_region_detach(&a);
}
END_TEST

START_TEST(obj_check_header_codes)
{
    const char *path = hvct_region_path("head");
    struct hvc_obj_spec spec = {.name = "typed", .type = HVC_OBJ_USER + 1, .size = 128,
                                .writer = HVC_PEER_ANY};
    struct hvc_wire_obj_head *h;
    struct hvc_region a;
    struct hvc_obj o, small;

    format(&a, path, 2, 4);
    ck_assert_int_ge(hvc_peer_join(&a, "a"), 0);
    hvct_assert_rc(hvc_obj_create(&a, &spec, &o), 0);
    h = o.ptr;
    hvct_assert_rc(hvc_obj_check_header(&o, HVC_OBJ_USER + 1, 64, 0x1234, 3), -HVC_ENOTREADY);
    h->version = 3;
    __atomic_store_n(&h->magic, 0x1234, __ATOMIC_RELEASE);
    hvct_assert_rc(hvc_obj_check_header(&o, HVC_OBJ_USER + 1, 64, 0x1234, 3), 0);
    hvct_assert_rc(hvc_obj_check_header(&o, HVC_OBJ_USER + 1, 64, 0x1234, 4), -HVC_EVERSION);
    hvct_assert_rc(hvc_obj_check_header(&o, HVC_OBJ_USER + 1, 64, 0x4321, 3), -HVC_EPROTO);
    hvct_assert_rc(hvc_obj_check_header(&o, HVC_OBJ_RING, 64, 0x1234, 3), -HVC_ETYPE);
    hvct_assert_rc(hvc_obj_check_header(&o, HVC_OBJ_USER + 1, 4096, 0x1234, 3), -HVC_EPROTO);
    hvct_assert_rc(hvc_obj_check_header(&o, HVC_OBJ_USER + 1, 4, 0x1234, 3), -HVC_EINVAL);
    hvct_assert_rc(hvc_obj_check_header(NULL, HVC_OBJ_USER + 1, 64, 0x1234, 3), -HVC_EINVAL);
    small = o;
    small.ptr = (uint8_t *)o.ptr + 8; /* misaligned */
    hvct_assert_rc(hvc_obj_check_header(&small, HVC_OBJ_USER + 1, 64, 0x1234, 3), -HVC_EPROTO);
    hvc_region_detach(&a);
}
END_TEST

/* ---- errors and version ---- */

START_TEST(error_strings)
{
    ck_assert_str_eq(hvc_errname(-HVC_EPROTO), "HVC_EPROTO");
    ck_assert_str_eq(hvc_errname(HVC_EPROTO), "HVC_EPROTO");
    ck_assert_str_eq(hvc_errname(0), "HVC_OK");
    ck_assert_str_eq(hvc_errname(-9999), "HVC_E?");
    ck_assert_str_eq(hvc_errname(-2147483647 - 1), "HVC_E?");
    ck_assert_str_eq(hvc_strerror(-9999), "unknown error");
    for (int e = 1; e < HVC_ERRNO_MAX; e++) {
        ck_assert_ptr_nonnull(hvc_strerror(-e));
        ck_assert_str_ne(hvc_strerror(-e), "unknown error");
        ck_assert(strncmp(hvc_errname(-e), "HVC_E", 5) == 0);
    }
    ck_assert_str_eq(hvc_version(), HVC_VERSION_STRING);
    ck_assert_str_eq(hvc_obj_type_name(HVC_OBJ_RING), "ring");
    ck_assert_str_eq(hvc_obj_type_name(HVC_OBJ_USER + 5), "user");
}
END_TEST

static Suite *region_suite(void)
{
    return hvct_suite("region", setup, hvct_leak_teardown, 30,
                      HVCT_TESTS(format_then_attach, format_gives_new_session,
                                 format_refuses_live_region, format_bad_config, attach_missing,
                                 posix_shm_object, dir_create_lookup, dir_duplicate_and_full,
                                 dir_heap_full_and_first_fit, two_processes, peer_join_leave,
                                 peer_death_detected, peer_heartbeat_staleness,
                                 dir_lock_recovered_from_dead_peer, obj_check_header_codes,
                                 error_strings), NULL);
}

int main(void)
{
    return hvct_run(region_suite());
}
