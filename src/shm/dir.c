/*
 * The directory of named objects. Readers take no lock: an entry's status
 * word is a sequence (generation, state), written by the one peer holding
 * the directory lock, and readers copy the entry between two reads of it.
 * Every copy is checked before use: a peer may have written anything.
 */
#include "internal.h"

#define GEN_MASK 0x3fffffffu
#define READ_RETRIES 16
#define LOCK_SPINS 1000
#define LOCK_TIMEOUT_NS 2000000000ll
#define PAGE 4096u

#define DIRENT_STATUS(gen, state) HVC_PEER_STATUS(gen, state)
#define DIRENT_STATE(s) HVC_PEER_STATUS_STATE(s)
#define DIRENT_GEN(s) HVC_PEER_STATUS_EPOCH(s)

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Check a private copy of an entry against the region's private layout. */
static int check_entry(const struct hvc_region *r, const struct hvc_wire_dirent *e)
{
    if (hvc__strnlen(e->name, HVC_NAME_MAX) - 1u >= HVC_NAME_MAX)
        return -HVC_EPROTO; /* empty or unterminated */
    if (e->type == HVC_OBJ_ANY || e->size == 0 || e->offset % HVC_CACHELINE != 0 ||
        e->offset < r->heap_offset || e->offset > r->size ||
        e->size > r->size - e->offset)
        return -HVC_EPROTO;
    if ((e->writer >= r->max_peers && e->writer != HVC_PEER_ANY) ||
        e->creator >= r->max_peers)
        return -HVC_EPROTO;
    return 0;
}

/*
 * Copy entry i into *e if it is READY. Returns its status word (> 0), or
 * -HVC_ENOENT (not published) or -HVC_EAGAIN (kept changing).
 */
static int64_t read_entry(const struct hvc_region *r, uint32_t i,
                          struct hvc_wire_dirent *e)
{
    struct hvc_wire_dirent *shared = hvc__dirent(r, i);

    for (int tries = 0; tries < READ_RETRIES; tries++) {
        /* Pairs with the release store that publishes the entry. */
        uint32_t s1 = hvc_load_acquire(&shared->status), s2;

        if (DIRENT_STATE(s1) != HVC_DIRENT_READY)
            return -HVC_ENOENT;
        __builtin_memcpy(e, shared, sizeof(*e));
        /* Order the copy before the second read of status (seqlock read). */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        s2 = hvc_load_relaxed(&shared->status);
        if (s1 == s2) {
            e->status = s1;
            return s1;
        }
    }
    return -HVC_EAGAIN;
}

static void to_obj(const struct hvc_region *r, uint32_t i,
                   const struct hvc_wire_dirent *e, struct hvc_obj *o)
{
    o->ptr = r->base + e->offset;
    o->offset = e->offset;
    o->size = e->size;
    o->type = e->type;
    o->flags = e->flags;
    o->index = i;
    o->gen = DIRENT_GEN(e->status);
    o->writer = e->writer;
    o->creator = e->creator;
    __builtin_memcpy(o->name, e->name, sizeof(o->name));
}

/* Does the published entry `e` (slot i) overlap or share a name with another? */
static int check_against_others(const struct hvc_region *r, uint32_t i,
                                const struct hvc_wire_dirent *e)
{
    for (uint32_t j = 0; j < r->max_objects; j++) {
        struct hvc_wire_dirent o;

        if (j == i || read_entry(r, j, &o) < 0 || check_entry(r, &o) < 0)
            continue;
        if (ranges_overlap(e->offset, e->size, o.offset, o.size))
            return -HVC_EPROTO;
        if (hvc__streq(e->name, o.name))
            return -HVC_EPROTO;
    }
    return 0;
}

int hvc__check_directory(struct hvc_region *r)
{
    for (uint32_t i = 0; i < r->max_objects; i++) {
        struct hvc_wire_dirent e;
        int64_t s = read_entry(r, i, &e);

        if (s == -HVC_ENOENT)
            continue;
        if (s < 0)
            return (int)s;
        if (check_entry(r, &e) < 0 || check_against_others(r, i, &e) < 0)
            return -HVC_EPROTO;
    }
    return 0;
}

