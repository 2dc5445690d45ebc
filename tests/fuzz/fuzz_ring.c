/*
 * Ring consumer and producer against a hostile peer. Two peers share one
 * in-memory region; the input is a script of calls on both handles (copy,
 * batch, zero-copy reserve/commit and peek/release, streams, blocking
 * waits) interleaved with hostile writes anywhere in the ring object: its
 * header, its indices (a hostile `cons` for the producer, a hostile `prod`
 * for the consumer), the record headers and payloads, the sleep words.
 * Poisoned guard objects sit before and after the ring; every payload the
 * victim hands out must lie inside the data area.
 */
#include "fuzz.h"

#include <string.h>

#define MAXMSG 512u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[4 * MAXMSG], out[4 * MAXMSG];
    struct hvc_region a, b;
    struct hvc_ring prod, cons;
    struct hvc_ring_stream pst, cst;
    struct hvc_obj o;
    struct hvc_ring_attr attr = {.writer = -1};
    uint8_t cfg;
    unsigned steps = 0;

    fz_begin(data, size, FZ_FUTEX);
    cfg = fz_u8();
    attr.capacity = 64u << (cfg % 7u);          /* 64 .. 4096 */
    attr.max_msg = (attr.capacity / 2u - 8u) >> ((cfg >> 3) % 4u);
    attr.flags = (cfg & 0x80) ? HVC_RING_BLOCKING : 0;
    FZ_CHECK(fz_region(&a, "ring", 64u << 10) == 0);
    fz_guard(&a, "guard0", 256);
    FZ_CHECK(hvc_ring_create(&prod, &a, "r", &attr) == 0);
    fz_guard(&a, "guard1", 256);
    FZ_CHECK(hvc_region_attach(&b, fz_platform(), "ring", 0) == 0);
    FZ_CHECK(hvc_peer_join(&b, "peer") == 1);
    FZ_CHECK(hvc_ring_open(&cons, &b, "r", HVC_RING_CONSUMER) == 0);
    FZ_CHECK(hvc_obj_open(&a, "r", HVC_OBJ_RING, &o) == 0);
    hvc_ring_stream_reset(&pst);
    hvc_ring_stream_reset(&cst);
    fz_target(o.ptr, (size_t)o.size);
    fz_quiet = 0;

    while (fz_more() && steps++ < 256) {
        uint8_t op = fz_u8();
        uint32_t len = fz_u16() % (MAXMSG + 16u);
        int rc = 0;

        fz_hostile();
        memset(buf, (int)op, len);
        switch (op % 16u) {
        case 0:
            rc = hvc_ring_send(&prod, buf, len);
            break;
        case 1: {
            struct hvc_ring_msg m[3] = {{buf, len, 0}, {buf, len / 2, 0}, {buf, 3, 0}};

            rc = hvc_ring_send_batch(&prod, m, 1u + op / 16u % 3u);
            break;
        }
        case 2: {
            void *p = NULL;

            rc = hvc_ring_reserve(&prod, len, &p);
            if (rc == 0) {
                FZ_CHECK((uint8_t *)p >= prod.data &&
                         (uint8_t *)p + len <= prod.data + prod.capacity);
                memset(p, 0x5a, len);
                fz_hostile();
                rc = hvc_ring_commit(&prod, len - len / 4u, (op & 0x40) ? HVC_RING_MORE : 0);
            }
            break;
        }
        case 3:
            rc = hvc_ring_stream_send(&prod, &pst, buf, len * 3u);
            if (rc < 0 && rc != -HVC_EAGAIN)
                hvc_ring_stream_reset(&pst);
            break;
        case 4:
            rc = hvc_ring_send_wait(&prod, buf, len, (int64_t)(op & 0x30) * 100000);
            break;
        case 5:
            rc = hvc_ring_wait_writable(&prod, len, (int64_t)(op & 0x30) * 100000);
            break;
        case 6:
            rc = hvc_ring_flush(&prod);
            break;
        case 7:
        case 8:
            rc = hvc_ring_recv(&cons, out, len);
            FZ_CHECK(rc < 0 || (uint32_t)rc <= len);
            break;
        case 9: {
            struct hvc_ring_msg m[3] = {{out, 0, len}, {out + MAXMSG, 0, MAXMSG},
                                        {out + 2 * MAXMSG, 0, 7}};

            rc = hvc_ring_recv_batch(&cons, m, 1u + op / 16u % 3u);
            for (int i = 0; rc > 0 && i < rc; i++)
                FZ_CHECK(m[i].len <= m[i].cap);
            break;
        }
        case 10: {
            const void *p = NULL;

            rc = hvc_ring_peek(&cons, &p);
            if (rc >= 0) {
                FZ_CHECK((const uint8_t *)p >= cons.data &&
                         (const uint8_t *)p + rc <= cons.data + cons.capacity);
                memcpy(out, p, (size_t)rc); /* reads exactly the payload */
                fz_hostile();
                rc = hvc_ring_release(&cons, (op & 0x40) ? HVC_RING_MORE : 0);
            }
            break;
        }
        case 11: {
            uint64_t got = 0;

            rc = hvc_ring_stream_recv(&cons, &cst, out, sizeof(out) - (op & 0xf0), &got);
            FZ_CHECK(rc < 0 || got <= sizeof(out));
            if (rc < 0 && rc != -HVC_EAGAIN)
                hvc_ring_stream_reset(&cst);
            break;
        }
        case 12:
            rc = hvc_ring_recv_wait(&cons, out, len, (int64_t)(op & 0x30) * 100000);
            FZ_CHECK(rc < 0 || (uint32_t)rc <= len);
            break;
        case 13:
            rc = hvc_ring_wait_readable(&cons, (int64_t)(op & 0x30) * 100000);
            break;
        case 14: {
            struct hvc_ring_stats st;

            rc = hvc_ring_stats(&b, &o, &st);
            break;
        }
        default: {
            /* The consumer restarts: a new handle on the same ring. */
            rc = hvc_ring_open(&cons, &b, "r", HVC_RING_CONSUMER);
            hvc_ring_stream_reset(&cst);
            if (rc < 0)
                goto out;
            break;
        }
        }
        FZ_CHECK(fz_rc_ok(rc));
    }
out:
    fz_end_pair(&a, &b);
    return 0;
}
