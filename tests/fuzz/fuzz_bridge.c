/*
 * The vnet bridge's rule parser, its frame parser and its rules, against
 * hostile input. The input first gives up to four rule texts (parsed with
 * hvc_bridge_rule_parse, added when they parse), then steps: frames built
 * from a template (Ethernet + IPv4 / IPv6 / 802.1Q, TCP or UDP) with bytes
 * of the input written over them, sent by a peer on either of two links or
 * handed to the external port; polls, receives on the far ends and stats;
 * and hostile writes anywhere in the region heap but the guard objects
 * (links, rings, the bridge object). Everything the bridge transmits to the
 * external port is read in full (ASan sees an overrun).
 */
#include "fuzz.h"

#include <hvcomm/bridge.h>
#include <string.h>

static struct hvc_bridge br; /* large: its private frame buffer */
static uint8_t sink[HVC_VNET_FRAME_MAX];
static unsigned long ext_frames;

static int ext_tx(void *ctx, const void *frame, uint32_t len)
{
    (void)ctx;
    FZ_CHECK(len >= HVC_VNET_ETH_HLEN && len <= HVC_VNET_FRAME_MAX);
    memcpy(sink, frame, len);
    ext_frames++;
    return 0;
}

static uint32_t make_frame(uint8_t *f, uint8_t kind, uint32_t len)
{
    static const uint8_t macs[3][6] = {
        {0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    uint32_t l3 = 14;

    if (len < 14)
        len = 14;
    memset(f, 0, len);
    memcpy(f, macs[kind % 3u], 6);
    memcpy(f + 6, macs[(kind / 3u) % 2u], 6);
    if (kind & 0x40 && len >= 18) { /* 802.1Q */
        f[12] = 0x81;
        f[14] = 0;
        f[15] = 5;
        l3 = 18;
    }
    if (kind & 0x20) { /* IPv6 + TCP */
        f[l3 - 2] = 0x86;
        f[l3 - 1] = 0xdd;
        if (len >= l3 + 40 + 4) {
            f[l3] = 0x60;
            f[l3 + 6] = 6;
            f[l3 + 40 + 3] = 7;
        }
    } else { /* IPv4 + UDP or TCP */
        f[l3 - 2] = 0x08;
        if (len >= l3 + 20 + 4) {
            f[l3] = 0x45;
            f[l3 + 9] = (kind & 0x10) ? 17 : 6;
            f[l3 + 12] = 10;
            f[l3 + 15] = 1;
            f[l3 + 16] = 10;
            f[l3 + 19] = 3;
            f[l3 + 20 + 3] = 7;
        }
    }
    /* Input bytes over the template: (offset, value) pairs. */
    for (unsigned n = fz_u8() % 8u; n > 0; n--) {
        uint8_t off = fz_u8();

        f[off % len] = fz_u8();
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hvc_bridge_fdb fdb[8];
    static uint8_t frame[2048], out[2048];
    struct hvc_vnet_link_attr attr = {.mtu = 1500, .ring_capacity = 256u << 10,
                                      .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct hvc_bridge_config bcfg = {.fdb = fdb, .fdb_size = 8};
    struct hvc_vnet_port_config pc = {.flags = HVC_VNET_PORT_NO_SCAN};
    struct hvc_region a, b;
    struct hvc_vnet_port far[2];
    unsigned steps = 0;
    int ext;
    uint8_t cfg;

    fz_begin(data, size, FZ_FUTEX);
    cfg = fz_u8();
    bcfg.default_action = cfg & 1 ? HVC_BRIDGE_DENY : HVC_BRIDGE_ALLOW;
    bcfg.fdb_size = 1u + (cfg >> 1) % 8u;
    FZ_CHECK(fz_region(&a, "bridge", 2u << 20) == 0);
    fz_guard(&a, "g0", 128);
    FZ_CHECK(hvc_vnet_link_create(&a, "l0", &attr) == 0);
    FZ_CHECK(hvc_vnet_link_create(&a, "l1", &attr) == 0);
    fz_guard(&a, "g1", 128);
    FZ_CHECK(hvc_bridge_init(&br, &a, "br", &bcfg) == 0);
    fz_guard(&a, "g2", 128);
    FZ_CHECK(hvc_bridge_add_link(&br, "l0") == 0);
    fz_guard(&a, "g3", 128);
    FZ_CHECK(hvc_bridge_add_link(&br, "l1") == 1);
    fz_guard(&a, "g4", 128);
    ext = hvc_bridge_add_ext(&br, "tap", ext_tx, NULL);
    FZ_CHECK(ext == 2);
    /* Rules from the input text. */
    for (int i = 0; i < 4; i++) {
        char text[64];
        struct hvc_bridge_rule rule;
        size_t n = fz_u8() % sizeof(text);

        fz_bytes(text, n);
        text[n] = '\0';
        if (hvc_bridge_rule_parse(text, &rule) == 0) {
            FZ_CHECK(rule.src_prefix <= 32 && rule.dst_prefix <= 32);
            hvc_bridge_add_rule(&br, &rule);
        }
    }
    FZ_CHECK(hvc_region_attach(&b, fz_platform(), "bridge", 0) == 0);
    FZ_CHECK(hvc_peer_join(&b, "guests") == 1);
    FZ_CHECK(hvc_vnet_port_open(&far[0], &b, "l0", &pc) == 0);
    fz_guard(&a, "g5", 128);
    FZ_CHECK(hvc_vnet_port_open(&far[1], &b, "l1", &pc) == 0);
    fz_guard(&a, "g6", 128);
    for (int i = 0; i < 4; i++) {
        hvc_vnet_port_poll(&far[0]);
        hvc_vnet_port_poll(&far[1]);
        hvc_bridge_poll(&br, 0);
    }
    fz_target(a.base + a.heap_offset, (size_t)(a.size - a.heap_offset));
    fz_quiet = 0;

    while (fz_more() && steps++ < 128) {
        uint8_t op = fz_u8();
        uint8_t kind = fz_u8();
        uint32_t len = fz_u16() % 1600u;
        int rc = 0;

        if (op & 0x80)
            fz_hostile();
        switch (op % 8u) {
        case 0:
        case 1:
            len = make_frame(frame, kind, len);
            rc = hvc_vnet_port_send(&far[op % 2u], frame, len, 0);
            break;
        case 2:
        case 3:
            len = make_frame(frame, kind, len);
            rc = hvc_bridge_input(&br, (unsigned)ext, frame, len);
            FZ_CHECK(rc < 0 || rc == 0 || rc == 1);
            break;
        case 4:
            rc = hvc_bridge_poll(&br, 1u + kind % 16u);
            break;
        case 5:
            rc = hvc_vnet_port_recv(&far[kind & 1u], out, sizeof(out));
            break;
        case 6: {
            struct hvc_obj o;
            static struct hvc_bridge_info info;

            rc = hvc_obj_open(&b, "br", HVC_OBJ_BRIDGE, &o);
            if (rc == 0)
                rc = hvc_bridge_stats(&b, &o, &info);
            break;
        }
        default:
            rc = hvc_bridge_wait(&br, (int64_t)(kind % 4u) * 1000);
            break;
        }
        FZ_CHECK(fz_rc_ok(rc));
    }
    fz_quiet = 1;
    hvc_vnet_port_close(&far[1]);
    hvc_vnet_port_close(&far[0]);
    hvc_bridge_close(&br);
    hvc_region_detach(&b);
    hvc_region_detach(&a);
    fz_end();
    return 0;
}
