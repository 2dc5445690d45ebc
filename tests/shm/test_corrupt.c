/*
 * A hostile peer: corrupt a good region in every way point 6 of the design
 * lists, and check that attach rejects each with its documented code. Run
 * under AddressSanitizer by the test command, so an out-of-bounds read fails.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIZE (64u * 1024)

struct layout {
    struct hvc_wire_header *h;
    struct hvc_wire_peer *peers;
    struct hvc_wire_dirent *dir;
};

typedef void (*corrupt_fn)(struct layout *l);

/* A good region: 4 peers, 8 objects, two of them used, one peer joined. */
static void make_region(const char *path)
{
    struct hvc_region r;
    struct hvc_obj_spec spec = {.name = "alpha", .type = HVC_OBJ_RAW, .size = 256,
                                .writer = HVC_PEER_ANY};

    ck_assert_int_eq(hvct_format(&r, NULL, path, SIZE, 4, 8, "good"), 0);
    hvct_assert_rc(hvc_obj_create(&r, &spec, NULL), 0);
    spec.name = "beta";
    hvct_assert_rc(hvc_obj_create(&r, &spec, NULL), 0);
    /* Keep the peer READY in the table: detach without leaving. */
    r.self = -1;
    hvct_assert_rc(hvc_region_detach(&r), 0);
}

static void *map_raw(const char *path, size_t size)
{
    int fd = open(path, O_RDWR);
    void *p;

    ck_assert_int_ge(fd, 0);
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    ck_assert_ptr_ne(p, MAP_FAILED);
    return p;
}

static void corrupt_region(const char *path, corrupt_fn fn)
{
    uint8_t *base = map_raw(path, SIZE);
    struct layout l = {
        .h = (struct hvc_wire_header *)(void *)base,
    };

    l.peers = (struct hvc_wire_peer *)(void *)(base + l.h->peer_offset);
    l.dir = (struct hvc_wire_dirent *)(void *)(base + l.h->dir_offset);
    fn(&l);
    munmap(base, SIZE);
}

/* ---- the corruptions ---- */

static void bad_magic(struct layout *l) { l->h->magic ^= 1; }
static void zero_magic(struct layout *l) { l->h->magic = 0; }
static void bad_version(struct layout *l) { l->h->version = HVC_WIRE_VERSION + 1; }
static void bad_header_size(struct layout *l) { l->h->header_size = 128; }
static void size_past_file(struct layout *l) { l->h->region_size = SIZE * 2ull; }
static void size_tiny(struct layout *l) { l->h->region_size = 512; }
static void size_huge(struct layout *l) { l->h->region_size = ~0ull; }
static void zero_session(struct layout *l) { l->h->session_id = 0; }
static void zero_peers(struct layout *l) { l->h->max_peers = 0; }
static void many_peers(struct layout *l) { l->h->max_peers = HVC_MAX_PEERS + 1; }
static void huge_peers(struct layout *l) { l->h->max_peers = 0xffffffffu; }
static void huge_objects(struct layout *l) { l->h->max_objects = HVC_MAX_OBJECTS; }
static void bad_peer_offset(struct layout *l) { l->h->peer_offset = SIZE - 8; }
static void bad_dir_offset(struct layout *l) { l->h->dir_offset = 0; }
static void bad_heap_offset(struct layout *l) { l->h->heap_offset = 64; }
static void heap_past_end(struct layout *l) { l->h->heap_offset = SIZE * 4ull; }
static void bad_peer_size(struct layout *l) { l->h->peer_size = 32; }
static void bad_dirent_size(struct layout *l) { l->h->dirent_size = 128; }
static void ent_past_end(struct layout *l) { l->dir[0].offset = SIZE; }
static void ent_size_past_end(struct layout *l) { l->dir[0].size = SIZE; }
static void ent_wraps(struct layout *l)
{
    l->dir[0].offset = 1ull << 63;
    l->dir[0].size = (1ull << 63) + 4096;
}
static void ent_in_header(struct layout *l) { l->dir[0].offset = 0; }
static void ent_misaligned(struct layout *l) { l->dir[0].offset += 8; }
static void ent_zero_size(struct layout *l) { l->dir[1].size = 0; }
static void ent_overlap(struct layout *l) { l->dir[1].offset = l->dir[0].offset + 64; }
static void ent_same_place(struct layout *l) { l->dir[1].offset = l->dir[0].offset; }
static void ent_unterminated(struct layout *l) { memset(l->dir[0].name, 'x', sizeof(l->dir[0].name)); }
static void ent_empty_name(struct layout *l) { l->dir[1].name[0] = '\0'; }
static void ent_duplicate(struct layout *l) { memcpy(l->dir[1].name, l->dir[0].name, sizeof(l->dir[0].name)); }
static void ent_bad_writer(struct layout *l) { l->dir[0].writer = 4; }
static void ent_bad_creator(struct layout *l) { l->dir[0].creator = 200; }
static void ent_type_zero(struct layout *l) { l->dir[0].type = 0; }
static void label_unterminated(struct layout *l) { memset(l->peers[0].label, 'y', sizeof(l->peers[0].label)); }

