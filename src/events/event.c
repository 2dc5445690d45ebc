/* Named events: create/open, signal, waits. Protocol: doc/events.md. */
#include <hvcomm/atomic.h>
#include <hvcomm/event.h>
#include <hvcomm/platform.h>
#include <hvcomm/region.h>


#define BELLS_NAME ".hvc.bells"
/* Words of one bell line: each peer's bell sits on its own cache line. */
#define BELL_STRIDE (HVC_CACHELINE / 4u)
/* How long open() waits for a creator that has not published its event. */
#define READY_WAIT_NS 200000000ull
#define WAKE_ALL 0x7fffffffu
/* Bit 31 of the state word: "a waiter may be registered to sleep". Set by
 * every waiter before it sleeps; a signal whose update finds it clear
 * takes the fast path (no fence, no look at the registrations). */
#define SLEEP_HINT 0x80000000u
#define STATE_VAL(v) ((v) & ~SLEEP_HINT)

static struct hvc_platform_handle *plat(const struct hvc_event *ev)
{
    return hvc_region_platform(ev->r);
}

static int ev_proto(struct hvc_event *ev, const char *what)
{
    hvc_region_proto_error(ev->r, what);
    return -HVC_EPROTO;
}

/* ---- creation and opening ---- */

/* Checks the immutable line of an event; fills the checked copies. */
static int check_fields(const struct hvc_region *r, const struct hvc_obj *o,
                        struct hvc_event *out)
{
    struct hvc_wire_event *w = o->ptr;
    uint32_t kind, max, lo, hi;
    uint64_t mask;

    kind = hvc_load_relaxed(&w->kind);
    max = hvc_load_relaxed(&w->max_count);
    lo = hvc_load_relaxed(&w->signalers_lo);
    hi = hvc_load_relaxed(&w->signalers_hi);
    mask = (uint64_t)hi << 32 | lo;
    if (kind == HVC_EVENT_AUTO && max != 1)
        return -HVC_EPROTO;
    if (kind == HVC_EVENT_COUNTING && (max == 0 || max > HVC_EVENT_COUNT_MAX))
        return -HVC_EPROTO;
    if (kind < HVC_EVENT_AUTO || kind > HVC_EVENT_BROADCAST)
        return -HVC_EPROTO;
    if (r->max_peers < 64 && (mask >> r->max_peers) != 0)
        return -HVC_EPROTO;
    if (out != NULL) {
        out->kind = kind;
        out->max_count = max;
        out->signalers = mask;
        out->vector = hvc_load_relaxed(&w->vector);
    }
    return 0;
}

/* Checks an event: the checks every type shares (header, feature flags;
 * counted there), then its own fields (counted here). */
static int check_event(struct hvc_region *r, const struct hvc_obj *o,
                       struct hvc_event *out)
{
    /* The magic's acquire pairs with its release store in
     * hvc_event_create(): the other fields of line 0 are visible after it. */
    int rc = hvc_obj_validate(r, o, &hvc__objdesc_event, NULL); /* callers checked r */

    if (rc < 0)
        return rc;
    rc = check_fields(r, o, out);
    if (rc < 0)
        hvc_region_proto_error(r, "event: inconsistent header");
    return rc;
}

static int open_obj(struct hvc_region *r, const struct hvc_obj *o,
                    struct hvc_event *ev)
{
    struct hvc_event e;
    const struct hvc_platform_handle *h = hvc_region_platform(r);
    int rc;

    __builtin_memset(&e, 0, sizeof(e));
    rc = check_event(r, o, &e);
    if (rc < 0)
        return rc;
    e.r = r;
    e.obj = *o;
    e.w = o->ptr;
    e.self = (uint32_t)r->self;
    e.spin_ns = HVC_EVENT_SPIN_DEFAULT;
    e.spin_cur = HVC_EVENT_SPIN_DEFAULT;
    /* Sleep on doorbells only where this mapping can receive them. */
    e.doorbell = (hvc_platform_caps(h) & (HVC_CAP_NOTIFY | HVC_CAP_WAIT_NOTIFY)) ==
                 (HVC_CAP_NOTIFY | HVC_CAP_WAIT_NOTIFY);
    e.seen_gen = STATE_VAL(hvc_load_acquire(&e.w->state));
    *ev = e;
    return 0;
}

