/*
 * Queuing ports: a FIFO of at most max_count whole messages in fixed-size
 * slots (a power of two of them, >= max_count).
 *
 * prod (writer) and cons (reader) are free-running message counts, each
 * written by one side. Every slot has a sequence word: the writer stores
 * the message number m while it fills the slot and m + 1 once the message
 * is complete (release). The reader takes message c only when the slot
 * holds c + 1 before and after its copy.
 *
 * REJECT: the writer refuses a message when prod - cons == max_count, as a
 * ring does. DROP_OLDEST: the writer never reads cons; it writes on, over
 * the oldest slots, and the reader, seeing prod - cons > max_count or a
 * slot that no longer holds its message, skips ahead and reports how many
 * it lost. One writer per index still holds: the writer never moves cons.
 */
#include <hvcomm/port.h>

#include "internal.h"

#define COUNT_MAX 65536u
#define READ_TRIES 16

struct qgeom {
    uint32_t max_msg, max_count, slots, slot_size, policy, writer;
};

static uint32_t slot_size_for(uint32_t max_msg)
{
    return (uint32_t)(sizeof(struct hvc_wire_queue_slot) + hvc__align_up(max_msg, 8));
}

static uint32_t slots_for(uint32_t count)
{
    uint32_t s = 1;

    while (s < count)
        s <<= 1;
    return s;
}

static int check_header(struct hvc_region *r, const struct hvc_obj *obj,
                        struct qgeom *g)
{
    struct hvc_wire_queue *w;
    /* Header, feature flags, writer. The magic's acquire pairs with its
     * release in hvc_queue_create(). */
    int rc = r != NULL ? hvc_obj_validate(r, obj, &hvc__objdesc_queue, NULL) : -HVC_EINVAL;

    if (rc < 0)
        return rc;
    w = obj->ptr;
    g->max_msg = hvc_load_relaxed(&w->max_msg);
    g->max_count = hvc_load_relaxed(&w->max_count);
    g->slots = hvc_load_relaxed(&w->slots);
    g->slot_size = hvc_load_relaxed(&w->slot_size);
    g->policy = hvc_load_relaxed(&w->policy);
    g->writer = obj->writer; /* private; hvc_obj_validate() matched the header to it */
    if (hvc_load_relaxed(&w->hdr_size) != sizeof(*w) || g->max_msg > HVC_PORT_MSG_MAX ||
        g->max_count == 0 || g->max_count > COUNT_MAX ||
        g->slots != slots_for(g->max_count) || g->slot_size != slot_size_for(g->max_msg) ||
        g->policy > HVC_QUEUE_DROP_OLDEST ||
        (uint64_t)g->slots * g->slot_size > obj->size - sizeof(*w)) {
        hvc_region_proto_error(r, "queue: inconsistent header");
        return -HVC_EPROTO;
    }
    return 0;
}

static int attach(struct hvc_queue *qp, struct hvc_region *r,
                  const struct hvc_obj *obj, int role)
{
    struct hvc_wire_queue *w;
    struct qgeom g;
    uint32_t p, c;
    int rc;

    if (qp == NULL || (role != HVC_PORT_WRITER && role != HVC_PORT_READER))
        return -HVC_EINVAL;
    rc = check_header(r, obj, &g);
    if (rc < 0)
        return rc;
    if (role == HVC_PORT_WRITER && !hvc__may_write(r, obj))
        return -HVC_EPERM;
    w = obj->ptr;
    p = hvc_load_acquire(&w->prod);
    c = hvc_load_acquire(&w->cons);
    if (g.policy == HVC_QUEUE_REJECT && p - c > g.max_count) {
        hvc_region_proto_error(r, "queue: indices out of bounds");
        return -HVC_EPROTO;
    }
    __builtin_memset(qp, 0, sizeof(*qp));
    qp->region = r;
    qp->w = w;
    qp->slots = (uint8_t *)obj->ptr + sizeof(*w);
    qp->max_msg = g.max_msg;
    qp->max_count = g.max_count;
    qp->mask = g.slots - 1u;
    qp->slot_size = g.slot_size;
    qp->policy = g.policy;
    qp->role = (uint32_t)role;
    qp->head = role == HVC_PORT_WRITER ? p : c;
    qp->peer = role == HVC_PORT_WRITER ? c : p;
    return 0;
}

