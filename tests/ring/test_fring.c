/* Fixed-size-element rings (fring.h): every documented error, NULL and
 * zeroed handles, wrap-around for several element sizes at every offset,
 * batch and single calls, lazy publication, counters, corrupt immutable
 * lines, and a two-process stream of 10^6 elements per element size with
 * every element checked (sequence number and checksum). */
#define _GNU_SOURCE
#include "testutil.h"
#include "ringtest.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define SIZE (8u << 20)

static const struct hvc_platform *posix;
static struct hvc_region reg;
static const char *path;

static void setup(void)
{
    posix = hvc_platform_posix();
    path = hvct_fixture_setup(&reg, "fring", SIZE);
}

static void teardown(void)
{
    hvct_fixture_teardown(&reg);
}

/* Element `seq` of `es` bytes: seq and a checksum when it holds 12 bytes,
 * else bytes derived from seq (rt_fill, ringtest.h). */
static void el_fill(uint8_t *p, uint32_t es, uint64_t seq)
{
    rt_fill(p, es, seq);
}

static int el_check(const uint8_t *p, uint32_t es, uint64_t seq)
{
    uint8_t ref[HVC_FRING_ELEM_MAX];

    rt_fill(ref, es, seq);
    return memcmp(ref, p, es) == 0;
}

static void make_pair(struct hvc_fring *p, struct hvc_fring *c, const char *name, uint32_t es,
                      uint32_t cap)
{
    struct hvc_fring_attr a = {.elem_size = es, .capacity = cap, .writer = -1};

    hvct_assert_rc(hvc_fring_create(p, &reg, name, &a), 0);
    hvct_assert_rc(hvc_fring_open(c, &reg, name, HVC_FRING_CONSUMER), 0);
}