static int create_obj(struct hvc_region *r, const char *name,
                      const struct hvc_event_attr *attr, struct hvc_obj *o)
{
    struct hvc_event_attr a = {0};
    struct hvc_obj_spec spec = {.name = name, .type = HVC_OBJ_EVENT,
                                .size = sizeof(struct hvc_wire_event),
                                .writer = HVC_PEER_ANY};
    struct hvc_wire_event *w;
    int rc;

    if (attr != NULL)
        a = *attr;
    if (a.kind == 0)
        a.kind = HVC_EVENT_AUTO;
    if (a.kind > HVC_EVENT_BROADCAST || a.reserved != 0 ||
        a.max_count > HVC_EVENT_COUNT_MAX ||
        (r->max_peers < 64 && (a.signalers >> r->max_peers) != 0))
        return -HVC_EINVAL;
    if (a.kind == HVC_EVENT_AUTO)
        a.max_count = 1;
    else if (a.kind == HVC_EVENT_BROADCAST)
        a.max_count = 0;
    else if (a.max_count == 0)
        a.max_count = HVC_EVENT_COUNT_MAX;
    rc = hvc_obj_create(r, &spec, o);
    if (rc < 0)
        return rc;
    w = o->ptr;
    /* The object is zeroed by hvc_obj_create(); nobody uses it before
     * magic is published below. */
    hvc_store_relaxed(&w->version, HVC_WIRE_EVENT_VERSION);
    hvc_store_relaxed(&w->kind, a.kind);
    hvc_store_relaxed(&w->max_count, a.max_count);
    hvc_store_relaxed(&w->vector, a.vector);
    hvc_store_relaxed(&w->signalers_lo, (uint32_t)a.signalers);
    hvc_store_relaxed(&w->signalers_hi, (uint32_t)(a.signalers >> 32));
    /* Publish: pairs with the acquire load of magic in check_event(). */
    hvc_store_release(&w->magic, HVC_WIRE_EVENT_MAGIC);
    return 0;
}

int hvc_event_create(struct hvc_region *r, const char *name,
                     const struct hvc_event_attr *attr, struct hvc_event *ev)
{
    struct hvc_obj o;
    int rc;

    if (r == NULL || name == NULL || ev == NULL || hvc_region_platform(r) == NULL ||
        r->self < 0)
        return -HVC_EINVAL;
    rc = create_obj(r, name, attr, &o);
    if (rc < 0)
        return rc;
    return open_obj(r, &o, ev);
}

int hvc_event_open(struct hvc_region *r, const char *name, unsigned flags,
                   const struct hvc_event_attr *attr, struct hvc_event *ev)
{
    struct hvc_platform_handle *h;
    struct hvc_obj o;
    uint64_t start;
    int rc;

    if (r == NULL || name == NULL || ev == NULL || (flags & ~1u) != 0 ||
        (h = hvc_region_platform(r)) == NULL || r->self < 0)
        return -HVC_EINVAL;
    rc = hvc_obj_open(r, name, HVC_OBJ_EVENT, &o);
    if (rc == -HVC_ENOENT && (flags & HVC_EVENT_O_CREATE)) {
        rc = create_obj(r, name, attr, &o);
        if (rc == -HVC_EEXIST) /* lost a race with another creator */
            rc = hvc_obj_open(r, name, HVC_OBJ_EVENT, &o);
    }
    if (rc < 0)
        return rc;
    rc = open_obj(r, &o, ev);
    /* A creator publishes magic right after the directory entry; give it
     * a moment rather than fail an open/create race. */
    start = hvc_platform_now(h);
    while (rc == -HVC_ENOTREADY && (flags & HVC_EVENT_O_CREATE) &&
           hvc_platform_now(h) - start < READY_WAIT_NS) {
        hvc_cpu_relax();
        rc = open_obj(r, &o, ev);
    }
    return rc;
}

