/*
 * Apply a constant system table to a region: create every object (the
 * creator), or check that the region holds them (everyone else), and open
 * objects in the role the table gives this peer. Freestanding: the table
 * is the only input, and it is trusted (it is compiled in or came from the
 * checked loader); the region is not, and is read through the modules'
 * own checked calls.
 */
#include <hvcomm/system.h>

#include "../shm/internal.h"

static uint32_t bits(uint64_t mask)
{
    uint32_t n = 0;

    for (; mask != 0; mask &= mask - 1)
        n++;
    return n;
}

static uint32_t lowest(uint64_t mask)
{
    uint32_t i = 0;

    while (i < 64 && !(mask & (1ull << i)))
        i++;
    return i;
}

static uint32_t pow2_up(uint64_t v)
{
    uint64_t p = 1;

    while (p < v)
        p <<= 1;
    return (uint32_t)p;
}

void hvc_system_region_config(const struct hvc_system *sys, struct hvc_region_config *cfg)
{
    if (sys == NULL || cfg == NULL)
        return;
    __builtin_memset(cfg, 0, sizeof(*cfg));
    cfg->size = sys->region.size;
    cfg->max_peers = sys->region.max_peers;
    cfg->max_objects = sys->region.max_objects;
}

int hvc_system_peer_find(const struct hvc_system *sys, const char *name)
{
    if (sys == NULL || name == NULL)
        return -HVC_ENOENT;
    for (uint32_t i = 0; i < sys->npeers; i++)
        if (sys->peers[i].name != NULL && hvc__streq(sys->peers[i].name, name))
            return (int)i;
    return -HVC_ENOENT;
}

int hvc_system_object_find(const struct hvc_system *sys, const char *name)
{
    if (sys == NULL || name == NULL)
        return -HVC_ENOENT;
    for (uint32_t i = 0; i < sys->nobjects; i++)
        if (sys->objects[i].name != NULL && hvc__streq(sys->objects[i].name, name))
            return (int)i;
    return -HVC_ENOENT;
}

int hvc_system_role(const struct hvc_system_object *obj, uint32_t peer_id)
{
    uint64_t b;

    if (obj == NULL || peer_id >= 64)
        return HVC_SYSTEM_NONE;
    b = 1ull << peer_id;
    if (obj->type == HVC_OBJ_VNET)
        return (obj->end[0].peer == peer_id || obj->end[1].peer == peer_id)
                   ? HVC_SYSTEM_WRITE
                   : HVC_SYSTEM_NONE;
    if (obj->writers & b)
        return HVC_SYSTEM_WRITE;
    if (obj->readers & b)
        return HVC_SYSTEM_READ;
    if (obj->readonly & b)
        return HVC_SYSTEM_READONLY;
    return HVC_SYSTEM_NONE;
}

static int check_object(const struct hvc_system *sys, const struct hvc_system_object *o)
{
    uint64_t peers = 0, all = o->writers | o->readers | o->readonly;

    for (uint32_t i = 0; i < sys->npeers; i++)
        peers |= 1ull << sys->peers[i].id;
    if (o->name == NULL || o->name[0] == '\0' ||
        hvc__strnlen(o->name, HVC_NAME_MAX) > HVC_NAME_MAX || (all & ~peers) != 0 ||
        (o->writers & o->readers) != 0 || (o->writers & o->readonly) != 0 ||
        (o->readers & o->readonly) != 0)
        return -HVC_EINVAL;
    switch (o->type) {
    case HVC_OBJ_EVENT:
        return o->kind >= HVC_EVENT_AUTO && o->kind <= HVC_EVENT_BROADCAST ? 0 : -HVC_EINVAL;
    case HVC_OBJ_SEGMENT:
        return o->size != 0 && o->writers != 0 && o->readers == 0 ? 0 : -HVC_EINVAL;
    case HVC_OBJ_RING:
    case HVC_OBJ_SAMPLING:
    case HVC_OBJ_QUEUE:
        return bits(o->writers) == 1 && o->readonly == 0 ? 0 : -HVC_EINVAL;
    case HVC_OBJ_VNET:
        if (!(peers & (1ull << (o->end[0].peer & 63))) ||
            !(peers & (1ull << (o->end[1].peer & 63))) || o->end[0].peer >= 64 ||
            o->end[1].peer >= 64 || o->end[0].peer == o->end[1].peer)
            return -HVC_EINVAL;
        return 0;
    case HVC_OBJ_BRIDGE:
        return o->nports == 0 || o->ports != NULL ? 0 : -HVC_EINVAL;
    default:
        return -HVC_EINVAL;
    }
}

