/*
 * The dispatch layer: the only caller of a backend's methods. Arguments are
 * checked here once, and every optional method a backend leaves NULL gets
 * the fallback documented in platform.h.
 */
#include <hvcomm/atomic.h>
#include <hvcomm/platform.h>

#ifdef HVC_CONFIG_FAULT
/* Fault injection (platform.h): one armed setting, counted atomically. */
static struct {
    uint32_t armed, method, first, last, hits, calls;
    int rc;
} fault;

static bool inject(uint32_t method, int *rc)
{
    uint32_t n;

    if (hvc_load_acquire(&fault.armed) == 0 ||
        (fault.method != HVC_METHOD_ANY && fault.method != method))
        return false;
    n = hvc_fetch_add(&fault.calls, 1) + 1;
    if (n < fault.first || (fault.last != 0 && n > fault.last))
        return false;
    hvc_fetch_add(&fault.hits, 1);
    *rc = fault.rc;
    return true;
}

int hvc_platform_fault_set(int method, uint32_t nth, int rc, uint32_t count)
{
    if (method < 0 || method >= HVC_METHOD_COUNT || nth == 0 || rc >= 0)
        return -HVC_EINVAL;
    hvc_store_relaxed(&fault.armed, 0);
    fault.method = (uint32_t)method;
    fault.first = nth;
    fault.last = count == 0 ? 0 : nth + count - 1;
    fault.rc = rc;
    hvc_store_relaxed(&fault.calls, 0);
    hvc_store_relaxed(&fault.hits, 0);
    /* Publish the setting: pairs with the acquire load in inject(). */
    hvc_store_release(&fault.armed, 1);
    return 0;
}

uint32_t hvc_platform_fault_clear(void)
{
    hvc_store_relaxed(&fault.armed, 0);
    return hvc_load_relaxed(&fault.hits);
}

#define FAULT(method)                                                          \
    do {                                                                       \
        int fault_rc_;                                                         \
        if (inject(method, &fault_rc_))                                        \
            return fault_rc_;                                                  \
    } while (0)
#define FAULT_AFTER(method, rc) (inject(method, &(rc)), (rc))
#else
int hvc_platform_fault_set(int method, uint32_t nth, int rc, uint32_t count)
{
    (void)method;
    (void)nth;
    (void)rc;
    (void)count;
    return -HVC_ENOTSUP;
}

uint32_t hvc_platform_fault_clear(void)
{
    return 0;
}

#define FAULT(method) ((void)0)
#define FAULT_AFTER(method, rc) (rc)
#endif

/* A method is usable when the table is new enough to have it and sets it. */
#define HAS(ops, method, since) ((ops)->version >= (since) && (ops)->method != NULL)

static bool in_mapping(const struct hvc_platform_handle *h, const void *addr,
                       uint64_t len)
{
    uintptr_t a = (uintptr_t)addr, b = (uintptr_t)h->base;

    if (h->ops == NULL || addr == NULL || a < b)
        return false;
    return a - b <= h->size && len <= h->size - (a - b);
}

int hvc_platform_check(const struct hvc_platform *ops)
{
    if (ops == NULL)
        return -HVC_EINVAL;
    if (ops->version < 1)
        return -HVC_EVERSION;
    if (ops->map == NULL || ops->unmap == NULL || ops->now_ns == NULL)
        return -HVC_EINVAL;
    if (ops->state_size > HVC_PLATFORM_STATE_MAX)
        return -HVC_EINVAL;
#ifdef HVC_CONFIG_COHERENT
    /* Built for coherent memory only: a backend that needs cache
     * maintenance would be driven without it. */
    if (HAS(ops, cache_clean, 1) || HAS(ops, cache_invalidate, 1))
        return -HVC_ENOTSUP;
#endif
    return 0;
}

int hvc_platform_open(struct hvc_platform_handle *h,
                      const struct hvc_platform *ops, const char *name,
                      uint64_t size, unsigned flags)
{
    struct hvc_mapping m = {0};
    int rc;

    if (h == NULL || name == NULL)
        return -HVC_EINVAL;
    rc = hvc_platform_check(ops);
    if (rc < 0)
        return rc;
    __builtin_memset(h, 0, sizeof(*h));
    FAULT(HVC_METHOD_MAP);
    rc = ops->map(ops, h->state, name, size, flags, &m);
    if (rc < 0) {
        hvc_log(HVC_LOG_ERROR, "%s: cannot map '%s': %s", ops->name, name,
                hvc_strerror(rc));
        return rc;
    }
    if (m.base == NULL || m.size == 0) {
        /* A backend that says yes but maps nothing is a backend bug. */
        ops->unmap(ops, h->state);
        return -HVC_EIO;
    }
    h->ops = ops;
    h->base = m.base;
    h->size = m.size;
    h->page_size = m.page_size;
    h->flags = flags;
    return 0;
}