int hvc_event_close(struct hvc_event *ev)
{
    if (ev == NULL || ev->r == NULL)
        return -HVC_EINVAL;
    __builtin_memset(ev, 0, sizeof(*ev));
    return 0;
}

int hvc_event_set_spin(struct hvc_event *ev, uint64_t spin_ns)
{
    if (ev == NULL || ev->r == NULL)
        return -HVC_EINVAL;
    ev->spin_ns = spin_ns;
    ev->spin_cur = spin_ns;
    return 0;
}

uint32_t hvc_event_generation(const struct hvc_event *ev)
{
    return ev != NULL && ev->w != NULL ? STATE_VAL(hvc_load_acquire(&ev->w->state)) : 0;
}

const char *hvc_event_kind_name(uint32_t kind)
{
    switch (kind) {
    case HVC_EVENT_AUTO:
        return "auto";
    case HVC_EVENT_COUNTING:
        return "counting";
    case HVC_EVENT_BROADCAST:
        return "broadcast";
    default:
        return "?";
    }
}

/* ---- the bells: one futex word per peer, for mask sleepers on POSIX ---- */

static int ev_bells(struct hvc_event *ev, bool create, uint32_t **word,
                     uint32_t peer)
{
    struct hvc_wire_bells *b = __atomic_load_n(&ev->bells, __ATOMIC_ACQUIRE);
    struct hvc_obj o;
    uint32_t magic;
    int rc;

    if (b == NULL) {
        rc = hvc_obj_open(ev->r, BELLS_NAME, HVC_OBJ_RAW, &o);
        if (rc == -HVC_ENOENT && create) {
            struct hvc_obj_spec spec = {.name = BELLS_NAME, .type = HVC_OBJ_RAW,
                                        .size = sizeof(struct hvc_wire_bells),
                                        .writer = HVC_PEER_ANY};

            rc = hvc_obj_create(ev->r, &spec, &o);
            if (rc == 0) {
                b = o.ptr;
                hvc_store_relaxed(&b->version, HVC_WIRE_BELLS_VERSION);
                /* Identification only: the words start at 0 either way. */
                hvc_store_release(&b->magic, HVC_WIRE_BELLS_MAGIC);
            } else if (rc == -HVC_EEXIST) {
                rc = hvc_obj_open(ev->r, BELLS_NAME, HVC_OBJ_RAW, &o);
            }
        }
        if (rc < 0)
            return rc;
        if (o.size < sizeof(struct hvc_wire_bells) ||
            ((uintptr_t)o.ptr & (HVC_CACHELINE - 1)) != 0)
            return ev_proto(ev, "bells object size");
        b = o.ptr;
        magic = hvc_load_acquire(&b->magic);
        if (magic != 0 && magic != HVC_WIRE_BELLS_MAGIC)
            return ev_proto(ev, "bells object magic");
        /* Several threads may race here; they store the same pointer. */
        __atomic_store_n(&ev->bells, b, __ATOMIC_RELEASE);
    }
    *word = &b->word[peer * BELL_STRIDE];
    return 0;
}

/* ---- signal ---- */

