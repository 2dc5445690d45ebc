/*
 * SPSC rings of fixed-size elements: creation, checks, single and batch
 * copies.
 *
 * Each side owns one index (producer: prod, consumer: cons), a
 * free-running element count kept in its handle and published with a
 * release store. It reads the other side's index with an acquire load only
 * when its cached copy says the ring is full (producer) or empty
 * (consumer), once, into a local; the value is checked (the distance to
 * our own index within the capacity; the consumer's moving forward, never
 * past what we published) and only then cached. An element has no header,
 * so there is nothing else the peer writes that we act on: element
 * positions are masked into the data area whatever the indices say.
 */
#include <hvcomm/fring.h>

#include "internal.h"

/* ---- counters and errors ---- */

static void proto_error(struct hvc_fring *q, const char *what)
{
    uint32_t *counter = q->role == HVC_FRING_PRODUCER ? &q->w->prod_errors : &q->w->cons_errors;

    q->errors++;
    hvc_store_relaxed(counter, q->errors);
    hvc__clean(q->region, counter, sizeof(*counter));
    hvc_region_proto_error(q->region, what);
}

static void stall(struct hvc_fring *q)
{
    uint32_t *counter;

    if (q->stalled)
        return;
    counter = q->role == HVC_FRING_PRODUCER ? &q->w->full_stalls : &q->w->empty_stalls;
    q->stalled = 1;
    q->stalls++;
    hvc_store_relaxed(counter, q->stalls);
}

/* ---- cache maintenance (non-coherent regions, internal.h) ---- */

/* Apply op to the slots of elements [a, a + n) (n <= capacity): at most two
 * pieces, the data area wraps. */
static void data_range(struct hvc_fring *q, uint32_t a, uint32_t n,
                       void (*op)(struct hvc_region *, const void *, uint64_t))
{
    uint32_t off = a & q->mask, first = n < q->capacity - off ? n : q->capacity - off;

    if (!(q->flags & HVC__FRING_F_CACHE) || n == 0)
        return;
    op(q->region, q->data + (size_t)off * q->elem_size, (uint64_t)first * q->elem_size);
    if (n > first)
        op(q->region, q->data, (uint64_t)(n - first) * q->elem_size);
}

/* ---- the other side's index ---- */

/* Producer: free slots after head, reading cons once when the cache shows
 * fewer than `want`. >= 0 free slots, or -HVC_EPROTO. */
static int64_t prod_room(struct hvc_fring *q, uint32_t want)
{
    uint32_t c;

    if (q->capacity - (q->head - q->peer) >= want)
        return (int64_t)(q->capacity - (q->head - q->peer));
    hvc__invalidate(q->region, &q->w->cons, sizeof(q->w->cons));
    /* Pairs with the release store of cons in cons_publish(): the
     * consumer's reads of the slots before c are done before we reuse
     * them. Read once; the checks and the cache use only this copy. */
    c = hvc_load_acquire(&q->w->cons);
    if (c - q->peer > q->head - q->peer || q->head - c > q->capacity) {
        proto_error(q, "fring: consumer index out of bounds");
        return -HVC_EPROTO;
    }
    q->peer = c;
    return (int64_t)(q->capacity - (q->head - c));
}

/* Consumer: elements published after head, reading prod once when the
 * cache shows fewer than `want`. >= 0, or -HVC_EPROTO. */
static int64_t cons_avail(struct hvc_fring *q, uint32_t want)
{
    uint32_t p, n;

    if (q->peer - q->head >= want)
        return (int64_t)(q->peer - q->head);
    hvc__invalidate(q->region, &q->w->prod, sizeof(q->w->prod));
    /* Pairs with the release store of prod in prod_publish(): the
     * elements before p are written. */
    p = hvc_load_acquire(&q->w->prod);
    n = p - q->head;
    /* Within a capacity of head, and not behind what it published before
     * (the elements we were told of stay told). */
    if (n > q->capacity || p - q->peer > n) {
        proto_error(q, "fring: producer index out of bounds");
        return -HVC_EPROTO;
    }
    /* The slots the new index covers, fresh from memory. */
    data_range(q, q->peer, p - q->peer, hvc__invalidate);
    q->peer = p;
    return (int64_t)n;
}

static void prod_publish(struct hvc_fring *q, uint32_t n)
{
    /* The slots written reach memory before the index that covers them. */
    data_range(q, q->head, n, hvc__clean);
    q->head += n;
    q->stalled = 0;
    if (q->head < n) { /* wrapped past 2^32 */
        hvc_store_relaxed(&q->w->prod_laps, ++q->laps);
    }
    /* Pairs with the acquire load of prod in cons_avail() and the inline
     * hvc__fring_prod_refresh(). */
    hvc_store_release(&q->w->prod, q->head);
    hvc__clean(q->region, &q->w->prod, HVC_CACHELINE); /* with the counters */
}

