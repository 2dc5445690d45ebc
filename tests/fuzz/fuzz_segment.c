/*
 * Locked segments against a hostile peer: peer 0 and peer 1 lock, unlock,
 * repair and read a segment while the input writes anything into its
 * header (the lock word, waiters, state, data size and offset) and the
 * platform's liveness answer changes (owner death). A holder writes the
 * whole data area it was given: it must be inside the segment object, which
 * is fenced by poisoned guard objects. Only bounded lock calls are used (a
 * hostile peer may hold a lock for ever).
 */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hvc_region a, b;
    struct hvc_seg s[2];
    struct hvc_obj o;
    int held[2] = {0, 0}, open[2] = {1, 1};
    unsigned steps = 0;
    uint8_t cfg;

    fz_begin(data, size, FZ_FUTEX);
    cfg = fz_u8();
    FZ_CHECK(fz_region(&a, "seg", 64u << 10) == 0);
    fz_guard(&a, "g0", 128);
    FZ_CHECK(hvc_seg_create(&a, "s", 8u + cfg * 8u, &s[0]) == 0);
    fz_guard(&a, "g1", 128);
    FZ_CHECK(hvc_region_attach(&b, fz_platform(), "seg", 0) == 0);
    FZ_CHECK(hvc_peer_join(&b, "other") == 1);
    FZ_CHECK(hvc_seg_open(&b, "s", 0, &s[1]) == 0);
    FZ_CHECK(hvc_obj_open(&a, "s", HVC_OBJ_SEGMENT, &o) == 0);
    fz_target(o.ptr, (cfg & 1) ? (size_t)o.size : 128u);
    fz_quiet = 0;

    while (fz_more() && steps++ < 192) {
        uint8_t op = fz_u8();
        uint16_t arg = fz_u16();
        int k = (op >> 7) & 1;
        struct hvc_region *r = k ? &b : &a;
        int rc = 0;

        fz_hostile();
        if (!open[k] && op % 10u != 8)
            continue;
        switch (op % 10u) {
        case 0:
        case 1:
            rc = hvc_seg_lock_timeout(&s[k], (int64_t)arg * 1000);
            /* fall through */
        case 2:
            if (op % 10u == 2)
                rc = hvc_seg_trylock(&s[k]);
            if (rc == 0 || rc == HVC_SEG_OWNERDEAD) {
                uint8_t *d = hvc_seg_data(&s[k]);

                held[k] = 1;
                FZ_CHECK(d != NULL && hvc_seg_size(&s[k]) <= o.size);
                FZ_CHECK(d >= (uint8_t *)o.ptr &&
                         d + hvc_seg_size(&s[k]) <= (uint8_t *)o.ptr + o.size);
                memset(d, 0x11 * (k + 1), (size_t)hvc_seg_size(&s[k]));
            }
            break;
        case 3:
        case 4:
            rc = hvc_seg_unlock(&s[k]);
            held[k] = 0;
            break;
        case 5:
            rc = hvc_seg_consistent(&s[k]);
            break;
        case 6: {
            struct hvc_seg_stats st;

            rc = hvc_seg_stats(r, &o, &st);
            break;
        }
        case 7:
            fz_dead ^= 1u << (arg % 2u); /* the other holder dies or lives */
            break;
        case 8:
            if (open[k])
                hvc_seg_close(&s[k]);
            rc = hvc_seg_open(r, "s", (arg & 1) ? HVC_SEG_O_RDONLY : 0, &s[k]);
            open[k] = rc == 0;
            held[k] = 0;
            if (rc == 0 && (arg & 1)) {
                const volatile uint8_t *d = hvc_seg_data(&s[k]);
                uint8_t x = 0;

                for (uint64_t i = 0; i < hvc_seg_size(&s[k]); i++)
                    x ^= d[i];
                (void)x;
                hvc_seg_close(&s[k]);
                rc = hvc_seg_open(r, "s", 0, &s[k]);
                open[k] = rc == 0;
            }
            break;
        default:
            rc = hvc_seg_set_spin(&s[k], arg);
            break;
        }
        FZ_CHECK(fz_rc_ok(rc));
    }
    fz_end_pair(&a, &b);
    return 0;
}
