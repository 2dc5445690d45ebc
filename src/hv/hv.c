/*
 * The hypervisor side of the x86 hypervisor ABI. Freestanding: it is linked
 * into a bare hypervisor (tests/x86hv/svm) as well as into a VMM over KVM.
 *
 * Everything in a request is guest-controlled: registers are read once into
 * locals, checked, and only then used. Every refusal is counted, and the
 * guest gets the code in RAX; nothing here can fault on guest input.
 */
#include <hvcomm/hv.h>

#include <stddef.h>

static uint64_t status(int rc)
{
    /* Sign-extended into the 64-bit RAX. */
    return (uint64_t)(int64_t)rc;
}

int hvc_hv_find(const struct hvc_hv *hv, uint32_t peer)
{
    if (hv == NULL)
        return -HVC_EINVAL;
    for (uint32_t i = 0; i < hv->count; i++)
        if (hv->guests[i].peer == peer)
            return (int)i;
    return -HVC_ENOENT;
}

static void new_incarnation(struct hvc_hv *hv, struct hvc_hv_guest *g)
{
    uint32_t gen = ++hv->generation;

    if (gen == 0)
        gen = ++hv->generation;
    /* Low bits zero: a POSIX peer scanning the table reads them as a pid. */
    g->token = (uint64_t)gen << HVC_HV_TOKEN_SHIFT;
    g->irq_base = 0;
    g->irq_count = 0;
    g->running = 1;
}

int hvc_hv_init(struct hvc_hv *hv, struct hvc_hv_guest *guests, uint32_t count,
                uint32_t max_peers, const struct hvc_hv_ops *ops, void *ctx)
{
    if (hv == NULL || guests == NULL || count == 0 || max_peers == 0 ||
        max_peers > 0xffffu || ops == NULL || ops->inject == NULL)
        return -HVC_EINVAL;
    for (uint32_t i = 0; i < count; i++) {
        const struct hvc_hv_guest *g = &guests[i];

        if (g->peer >= max_peers || g->region_gpa + g->region_size < g->region_gpa)
            return -HVC_EINVAL;
        for (uint32_t j = 0; j < i; j++)
            if (guests[j].peer == g->peer)
                return -HVC_EEXIST;
    }
    __builtin_memset(hv, 0, sizeof(*hv));
    hv->guests = guests;
    hv->count = count;
    hv->max_peers = max_peers;
    hv->ops = ops;
    hv->ctx = ctx;
    for (uint32_t i = 0; i < count; i++)
        new_incarnation(hv, &guests[i]);
    return 0;
}

static int is_running(struct hvc_hv *hv, const struct hvc_hv_guest *g)
{
    if (!g->running)
        return 0;
    if (hv->ops->alive != NULL && hv->ops->alive(hv->ctx, g->vm) == 0)
        return 0;
    return 1;
}

/* Ring (peer, vector): the checks shared by the hypercall and the register. */
static int ring(struct hvc_hv *hv, uint64_t peer, uint64_t vector)
{
    const struct hvc_hv_guest *t;
    uint32_t irq_base, irq_count;
    int idx, rc;

    if (peer >= hv->max_peers) {
        hv->stats.bad_peer++;
        return -HVC_ENOENT;
    }
    idx = hvc_hv_find(hv, (uint32_t)peer);
    if (idx < 0) {
        hv->stats.bad_peer++;
        return -HVC_ENOENT;
    }
    t = &hv->guests[idx];
    if (!is_running(hv, t)) {
        hv->stats.peer_gone++;
        return -HVC_EPEERGONE;
    }
    irq_base = t->irq_base;
    irq_count = t->irq_count;
    if (irq_count == 0) {
        hv->stats.bad_vector++;
        return -HVC_ENOTREADY;
    }
    if (vector >= irq_count) {
        hv->stats.bad_vector++;
        return -HVC_EINVAL;
    }
    rc = hv->ops->inject(hv->ctx, t->vm, t->vcpu, irq_base + (uint32_t)vector);
    if (rc < 0) {
        hv->stats.inject_failed++;
        return -HVC_EIO;
    }
    hv->stats.injected++;
    return 0;
}

