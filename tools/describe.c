/* `hvcomm info`'s DETAILS column: each type's counters, read through the
 * module's own stats call, which checks what it reads. */
#include "describe.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <hvcomm/system.h>

#ifdef HVC_TOOLS_VNET
#include <hvcomm/bridge.h>
#include <hvcomm/vnet_port.h>
#endif

static const char *owner_text(uint32_t owner, char *buf, size_t len)
{
    if (owner == 0)
        snprintf(buf, len, "free");
    else
        snprintf(buf, len, "peer %u epoch %u", (unsigned)HVC_OWNER_PEER(owner),
                 (unsigned)HVC_OWNER_EPOCH(owner));
    return buf;
}

static void describe_event(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    static const char *const kinds[] = {"?", "auto", "counting", "broadcast"};
    struct hvc_event_stats s;

    if (hvc_event_stats(r, o, &s) < 0 || !s.valid) {
        snprintf(buf, len, "corrupt event");
        return;
    }
    snprintf(buf, len, "%s state=%u signals=%u wakes=%u sleeps=%u waiters=%u%s",
             kinds[s.kind < 4 ? s.kind : 0], (unsigned)s.state, (unsigned)s.signals,
             (unsigned)s.wakes, (unsigned)s.sleeps, (unsigned)s.waiters,
             s.overflows ? " overflows" : "");
}

static void describe_segment(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    static const char *const states[] = {"consistent", "inconsistent", "not recoverable"};
    struct hvc_seg_stats s;
    char owner[40];

    if (hvc_seg_stats(r, o, &s) < 0 || !s.valid) {
        snprintf(buf, len, "corrupt segment");
        return;
    }
    snprintf(buf, len, "%" PRIu64 " B, lock %s, %s, locks=%u contended=%u recovered=%u",
             s.data_size, owner_text(s.owner, owner, sizeof(owner)),
             s.state < 3 ? states[s.state] : "?", (unsigned)s.acquired,
             (unsigned)s.contended, (unsigned)s.recovered);
}

static void describe_ring(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    struct hvc_ring_stats s;

    if (hvc_ring_stats(r, o, &s) < 0) {
        snprintf(buf, len, "corrupt ring");
        return;
    }
    snprintf(buf, len,
             "cap=%u max=%u used=%u sent=%" PRIu64 "/%" PRIu64 "B recv=%" PRIu64 "/%" PRIu64
             "B full=%u empty=%u wakeups=%u frag_drops=%u proto_errors=%u",
             (unsigned)s.capacity, (unsigned)s.max_msg, (unsigned)s.used, s.msgs_sent,
             s.bytes_sent, s.msgs_recv, s.bytes_recv, (unsigned)s.full_stalls,
             (unsigned)s.empty_stalls, (unsigned)s.wakeups, (unsigned)s.frag_drops,
             (unsigned)s.proto_errors);
}

static void describe_fring(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    struct hvc_fring_stats s;

    if (hvc_fring_stats(r, o, &s) < 0) {
        snprintf(buf, len, "corrupt fring");
        return;
    }
    snprintf(buf, len,
             "elem=%u cap=%u used=%u sent=%" PRIu64 " recv=%" PRIu64
             " full=%u empty=%u proto_errors=%u",
             (unsigned)s.elem_size, (unsigned)s.capacity, (unsigned)s.used, s.sent, s.received,
             (unsigned)s.full_stalls, (unsigned)s.empty_stalls, (unsigned)s.proto_errors);
}

static void describe_sampling(struct hvc_region *r, const struct hvc_obj *o, char *buf,
                             size_t len)
{
    struct hvc_sampling_stats s;

    if (hvc_sampling_stats(r, o, &s) < 0) {
        snprintf(buf, len, "corrupt sampling port");
        return;
    }
    snprintf(buf, len, "max=%u refresh=%" PRIu64 "ms published=%u", (unsigned)s.max_msg,
             s.refresh_ns / 1000000, (unsigned)s.published);
}

static void describe_queue(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    struct hvc_queue_stats s;

    if (hvc_queue_stats(r, o, &s) < 0) {
        snprintf(buf, len, "corrupt queuing port");
        return;
    }
    snprintf(buf, len,
             "%s max=%u x %u waiting=%u sent=%u received=%u rejected=%u dropped=%u "
             "proto_errors=%u",
             s.policy == HVC_QUEUE_DROP_OLDEST ? "drop-oldest" : "reject", (unsigned)s.max_count,
             (unsigned)s.max_msg, (unsigned)s.waiting, (unsigned)s.sent, (unsigned)s.received,
             (unsigned)s.rejected, (unsigned)s.dropped, (unsigned)s.proto_errors);
}