int hvc_system_validate(const struct hvc_system *sys)
{
    if (sys == NULL || sys->version != HVC_SYSTEM_VERSION || sys->name == NULL ||
        sys->npeers == 0 || sys->peers == NULL || sys->creator >= sys->npeers ||
        (sys->nobjects != 0 && sys->objects == NULL) ||
        sys->region.max_peers == 0 || sys->region.max_peers > HVC_MAX_PEERS ||
        sys->region.max_objects == 0 || sys->region.max_objects > HVC_MAX_OBJECTS ||
        sys->region.size < HVC_REGION_MIN_SIZE)
        return -HVC_EINVAL;
    for (uint32_t i = 0; i < sys->npeers; i++) {
        const struct hvc_system_peer *p = &sys->peers[i];

        if (p->name == NULL || p->name[0] == '\0' || p->id >= sys->region.max_peers ||
            hvc__strnlen(p->name, HVC_LABEL_MAX) > HVC_LABEL_MAX)
            return -HVC_EINVAL;
        for (uint32_t j = 0; j < i; j++)
            if (sys->peers[j].id == p->id || hvc__streq(sys->peers[j].name, p->name))
                return -HVC_EINVAL;
    }
    for (uint32_t i = 0; i < sys->nobjects; i++) {
        if (check_object(sys, &sys->objects[i]) < 0)
            return -HVC_EINVAL;
        for (uint32_t j = 0; j < i; j++)
            if (hvc__streq(sys->objects[j].name, sys->objects[i].name))
                return -HVC_EINVAL;
    }
    return 0;
}

/* ---- joining at a fixed id ---- */

static int join_at(struct hvc_region *r, uint32_t id, const char *label)
{
    int rc = hvc_peer_join_id(r, id, label);

    return rc < 0 ? rc : 0;
}

int hvc_system_join(struct hvc_region *r, const struct hvc_system *sys, const char *peer)
{
    int p;

    if (r == NULL || sys == NULL || !hvc__writable(r))
        return -HVC_EINVAL;
    p = hvc_system_peer_find(sys, peer);
    if (p < 0)
        return p;
    return join_at(r, sys->peers[p].id, sys->peers[p].name);
}

/* ---- creating ---- */

static int create_object(struct hvc_region *r, const struct hvc_system *sys,
                         const struct hvc_system_object *o)
{
    switch (o->type) {
    case HVC_OBJ_EVENT: {
        struct hvc_event_attr a = {.kind = o->kind, .max_count = o->count,
                                   .signalers = o->writers};
        struct hvc_event ev;
        int rc = hvc_event_create(r, o->name, &a, &ev);

        if (rc == 0)
            hvc_event_close(&ev);
        return rc;
    }
    case HVC_OBJ_SEGMENT: {
        struct hvc_seg seg;
        int rc = hvc_seg_create(r, o->name, o->size, &seg);

        if (rc == 0)
            hvc_seg_close(&seg);
        return rc;
    }
    case HVC_OBJ_RING: {
        struct hvc_ring_attr a = {.capacity = (uint32_t)o->size, .max_msg = o->max_msg,
                                  .writer = (int32_t)lowest(o->writers),
                                  .flags = (o->flags & HVC_SYSTEM_F_BLOCKING) ? HVC_RING_BLOCKING : 0};
        struct hvc_ring ring;

        return hvc_ring_create(&ring, r, o->name, &a);
    }
    case HVC_OBJ_SAMPLING: {
        struct hvc_sampling_attr a = {.max_msg = o->max_msg,
                                      .writer = (int32_t)lowest(o->writers),
                                      .refresh_ns = o->period_ns};
        struct hvc_sampling sp;

        return hvc_sampling_create(&sp, r, o->name, &a);
    }
    case HVC_OBJ_QUEUE: {
        struct hvc_queue_attr a = {.max_msg = o->max_msg, .max_count = o->count,
                                   .policy = o->kind, .writer = (int32_t)lowest(o->writers)};
        struct hvc_queue qp;

        return hvc_queue_create(&qp, r, o->name, &a);
    }
    case HVC_OBJ_VNET:
        return sys->create_vnet != NULL ? sys->create_vnet(r, o) : -HVC_ENOTSUP;
    case HVC_OBJ_BRIDGE:
        return 0; /* made by the bridge process (hvc_bridge_init()) */
    default:
        return -HVC_EINVAL;
    }
}

