/*
 * The vnet frame port (one end of a link, no lwIP) against a hostile peer.
 * Peer 0 and peer 1 each open one end of a link; the input interleaves
 * frames sent by either end (copy and reserve/commit), receives (copy and
 * peek/release, holds and unholds), polls and waits with hostile writes
 * anywhere in the link object and both tx rings: the end words (owner,
 * ring_owner, peer), the MTU and capacity, the indices and records. Guard
 * objects are poisoned between the link and the rings. A frame the victim
 * hands out must be 14..MTU+14 bytes and lie inside the peer's ring.
 */
#include "fuzz.h"

#include <hvcomm/vnet_port.h>
#include <string.h>

static void check_frame(const struct hvc_vnet_port *p, const void *f, int len)
{
    const uint8_t *b = f;

    FZ_CHECK(len >= (int)HVC_VNET_ETH_HLEN && (uint32_t)len <= p->frame_max);
    FZ_CHECK(b >= p->rx.data && b + len <= p->rx.data + p->rx.capacity);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[2048], out[2048];
    struct hvc_vnet_link_attr attr = {.mtu = 576, .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct hvc_vnet_port_config pc = {.flags = HVC_VNET_PORT_NO_SCAN};
    struct hvc_region a, b;
    struct hvc_vnet_port pa, pb;
    uint32_t tickets[8];
    unsigned nt = 0, steps = 0;
    int peeked[2] = {0, 0};
    uint8_t cfg;

    fz_begin(data, size, FZ_FUTEX);
    cfg = fz_u8();
    attr.mtu = 576u + (cfg & 3u) * 300u;
    attr.ring_capacity = 256u << 10; /* the smallest a link accepts */
    attr.flags = (cfg & 8) ? HVC_VNET_CHECKSUM : 0;
    FZ_CHECK(fz_region(&a, "vnet", 1u << 20) == 0);
    fz_guard(&a, "g0", 128);
    FZ_CHECK(hvc_vnet_link_create(&a, "l", &attr) == 0);
    fz_guard(&a, "g1", 128);
    FZ_CHECK(hvc_vnet_port_open(&pa, &a, "l", &pc) == 0);
    fz_guard(&a, "g2", 128);
    FZ_CHECK(hvc_region_attach(&b, fz_platform(), "vnet", 0) == 0);
    FZ_CHECK(hvc_peer_join(&b, "other") == 1);
    FZ_CHECK(hvc_vnet_port_open(&pb, &b, "l", &pc) == 0);
    fz_guard(&a, "g3", 128);
    for (int i = 0; i < 4; i++) {
        hvc_vnet_port_poll(&pa);
        hvc_vnet_port_poll(&pb);
    }
    /* The hostile peer may write anywhere in the heap but the guards
     * (fz_hostile skips poisoned bytes). */
    fz_target(a.base + a.heap_offset, (size_t)(a.size - a.heap_offset));
    fz_quiet = 0;

    while (fz_more() && steps++ < 256) {
        uint8_t op = fz_u8();
        uint16_t arg = fz_u16();
        int k = (op >> 7) & 1;
        struct hvc_vnet_port *p = k ? &pb : &pa;
        uint32_t len = arg % 2000u;
        int rc = 0;

        fz_hostile();
        memset(frame, (int)op, len);
        switch (op % 10u) {
        case 0:
        case 1:
            rc = hvc_vnet_port_send(p, frame, len, (arg & 0x8000) ? HVC_VNET_SEND_MORE : 0);
            break;
        case 2: {
            void *dst = NULL;

            rc = hvc_vnet_port_reserve(p, len, &dst);
            if (rc == 0) {
                FZ_CHECK((uint8_t *)dst >= p->tx.data &&
                         (uint8_t *)dst + len <= p->tx.data + p->tx.capacity);
                memset(dst, 0x42, len);
                fz_hostile();
                rc = hvc_vnet_port_commit(p, 0);
            }
            break;
        }
        case 3:
        case 4:
            rc = hvc_vnet_port_recv(p, out, len);
            if (rc >= 0)
                FZ_CHECK(rc >= (int)HVC_VNET_ETH_HLEN && (uint32_t)rc <= len);
            break;
        case 5: {
            const void *f = NULL;

            if (peeked[k]) {
                uint32_t t = 0;
                unsigned fl = (arg & 1) ? HVC_VNET_RELEASE_DROP
                              : (arg & 2) && nt < 8 ? HVC_VNET_RELEASE_HOLD : 0;

                rc = hvc_vnet_port_release(p, fl, &t);
                if (rc == 0 && fl == HVC_VNET_RELEASE_HOLD && k == 1)
                    tickets[nt++] = t;
                peeked[k] = 0;
                break;
            }
            rc = hvc_vnet_port_peek(p, &f);
            if (rc >= 0) {
                check_frame(p, f, rc);
                memcpy(out, f, (size_t)rc);
                peeked[k] = 1;
            }
            break;
        }
        case 6:
            if (nt > 0)
                rc = hvc_vnet_port_unhold(&pb, tickets[--nt]);
            break;
        case 7:
            rc = hvc_vnet_port_poll(p);
            break;
        case 8:
            rc = hvc_vnet_port_wait(p, (int64_t)(arg & 0xff) * 10000);
            break;
        default: {
            struct hvc_vnet_stats st;
            struct hvc_obj o;
            struct hvc_vnet_link_info li;

            rc = hvc_vnet_port_stats(p, &st);
            if (rc == 0)
                rc = hvc_vnet_port_flush(p);
            if (rc == 0 && hvc_obj_open(&b, "l", HVC_OBJ_VNET, &o) == 0)
                rc = hvc_vnet_link_info(&b, &o, &li);
            break;
        }
        }
        FZ_CHECK(fz_rc_ok(rc));
    }
    fz_quiet = 1;
    hvc_vnet_port_close(&pb);
    hvc_vnet_port_close(&pa);
    hvc_region_detach(&b);
    hvc_region_detach(&a);
    fz_end();
    return 0;
}