static void cons_publish(struct hvc_fring *q)
{
    if (q->head == q->published)
        return;
    /* Pairs with the acquire load of cons in prod_room() and the inline
     * hvc__fring_cons_refresh(): our reads of the slots are done. */
    hvc_store_release(&q->w->cons, q->head);
    hvc__clean(q->region, &q->w->cons, HVC_CACHELINE);
    q->published = q->head;
}

static void cons_advance(struct hvc_fring *q, uint32_t n)
{
    q->head += n;
    q->stalled = 0;
    if (q->head < n)
        hvc_store_relaxed(&q->w->cons_laps, ++q->laps);
}

static inline bool is_role(const struct hvc_fring *q, uint32_t role)
{
    return q != NULL && q->w != NULL && q->role == role;
}

/* Copy k elements between the data area at free-running index `at` and
 * `buf`: one piece, or two when the area wraps. */
static void copy_in(struct hvc_fring *q, uint32_t at, const uint8_t *buf, uint32_t k)
{
    uint32_t off = at & q->mask, first = k < q->capacity - off ? k : q->capacity - off;
    size_t es = q->elem_size;

    __builtin_memcpy(q->data + off * es, buf, first * es);
    if (k > first)
        __builtin_memcpy(q->data, buf + first * es, (k - first) * es);
}

static void copy_out(const struct hvc_fring *q, uint32_t at, uint8_t *buf, uint32_t k)
{
    uint32_t off = at & q->mask, first = k < q->capacity - off ? k : q->capacity - off;
    size_t es = q->elem_size;

    __builtin_memcpy(buf, q->data + off * es, first * es);
    if (k > first)
        __builtin_memcpy(buf + first * es, q->data, (k - first) * es);
}

/* ---- send and receive ---- */

int hvc_fring_send_batch(struct hvc_fring *q, const void *elems, unsigned n)
{
    int64_t room;
    uint32_t k;

    if (!is_role(q, HVC_FRING_PRODUCER) || (elems == NULL && n != 0))
        return -HVC_EINVAL;
    if (n == 0)
        return 0;
    room = prod_room(q, n < q->capacity ? (uint32_t)n : q->capacity);
    if (room < 0)
        return (int)room;
    if (room == 0) {
        stall(q);
        return -HVC_EAGAIN;
    }
    k = (uint64_t)n < (uint64_t)room ? (uint32_t)n : (uint32_t)room;
    copy_in(q, q->head, elems, k);
    prod_publish(q, k);
    return (int)k;
}

int hvc_fring_recv_batch(struct hvc_fring *q, void *out, unsigned max)
{
    int64_t avail;
    uint32_t k;

    if (!is_role(q, HVC_FRING_CONSUMER) || (out == NULL && max != 0))
        return -HVC_EINVAL;
    if (max == 0)
        return 0;
    avail = cons_avail(q, max < q->capacity ? (uint32_t)max : q->capacity);
    if (avail < 0)
        return (int)avail;
    if (avail == 0) {
        stall(q);
        cons_publish(q); /* what single receives left unpublished */
        return -HVC_EAGAIN;
    }
    k = (uint64_t)max < (uint64_t)avail ? (uint32_t)max : (uint32_t)avail;
    copy_out(q, q->head, out, k);
    cons_advance(q, k);
    cons_publish(q);
    return (int)k;
}

int hvc__fring_send_slow(struct hvc_fring *q, const void *elem)
{
    int rc;

    if (elem == NULL)
        return -HVC_EINVAL;
    rc = hvc_fring_send_batch(q, elem, 1);
    return rc == 1 ? 0 : rc;
}

int hvc__fring_recv_slow(struct hvc_fring *q, void *elem)
{
    int64_t avail;

    if (!is_role(q, HVC_FRING_CONSUMER) || elem == NULL)
        return -HVC_EINVAL;
    avail = cons_avail(q, 1);
    if (avail < 0)
        return (int)avail;
    if (avail == 0) {
        stall(q);
        cons_publish(q);
        return -HVC_EAGAIN;
    }
    copy_out(q, q->head, elem, 1);
    cons_advance(q, 1);
    /* Lazily, as the inline path (fring.h). */
    if (q->head == q->peer || q->head - q->published >= q->quarter)
        cons_publish(q);
    return 0;
}

