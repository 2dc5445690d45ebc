/*
 * The hostile-core run: core 1 joins region "shm2", opens the objects as
 * a well-behaved writer would, then writes random words at random offsets
 * all over the region (header, peer table, directory, object headers,
 * indices, data) while still sending now and then. Core 0 keeps using
 * every object: each call must give a documented result (data within
 * bounds, EAGAIN, or -HVC_EPROTO and friends for corruption), never a
 * fault (the port's trap handler would fail the run) and never a write
 * outside its objects: guard words around core 0's buffers and around the
 * region are checked afterwards.
 */
#include <hvcomm/hvcomm.h>

#include "bmlib.h"
#include "twocore.h"

#define SCRIBBLES 20000u
#define GUARD 0x5a17c0deu
#define CLEAN 50u

static bool one_of(int rc, const int *ok, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (rc == ok[i])
            return true;
    return false;
}

#define EXPECT(rc, ...)                                                         \
    do {                                                                        \
        static const int ok_[] = {__VA_ARGS__};                                 \
        int r_ = (rc);                                                          \
        if (r_ < 0 && !one_of(r_, ok_, sizeof(ok_) / sizeof(ok_[0]))) {         \
            bm_failures++;                                                      \
            bm_printf("core 0: FAIL hostile: %s = %d (%s)\n", #rc, r_,          \
                      hvc_errname(r_));                                         \
        }                                                                       \
    } while (0)

static const struct hvc_baremetal_region *find(const char *name)
{
    for (uint32_t i = 0; i < board_nregions; i++)
        if (__builtin_strcmp(board_regions[i].name, name) == 0)
            return &board_regions[i];
    return NULL;
}

static void victim(struct hvc_region *r)
{
    struct {
        uint32_t pre[8];
        uint8_t buf[256];
        uint32_t post[8];
    } g;
    struct hvc_ring rx;
    struct hvc_queue qp;
    struct hvc_sampling sp;
    struct hvc_event ev;
    struct hvc_seg seg;
    struct hvc_obj o;
    uint32_t got = 0, proto = 0, calls = 0;
    bool have_ring, have_q, have_s, have_e, have_seg;

    for (int i = 0; i < 8; i++)
        g.pre[i] = g.post[i] = GUARD;
    have_ring = hvc_ring_open(&rx, r, "h.ring", HVC_RING_CONSUMER) == 0;
    have_q = hvc_queue_open(&qp, r, "h.queue", HVC_PORT_READER) == 0;
    have_s = hvc_sampling_open(&sp, r, "h.samp", HVC_PORT_READER) == 0;
    have_e = hvc_event_open(r, "h.ev", 0, NULL, &ev) == 0;
    have_seg = hvc_seg_open(r, "h.seg", 0, &seg) == 0;
    CHECK(have_ring && have_q && have_s && have_e && have_seg);
    hvc_store_release(&ctrl->flag.v, 5); /* opened: send the clean ones */
    /* First the clean messages: exactly what was sent. */
    for (uint32_t i = 0; have_ring && i < CLEAN; i++) {
        uint64_t t0 = board_now_ns();
        int n;

        while ((n = hvc_ring_recv(&rx, g.buf, sizeof(g.buf))) == -HVC_EAGAIN &&
               board_now_ns() - t0 < 60000000000ull)
            hvc_cpu_relax();
        CHECK(n == (int)(1 + i % 60) && g.buf[0] == (uint8_t)i && g.buf[n - 1] == (uint8_t)i);
        if (n < 0)
            break;
    }
    hvc_store_release(&ctrl->flag.v, 6); /* checked: start scribbling */
    do {
        struct hvc_queue_info qi;
        struct hvc_sampling_info si;
        int n;

        calls++;
        if (have_ring) {
            n = hvc_ring_recv(&rx, g.buf, sizeof(g.buf));
            EXPECT(n, -HVC_EAGAIN, -HVC_EPROTO);
            if (n >= 0)
                CHECK(n <= (int)sizeof(g.buf));
            got += n >= 0;
            proto += n == -HVC_EPROTO;
        }
        if (have_q) {
            n = hvc_queue_recv(&qp, g.buf, sizeof(g.buf), &qi);
            EXPECT(n, -HVC_EAGAIN, -HVC_EPROTO, -HVC_EMSGSIZE);
            if (n >= 0)
                CHECK(n <= (int)sizeof(g.buf));
            proto += n == -HVC_EPROTO;
        }
        if (have_s) {
            n = hvc_sampling_read(&sp, g.buf, sizeof(g.buf), &si);
            EXPECT(n, -HVC_EAGAIN, -HVC_EPROTO, -HVC_EMSGSIZE);
            if (n >= 0)
                CHECK(n <= (int)sizeof(g.buf));
        }
        if (have_e)
            EXPECT(hvc_event_trywait(&ev), -HVC_EAGAIN, -HVC_EPROTO);
        if (have_seg) {
            n = hvc_seg_lock_timeout(&seg, 20000);
            EXPECT(n, -HVC_ETIMEDOUT, -HVC_EPROTO, -HVC_EBUSY, -HVC_ENOTRECOVERABLE);
            if (n >= 0)
                EXPECT(hvc_seg_unlock(&seg), -HVC_EPROTO, -HVC_EPERM);
        }
        EXPECT(hvc_region_validate(r), -HVC_EPROTO, -HVC_EMAGIC, -HVC_EVERSION);
        EXPECT(hvc_obj_open(r, "h.ring", HVC_OBJ_ANY, &o), -HVC_ENOENT, -HVC_EPROTO,
               -HVC_ENOTREADY, -HVC_ETYPE);
        EXPECT(hvc_peer_heartbeat(r), -HVC_EPROTO, -HVC_ESTALE);
    } while (hvc_load_acquire(&ctrl->hostile.v) == 0);
    for (int i = 0; i < 8; i++)
        CHECK(g.pre[i] == GUARD && g.post[i] == GUARD);
    bm_printf("  hostile: %u clean messages checked; then %u rounds of calls under "
              "scribbling, %u messages taken, %u EPROTO from the ring\n",
              (unsigned)CLEAN, (unsigned)calls, (unsigned)got, (unsigned)proto);
}