static int check_name(const char *name)
{
    uint32_t n;

    if (name == NULL || name[0] == '\0')
        return -HVC_EINVAL;
    n = hvc__strnlen(name, HVC_NAME_MAX);
    return n > HVC_NAME_MAX ? -HVC_ENAMETOOLONG : 0;
}

#ifndef HVC_CONFIG_ATTACH_ONLY
/* ---- the directory lock (create and delete only) ---- */

static int dir_lock(struct hvc_region *r)
{
    uint32_t *lock = &hvc__hdr(r)->dir_lock;
    uint32_t me = hvc_peer_owner(r);
    uint64_t start = hvc_platform_now(&r->plat);

    for (uint32_t spins = 0;; spins++) {
        uint32_t cur = 0;

        if (hvc_cas(lock, &cur, me))
            return 0;
        if (cur == me)
            return -HVC_EBUSY; /* we already hold it: a bug in this file */
        if (!hvc_peer_owner_live(r, cur)) {
            /* The holder died or left holding it: take it over. What it
             * was doing is undone by the BUSY-entry sweep below. */
            if (hvc_cas(lock, &cur, me)) {
                hvc_log(HVC_LOG_WARN, "directory lock recovered from dead peer %u",
                        (unsigned)HVC_OWNER_PEER(cur));
                return 0;
            }
            continue;
        }
        if (hvc_platform_now(&r->plat) - start >= (uint64_t)LOCK_TIMEOUT_NS)
            return -HVC_ETIMEDOUT;
        if (spins < LOCK_SPINS) {
            hvc_cpu_relax();
            continue;
        }
        /* Held for a while: maybe by a peer that died and nobody noticed
         * yet. Ask the platform now and then. */
        if ((spins - LOCK_SPINS) % 100 == 0)
            hvc_peer_scan(r, 0);
        hvc_platform_wait_word(&r->plat, lock, cur, 1000000);
    }
}

static void dir_unlock(struct hvc_region *r)
{
    uint32_t me = hvc_peer_owner(r);

    hvc_fetch_add(&hvc__hdr(r)->dir_gen, 1);
    if (hvc_cas(&hvc__hdr(r)->dir_lock, &me, 0))
        hvc_platform_wake_word(&r->plat, &hvc__hdr(r)->dir_lock, 1);
}

/*
 * Entry writes, under the lock. Seqlock write side: the status leaves READY
 * (release) before any field changes, and the final status is stored with
 * release after the last field.
 */