/* Ring every peer of a sleeper mask taken from the event. */
static int ring(struct hvc_event *ev, uint32_t lo, uint32_t hi)
{
    struct hvc_wire_event *w = ev->w;
    uint64_t m = 0;
    int rc = 0;

    /* Taking the mask (exchange to 0) makes each registration one-shot:
     * a woken sleeper registers again before it sleeps again. */
    if (lo != 0)
        m |= hvc_exchange(&w->sleepers_lo, 0);
    if (hi != 0)
        m |= (uint64_t)hvc_exchange(&w->sleepers_hi, 0) << 32;
    for (uint32_t p = 0; m != 0; p++, m >>= 1) {
        uint32_t *bell;

        if (!(m & 1))
            continue;
        if (p >= ev->r->max_peers) {
            rc = ev_proto(ev, "event sleeper mask beyond max_peers");
            break;
        }
        hvc_fetch_add_relaxed(&w->wakes, 1);
        ev->wake_calls++;
        if (ev->doorbell) {
            hvc_platform_notify(plat(ev), p, ev->vector);
        } else if (ev_bells(ev, false, &bell, p) == 0) {
            /* Pairs with the acquire load of the bell before the sleeper
             * registered: its wait_word() sees the new value or is woken. */
            hvc_fetch_add(bell, 1);
            hvc_platform_wake_word(plat(ev), bell, WAKE_ALL);
        } else {
            rc = ev_proto(ev, "event sleeper without bells object");
        }
    }
    return rc;
}

/* The slow path of a signal: the hint was set, so look for sleepers. */
static int signal_slow(struct hvc_event *ev)
{
    struct hvc_wire_event *w = ev->w;
    uint32_t waiters, lo, hi, v;
    int rc = 0;

    /* Our update of state, this fence, then the loads of the
     * registrations; pairs with the fence a waiter issues after it set
     * the hint (wait_futex, ev_wait_mask). */
    hvc_fence();
    waiters = hvc_load_relaxed(&w->waiters);
    lo = hvc_load_relaxed(&w->sleepers_lo);
    hi = hvc_load_relaxed(&w->sleepers_hi);
    if (waiters != 0) {
        hvc_fetch_add_relaxed(&w->wakes, 1);
        ev->wake_calls++;
        hvc_platform_wake_word(plat(ev), &w->state,
                               ev->kind == HVC_EVENT_BROADCAST ? WAKE_ALL : 1);
    }
    if ((lo | hi) != 0)
        return ring(ev, lo, hi);
    if (waiters != 0)
        return 0;
    /* Nobody registered: clear the hint, so that later signals take the
     * fast path. A waiter may have registered since our loads and set the
     * hint before our clearing: look again after a fence (pairs with the
     * waiter's fence after setting the hint) and wake whoever is there,
     * so that it sets the hint again before sleeping. Without this look,
     * a sleeper could be left with the hint clear (model mutant
     * MUTANT_NO_RECHECK). */
    v = hvc_load_relaxed(&w->state);
    while ((v & SLEEP_HINT) != 0 && !hvc_cas(&w->state, &v, v & ~SLEEP_HINT))
        ;
    hvc_fence();
    waiters = hvc_load_relaxed(&w->waiters);
    lo = hvc_load_relaxed(&w->sleepers_lo);
    hi = hvc_load_relaxed(&w->sleepers_hi);
    if (waiters != 0) {
        hvc_fetch_add_relaxed(&w->wakes, 1);
        ev->wake_calls++;
        hvc_platform_wake_word(plat(ev), &w->state, WAKE_ALL);
    }
    if ((lo | hi) != 0)
        rc = ring(ev, lo, hi);
    return rc;
}