int hvc_system_mark(struct hvc_region *r, const struct hvc_system *sys)
{
    struct hvc_obj_spec spec = {.name = HVC_SYSTEM_OBJ, .type = HVC_OBJ_RAW,
                                .size = sizeof(struct hvc_wire_system)};
    struct hvc_wire_system *w;
    struct hvc_obj o;
    int rc;

    if (r == NULL || sys == NULL || r->self < 0 || sys->creator >= sys->npeers)
        return -HVC_EINVAL;
    spec.writer = (uint16_t)r->self;
    rc = hvc_obj_create(r, &spec, &o);
    if (rc < 0)
        return rc;
    w = o.ptr;
    w->version = HVC_SYSTEM_VERSION;
    w->hash = sys->hash;
    w->nobjects = sys->nobjects;
    w->creator = sys->peers[sys->creator].id;
    hvc__strlcpy(w->name, sys->name, HVC_SYSTEM_NAME_MAX);
    if (sys->source != NULL) {
        const char *src = sys->source;
        uint32_t n = hvc__strnlen(src, 4096);

        if (n > HVC_SYSTEM_SOURCE_MAX)
            src += n - HVC_SYSTEM_SOURCE_MAX;
        hvc__strlcpy(w->source, src, HVC_SYSTEM_SOURCE_MAX);
    }
    /* Publish: pairs with the acquire load of magic in hvc_system_info(). */
    hvc_store_release(&w->magic, HVC_SYSTEM_MAGIC);
    hvc_platform_cache_clean(&r->plat, w, sizeof(*w));
    return 0;
}

int hvc_system_create(struct hvc_region *r, const struct hvc_system *sys, uint32_t index)
{
    if (r == NULL || sys == NULL || index >= sys->nobjects)
        return -HVC_EINVAL;
    return create_object(r, sys, &sys->objects[index]);
}

/* ---- checking ---- */

int hvc_system_info(struct hvc_region *r, struct hvc_system_info *out)
{
    struct hvc_wire_system w;
    struct hvc_obj o;
    int rc;

    if (r == NULL || out == NULL)
        return -HVC_EINVAL;
    rc = hvc_obj_open(r, HVC_SYSTEM_OBJ, HVC_OBJ_RAW, &o);
    if (rc < 0)
        return rc == -HVC_ETYPE ? -HVC_EPROTO : rc;
    if (o.size < sizeof(w))
        return -HVC_EPROTO;
    /* Pairs with the release store of magic in hvc_system_mark(). */
    if (hvc_load_acquire(&((struct hvc_wire_system *)o.ptr)->magic) != HVC_SYSTEM_MAGIC)
        return -HVC_ENOTREADY;
    __builtin_memcpy(&w, o.ptr, sizeof(w));
    if (w.version != HVC_SYSTEM_VERSION ||
        hvc__strnlen(w.name, HVC_SYSTEM_NAME_MAX) > HVC_SYSTEM_NAME_MAX ||
        hvc__strnlen(w.source, HVC_SYSTEM_SOURCE_MAX) > HVC_SYSTEM_SOURCE_MAX)
        return -HVC_EPROTO;
    out->hash = w.hash;
    out->nobjects = w.nobjects;
    out->creator = w.creator;
    __builtin_memcpy(out->name, w.name, sizeof(out->name));
    __builtin_memcpy(out->source, w.source, sizeof(out->source));
    return 0;
}