int hvc_fring_flush(struct hvc_fring *q)
{
    if (q == NULL || q->w == NULL ||
        (q->role != HVC_FRING_PRODUCER && q->role != HVC_FRING_CONSUMER))
        return -HVC_EINVAL;
    if (q->role == HVC_FRING_CONSUMER)
        cons_publish(q);
    return 0;
}

/* ---- creation and checks ---- */

/* The immutable line, read once into locals and checked against the object. */
struct fgeom {
    uint32_t elem_size, capacity, flags, writer;
};

static int check_header(struct hvc_region *r, const struct hvc_obj *obj, struct fgeom *g)
{
    struct hvc_wire_fring *w;
    uint32_t hdr;
    int rc;

    /* Header, feature flags and writer: the checks every type shares. The
     * magic's acquire pairs with its release store in hvc_fring_create(). */
    rc = r != NULL ? hvc_obj_validate(r, obj, &hvc__objdesc_fring, &g->flags) : -HVC_EINVAL;
    if (rc < 0)
        return rc;
    w = obj->ptr;
    hdr = hvc_load_relaxed(&w->hdr_size);
    g->elem_size = hvc_load_relaxed(&w->elem_size);
    g->capacity = hvc_load_relaxed(&w->capacity);
    g->writer = obj->writer; /* private; hvc_obj_validate() matched the header to it */
    if (hdr != sizeof(struct hvc_wire_fring) || g->elem_size == 0 ||
        g->elem_size > HVC_FRING_ELEM_MAX || g->capacity == 0 ||
        (g->capacity & (g->capacity - 1)) != 0 ||
        (uint64_t)g->capacity * g->elem_size > HVC_FRING_BYTES_MAX ||
        (uint64_t)g->capacity * g->elem_size > obj->size - sizeof(struct hvc_wire_fring)) {
        hvc_region_proto_error(r, "fring: inconsistent header");
        return -HVC_EPROTO;
    }
    return 0;
}

int hvc_fring_attach(struct hvc_fring *q, struct hvc_region *r, const struct hvc_obj *obj,
                     int role)
{
    struct fgeom g;
    struct hvc_wire_fring *w;
    uint32_t p, c;
    int rc;

    if (q == NULL || (role != HVC_FRING_PRODUCER && role != HVC_FRING_CONSUMER))
        return -HVC_EINVAL;
    rc = check_header(r, obj, &g);
    if (rc < 0)
        return rc;
    if (role == HVC_FRING_PRODUCER && !hvc__may_write(r, obj))
        return -HVC_EPERM;
    w = obj->ptr;
    /* Both indices once, checked together: the producer resumes at prod,
     * the consumer at cons. */
    hvc__load_indices(r, &w->prod, &w->cons, &p, &c);
    if (p - c > g.capacity) {
        hvc_region_proto_error(r, "fring: indices out of bounds");
        return -HVC_EPROTO;
    }
    __builtin_memset(q, 0, sizeof(*q));
    q->region = r;
    q->w = w;
    q->data = (uint8_t *)obj->ptr + sizeof(struct hvc_wire_fring);
    q->elem_size = g.elem_size;
    q->capacity = g.capacity;
    q->mask = g.capacity - 1u;
    q->flags = g.flags;
    if (hvc_platform_caps(hvc_region_platform(r)) & HVC_CAP_CACHE)
        q->flags |= HVC__FRING_F_CACHE;
    q->role = (uint32_t)role;
    q->fast = (q->flags & HVC__FRING_F_CACHE) ? 0 : (uint32_t)role;
    q->quarter = g.capacity / 4u;
    q->head = q->published = role == HVC_FRING_PRODUCER ? p : c;
    q->peer = role == HVC_FRING_PRODUCER ? c : p;
    /* The counters go on from where a former handle of this side left
     * them (statistics only: never trusted). */
    if (role == HVC_FRING_PRODUCER) {
        q->laps = hvc_load_relaxed(&w->prod_laps);
        q->stalls = hvc_load_relaxed(&w->full_stalls);
        q->errors = hvc_load_relaxed(&w->prod_errors);
    } else {
        q->laps = hvc_load_relaxed(&w->cons_laps);
        q->stalls = hvc_load_relaxed(&w->empty_stalls);
        q->errors = hvc_load_relaxed(&w->cons_errors);
        /* The slots already published, fresh from memory. */
        data_range(q, c, p - c, hvc__invalidate);
    }
    return 0;
}

