/* Locked segments: a robust lock word in front of shared data.
 * Protocol: doc/segments.md. */
#include <hvcomm/atomic.h>
#include <hvcomm/platform.h>
#include <hvcomm/region.h>
#include <hvcomm/shm.h>

#define SEG_DATA_OFFSET (2u * HVC_CACHELINE)
#define SEG_PAGE 4096u

static int seg_proto(struct hvc_seg *seg, const char *what)
{
    hvc_region_proto_error(seg->r, what);
    return -HVC_EPROTO;
}

/* Checks the immutable line of a segment (errors counted); returns the
 * data size. */
static int check_seg(struct hvc_region *r, const struct hvc_obj *o, uint64_t *data_size)
{
    struct hvc_wire_seg *w = o->ptr;
    uint32_t off;
    uint64_t size;
    /* Header and feature flags, the checks every type shares. The magic's
     * acquire pairs with its release in hvc_seg_create(). */
    int rc = hvc_obj_validate(r, o, &hvc__objdesc_segment, NULL); /* callers checked r */

    if (rc < 0)
        return rc;
    off = hvc_load_relaxed(&w->data_offset);
    size = hvc_load_wide64(&w->data_size); /* immutable after publication; read once */
    if (off != SEG_DATA_OFFSET || size == 0 || size > o->size - off) {
        hvc_region_proto_error(r, "segment: inconsistent header");
        return -HVC_EPROTO;
    }
    *data_size = size;
    return 0;
}

static int open_obj(struct hvc_region *r, const struct hvc_obj *o,
                    unsigned flags, struct hvc_seg *seg)
{
    struct hvc_seg s;
    int rc;

    __builtin_memset(&s, 0, sizeof(s));
    rc = check_seg(r, o, &s.size);
    if (rc < 0)
        return rc;
    s.r = r;
    s.obj = *o;
    s.w = o->ptr;
    s.flags = flags;
    s.spin_ns = HVC_SEG_SPIN_DEFAULT;
    s.data = (uint8_t *)o->ptr + SEG_DATA_OFFSET;
    if (flags & HVC_SEG_O_RDONLY) {
        void *view;

        rc = hvc_platform_map_view(hvc_region_platform(r), o->offset, o->size,
                                   HVC_MAP_RDONLY, &view);
        if (rc == 1) {
            s.view = view;
            s.view_len = o->size;
            s.data = (uint8_t *)view + SEG_DATA_OFFSET;
            s.ro_enforced = 1;
        } else if (rc < 0 && rc != -HVC_EINVAL) {
            return rc;
        }
        /* 0 or EINVAL (object not on page boundaries of this backend):
         * read-only by convention only; ro_enforced stays 0. */
    }
    *seg = s;
    return 0;
}

int hvc_seg_create(struct hvc_region *r, const char *name, uint64_t size,
                   struct hvc_seg *seg)
{
    struct hvc_obj_spec spec = {.name = name, .type = HVC_OBJ_SEGMENT,
                                .writer = HVC_PEER_ANY,
                                .flags = HVC_OBJ_F_PAGE_ALIGN};
    struct hvc_wire_seg *w;
    struct hvc_obj o;
    int rc;

    if (r == NULL || name == NULL || seg == NULL || size == 0 ||
        size > UINT64_MAX / 2 || r->self < 0)
        return -HVC_EINVAL;
    spec.size = (SEG_DATA_OFFSET + size + SEG_PAGE - 1) & ~(uint64_t)(SEG_PAGE - 1);
    rc = hvc_obj_create(r, &spec, &o);
    if (rc < 0)
        return rc;
    w = o.ptr;
    hvc_store_relaxed(&w->version, HVC_WIRE_SEG_VERSION);
    hvc_store_relaxed(&w->data_offset, SEG_DATA_OFFSET);
    w->data_size = size; /* published by the release store of magic */
    /* Pairs with the acquire load of magic in check_seg(). */
    hvc_store_release(&w->magic, HVC_WIRE_SEG_MAGIC);
    return open_obj(r, &o, 0, seg);
}

int hvc_seg_open(struct hvc_region *r, const char *name, unsigned flags,
                 struct hvc_seg *seg)
{
    struct hvc_obj o;
    int rc;

    if (r == NULL || name == NULL || seg == NULL || (flags & ~HVC_SEG_O_RDONLY) != 0 ||
        hvc_region_platform(r) == NULL)
        return -HVC_EINVAL;
    if (!(flags & HVC_SEG_O_RDONLY) && r->self < 0)
        return -HVC_EINVAL;
    rc = hvc_obj_open(r, name, HVC_OBJ_SEGMENT, &o);
    if (rc < 0)
        return rc;
    if (!(flags & HVC_SEG_O_RDONLY) && o.writer != HVC_PEER_ANY &&
        o.writer != (uint32_t)r->self)
        return -HVC_EPERM;
    return open_obj(r, &o, flags, seg);
}

