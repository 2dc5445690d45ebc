/*
 * The x86 hypervisor guest backend (x86-64 long mode, CPL 0, freestanding).
 *
 * Everything the hypervisor answers is checked before use: a region that
 * wraps the address space or is smaller than asked, a peer id outside 16
 * bits, a token with its low bits set, are refused. The doorbells that the
 * interrupt handler records live in one 32-bit mask (bit v: vector
 * irq_base + v rang), set with an atomic OR from the ISR and taken with an
 * atomic AND by wait_notify, with interrupts masked around the check so a
 * doorbell between the check and the `hlt` is never lost: `sti` takes
 * effect after the next instruction, so `sti; hlt` halts with the
 * interrupt already pending-able, and the interrupt ends the halt.
 */
#include <hvcomm/atomic.h>
#include <hvcomm/x86hv.h>

#include <stddef.h>

#define X86HV_MAGIC 0x58384856u /* "VH8X" */

struct x86hv_state {
    uint32_t magic;
    uint32_t rdonly;
    int32_t peer;
    uint32_t reserved;
    uint64_t token;
    struct hvc_x86hv_config cfg;
};

_Static_assert(sizeof(struct x86hv_state) <= HVC_PLATFORM_STATE_MAX, "state");

static struct hvc_x86hv_config g_cfg;
static uint32_t g_configured;
static uint32_t g_vendor_method; /* resolved AUTO, 0 before the first call */
static uint32_t g_pending;       /* written by the ISR */
static uint64_t g_tsc_khz;
static struct hvc_x86hv_stats g_stats;

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ __volatile__("cpuid"
                         : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(0));
}

/* "AuthenticAMD" / "HygonGenuine" -> VMMCALL, anything else -> VMCALL. */
static uint32_t vendor_method(void)
{
    uint32_t r[4];

    if (g_vendor_method != 0)
        return g_vendor_method;
    cpuid(0, r);
    if ((r[1] == 0x68747541u && r[3] == 0x69746e65u && r[2] == 0x444d4163u) ||
        (r[1] == 0x6f677948u && r[3] == 0x6e65476eu && r[2] == 0x656e6975u))
        g_vendor_method = HVC_X86HV_VMMCALL;
    else
        g_vendor_method = HVC_X86HV_VMCALL;
    return g_vendor_method;
}

static int64_t raw_call(const struct hvc_x86hv_config *c, uint64_t regs[4])
{
    uint64_t a = regs[0], b = regs[1], cx = regs[2], si = regs[3];
    uint32_t m = c->method == HVC_X86HV_AUTO ? vendor_method() : c->method;

    switch (m) {
    case HVC_X86HV_HOOK:
        return c->hook(c->hook_ctx, regs);
    case HVC_X86HV_VMCALL:
        __asm__ __volatile__("vmcall" : "+a"(a), "+b"(b), "+c"(cx), "+S"(si) : : "memory");
        break;
    case HVC_X86HV_VMMCALL:
        __asm__ __volatile__("vmmcall" : "+a"(a), "+b"(b), "+c"(cx), "+S"(si) : : "memory");
        break;
    default: /* HVC_X86HV_IO: the hypervisor reads and writes our registers */
        __asm__ __volatile__("outl %%eax, %%dx"
                             : "+a"(a), "+b"(b), "+c"(cx), "+S"(si)
                             : "d"(c->call_port)
                             : "memory");
        break;
    }
    regs[0] = a;
    regs[1] = b;
    regs[2] = cx;
    regs[3] = si;
    return (int64_t)a;
}

static int64_t call(const struct hvc_x86hv_config *c, uint64_t func, uint64_t a0,
                    uint64_t a1, uint64_t out[3])
{
    uint64_t regs[4] = {func, a0, a1, 0};
    int64_t rc;

    g_stats.calls++;
    rc = raw_call(c, regs);
    /* Statuses are 0, 1 (PEER_ALIVE) or a code: anything else (a RAX the
     * hypervisor left alone, a code we do not know) is an unserved call. */
    if (rc > 1 || rc <= -(int64_t)HVC_ERRNO_MAX)
        rc = -HVC_EIO;
    if (rc < 0)
        g_stats.call_errors++;
    if (out != NULL) {
        out[0] = regs[1];
        out[1] = regs[2];
        out[2] = regs[3];
    }
    return rc;
}

int64_t hvc_x86hv_call(uint64_t func, uint64_t a0, uint64_t a1, uint64_t out[3])
{
    if (!g_configured)
        return -HVC_EINVAL;
    return call(&g_cfg, func, a0, a1, out);
}

