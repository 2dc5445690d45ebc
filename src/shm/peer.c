/*
 * The peer table. A slot's status word packs (epoch, state) so that every
 * transition is one compare-and-swap on the whole word: an observer that
 * declares incarnation N gone can never hit incarnation N + 1 by mistake.
 */
#include "internal.h"

#define EPOCH_MASK 0x3fffffffu

static void touch_peer_gen(struct hvc_region *r)
{
    hvc_fetch_add(&hvc__hdr(r)->peer_gen, 1);
}

/* Try to move slot id from a state in `from_mask` (bit per state) to JOINING. */
static int claim(struct hvc_region *r, uint32_t id, uint32_t from_mask,
                 uint32_t *epoch)
{
    uint32_t *status = &hvc__peer(r, id)->status;
    uint32_t s = hvc_load_acquire(status);

    for (;;) {
        uint32_t e = (HVC_PEER_STATUS_EPOCH(s) + 1) & EPOCH_MASK;

        if (!(from_mask & (1u << HVC_PEER_STATUS_STATE(s))))
            return -HVC_EBUSY;
        if (e == 0)
            e = 1;
        if (hvc_cas(status, &s, HVC_PEER_STATUS(e, HVC_PEER_JOINING))) {
            *epoch = e;
            return 0;
        }
    }
}

/* After a successful claim(): write our token and label, then announce
 * READY. The token words are atomic (relaxed): a scanner may read them
 * while we write, and ignores them until READY (hvc_peer_scan()). */
static int publish_join(struct hvc_region *r, uint32_t id, uint32_t epoch,
                        const char *label)
{
    struct hvc_wire_peer *p = hvc__peer(r, id);
    uint64_t token;

    /* The token goes with the namespace of the backend that issued it, so
     * that a peer of another kind of backend never judges it. */
    hvc_platform_self_token(&r->plat, &token);
    hvc_store_relaxed(&p->token_lo, (uint32_t)token);
    hvc_store_relaxed(&p->token_hi, (uint32_t)(token >> 32));
    hvc_store_relaxed(&p->token_ns,
                      token != 0 ? hvc_platform_token_ns(&r->plat) : (uint32_t)HVC_TOKEN_NS_NONE);
    hvc__strlcpy(p->label, label, HVC_LABEL_MAX);
    hvc_store_relaxed(&p->heartbeat, 0);
    hvc_store_relaxed(&p->flags, 0);
    /* Publish: pairs with the acquire load of status in hvc_peer_info(). */
    hvc_store_release(&p->status, HVC_PEER_STATUS(epoch, HVC_PEER_READY));
    hvc_platform_cache_clean(&r->plat, p, sizeof(*p));
    touch_peer_gen(r);
    r->self = (int32_t)id;
    r->self_epoch = epoch;
    hvc_log(HVC_LOG_INFO, "joined as peer %u (epoch %u)", (unsigned)id, (unsigned)epoch);
    return (int)id;
}

int hvc_peer_join(struct hvc_region *r, const char *label)
{
    const uint32_t absent = 1u << HVC_PEER_ABSENT, gone = 1u << HVC_PEER_GONE;
    uint32_t epoch = 0;
    int id, rc = -HVC_ENOSPC;

    if (r == NULL || !hvc__writable(r))
        return -HVC_EINVAL;
    if (r->self >= 0)
        return -HVC_EBUSY;
    id = hvc_platform_self_id(&r->plat);
    if (id >= 0) {
        /* The platform vouches for our identity: the slot is ours even if a
         * former incarnation died in it without leaving. */
        if ((uint32_t)id >= r->max_peers)
            return -HVC_EPROTO;
        rc = claim(r, (uint32_t)id, 0xfu, &epoch);
    } else {
        for (uint32_t pass = 0; pass < 2 && rc < 0; pass++)
            for (id = 0; (uint32_t)id < r->max_peers; id++) {
                rc = claim(r, (uint32_t)id, pass == 0 ? absent : gone, &epoch);
                if (rc == 0)
                    break;
            }
        if (rc < 0)
            return -HVC_ENOSPC;
    }
    if (rc < 0)
        return rc;
    return publish_join(r, (uint32_t)id, epoch, label);
}

