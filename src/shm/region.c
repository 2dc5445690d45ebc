/*
 * Format, attach and validate a region. Everything read from the header is
 * read once into struct hvc_region and checked there; later code uses only
 * those private copies.
 */
#include "internal.h"

/* Layout of a region with the given table sizes: fills r's offsets. */
static int plan_layout(struct hvc_region *r, uint64_t size, uint32_t peers,
                       uint32_t objects)
{
    uint64_t dir_offset, heap_offset;

    if (peers == 0 || peers > HVC_MAX_PEERS || objects == 0 ||
        objects > HVC_MAX_OBJECTS)
        return -HVC_EINVAL;
    dir_offset = sizeof(struct hvc_wire_header) +
                 (uint64_t)peers * sizeof(struct hvc_wire_peer);
    heap_offset = hvc__align_up(dir_offset + (uint64_t)objects *
                                                 sizeof(struct hvc_wire_dirent),
                                HVC_CACHELINE);
    if (heap_offset + HVC_CACHELINE > size)
        return -HVC_ENOSPC;
    r->size = size;
    r->max_peers = peers;
    r->max_objects = objects;
    r->peer_offset = (uint32_t)sizeof(struct hvc_wire_header);
    r->dir_offset = (uint32_t)dir_offset;
    r->heap_offset = heap_offset;
    return 0;
}

int hvc__check_header(struct hvc_region *r, const uint8_t *base,
                      uint64_t map_size)
{
    const struct hvc_wire_header *shared = (const struct hvc_wire_header *)(const void *)base;
    struct hvc_wire_header h;
    struct hvc_region plan;
    uint32_t magic;

    if (map_size < sizeof(h))
        return -HVC_EMAGIC;
    /* Pairs with the release store of magic at the end of format: every
     * field below was written before it. */
    magic = hvc_load_acquire(&shared->magic);
    __builtin_memcpy(&h, shared, sizeof(h));
    if (magic != HVC_WIRE_MAGIC)
        return -HVC_EMAGIC;
    if (h.version != HVC_WIRE_VERSION)
        return -HVC_EVERSION;
    if (h.header_size != sizeof(h) || h.peer_size != sizeof(struct hvc_wire_peer) ||
        h.dirent_size != sizeof(struct hvc_wire_dirent) || h.session_id == 0 ||
        h.region_size > map_size || h.region_size < HVC_REGION_MIN_SIZE)
        return -HVC_EPROTO;
    /* The only layout this version writes: anything else is corrupt. */
    if (plan_layout(&plan, h.region_size, h.max_peers, h.max_objects) < 0 ||
        h.peer_offset != plan.peer_offset || h.dir_offset != plan.dir_offset ||
        h.heap_offset != plan.heap_offset)
        return -HVC_EPROTO;
    if (r->session_id != 0 && h.session_id != r->session_id)
        return -HVC_ESTALE;
    r->base = (uint8_t *)(uintptr_t)base;
    r->size = plan.size;
    r->max_peers = plan.max_peers;
    r->max_objects = plan.max_objects;
    r->peer_offset = plan.peer_offset;
    r->dir_offset = plan.dir_offset;
    r->heap_offset = plan.heap_offset;
    r->session_id = h.session_id;
    return 0;
}

int hvc__check_peers(struct hvc_region *r)
{
    for (uint32_t i = 0; i < r->max_peers; i++) {
        const struct hvc_wire_peer *p = hvc__peer(r, i);
        char label[HVC_LABEL_MAX + 1];

        __builtin_memcpy(label, p->label, sizeof(label));
        if (hvc__strnlen(label, HVC_LABEL_MAX) > HVC_LABEL_MAX)
            return -HVC_EPROTO;
    }
    return 0;
}