static void entry_begin(struct hvc_wire_dirent *e, uint32_t *gen)
{
    *gen = (DIRENT_GEN(hvc_load_relaxed(&e->status)) + 1) & GEN_MASK;
    hvc_store_relaxed(&e->status, DIRENT_STATUS(*gen, HVC_DIRENT_BUSY));
    /* Pairs with the acquire fence in read_entry(): a reader that sees a
     * changed field also sees the status change. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

#endif /* !HVC_CONFIG_ATTACH_ONLY */

/* ---- public ---- */

#ifdef HVC_CONFIG_ATTACH_ONLY
/* A peer built attach-only writes no directory entry: no lock, no create,
 * no delete. */
int hvc_obj_create(struct hvc_region *r, const struct hvc_obj_spec *spec,
                   struct hvc_obj *out)
{
    (void)r, (void)spec, (void)out;
    return -HVC_ENOTSUP;
}
#else
int hvc_obj_create(struct hvc_region *r, const struct hvc_obj_spec *spec,
                   struct hvc_obj *out)
{
    struct hvc_wire_dirent ent, *slot = NULL;
    uint64_t align, size, cand;
    uint32_t gen, free_index = 0;
    int rc;

    if (r == NULL || spec == NULL || !hvc__writable(r) || r->self < 0)
        return -HVC_EINVAL;
    rc = check_name(spec->name);
    if (rc < 0)
        return rc;
    if (spec->type == HVC_OBJ_ANY || spec->size == 0 || spec->size > r->size ||
        (spec->writer >= r->max_peers && spec->writer != HVC_PEER_ANY))
        return -HVC_EINVAL;
    align = (spec->flags & HVC_OBJ_F_PAGE_ALIGN) ? PAGE : HVC_CACHELINE;
    size = hvc__align_up(spec->size, align);

    rc = dir_lock(r);
    if (rc < 0)
        return rc;

    /* One pass: find the name, a free slot, and sweep entries left BUSY by
     * a creator that died holding the lock (we hold it, so nobody else is
     * writing one). */
    for (uint32_t i = 0; i < r->max_objects; i++) {
        struct hvc_wire_dirent *e = hvc__dirent(r, i);
        uint32_t s = hvc_load_acquire(&e->status);

        if (DIRENT_STATE(s) == HVC_DIRENT_BUSY || DIRENT_STATE(s) == 3) {
            hvc_store_release(&e->status, DIRENT_STATUS(DIRENT_GEN(s), HVC_DIRENT_FREE));
            s = DIRENT_STATUS(DIRENT_GEN(s), HVC_DIRENT_FREE);
        }
        if (DIRENT_STATE(s) == HVC_DIRENT_FREE) {
            if (slot == NULL) {
                slot = e;
                free_index = i;
            }
            continue;
        }
        if (read_entry(r, i, &ent) > 0 && check_entry(r, &ent) == 0 &&
            hvc__streq(ent.name, spec->name)) {
            rc = -HVC_EEXIST;
            goto out;
        }
    }
    if (slot == NULL) {
        rc = -HVC_ENOSPC;
        goto out;
    }

    /* First fit: slide the candidate past every object it overlaps. */
    cand = hvc__align_up(r->heap_offset, align);
    for (bool moved = true; moved;) {
        moved = false;
        for (uint32_t j = 0; j < r->max_objects; j++) {
            if (read_entry(r, j, &ent) < 0)
                continue;
            if (check_entry(r, &ent) < 0) {
                rc = -HVC_EPROTO;
                hvc_region_proto_error(r, "corrupt directory entry");
                goto out;
            }
            if (cand <= r->size && ranges_overlap(cand, size, ent.offset, ent.size)) {
                cand = hvc__align_up(ent.offset + ent.size, align);
                moved = true;
            }
        }
    }
    if (cand > r->size || size > r->size - cand) {
        rc = -HVC_ENOSPC;
        goto out;
    }

    entry_begin(slot, &gen);
    slot->type = spec->type;
    slot->offset = cand;
    slot->size = size;
    slot->writer = spec->writer;
    slot->creator = (uint16_t)r->self;
    slot->flags = spec->flags;
    __builtin_memset(slot->name, 0, sizeof(slot->name));
    hvc__strlcpy(slot->name, spec->name, HVC_NAME_MAX);
    __builtin_memset(r->base + cand, 0, (size_t)size);
    hvc_platform_cache_clean(&r->plat, r->base + cand, size);
    /* Publish: pairs with the acquire load in read_entry(). */
    hvc_store_release(&slot->status, DIRENT_STATUS(gen, HVC_DIRENT_READY));
    hvc_platform_cache_clean(&r->plat, slot, sizeof(*slot));
    if (out != NULL) {
        __builtin_memcpy(&ent, slot, sizeof(ent));
        ent.status = DIRENT_STATUS(gen, HVC_DIRENT_READY);
        to_obj(r, free_index, &ent, out);
    }
    rc = 0;
out:
    dir_unlock(r);
    return rc;
}
#endif /* !HVC_CONFIG_ATTACH_ONLY */

int hvc_obj_open(struct hvc_region *r, const char *name, uint32_t type,
                 struct hvc_obj *out)
{
    bool busy = false;
    int rc;

    if (r == NULL || out == NULL || !(r->state & HVC__ATTACHED))
        return -HVC_EINVAL;
    rc = check_name(name);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < r->max_objects; i++) {
        struct hvc_wire_dirent e;
        int64_t s = read_entry(r, i, &e);

        if (s == -HVC_EAGAIN)
            busy = true;
        if (s < 0)
            continue;
        if (hvc__strnlen(e.name, HVC_NAME_MAX) > HVC_NAME_MAX ||
            !hvc__streq(e.name, name))
            continue;
        if (check_entry(r, &e) < 0 || check_against_others(r, i, &e) < 0) {
            hvc_region_proto_error(r, "corrupt directory entry");
            return -HVC_EPROTO;
        }
        if (type != HVC_OBJ_ANY && e.type != type)
            return -HVC_ETYPE;
        to_obj(r, i, &e, out);
        return 0;
    }
    return busy ? -HVC_EAGAIN : -HVC_ENOENT;
}

