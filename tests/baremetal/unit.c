/*
 * The core's unit tests on one Cortex-M4 (mps2-an386), built with picolibc
 * and run under semihosting: regions, the directory, hostile-region checks,
 * rings, ports, events, segments, and the bare-metal backend's own checks.
 * Two peers live on the one core: two region handles on one window, each
 * joined (the backend has no fixed ids here: join picks free slots).
 * A small runner instead of Check (which needs fork and an OS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvcomm/baremetal.h>
#include <hvcomm/hvcomm.h>
#include <hvcomm/ivshmem.h>

#include "../../ports/mps2-an386/an386.h"

static unsigned failures, checks;
static const char *current;

#define T(c)                                                                    \
    do {                                                                        \
        checks++;                                                               \
        if (!(c)) {                                                             \
            failures++;                                                         \
            printf("FAIL %s %s:%d: %s\n", current, __FILE__, __LINE__, #c);     \
        }                                                                       \
    } while (0)
#define T_RC(expr, want)                                                        \
    do {                                                                        \
        int rc_ = (expr), want_ = (want);                                       \
        checks++;                                                               \
        if (rc_ != want_) {                                                     \
            failures++;                                                         \
            printf("FAIL %s %s:%d: %s = %s, want %s\n", current, __FILE__,      \
                   __LINE__, #expr, hvc_errname(rc_), hvc_errname(want_));      \
        }                                                                       \
    } while (0)

#define WIN 65536u
static uint8_t win[2][WIN] __attribute__((aligned(64)));
static const struct hvc_baremetal_region regions[] = {
    {"w0", (uintptr_t)win[0], WIN},
    {"w1", (uintptr_t)win[1], WIN},
};
static struct hvc_baremetal bm;
static const struct hvc_platform *ops;

static uint64_t now_hook(void *ctx)
{
    (void)ctx;
    return an386_now_ns();
}

static struct hvc_baremetal_desc desc(void)
{
    return (struct hvc_baremetal_desc){
        .regions = regions, .nregions = 2, .ncores = 1,
        .peer_id = HVC_BAREMETAL_PEER_FREE,
        .timer = {.now_ns = now_hook},
    };
}

/* Two joined peers on window w0, freshly formatted. */
static struct hvc_region ra, rb;
static void two_peers(void)
{
    struct hvc_region_config cfg = {.max_peers = 4, .max_objects = 32,
                                    .flags = HVC_FORMAT_FORCE};

    hvc_region_detach(&ra);
    hvc_region_detach(&rb);
    T_RC(hvc_region_format(&ra, ops, "w0", &cfg), 0);
    T_RC(hvc_peer_join(&ra, "a"), 0);
    T_RC(hvc_region_attach(&rb, ops, "w0", 0), 0);
    T_RC(hvc_peer_join(&rb, "b"), 1);
}

/* ---- the backend ---- */

static int core0(void *ctx)
{
    (void)ctx;
    return 0;
}

static int drv_send(void *ctx, uint32_t peer, uint32_t ch)
{
    (void)ctx;
    (void)peer;
    (void)ch;
    return 0;
}

static uint32_t drv_ack(void *ctx, uint32_t self, uint32_t source)
{
    (void)ctx;
    (void)self;
    return 1u << source;
}

static const struct hvc_doorbell_driver drv = {
    .name = "test", .max_channels = 4, .send = drv_send, .ack = drv_ack,
};

