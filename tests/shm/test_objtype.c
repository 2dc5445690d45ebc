/* The object-type list (HVC_OBJ_TYPE_MAP): every descriptor against the
 * objects the modules make, the shared prologue hvc_obj_validate(), and a
 * newer peer's feature flag refused as -HVC_ENOTSUP by every type, counted
 * apart from protocol errors. */
#include "testutil.h"

#include <string.h>

static void setup(void)
{
    hvct_leak_setup();
}

static struct hvc_region reg;

static void make(void)
{
    hvct_make_region(&reg, "objtype", 1u << 20, 4, 32);
    ck_assert_int_ge(hvc_peer_join(&reg, "maker"), 0);
}

/* Every row of the list: one descriptor, found by its type, consistent. */
START_TEST(table)
{
    unsigned rows = 0;

#define ROW(NAME, nm, p_magic, p_version, p_hdr, p_flags_at, p_known, p_writer_at)     \
    do {                                                                               \
        const struct hvc_obj_desc *d = hvc_obj_type_desc(HVC_OBJ_##NAME);              \
        ck_assert_ptr_eq(d, &hvc__objdesc_##nm);                                       \
        ck_assert_uint_eq(d->type, HVC_OBJ_##NAME);                                    \
        ck_assert_str_eq(d->name, #nm);                                                \
        ck_assert_str_eq(hvc_obj_type_name(HVC_OBJ_##NAME), #nm);                      \
        ck_assert_uint_eq(d->magic, (p_magic));                                        \
        ck_assert_uint_eq(d->version, (p_version));                                    \
        ck_assert_uint_eq(d->hdr_size, (p_hdr));                                       \
        ck_assert_uint_eq(d->known_flags, (p_known));                                  \
        ck_assert_uint_eq(d->flags_at, (p_flags_at));                                  \
        ck_assert_uint_eq(d->writer_at, (p_writer_at));                                \
        if (d->magic != 0) {                                                           \
            ck_assert_uint_ge(d->flags_at, 8);                                         \
            ck_assert_uint_le(d->flags_at + 4u, d->hdr_size);                          \
            ck_assert_uint_ne(d->flags_at, d->writer_at);                              \
        }                                                                              \
        rows++;                                                                        \
    } while (0);
    HVC_OBJ_TYPE_MAP(ROW)
#undef ROW
    /* The types are 1..rows, each with its descriptor, and nothing after. */
    ck_assert_uint_ge(rows, HVC_OBJ_BRIDGE);
    for (uint32_t t = 1; t <= rows; t++)
        ck_assert_ptr_nonnull(hvc_obj_type_desc(t));
    ck_assert_ptr_null(hvc_obj_type_desc(HVC_OBJ_ANY));
    ck_assert_ptr_null(hvc_obj_type_desc(rows + 1));
    ck_assert_ptr_null(hvc_obj_type_desc(HVC_OBJ_USER));
    ck_assert_str_eq(hvc_obj_type_name(HVC_OBJ_ANY), "any");
    ck_assert_str_eq(hvc_obj_type_name(HVC_OBJ_USER + 7), "user");
    ck_assert_str_eq(hvc_obj_type_name(rows + 1), "?");
    /* Each type its own version constant; the values on the wire unchanged. */
    ck_assert_uint_eq(HVC_RING_VERSION, 3); /* v3: tag polling (doc/ring.md) */
    ck_assert_uint_eq(HVC_SAMPLING_VERSION, 1);
    ck_assert_uint_eq(HVC_QUEUE_VERSION, 1);
    ck_assert_uint_eq(HVC_FRING_VERSION, 1);
    ck_assert_uint_eq(HVC_WIRE_EVENT_VERSION, 1);
    ck_assert_uint_eq(HVC_WIRE_SEG_VERSION, 1);
    ck_assert_uint_eq(HVC_WIRE_BELLS_VERSION, 1);
}
END_TEST

/* One object of each core type, made by its module. */
struct objs {
    struct hvc_obj o[HVC_OBJ_QUEUE + 1];
};

static void make_all(struct objs *x)
{
    struct hvc_event ev;
    struct hvc_seg seg;
    struct hvc_ring ring;
    struct hvc_sampling sp;
    struct hvc_queue qp;
    struct hvc_ring_attr ra = {.max_msg = 64, .writer = -1};
    struct hvc_sampling_attr sa = {.max_msg = 16, .writer = -1, .refresh_ns = 1000000000ull};
    struct hvc_queue_attr qa = {.max_msg = 16, .max_count = 4, .writer = -1};

    hvct_assert_rc(hvc_event_create(&reg, "ev", NULL, &ev), 0);
    hvct_assert_rc(hvc_event_close(&ev), 0);
    hvct_assert_rc(hvc_seg_create(&reg, "seg", 100, &seg), 0);
    hvct_assert_rc(hvc_seg_close(&seg), 0);
    hvct_assert_rc(hvc_ring_create(&ring, &reg, "ring", &ra), 0);
    hvct_assert_rc(hvc_sampling_create(&sp, &reg, "samp", &sa), 0);
    hvct_assert_rc(hvc_queue_create(&qp, &reg, "queue", &qa), 0);
    hvct_assert_rc(hvc_obj_open(&reg, "ev", HVC_OBJ_EVENT, &x->o[HVC_OBJ_EVENT]), 0);
    hvct_assert_rc(hvc_obj_open(&reg, "seg", HVC_OBJ_SEGMENT, &x->o[HVC_OBJ_SEGMENT]), 0);
    hvct_assert_rc(hvc_obj_open(&reg, "ring", HVC_OBJ_RING, &x->o[HVC_OBJ_RING]), 0);
    hvct_assert_rc(hvc_obj_open(&reg, "samp", HVC_OBJ_SAMPLING, &x->o[HVC_OBJ_SAMPLING]), 0);
    hvct_assert_rc(hvc_obj_open(&reg, "queue", HVC_OBJ_QUEUE, &x->o[HVC_OBJ_QUEUE]), 0);
}

/* Open the object of type t as its module does (the attach path). */
static int open_typed(uint32_t t)
{
    struct hvc_event ev;
    struct hvc_seg seg;
    struct hvc_ring ring;
    struct hvc_sampling sp;
    struct hvc_queue qp;
    int rc = -HVC_EINVAL;

    switch (t) {
    case HVC_OBJ_EVENT:
        rc = hvc_event_open(&reg, "ev", 0, NULL, &ev);
        if (rc == 0)
            hvct_assert_rc(hvc_event_close(&ev), 0);
        break;
    case HVC_OBJ_SEGMENT:
        rc = hvc_seg_open(&reg, "seg", 0, &seg);
        if (rc == 0)
            hvct_assert_rc(hvc_seg_close(&seg), 0);
        break;
    case HVC_OBJ_RING: rc = hvc_ring_open(&ring, &reg, "ring", HVC_RING_CONSUMER); break;
    case HVC_OBJ_SAMPLING: rc = hvc_sampling_open(&sp, &reg, "samp", HVC_PORT_READER); break;
    case HVC_OBJ_QUEUE: rc = hvc_queue_open(&qp, &reg, "queue", HVC_PORT_READER); break;
    }
    return rc;
}

/* Stats, the tools' path, of the object of type t. */
static int stats_typed(uint32_t t, const struct hvc_obj *o)
{
    struct hvc_event_stats es;
    struct hvc_seg_stats ss;
    struct hvc_ring_stats rs;
    struct hvc_sampling_stats ps;
    struct hvc_queue_stats qs;

    switch (t) {
    case HVC_OBJ_EVENT:
        hvct_assert_rc(hvc_event_stats(&reg, o, &es), 0);
        return es.valid ? 0 : -HVC_EPROTO;
    case HVC_OBJ_SEGMENT:
        hvct_assert_rc(hvc_seg_stats(&reg, o, &ss), 0);
        return ss.valid ? 0 : -HVC_EPROTO;
    case HVC_OBJ_RING: return hvc_ring_stats(&reg, o, &rs);
    case HVC_OBJ_SAMPLING: return hvc_sampling_stats(&reg, o, &ps);
    case HVC_OBJ_QUEUE: return hvc_queue_stats(&reg, o, &qs);
    }
    return -HVC_EINVAL;
}

/* What the modules make is what their descriptors say. */
START_TEST(descriptors_match_objects)
{
    struct objs x;

    make();
    make_all(&x);
    for (uint32_t t = HVC_OBJ_EVENT; t <= HVC_OBJ_QUEUE; t++) {
        const struct hvc_obj_desc *d = hvc_obj_type_desc(t);
        const uint32_t *w = x.o[t].ptr;
        uint32_t f = 0xdead;

        ck_assert_uint_eq(w[0], d->magic);
        ck_assert_uint_eq(w[1], d->version);
        ck_assert_uint_ge(x.o[t].size, d->hdr_size);
        hvct_assert_rc(hvc_obj_validate(&reg, &x.o[t], d, &f), 0);
        ck_assert_uint_eq(f, w[d->flags_at / 4]);
        if (d->writer_at != 0)
            ck_assert_uint_eq(w[d->writer_at / 4], (uint32_t)hvc_peer_self(&reg));
        hvct_assert_rc(open_typed(t), 0);
        hvct_assert_rc(stats_typed(t, &x.o[t]), 0);
    }
    hvct_assert_rc(hvc_region_detach(&reg), 0);
}
END_TEST

/* A feature flag this build does not know, in each type's immutable line,
 * as a newer peer would set it: every open and stats call says "not
 * supported", counted as such and not as a protocol error; without the bit
 * the object opens again. */
START_TEST(unknown_flag_is_unsupported)
{
    struct objs x;
    struct hvc_region_info info;
    uint32_t unsupp = 0;

    make();
    make_all(&x);
    for (uint32_t t = HVC_OBJ_EVENT; t <= HVC_OBJ_QUEUE; t++) {
        const struct hvc_obj_desc *d = hvc_obj_type_desc(t);
        uint32_t *flags = (uint32_t *)x.o[t].ptr + d->flags_at / 4;
        uint32_t saved = *flags;

        for (int bit = 0; bit < 32; bit++) {
            if (d->known_flags & (1u << bit))
                continue;
            *flags = saved | (1u << bit);
            hvct_assert_rc(open_typed(t), -HVC_ENOTSUP);
            hvct_assert_rc(hvc_obj_validate(&reg, &x.o[t], d, NULL), -HVC_ENOTSUP);
            unsupp += 2;
            if (bit == 31) {
                ck_assert_int_ne(stats_typed(t, &x.o[t]), 0);
                unsupp++;
            }
        }
        *flags = saved;
        hvct_assert_rc(open_typed(t), 0);
        hvct_assert_rc(hvc_region_info(&reg, &info), 0);
        ck_assert_msg(info.unsupported == unsupp, "%s: unsupported %u, expected %u", d->name,
                      info.unsupported, unsupp);
        ck_assert_uint_eq(info.proto_errors, 0);
    }
    ck_assert_uint_eq(reg.proto_errors, 0);
    hvct_assert_rc(hvc_region_detach(&reg), 0);
}
END_TEST

/* The ring's one known flag (blocking) is no reason to refuse it. */
START_TEST(known_flag_is_accepted)
{
    struct hvc_ring ring;
    struct hvc_ring_attr ra = {.max_msg = 64, .writer = -1, .flags = HVC_RING_BLOCKING};
    struct hvc_obj o;
    uint32_t f = 0;

    make();
    hvct_assert_rc(hvc_ring_create(&ring, &reg, "blk", &ra), 0);
    hvct_assert_rc(hvc_obj_open(&reg, "blk", HVC_OBJ_RING, &o), 0);
    hvct_assert_rc(hvc_obj_validate(&reg, &o, &hvc__objdesc_ring, &f), 0);
    ck_assert_uint_eq(f, HVC_RING_WF_BLOCKING);
    hvct_assert_rc(hvc_ring_open(&ring, &reg, "blk", HVC_RING_CONSUMER), 0);
    hvct_assert_rc(hvc_region_detach(&reg), 0);
}
END_TEST

/* Every documented error of the shared prologue. */
START_TEST(validate_errors)
{
    struct objs x;
    struct hvc_obj o;
    struct hvc_region_info info;
    uint32_t *w;

    make();
    make_all(&x);
    o = x.o[HVC_OBJ_RING];
    w = o.ptr;
    hvct_assert_rc(hvc_obj_validate(&reg, &o, NULL, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_obj_validate(&reg, NULL, &hvc__objdesc_ring, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_obj_validate(&reg, &o, &hvc__objdesc_raw, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_obj_validate(&reg, &o, &hvc__objdesc_queue, NULL), -HVC_ETYPE);
    /* r NULL: checked, not counted */
    hvct_assert_rc(hvc_obj_validate(NULL, &o, &hvc__objdesc_ring, NULL), 0);
    w[1] = HVC_RING_VERSION + 1;
    hvct_assert_rc(hvc_obj_validate(&reg, &o, &hvc__objdesc_ring, NULL), -HVC_EVERSION);
    w[1] = HVC_RING_VERSION;
    w[0] = 0;
    hvct_assert_rc(hvc_obj_validate(&reg, &o, &hvc__objdesc_ring, NULL), -HVC_ENOTREADY);
    w[0] = HVC_QUEUE_MAGIC;
    hvct_assert_rc(hvc_obj_validate(&reg, &o, &hvc__objdesc_ring, NULL), -HVC_EPROTO);
    w[0] = HVC_RING_MAGIC;
    /* The writer in the object is not the directory's. */
    w[offsetof(struct hvc_wire_ring, writer) / 4] ^= 1;
    hvct_assert_rc(hvc_obj_validate(&reg, &o, &hvc__objdesc_ring, NULL), -HVC_EPROTO);
    hvct_assert_rc(open_typed(HVC_OBJ_RING), -HVC_EPROTO);
    w[offsetof(struct hvc_wire_ring, writer) / 4] ^= 1;
    o.size = 64;
    hvct_assert_rc(hvc_obj_validate(&reg, &o, &hvc__objdesc_ring, NULL), -HVC_EPROTO);
    hvct_assert_rc(hvc_region_info(&reg, &info), 0);
    ck_assert_uint_eq(info.proto_errors, 4);
    ck_assert_uint_eq(info.unsupported, 0);
    /* hvc_obj_check_header(): the same check without flags and writer. */
    w[offsetof(struct hvc_wire_ring, flags) / 4] = 0x80000000u;
    hvct_assert_rc(hvc_obj_check_header(&x.o[HVC_OBJ_RING], HVC_OBJ_RING,
                                        sizeof(struct hvc_wire_ring), HVC_RING_MAGIC,
                                        HVC_RING_VERSION), 0);
    hvct_assert_rc(hvc_obj_check_header(&x.o[HVC_OBJ_RING], HVC_OBJ_RING, 64, 0,
                                        HVC_RING_VERSION), -HVC_EINVAL);
    hvct_assert_rc(hvc_region_detach(&reg), 0);
}
END_TEST

int main(void)
{
    return hvct_main("objtype", setup, hvct_leak_teardown, 0,
                     HVCT_TESTS(table, descriptors_match_objects, unknown_flag_is_unsupported,
                                known_flag_is_accepted, validate_errors));
}
