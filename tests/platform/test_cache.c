/*
 * Cache maintenance on non-coherent memory: a recording backend (the POSIX
 * one plus cache_clean / cache_invalidate methods that log each call) and
 * checks of what every publication and every read cleans and invalidates:
 *
 * - a writer cleans every byte it wrote before it cleans the word that
 *   publishes them, and cleans that word after storing it;
 * - a reader invalidates a published word before it loads it, and the data
 *   the word covers before it reads them;
 * - a side never invalidates a line only it writes (that would drop its
 *   own stores), and never cleans the other side's words.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <string.h>

#include <hvcomm/hvcomm.h>

#define SIZE (1u << 20)
#define MAXLOG 256
#define LINE 64u

enum { CLEAN = 1, INVAL = 2 };

struct op {
    int kind;
    uint64_t lo, hi; /* [lo, hi) offsets in the region, widened to lines */
};

static struct op oplog[MAXLOG];
static int nlog;
static const uint8_t *rbase;
static struct hvc_platform rec;

static void record(int kind, const void *addr, uint64_t len)
{
    uint64_t off = (uint64_t)((const uint8_t *)addr - rbase);

    ck_assert_int_lt(nlog, MAXLOG);
    oplog[nlog].kind = kind;
    oplog[nlog].lo = off & ~(uint64_t)(LINE - 1);
    oplog[nlog].hi = (off + len + LINE - 1) & ~(uint64_t)(LINE - 1);
    nlog++;
}

static void rec_clean(const struct hvc_platform *p, void *state, const void *addr,
                      uint64_t len)
{
    (void)p;
    (void)state;
    if (rbase != NULL)
        record(CLEAN, addr, len);
}

static void rec_invalidate(const struct hvc_platform *p, void *state, const void *addr,
                           uint64_t len)
{
    (void)p;
    (void)state;
    if (rbase != NULL)
        record(INVAL, addr, len);
}

static const struct hvc_platform *rec_platform(void)
{
    rec = *hvc_platform_posix();
    rec.name = "posix+cache-log";
    rec.cache_clean = rec_clean;
    rec.cache_invalidate = rec_invalidate;
    return &rec;
}

/* The index of the first logged op of `kind` covering [off, off+len), at or
 * after `from`; -1 if none. */
static int find(int kind, const void *addr, uint64_t len, int from)
{
    uint64_t off = (uint64_t)((const uint8_t *)addr - rbase);

    for (int i = from; i < nlog; i++)
        if (oplog[i].kind == kind && oplog[i].lo <= off && off + len <= oplog[i].hi)
            return i;
    return -1;
}

/* The last logged op of `kind` covering the range; -1 if none. */
static int find_last(int kind, const void *addr, uint64_t len)
{
    int last = -1;

    for (int i = find(kind, addr, len, 0); i >= 0; i = find(kind, addr, len, i + 1))
        last = i;
    return last;
}

/* No op of `kind` touches [addr, addr+len). */
static void none_touch(int kind, const void *addr, uint64_t len, const char *what)
{
    uint64_t lo = (uint64_t)((const uint8_t *)addr - rbase), hi = lo + len;

    for (int i = 0; i < nlog; i++)
        ck_assert_msg(oplog[i].kind != kind || oplog[i].hi <= lo || oplog[i].lo >= hi,
                      "%s: a %s touches it (op %d)", what, kind == CLEAN ? "clean" : "invalidate",
                      i);
}

static struct hvc_region r;

static void setup(void)
{
    struct hvc_region_config cfg = {.size = SIZE};

    hvct_leak_setup();
    hvct_assert_rc(hvc_region_format(&r, rec_platform(), hvct_region_path("cache"), &cfg), 0);
    ck_assert_uint_ne(hvc_platform_caps(hvc_region_platform(&r)) & HVC_CAP_CACHE, 0);
    ck_assert_int_ge(hvc_peer_join(&r, "cache"), 0);
    rbase = r.base;
    nlog = 0;
}

static void teardown(void)
{
    rbase = NULL;
    hvc_region_detach(&r);
    hvct_leak_teardown();
}

START_TEST(coherent_backend_has_no_cache_cap)
{
    struct hvc_region p;
    struct hvc_region_config cfg = {.size = SIZE};

    hvct_assert_rc(hvc_region_format(&p, hvc_platform_posix(), hvct_region_path("coh"), &cfg), 0);
    ck_assert_uint_eq(hvc_platform_caps(hvc_region_platform(&p)) & HVC_CAP_CACHE, 0);
    hvc_region_detach(&p);
}
END_TEST