int hvc_obj_get(struct hvc_region *r, uint32_t index, struct hvc_obj *out)
{
    struct hvc_wire_dirent e;
    int64_t s;

    if (r == NULL || out == NULL || !(r->state & HVC__ATTACHED) ||
        index >= r->max_objects)
        return -HVC_EINVAL;
    s = read_entry(r, index, &e);
    if (s < 0)
        return (int)s;
    if (check_entry(r, &e) < 0)
        return -HVC_EPROTO;
    to_obj(r, index, &e, out);
    return 0;
}

#ifdef HVC_CONFIG_ATTACH_ONLY
int hvc_obj_delete(struct hvc_region *r, const char *name)
{
    (void)r, (void)name;
    return -HVC_ENOTSUP;
}
#else
int hvc_obj_delete(struct hvc_region *r, const char *name)
{
    struct hvc_obj o;
    uint32_t gen;
    int rc;

    if (r == NULL || !hvc__writable(r) || r->self < 0)
        return -HVC_EINVAL;
    rc = check_name(name);
    if (rc < 0)
        return rc;
    rc = dir_lock(r);
    if (rc < 0)
        return rc;
    rc = hvc_obj_open(r, name, HVC_OBJ_ANY, &o);
    if (rc == 0) {
        struct hvc_wire_dirent *e = hvc__dirent(r, o.index);

        entry_begin(e, &gen);
        __builtin_memset(e->name, 0, sizeof(e->name));
        hvc_store_release(&e->status, DIRENT_STATUS(gen, HVC_DIRENT_FREE));
        hvc_platform_cache_clean(&r->plat, e, sizeof(*e));
    }
    dir_unlock(r);
    return rc;
}
#endif /* !HVC_CONFIG_ATTACH_ONLY */

int hvc_obj_check(struct hvc_region *r, const struct hvc_obj *obj)
{
    if (r == NULL || obj == NULL || !(r->state & HVC__ATTACHED) ||
        obj->index >= r->max_objects)
        return -HVC_EINVAL;
    return hvc_load_acquire(&hvc__dirent(r, obj->index)->status) ==
                   DIRENT_STATUS(obj->gen, HVC_DIRENT_READY)
               ? 0
               : -HVC_ESTALE;
}

int hvc_obj_check_header(const struct hvc_obj *obj, uint32_t type, uint64_t min_size,
                         uint32_t magic, uint32_t version)
{
    const struct hvc_wire_obj_head *h;
    uint32_t m;

    if (obj == NULL || obj->ptr == NULL || min_size < sizeof(*h))
        return -HVC_EINVAL;
    if (obj->type != type)
        return -HVC_ETYPE;
    if (obj->size < min_size || ((uintptr_t)obj->ptr & (HVC_CACHELINE - 1)) != 0)
        return -HVC_EPROTO;
    h = obj->ptr;
    /* Pairs with the release store of magic that publishes the object. */
    m = hvc_load_acquire(&h->magic);
    if (m == 0)
        return -HVC_ENOTREADY;
    if (m != magic)
        return -HVC_EPROTO;
    return hvc_load_relaxed(&h->version) == version ? 0 : -HVC_EVERSION;
}

const char *hvc_obj_type_name(uint32_t type)
{
    static const char *const names[] = {"any",      "raw",   "event", "segment",
                                        "ring",     "sampling", "queue", "vnet", "bridge",
                                        "fring"};

    if (type < sizeof(names) / sizeof(names[0]))
        return names[type];
    return type >= HVC_OBJ_USER ? "user" : "?";
}