int hvc_event_signal(struct hvc_event *ev)
{
    struct hvc_wire_event *w;
    uint32_t v;

    if (ev == NULL || ev->w == NULL)
        return -HVC_EINVAL;
    w = ev->w;
    if (ev->signalers != 0 && !((ev->signalers >> ev->self) & 1))
        return -HVC_EPERM;
    if (ev->kind == HVC_EVENT_BROADCAST) {
        /* The generation wraps within bits 0..30; the hint is kept. */
        v = hvc_load_relaxed(&w->state);
        while (!hvc_cas(&w->state, &v, ((v + 1) & ~SLEEP_HINT) | (v & SLEEP_HINT)))
            ;
    } else {
        /* Guess "empty, no sleeper" rather than load first: the CAS then
         * fetches the line exclusive in one transaction, where a load would
         * fetch it shared and the CAS upgrade it (two trips). */
        v = 0;
        for (;;) {
            uint32_t c = STATE_VAL(v);

            if (c > ev->max_count)
                return ev_proto(ev, "event count out of range");
            if (c == ev->max_count) {
                if (ev->kind == HVC_EVENT_AUTO)
                    return 0; /* already set: signals coalesce */
                hvc_fetch_add_relaxed(&w->overflows, 1);
                return -HVC_EOVERFLOW;
            }
            /* Seq-cst RMW; on failure v receives the value found. The
             * count is below 2^31 - 1, so v + 1 keeps the hint bit. */
            if (hvc_cas(&w->state, &v, v + 1))
                break;
        }
    }
    hvc_fetch_add_relaxed(&w->signals, 1);
    /* v is the state our RMW replaced: same-word coherence orders it with
     * every waiter's setting of the hint, so a clear hint means no waiter
     * had set it yet, and that waiter will see our update when it looks. */
    if ((v & SLEEP_HINT) == 0)
        return 0;
    return signal_slow(ev);
}

/* ---- taking ---- */

static int ev_take(struct hvc_event *ev, uint32_t *gen)
{
    uint32_t *st = &ev->w->state;
    /* Pairs with the signaler's seq-cst RMW of state: what it wrote before
     * signalling is visible once we see the new state. */
    uint32_t v = hvc_load_acquire(st);

    if (ev->kind == HVC_EVENT_BROADCAST) {
        if (STATE_VAL(v) == *gen)
            return 0;
        *gen = STATE_VAL(v);
        return 1;
    }
    for (;;) {
        uint32_t c = STATE_VAL(v);

        if (c == 0)
            return 0;
        if (c > ev->max_count)
            return ev_proto(ev, "event count out of range");
        /* c > 0: v - 1 keeps the hint bit */
        if (hvc_cas(st, &v, v - 1))
            return 1;
    }
}

int hvc_event_trywait(struct hvc_event *ev)
{
    int rc;

    if (ev == NULL || ev->w == NULL)
        return -HVC_EINVAL;
    rc = ev_take(ev, &ev->seen_gen);
    return rc < 0 ? rc : rc == 1 ? 0 : -HVC_EAGAIN;
}

/* ---- waiting ---- */

/* True when no possible signaler of the event is a member any more. */
static bool ev_peers_gone(struct hvc_event *ev)
{
    struct hvc_peer_info pi;

    hvc_peer_scan(ev->r, 0); /* declare dead processes gone first */
    for (uint32_t p = 0; p < ev->r->max_peers; p++) {
        bool possible = ev->signalers != 0 ? ((ev->signalers >> p) & 1) != 0
                                           : p != ev->self;

        if (possible && hvc_peer_info(ev->r, p, &pi) == 0 &&
            (pi.state == HVC_PEER_READY || pi.state == HVC_PEER_JOINING))
            return false;
    }
    return true;
}

/* Spin on take() until it succeeds or spin_end (or the deadline) passes. */
static int ev_spin(struct hvc_event *const evs[], unsigned n, uint32_t *gens,
                    uint64_t spin_ns, uint64_t deadline)
{
    struct hvc_platform_handle *h = plat(evs[0]);
    uint64_t end = hvc_platform_now(h) + spin_ns;

    if (end > deadline)
        end = deadline;
    for (;;) {
        for (unsigned k = 0; k < 16; k++) {
            for (unsigned i = 0; i < n; i++) {
                int rc = ev_take(evs[i], &gens[i]);

                if (rc != 0)
                    return rc < 0 ? rc : (int)i;
            }
            hvc_cpu_relax();
        }
        if (hvc_platform_now(h) >= end)
            return -HVC_EAGAIN;
    }
}