/* Does the object in the region match its table entry? */
static int verify_object(struct hvc_region *r, const struct hvc_system_object *o)
{
    struct hvc_obj obj;
    int rc = hvc_obj_open(r, o->name, HVC_OBJ_ANY, &obj);

    if (rc < 0)
        return rc == -HVC_ENOENT ? -HVC_EEXIST : rc;
    if (obj.type != o->type)
        return -HVC_EEXIST;
    switch (o->type) {
    case HVC_OBJ_EVENT: {
        struct hvc_event_stats s;

        if (hvc_event_stats(r, &obj, &s) < 0 || !s.valid)
            return -HVC_EPROTO;
        if (s.kind != o->kind || s.signalers != o->writers ||
            (o->kind == HVC_EVENT_COUNTING &&
             s.max_count != (o->count ? o->count : HVC_EVENT_COUNT_MAX)))
            return -HVC_EEXIST;
        return 0;
    }
    case HVC_OBJ_SEGMENT: {
        struct hvc_seg_stats s;

        if (hvc_seg_stats(r, &obj, &s) < 0 || !s.valid)
            return -HVC_EPROTO;
        return s.data_size == o->size ? 0 : -HVC_EEXIST;
    }
    case HVC_OBJ_RING: {
        struct hvc_ring_stats s;
        uint32_t want_flags = (o->flags & HVC_SYSTEM_F_BLOCKING) ? HVC_RING_BLOCKING : 0;

        if (hvc_ring_stats(r, &obj, &s) < 0)
            return -HVC_EPROTO;
        if ((o->size != 0 && s.capacity != pow2_up(o->size)) || s.max_msg != o->max_msg ||
            s.writer != lowest(o->writers) || (s.flags & HVC_RING_BLOCKING) != want_flags)
            return -HVC_EEXIST;
        return 0;
    }
    case HVC_OBJ_SAMPLING: {
        struct hvc_sampling_stats s;

        if (hvc_sampling_stats(r, &obj, &s) < 0)
            return -HVC_EPROTO;
        return s.max_msg == o->max_msg && s.writer == lowest(o->writers) &&
                       s.refresh_ns == o->period_ns
                   ? 0
                   : -HVC_EEXIST;
    }
    case HVC_OBJ_QUEUE: {
        struct hvc_queue_stats s;

        if (hvc_queue_stats(r, &obj, &s) < 0)
            return -HVC_EPROTO;
        return s.max_msg == o->max_msg && s.max_count == o->count && s.policy == o->kind &&
                       s.writer == lowest(o->writers)
                   ? 0
                   : -HVC_EEXIST;
    }
    default:
        return 0; /* vnet: type checked; its geometry by the vnet library on open */
    }
}

static int count_objects(struct hvc_region *r)
{
    struct hvc_region_info info;
    int rc = hvc_region_info(r, &info);

    return rc < 0 ? rc : (int)info.objects;
}