START_TEST(sampling_write_and_read)
{
    struct hvc_sampling_attr a = {.max_msg = 200, .writer = -1, .refresh_ns = 1000000000ull};
    struct hvc_sampling w, rd;
    struct hvc_wire_sampling *ws;
    struct hvc_wire_sampling_slot *slot;
    uint8_t msg[150], out[200];
    int c_payload, c_gen, c_latest, i_latest, i_slot, i_gen2;

    memset(msg, 0x77, sizeof(msg));
    hvct_assert_rc(hvc_sampling_create(&w, &r, "s", &a), 0);
    hvct_assert_rc(hvc_sampling_open(&rd, &r, "s", HVC_PORT_READER), 0);
    ws = w.w;
    nlog = 0;
    hvct_assert_rc(hvc_sampling_write(&w, msg, sizeof(msg)), 0);
    slot = (struct hvc_wire_sampling_slot *)(void *)((uint8_t *)ws + ws->hdr_size +
                                                     (size_t)(1 % HVC_SAMPLING_SLOTS) *
                                                         ws->slot_size);
    c_payload = find_last(CLEAN, slot, sizeof(*slot) + sizeof(msg));
    c_gen = find_last(CLEAN, &slot->gen, 4);
    c_latest = find_last(CLEAN, &ws->latest, 4);
    ck_assert_msg(c_payload >= 0, "the payload and slot header are not cleaned");
    ck_assert_msg(c_gen > c_payload, "gen is not cleaned after the payload");
    ck_assert_msg(c_latest > c_gen, "latest is not cleaned last");
    ck_assert_int_eq(c_latest, nlog - 1);
    none_touch(INVAL, ws, ws->hdr_size + HVC_SAMPLING_SLOTS * ws->slot_size,
               "the writer's own port");

    nlog = 0;
    hvct_assert_rc(hvc_sampling_read(&rd, out, sizeof(out), NULL), (int)sizeof(msg));
    ck_assert_mem_eq(out, msg, sizeof(msg));
    i_latest = find(INVAL, &ws->latest, 4, 0);
    i_slot = find(INVAL, slot, sizeof(*slot) + sizeof(msg), 0);
    i_gen2 = find_last(INVAL, &slot->gen, 4);
    ck_assert_msg(i_latest == 0, "latest is not invalidated before it is read");
    ck_assert_msg(i_slot > i_latest, "the slot is not invalidated before it is read");
    ck_assert_msg(i_gen2 > i_slot, "gen is not invalidated again for the seqlock re-check");
    none_touch(CLEAN, ws, ws->hdr_size + HVC_SAMPLING_SLOTS * ws->slot_size,
               "the reader (writes nothing)");
}
END_TEST

START_TEST(queue_send_and_recv)
{
    struct hvc_queue_attr a = {.max_msg = 100, .max_count = 4, .policy = HVC_QUEUE_REJECT, .writer = -1};
    struct hvc_queue w, rd;
    struct hvc_wire_queue *wq;
    struct hvc_wire_queue_slot *slot;
    uint8_t msg[90], out[100];
    int c_slot, c_seq, c_prod, i_prod, i_slot, i_seq2, c_cons;

    memset(msg, 0x31, sizeof(msg));
    hvct_assert_rc(hvc_queue_create(&w, &r, "q", &a), 0);
    hvct_assert_rc(hvc_queue_open(&rd, &r, "q", HVC_PORT_READER), 0);
    wq = w.w;
    slot = (struct hvc_wire_queue_slot *)(void *)((uint8_t *)wq + wq->hdr_size);
    nlog = 0;
    hvct_assert_rc(hvc_queue_send(&w, msg, sizeof(msg)), 0);
    c_slot = find_last(CLEAN, slot, sizeof(*slot) + sizeof(msg));
    c_seq = find_last(CLEAN, &slot->seq, 4);
    c_prod = find_last(CLEAN, &wq->prod, 4);
    ck_assert_msg(c_slot >= 0, "the slot is not cleaned");
    ck_assert_msg(c_seq > c_slot, "seq is not cleaned after the payload");
    ck_assert_msg(c_prod > c_seq && c_prod == nlog - 1, "prod is not cleaned last");
    none_touch(CLEAN, &wq->cons, 4, "the reader's index, by the writer");
    none_touch(INVAL, &wq->prod, 4, "the writer's own index");

    nlog = 0;
    hvct_assert_rc(hvc_queue_recv(&rd, out, sizeof(out), NULL), (int)sizeof(msg));
    ck_assert_mem_eq(out, msg, sizeof(msg));
    i_prod = find(INVAL, &wq->prod, 4, 0);
    i_slot = find(INVAL, slot, sizeof(*slot) + sizeof(msg), 0);
    i_seq2 = find_last(INVAL, &slot->seq, 4);
    c_cons = find_last(CLEAN, &wq->cons, 4);
    ck_assert_msg(i_prod == 0, "prod is not invalidated before it is read");
    ck_assert_msg(i_slot > i_prod, "the slot is not invalidated before it is read");
    ck_assert_msg(i_seq2 > i_slot, "seq is not invalidated for the re-check");
    ck_assert_msg(c_cons == nlog - 1, "cons is not cleaned after its store");
    none_touch(INVAL, &wq->cons, 4, "the reader's own index");
    none_touch(CLEAN, &wq->prod, 4, "the writer's index, by the reader");

    /* A full REJECT queue makes the writer read the reader's index. */
    for (int i = 0; i < 4; i++)
        hvct_assert_rc(hvc_queue_send(&w, msg, 8), 0);
    nlog = 0;
    hvct_assert_rc(hvc_queue_send(&w, msg, 8), -HVC_EAGAIN);
    ck_assert_int_eq(find(INVAL, &wq->cons, 4, 0), 0);
}
END_TEST