#ifdef HVC_CONFIG_ATTACH_ONLY
int hvc_fring_create(struct hvc_fring *q, struct hvc_region *r, const char *name,
                     const struct hvc_fring_attr *attr)
{
    (void)q, (void)r, (void)name, (void)attr;
    return -HVC_ENOTSUP; /* a peer built attach-only creates nothing */
}
#else
int hvc_fring_create(struct hvc_fring *q, struct hvc_region *r, const char *name,
                     const struct hvc_fring_attr *attr)
{
    struct hvc_obj_spec spec = {0};
    struct hvc_wire_fring *w;
    struct hvc_obj obj;
    uint32_t cap = 1;
    int self, writer, rc;

    if (q == NULL || r == NULL || attr == NULL || attr->flags != 0 || attr->elem_size == 0 ||
        attr->elem_size > HVC_FRING_ELEM_MAX ||
        (uint64_t)attr->capacity * attr->elem_size > HVC_FRING_BYTES_MAX)
        return -HVC_EINVAL;
    while (cap < attr->capacity)
        cap <<= 1;
    if ((uint64_t)cap * attr->elem_size > HVC_FRING_BYTES_MAX)
        return -HVC_EINVAL;
    self = hvc_peer_self(r);
    if (self < 0)
        return -HVC_EINVAL;
    writer = attr->writer < 0 ? self : attr->writer;
    if (writer >= (int)r->max_peers)
        return -HVC_EINVAL;
    spec.name = name;
    spec.type = HVC_OBJ_FRING;
    spec.size = sizeof(struct hvc_wire_fring) + (uint64_t)cap * attr->elem_size;
    spec.writer = (uint16_t)writer;
    rc = hvc_obj_create(r, &spec, &obj);
    if (rc < 0)
        return rc;
    w = obj.ptr; /* zeroed by hvc_obj_create() */
    w->version = HVC_FRING_VERSION;
    w->hdr_size = sizeof(struct hvc_wire_fring);
    w->elem_size = attr->elem_size;
    w->capacity = cap;
    w->flags = 0;
    w->writer = (uint32_t)writer;
    hvc__clean(r, w, HVC_CACHELINE);
    /* Pairs with the acquire load of magic in check_header(). */
    hvc_store_release(&w->magic, HVC_FRING_MAGIC);
    hvc__clean(r, &w->magic, sizeof(w->magic));
    return hvc_fring_attach(q, r, &obj,
                            writer == self ? HVC_FRING_PRODUCER : HVC_FRING_CONSUMER);
}
#endif /* !HVC_CONFIG_ATTACH_ONLY */

int hvc_fring_open(struct hvc_fring *q, struct hvc_region *r, const char *name, int role)
{
    struct hvc_obj obj;
    int rc;

    if (q == NULL || r == NULL || name == NULL)
        return -HVC_EINVAL;
    rc = hvc_obj_open(r, name, HVC_OBJ_FRING, &obj);
    if (rc < 0)
        return rc;
    return hvc_fring_attach(q, r, &obj, role);
}

uint32_t hvc_fring_elem_size(const struct hvc_fring *q)
{
    return q != NULL && q->w != NULL ? q->elem_size : 0;
}

uint32_t hvc_fring_capacity(const struct hvc_fring *q)
{
    return q != NULL && q->w != NULL ? q->capacity : 0;
}

/* ---- counters ---- */

int hvc_fring_stats(struct hvc_region *r, const struct hvc_obj *obj,
                    struct hvc_fring_stats *out)
{
    struct fgeom g;
    struct hvc_wire_fring *w;
    int rc;

    if (out == NULL)
        return -HVC_EINVAL;
    rc = check_header(r, obj, &g);
    if (rc < 0)
        return rc;
    w = obj->ptr;
    __builtin_memset(out, 0, sizeof(*out));
    out->elem_size = g.elem_size;
    out->capacity = g.capacity;
    out->writer = g.writer;
    out->flags = g.flags;
    out->prod = hvc_load_acquire(&w->prod);
    out->cons = hvc_load_acquire(&w->cons);
    out->used = out->prod - out->cons <= g.capacity ? out->prod - out->cons : 0;
    out->full_stalls = hvc_load_relaxed(&w->full_stalls);
    out->empty_stalls = hvc_load_relaxed(&w->empty_stalls);
    out->proto_errors = hvc_load_relaxed(&w->prod_errors) + hvc_load_relaxed(&w->cons_errors);
    out->sent = ((uint64_t)hvc_load_relaxed(&w->prod_laps) << 32) | out->prod;
    out->received = ((uint64_t)hvc_load_relaxed(&w->cons_laps) << 32) | out->cons;
    return 0;
}