/* Adapt the spin of a handle to how the last spin ended. */
static void spin_adapt(struct hvc_event *ev, bool hit)
{
    uint64_t cur = ev->spin_cur, floor = ev->spin_ns / 64;

    if (hit)
        cur = cur * 2 > ev->spin_ns ? ev->spin_ns : cur * 2;
    else
        cur = cur / 2 < floor ? floor : cur / 2;
    ev->spin_cur = cur != 0 ? cur : ev->spin_ns != 0;
}

/* The futex path of a single wait: register in `waiters`, sleep on state. */
static int wait_futex(struct hvc_event *ev, uint32_t *gen, uint64_t deadline)
{
    struct hvc_platform_handle *h = plat(ev);
    struct hvc_wire_event *w = ev->w;
    int rc, src;

    hvc_fetch_add(&w->waiters, 1);
    hvc_fetch_add_relaxed(&w->sleeps, 1);
    for (;;) {
        uint64_t now, slice;

        /* Set the hint after registering, each time round (a signaler may
         * have cleared it); then the fence pairs with the one in
         * signal_slow(): it sees our registration, or we see its update. */
        hvc_fetch_or(&w->state, SLEEP_HINT);
        hvc_fence();
        rc = ev_take(ev, gen);
        if (rc != 0)
            break;
        now = hvc_platform_now(h);
        if (now >= deadline) {
            rc = -HVC_ETIMEDOUT;
            break;
        }
        slice = deadline - now;
        if (slice > HVC_EVENT_SLICE_NS)
            slice = HVC_EVENT_SLICE_NS;
        ev->sleep_calls++;
        /* Sleeps only while state is still "empty, hint set": a signal
         * after our registration either changed it already, or finds the
         * hint and wakes us; a cleared hint makes us go round again. */
        src = hvc_platform_wait_word(h, &w->state,
                                     SLEEP_HINT | (ev->kind == HVC_EVENT_BROADCAST ? *gen : 0),
                                     (int64_t)slice);
        /* Always try to take before honouring a timeout: a wake-up that
         * raced with the timeout must not be lost. */
        rc = ev_take(ev, gen);
        if (rc != 0)
            break;
        if (src == -HVC_ETIMEDOUT && hvc_platform_now(h) < deadline &&
            ev_peers_gone(ev)) {
            rc = -HVC_EPEERGONE;
            break;
        }
    }
    hvc_fetch_add(&w->waiters, (uint32_t)-1);
    return rc < 0 ? rc : 0;
}

/* The mask path: register this peer in every event's sleeper mask, sleep
 * on a doorbell (or this peer's bell word). Used by wait_any, and by every
 * wait on a backend with doorbells. Returns the index taken. */