static void test_backend(void)
{
    struct hvc_baremetal x;
    struct hvc_baremetal_desc d = desc();
    struct hvc_baremetal_region bad[1] = {{"odd", (uintptr_t)win[1] + 4, 8192}};
    struct hvc_platform_handle h;
    uint64_t tok, t0, t1;

    T_RC(hvc_baremetal_init(NULL, &d), -HVC_EINVAL);
    d.timer.now_ns = NULL;
    T_RC(hvc_baremetal_init(&x, &d), -HVC_EINVAL);
    d = desc();
    d.regions = bad;
    d.nregions = 1;
    T_RC(hvc_baremetal_init(&x, &d), -HVC_EINVAL);
    d = desc();
    d.doorbell = &drv; /* doorbells need a core id */
    T_RC(hvc_baremetal_init(&x, &d), -HVC_EINVAL);
    d.core_id = core0;
    d.peer_id = 1; /* ... and the peer id must be that core id */
    T_RC(hvc_baremetal_init(&x, &d), -HVC_EINVAL);
    T(hvc_platform_baremetal(NULL) == NULL);

    T_RC(hvc_platform_check(ops), 0);
    T_RC(hvc_platform_open(&h, ops, "nope", 0, 0), -HVC_ENOENT);
    T_RC(hvc_platform_open(&h, ops, "w1", WIN + 1, HVC_MAP_CREATE), -HVC_ENOMEM);
    T_RC(hvc_platform_open(&h, ops, "w1", 0, 0), 0);
    T(h.base == win[1] && h.size == WIN);
    T_RC(hvc_platform_self_id(&h), -HVC_ENOTSUP);
    T_RC(hvc_platform_self_token(&h, &tok), 0);
    T(tok == 0);
    T(hvc_platform_caps(&h) == 0); /* no doorbell driver: everything polls */
    T_RC(hvc_platform_notify(&h, 0, 0), -HVC_ENOTSUP);
    T_RC(hvc_platform_peer_alive(&h, 0, 1), -HVC_ENOTSUP);
    T_RC(hvc_platform_unlink(ops, "w1"), -HVC_ENOTSUP);
    t0 = hvc_platform_now(&h);
    T_RC(hvc_platform_wait_word(&h, (const uint32_t *)win[1], 0x12345678u, 2000000), 0);
    *(uint32_t *)win[1] = 7;
    T_RC(hvc_platform_wait_word(&h, (const uint32_t *)win[1], 7, 2000000), -HVC_ETIMEDOUT);
    t1 = hvc_platform_now(&h);
    T(t1 - t0 >= 2000000);
    T_RC(hvc_platform_close(&h), 0);

    /* A core-id peer: fixed id and a token with the low 22 bits clear. */
    d = desc();
    d.core_id = core0;
    d.peer_id = HVC_BAREMETAL_PEER_CORE;
    T_RC(hvc_baremetal_init(&x, &d), 0);
    T_RC(hvc_platform_open(&h, hvc_platform_baremetal(&x), "w1", 0, 0), 0);
    T_RC(hvc_platform_self_id(&h), 0);
    T_RC(hvc_platform_self_token(&h, &tok), 0);
    T(tok == HVC_BAREMETAL_TOKEN(0) && (tok & 0x3fffffu) == 0 && tok != 0);
    T(hvc_platform_caps(&h) == HVC_CAP_SELF_ID);
    T_RC(hvc_platform_close(&h), 0);

    /* With a driver: the ISR hook records channels, wait_notify takes them
     * one at a time, vectors fold onto the channels. */
    d.doorbell = &drv;
    d.ncores = 2;
    T_RC(hvc_baremetal_init(&x, &d), 0);
    T_RC(hvc_platform_open(&h, hvc_platform_baremetal(&x), "w1", 0, 0), 0);
    T(hvc_platform_caps(&h) == (HVC_CAP_SELF_ID | HVC_CAP_NOTIFY | HVC_CAP_WAIT_NOTIFY |
                                HVC_CAP_WAIT_WORD));
    {
        struct hvc_baremetal_stats st;
        uint32_t vec = 99;

        T_RC(hvc_platform_notify(&h, 1, 6), 0);
        T_RC(hvc_platform_notify(&h, 2, 0), -HVC_EINVAL);
        T_RC(hvc_platform_wait_notify(&h, 0, &vec), -HVC_ETIMEDOUT);
        hvc_baremetal_irq(&x, 3);
        hvc_baremetal_irq(&x, 1);
        T_RC(hvc_platform_wait_notify(&h, 0, &vec), 0);
        T(vec == 1);
        T_RC(hvc_platform_wait_notify(&h, HVC_FOREVER, &vec), 0);
        T(vec == 3);
        /* A doorbell ends a wait_word even when the word did not move. */
        *(uint32_t *)win[1] = 5;
        hvc_baremetal_irq(&x, 0);
        T_RC(hvc_platform_wait_notify(&h, 0, &vec), 0);
        T_RC(hvc_platform_wait_word(&h, (const uint32_t *)win[1], 5, 1000000), -HVC_ETIMEDOUT);
        T_RC(hvc_baremetal_stats(&x, &st), 0);
        T(st.irqs == 3 && st.sent == 1 && st.send_errors == 0);
    }
    T_RC(hvc_platform_close(&h), 0);

    /* Another token namespace (an ivshmem guest): published as given. */
    d = desc();
    d.core_id = core0;
    d.peer_id = HVC_BAREMETAL_PEER_CORE;
    d.token_ns = HVC_TOKEN_NS_IVSHMEM;
    T_RC(hvc_baremetal_init(&x, &d), -HVC_EINVAL); /* no token */
    d.token = HVC_IVSHMEM_TOKEN(0);
    T_RC(hvc_baremetal_init(&x, &d), 0);
    T_RC(hvc_platform_open(&h, hvc_platform_baremetal(&x), "w1", 0, 0), 0);
    T_RC(hvc_platform_self_token(&h, &tok), 0);
    T(tok == HVC_IVSHMEM_TOKEN(0));
    T(hvc_platform_token_ns(&h) == HVC_TOKEN_NS_IVSHMEM);
    T_RC(hvc_platform_close(&h), 0);

    /* The ivshmem driver on a RAM stand-in for BAR0: the Doorbell word
     * gets (peer << 16) | 0, ack maps only the routed identity. */
    {
        static uint32_t regs[64];
        struct hvc_ivshmem_bm_ctx c = {(uintptr_t)regs, 16};
        const struct hvc_doorbell_driver *iv = hvc_doorbell_ivshmem();

        T(iv != NULL && iv->max_channels == 1);
        T_RC(iv->send(&c, 3, 0), 0);
        T(regs[HVC_IVSHMEM_REG_DOORBELL / 4] == 3u << 16);
        T_RC(iv->send(&c, 0x10000, 0), -HVC_EINVAL);
        T(regs[HVC_IVSHMEM_REG_DOORBELL / 4] == 3u << 16);
        T(iv->ack(&c, 0, 16) == 1u && iv->ack(&c, 0, 17) == 0u && iv->ack(&c, 0, 0) == 0u);
    }
}