static int serve(struct hvc_hv *hv, struct hvc_hv_guest *g, uint64_t func,
                 uint64_t a0, uint64_t a1, struct hvc_hv_regs *out)
{
    int idx;

    switch (func) {
    case HVC_HV_VERSION:
        out->rbx = HVC_HV_ABI_VERSION;
        out->rcx = HVC_HV_F_NOTIFY | HVC_HV_F_LIVENESS | HVC_HV_F_IOCALL |
                   (hv->tsc_khz != 0 ? HVC_HV_F_TSC : 0);
        out->rsi = hv->max_peers;
        return 0;
    case HVC_HV_SELF_ID:
        out->rbx = g->peer;
        return 0;
    case HVC_HV_REGION:
        if (a0 != 0) {
            hv->stats.bad_arg++;
            return -HVC_EINVAL;
        }
        out->rbx = g->region_gpa;
        out->rcx = g->region_size;
        out->rsi = (g->flags & HVC_HV_GUEST_RDONLY) ? HVC_HV_REGION_RDONLY : 0;
        return 0;
    case HVC_HV_NOTIFY:
        return ring(hv, a0, a1);
    case HVC_HV_PEER_ALIVE:
        if (a0 >= hv->max_peers || (idx = hvc_hv_find(hv, (uint32_t)a0)) < 0) {
            hv->stats.bad_peer++;
            return -HVC_ENOENT;
        }
        return is_running(hv, &hv->guests[idx]) && hv->guests[idx].token == a1;
    case HVC_HV_SELF_TOKEN:
        out->rbx = g->token;
        return 0;
    case HVC_HV_SET_IRQ:
        if (a0 < 32 || a0 > 255 || a1 == 0 || a1 > HVC_HV_MAX_VECTORS ||
            a0 + a1 > 256) {
            hv->stats.bad_arg++;
            return -HVC_EINVAL;
        }
        g->irq_base = (uint32_t)a0;
        g->irq_count = (uint32_t)a1;
        return 0;
    case HVC_HV_TSC_KHZ:
        out->rbx = hv->tsc_khz;
        return 0;
    default:
        hv->stats.bad_func++;
        return -HVC_ENOTSUP;
    }
}

int hvc_hv_call(struct hvc_hv *hv, uint32_t caller, struct hvc_hv_regs *regs)
{
    struct hvc_hv_regs r;
    int rc;

    if (hv == NULL || regs == NULL)
        return -HVC_EINVAL;
    hv->stats.calls++;
    if (caller >= hv->count) {
        hv->stats.bad_caller++;
        hv->stats.errors++;
        return -HVC_EINVAL;
    }
    /* One read of the guest's registers; results go to a private copy. */
    r = *regs;
    if (r.cpl != 0) {
        hv->stats.bad_cpl++;
        rc = -HVC_EPERM;
    } else {
        rc = serve(hv, &hv->guests[caller], r.rax, r.rbx, r.rcx, &r);
    }
    if (rc < 0)
        hv->stats.errors++;
    r.rax = status(rc);
    *regs = r;
    return rc;
}

int hvc_hv_doorbell(struct hvc_hv *hv, uint32_t caller, uint32_t value,
                    uint32_t cpl)
{
    int rc;

    if (hv == NULL)
        return -HVC_EINVAL;
    hv->stats.calls++;
    if (caller >= hv->count) {
        hv->stats.bad_caller++;
        rc = -HVC_EINVAL;
    } else if (cpl != 0) {
        hv->stats.bad_cpl++;
        rc = -HVC_EPERM;
    } else {
        rc = ring(hv, value >> 16, value & 0xffffu);
    }
    if (rc < 0)
        hv->stats.errors++;
    return rc;
}

int hvc_hv_guest_stop(struct hvc_hv *hv, uint32_t caller)
{
    if (hv == NULL || caller >= hv->count)
        return -HVC_EINVAL;
    hv->guests[caller].running = 0;
    return 0;
}

int hvc_hv_guest_start(struct hvc_hv *hv, uint32_t caller)
{
    if (hv == NULL || caller >= hv->count)
        return -HVC_EINVAL;
    new_incarnation(hv, &hv->guests[caller]);
    return 0;
}

const char *hvc_hv_func_name(uint64_t func)
{
    static const char *const names[] = {"version", "self_id", "region", "notify",
                                        "peer_alive", "self_token", "set_irq",
                                        "tsc_khz"};

    if (func < HVC_HV_BASE || func - HVC_HV_BASE >= sizeof(names) / sizeof(names[0]))
        return "?";
    return names[func - HVC_HV_BASE];
}