static int ev_wait_mask(struct hvc_event *const evs[], unsigned n,
                         uint32_t *gens, uint64_t deadline)
{
    struct hvc_event *ev0 = evs[0];
    struct hvc_platform_handle *h = plat(ev0);
    uint32_t self = ev0->self, bit = 1u << (self & 31), *bell = NULL;
    int rc, src;

    if (!ev0->doorbell) {
        rc = ev_bells(ev0, true, &bell, self);
        if (rc < 0)
            return rc;
    }
    for (;;) {
        uint32_t b = 0, vec;
        uint64_t now, slice;

        /* Read the bell before registering: pairs with the signaler's
         * fetch_add on it after it took our bit (ring()). */
        if (bell != NULL)
            b = hvc_load_acquire(bell);
        for (unsigned i = 0; i < n; i++) {
            hvc_fetch_or(self < 32 ? &evs[i]->w->sleepers_lo : &evs[i]->w->sleepers_hi,
                         bit);
            /* the hint after the registration (model: MUTANT_NO_HINT) */
            hvc_fetch_or(&evs[i]->w->state, SLEEP_HINT);
            hvc_fetch_add_relaxed(&evs[i]->w->sleeps, 1);
        }
        /* Pairs with the fence in signal_slow(). */
        hvc_fence();
        for (unsigned i = 0; i < n; i++) {
            rc = ev_take(evs[i], &gens[i]);
            if (rc != 0)
                return rc < 0 ? rc : (int)i;
        }
        now = hvc_platform_now(h);
        if (now >= deadline)
            return -HVC_ETIMEDOUT;
        slice = deadline - now;
        if (slice > HVC_EVENT_SLICE_NS)
            slice = HVC_EVENT_SLICE_NS;
        ev0->sleep_calls++;
        if (bell != NULL)
            src = hvc_platform_wait_word(h, bell, b, (int64_t)slice);
        else
            src = hvc_platform_wait_notify(h, (int64_t)slice, &vec);
        if (src < 0 && src != -HVC_ETIMEDOUT)
            return src;
        for (unsigned i = 0; i < n; i++) {
            rc = ev_take(evs[i], &gens[i]);
            if (rc != 0)
                return rc < 0 ? rc : (int)i;
        }
        if (src == -HVC_ETIMEDOUT && hvc_platform_now(h) < deadline) {
            bool gone = true;

            for (unsigned i = 0; i < n && gone; i++)
                gone = ev_peers_gone(evs[i]);
            if (gone)
                return -HVC_EPEERGONE;
        }
    }
}

/* Deadline from a relative timeout; false for a bad timeout. */
static bool deadline_of(struct hvc_event *ev, int64_t timeout_ns, uint64_t *d)
{
    uint64_t now;

    if (timeout_ns == HVC_FOREVER) {
        *d = UINT64_MAX;
        return true;
    }
    if (timeout_ns < 0)
        return false;
    now = hvc_platform_now(plat(ev));
    *d = (uint64_t)timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + (uint64_t)timeout_ns;
    return true;
}

static int wait_one(struct hvc_event *ev, uint32_t *gen, uint64_t deadline,
                    bool poll)
{
    struct hvc_event *evs[1] = {ev};
    int rc = ev_take(ev, gen);

    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (poll)
        return -HVC_ETIMEDOUT;
    if (ev->spin_ns != 0) {
        rc = ev_spin(evs, 1, gen, ev->spin_cur, deadline);
        spin_adapt(ev, rc != -HVC_EAGAIN);
        if (rc != -HVC_EAGAIN)
            return rc < 0 ? rc : 0;
    }
    if (ev->doorbell) {
        rc = ev_wait_mask(evs, 1, gen, deadline);
        return rc < 0 ? rc : 0;
    }
    return wait_futex(ev, gen, deadline);
}

static int wait_common(struct hvc_event *ev, uint64_t deadline, bool poll)
{
    uint32_t gen;
    int rc;

    if (ev->kind != HVC_EVENT_BROADCAST)
        return wait_one(ev, &gen, deadline, poll);
    /* A broadcast wait waits for a signal made after it started. */
    gen = STATE_VAL(hvc_load_acquire(&ev->w->state));
    rc = wait_one(ev, &gen, deadline, poll);
    if (rc == 0)
        ev->seen_gen = gen;
    return rc;
}

int hvc_event_wait(struct hvc_event *ev, int64_t timeout_ns)
{
    uint64_t deadline;

    if (ev == NULL || ev->w == NULL || !deadline_of(ev, timeout_ns, &deadline))
        return -HVC_EINVAL;
    return wait_common(ev, deadline, timeout_ns == 0);
}

int hvc_event_wait_until(struct hvc_event *ev, uint64_t deadline_ns)
{
    if (ev == NULL || ev->w == NULL)
        return -HVC_EINVAL;
    return wait_common(ev, deadline_ns, false);
}