int hvc_queue_create(struct hvc_queue *qp, struct hvc_region *r, const char *name,
                     const struct hvc_queue_attr *attr)
{
    struct hvc_obj_spec spec = {0};
    struct hvc_wire_queue *w;
    struct hvc_obj obj;
    int self, writer, rc;

    if (qp == NULL || r == NULL || attr == NULL || attr->max_msg > HVC_PORT_MSG_MAX ||
        attr->max_count == 0 || attr->max_count > COUNT_MAX ||
        attr->policy > HVC_QUEUE_DROP_OLDEST)
        return -HVC_EINVAL;
    self = hvc_peer_self(r);
    if (self < 0)
        return -HVC_EINVAL;
    writer = attr->writer < 0 ? self : attr->writer;
    if (writer >= (int)r->max_peers)
        return -HVC_EINVAL;
    spec.name = name;
    spec.type = HVC_OBJ_QUEUE;
    spec.size = sizeof(*w) + (uint64_t)slots_for(attr->max_count) * slot_size_for(attr->max_msg);
    spec.writer = (uint16_t)writer;
    rc = hvc_obj_create(r, &spec, &obj);
    if (rc < 0)
        return rc;
    w = obj.ptr; /* zeroed */
    w->version = HVC_QUEUE_VERSION;
    w->hdr_size = sizeof(*w);
    w->max_msg = attr->max_msg;
    w->max_count = attr->max_count;
    w->slots = slots_for(attr->max_count);
    w->slot_size = slot_size_for(attr->max_msg);
    w->policy = attr->policy;
    w->writer = (uint32_t)writer;
    /* Pairs with the acquire load of magic in check_header(). */
    hvc_store_release(&w->magic, HVC_QUEUE_MAGIC);
    return attach(qp, r, &obj, writer == self ? HVC_PORT_WRITER : HVC_PORT_READER);
}

int hvc_queue_open(struct hvc_queue *qp, struct hvc_region *r, const char *name,
                   int role)
{
    struct hvc_obj obj;
    int rc;

    if (qp == NULL || r == NULL || name == NULL)
        return -HVC_EINVAL;
    rc = hvc_obj_open(r, name, HVC_OBJ_QUEUE, &obj);
    if (rc < 0)
        return rc;
    return attach(qp, r, &obj, role);
}

static struct hvc_wire_queue_slot *slot_of(const struct hvc_queue *qp, uint32_t m)
{
    return (struct hvc_wire_queue_slot *)(void *)(qp->slots +
        (size_t)(m & qp->mask) * qp->slot_size);
}

static int proto(struct hvc_queue *qp, const char *what)
{
    qp->errors++;
    hvc_store_relaxed(qp->role == HVC_PORT_WRITER ? &qp->w->prod_errors
                                                  : &qp->w->cons_errors,
                      qp->errors);
    hvc_region_proto_error(qp->region, what);
    return -HVC_EPROTO;
}

/* Writer: the reader's index, read once and checked (REJECT policy). */
static int load_cons(struct hvc_queue *qp)
{
    /* Pairs with the release store of cons in hvc_queue_recv(): the reader
     * is done with the slots before c. */
    uint32_t c;

    hvc__invalidate(qp->region, &qp->w->cons, sizeof(qp->w->cons));
    c = hvc_load_acquire(&qp->w->cons);
    if (c - qp->peer > qp->head - qp->peer)
        return proto(qp, "queue: reader index out of bounds");
    qp->peer = c;
    return 0;
}

int hvc_queue_send(struct hvc_queue *qp, const void *buf, uint32_t len)
{
    struct hvc_wire_queue_slot *s;
    int rc;

    if (qp == NULL || qp->w == NULL || qp->role != HVC_PORT_WRITER ||
        (buf == NULL && len != 0))
        return -HVC_EINVAL;
    if (len > qp->max_msg)
        return -HVC_EMSGSIZE;
    if (qp->policy == HVC_QUEUE_REJECT && qp->head - qp->peer >= qp->max_count) {
        rc = load_cons(qp);
        if (rc < 0)
            return rc;
        if (qp->head - qp->peer >= qp->max_count) {
            qp->count++;
            hvc_store_relaxed(&qp->w->rejected, qp->count);
            return -HVC_EAGAIN;
        }
    }
    s = slot_of(qp, qp->head);
    hvc_store_relaxed(&s->seq, qp->head); /* "message head, incomplete" */
    hvc__clean(qp->region, &s->seq, sizeof(s->seq));
    /* Orders the mark above before the data stores; pairs with the acquire
     * fence before the reader's second seq load (DROP_OLDEST overwrites). */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (len != 0)
        __builtin_memcpy((uint8_t *)(s + 1), buf, len);
    hvc_store_relaxed(&s->len, len);
    hvc__clean(qp->region, s, sizeof(*s) + (uint64_t)len);
    /* Pairs with the reader's acquire load of seq. */
    hvc_store_release(&s->seq, qp->head + 1u);
    hvc__clean(qp->region, &s->seq, sizeof(s->seq));
    qp->head++;
    /* Pairs with the acquire load of prod in load_prod(). */
    hvc_store_release(&qp->w->prod, qp->head);
    hvc__clean(qp->region, &qp->w->prod, sizeof(qp->w->prod));
    return 0;
}

/* Reader: the writer's index, read once and checked. */
static int load_prod(struct hvc_queue *qp)
{
    uint32_t p;

    hvc__invalidate(qp->region, &qp->w->prod, sizeof(qp->w->prod));
    /* Pairs with the release store of prod in hvc_queue_send(). */
    p = hvc_load_acquire(&qp->w->prod);

    if (qp->policy == HVC_QUEUE_REJECT ? p - qp->head > qp->max_count
                                       : p - qp->head > 0x80000000u)
        return proto(qp, "queue: writer index out of bounds");
    qp->peer = p;
    return 0;
}