START_TEST(create_and_errors)
{
    struct hvc_fring p, c, x;
    struct hvc_fring_attr a = {.elem_size = 8, .capacity = 100, .writer = -1};
    struct hvc_ring_attr ra = {.capacity = 256, .max_msg = 8, .writer = -1};
    struct hvc_ring ring;
    uint8_t e[16] = {0};

    hvct_assert_rc(hvc_fring_create(&p, &reg, "f", &a), 0);
    ck_assert_uint_eq(hvc_fring_capacity(&p), 128); /* rounded up */
    ck_assert_uint_eq(hvc_fring_elem_size(&p), 8);
    hvct_assert_rc(hvc_fring_create(&x, &reg, "f", &a), -HVC_EEXIST);
    a.capacity = 0;
    hvct_assert_rc(hvc_fring_create(&x, &reg, "one", &a), 0);
    ck_assert_uint_eq(hvc_fring_capacity(&x), 1);
    a.elem_size = 0;
    hvct_assert_rc(hvc_fring_create(&x, &reg, "e0", &a), -HVC_EINVAL);
    a.elem_size = HVC_FRING_ELEM_MAX + 1;
    hvct_assert_rc(hvc_fring_create(&x, &reg, "e1", &a), -HVC_EINVAL);
    a.elem_size = HVC_FRING_ELEM_MAX;
    a.capacity = (HVC_FRING_BYTES_MAX / HVC_FRING_ELEM_MAX) + 1; /* rounds past the limit */
    hvct_assert_rc(hvc_fring_create(&x, &reg, "big", &a), -HVC_EINVAL);
    a.capacity = 0xffffffffu;
    hvct_assert_rc(hvc_fring_create(&x, &reg, "big", &a), -HVC_EINVAL);
    a.capacity = 16;
    a.elem_size = 8;
    a.flags = 1;
    hvct_assert_rc(hvc_fring_create(&x, &reg, "flags", &a), -HVC_EINVAL);
    a.flags = 0;
    a.writer = 4; /* max_peers is 4 */
    hvct_assert_rc(hvc_fring_create(&x, &reg, "writer", &a), -HVC_EINVAL);
    a.writer = -1;
    hvct_assert_rc(hvc_fring_create(NULL, &reg, "n", &a), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_create(&x, NULL, "n", &a), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_create(&x, &reg, "n", NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_create(&x, &reg, NULL, &a), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_create(&x, &reg, "a-name-that-is-much-too-long-for-it", &a),
                   -HVC_ENAMETOOLONG);

    hvct_assert_rc(hvc_fring_open(&c, &reg, "nope", HVC_FRING_CONSUMER), -HVC_ENOENT);
    hvct_assert_rc(hvc_fring_open(&c, &reg, "f", 7), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_open(&c, &reg, NULL, HVC_FRING_CONSUMER), -HVC_EINVAL);
    hvct_assert_rc(hvc_ring_create(&ring, &reg, "ring", &ra), 0);
    hvct_assert_rc(hvc_fring_open(&c, &reg, "ring", HVC_FRING_CONSUMER), -HVC_ETYPE);
    hvct_assert_rc(hvc_ring_open(&ring, &reg, "f", HVC_RING_CONSUMER), -HVC_ETYPE);
    hvct_assert_rc(hvc_fring_open(&c, &reg, "f", HVC_FRING_CONSUMER), 0);

    /* Roles are enforced. */
    hvct_assert_rc(hvc_fring_recv(&p, e), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_recv_batch(&p, e, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_send(&c, e), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_send_batch(&c, e, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_send(&p, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_send_batch(&p, NULL, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_recv(&c, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_recv_batch(&c, NULL, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_send_batch(&p, NULL, 0), 0);
    hvct_assert_rc(hvc_fring_recv_batch(&c, NULL, 0), 0);
    hvct_assert_rc(hvc_fring_recv(&c, e), -HVC_EAGAIN);
    hvct_assert_rc(hvc_fring_recv_batch(&c, e, 2), -HVC_EAGAIN);

    /* Only the writer may produce. */
    a.writer = 1;
    hvct_assert_rc(hvc_fring_create(&x, &reg, "w1", &a), 0);
    ck_assert_uint_eq(x.role, HVC_FRING_CONSUMER);
    hvct_assert_rc(hvc_fring_open(&x, &reg, "w1", HVC_FRING_PRODUCER), -HVC_EPERM);
    hvct_assert_rc(hvc_fring_open(&x, &reg, "w1", HVC_FRING_CONSUMER), 0);
}
END_TEST

START_TEST(null_and_zeroed_handles)
{
    struct hvc_fring z;
    struct hvc_fring_stats st;
    struct hvc_obj o;
    uint8_t e[8] = {0};

    memset(&z, 0, sizeof(z));
    /* The inline fast paths test the handle before reading through it. */
    hvct_assert_rc(hvc_fring_send(NULL, e), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_recv(NULL, e), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_send(NULL, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_recv(NULL, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_send_batch(NULL, e, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_recv_batch(NULL, e, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_flush(NULL), -HVC_EINVAL);
    ck_assert_uint_eq(hvc_fring_elem_size(NULL), 0);
    ck_assert_uint_eq(hvc_fring_capacity(NULL), 0);
    hvct_assert_rc(hvc__fring_send_slow(NULL, e), -HVC_EINVAL);
    hvct_assert_rc(hvc__fring_recv_slow(NULL, e), -HVC_EINVAL);
    /* A zeroed handle is no handle. */
    hvct_assert_rc(hvc_fring_send(&z, e), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_recv(&z, e), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_send_batch(&z, e, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_recv_batch(&z, e, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_flush(&z), -HVC_EINVAL);
    ck_assert_uint_eq(hvc_fring_elem_size(&z), 0);
    ck_assert_uint_eq(hvc_fring_capacity(&z), 0);
    hvct_assert_rc(hvc_fring_attach(NULL, &reg, &o, HVC_FRING_CONSUMER), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_attach(&z, &reg, NULL, HVC_FRING_CONSUMER), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_stats(&reg, NULL, &st), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_stats(NULL, &o, &st), -HVC_EINVAL);
    hvct_assert_rc(hvc_fring_stats(&reg, &o, NULL), -HVC_EINVAL);
}
END_TEST

/* Fill, drain, and many laps with batches of every size from 1 to past the
 * capacity, at every offset, for odd and even element sizes. */
START_TEST(wrap_around_every_size)
{
    static const uint32_t sizes[] = {1, 3, 8, 12, 13, 16, 64, 100, 4096};
    static uint8_t buf[40 * HVC_FRING_ELEM_MAX], one[HVC_FRING_ELEM_MAX];

    for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const uint32_t es = sizes[s], cap = 16;
        struct hvc_fring p, c;
        uint64_t sent = 0, got = 0;
        char name[16];

        snprintf(name, sizeof(name), "w%u", es);
        make_pair(&p, &c, name, es, cap);
        /* Exactly capacity elements fit, single calls. */
        for (uint32_t i = 0; i < cap; i++) {
            el_fill(one, es, sent);
            hvct_assert_rc(hvc_fring_send(&p, one), 0);
            sent++;
        }
        hvct_assert_rc(hvc_fring_send(&p, one), -HVC_EAGAIN);
        hvct_assert_rc(hvc_fring_send_batch(&p, one, 1), -HVC_EAGAIN);
        for (uint32_t i = 0; i < cap; i++) {
            hvct_assert_rc(hvc_fring_recv(&c, one), 0);
            ck_assert_msg(el_check(one, es, got), "size %u element %llu", es,
                          (unsigned long long)got);
            got++;
        }
        hvct_assert_rc(hvc_fring_recv(&c, one), -HVC_EAGAIN);
        /* Batches of 1 .. cap + 3 against every offset. */
        for (uint32_t lap = 0; lap < 4 * cap; lap++) {
            for (uint32_t n = 1; n <= cap + 3; n++) {
                uint32_t want = n, moved = 0;
                int rc;

                for (uint32_t i = 0; i < want; i++)
                    el_fill(buf + (size_t)i * es, es, sent + i);
                rc = hvc_fring_send_batch(&p, buf, want);
                ck_assert_int_eq(rc, (int)(want < cap ? want : cap));
                sent += (uint64_t)rc;
                /* Drain with another batch size, then singles. */
                while (moved < (uint32_t)rc) {
                    uint32_t m = 1 + (lap + moved) % (cap + 2);
                    int k = (lap & 1) ? hvc_fring_recv_batch(&c, buf, m)
                                      : (hvc_fring_recv(&c, buf) == 0 ? 1 : -1);

                    ck_assert_int_gt(k, 0);
                    ck_assert_int_le(k, (int)m);
                    for (int i = 0; i < k; i++) {
                        ck_assert_msg(el_check(buf + (size_t)i * es, es, got),
                                      "size %u element %llu", es, (unsigned long long)got);
                        got++;
                    }
                    moved += (uint32_t)k;
                }
                ck_assert_uint_eq(moved, (uint32_t)rc);
                hvct_assert_rc(hvc_fring_recv_batch(&c, buf, 1), -HVC_EAGAIN);
            }
        }
        ck_assert_uint_eq(sent, got);
        ck_assert_uint_eq(p.errors + c.errors, 0);
        /* Full ring, then a partial batch fills the rest. */
        for (uint32_t i = 0; i < cap - 3; i++)
            el_fill(buf + (size_t)i * es, es, sent + i);
        hvct_assert_rc(hvc_fring_send_batch(&p, buf, cap - 3), (int)cap - 3);
        sent += cap - 3;
        for (uint32_t i = 0; i < 10; i++)
            el_fill(buf + (size_t)i * es, es, sent + i);
        hvct_assert_rc(hvc_fring_send_batch(&p, buf, 10), 3);
        sent += 3;
        hvct_assert_rc(hvc_fring_recv_batch(&c, buf, 40), (int)cap);
        for (uint32_t i = 0; i < cap; i++)
            ck_assert(el_check(buf + (size_t)i * es, es, got + i));
        got += cap;
        ck_assert_uint_eq(sent, got);
    }
}
END_TEST

/* The consumer publishes single receives lazily; flush and an empty ring
 * publish them. */
START_TEST(lazy_publication_and_flush)
{
    struct hvc_fring p, c;
    uint64_t v = 0;
    uint8_t buf[16 * 8];

    make_pair(&p, &c, "lazy", 8, 16);
    hvct_assert_rc(hvc_fring_send_batch(&p, buf, 16), 16);
    hvct_assert_rc(hvc_fring_recv(&c, &v), 0);
    ck_assert_uint_eq(hvc_load_relaxed(&c.w->cons), 0); /* not yet published */
    hvct_assert_rc(hvc_fring_send(&p, &v), -HVC_EAGAIN);
    hvct_assert_rc(hvc_fring_flush(&c), 0);
    ck_assert_uint_eq(hvc_load_relaxed(&c.w->cons), 1);
    hvct_assert_rc(hvc_fring_flush(&p), 0); /* nothing to do for a producer */
    hvct_assert_rc(hvc_fring_send(&p, &v), 0);
    hvct_assert_rc(hvc_fring_send(&p, &v), -HVC_EAGAIN);
    /* A quarter of the ring is published without a flush. */
    for (int i = 0; i < 4; i++)
        hvct_assert_rc(hvc_fring_recv(&c, &v), 0);
    ck_assert_uint_eq(hvc_load_relaxed(&c.w->cons), 5);
    /* Draining what it knew of publishes at once. */
    while (hvc_fring_recv(&c, &v) == 0)
        ;
    ck_assert_uint_eq(hvc_load_relaxed(&c.w->cons), 17);
    /* The batch calls publish at once, one store per call. */
    hvct_assert_rc(hvc_fring_send_batch(&p, buf, 5), 5);
    ck_assert_uint_eq(hvc_load_relaxed(&p.w->prod), 22);
    hvct_assert_rc(hvc_fring_recv_batch(&c, buf, 2), 2);
    ck_assert_uint_eq(hvc_load_relaxed(&c.w->cons), 19);
}
END_TEST

START_TEST(counters_and_index_wrap)
{
    struct hvc_fring p, c;
    struct hvc_fring_stats st;
    struct hvc_fring_attr a = {.elem_size = 8, .capacity = 8, .writer = -1};
    struct hvc_obj o;
    uint64_t v;

    hvct_assert_rc(hvc_fring_create(&p, &reg, "cnt", &a), 0);
    /* Start both indices just before 2^32 (as after a long life): the
     * laps counters carry the 64-bit totals. */
    hvc_store_relaxed(&p.w->prod, 0xfffffffcu);
    hvc_store_relaxed(&p.w->cons, 0xfffffffcu);
    hvct_assert_rc(hvc_fring_open(&p, &reg, "cnt", HVC_FRING_PRODUCER), 0);
    hvct_assert_rc(hvc_fring_open(&c, &reg, "cnt", HVC_FRING_CONSUMER), 0);
    for (v = 0; v < 8; v++)
        hvct_assert_rc(hvc_fring_send(&p, &v), 0);
    hvct_assert_rc(hvc_fring_send(&p, &v), -HVC_EAGAIN);
    hvct_assert_rc(hvc_fring_send(&p, &v), -HVC_EAGAIN); /* one stall, not two */
    hvct_assert_rc(hvc_obj_open(&reg, "cnt", HVC_OBJ_FRING, &o), 0);
    hvct_assert_rc(hvc_fring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.elem_size, 8);
    ck_assert_uint_eq(st.capacity, 8);
    ck_assert_uint_eq(st.writer, 0);
    ck_assert_uint_eq(st.used, 8);
    ck_assert_uint_eq(st.prod, 4);
    ck_assert_uint_eq(st.sent, 0x100000004ull);
    ck_assert_uint_eq(st.received, 0xfffffffcull);
    ck_assert_uint_eq(st.full_stalls, 1);
    for (uint64_t i = 0; i < 8; i++) {
        hvct_assert_rc(hvc_fring_recv(&c, &v), 0);
        ck_assert_uint_eq(v, i);
    }
    hvct_assert_rc(hvc_fring_recv(&c, &v), -HVC_EAGAIN);
    hvct_assert_rc(hvc_fring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.used, 0);
    ck_assert_uint_eq(st.received, 0x100000004ull);
    ck_assert_uint_eq(st.empty_stalls, 1);
    ck_assert_uint_eq(st.proto_errors, 0);
    ck_assert_str_eq(hvc_obj_type_name(HVC_OBJ_FRING), "fring");
}
END_TEST

/* A corrupt immutable line is refused at open and by the stats call, and
 * counted in the region; a handle opened before keeps its private copy. */
START_TEST(corrupt_header)
{
    struct hvc_fring p, c, x;
    struct hvc_fring_stats st;
    struct hvc_obj o;
    struct hvc_wire_fring saved;
    struct hvc_region_info ri0, ri1;
    uint64_t v = 42, out = 0;
    struct {
        size_t off;
        uint32_t value;
        int rc;
    } cases[] = {
        {offsetof(struct hvc_wire_fring, magic), 0x12345678u, -HVC_EPROTO},
        {offsetof(struct hvc_wire_fring, magic), 0, -HVC_ENOTREADY},
        {offsetof(struct hvc_wire_fring, version), 2, -HVC_EVERSION},
        {offsetof(struct hvc_wire_fring, hdr_size), 128, -HVC_EPROTO},
        {offsetof(struct hvc_wire_fring, elem_size), 0, -HVC_EPROTO},
        {offsetof(struct hvc_wire_fring, elem_size), HVC_FRING_ELEM_MAX + 1, -HVC_EPROTO},
        {offsetof(struct hvc_wire_fring, elem_size), 16, -HVC_EPROTO}, /* past the object */
        {offsetof(struct hvc_wire_fring, capacity), 0, -HVC_EPROTO},
        {offsetof(struct hvc_wire_fring, capacity), 12, -HVC_EPROTO},
        {offsetof(struct hvc_wire_fring, capacity), 1u << 31, -HVC_EPROTO},
        {offsetof(struct hvc_wire_fring, capacity), 64, -HVC_EPROTO}, /* past the object */
        {offsetof(struct hvc_wire_fring, flags), 1, -HVC_ENOTSUP}, /* a newer peer's flag */
        {offsetof(struct hvc_wire_fring, writer), 2, -HVC_EPROTO},
    };

    make_pair(&p, &c, "hdr", 8, 32);
    hvct_assert_rc(hvc_obj_open(&reg, "hdr", HVC_OBJ_FRING, &o), 0);
    memcpy(&saved, p.w, sizeof(saved));
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t *f = (uint32_t *)(void *)((uint8_t *)p.w + cases[i].off);

        hvct_assert_rc(hvc_region_info(&reg, &ri0), 0);
        hvc_store_relaxed(f, cases[i].value);
        ck_assert_msg(hvc_fring_open(&x, &reg, "hdr", HVC_FRING_CONSUMER) == cases[i].rc,
                      "case %u", i);
        ck_assert_msg(hvc_fring_stats(&reg, &o, &st) == cases[i].rc, "case %u", i);
        hvct_assert_rc(hvc_region_info(&reg, &ri1), 0);
        if (cases[i].rc == -HVC_EPROTO)
            ck_assert_msg(ri1.proto_errors >= ri0.proto_errors + 2, "case %u counted", i);
        /* The open handles use their own copy: unaffected. */
        hvct_assert_rc(hvc_fring_send(&p, &v), 0);
        hvct_assert_rc(hvc_fring_recv(&c, &out), 0);
        ck_assert_uint_eq(out, 42);
        memcpy(p.w, &saved, HVC_CACHELINE);
        hvct_assert_rc(hvc_fring_open(&x, &reg, "hdr", HVC_FRING_CONSUMER), 0);
    }
    /* Indices more than a capacity apart are refused at open. */
    hvc_store_relaxed(&p.w->prod, hvc_load_relaxed(&p.w->cons) + 33);
    hvct_assert_rc(hvc_fring_open(&x, &reg, "hdr", HVC_FRING_CONSUMER), -HVC_EPROTO);
    hvct_assert_rc(hvc_fring_open(&x, &reg, "hdr", HVC_FRING_PRODUCER), -HVC_EPROTO);
    /* ...which the consumer handle sees as a bad producer index. */
    hvct_assert_rc(hvc_fring_recv(&c, &out), -HVC_EPROTO);
    hvct_assert_rc(hvc_fring_recv_batch(&c, &out, 1), -HVC_EPROTO);
    ck_assert_uint_eq(c.errors, 2);
    ck_assert_uint_eq(hvc_load_relaxed(&c.w->cons_errors), 2);
    hvc_store_relaxed(&p.w->prod, p.head);
    hvct_assert_rc(hvc_fring_recv(&c, &out), -HVC_EAGAIN);
    hvct_assert_rc(hvc_fring_stats(&reg, &o, &st), 0);
    ck_assert_uint_eq(st.proto_errors, 2);
}
END_TEST

/* ---- two processes ---- */

struct stream_args {
    const char *path;
    const char *name;
    uint32_t es;
    uint64_t n;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state += 0x9e3779b97f4a7c15ull;
    return rt_mix(rng_state);
}

/* Child: the producer, single sends and batches of 1..80 elements. */
static int stream_producer(void *arg)
{
    const struct stream_args *a = arg;
    static uint8_t buf[80 * 64];
    struct hvc_region r;
    struct hvc_fring p;
    uint64_t seq = 0;

    rng_state = 0xfeed ^ a->es;
    if (hvc_region_attach(&r, posix, a->path, 0) < 0 || hvc_peer_join(&r, "prod") != 1 ||
        hvc_fring_open(&p, &r, a->name, HVC_FRING_PRODUCER) < 0)
        return 10;
    while (seq < a->n) {
        uint64_t h = rnd();
        uint32_t want = (h & 3) == 0 ? 1 : 1 + (uint32_t)((h >> 8) % 80);
        int rc;

        if (want > a->n - seq)
            want = (uint32_t)(a->n - seq);
        for (uint32_t i = 0; i < want; i++)
            el_fill(buf + (size_t)i * a->es, a->es, seq + i);
        rc = want == 1 && (h & 4) ? (hvc_fring_send(&p, buf) == 0 ? 1 : -HVC_EAGAIN)
                                  : hvc_fring_send_batch(&p, buf, want);
        if (rc == -HVC_EAGAIN) {
            if ((h & 0x30) == 0)
                sched_yield();
            continue;
        }
        if (rc <= 0)
            return 11;
        seq += (uint64_t)rc;
    }
    hvc_region_detach(&r);
    return 0;
}

static void run_stream(uint32_t es, uint32_t cap, uint64_t n)
{
    struct hvc_region_config cfg = {.size = 1u << 20, .max_peers = 4, .max_objects = 8};
    struct stream_args a = {.path = hvct_region_path("fstream"), .name = "s", .es = es, .n = n};
    struct hvc_fring_attr attr = {.elem_size = es, .capacity = cap, .writer = 1};
    static uint8_t buf[80 * 64];
    struct hvc_region r;
    struct hvc_fring c;
    struct hvc_fring_stats st;
    struct hvc_obj o;
    uint64_t got = 0, idle = 0, batches = 0, singles = 0, t0 = hvct_now_ns();
    pid_t pid;

    hvct_assert_rc(hvc_region_format(&r, posix, a.path, &cfg), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "cons"), 0);
    hvct_assert_rc(hvc_fring_create(&c, &r, "s", &attr), 0);
    ck_assert_uint_eq(c.role, HVC_FRING_CONSUMER);
    rng_state = 0xbeef ^ es;
    pid = hvct_fork(stream_producer, &a);
    while (got < n) {
        uint64_t h = rnd();
        uint32_t want = 1 + (uint32_t)((h >> 8) % 80);
        int rc;

        if ((h & 3) == 0) {
            rc = hvc_fring_recv(&c, buf) == 0 ? 1 : -HVC_EAGAIN;
            singles++;
        } else {
            rc = hvc_fring_recv_batch(&c, buf, want);
            batches++;
        }
        if (rc == -HVC_EAGAIN) {
            int status;

            if ((h & 0x30) == 0)
                sched_yield();
            if (++idle % 65536 == 0) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                    ck_abort_msg("producer exited (status %#x) at element %llu", status,
                                 (unsigned long long)got);
                ck_assert_msg(hvct_now_ns() - t0 < 300000000000ull,
                              "no progress bound: stuck at element %llu", (unsigned long long)got);
            }
            continue;
        }
        ck_assert_msg(rc > 0, "recv returned %d (%s)", rc, hvc_errname(rc));
        ck_assert_int_le(rc, (int)want);
        for (int i = 0; i < rc; i++) {
            ck_assert_msg(el_check(buf + (size_t)i * es, es, got),
                          "element %llu (size %u) is wrong", (unsigned long long)got, es);
            got++;
        }
    }
    ck_assert_int_eq(hvct_wait(pid), 0);
    hvct_assert_rc(hvc_fring_recv(&c, buf), -HVC_EAGAIN);
    hvct_assert_rc(hvc_obj_open(&r, "s", HVC_OBJ_FRING, &o), 0);
    hvct_assert_rc(hvc_fring_stats(&r, &o, &st), 0);
    ck_assert_uint_eq(st.sent, n);
    ck_assert_uint_eq(st.received, n);
    ck_assert_uint_eq(st.proto_errors, 0);
    ck_assert_uint_eq(c.errors, 0);
    fprintf(stderr, "fring stream: %llu elements of %u B through %u slots checked; consumer "
            "calls: %llu batch, %llu single; stalls: %u full, %u empty\n",
            (unsigned long long)got, es, cap, (unsigned long long)batches,
            (unsigned long long)singles, (unsigned)st.full_stalls, (unsigned)st.empty_stalls);
    hvc_region_detach(&r);
}

START_TEST(two_process_stream_24)
{
    run_stream(24, 64, 1000000);
}
END_TEST

START_TEST(two_process_stream_8)
{
    run_stream(8, 1024, 1000000);
}
END_TEST

START_TEST(two_process_stream_13)
{
    run_stream(13, 32, 1000000);
}
END_TEST

static Suite *fring_suite(void)
{
    Suite *s = suite_create("fring");
    TCase *tc = tcase_create("fring");
    TCase *two = tcase_create("two_process");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, create_and_errors);
    tcase_add_test(tc, null_and_zeroed_handles);
    tcase_add_test(tc, wrap_around_every_size);
    tcase_add_test(tc, lazy_publication_and_flush);
    tcase_add_test(tc, counters_and_index_wrap);
    tcase_add_test(tc, corrupt_header);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(two, hvct_leak_setup, hvct_leak_teardown);
    tcase_set_timeout(two, 400);
    tcase_add_test(two, two_process_stream_24);
    tcase_add_test(two, two_process_stream_8);
    tcase_add_test(two, two_process_stream_13);
    suite_add_tcase(s, two);
    return s;
}

int main(void)
{
    posix = hvc_platform_posix();
    return hvct_run(fring_suite());
}