/* ---- regions and peers ---- */

static void test_region(void)
{
    struct hvc_region_config cfg = {.max_peers = 4, .max_objects = 32};
    struct hvc_region_info ri;
    struct hvc_peer_info pi;
    struct hvc_region r;

    T_RC(hvc_region_format(&r, ops, "w0", NULL), -HVC_EINVAL);
    cfg.size = 100;
    T_RC(hvc_region_format(&r, ops, "w0", &cfg), -HVC_EINVAL);
    cfg.size = 0;
    cfg.max_peers = HVC_MAX_PEERS + 1;
    T_RC(hvc_region_format(&r, ops, "w0", &cfg), -HVC_EINVAL);
    cfg.max_peers = 4;
    cfg.flags = HVC_FORMAT_FORCE;
    T_RC(hvc_region_format(&r, ops, "nope", &cfg), -HVC_ENOENT);
    two_peers();
    T_RC(hvc_region_info(&ra, &ri), 0);
    T(ri.size == WIN && ri.max_peers == 4 && ri.max_objects == 32 && ri.peers_ready == 2);
    T_RC(hvc_peer_info(&rb, 0, &pi), 0);
    T(pi.state == HVC_PEER_READY && strcmp(pi.label, "a") == 0);
    T_RC(hvc_peer_info(&rb, 9, &pi), -HVC_EINVAL);
    T_RC(hvc_peer_join(&ra, "again"), -HVC_EBUSY);
    T_RC(hvc_peer_heartbeat(&ra), 0);
    T_RC(hvc_region_validate(&rb), 0);
    /* A live region is not formatted again without FORCE. */
    cfg.flags = 0;
    T_RC(hvc_region_format(&r, ops, "w0", &cfg), -HVC_EBUSY);
    T_RC(hvc_peer_leave(&rb), 0);
    T_RC(hvc_peer_leave(&rb), -HVC_EINVAL);
    T_RC(hvc_region_info(&ra, &ri), 0);
    T(ri.peers_ready == 1);
}

/* ---- directory ---- */