struct corruption {
    const char *what;
    corrupt_fn fn;
    int expected;
};

static const struct corruption cases[] = {
    {"bad magic", bad_magic, -HVC_EMAGIC},
    {"magic withdrawn (format in progress)", zero_magic, -HVC_EMAGIC},
    {"unknown version", bad_version, -HVC_EVERSION},
    {"header size", bad_header_size, -HVC_EPROTO},
    {"region size past the file", size_past_file, -HVC_EPROTO},
    {"region size too small", size_tiny, -HVC_EPROTO},
    {"region size 2^64-1", size_huge, -HVC_EPROTO},
    {"session id 0", zero_session, -HVC_EPROTO},
    {"no peers", zero_peers, -HVC_EPROTO},
    {"too many peers", many_peers, -HVC_EPROTO},
    {"peer count 2^32-1", huge_peers, -HVC_EPROTO},
    {"directory past the end", huge_objects, -HVC_EPROTO},
    {"peer table offset", bad_peer_offset, -HVC_EPROTO},
    {"directory offset", bad_dir_offset, -HVC_EPROTO},
    {"heap offset inside the tables", bad_heap_offset, -HVC_EPROTO},
    {"heap offset past the end", heap_past_end, -HVC_EPROTO},
    {"peer entry size", bad_peer_size, -HVC_EPROTO},
    {"directory entry size", bad_dirent_size, -HVC_EPROTO},
    {"object past the end", ent_past_end, -HVC_EPROTO},
    {"object size past the end", ent_size_past_end, -HVC_EPROTO},
    {"object offset + size wraps", ent_wraps, -HVC_EPROTO},
    {"object inside the header", ent_in_header, -HVC_EPROTO},
    {"object misaligned", ent_misaligned, -HVC_EPROTO},
    {"object of size 0", ent_zero_size, -HVC_EPROTO},
    {"objects overlap", ent_overlap, -HVC_EPROTO},
    {"objects at the same place", ent_same_place, -HVC_EPROTO},
    {"name without terminator", ent_unterminated, -HVC_EPROTO},
    {"empty name", ent_empty_name, -HVC_EPROTO},
    {"duplicate name", ent_duplicate, -HVC_EPROTO},
    {"writer outside the peer table", ent_bad_writer, -HVC_EPROTO},
    {"creator outside the peer table", ent_bad_creator, -HVC_EPROTO},
    {"object type 0", ent_type_zero, -HVC_EPROTO},
    {"peer label without terminator", label_unterminated, -HVC_EPROTO},
};

START_TEST(each_corruption_rejected)
{
    const struct corruption *c = &cases[_i];
    const char *path = hvct_region_path("corrupt");
    struct hvc_region r;
    int rc;

    make_region(path);
    corrupt_region(path, c->fn);
    rc = hvc_region_attach(&r, hvc_platform_posix(), path, 0);
    ck_assert_msg(rc == c->expected, "%s: attach gave %s, expected %s", c->what,
                  hvc_errname(rc), hvc_errname(c->expected));
    /* Read-only attach (the hvcomm info tool) rejects it the same way. */
    rc = hvc_region_attach(&r, hvc_platform_posix(), path, HVC_MAP_RDONLY);
    ck_assert_msg(rc == c->expected, "%s: read-only attach gave %s", c->what,
                  hvc_errname(rc));
}
END_TEST