int hvc_peer_join_id(struct hvc_region *r, uint32_t id, const char *label)
{
    const uint32_t free_states = 1u << HVC_PEER_ABSENT | 1u << HVC_PEER_GONE;
    int plat, rc;
    uint32_t epoch = 0;

    if (r == NULL || !hvc__writable(r) || id >= r->max_peers)
        return -HVC_EINVAL;
    if (r->self >= 0)
        return (uint32_t)r->self == id ? (int)id : -HVC_EBUSY;
    plat = hvc_platform_self_id(&r->plat);
    if (plat >= 0) {
        /* The platform assigns ids (ivshmem): it must agree. */
        if ((uint32_t)plat != id)
            return -HVC_EBUSY;
        return hvc_peer_join(r, label);
    }
    rc = claim(r, id, free_states, &epoch);
    if (rc == -HVC_EBUSY) {
        struct hvc_peer_info pi;

        /* Held: ours only if the platform says its holder is dead (a
         * restart of this peer); "cannot tell" leaves it to the heartbeat
         * scan, which makes it GONE first. */
        if (hvc_peer_info(r, id, &pi) < 0 || pi.token == 0 ||
            hvc_platform_token_alive(&r->plat, id, pi.token_ns, pi.token) != 0)
            return -HVC_EBUSY;
        rc = claim(r, id, 1u << pi.state, &epoch);
        if (rc < 0)
            return rc;
    }
    return publish_join(r, id, epoch, label);
}

int hvc_peer_leave(struct hvc_region *r)
{
    uint32_t s;
    int rc = 0;

    if (r == NULL || r->self < 0 || !hvc__writable(r))
        return -HVC_EINVAL;
    s = HVC_PEER_STATUS(r->self_epoch, HVC_PEER_READY);
    if (!hvc_cas(&hvc__peer(r, (uint32_t)r->self)->status, &s,
                 HVC_PEER_STATUS(r->self_epoch, HVC_PEER_ABSENT)))
        rc = -HVC_ESTALE;
    else
        touch_peer_gen(r);
    r->self = -1;
    r->self_epoch = 0;
    return rc;
}

int hvc_peer_heartbeat(struct hvc_region *r)
{
    struct hvc_wire_peer *p;

    if (r == NULL || r->self < 0 || !hvc__writable(r))
        return -HVC_EINVAL;
    p = hvc__peer(r, (uint32_t)r->self);
    hvc_fetch_add_relaxed(&p->heartbeat, 1);
    if (hvc_load_acquire(&p->status) !=
            HVC_PEER_STATUS(r->self_epoch, HVC_PEER_READY) ||
        hvc_load_acquire(&hvc__hdr(r)->magic) != HVC_WIRE_MAGIC ||
        hvc_load_wide64(&hvc__hdr(r)->session_id) != r->session_id)
        return -HVC_ESTALE;
    return 0;
}

int hvc_peer_self(const struct hvc_region *r)
{
    return r != NULL && r->self >= 0 ? r->self : -HVC_EINVAL;
}

uint32_t hvc_peer_owner(const struct hvc_region *r)
{
    return r != NULL && r->self >= 0 ? HVC_OWNER(r->self, r->self_epoch) : 0;
}

int hvc_peer_info(struct hvc_region *r, uint32_t id, struct hvc_peer_info *out)
{
    const struct hvc_wire_peer *p;
    uint32_t s;

    if (r == NULL || out == NULL || !(r->state & HVC__ATTACHED) ||
        id >= r->max_peers)
        return -HVC_EINVAL;
    p = hvc__peer(r, id);
    /* Pairs with the release store of status in hvc_peer_join(). */
    s = hvc_load_acquire(&p->status);
    out->id = id;
    out->state = HVC_PEER_STATUS_STATE(s);
    out->epoch = HVC_PEER_STATUS_EPOCH(s);
    out->heartbeat = hvc_load_relaxed(&p->heartbeat);
    out->flags = hvc_load_relaxed(&p->flags);
    out->token = (uint64_t)hvc_load_relaxed(&p->token_hi) << 32 |
                 hvc_load_relaxed(&p->token_lo);
    out->token_ns = hvc_load_relaxed(&p->token_ns);
    __builtin_memcpy(out->label, p->label, sizeof(out->label));
    out->label[HVC_LABEL_MAX] = '\0';
    return 0;
}