static void test_directory(void)
{
    struct hvc_obj_spec spec = {.name = "obj", .type = HVC_OBJ_RAW, .size = 100,
                                .writer = HVC_PEER_ANY};
    char longname[HVC_NAME_MAX + 2];
    struct hvc_obj o, p;
    int i, rc;

    two_peers();
    T_RC(hvc_obj_create(&ra, &spec, &o), 0);
    T(o.size >= 100 && o.size % HVC_CACHELINE == 0 && o.type == HVC_OBJ_RAW);
    T((uintptr_t)o.ptr >= (uintptr_t)win[0] && (uintptr_t)o.ptr + o.size <= (uintptr_t)win[0] + WIN);
    T_RC(hvc_obj_create(&rb, &spec, &p), -HVC_EEXIST);
    T_RC(hvc_obj_open(&rb, "obj", HVC_OBJ_RAW, &p), 0);
    T(p.offset == o.offset && p.size == o.size && p.creator == 0);
    T_RC(hvc_obj_open(&rb, "obj", HVC_OBJ_RING, &p), -HVC_ETYPE);
    T_RC(hvc_obj_open(&rb, "none", HVC_OBJ_ANY, &p), -HVC_ENOENT);
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    spec.name = longname;
    T_RC(hvc_obj_create(&ra, &spec, &p), -HVC_ENAMETOOLONG);
    spec.name = "obj";
    spec.type = HVC_OBJ_ANY;
    T_RC(hvc_obj_create(&ra, &spec, &p), -HVC_EINVAL);
    T_RC(hvc_obj_delete(&rb, "obj"), 0);
    T_RC(hvc_obj_open(&ra, "obj", HVC_OBJ_ANY, &p), -HVC_ENOENT);
    T_RC(hvc_obj_check(&ra, &o), -HVC_ESTALE);
    /* Fill the directory: the 33rd object has no entry. */
    spec.type = HVC_OBJ_RAW;
    spec.size = 64;
    for (i = 0, rc = 0; i < 40 && rc == 0; i++) {
        char name[8] = "o00";

        name[1] = (char)('0' + i / 10);
        name[2] = (char)('0' + i % 10);
        spec.name = name;
        rc = hvc_obj_create(&ra, &spec, &p);
    }
    T_RC(rc, -HVC_ENOSPC);
    T(i == 33);
    /* And the heap: one object bigger than what is left. */
    two_peers();
    spec.name = "big";
    spec.size = WIN;
    T_RC(hvc_obj_create(&ra, &spec, &p), -HVC_ENOSPC);
}

/* ---- hostile regions: every corruption is an error code ---- */

static void test_hostile_region(void)
{
    struct hvc_wire_header *h = (struct hvc_wire_header *)win[0];
    struct hvc_obj_spec spec = {.name = "obj", .type = HVC_OBJ_RAW, .size = 64,
                                .writer = HVC_PEER_ANY};
    struct hvc_wire_header save;
    struct hvc_region r;
    struct hvc_obj o;

    two_peers();
    T_RC(hvc_obj_create(&ra, &spec, &o), 0);
    save = *h;
    h->magic ^= 1;
    T_RC(hvc_region_attach(&r, ops, "w0", 0), -HVC_EMAGIC);
    *h = save;
    h->version = 999;
    T_RC(hvc_region_attach(&r, ops, "w0", 0), -HVC_EVERSION);
    *h = save;
    h->region_size = WIN * 2;
    T_RC(hvc_region_attach(&r, ops, "w0", 0), -HVC_EPROTO);
    *h = save;
    h->peer_offset = WIN - 8;
    T_RC(hvc_region_attach(&r, ops, "w0", 0), -HVC_EPROTO);
    *h = save;
    h->dir_offset = h->peer_offset;
    T_RC(hvc_region_attach(&r, ops, "w0", 0), -HVC_EPROTO);
    *h = save;
    h->heap_offset = WIN + 64;
    T_RC(hvc_region_attach(&r, ops, "w0", 0), -HVC_EPROTO);
    *h = save;
    h->max_peers = 0xffffffffu;
    T_RC(hvc_region_attach(&r, ops, "w0", 0), -HVC_EPROTO);
    *h = save;
    T_RC(hvc_region_attach(&r, ops, "w0", 0), 0);
    hvc_region_detach(&r);
    /* A directory entry pointing outside the heap. */
    {
        struct hvc_wire_dirent *e =
            (struct hvc_wire_dirent *)(win[0] + save.dir_offset) + o.index;
        struct hvc_wire_dirent keep = *e;
        uint32_t *w = (uint32_t *)e;

        for (unsigned k = 0; k < sizeof(*e) / 4; k++) {
            *e = keep;
            w[k] ^= 0x40000000u;
            int rc = hvc_obj_open(&rb, "obj", HVC_OBJ_ANY, &o);
            T(rc == 0 || rc == -HVC_EPROTO || rc == -HVC_ENOENT || rc == -HVC_ETYPE ||
              rc == -HVC_EAGAIN);
            if (rc == 0)
                T((uintptr_t)o.ptr >= (uintptr_t)win[0] &&
                  (uintptr_t)o.ptr + o.size <= (uintptr_t)win[0] + WIN);
        }
        *e = keep;
        T_RC(hvc_obj_open(&rb, "obj", HVC_OBJ_ANY, &o), 0);
    }
}