START_TEST(truncated_and_empty_files)
{
    const char *path = hvct_region_path("short");
    struct hvc_region r;
    int fd;

    fd = open(path, O_RDWR | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    hvct_assert_rc(hvc_region_attach(&r, hvc_platform_posix(), path, 0), -HVC_EMAGIC);
    ck_assert_int_eq(write(fd, "HVCM", 4), 4);
    hvct_assert_rc(hvc_region_attach(&r, hvc_platform_posix(), path, 0), -HVC_EMAGIC);
    close(fd);
    /* A good header in a file cut short: the header says more than exists. */
    make_region(path);
    ck_assert_int_eq(truncate(path, 8192), 0);
    hvct_assert_rc(hvc_region_attach(&r, hvc_platform_posix(), path, 0), -HVC_EPROTO);
}
END_TEST

/* Corruption after attach: lookups check the entry they read, and count. */
START_TEST(corruption_after_attach)
{
    const char *path = hvct_region_path("late");
    struct hvc_region r;
    struct hvc_region_info info;
    struct hvc_obj o;

    make_region(path);
    hvct_assert_rc(hvc_region_attach(&r, hvc_platform_posix(), path, 0), 0);
    hvct_assert_rc(hvc_obj_open(&r, "alpha", HVC_OBJ_ANY, &o), 0);
    corrupt_region(path, ent_wraps);
    hvct_assert_rc(hvc_obj_open(&r, "alpha", HVC_OBJ_ANY, &o), -HVC_EPROTO);
    hvct_assert_rc(hvc_obj_get(&r, 0, &o), -HVC_EPROTO);
    hvct_assert_rc(hvc_obj_open(&r, "beta", HVC_OBJ_ANY, &o), 0);
    hvct_assert_rc(hvc_region_info(&r, &info), 0);
    ck_assert_uint_eq(info.proto_errors, 1);
    hvct_assert_rc(hvc_region_validate(&r), -HVC_EPROTO);
    corrupt_region(path, bad_version);
    hvct_assert_rc(hvc_region_validate(&r), -HVC_EVERSION);
    hvc_region_detach(&r);
}
END_TEST

/* Thousands of random scribbles over the header and tables: every attach
 * either fails with a documented code or yields a region whose every use is
 * safe. AddressSanitizer catches any access outside the mapping. */
START_TEST(random_scribbles)
{
    const char *path = hvct_region_path("fuzz");
    unsigned seed = 12345;
    int outcomes[HVC_ERRNO_MAX] = {0};

    make_region(path);
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *base = map_raw(path, SIZE), saved[4096];
        struct hvc_region r;
        int rc, n = 1 + rand_r(&seed) % 8;

        memcpy(saved, base, sizeof(saved));
        for (int k = 0; k < n; k++) {
            uint32_t at = (uint32_t)rand_r(&seed) % 2048;
            if (rand_r(&seed) % 3 == 0)
                base[at] = (uint8_t)rand_r(&seed);
            else
                memset(base + at, rand_r(&seed) % 2 ? 0xff : 0, 1 + rand_r(&seed) % 8);
        }
        rc = hvc_region_attach(&r, hvc_platform_posix(), path, 0);
        ck_assert_msg(rc == 0 || rc == -HVC_EMAGIC || rc == -HVC_EVERSION ||
                          rc == -HVC_EPROTO || rc == -HVC_EAGAIN,
                      "iteration %d: unexpected %s", iter, hvc_errname(rc));
        outcomes[-rc]++;
        if (rc == 0) {
            struct hvc_region_info info;
            struct hvc_peer_info pi;
            struct hvc_obj o;

            hvc_region_info(&r, &info);
            for (uint32_t i = 0; i < r.max_peers; i++)
                hvc_peer_info(&r, i, &pi);
            for (uint32_t i = 0; i < r.max_objects; i++)
                if (hvc_obj_get(&r, i, &o) == 0)
                    memset(o.ptr, 0xa5, (size_t)o.size); /* must be in bounds */
            hvc_obj_open(&r, "alpha", HVC_OBJ_ANY, &o);
            hvc_peer_scan(&r, 0);
            if (hvc_peer_join(&r, "fuzz") >= 0) {
                struct hvc_obj_spec spec = {.name = "new", .type = HVC_OBJ_RAW,
                                            .size = 64, .writer = HVC_PEER_ANY};
                if (hvc_obj_create(&r, &spec, &o) == 0)
                    memset(o.ptr, 0x5a, (size_t)o.size);
            }
            hvc_region_detach(&r);
        }
        memcpy(base, saved, sizeof(saved));
        munmap(base, SIZE);
    }
    /* The scribbles must have exercised both outcomes. */
    ck_assert_int_gt(outcomes[0], 0);
    ck_assert_int_gt(outcomes[HVC_EPROTO], 0);
}
END_TEST

static Suite *corrupt_suite(void)
{
    TCase *tc;
    Suite *s = hvct_suite("corrupt", hvct_leak_setup, hvct_leak_teardown, 120,
                          HVCT_TESTS(truncated_and_empty_files, corruption_after_attach,
                                     random_scribbles), &tc);

    tcase_add_loop_test(tc, each_corruption_rejected, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    return s;
}

int main(void)
{
    return hvct_run(corrupt_suite());
}