#ifdef HVC_TOOLS_VNET
static void describe_vnet(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    struct hvc_vnet_link_info li;
    char a[40], b[40];

    if (hvc_vnet_link_info(r, o, &li) < 0) {
        snprintf(buf, len, "corrupt vnet link");
        return;
    }
    snprintf(buf, len,
             "mtu=%u ends: [%s%s tx=%" PRIu64 " rx=%" PRIu64 " drops=%u] [%s%s tx=%" PRIu64
             " rx=%" PRIu64 " drops=%u]",
             (unsigned)li.mtu, owner_text(li.owner[0], a, sizeof(a)), li.owner[0] && !li.live[0] ? " (gone)" : "",
             li.stats[0].tx_frames, li.stats[0].rx_frames,
             (unsigned)(li.stats[0].drop_short + li.stats[0].drop_long + li.stats[0].drop_bad),
             owner_text(li.owner[1], b, sizeof(b)), li.owner[1] && !li.live[1] ? " (gone)" : "",
             li.stats[1].tx_frames, li.stats[1].rx_frames,
             (unsigned)(li.stats[1].drop_short + li.stats[1].drop_long + li.stats[1].drop_bad));
}

static void describe_bridge(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    static struct hvc_bridge_info bi;
    size_t n;

    if (hvc_bridge_stats(r, o, &bi) < 0) {
        snprintf(buf, len, "corrupt bridge");
        return;
    }
    n = (size_t)snprintf(buf, len, "fdb=%u/%u default=%s", (unsigned)bi.fdb_used,
                         (unsigned)bi.fdb_size, bi.default_action ? "deny" : "allow");
    for (uint32_t i = 0; i < bi.nports && n < len; i++) {
        const struct hvc_wire_bridge_port *p = &bi.port[i];

        n += (size_t)snprintf(buf + n, len - n,
                              " [%s rx=%" PRIu64 " tx=%" PRIu64 " flood=%" PRIu64
                              " drop rate/rule/bad/full/down=%" PRIu64 "/%" PRIu64 "/%" PRIu64
                              "/%" PRIu64 "/%" PRIu64 "]",
                              p->name, p->rx_frames, p->tx_frames, p->flood, p->drop_rate,
                              p->drop_rule, p->drop_malformed + p->drop_len, p->drop_full,
                              p->drop_down);
    }
    for (uint32_t i = 0; i < bi.nrules && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, " rule%u:%s hits=%" PRIu64, (unsigned)i,
                              bi.rule[i].action ? "deny" : "allow", bi.rule[i].hits);
}
#else
/* Built without vnet: links and bridges are shown by type only. */
static void describe_vnet(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    (void)r, (void)o, (void)buf, (void)len;
}

static void describe_bridge(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    (void)r, (void)o, (void)buf, (void)len;
}
#endif

/* The record of the system file a region was made from (hvcomm create --config). */
static void describe_raw(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    struct hvc_system_info si;

    if (strcmp(o->name, HVC_SYSTEM_OBJ) != 0)
        return;
    if (hvc_system_info(r, &si) < 0) {
        snprintf(buf, len, "corrupt system record");
        return;
    }
    snprintf(buf, len, "system '%s' from %s, hash %016" PRIx64 ", %u objects", si.name,
             si.source[0] ? si.source : "?", si.hash, (unsigned)si.nobjects);
}

typedef void describe_fn(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len);

/* One describe function per row of HVC_OBJ_TYPE_MAP: a type added to the
 * list without its describe_<name> here does not compile. */
#define ROW(NAME, name, magic, version, hdr, flags_at, known, writer_at) \
    [HVC_OBJ_##NAME] = describe_##name,
static describe_fn *const describers[] = {HVC_OBJ_TYPE_MAP(ROW)};
#undef ROW

void describe_object(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    const struct hvc_obj_desc *d = hvc_obj_type_desc(o->type);

    if (len == 0)
        return;
    buf[0] = '\0';
    if (d == NULL || o->type >= sizeof(describers) / sizeof(describers[0]))
        return;
    /* A newer peer's object (a feature flag this build does not know) is
     * not corrupt: say so rather than fail its stats call. */
    if (d->magic != 0) {
        uint32_t f = 0;
        int rc = hvc_obj_validate(r, o, d, &f);

        if (rc == -HVC_ENOTSUP) {
            snprintf(buf, len, "unsupported: feature flags 0x%x unknown to this build (newer peer)",
                     (unsigned)hvc_load_relaxed((const uint32_t *)(const void *)
                                                ((const uint8_t *)o->ptr + d->flags_at)));
            return;
        }
        if (rc == -HVC_EVERSION) {
            snprintf(buf, len, "unsupported: layout version %u (this build reads %u)",
                     (unsigned)hvc_load_relaxed((const uint32_t *)(const void *)
                                                ((const uint8_t *)o->ptr + 4)),
                     (unsigned)d->version);
            return;
        }
    }
    describers[o->type](r, o, buf, len);
}