int hvc_seg_close(struct hvc_seg *seg)
{
    if (seg == NULL || seg->r == NULL)
        return -HVC_EINVAL;
    if (seg->view != NULL)
        hvc_platform_unmap_view(hvc_region_platform(seg->r), seg->view,
                                seg->view_len);
    __builtin_memset(seg, 0, sizeof(*seg));
    return 0;
}

void *hvc_seg_data(const struct hvc_seg *seg)
{
    return seg != NULL ? seg->data : NULL;
}

uint64_t hvc_seg_size(const struct hvc_seg *seg)
{
    return seg != NULL && seg->r != NULL ? seg->size : 0;
}

int hvc_seg_set_spin(struct hvc_seg *seg, uint64_t spin_ns)
{
    if (seg == NULL || seg->r == NULL)
        return -HVC_EINVAL;
    seg->spin_ns = spin_ns;
    return 0;
}

/* Release the lock word and wake one sleeper if any. */
static void release(struct hvc_seg *seg, uint32_t me)
{
    struct hvc_wire_seg *w = seg->w;
    uint32_t expected = me;

    /* Seq-cst: the data writes of the critical section are visible to
     * whoever takes the lock next (pairs with its CAS). */
    if (!hvc_cas(&w->lock, &expected, 0))
        return; /* stolen: we had been declared gone */
    /* Dekker with a sleeper: our release, this fence, then the load of
     * waiters; pairs with the fence in lock_slow() after it registers. */
    hvc_fence();
    if (hvc_load_relaxed(&w->waiters) != 0)
        hvc_platform_wake_word(hvc_region_platform(seg->r), &w->lock, 1);
}

/* After taking the lock word: settle the consistency state. */
static int acquired(struct hvc_seg *seg, uint32_t me, bool stolen)
{
    struct hvc_wire_seg *w = seg->w;
    uint32_t st = hvc_load_relaxed(&w->state);

    hvc_fetch_add_relaxed(&w->acquired, 1);
    if (st == HVC_SEG_NOTRECOVERABLE) {
        release(seg, me);
        return -HVC_ENOTRECOVERABLE;
    }
    if (st > HVC_SEG_NOTRECOVERABLE) {
        seg_proto(seg, "segment state out of range");
        stolen = true; /* the data cannot be trusted: make the caller repair */
    }
    /* A holder that found INCONSISTENT was itself a recoverer that died
     * (an unlock would have made it NOTRECOVERABLE): recover again. */
    if (stolen || st == HVC_SEG_INCONSISTENT) {
        hvc_store_relaxed(&w->state, HVC_SEG_INCONSISTENT);
        hvc_fetch_add_relaxed(&w->recovered, 1);
        return HVC_SEG_OWNERDEAD;
    }
    return 0;
}

/* Try to take the lock once: 1 taken, 2 taken from a dead holder, 0 held
 * by a live holder (in *seen). */
static int try_take(struct hvc_seg *seg, uint32_t me, uint32_t *seen)
{
    uint32_t v = 0;

    if (hvc_cas(&seg->w->lock, &v, me))
        return 1;
    /* v: the holder's owner word, read once by the CAS. A word naming a
     * peer beyond the table is never live, so it is recovered too. */
    if (v != me && !hvc_peer_owner_live(seg->r, v)) {
        if ((v & 0xffu) == 0 || HVC_OWNER_PEER(v) >= seg->r->max_peers)
            seg_proto(seg, "segment lock word names no peer");
        if (hvc_cas(&seg->w->lock, &v, me))
            return 2;
    }
    *seen = v;
    return 0;
}