#ifdef HVC_CONFIG_ATTACH_ONLY
int hvc_region_format(struct hvc_region *r, const struct hvc_platform *ops,
                      const char *name, const struct hvc_region_config *cfg)
{
    (void)r, (void)ops, (void)name, (void)cfg;
    return -HVC_ENOTSUP; /* a peer built attach-only formats nothing */
}
#else
/* splitmix64: spreads the entropy we have (clock, token, old id). */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Does a region that looks valid still have live members? */
static bool has_live_peers(struct hvc_region *r)
{
    for (uint32_t i = 0; i < r->max_peers; i++) {
        struct hvc_peer_info pi;

        if (hvc_peer_info(r, i, &pi) < 0 || pi.state != HVC_PEER_READY)
            continue;
        if (hvc_platform_token_alive(&r->plat, i, pi.token_ns, pi.token) != 0)
            return true; /* alive, or the platform cannot tell */
    }
    return false;
}

int hvc_region_format(struct hvc_region *r, const struct hvc_platform *ops,
                      const char *name, const struct hvc_region_config *cfg)
{
    struct hvc_wire_header *h;
    uint64_t old_session = 0, token = 0, size;
    unsigned flags = HVC_MAP_CREATE;
    int rc;

    if (r == NULL || cfg == NULL || name == NULL)
        return -HVC_EINVAL;
    if (cfg->size != 0 && cfg->size < HVC_REGION_MIN_SIZE)
        return -HVC_EINVAL;
    if ((cfg->max_peers > HVC_MAX_PEERS) || (cfg->max_objects > HVC_MAX_OBJECTS))
        return -HVC_EINVAL;
    __builtin_memset(r, 0, sizeof(*r));
    r->self = -1;
    if (cfg->flags & HVC_FORMAT_EXCL)
        flags |= HVC_MAP_EXCL;
    rc = hvc_platform_open(&r->plat, ops, name, cfg->size, flags);
    if (rc < 0)
        return rc;
    size = cfg->size != 0 ? cfg->size : r->plat.size;
    if (size > r->plat.size || size < HVC_REGION_MIN_SIZE) {
        rc = size > r->plat.size ? -HVC_EIO : -HVC_ENOSPC;
        goto fail;
    }

    /* Refuse to pull a live region from under its peers. */
    if (hvc__check_header(r, r->plat.base, r->plat.size) == 0) {
        old_session = r->session_id;
        r->state = HVC__ATTACHED;
        if (!(cfg->flags & HVC_FORMAT_FORCE) && has_live_peers(r)) {
            rc = -HVC_EBUSY;
            goto fail;
        }
    }
    rc = plan_layout(r, size, cfg->max_peers ? cfg->max_peers : HVC_DEFAULT_PEERS,
                     cfg->max_objects ? cfg->max_objects : HVC_DEFAULT_OBJECTS);
    if (rc < 0)
        goto fail;

    r->base = r->plat.base;
    h = hvc__hdr(r);
    /* Withdraw the old magic first, so attachers see "not a region" rather
     * than a half-written one. */
    hvc_store_release(&h->magic, 0);
    __builtin_memset(r->base + sizeof(h->magic), 0,
                     (size_t)r->heap_offset - sizeof(h->magic));
    h->version = HVC_WIRE_VERSION;
    h->header_size = sizeof(*h);
    h->region_size = r->size;
    h->max_peers = r->max_peers;
    h->max_objects = r->max_objects;
    h->peer_offset = r->peer_offset;
    h->peer_size = sizeof(struct hvc_wire_peer);
    h->dir_offset = r->dir_offset;
    h->dirent_size = sizeof(struct hvc_wire_dirent);
    h->heap_offset = r->heap_offset;
    hvc_platform_self_token(&r->plat, &token);
    r->session_id = mix64(hvc_platform_now(&r->plat) ^ mix64(token) ^ old_session);
    while (r->session_id == 0 || r->session_id == old_session)
        r->session_id = mix64(r->session_id + 1);
    h->session_id = r->session_id;
    hvc_platform_cache_clean(&r->plat, r->base, r->heap_offset);
    /* Publish: pairs with the acquire load of magic in hvc__check_header(). */
    hvc_store_release(&h->magic, HVC_WIRE_MAGIC);
    hvc_platform_cache_clean(&r->plat, &h->magic, sizeof(h->magic));
    r->state = HVC__ATTACHED | hvc__coherence_state(&r->plat);
    hvc_log(HVC_LOG_INFO, "formatted region '%s': %llu bytes, %u peers, %u objects",
            name, (unsigned long long)r->size, (unsigned)r->max_peers,
            (unsigned)r->max_objects);
    return 0;

fail:
    hvc_platform_close(&r->plat);
    __builtin_memset(r, 0, sizeof(*r));
    r->self = -1;
    return rc;
}
#endif /* !HVC_CONFIG_ATTACH_ONLY */

