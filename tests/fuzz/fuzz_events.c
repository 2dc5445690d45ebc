/*
 * Named events against a hostile peer, on both wait paths: the first input
 * byte picks the futex backend (wait_word/wake_word) or the doorbell one
 * (notify/wait_notify, the bells object). Peer 0 and peer 1 each hold
 * handles on an auto-reset, a counting and a broadcast event; the input
 * interleaves signals, waits (bounded), wait_any, stats and reopenings with
 * hostile writes into the events and the bells object. Guard objects are
 * poisoned between the events. Time is the backend's counter, so every
 * bounded wait ends.
 */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[3] = {"auto", "count", "bcast"};
    struct hvc_region a, b;
    struct hvc_event ea[3], eb[3];
    struct hvc_obj objs[4];
    unsigned nobj = 3, steps = 0;
    uint8_t cfg, c1;
    int bells;

    /* The configuration bytes pick the backend, so read them first. */
    cfg = size > 0 ? data[0] : 0;
    c1 = size > 1 ? data[1] : 0;
    bells = cfg & 1;
    fz_begin(data + (size < 2 ? size : 2), size < 2 ? 0 : size - 2,
             bells ? FZ_DOORBELL : FZ_FUTEX);
    fz_self = 0;
    FZ_CHECK(fz_region(&a, "events", 64u << 10) == 0);
    for (int i = 0; i < 3; i++) {
        struct hvc_event_attr at = {.kind = (uint32_t)(HVC_EVENT_AUTO + i),
                                    .max_count = i == 1 ? 1u + c1 % 5u : 0,
                                    .vector = (uint32_t)i + 1u,
                                    .signalers = (cfg & 2) ? 3u : 0};
        char g[8] = {'g', (char)('0' + i), 0};

        fz_guard(&a, g, 128);
        FZ_CHECK(hvc_event_create(&a, names[i], &at, &ea[i]) == 0);
        FZ_CHECK(hvc_obj_open(&a, names[i], HVC_OBJ_EVENT, &objs[i]) == 0);
    }
    fz_guard(&a, "g3", 128);
    fz_self = 1;
    FZ_CHECK(hvc_region_attach(&b, fz_platform(), "events", 0) == 0);
    FZ_CHECK(hvc_peer_join(&b, "waiter") == 1);
    for (int i = 0; i < 3; i++) {
        FZ_CHECK(hvc_event_open(&b, names[i], 0, NULL, &eb[i]) == 0);
        if (cfg & 4) {
            hvc_event_set_spin(&eb[i], 0);
            hvc_event_set_spin(&ea[i], 0);
        }
    }
    fz_quiet = 0;

    while (fz_more() && steps++ < 192) {
        uint8_t op = fz_u8();
        uint16_t arg = fz_u16();
        unsigned k = arg % 3u;
        struct hvc_event *mine = (op & 0x80) ? &ea[k] : &eb[k];
        struct hvc_event *theirs = (op & 0x80) ? &eb[k] : &ea[k];
        int64_t tmo = (int64_t)(arg >> 4) * 1000;
        int rc = 0;

        if (nobj == 3 && hvc_obj_open(&a, ".hvc.bells", HVC_OBJ_ANY, &objs[3]) == 0)
            nobj = 4;
        fz_target(objs[(arg >> 2) % nobj].ptr, (size_t)objs[(arg >> 2) % nobj].size);
        fz_hostile();
        switch (op % 12u) {
        case 0:
        case 1:
            rc = hvc_event_signal(theirs);
            break;
        case 2:
            rc = hvc_event_trywait(mine);
            break;
        case 3:
            rc = hvc_event_wait(mine, tmo);
            break;
        case 4:
            rc = hvc_event_wait_until(mine, hvc_platform_now(hvc_region_platform(mine->r)) +
                                                (uint64_t)tmo);
            break;
        case 5: {
            uint32_t gen = hvc_event_generation(mine);

            rc = hvc_event_wait_gen(mine, &gen, tmo);
            break;
        }
        case 6: {
            struct hvc_event *set[3] = {&eb[0], &eb[1], &eb[2]};

            rc = hvc_event_wait_any(set, 1u + k, tmo);
            FZ_CHECK(rc < 0 || (unsigned)rc <= k);
            break;
        }
        case 7: {
            struct hvc_event_stats st;

            rc = hvc_event_stats(&b, &objs[k], &st);
            break;
        }
        case 8:
            rc = hvc_event_signal(mine); /* a peer signalling itself */
            break;
        case 9:
            /* Reopen: a restarted peer checks the event again. */
            hvc_event_close(&eb[k]);
            rc = hvc_event_open(&b, names[k], 0, NULL, &eb[k]);
            if (rc < 0)
                goto out;
            break;
        case 10:
            rc = hvc_event_set_spin(mine, arg);
            break;
        default:
            fz_dead ^= 1u << (arg % 3u); /* a peer dies or comes back */
            rc = hvc_peer_scan(&b, 1);
            break;
        }
        FZ_CHECK(fz_rc_ok(rc));
    }
out:
    fz_end_pair(&a, &b);
    return 0;
}