int hvc_platform_close(struct hvc_platform_handle *h)
{
    int rc;

    if (h == NULL || h->ops == NULL)
        return -HVC_EINVAL;
    rc = h->ops->unmap(h->ops, h->state);
    __builtin_memset(h, 0, sizeof(*h));
    return FAULT_AFTER(HVC_METHOD_UNMAP, rc);
}

int hvc_platform_unlink(const struct hvc_platform *ops, const char *name)
{
    int rc = hvc_platform_check(ops);

    if (rc < 0 || name == NULL)
        return rc < 0 ? rc : -HVC_EINVAL;
    if (!HAS(ops, unlink, 1))
        return -HVC_ENOTSUP;
    FAULT(HVC_METHOD_UNLINK);
    return ops->unlink(ops, name);
}

int hvc_platform_self_id(struct hvc_platform_handle *h)
{
    if (h == NULL || h->ops == NULL)
        return -HVC_EINVAL;
    if (!HAS(h->ops, self_id, 1))
        return -HVC_ENOTSUP;
    FAULT(HVC_METHOD_SELF_ID);
    return h->ops->self_id(h->ops, h->state);
}

int hvc_platform_self_token(struct hvc_platform_handle *h, uint64_t *token)
{
    if (h == NULL || h->ops == NULL || token == NULL)
        return -HVC_EINVAL;
    *token = 0;
#ifdef HVC_CONFIG_FAULT
    {
        int frc;

        if (inject(HVC_METHOD_SELF_TOKEN, &frc))
            return 0; /* a failing self_token yields token 0, as below */
    }
#endif
    if (HAS(h->ops, self_token, 1) && h->ops->self_token(h->ops, h->state, token) < 0)
        *token = 0;
    return 0;
}

int hvc_platform_peer_alive(struct hvc_platform_handle *h, uint32_t peer,
                            uint64_t token)
{
    if (h == NULL || h->ops == NULL)
        return -HVC_EINVAL;
    if (!HAS(h->ops, peer_alive, 1))
        return -HVC_ENOTSUP;
    FAULT(HVC_METHOD_PEER_ALIVE);
    return h->ops->peer_alive(h->ops, h->state, peer, token);
}

uint32_t hvc_platform_token_ns(const struct hvc_platform_handle *h)
{
    if (h == NULL || h->ops == NULL || h->ops->version < 2)
        return HVC_TOKEN_NS_NONE;
    return h->ops->token_ns;
}

int hvc_platform_token_alive(struct hvc_platform_handle *h, uint32_t peer,
                             uint32_t ns, uint64_t token)
{
    if (h == NULL || h->ops == NULL)
        return -HVC_EINVAL;
    if (token == 0 || ns == HVC_TOKEN_NS_NONE || ns != hvc_platform_token_ns(h))
        return -HVC_ENOTSUP;
    return hvc_platform_peer_alive(h, peer, token);
}

int hvc_platform_control(struct hvc_platform_handle *h, uint32_t op, void *arg)
{
    if (h == NULL || h->ops == NULL)
        return -HVC_EINVAL;
    if (!HAS(h->ops, control, 2))
        return -HVC_ENOTSUP;
    FAULT(HVC_METHOD_CONTROL);
    return h->ops->control(h->ops, h->state, op, arg);
}

int hvc_platform_notify(struct hvc_platform_handle *h, uint32_t peer,
                        uint32_t vector)
{
    if (h == NULL || h->ops == NULL)
        return -HVC_EINVAL;
    if (!HAS(h->ops, notify, 1))
        return -HVC_ENOTSUP;
    FAULT(HVC_METHOD_NOTIFY);
    return h->ops->notify(h->ops, h->state, peer, vector);
}

int hvc_platform_wait_notify(struct hvc_platform_handle *h, int64_t timeout_ns,
                             uint32_t *vector)
{
    if (h == NULL || h->ops == NULL || vector == NULL || timeout_ns < HVC_FOREVER)
        return -HVC_EINVAL;
    if (!HAS(h->ops, wait_notify, 1))
        return -HVC_ENOTSUP;
    FAULT(HVC_METHOD_WAIT_NOTIFY);
    return h->ops->wait_notify(h->ops, h->state, timeout_ns, vector);
}

