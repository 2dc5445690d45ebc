/*
 * Fixed-size-element ring (fring.h) producer and consumer against a
 * hostile peer. Two peers share one in-memory region; the input picks the
 * element size and capacity, then is a script of calls on both handles
 * (single and batch sends and receives, flush, stats, a consumer that
 * reopens) interleaved with hostile writes anywhere in the ring object:
 * its immutable line, both indices, the counters and the elements.
 * Poisoned guard objects sit before and after the ring, so any access
 * outside the object is an ASan report; counts never exceed what was
 * asked, and every result is a documented code.
 */
#include "fuzz.h"

#include <string.h>

#define MAXN 40u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[MAXN * 256], out[MAXN * 256];
    struct hvc_region a, b;
    struct hvc_fring prod, cons;
    struct hvc_fring_attr attr = {.writer = -1};
    struct hvc_obj o;
    uint8_t c0, c1;
    unsigned steps = 0;

    fz_begin(data, size, FZ_FUTEX);
    c0 = fz_u8();
    c1 = fz_u8();
    attr.elem_size = 1u + c0 % 255u;     /* 1 .. 255 */
    attr.capacity = 1u << (c1 % 9u);     /* 1 .. 256 */
    FZ_CHECK(fz_region(&a, "fring", 128u << 10) == 0);
    fz_guard(&a, "guard0", 256);
    FZ_CHECK(hvc_fring_create(&prod, &a, "f", &attr) == 0);
    fz_guard(&a, "guard1", 256);
    FZ_CHECK(hvc_region_attach(&b, fz_platform(), "fring", 0) == 0);
    FZ_CHECK(hvc_peer_join(&b, "peer") == 1);
    FZ_CHECK(hvc_fring_open(&cons, &b, "f", HVC_FRING_CONSUMER) == 0);
    FZ_CHECK(hvc_obj_open(&a, "f", HVC_OBJ_FRING, &o) == 0);
    fz_target(o.ptr, (size_t)o.size);
    fz_quiet = 0;

    while (fz_more() && steps++ < 256) {
        uint8_t op = fz_u8();
        unsigned n = fz_u16() % (MAXN + 1u);
        int rc = 0;

        fz_hostile();
        memset(buf, (int)op, sizeof(buf));
        switch (op % 8u) {
        case 0:
            rc = hvc_fring_send(&prod, buf);
            FZ_CHECK(rc <= 0);
            break;
        case 1:
            rc = hvc_fring_send_batch(&prod, buf, n);
            FZ_CHECK(n == 0 ? rc == 0 : rc != 0 && rc <= (int)n);
            break;
        case 2:
        case 3:
            rc = hvc_fring_recv(&cons, out);
            FZ_CHECK(rc <= 0);
            break;
        case 4:
            rc = hvc_fring_recv_batch(&cons, out, n);
            FZ_CHECK(n == 0 ? rc == 0 : rc != 0 && rc <= (int)n);
            break;
        case 5:
            rc = hvc_fring_flush((op & 0x80) ? &prod : &cons);
            FZ_CHECK(rc == 0);
            break;
        case 6: {
            struct hvc_fring_stats st;

            rc = hvc_fring_stats(&b, &o, &st);
            FZ_CHECK(rc < 0 || st.used <= st.capacity);
            break;
        }
        default:
            /* The consumer restarts: a new handle, on a line that may be
             * corrupt by now (then the old handle stays). */
            rc = hvc_fring_open(&cons, &b, "f", HVC_FRING_CONSUMER);
            if (rc < 0) {
                FZ_CHECK(cons.w != NULL); /* a failed open leaves the handle alone */
                rc = 0;
            } else {
                FZ_CHECK(cons.elem_size <= HVC_FRING_ELEM_MAX &&
                         (uint64_t)cons.capacity * cons.elem_size <= o.size - 256u);
                if (cons.elem_size > 255u || cons.capacity > 256u)
                    goto out; /* our buffers are sized for the honest geometry */
            }
            break;
        }
        FZ_CHECK(fz_rc_ok(rc));
    }
out:
    fz_end_pair(&a, &b);
    return 0;
}