START_TEST(ring_send_and_recv)
{
    struct hvc_ring_attr a = {.capacity = 4096, .max_msg = 256, .writer = -1};
    struct hvc_ring prod, cons;
    struct hvc_wire_ring *w;
    struct hvc_ring_msg m[3];
    uint8_t msg[3][100], out[256];
    const uint8_t *data;
    int c_data, c_prod, i_prod, i_data, c_cons;

    hvct_assert_rc(hvc_ring_create(&prod, &r, "ring", &a), 0);
    hvct_assert_rc(hvc_ring_open(&cons, &r, "ring", HVC_RING_CONSUMER), 0);
    w = prod.w;
    data = (const uint8_t *)w + sizeof(*w);
    for (int i = 0; i < 3; i++) {
        memset(msg[i], 0x40 + i, sizeof(msg[i]));
        m[i].data = msg[i];
        m[i].len = sizeof(msg[i]);
    }
    /* Three records, one publication. The consumer finds records by their
     * tags (layout 3), so each record and the "not yet" word after it are
     * cleaned before its tag; the first record's tag is held until the
     * publication (a batch appears at once), then prod is cleaned last. */
    nlog = 0;
    hvct_assert_rc(hvc_ring_send_batch(&prod, m, 3), 3);
    {
        const uint32_t rs = HVC_RING_RECORD_SIZE(100);
        int c_tag[3];

        for (int i = 0; i < 3; i++) {
            const struct hvc_wire_ring_rec *h = (const void *)(data + i * rs);
            const struct hvc_wire_ring_rec *next = (const void *)(data + (i + 1) * rs);
            int c_rec = find(CLEAN, h, rs, 0), c_next = find(CLEAN, &next->tag, 4, 0);

            c_tag[i] = find_last(CLEAN, &h->tag, 4);
            ck_assert_msg(c_rec >= 0 && c_next >= 0, "record %d or the word after it is not cleaned", i);
            ck_assert_msg(c_tag[i] > c_rec && c_tag[i] > c_next,
                          "the tag of record %d is not cleaned after the record", i);
            ck_assert_uint_eq(h->tag, HVC_REC_TAG(i * rs, 100, 0));
            ck_assert_uint_eq(next->tag, i < 2 ? HVC_REC_TAG((i + 1) * rs, 100, 0) : HVC_REC_EMPTY);
        }
        c_data = find_last(CLEAN, data + 2 * rs, rs);
        ck_assert_msg(c_tag[0] > c_data, "the held first tag is not stored after the last record");
        c_prod = find_last(CLEAN, &w->prod, 4);
        ck_assert_msg(c_prod > c_tag[0] && c_prod == nlog - 1, "prod is not cleaned last");
    }
    none_touch(INVAL, data, 3 * HVC_RING_RECORD_SIZE(100), "the producer's own records");
    /* The inline send steps aside on such a region: the out-of-line path
     * cleans the record before its tag, and prod last. */
    nlog = 0;
    hvct_assert_rc(hvc_ring_send(&prod, msg[0], 8), 0);
    ck_assert_int_ge(find(CLEAN, data + 3 * HVC_RING_RECORD_SIZE(100), HVC_RING_RECORD_SIZE(8), 0), 0);
    ck_assert_int_eq(find_last(CLEAN, &w->prod, 4), nlog - 1);

    /* The consumer invalidates the tag word at its head before it loads
     * it, then the record it covers before reading it; it never reads
     * prod (the ring does not block); it cleans cons after its store. */
    nlog = 0;
    for (int i = 0; i < 3; i++) {
        hvct_assert_rc(hvc_ring_recv(&cons, out, sizeof(out)), 100);
        ck_assert_mem_eq(out, msg[i], 100);
    }
    hvct_assert_rc(hvc_ring_recv(&cons, out, sizeof(out)), 8);
    for (int i = 0; i < 4; i++) {
        const uint8_t *rp = data + i * HVC_RING_RECORD_SIZE(100);
        int i_tag = find(INVAL, rp + 4, 4, 0);

        i_data = find(INVAL, rp, HVC_RING_RECORD_SIZE(i < 3 ? 100 : 8), i_tag + 1);
        ck_assert_msg(i_tag >= 0, "the tag of record %d is not invalidated before it is read", i);
        ck_assert_msg(i_data > i_tag, "record %d is not invalidated after its tag", i);
    }
    i_prod = find(INVAL, &w->prod, 4, 0);
    ck_assert_msg(i_prod < 0, "the consumer of a ring that does not block reads prod");
    c_cons = find_last(CLEAN, &w->cons, 4);
    ck_assert_msg(c_cons > i_data, "cons is not cleaned after its store");
    none_touch(CLEAN, data, 4096, "the consumer (writes no record)");
    none_touch(INVAL, &w->cons, 4, "the consumer's own index");
    /* A full ring makes the producer invalidate cons before it reads it. */
    nlog = 0;
    while (hvc_ring_send(&prod, msg[0], 100) == 0)
        ;
    ck_assert_int_ge(find(INVAL, &w->cons, 4, 0), 0);
}
END_TEST

