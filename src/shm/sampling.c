/*
 * Sampling ports: the latest value, never torn, never blocking the writer.
 *
 * The writer fills HVC_SAMPLING_SLOTS slots round-robin. Each slot carries
 * its own generation word (a per-slot sequence lock): 0 while the writer
 * rewrites it, then the publication number. A reader takes the latest
 * publication number, copies that slot, and keeps the copy only if the
 * slot's generation was that number both before and after the copy. With
 * four slots the writer must publish four times during one copy to make a
 * reader retry, and readers write nothing, so any number of them, on any
 * peer, can read at once.
 */
#include <hvcomm/port.h>

#include "internal.h"

#define READ_TRIES 64

static uint32_t slot_size_for(uint32_t max_msg)
{
    return (uint32_t)hvc__align_up(sizeof(struct hvc_wire_sampling_slot) + (uint64_t)max_msg,
                                   HVC_CACHELINE);
}

struct sgeom {
    uint32_t max_msg, slot_size, writer;
    uint64_t refresh_ns;
};

static int check_header(struct hvc_region *r, const struct hvc_obj *obj,
                        struct sgeom *g)
{
    struct hvc_wire_sampling *w;
    /* Header, feature flags, writer. The magic's acquire pairs with its
     * release in hvc_sampling_create(). */
    int rc = r != NULL ? hvc_obj_validate(r, obj, &hvc__objdesc_sampling, NULL) : -HVC_EINVAL;

    if (rc < 0)
        return rc;
    w = obj->ptr;
    g->max_msg = hvc_load_relaxed(&w->max_msg);
    g->slot_size = hvc_load_relaxed(&w->slot_size);
    g->writer = obj->writer; /* private; hvc_obj_validate() matched the header to it */
    g->refresh_ns = ((uint64_t)hvc_load_relaxed(&w->refresh_hi) << 32) |
                    hvc_load_relaxed(&w->refresh_lo);
    if (hvc_load_relaxed(&w->hdr_size) != sizeof(*w) || g->max_msg == 0 ||
        g->max_msg > HVC_PORT_MSG_MAX || g->slot_size != slot_size_for(g->max_msg) ||
        (uint64_t)g->slot_size * HVC_SAMPLING_SLOTS > obj->size - sizeof(*w)) {
        hvc_region_proto_error(r, "sampling: inconsistent header");
        return -HVC_EPROTO;
    }
    return 0;
}

static int attach(struct hvc_sampling *sp, struct hvc_region *r,
                  const struct hvc_obj *obj, int role)
{
    struct sgeom g;
    int rc;

    if (sp == NULL || (role != HVC_PORT_WRITER && role != HVC_PORT_READER))
        return -HVC_EINVAL;
    rc = check_header(r, obj, &g);
    if (rc < 0)
        return rc;
    if (role == HVC_PORT_WRITER && !hvc__may_write(r, obj))
        return -HVC_EPERM;
    __builtin_memset(sp, 0, sizeof(*sp));
    sp->region = r;
    sp->w = obj->ptr;
    sp->slots = (uint8_t *)obj->ptr + sizeof(struct hvc_wire_sampling);
    sp->max_msg = g.max_msg;
    sp->slot_size = g.slot_size;
    sp->refresh_ns = g.refresh_ns;
    sp->role = (uint32_t)role;
    /* The writer resumes the numbering (its own word, read once). */
    sp->seq = role == HVC_PORT_WRITER ? hvc_load_acquire(&sp->w->latest) : 0;
    return 0;
}

int hvc_sampling_create(struct hvc_sampling *sp, struct hvc_region *r,
                        const char *name, const struct hvc_sampling_attr *attr)
{
    struct hvc_obj_spec spec = {0};
    struct hvc_wire_sampling *w;
    struct hvc_obj obj;
    int self, writer, rc;

    if (sp == NULL || r == NULL || attr == NULL || attr->max_msg == 0 ||
        attr->max_msg > HVC_PORT_MSG_MAX)
        return -HVC_EINVAL;
    self = hvc_peer_self(r);
    if (self < 0)
        return -HVC_EINVAL;
    writer = attr->writer < 0 ? self : attr->writer;
    if (writer >= (int)r->max_peers)
        return -HVC_EINVAL;
    spec.name = name;
    spec.type = HVC_OBJ_SAMPLING;
    spec.size = sizeof(*w) + (uint64_t)HVC_SAMPLING_SLOTS * slot_size_for(attr->max_msg);
    spec.writer = (uint16_t)writer;
    rc = hvc_obj_create(r, &spec, &obj);
    if (rc < 0)
        return rc;
    w = obj.ptr; /* zeroed */
    w->version = HVC_SAMPLING_VERSION;
    w->hdr_size = sizeof(*w);
    w->max_msg = attr->max_msg;
    w->slot_size = slot_size_for(attr->max_msg);
    w->writer = (uint32_t)writer;
    w->refresh_lo = (uint32_t)attr->refresh_ns;
    w->refresh_hi = (uint32_t)(attr->refresh_ns >> 32);
    /* Pairs with the acquire load of magic in check_header(). */
    hvc_store_release(&w->magic, HVC_SAMPLING_MAGIC);
    return attach(sp, r, &obj, writer == self ? HVC_PORT_WRITER : HVC_PORT_READER);
}