int hvc_event_wait_gen(struct hvc_event *ev, uint32_t *gen, int64_t timeout_ns)
{
    uint64_t deadline;
    uint32_t g;
    int rc;

    if (ev == NULL || ev->w == NULL || gen == NULL ||
        !deadline_of(ev, timeout_ns, &deadline))
        return -HVC_EINVAL;
    if (ev->kind != HVC_EVENT_BROADCAST)
        return -HVC_ETYPE;
    g = *gen;
    rc = wait_one(ev, &g, deadline, timeout_ns == 0);
    if (rc == 0)
        *gen = ev->seen_gen = g;
    return rc;
}

int hvc_event_wait_any(struct hvc_event *const evs[], unsigned n,
                       int64_t timeout_ns)
{
    uint32_t gens[64];
    uint64_t deadline;
    int rc;

    if (evs == NULL || n == 0 || n > 64 || evs[0] == NULL || evs[0]->w == NULL ||
        !deadline_of(evs[0], timeout_ns, &deadline))
        return -HVC_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        if (evs[i] == NULL || evs[i]->w == NULL || evs[i]->r != evs[0]->r)
            return -HVC_EINVAL;
        gens[i] = evs[i]->kind == HVC_EVENT_BROADCAST
                      ? STATE_VAL(hvc_load_acquire(&evs[i]->w->state)) : 0;
    }
    for (unsigned i = 0; i < n; i++) {
        rc = ev_take(evs[i], &gens[i]);
        if (rc != 0) {
            rc = rc < 0 ? rc : (int)i;
            goto out;
        }
    }
    if (timeout_ns == 0)
        return -HVC_ETIMEDOUT;
    rc = -HVC_EAGAIN;
    if (evs[0]->spin_ns != 0) {
        rc = ev_spin(evs, n, gens, evs[0]->spin_cur, deadline);
        spin_adapt(evs[0], rc != -HVC_EAGAIN);
    }
    if (rc == -HVC_EAGAIN)
        rc = ev_wait_mask(evs, n, gens, deadline);
out:
    if (rc >= 0 && evs[rc]->kind == HVC_EVENT_BROADCAST)
        evs[rc]->seen_gen = gens[rc];
    return rc;
}

/* ---- statistics for tools ---- */

int hvc_event_stats(struct hvc_region *r, const struct hvc_obj *obj,
                    struct hvc_event_stats *out)
{
    struct hvc_wire_event *w;
    struct hvc_event e;

    if (r == NULL || obj == NULL || out == NULL || obj->type != HVC_OBJ_EVENT ||
        obj->ptr == NULL)
        return -HVC_EINVAL;
    __builtin_memset(out, 0, sizeof(*out));
    __builtin_memset(&e, 0, sizeof(e));
    if (obj->size < sizeof(*w))
        return 0;
    w = obj->ptr;
    out->valid = check_event(r, obj, &e) == 0;
    out->kind = hvc_load_relaxed(&w->kind);
    out->max_count = hvc_load_relaxed(&w->max_count);
    out->vector = hvc_load_relaxed(&w->vector);
    out->signalers = (uint64_t)hvc_load_relaxed(&w->signalers_hi) << 32 |
                     hvc_load_relaxed(&w->signalers_lo);
    out->state = STATE_VAL(hvc_load_relaxed(&w->state));
    out->waiters = hvc_load_relaxed(&w->waiters);
    out->sleepers = (uint64_t)hvc_load_relaxed(&w->sleepers_hi) << 32 |
                    hvc_load_relaxed(&w->sleepers_lo);
    out->signals = hvc_load_relaxed(&w->signals);
    out->wakes = hvc_load_relaxed(&w->wakes);
    out->sleeps = hvc_load_relaxed(&w->sleeps);
    out->overflows = hvc_load_relaxed(&w->overflows);
    if (out->valid && out->kind != HVC_EVENT_BROADCAST && out->state > out->max_count)
        out->valid = 0;
    if (out->valid && r->max_peers < 64 && (out->sleepers >> r->max_peers) != 0)
        out->valid = 0;
    return 0;
}
