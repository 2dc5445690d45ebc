/*
 * Region attach, the directory and the peer table against a hostile peer.
 * A region is formatted with a few objects and peers; the input then writes
 * anything into its header, peer table and directory (before the attach and
 * between every call), and the victim attaches, validates, looks objects up
 * by name and by index, reads peer information, scans for dead peers,
 * joins, creates and deletes. Whatever it gets back must lie inside the
 * mapping; the guard zones of the in-memory backend sit around the region.
 */
#include "fuzz.h"

#include <string.h>

static const char *const names[] = {"a", "ring", "seg", "ev", "zz", "x-long-name-0123456789"};

static void check_obj(const struct hvc_region *r, const struct hvc_obj *o)
{
    const uint8_t *base = r->base, *p = o->ptr;

    FZ_CHECK(p >= base && o->size <= r->size && (uint64_t)(p - base) <= r->size - o->size);
    FZ_CHECK(o->offset == (uint64_t)(p - base));
    FZ_CHECK(memchr(o->name, 0, sizeof(o->name)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hvc_region a, b;
    struct hvc_obj o;
    uint8_t cfg;
    unsigned steps = 0;
    int attached = 0, rc;

    fz_begin(data, size, FZ_FUTEX);
    cfg = fz_u8();
    FZ_CHECK(fz_region(&a, "region", 16u << 10) == 0);
    for (unsigned i = 0; i < 1u + cfg % 5u; i++) {
        struct hvc_obj_spec spec = {.name = names[i], .type = HVC_OBJ_RAW + i % 3u,
                                    .size = 64u << (i % 4), .writer = HVC_PEER_ANY};

        FZ_CHECK(hvc_obj_create(&a, &spec, &o) == 0);
    }
    fz_dead = fz_u8(); /* which peers the platform calls dead */
    /* The hostile peer owns the metadata: header, peer table, directory. */
    fz_target(a.base, (size_t)a.heap_offset);
    fz_quiet = 0;
    for (int i = 0; i < 4; i++)
        fz_hostile();

    while (fz_more() && steps++ < 128) {
        uint8_t op = fz_u8();
        uint16_t arg = fz_u16();

        fz_hostile();
        if (!attached && op % 12u != 0)
            op = 0;
        switch (op % 12u) {
        case 0:
            if (attached)
                hvc_region_detach(&b);
            rc = hvc_region_attach(&b, fz_platform(), "region", (arg & 1) ? HVC_MAP_RDONLY : 0);
            attached = rc == 0;
            if (attached) {
                FZ_CHECK(b.heap_offset <= b.size && b.size <= b.plat.size);
            }
            break;
        case 1:
            rc = hvc_region_validate(&b);
            break;
        case 2: {
            struct hvc_region_info info;

            rc = hvc_region_info(&b, &info);
            break;
        }
        case 3:
            rc = hvc_obj_open(&b, names[arg % 6u], (arg >> 8) % 9u, &o);
            if (rc == 0)
                check_obj(&b, &o);
            break;
        case 4:
            rc = hvc_obj_get(&b, arg % 40u, &o);
            if (rc == 0) {
                check_obj(&b, &o);
                rc = hvc_obj_check(&b, &o);
            }
            break;
        case 5: {
            struct hvc_peer_info pi;

            rc = hvc_peer_info(&b, arg % 10u, &pi);
            if (rc == 0)
                FZ_CHECK(memchr(pi.label, 0, sizeof(pi.label)) != NULL);
            break;
        }
        case 6:
            rc = hvc_peer_scan(&b, arg);
            break;
        case 7:
            rc = hvc_peer_join(&b, "victim2");
            if (rc >= 0)
                FZ_CHECK((uint32_t)rc < b.max_peers);
            break;
        case 8: {
            struct hvc_obj_spec spec = {.name = names[arg % 6u], .type = HVC_OBJ_RAW,
                                        .size = 1u + arg % 700u, .writer = HVC_PEER_ANY};

            rc = hvc_obj_create(&b, &spec, &o);
            if (rc == 0) {
                check_obj(&b, &o);
                /* The creator may use all of it: it must be ours to use. */
                FZ_CHECK(o.offset >= b.heap_offset);
                memset(o.ptr, 0xee, (size_t)o.size);
            }
            break;
        }
        case 9:
            rc = hvc_obj_delete(&b, names[arg % 6u]);
            break;
        case 10:
            rc = hvc_peer_heartbeat(&b);
            if (arg & 1)
                rc = hvc_peer_owner_live(&b, arg >> 1);
            break;
        default:
            rc = hvc_peer_reclaim(&b, arg % 10u);
            if (arg & 0x100)
                rc = hvc_peer_leave(&b);
            break;
        }
        FZ_CHECK(fz_rc_ok(rc));
    }
    fz_quiet = 1;
    if (attached)
        hvc_region_detach(&b);
    hvc_region_detach(&a);
    fz_end();
    return 0;
}