/* ---- rings ---- */

static void test_ring(void)
{
    struct hvc_ring_attr at = {.capacity = 512, .max_msg = 100, .writer = 0};
    struct hvc_ring tx, rx;
    uint8_t out[128], in[128];
    uint32_t seed = 1, sent = 0, got = 0;

    two_peers();
    T_RC(hvc_ring_create(&tx, &ra, "r", &at), 0);
    T_RC(hvc_ring_open(&rx, &rb, "r", HVC_RING_CONSUMER), 0);
    T_RC(hvc_ring_open(&tx, &rb, "r", HVC_RING_PRODUCER), -HVC_EPERM);
    T(hvc_ring_max_msg(&rx) == 100 && hvc_ring_capacity(&rx) == 512);
    T_RC(hvc_ring_recv(&rx, in, sizeof(in)), -HVC_EAGAIN);
    T_RC(hvc_ring_send(&tx, out, 101), -HVC_EMSGSIZE);
    T_RC(hvc_ring_send(&tx, out, 0), 0);
    T_RC(hvc_ring_recv(&rx, in, sizeof(in)), 0);
    /* Wrap many times: lengths and bytes checked, full and empty seen. */
    {
        uint32_t len = 0, fulls = 0, lens[64], head = 0, tail = 0;

        while (got < 5000) {
            int rc;

            for (;;) {
                if (len == 0)
                    len = 1 + (seed = seed * 1103515245u + 12345u) % 100u;
                memset(out, (int)(sent & 0xff), len);
                rc = hvc_ring_send(&tx, out, len);
                if (rc == -HVC_EAGAIN) {
                    fulls++;
                    break; /* the same length again later */
                }
                T_RC(rc, 0);
                lens[head++ % 64] = len;
                len = 0;
                sent++;
            }
            while ((rc = hvc_ring_recv(&rx, in, sizeof(in))) >= 0) {
                T(rc == (int)lens[tail++ % 64]);
                for (int i = 0; i < rc; i++)
                    if (in[i] != (uint8_t)got) {
                        T(in[i] == (uint8_t)got);
                        break;
                    }
                got++;
            }
            T_RC(rc, -HVC_EAGAIN);
        }
        T(fulls > 0);
    }
    T(got == sent);
    /* A small receive buffer: EMSGSIZE, the message stays. */
    T_RC(hvc_ring_send(&tx, out, 50), 0);
    T_RC(hvc_ring_recv(&rx, in, 10), -HVC_EMSGSIZE);
    T_RC(hvc_ring_recv(&rx, in, sizeof(in)), 50);
    /* A hostile producer index: EPROTO, counted, no read outside. */
    {
        struct hvc_obj o;
        struct hvc_wire_ring *w;
        uint32_t keep;

        T_RC(hvc_obj_open(&rb, "r", HVC_OBJ_RING, &o), 0);
        w = o.ptr;
        keep = w->prod;
        w->prod = keep + 4096;
        T_RC(hvc_ring_recv(&rx, in, sizeof(in)), -HVC_EPROTO);
        w->prod = keep + 3;
        T_RC(hvc_ring_recv(&rx, in, sizeof(in)), -HVC_EPROTO);
        w->prod = keep;
        T_RC(hvc_ring_recv(&rx, in, sizeof(in)), -HVC_EAGAIN);
        /* A consumer index beyond what was published: the producer
         * refuses it when it next needs the index (the ring looks full). */
        w->cons += 8u * 1000u;
        {
            int rc, n = 0;

            while ((rc = hvc_ring_send(&tx, out, 4)) == 0 && n < 1000)
                n++;
            T_RC(rc, -HVC_EPROTO);
        }
    }
}

