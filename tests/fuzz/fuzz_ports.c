/*
 * Sampling and queuing ports against a hostile peer: the writer handles
 * live in peer 0, the readers in peer 1; the input interleaves writes,
 * reads and status calls with hostile writes anywhere in both port
 * objects (slot sequence numbers and lengths, `latest`, prod/cons, the
 * immutable header). Guard objects are poisoned around both ports; a read
 * must never report more bytes than the caller's buffer holds.
 */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[1024], out[1024];
    struct hvc_region a, b;
    struct hvc_sampling sw, sr;
    struct hvc_queue qw, qr;
    struct hvc_obj so, qo;
    struct hvc_sampling_attr sat = {.writer = -1};
    struct hvc_queue_attr qat = {.writer = -1};
    uint8_t c0, c1;
    unsigned steps = 0;

    fz_begin(data, size, FZ_FUTEX);
    c0 = fz_u8();
    c1 = fz_u8();
    sat.max_msg = 1u + c0 % 200u;
    sat.refresh_ns = (c0 & 0x80) ? 0 : 5000000u;
    qat.max_msg = c1 % 130u;
    qat.max_count = 1u + (c1 >> 2) % 9u;
    qat.policy = (c1 & 0x80) ? HVC_QUEUE_DROP_OLDEST : HVC_QUEUE_REJECT;
    FZ_CHECK(fz_region(&a, "ports", 64u << 10) == 0);
    fz_guard(&a, "g0", 128);
    FZ_CHECK(hvc_sampling_create(&sw, &a, "s", &sat) == 0);
    fz_guard(&a, "g1", 128);
    FZ_CHECK(hvc_queue_create(&qw, &a, "q", &qat) == 0);
    fz_guard(&a, "g2", 128);
    FZ_CHECK(hvc_region_attach(&b, fz_platform(), "ports", 0) == 0);
    FZ_CHECK(hvc_peer_join(&b, "reader") == 1);
    FZ_CHECK(hvc_sampling_open(&sr, &b, "s", HVC_PORT_READER) == 0);
    FZ_CHECK(hvc_queue_open(&qr, &b, "q", HVC_PORT_READER) == 0);
    FZ_CHECK(hvc_obj_open(&a, "s", HVC_OBJ_SAMPLING, &so) == 0);
    FZ_CHECK(hvc_obj_open(&a, "q", HVC_OBJ_QUEUE, &qo) == 0);
    fz_quiet = 0;

    while (fz_more() && steps++ < 256) {
        uint8_t op = fz_u8();
        uint32_t len = fz_u16() % 300u;
        int rc = 0;

        /* Alternate the hostile peer between the two objects. */
        if (op & 0x80)
            fz_target(qo.ptr, (size_t)qo.size);
        else
            fz_target(so.ptr, (size_t)so.size);
        fz_hostile();
        memset(buf, (int)op, len);
        switch (op % 12u) {
        case 0:
        case 1:
            rc = hvc_sampling_write(&sw, buf, len);
            break;
        case 2:
        case 3: {
            struct hvc_sampling_info info = {0};

            rc = hvc_sampling_read(&sr, out, len, &info);
            FZ_CHECK(rc < 0 || (uint32_t)rc <= len);
            FZ_CHECK(rc != -HVC_EMSGSIZE || info.len <= sr.max_msg);
            break;
        }
        case 4: {
            struct hvc_sampling_stats st;

            rc = hvc_sampling_stats(&b, &so, &st);
            break;
        }
        case 5:
        case 6:
            rc = hvc_queue_send(&qw, buf, len);
            break;
        case 7:
        case 8: {
            struct hvc_queue_info info = {0};

            rc = hvc_queue_recv(&qr, out, len, &info);
            FZ_CHECK(rc < 0 || (uint32_t)rc <= len);
            break;
        }
        case 9:
            rc = hvc_queue_status((op & 0x40) ? &qr : &qw);
            break;
        case 10: {
            struct hvc_queue_stats st;

            rc = hvc_queue_stats(&b, &qo, &st);
            break;
        }
        default:
            /* The readers reopen (a restarted reader). */
            rc = hvc_sampling_open(&sr, &b, "s", HVC_PORT_READER);
            if (rc == 0)
                rc = hvc_queue_open(&qr, &b, "q", HVC_PORT_READER);
            if (rc < 0)
                goto out;
            break;
        }
        FZ_CHECK(fz_rc_ok(rc));
    }
out:
    fz_end_pair(&a, &b);
    return 0;
}