int hvc_system_apply(struct hvc_region *r, const struct hvc_system *sys, const char *peer)
{
    struct hvc_system_info si;
    int p, rc;

    if (r == NULL || !hvc__writable(r) || hvc_system_validate(sys) < 0)
        return -HVC_EINVAL;
    if (r->size != sys->region.size || r->max_peers != sys->region.max_peers ||
        r->max_objects != sys->region.max_objects)
        return -HVC_EINVAL;
    p = hvc_system_peer_find(sys, peer);
    if (p < 0)
        return p;
    /* Refuse what cannot be made before anything is made. */
    for (uint32_t i = 0; i < sys->nobjects; i++)
        if (sys->objects[i].type == HVC_OBJ_VNET && sys->create_vnet == NULL)
            return -HVC_ENOTSUP;
    rc = join_at(r, sys->peers[p].id, sys->peers[p].name);
    if (rc < 0)
        return rc;

    rc = hvc_system_info(r, &si);
    if (rc == -HVC_ENOENT) {
        if ((uint32_t)p != sys->creator)
            return -HVC_ENOTREADY;
        rc = count_objects(r);
        if (rc != 0)
            return rc < 0 ? rc : -HVC_EEXIST;
        for (uint32_t i = 0; i < sys->nobjects; i++) {
            rc = hvc_system_create(r, sys, i);
            if (rc < 0) {
                hvc_log(HVC_LOG_ERROR, "system %s: creating %s failed (%d)", sys->name,
                        sys->objects[i].name, rc);
                return rc;
            }
        }
        return hvc_system_mark(r, sys);
    }
    if (rc < 0)
        return rc;
    if (si.hash != sys->hash || si.nobjects != sys->nobjects ||
        si.creator != sys->peers[sys->creator].id)
        return -HVC_EEXIST;
    for (uint32_t i = 0; i < sys->nobjects; i++) {
        rc = verify_object(r, &sys->objects[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- opening in this peer's role ---- */

static int lookup(struct hvc_region *r, const struct hvc_system *sys, const char *name,
                  uint32_t type, const struct hvc_system_object **out)
{
    int i, role;

    if (r == NULL || r->self < 0)
        return -HVC_EINVAL;
    i = hvc_system_object_find(sys, name);
    if (i < 0)
        return i;
    *out = &sys->objects[i];
    if ((*out)->type != type)
        return -HVC_ETYPE;
    role = hvc_system_role(*out, (uint32_t)r->self);
    return role == HVC_SYSTEM_NONE ? -HVC_EPERM : role;
}

int hvc_system_open_ring(struct hvc_region *r, const struct hvc_system *sys, const char *name,
                         struct hvc_ring *ring)
{
    const struct hvc_system_object *o;
    int role = lookup(r, sys, name, HVC_OBJ_RING, &o);

    if (role < 0)
        return role;
    return hvc_ring_open(ring, r, name,
                         role == HVC_SYSTEM_WRITE ? HVC_RING_PRODUCER : HVC_RING_CONSUMER);
}

int hvc_system_open_event(struct hvc_region *r, const struct hvc_system *sys, const char *name,
                          struct hvc_event *ev)
{
    const struct hvc_system_object *o;
    int role = lookup(r, sys, name, HVC_OBJ_EVENT, &o);

    if (role < 0)
        return role;
    return hvc_event_open(r, name, 0, NULL, ev);
}

int hvc_system_open_segment(struct hvc_region *r, const struct hvc_system *sys,
                            const char *name, struct hvc_seg *seg)
{
    const struct hvc_system_object *o;
    int role = lookup(r, sys, name, HVC_OBJ_SEGMENT, &o);

    if (role < 0)
        return role;
    return hvc_seg_open(r, name, role == HVC_SYSTEM_WRITE ? 0 : HVC_SEG_O_RDONLY, seg);
}

int hvc_system_open_sampling(struct hvc_region *r, const struct hvc_system *sys,
                             const char *name, struct hvc_sampling *sp)
{
    const struct hvc_system_object *o;
    int role = lookup(r, sys, name, HVC_OBJ_SAMPLING, &o);

    if (role < 0)
        return role;
    return hvc_sampling_open(sp, r, name,
                             role == HVC_SYSTEM_WRITE ? HVC_PORT_WRITER : HVC_PORT_READER);
}

int hvc_system_open_queue(struct hvc_region *r, const struct hvc_system *sys, const char *name,
                          struct hvc_queue *qp)
{
    const struct hvc_system_object *o;
    int role = lookup(r, sys, name, HVC_OBJ_QUEUE, &o);

    if (role < 0)
        return role;
    return hvc_queue_open(qp, r, name,
                          role == HVC_SYSTEM_WRITE ? HVC_PORT_WRITER : HVC_PORT_READER);
}

int hvc_system_vnet_end(struct hvc_region *r, const struct hvc_system *sys, const char *name,
                        struct hvc_system_vnet_end *end)
{
    const struct hvc_system_object *o;
    int role = lookup(r, sys, name, HVC_OBJ_VNET, &o);
    uint32_t e;

    if (role < 0)
        return role;
    e = o->end[0].peer == (uint32_t)r->self ? 0u : 1u;
    if (end != NULL)
        *end = o->end[e];
    return (int)e;
}