START_TEST(fring_send_and_recv)
{
    struct hvc_fring_attr a = {.elem_size = 24, .capacity = 64, .writer = -1};
    struct hvc_fring prod, cons;
    struct hvc_wire_fring *w;
    uint8_t el[3 * 24], out[3 * 24];
    const uint8_t *data;
    int c_data, c_prod, i_prod, i_data, c_cons;

    hvct_assert_rc(hvc_fring_create(&prod, &r, "fring", &a), 0);
    hvct_assert_rc(hvc_fring_open(&cons, &r, "fring", HVC_FRING_CONSUMER), 0);
    w = prod.w;
    data = (const uint8_t *)w + sizeof(*w);
    for (unsigned i = 0; i < sizeof(el); i++)
        el[i] = (uint8_t)i;
    /* Three elements, one publication: the elements are cleaned before
     * prod, and prod's line after its store. */
    nlog = 0;
    hvct_assert_rc(hvc_fring_send_batch(&prod, el, 3), 3);
    c_data = find_last(CLEAN, data, 3 * 24);
    c_prod = find_last(CLEAN, &w->prod, 4);
    ck_assert_msg(c_data >= 0, "the elements are not cleaned");
    ck_assert_msg(c_prod > c_data && c_prod == nlog - 1, "prod is not cleaned last");
    none_touch(INVAL, data, 3 * 24, "the producer's own elements");
    /* The inline send takes the out-of-line path on such a region. */
    nlog = 0;
    hvct_assert_rc(hvc_fring_send(&prod, el), 0);
    ck_assert_int_ge(find(CLEAN, data + 3 * 24, 24, 0), 0);
    ck_assert_int_eq(find_last(CLEAN, &w->prod, 4), nlog - 1);
    /* The consumer invalidates prod before it loads it, then the elements
     * it covers before reading them; it cleans cons after its store. */
    nlog = 0;
    hvct_assert_rc(hvc_fring_recv_batch(&cons, out, 3), 3);
    ck_assert_mem_eq(out, el, sizeof(el));
    hvct_assert_rc(hvc_fring_recv(&cons, out), 0);
    ck_assert_mem_eq(out, el, 24);
    i_prod = find(INVAL, &w->prod, 4, 0);
    i_data = find(INVAL, data, 4 * 24, 0);
    c_cons = find_last(CLEAN, &w->cons, 4);
    ck_assert_msg(i_prod == 0, "prod is not invalidated before it is read");
    ck_assert_msg(i_data > i_prod, "the elements are not invalidated after prod, before reading");
    ck_assert_msg(c_cons > i_data, "cons is not cleaned after its store");
    none_touch(CLEAN, data, 64 * 24, "the consumer (writes no element)");
    none_touch(INVAL, &w->cons, 4, "the consumer's own index");
    /* A full ring makes the producer invalidate cons before it reads it. */
    nlog = 0;
    while (hvc_fring_send(&prod, el) == 0)
        ;
    ck_assert_int_ge(find(INVAL, &w->cons, 4, 0), 0);
    none_touch(INVAL, &w->prod, 4, "the producer's own index");
}
END_TEST

int main(void)
{
    return hvct_main("cache maintenance", setup, teardown, 0,
                     HVCT_TESTS(coherent_backend_has_no_cache_cap, sampling_write_and_read,
                                queue_send_and_recv, ring_send_and_recv,
                                fring_send_and_recv));
}