static void scribbler(struct hvc_region *r, const struct hvc_baremetal_region *w)
{
    struct hvc_ring tx;
    struct hvc_queue qp;
    struct hvc_sampling sp;
    uint8_t msg[64] = {1, 2, 3};
    uint32_t seed = 0xdecafbadu;
    uint64_t t0 = board_now_ns();

    CHECK_RC(hvc_ring_open(&tx, r, "h.ring", HVC_RING_PRODUCER), 0);
    CHECK_RC(hvc_queue_open(&qp, r, "h.queue", HVC_PORT_WRITER), 0);
    CHECK_RC(hvc_sampling_open(&sp, r, "h.samp", HVC_PORT_WRITER), 0);
    while (hvc_load_acquire(&ctrl->flag.v) != 5 && board_now_ns() - t0 < 60000000000ull)
        hvc_cpu_relax();
    for (uint32_t i = 0; i < CLEAN; i++) {
        int rc;

        __builtin_memset(msg, (int)(uint8_t)i, sizeof(msg));
        t0 = board_now_ns();
        while ((rc = hvc_ring_send(&tx, msg, 1 + i % 60)) == -HVC_EAGAIN &&
               board_now_ns() - t0 < 60000000000ull)
            hvc_cpu_relax();
        CHECK_RC(rc, 0);
    }
    t0 = board_now_ns();
    while (hvc_load_acquire(&ctrl->flag.v) != 6 && board_now_ns() - t0 < 60000000000ull)
        hvc_cpu_relax();
    for (uint32_t i = 0; i < SCRIBBLES; i++) {
        uint32_t off = (bm_rand(&seed) % (uint32_t)w->size) & ~3u;
        uint32_t v = bm_rand(&seed);

        /* Sometimes a small value (an index or length near the truth is
         * nastier than a random one), sometimes all ones. */
        if (v % 3 == 0)
            v &= 0x3ff;
        else if (v % 7 == 0)
            v = ~0u;
        *(volatile uint32_t *)(w->base + off) = v;
        if (i % 16 == 0) {
            (void)hvc_ring_send(&tx, msg, 1 + v % sizeof(msg));
            (void)hvc_queue_send(&qp, msg, 8);
            (void)hvc_sampling_write(&sp, msg, 16);
        }
        if (i % 64 == 0)
            for (int k = 0; k < 200; k++)
                hvc_cpu_relax(); /* let the victim look at it */
    }
    hvc_store_release(&ctrl->hostile.v, 1);
}

void hostile(uint32_t me, uint32_t *step)
{
    const struct hvc_baremetal_region *w = find("shm2"), *lo = find("shm1"), *hi = find("shm3");
    const struct hvc_platform *ops = backend(me, true);
    struct hvc_ring_attr ra = {.capacity = 1024, .max_msg = 64, .writer = 1};
    struct hvc_queue_attr qa = {.max_msg = 16, .max_count = 8, .policy = HVC_QUEUE_REJECT,
                                .writer = 1};
    struct hvc_sampling_attr sa = {.max_msg = 32, .writer = 1};
    struct hvc_region r;
    struct hvc_ring ring;
    struct hvc_queue q;
    struct hvc_sampling s;
    struct hvc_event ev;
    struct hvc_seg seg;
    volatile uint32_t *below = (volatile uint32_t *)(lo->base + (uintptr_t)lo->size - 256u);
    volatile uint32_t *above = (volatile uint32_t *)hi->base;

    CHECK(w != NULL && lo != NULL && hi != NULL && ops != NULL);
    if (me == 0) {
        for (int i = 0; i < 64; i++)
            below[i] = above[i] = ctrl->guard[i] = GUARD;
    }
    hvc_store_release(&ctrl->hostile.v, 0);
    hvc_store_release(&ctrl->flag.v, 0);
    if (open_region(me, ops, "shm2", &r, step) < 0)
        board_exit(2);
    if (me == 0) {
        CHECK_RC(hvc_ring_create(&ring, &r, "h.ring", &ra), 0);
        CHECK_RC(hvc_queue_create(&q, &r, "h.queue", &qa), 0);
        CHECK_RC(hvc_sampling_create(&s, &r, "h.samp", &sa), 0);
        CHECK_RC(hvc_event_create(&r, "h.ev", NULL, &ev), 0);
        CHECK_RC(hvc_seg_create(&r, "h.seg", 64, &seg), 0);
    }
    barrier(me, ++*step);
    if (me == 0)
        victim(&r);
    else
        scribbler(&r, w);
    barrier(me, ++*step);
    if (me == 0) {
        for (int i = 0; i < 64; i++)
            CHECK(below[i] == GUARD && above[i] == GUARD && ctrl->guard[i] == GUARD);
        (void)hvc_region_detach(&r);
    }
    barrier(me, ++*step);
}