int hvc_queue_recv(struct hvc_queue *qp, void *buf, uint32_t cap,
                   struct hvc_queue_info *info)
{
    uint32_t dropped = 0;
    int rc;

    if (qp == NULL || qp->w == NULL || qp->role != HVC_PORT_READER ||
        (buf == NULL && cap != 0))
        return -HVC_EINVAL;
    for (int tries = 0; tries < READ_TRIES; tries++) {
        struct hvc_wire_queue_slot *s;
        uint32_t s1, s2, len;

        if (qp->peer == qp->head || tries > 0) {
            rc = load_prod(qp);
            if (rc < 0)
                return rc;
        }
        if (qp->peer - qp->head > qp->max_count) {
            /* DROP_OLDEST only (REJECT fails the check in load_prod). */
            dropped += qp->peer - qp->max_count - qp->head;
            qp->head = qp->peer - qp->max_count;
        }
        if (qp->peer == qp->head) {
            rc = -HVC_EAGAIN;
            goto out;
        }
        s = slot_of(qp, qp->head);
        hvc__invalidate(qp->region, s, qp->slot_size);
        /* Pairs with the release store of seq in hvc_queue_send(). */
        s1 = hvc_load_acquire(&s->seq);
        if (s1 != qp->head + 1u) {
            if (qp->policy == HVC_QUEUE_REJECT) {
                rc = proto(qp, "queue: slot does not hold its message");
                goto out;
            }
            continue; /* overwritten, or being overwritten: re-read prod */
        }
        len = hvc_load_relaxed(&s->len);
        if (len <= qp->max_msg && len <= cap && len != 0)
            __builtin_memcpy(buf, (const uint8_t *)(s + 1), len);
        /* Orders the copy before the second seq load; pairs with the
         * writer's release fence after its "incomplete" mark. */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        hvc__invalidate(qp->region, &s->seq, sizeof(s->seq));
        s2 = hvc_load_relaxed(&s->seq);
        if (s2 != s1) {
            if (qp->policy == HVC_QUEUE_REJECT) {
                rc = proto(qp, "queue: slot rewritten while queued");
                goto out;
            }
            continue;
        }
        if (len > qp->max_msg) {
            rc = proto(qp, "queue: bad length");
            goto out;
        }
        if (len > cap) {
            rc = -HVC_EMSGSIZE;
            goto out;
        }
        qp->head++;
        rc = (int)len;
        if (info != NULL)
            info->len = len;
        goto out;
    }
    rc = -HVC_EAGAIN;
out:
    if (dropped != 0) {
        qp->count += dropped;
        hvc_store_relaxed(&qp->w->dropped, qp->count);
    }
    if (info != NULL)
        info->dropped = dropped;
    /* Pairs with the acquire load of cons in load_cons(). */
    hvc_store_release(&qp->w->cons, qp->head);
    hvc__clean(qp->region, &qp->w->cons, sizeof(qp->w->cons));
    return rc;
}

int hvc_queue_status(struct hvc_queue *qp)
{
    uint32_t n;
    int rc;

    if (qp == NULL || qp->w == NULL)
        return -HVC_EINVAL;
    if (qp->role == HVC_PORT_READER) {
        rc = load_prod(qp);
        if (rc < 0)
            return rc;
        n = qp->peer - qp->head;
    } else if (qp->policy == HVC_QUEUE_REJECT) {
        rc = load_cons(qp);
        if (rc < 0)
            return rc;
        n = qp->head - qp->peer;
    } else {
        /* The reader may lag any distance behind; only the count matters. */
        uint32_t c = hvc_load_acquire(&qp->w->cons);

        n = qp->head - c <= 0x80000000u ? qp->head - c : 0;
    }
    return (int)(n < qp->max_count ? n : qp->max_count);
}

int hvc_queue_stats(struct hvc_region *r, const struct hvc_obj *obj,
                    struct hvc_queue_stats *out)
{
    struct hvc_wire_queue *w;
    struct qgeom g;
    uint32_t n;
    int rc;

    if (out == NULL)
        return -HVC_EINVAL;
    rc = check_header(r, obj, &g);
    if (rc < 0)
        return rc;
    w = obj->ptr;
    __builtin_memset(out, 0, sizeof(*out));
    out->max_msg = g.max_msg;
    out->max_count = g.max_count;
    out->policy = g.policy;
    out->writer = g.writer;
    out->sent = hvc_load_acquire(&w->prod);
    out->received = hvc_load_acquire(&w->cons);
    n = out->sent - out->received;
    out->waiting = n <= g.max_count ? n : (n <= 0x80000000u ? g.max_count : 0);
    out->rejected = hvc_load_relaxed(&w->rejected);
    out->dropped = hvc_load_relaxed(&w->dropped);
    out->proto_errors = hvc_load_relaxed(&w->prod_errors) + hvc_load_relaxed(&w->cons_errors);
    return 0;
}