/* ---- ports ---- */

static void test_ports(void)
{
    struct hvc_sampling_attr sa = {.max_msg = 16, .writer = 0};
    struct hvc_queue_attr qa = {.max_msg = 8, .max_count = 4, .policy = HVC_QUEUE_REJECT,
                                .writer = 0};
    struct hvc_queue_attr qd = qa;
    struct hvc_sampling sw, sr;
    struct hvc_queue qw, qr, dw, dr;
    struct hvc_sampling_info si;
    struct hvc_queue_info qi;
    uint32_t v[4] = {1, 2, 3, 4}, got[4];

    two_peers();
    T_RC(hvc_sampling_create(&sw, &ra, "s", &sa), 0);
    T_RC(hvc_sampling_open(&sr, &rb, "s", HVC_PORT_READER), 0);
    T_RC(hvc_sampling_read(&sr, got, sizeof(got), &si), -HVC_EAGAIN);
    T_RC(hvc_sampling_write(&sw, v, 17), -HVC_EMSGSIZE);
    T_RC(hvc_sampling_write(&sw, v, 16), 0);
    v[0] = 9;
    T_RC(hvc_sampling_write(&sw, v, 16), 0);
    T_RC(hvc_sampling_read(&sr, got, sizeof(got), &si), 16);
    T(got[0] == 9 && si.seq == 2 && si.len == 16);
    T_RC(hvc_sampling_read(&sr, got, 4, &si), -HVC_EMSGSIZE);

    T_RC(hvc_queue_create(&qw, &ra, "q", &qa), 0);
    T_RC(hvc_queue_open(&qr, &rb, "q", HVC_PORT_READER), 0);
    T_RC(hvc_queue_open(&qr, &rb, "q", HVC_PORT_WRITER), -HVC_EPERM);
    T_RC(hvc_queue_open(&qr, &rb, "q", HVC_PORT_READER), 0);
    T_RC(hvc_queue_recv(&qr, got, sizeof(got), &qi), -HVC_EAGAIN);
    for (uint32_t i = 0; i < 4; i++) {
        v[0] = i;
        T_RC(hvc_queue_send(&qw, v, 8), 0);
    }
    T_RC(hvc_queue_send(&qw, v, 8), -HVC_EAGAIN);
    T_RC(hvc_queue_send(&qw, v, 9), -HVC_EMSGSIZE);
    T_RC(hvc_queue_status(&qr), 4);
    for (uint32_t i = 0; i < 4; i++) {
        T_RC(hvc_queue_recv(&qr, got, sizeof(got), &qi), 8);
        T(got[0] == i);
    }
    qd.policy = HVC_QUEUE_DROP_OLDEST;
    T_RC(hvc_queue_create(&dw, &ra, "qd", &qd), 0);
    T_RC(hvc_queue_open(&dr, &rb, "qd", HVC_PORT_READER), 0);
    for (uint32_t i = 0; i < 6; i++) {
        v[0] = i;
        T_RC(hvc_queue_send(&dw, v, 8), 0);
    }
    T_RC(hvc_queue_recv(&dr, got, sizeof(got), &qi), 8);
    T(got[0] == 2 && qi.dropped == 2);
}

/* ---- events ---- */