int hvc_platform_wait_word(struct hvc_platform_handle *h, const uint32_t *addr,
                           uint32_t expected, int64_t timeout_ns)
{
    uint64_t start;

    if (h == NULL || !in_mapping(h, addr, sizeof(*addr)) || timeout_ns < HVC_FOREVER)
        return -HVC_EINVAL;
    FAULT(HVC_METHOD_WAIT_WORD);
    if (HAS(h->ops, wait_word, 1))
        return h->ops->wait_word(h->ops, h->state, addr, expected, timeout_ns);

    /* Fallback: poll until the word moves or time runs out. */
    start = h->ops->now_ns(h->ops);
    for (;;) {
        if (hvc_load_acquire(addr) != expected)
            return 0;
        if (timeout_ns != HVC_FOREVER &&
            h->ops->now_ns(h->ops) - start >= (uint64_t)timeout_ns)
            return -HVC_ETIMEDOUT;
        hvc_cpu_relax();
    }
}

int hvc_platform_wake_word(struct hvc_platform_handle *h, const uint32_t *addr,
                           uint32_t count)
{
    if (h == NULL || !in_mapping(h, addr, sizeof(*addr)))
        return -HVC_EINVAL;
    FAULT(HVC_METHOD_WAKE_WORD);
    if (!HAS(h->ops, wake_word, 1))
        return 0;
    return h->ops->wake_word(h->ops, h->state, addr, count);
}

uint32_t hvc_platform_caps(const struct hvc_platform_handle *h)
{
    const struct hvc_platform *ops;
    uint32_t caps = 0;

    if (h == NULL || h->ops == NULL)
        return 0;
    ops = h->ops;
    if (HAS(ops, notify, 1))
        caps |= HVC_CAP_NOTIFY;
    if (HAS(ops, wait_notify, 1))
        caps |= HVC_CAP_WAIT_NOTIFY;
    if (HAS(ops, wait_word, 1))
        caps |= HVC_CAP_WAIT_WORD;
    if (HAS(ops, peer_alive, 1))
        caps |= HVC_CAP_LIVENESS;
    if (HAS(ops, map_view, 1) && h->page_size != 0)
        caps |= HVC_CAP_VIEWS;
    if (HAS(ops, self_id, 1))
        caps |= HVC_CAP_SELF_ID;
    if (HAS(ops, cache_clean, 1) || HAS(ops, cache_invalidate, 1))
        caps |= HVC_CAP_CACHE;
    /* The backend may only narrow what its table promises. */
    if (HAS(ops, caps, 1))
        caps &= ops->caps(ops, (void *)(uintptr_t)h->state);
    return caps;
}

uint64_t hvc_platform_now(const struct hvc_platform_handle *h)
{
    if (h == NULL || h->ops == NULL)
        return 0;
    return h->ops->now_ns(h->ops);
}

int hvc_platform_map_view(struct hvc_platform_handle *h, uint64_t offset,
                          uint64_t len, unsigned flags, void **addr)
{
    int rc;

    if (h == NULL || h->ops == NULL || addr == NULL || len == 0 ||
        offset > h->size || len > h->size - offset)
        return -HVC_EINVAL;
    FAULT(HVC_METHOD_MAP_VIEW);
    if (!HAS(h->ops, map_view, 1) || h->page_size == 0) {
        *addr = (uint8_t *)h->base + offset;
        return 0;
    }
    if (offset % h->page_size != 0 || len % h->page_size != 0)
        return -HVC_EINVAL;
    rc = h->ops->map_view(h->ops, h->state, offset, len, flags, addr);
    return rc < 0 ? rc : 1;
}

int hvc_platform_unmap_view(struct hvc_platform_handle *h, void *addr,
                            uint64_t len)
{
    int rc;

    if (h == NULL || h->ops == NULL || addr == NULL)
        return -HVC_EINVAL;
    if (!HAS(h->ops, map_view, 1) || h->page_size == 0)
        return in_mapping(h, addr, len) ? 0 : -HVC_EINVAL;
    if (!HAS(h->ops, unmap_view, 1))
        return 0;
    rc = h->ops->unmap_view(h->ops, h->state, addr, len);
    return FAULT_AFTER(HVC_METHOD_UNMAP_VIEW, rc);
}

void hvc_platform_cache_clean(struct hvc_platform_handle *h, const void *addr,
                              uint64_t len)
{
#ifdef HVC_CONFIG_COHERENT
    (void)h, (void)addr, (void)len; /* no backend with cache maintenance opens */
#else
    if (h != NULL && h->ops != NULL && HAS(h->ops, cache_clean, 1))
        h->ops->cache_clean(h->ops, h->state, addr, len);
#endif
}

void hvc_platform_cache_invalidate(struct hvc_platform_handle *h,
                                   const void *addr, uint64_t len)
{
#ifdef HVC_CONFIG_COHERENT
    (void)h, (void)addr, (void)len; /* no backend with cache maintenance opens */
#else
    if (h != NULL && h->ops != NULL && HAS(h->ops, cache_invalidate, 1))
        h->ops->cache_invalidate(h->ops, h->state, addr, len);
#endif
}