static int lock_common(struct hvc_seg *seg, int64_t timeout_ns)
{
    struct hvc_platform_handle *h;
    struct hvc_wire_seg *w;
    uint64_t now, deadline, spin_end;
    uint32_t me, seen = 0;
    int got, rc = 0;

    if (seg == NULL || seg->r == NULL)
        return -HVC_EINVAL;
    if (seg->flags & HVC_SEG_O_RDONLY)
        return -HVC_EPERM;
    me = hvc_peer_owner(seg->r);
    if (me == 0 || (timeout_ns < 0 && timeout_ns != HVC_FOREVER))
        return -HVC_EINVAL;
    w = seg->w;
    h = hvc_region_platform(seg->r);
    got = try_take(seg, me, &seen);
    if (got != 0)
        return acquired(seg, me, got == 2);
    if (timeout_ns == 0)
        return -HVC_EBUSY;
    now = hvc_platform_now(h);
    deadline = timeout_ns == HVC_FOREVER ? UINT64_MAX : now + (uint64_t)timeout_ns;
    spin_end = now + seg->spin_ns < deadline ? now + seg->spin_ns : deadline;
    /* Spin on plain loads; CAS only when the word looks free. */
    while (seg->spin_ns != 0 && hvc_platform_now(h) < spin_end) {
        for (int i = 0; i < 32; i++) {
            hvc_cpu_relax();
            if (hvc_load_relaxed(&w->lock) == 0) {
                got = try_take(seg, me, &seen);
                if (got != 0)
                    return acquired(seg, me, got == 2);
            }
        }
    }
    hvc_fetch_add_relaxed(&w->contended, 1);
    hvc_fetch_add(&w->waiters, 1);
    /* Pairs with the fence in release() (Dekker). */
    hvc_fence();
    for (;;) {
        uint64_t slice;
        int src;

        got = try_take(seg, me, &seen);
        if (got != 0)
            break;
        now = hvc_platform_now(h);
        if (now >= deadline) {
            rc = -HVC_ETIMEDOUT;
            break;
        }
        slice = deadline - now < HVC_SEG_SLICE_NS ? deadline - now : HVC_SEG_SLICE_NS;
        /* Sleeps only while the word still names the holder we saw. */
        src = hvc_platform_wait_word(h, &w->lock, seen, (int64_t)slice);
        if (src == -HVC_ETIMEDOUT)
            hvc_peer_scan(seg->r, 0); /* a dead holder becomes GONE */
    }
    hvc_fetch_add(&w->waiters, (uint32_t)-1);
    if (rc < 0)
        return rc;
    return acquired(seg, me, got == 2);
}

int hvc_seg_lock(struct hvc_seg *seg)
{
    return lock_common(seg, HVC_FOREVER);
}

int hvc_seg_trylock(struct hvc_seg *seg)
{
    return lock_common(seg, 0);
}

int hvc_seg_lock_timeout(struct hvc_seg *seg, int64_t timeout_ns)
{
    return lock_common(seg, timeout_ns);
}

int hvc_seg_unlock(struct hvc_seg *seg)
{
    uint32_t me, st;

    if (seg == NULL || seg->r == NULL)
        return -HVC_EINVAL;
    if (seg->flags & HVC_SEG_O_RDONLY)
        return -HVC_EPERM;
    me = hvc_peer_owner(seg->r);
    if (me == 0)
        return -HVC_EINVAL;
    if (hvc_load_relaxed(&seg->w->lock) != me)
        return -HVC_EPERM;
    st = hvc_load_relaxed(&seg->w->state);
    if (st == HVC_SEG_INCONSISTENT || st > HVC_SEG_NOTRECOVERABLE)
        hvc_store_relaxed(&seg->w->state, HVC_SEG_NOTRECOVERABLE);
    release(seg, me);
    return 0;
}

int hvc_seg_consistent(struct hvc_seg *seg)
{
    uint32_t me, st;

    if (seg == NULL || seg->r == NULL)
        return -HVC_EINVAL;
    me = hvc_peer_owner(seg->r);
    if (me == 0 || (seg->flags & HVC_SEG_O_RDONLY) ||
        hvc_load_relaxed(&seg->w->lock) != me)
        return -HVC_EPERM;
    st = hvc_load_relaxed(&seg->w->state);
    if (st == HVC_SEG_NOTRECOVERABLE)
        return -HVC_ENOTRECOVERABLE;
    if (st > HVC_SEG_NOTRECOVERABLE)
        return seg_proto(seg, "segment state out of range");
    hvc_store_relaxed(&seg->w->state, HVC_SEG_CONSISTENT);
    return 0;
}

int hvc_seg_stats(struct hvc_region *r, const struct hvc_obj *obj,
                  struct hvc_seg_stats *out)
{
    struct hvc_wire_seg *w;
    uint64_t size = 0;

    if (r == NULL || obj == NULL || out == NULL || obj->type != HVC_OBJ_SEGMENT ||
        obj->ptr == NULL)
        return -HVC_EINVAL;
    __builtin_memset(out, 0, sizeof(*out));
    if (obj->size < sizeof(*w))
        return 0;
    w = obj->ptr;
    out->valid = check_seg(r, obj, &size) == 0;
    out->data_size = size;
    out->owner = hvc_load_relaxed(&w->lock);
    out->state = hvc_load_relaxed(&w->state);
    out->waiters = hvc_load_relaxed(&w->waiters);
    out->contended = hvc_load_relaxed(&w->contended);
    out->acquired = hvc_load_relaxed(&w->acquired);
    out->recovered = hvc_load_relaxed(&w->recovered);
    if (out->state > HVC_SEG_NOTRECOVERABLE)
        out->valid = 0;
    return 0;
}