static void test_events(void)
{
    struct hvc_event_attr ca = {.kind = HVC_EVENT_COUNTING, .max_count = 3};
    struct hvc_event_attr ba = {.kind = HVC_EVENT_BROADCAST};
    struct hvc_event a, a2, c, c2, b, b2;
    struct hvc_event *const any[2] = {&a2, &c2};
    uint64_t t0;

    two_peers();
    T_RC(hvc_event_create(&ra, "a", NULL, &a), 0);
    T_RC(hvc_event_open(&rb, "a", 0, NULL, &a2), 0);
    T_RC(hvc_event_trywait(&a2), -HVC_EAGAIN);
    T_RC(hvc_event_signal(&a), 0);
    T_RC(hvc_event_signal(&a), 0);
    T_RC(hvc_event_trywait(&a2), 0);
    T_RC(hvc_event_trywait(&a2), -HVC_EAGAIN);
    t0 = an386_now_ns();
    T_RC(hvc_event_wait(&a2, 2000000), -HVC_ETIMEDOUT);
    T(an386_now_ns() - t0 >= 2000000);

    T_RC(hvc_event_create(&ra, "c", &ca, &c), 0);
    T_RC(hvc_event_open(&rb, "c", 0, NULL, &c2), 0);
    for (int i = 0; i < 3; i++)
        T_RC(hvc_event_signal(&c), 0);
    T_RC(hvc_event_signal(&c), -HVC_EOVERFLOW);
    for (int i = 0; i < 3; i++)
        T_RC(hvc_event_wait(&c2, 0), 0);
    T_RC(hvc_event_wait(&c2, 0), -HVC_ETIMEDOUT);

    T_RC(hvc_event_create(&ra, "b", &ba, &b), 0);
    T_RC(hvc_event_open(&rb, "b", 0, NULL, &b2), 0);
    T_RC(hvc_event_trywait(&b2), -HVC_EAGAIN);
    T_RC(hvc_event_signal(&b), 0);
    T_RC(hvc_event_trywait(&b2), 0);
    T_RC(hvc_event_trywait(&b2), -HVC_EAGAIN);

    T_RC(hvc_event_signal(&c), 0);
    T_RC(hvc_event_wait_any(any, 2, 1000000), 1);
    T_RC(hvc_event_wait_any(any, 2, 1000000), -HVC_ETIMEDOUT);
    T_RC(hvc_event_signal(&a), 0);
    T_RC(hvc_event_signal(&c), 0);
    T_RC(hvc_event_wait_any(any, 2, 0), 0);
    T_RC(hvc_event_wait_any(any, 2, 0), 1);
    /* A corrupt state word is EPROTO, not a crash. */
    {
        struct hvc_obj o;

        T_RC(hvc_obj_open(&rb, "c", HVC_OBJ_EVENT, &o), 0);
        ((struct hvc_wire_event *)o.ptr)->state = 0xffffffffu;
        T_RC(hvc_event_trywait(&c2), -HVC_EPROTO);
    }
}

/* ---- segments ---- */

static void test_segment(void)
{
    struct hvc_seg s, s2;

    two_peers();
    T_RC(hvc_seg_create(&ra, "seg", 100, &s), 0);
    T_RC(hvc_seg_create(&ra, "seg", 100, &s2), -HVC_EEXIST);
    T_RC(hvc_seg_open(&rb, "seg", 0, &s2), 0);
    T(hvc_seg_size(&s2) >= 100 && hvc_seg_data(&s2) == hvc_seg_data(&s));
    T_RC(hvc_seg_lock(&s), 0);
    T_RC(hvc_seg_trylock(&s2), -HVC_EBUSY);
    T_RC(hvc_seg_lock_timeout(&s2, 0), -HVC_EBUSY);
    T_RC(hvc_seg_lock_timeout(&s2, 1000000), -HVC_ETIMEDOUT);
    T_RC(hvc_seg_unlock(&s2), -HVC_EPERM);
    T_RC(hvc_seg_unlock(&s), 0);
    T_RC(hvc_seg_trylock(&s2), 0);
    T_RC(hvc_seg_unlock(&s2), 0);
    T_RC(hvc_seg_close(&s2), 0);
    T_RC(hvc_seg_open(&rb, "nope", 0, &s2), -HVC_ENOENT);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"backend", test_backend},   {"region", test_region},
    {"directory", test_directory}, {"hostile-region", test_hostile_region},
    {"ring", test_ring},         {"ports", test_ports},
    {"events", test_events},     {"segment", test_segment},
};

int main(void)
{
    struct hvc_baremetal_desc d = desc();

    an386_clock_init();
    if (hvc_baremetal_init(&bm, &d) != 0) {
        printf("FAIL: hvc_baremetal_init\n");
        exit(1);
    }
    ops = hvc_platform_baremetal(&bm);
    printf("hvcomm unit tests on mps2-an386 (Cortex-M4, picolibc, semihosting)\n");
    for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        unsigned before = failures;

        current = tests[i].name;
        tests[i].fn();
        printf("%-16s %s\n", tests[i].name, failures == before ? "ok" : "FAILED");
    }
    printf("%s: %u checks, %u failures\n", failures == 0 ? "PASS" : "FAIL", checks, failures);
    /* exit(), not a return: picolibc's Arm crt0 does not pass main's
     * return value to semihosting. */
    exit(failures == 0 ? 0 : 1);
}