void hvc_x86hv_config_init(struct hvc_x86hv_config *cfg)
{
    if (cfg == NULL)
        return;
    __builtin_memset(cfg, 0, sizeof(*cfg));
    cfg->method = HVC_X86HV_AUTO;
    cfg->irq_base = 0x40;
    cfg->irq_count = 4;
    cfg->set_irq = 1;
    cfg->peer_id = -1;
}

int hvc_x86hv_configure(const struct hvc_x86hv_config *cfg)
{
    if (cfg == NULL || cfg->method > HVC_X86HV_HOOK ||
        (cfg->method == HVC_X86HV_HOOK && cfg->hook == NULL) ||
        (cfg->method == HVC_X86HV_IO && (cfg->call_port == 0 || cfg->bell_port == 0)) ||
        cfg->irq_base < 32 || cfg->irq_base > 255 || cfg->irq_count == 0 ||
        cfg->irq_count > HVC_HV_MAX_VECTORS || cfg->irq_base + cfg->irq_count > 256 ||
        cfg->peer_id > 0xffff || cfg->reserved != 0)
        return -HVC_EINVAL;
    g_cfg = *cfg;
    g_configured = 1;
    hvc_store_release(&g_pending, 0);
    return 0;
}

const struct hvc_x86hv_stats *hvc_x86hv_stats(void)
{
    return &g_stats;
}

int hvc_x86hv_irq(uint32_t vector)
{
    uint32_t base = g_cfg.irq_base;

    if (vector < base || vector - base >= g_cfg.irq_count) {
        g_stats.stray_irqs++;
        return 0;
    }
    /* Pairs with the fetch_and in take(). */
    hvc_fetch_or(&g_pending, 1u << (vector - base));
    g_stats.irqs++;
    return 1;
}

static int x86hv_map(const struct hvc_platform *p, void *state, const char *name,
                     uint64_t size, unsigned flags, struct hvc_mapping *out)
{
    struct x86hv_state *s = state;
    const struct hvc_x86hv_config *c = &g_cfg;
    uint64_t r[3], gpa, len;
    uint32_t rdonly;
    int64_t rc;

    (void)p;
    (void)name;
    if (!g_configured)
        return -HVC_EINVAL;
    s->cfg = *c;
    if (c->region_size != 0) {
        gpa = c->region_gpa;
        len = c->region_size;
        rdonly = c->region_rdonly != 0;
    } else {
        rc = call(c, HVC_HV_REGION, 0, 0, r);
        if (rc < 0)
            return -HVC_EIO;
        gpa = r[0];
        len = r[1];
        rdonly = (r[2] & HVC_HV_REGION_RDONLY) != 0;
    }
    if (len == 0 || gpa + len < gpa || gpa + c->virt_offset + len < gpa + c->virt_offset)
        return -HVC_EIO;
    if (size > len)
        return -HVC_ENOSPC;
    if (rdonly && !(flags & HVC_MAP_RDONLY))
        return -HVC_EACCES;
    if (c->peer_id >= 0) {
        s->peer = c->peer_id;
    } else {
        rc = call(c, HVC_HV_SELF_ID, 0, 0, r);
        if (rc < 0 || r[0] > 0xffff)
            return -HVC_EIO;
        s->peer = (int32_t)r[0];
    }
    /* A token the hypervisor could not give, or one with pid bits, is 0:
     * liveness then goes by heartbeat. */
    s->token = 0;
    if (call(c, HVC_HV_SELF_TOKEN, 0, 0, r) == 0 &&
        (r[0] & ((1u << HVC_HV_TOKEN_SHIFT) - 1)) == 0)
        s->token = r[0];
    if (c->set_irq && call(c, HVC_HV_SET_IRQ, c->irq_base, c->irq_count, NULL) < 0)
        return -HVC_EIO;
    if (g_tsc_khz == 0) {
        g_tsc_khz = c->tsc_khz;
        if (g_tsc_khz == 0 && call(c, HVC_HV_TSC_KHZ, 0, 0, r) == 0 && r[0] != 0 &&
            r[0] < (1ull << 32))
            g_tsc_khz = r[0];
        if (g_tsc_khz == 0)
            g_tsc_khz = 1000000; /* unknown: assume 1 GHz */
    }
    s->rdonly = rdonly;
    s->magic = X86HV_MAGIC;
    out->base = (void *)(uintptr_t)(gpa + c->virt_offset);
    out->size = len;
    out->page_size = 0;
    return 0;
}

static int x86hv_unmap(const struct hvc_platform *p, void *state)
{
    struct x86hv_state *s = state;

    (void)p;
    s->magic = 0;
    return 0;
}