int hvc_peer_owner_live(struct hvc_region *r, uint32_t owner)
{
    uint32_t peer, s;

    if (r == NULL || owner == 0 || !(r->state & HVC__ATTACHED))
        return 0;
    peer = HVC_OWNER_PEER(owner);
    if (peer >= r->max_peers)
        return 0;
    s = hvc_load_acquire(&hvc__peer(r, peer)->status);
    return HVC_PEER_STATUS_STATE(s) == HVC_PEER_READY &&
           (HVC_PEER_STATUS_EPOCH(s) & 0xffffffu) == HVC_OWNER_EPOCH(owner);
}

/* CAS one incarnation to GONE; false if it changed meanwhile. */
static bool declare_gone(struct hvc_region *r, uint32_t id, uint32_t s,
                         const char *why)
{
    if (!hvc_cas(&hvc__peer(r, id)->status, &s,
                 HVC_PEER_STATUS(HVC_PEER_STATUS_EPOCH(s), HVC_PEER_GONE)))
        return false;
    touch_peer_gen(r);
    hvc_log(HVC_LOG_WARN, "peer %u (epoch %u) declared gone: %s", (unsigned)id,
            (unsigned)HVC_PEER_STATUS_EPOCH(s), why);
    return true;
}

int hvc_peer_scan(struct hvc_region *r, uint64_t stale_ns)
{
    uint64_t now;
    int n = 0;

    if (r == NULL || !hvc__writable(r))
        return -HVC_EINVAL;
    now = hvc_platform_now(&r->plat);
    for (uint32_t id = 0; id < r->max_peers; id++) {
        struct hvc_peer_watch *w = &r->watch[id];
        struct hvc_peer_info pi;
        uint32_t s;

        if ((int32_t)id == r->self)
            continue;
        hvc_peer_info(r, id, &pi);
        s = HVC_PEER_STATUS(pi.epoch, pi.state);
        if (pi.state != HVC_PEER_READY && pi.state != HVC_PEER_JOINING) {
            w->status = s;
            continue;
        }
        /* The token is the joiner's only once it is READY: while JOINING
         * the slot may still hold its previous (dead) owner's, so only the
         * heartbeat judges a joiner (one that dies joining goes stale). */
        if (pi.state == HVC_PEER_READY && pi.token != 0 &&
            hvc_platform_token_alive(&r->plat, id, pi.token_ns, pi.token) == 0) {
            n += declare_gone(r, id, s, "its process is dead");
            continue;
        }
        if (w->status != s || w->heartbeat != pi.heartbeat || w->since_ns == 0) {
            w->status = s;
            w->heartbeat = pi.heartbeat;
            w->since_ns = now;
        } else if (stale_ns != 0 && now - w->since_ns >= stale_ns) {
            n += declare_gone(r, id, s, "its heartbeat stopped");
        }
    }
    return n;
}

int hvc_peer_reclaim(struct hvc_region *r, uint32_t id)
{
    uint32_t s;

    if (r == NULL || !hvc__writable(r) || id >= r->max_peers)
        return -HVC_EINVAL;
    s = hvc_load_acquire(&hvc__peer(r, id)->status);
    if (HVC_PEER_STATUS_STATE(s) != HVC_PEER_GONE ||
        !hvc_cas(&hvc__peer(r, id)->status, &s,
                 HVC_PEER_STATUS(HVC_PEER_STATUS_EPOCH(s), HVC_PEER_ABSENT)))
        return -HVC_EBUSY;
    touch_peer_gen(r);
    return 0;
}

const char *hvc_peer_state_name(uint32_t state)
{
    static const char *const names[] = {"absent", "joining", "ready", "gone"};

    return state < 4 ? names[state] : "?";
}