int hvc_region_attach(struct hvc_region *r, const struct hvc_platform *ops,
                      const char *name, unsigned flags)
{
    int rc;

    if (r == NULL || name == NULL || (flags & ~(unsigned)HVC_MAP_RDONLY) != 0)
        return -HVC_EINVAL;
    __builtin_memset(r, 0, sizeof(*r));
    r->self = -1;
    rc = hvc_platform_open(&r->plat, ops, name, 0, flags);
    if (rc < 0)
        return rc;
    rc = hvc_region_validate(r);
    if (rc < 0) {
        hvc_log(HVC_LOG_ERROR, "region '%s' rejected: %s", name, hvc_strerror(rc));
        hvc_platform_close(&r->plat);
        __builtin_memset(r, 0, sizeof(*r));
        r->self = -1;
        return rc;
    }
    r->state = HVC__ATTACHED | ((flags & HVC_MAP_RDONLY) ? HVC__RDONLY : 0) |
               hvc__coherence_state(&r->plat);
    return 0;
}

int hvc_region_validate(struct hvc_region *r)
{
    int rc;

    if (r == NULL || r->plat.ops == NULL)
        return -HVC_EINVAL;
#ifndef HVC_CONFIG_COHERENT
    hvc_platform_cache_invalidate(&r->plat, r->plat.base, r->plat.size);
#endif
    rc = hvc__check_header(r, r->plat.base, r->plat.size);
    if (rc == 0)
        rc = hvc__check_peers(r);
    if (rc == 0)
        rc = hvc__check_directory(r);
    return rc;
}

int hvc_region_detach(struct hvc_region *r)
{
    if (r == NULL || !(r->state & HVC__ATTACHED))
        return -HVC_EINVAL;
    if (r->self >= 0)
        (void)hvc_peer_leave(r);
    hvc_platform_close(&r->plat);
    __builtin_memset(r, 0, sizeof(*r));
    r->self = -1;
    return 0;
}

int hvc_region_info(struct hvc_region *r, struct hvc_region_info *out)
{
    if (r == NULL || out == NULL || !(r->state & HVC__ATTACHED))
        return -HVC_EINVAL;
    __builtin_memset(out, 0, sizeof(*out));
    out->size = r->size;
    out->session_id = r->session_id;
    out->heap_offset = r->heap_offset;
    out->version = HVC_WIRE_VERSION;
    out->max_peers = r->max_peers;
    out->max_objects = r->max_objects;
    out->proto_errors = hvc_load_relaxed(&hvc__hdr(r)->proto_errors);
    out->self = r->self;
    out->self_epoch = r->self_epoch;
    for (uint32_t i = 0; i < r->max_peers; i++)
        if (HVC_PEER_STATUS_STATE(hvc_load_relaxed(&hvc__peer(r, i)->status)) ==
            HVC_PEER_READY)
            out->peers_ready++;
    for (uint32_t i = 0; i < r->max_objects; i++) {
        struct hvc_obj o;

        if (hvc_obj_get(r, i, &o) == 0) {
            out->objects++;
            out->heap_used += o.size;
        }
    }
    return 0;
}

struct hvc_platform_handle *hvc_region_platform(struct hvc_region *r)
{
    return r != NULL && (r->state & HVC__ATTACHED) ? &r->plat : NULL;
}

void hvc_region_proto_error(struct hvc_region *r, const char *what)
{
    if (r == NULL || !(r->state & HVC__ATTACHED))
        return;
    r->proto_errors++;
    if (hvc__writable(r))
        hvc_fetch_add_relaxed(&hvc__hdr(r)->proto_errors, 1);
    hvc_log(HVC_LOG_WARN, "protocol error: %s", what != NULL ? what : "?");
}