static int x86hv_self_id(const struct hvc_platform *p, void *state)
{
    (void)p;
    return ((struct x86hv_state *)state)->peer;
}

static int x86hv_self_token(const struct hvc_platform *p, void *state,
                            uint64_t *token)
{
    (void)p;
    *token = ((struct x86hv_state *)state)->token;
    return 0;
}

static int x86hv_peer_alive(const struct hvc_platform *p, void *state,
                            uint32_t peer, uint64_t token)
{
    struct x86hv_state *s = state;
    int64_t rc;

    (void)p;
    if ((token & ((1u << HVC_HV_TOKEN_SHIFT) - 1)) != 0)
        return -HVC_ENOTSUP; /* not a token of this hypervisor */
    rc = call(&s->cfg, HVC_HV_PEER_ALIVE, peer, token, NULL);
    if (rc < 0)
        return rc == -HVC_ENOENT ? 0 : -HVC_ENOTSUP;
    return rc != 0;
}

static int x86hv_notify(const struct hvc_platform *p, void *state, uint32_t peer,
                        uint32_t vector)
{
    struct x86hv_state *s = state;
    const struct hvc_x86hv_config *c = &s->cfg;
    uint32_t bell;

    (void)p;
    if (peer > 0xffff || vector > 0xffff)
        return -HVC_EINVAL;
    if (c->bell_port != 0 && c->method != HVC_X86HV_HOOK) {
        /* The doorbell register: no result comes back from a store. */
        bell = HVC_HV_BELL(peer, vector);
        __asm__ __volatile__("outl %0, %1" : : "a"(bell), "d"(c->bell_port) : "memory");
        return 0;
    }
    return (int)call(c, HVC_HV_NOTIFY, peer, vector, NULL);
}

static uint64_t x86hv_now_ns(const struct hvc_platform *p)
{
    uint64_t t = rdtsc(), khz = g_tsc_khz != 0 ? g_tsc_khz : 1000000;

    (void)p;
    return t / khz * 1000000u + t % khz * 1000000u / khz;
}

/* Take the lowest pending doorbell; -1 when none. */
static int take(void)
{
    uint32_t m = hvc_load_acquire(&g_pending);

    while (m != 0) {
        uint32_t bit = m & (~m + 1);

        /* Pairs with the fetch_or in hvc_x86hv_irq(). */
        m = hvc_fetch_and(&g_pending, ~bit);
        if (m & bit)
            return __builtin_ctz(bit);
    }
    return -1;
}

static int x86hv_wait_notify(const struct hvc_platform *p, void *state,
                             int64_t timeout_ns, uint32_t *vector)
{
    struct x86hv_state *s = state;
    uint64_t start = x86hv_now_ns(p), flags;
    bool halt = s->cfg.method != HVC_X86HV_HOOK &&
                (timeout_ns == HVC_FOREVER || s->cfg.tick_ns != 0);
    int v;

    if (!halt) {
        for (;;) {
            v = take();
            if (v >= 0)
                break;
            if (timeout_ns != HVC_FOREVER &&
                x86hv_now_ns(p) - start >= (uint64_t)timeout_ns)
                return -HVC_ETIMEDOUT;
            hvc_cpu_relax();
        }
        *vector = (uint32_t)v;
        return 0;
    }
    __asm__ __volatile__("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    for (;;) {
        v = take();
        if (v >= 0)
            break;
        if (timeout_ns != HVC_FOREVER &&
            x86hv_now_ns(p) - start >= (uint64_t)timeout_ns)
            break;
        g_stats.halts++;
        /* The interrupt can only be taken after hlt has begun. */
        __asm__ __volatile__("sti; hlt; cli" : : : "memory");
    }
    if (flags & 0x200)
        __asm__ __volatile__("sti" : : : "memory");
    if (v < 0)
        return -HVC_ETIMEDOUT;
    *vector = (uint32_t)v;
    return 0;
}

static const struct hvc_platform x86hv_ops = {
    .version = HVC_PLATFORM_VERSION,
    .token_ns = HVC_TOKEN_NS_X86HV,
    .state_size = sizeof(struct x86hv_state),
    .name = "x86hv",
    .map = x86hv_map,
    .unmap = x86hv_unmap,
    .self_id = x86hv_self_id,
    .self_token = x86hv_self_token,
    .peer_alive = x86hv_peer_alive,
    .notify = x86hv_notify,
    .wait_notify = x86hv_wait_notify,
    .now_ns = x86hv_now_ns,
};

const struct hvc_platform *hvc_platform_x86hv(void)
{
    return &x86hv_ops;
}