int hvc_sampling_open(struct hvc_sampling *sp, struct hvc_region *r,
                      const char *name, int role)
{
    struct hvc_obj obj;
    int rc;

    if (sp == NULL || r == NULL || name == NULL)
        return -HVC_EINVAL;
    rc = hvc_obj_open(r, name, HVC_OBJ_SAMPLING, &obj);
    if (rc < 0)
        return rc;
    return attach(sp, r, &obj, role);
}

static struct hvc_wire_sampling_slot *slot_of(const struct hvc_sampling *sp,
                                              uint32_t seq)
{
    return (struct hvc_wire_sampling_slot *)(void *)(sp->slots +
        (size_t)(seq % HVC_SAMPLING_SLOTS) * sp->slot_size);
}

int hvc_sampling_write(struct hvc_sampling *sp, const void *buf, uint32_t len)
{
    struct hvc_wire_sampling_slot *s;
    uint64_t t;
    uint32_t n;

    if (sp == NULL || sp->w == NULL || sp->role != HVC_PORT_WRITER ||
        (buf == NULL && len != 0))
        return -HVC_EINVAL;
    if (len > sp->max_msg)
        return -HVC_EMSGSIZE;
    n = sp->seq + 1u;
    if (n == 0)
        n = 1; /* 0 means "being written" / "nothing yet" */
    s = slot_of(sp, n);
    hvc_store_relaxed(&s->gen, 0);
    hvc__clean(sp->region, &s->gen, sizeof(s->gen));
    /* Orders the 0 above before the data stores below; pairs with the
     * acquire fence in hvc_sampling_read() before its second gen load, so
     * a reader whose copy overlapped these stores sees gen changed. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (len != 0)
        __builtin_memcpy((uint8_t *)(s + 1), buf, len);
    t = hvc_platform_now(hvc_region_platform(sp->region));
    hvc_store_relaxed(&s->len, len);
    hvc_store_relaxed(&s->time_lo, (uint32_t)t);
    hvc_store_relaxed(&s->time_hi, (uint32_t)(t >> 32));
    hvc__clean(sp->region, s, sizeof(*s) + (uint64_t)len);
    /* Pairs with the acquire load of gen in hvc_sampling_read(). */
    hvc_store_release(&s->gen, n);
    hvc__clean(sp->region, &s->gen, sizeof(s->gen));
    /* Pairs with the acquire load of latest in hvc_sampling_read(). */
    hvc_store_release(&sp->w->latest, n);
    hvc__clean(sp->region, &sp->w->latest, sizeof(sp->w->latest));
    sp->seq = n;
    return 0;
}

static int perror_(struct hvc_sampling *sp, const char *what)
{
    sp->errors++;
    hvc_region_proto_error(sp->region, what);
    return -HVC_EPROTO;
}

int hvc_sampling_read(struct hvc_sampling *sp, void *buf, uint32_t cap,
                      struct hvc_sampling_info *info)
{
    if (sp == NULL || sp->w == NULL || (buf == NULL && cap != 0))
        return -HVC_EINVAL;
    for (int tries = 0; tries < READ_TRIES; tries++) {
        struct hvc_wire_sampling_slot *s;
        uint32_t l, g1, g2, len, copy;
        uint64_t t, now;

        hvc__invalidate(sp->region, &sp->w->latest, sizeof(sp->w->latest));
        /* Pairs with the release store of latest in hvc_sampling_write(). */
        l = hvc_load_acquire(&sp->w->latest);
        if (l == 0)
            return -HVC_EAGAIN;
        s = slot_of(sp, l);
        hvc__invalidate(sp->region, s, sp->slot_size);
        /* Pairs with the release store of gen in hvc_sampling_write(). */
        g1 = hvc_load_acquire(&s->gen);
        if (g1 != l)
            continue; /* being rewritten already: take the newer latest */
        len = hvc_load_relaxed(&s->len);
        t = ((uint64_t)hvc_load_relaxed(&s->time_hi) << 32) |
            hvc_load_relaxed(&s->time_lo);
        copy = len <= cap && len <= sp->max_msg ? len : 0;
        if (copy != 0)
            __builtin_memcpy(buf, (const uint8_t *)(s + 1), copy);
        /* Orders the copy before the second gen load (seqlock read);
         * pairs with the release fence in hvc_sampling_write(). */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        hvc__invalidate(sp->region, &s->gen, sizeof(s->gen));
        g2 = hvc_load_relaxed(&s->gen);
        if (g2 != g1)
            continue; /* torn: the writer came round; try again */
        if (len > sp->max_msg)
            return perror_(sp, "sampling: bad length");
        now = hvc_platform_now(hvc_region_platform(sp->region));
        if (info != NULL) {
            info->len = len;
            info->seq = l;
            info->age_ns = now > t ? now - t : 0;
            info->valid = info->age_ns <= sp->refresh_ns;
        }
        if (len > cap)
            return -HVC_EMSGSIZE;
        return (int)len;
    }
    return -HVC_EAGAIN;
}

int hvc_sampling_stats(struct hvc_region *r, const struct hvc_obj *obj,
                       struct hvc_sampling_stats *out)
{
    struct sgeom g;
    int rc;

    if (out == NULL)
        return -HVC_EINVAL;
    rc = check_header(r, obj, &g);
    if (rc < 0)
        return rc;
    out->max_msg = g.max_msg;
    out->writer = g.writer;
    out->refresh_ns = g.refresh_ns;
    out->published = hvc_load_relaxed(&((struct hvc_wire_sampling *)obj->ptr)->latest);
    return 0;
}
