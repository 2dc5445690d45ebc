/*
 * The hypervisor-side library: every request, every refusal, the counters,
 * and the guest backend (hvc_platform_x86hv()) driven through it by a
 * hypercall hook, so both halves of the ABI meet on the host.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include <hvcomm/hv.h>
#include <hvcomm/hvcomm.h>
#include <hvcomm/x86hv.h>

#include "testutil.h"

struct injection {
    void *vm;
    uint32_t vcpu, vector;
};

struct fake {
    struct injection log[16];
    unsigned n;
    int fail;       /* inject returns this when not 0 */
    int dead_vm;    /* alive() says 0 for vm == &vms[dead_vm - 1] */
};

static int vms[3];
static struct fake fk;
static struct hvc_hv hv;
static struct hvc_hv_guest guests[3];

static int fake_inject(void *ctx, void *vm, uint32_t vcpu, uint32_t vector)
{
    struct fake *f = ctx;

    if (f->fail)
        return f->fail;
    if (f->n < 16)
        f->log[f->n++] = (struct injection){vm, vcpu, vector};
    return 0;
}

static int fake_alive(void *ctx, void *vm)
{
    struct fake *f = ctx;

    return !(f->dead_vm != 0 && vm == &vms[f->dead_vm - 1]);
}

static const struct hvc_hv_ops ops = {.inject = fake_inject, .alive = fake_alive};
static const struct hvc_hv_ops ops_noalive = {.inject = fake_inject};

static void setup(void)
{
    memset(&fk, 0, sizeof(fk));
    memset(guests, 0, sizeof(guests));
    for (int i = 0; i < 3; i++) {
        guests[i].vm = &vms[i];
        guests[i].vcpu = (uint32_t)i;
        guests[i].peer = (uint32_t)(i == 2 ? 5 : i);
        guests[i].region_gpa = 0x40000000u;
        guests[i].region_size = 0x40000u;
    }
    guests[2].flags = HVC_HV_GUEST_RDONLY;
    ck_assert_int_eq(hvc_hv_init(&hv, guests, 3, 8, &ops, &fk), 0);
    hv.tsc_khz = 2000000;
}

static int call(uint32_t caller, uint64_t func, uint64_t a0, uint64_t a1,
                struct hvc_hv_regs *out)
{
    struct hvc_hv_regs r = {.rax = func, .rbx = a0, .rcx = a1, .rsi = 0xdead};
    int rc = hvc_hv_call(&hv, caller, &r);

    if (caller < hv.count)
        ck_assert_msg((int64_t)r.rax == rc, "RAX %lld, returned %d",
                      (long long)r.rax, rc);
    if (out != NULL)
        *out = r;
    return rc;
}

START_TEST(test_init_errors)
{
    struct hvc_hv h;
    struct hvc_hv_guest g[2] = {{.peer = 1}, {.peer = 1}};

    hvct_assert_rc(hvc_hv_init(NULL, g, 1, 4, &ops, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_init(&h, NULL, 1, 4, &ops, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_init(&h, g, 0, 4, &ops, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_init(&h, g, 1, 0, &ops, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_init(&h, g, 1, 0x10000, &ops, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_init(&h, g, 1, 4, NULL, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_init(&h, g, 1, 1, &ops, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_init(&h, g, 2, 4, &ops, NULL), -HVC_EEXIST);
    g[1].peer = 2;
    g[1].region_gpa = UINT64_MAX - 10;
    g[1].region_size = 100;
    hvct_assert_rc(hvc_hv_init(&h, g, 2, 4, &ops, NULL), -HVC_EINVAL);
    g[1].region_size = 10;
    hvct_assert_rc(hvc_hv_init(&h, g, 2, 4, &ops, NULL), 0);
    ck_assert(g[0].running && g[1].running);
    ck_assert(g[0].token != 0 && g[0].token != g[1].token);
    ck_assert_uint_eq(g[0].token & ((1u << HVC_HV_TOKEN_SHIFT) - 1), 0);
}
END_TEST

START_TEST(test_version_id_region_tsc)
{
    struct hvc_hv_regs r;

    ck_assert_int_eq(call(0, HVC_HV_VERSION, 0, 0, &r), 0);
    ck_assert_uint_eq(r.rbx, HVC_HV_ABI_VERSION);
    ck_assert(r.rcx & HVC_HV_F_NOTIFY);
    ck_assert(r.rcx & HVC_HV_F_TSC);
    ck_assert_uint_eq(r.rsi, 8);
    ck_assert_int_eq(call(2, HVC_HV_SELF_ID, 0, 0, &r), 0);
    ck_assert_uint_eq(r.rbx, 5);
    ck_assert_int_eq(call(0, HVC_HV_REGION, 0, 0, &r), 0);
    ck_assert_uint_eq(r.rbx, 0x40000000u);
    ck_assert_uint_eq(r.rcx, 0x40000u);
    ck_assert_uint_eq(r.rsi, 0);
    ck_assert_int_eq(call(2, HVC_HV_REGION, 0, 0, &r), 0);
    ck_assert_uint_eq(r.rsi, HVC_HV_REGION_RDONLY);
    ck_assert_int_eq(call(1, HVC_HV_TSC_KHZ, 0, 0, &r), 0);
    ck_assert_uint_eq(r.rbx, 2000000);
    ck_assert_int_eq(call(1, HVC_HV_SELF_TOKEN, 0, 0, &r), 0);
    ck_assert_uint_eq(r.rbx, guests[1].token);
    ck_assert_uint_eq(hv.stats.errors, 0);
    ck_assert_uint_eq(hv.stats.calls, 6);
    ck_assert_str_eq(hvc_hv_func_name(HVC_HV_NOTIFY), "notify");
    ck_assert_str_eq(hvc_hv_func_name(HVC_HV_BASE + 99), "?");
    ck_assert_str_eq(hvc_hv_func_name(3), "?");
}
END_TEST

START_TEST(test_notify)
{
    ck_assert_int_eq(call(1, HVC_HV_SET_IRQ, 0x40, 4, NULL), 0);
    ck_assert_int_eq(call(0, HVC_HV_NOTIFY, 1, 3, NULL), 0);
    ck_assert_uint_eq(fk.n, 1);
    ck_assert_ptr_eq(fk.log[0].vm, &vms[1]);
    ck_assert_uint_eq(fk.log[0].vcpu, 1);
    ck_assert_uint_eq(fk.log[0].vector, 0x43);
    /* The doorbell register form, and ringing oneself. */
    ck_assert_int_eq(hvc_hv_doorbell(&hv, 1, HVC_HV_BELL(1, 0), 0), 0);
    ck_assert_uint_eq(fk.log[1].vector, 0x40);
    ck_assert_uint_eq(hv.stats.injected, 2);
}
END_TEST

START_TEST(test_bad_requests)
{
    struct hvc_hv_regs r = {.rax = HVC_HV_SELF_ID, .cpl = 3};

    ck_assert_int_eq(call(1, HVC_HV_SET_IRQ, 0x40, 2, NULL), 0);
    /* CPL 3: refused before anything is decoded. */
    hvct_assert_rc(hvc_hv_call(&hv, 0, &r), -HVC_EPERM);
    ck_assert_int_eq((int64_t)r.rax, -HVC_EPERM);
    ck_assert_uint_eq(r.rbx, 0);
    r = (struct hvc_hv_regs){.rax = HVC_HV_NOTIFY, .rbx = 1, .cpl = 1};
    hvct_assert_rc(hvc_hv_call(&hv, 0, &r), -HVC_EPERM);
    hvct_assert_rc(hvc_hv_doorbell(&hv, 0, HVC_HV_BELL(1, 0), 3), -HVC_EPERM);
    ck_assert_uint_eq(hv.stats.bad_cpl, 3);
    /* Unknown caller: RAX left alone, counted. */
    r = (struct hvc_hv_regs){.rax = HVC_HV_SELF_ID};
    hvct_assert_rc(hvc_hv_call(&hv, 3, &r), -HVC_EINVAL);
    ck_assert_uint_eq(r.rax, HVC_HV_SELF_ID);
    hvct_assert_rc(hvc_hv_doorbell(&hv, 99, 0, 0), -HVC_EINVAL);
    ck_assert_uint_eq(hv.stats.bad_caller, 2);
    hvct_assert_rc(hvc_hv_call(NULL, 0, &r), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_call(&hv, 0, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_doorbell(NULL, 0, 0, 0), -HVC_EINVAL);
    /* Unknown functions, including high bits set. */
    hvct_assert_rc(call(0, 0, 0, 0, NULL), -HVC_ENOTSUP);
    hvct_assert_rc(call(0, HVC_HV_BASE + 8, 0, 0, NULL), -HVC_ENOTSUP);
    hvct_assert_rc(call(0, (1ull << 32) | HVC_HV_SELF_ID, 0, 0, NULL), -HVC_ENOTSUP);
    ck_assert_uint_eq(hv.stats.bad_func, 3);
    /* Unknown peers: out of range, in range but absent, 64-bit garbage. */
    hvct_assert_rc(call(0, HVC_HV_NOTIFY, 99, 0, NULL), -HVC_ENOENT);
    hvct_assert_rc(call(0, HVC_HV_NOTIFY, 3, 0, NULL), -HVC_ENOENT);
    hvct_assert_rc(call(0, HVC_HV_NOTIFY, (1ull << 32) | 1, 0, NULL), -HVC_ENOENT);
    hvct_assert_rc(hvc_hv_doorbell(&hv, 0, HVC_HV_BELL(7, 0), 0), -HVC_ENOENT);
    hvct_assert_rc(call(0, HVC_HV_PEER_ALIVE, 4, 0, NULL), -HVC_ENOENT);
    hvct_assert_rc(call(0, HVC_HV_PEER_ALIVE, UINT64_MAX, 0, NULL), -HVC_ENOENT);
    ck_assert_uint_eq(hv.stats.bad_peer, 6);
    /* Vectors out of the target's range; a target without vectors. */
    hvct_assert_rc(call(0, HVC_HV_NOTIFY, 1, 2, NULL), -HVC_EINVAL);
    hvct_assert_rc(call(0, HVC_HV_NOTIFY, 1, UINT64_MAX, NULL), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_doorbell(&hv, 0, HVC_HV_BELL(1, 0xffff), 0), -HVC_EINVAL);
    hvct_assert_rc(call(1, HVC_HV_NOTIFY, 0, 0, NULL), -HVC_ENOTREADY);
    ck_assert_uint_eq(hv.stats.bad_vector, 4);
    /* Bad SET_IRQ ranges and region index. */
    hvct_assert_rc(call(0, HVC_HV_SET_IRQ, 31, 1, NULL), -HVC_EINVAL);
    hvct_assert_rc(call(0, HVC_HV_SET_IRQ, 32, 0, NULL), -HVC_EINVAL);
    hvct_assert_rc(call(0, HVC_HV_SET_IRQ, 32, 33, NULL), -HVC_EINVAL);
    hvct_assert_rc(call(0, HVC_HV_SET_IRQ, 250, 7, NULL), -HVC_EINVAL);
    hvct_assert_rc(call(0, HVC_HV_SET_IRQ, 256, 1, NULL), -HVC_EINVAL);
    hvct_assert_rc(call(0, HVC_HV_SET_IRQ, UINT64_MAX, 2, NULL), -HVC_EINVAL);
    hvct_assert_rc(call(0, HVC_HV_REGION, 1, 0, NULL), -HVC_EINVAL);
    ck_assert_uint_eq(hv.stats.bad_arg, 7);
    ck_assert_uint_eq(guests[0].irq_count, 0);
    /* Nothing was injected, and good requests still work. */
    ck_assert_uint_eq(fk.n, 0);
    ck_assert_int_eq(call(0, HVC_HV_NOTIFY, 1, 1, NULL), 0);
    ck_assert_uint_eq(fk.n, 1);
    ck_assert_uint_eq(hv.stats.errors, 3 + 1 + 1 + 3 + 6 + 4 + 7);
}
END_TEST

START_TEST(test_inject_fails)
{
    ck_assert_int_eq(call(1, HVC_HV_SET_IRQ, 0x20, 1, NULL), 0);
    fk.fail = -HVC_ENOSPC;
    hvct_assert_rc(call(0, HVC_HV_NOTIFY, 1, 0, NULL), -HVC_EIO);
    hvct_assert_rc(hvc_hv_doorbell(&hv, 0, HVC_HV_BELL(1, 0), 0), -HVC_EIO);
    ck_assert_uint_eq(hv.stats.inject_failed, 2);
    ck_assert_uint_eq(hv.stats.injected, 0);
    /* The doorbell register form of the other refusals. */
    fk.fail = 0;
    hvct_assert_rc(hvc_hv_doorbell(&hv, 1, HVC_HV_BELL(0, 0), 0), -HVC_ENOTREADY);
    ck_assert_int_eq(hvc_hv_guest_stop(&hv, 1), 0);
    hvct_assert_rc(hvc_hv_doorbell(&hv, 0, HVC_HV_BELL(1, 0), 0), -HVC_EPEERGONE);
    ck_assert_uint_eq(hv.stats.peer_gone, 1);
    ck_assert_uint_eq(fk.n, 0);
}
END_TEST

START_TEST(test_liveness)
{
    uint64_t t1 = guests[1].token;
    struct hvc_hv_regs r;

    ck_assert_int_eq(call(1, HVC_HV_SET_IRQ, 0x20, 1, NULL), 0);
    ck_assert_int_eq(call(0, HVC_HV_PEER_ALIVE, 1, t1, NULL), 1);
    ck_assert_int_eq(call(0, HVC_HV_PEER_ALIVE, 1, t1 + (1u << 22), NULL), 0);
    /* Stopped: gone for liveness and doorbells. */
    ck_assert_int_eq(hvc_hv_guest_stop(&hv, 1), 0);
    ck_assert_int_eq(call(0, HVC_HV_PEER_ALIVE, 1, t1, NULL), 0);
    hvct_assert_rc(call(0, HVC_HV_NOTIFY, 1, 0, NULL), -HVC_EPEERGONE);
    ck_assert_uint_eq(hv.stats.peer_gone, 1);
    /* Restarted: a new incarnation; the old token is dead, vectors reset. */
    ck_assert_int_eq(hvc_hv_guest_start(&hv, 1), 0);
    ck_assert_int_eq(call(0, HVC_HV_PEER_ALIVE, 1, t1, NULL), 0);
    ck_assert_int_eq(call(1, HVC_HV_SELF_TOKEN, 0, 0, &r), 0);
    ck_assert(r.rbx != t1 && (r.rbx & 0x3fffff) == 0);
    ck_assert_int_eq(call(0, HVC_HV_PEER_ALIVE, 1, r.rbx, NULL), 1);
    hvct_assert_rc(call(0, HVC_HV_NOTIFY, 1, 0, NULL), -HVC_ENOTREADY);
    /* The hypervisor's own alive() callback also counts. */
    fk.dead_vm = 2;
    ck_assert_int_eq(call(0, HVC_HV_PEER_ALIVE, 1, r.rbx, NULL), 0);
    fk.dead_vm = 0;
    hvct_assert_rc(hvc_hv_guest_stop(&hv, 3), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_guest_start(&hv, 3), -HVC_EINVAL);
    hvct_assert_rc(hvc_hv_guest_stop(NULL, 0), -HVC_EINVAL);
    ck_assert_int_eq(hvc_hv_find(&hv, 5), 2);
    hvct_assert_rc(hvc_hv_find(&hv, 4), -HVC_ENOENT);
    hvct_assert_rc(hvc_hv_find(NULL, 0), -HVC_EINVAL);
    /* Without alive(): stop/start only. */
    ck_assert_int_eq(hvc_hv_init(&hv, guests, 3, 8, &ops_noalive, &fk), 0);
    ck_assert_int_eq(call(0, HVC_HV_PEER_ALIVE, 1, guests[1].token, NULL), 1);
}
END_TEST

/* ---- the guest backend, its hypercalls served by the library ---- */

static int64_t hook_call(void *ctx, uint64_t regs[4])
{
    struct hvc_hv_regs r = {.rax = regs[0], .rbx = regs[1], .rcx = regs[2],
                            .rsi = regs[3]};
    uint32_t caller = (uint32_t)(uintptr_t)ctx;

    hvc_hv_call(&hv, caller, &r);
    regs[0] = r.rax;
    regs[1] = r.rbx;
    regs[2] = r.rcx;
    regs[3] = r.rsi;
    return (int64_t)r.rax;
}

static uint8_t region_mem[0x40000] __attribute__((aligned(4096)));

START_TEST(test_guest_backend)
{
    struct hvc_x86hv_config cfg;
    struct hvc_platform_handle h;
    uint64_t tok = 0;
    uint32_t vec = 99;

    hvc_x86hv_config_init(&cfg);
    cfg.method = HVC_X86HV_HOOK;
    cfg.hook = hook_call;
    cfg.hook_ctx = (void *)(uintptr_t)1;
    cfg.virt_offset = (uint64_t)(uintptr_t)region_mem - 0x40000000u;
    cfg.irq_base = 0x50;
    cfg.irq_count = 2;
    ck_assert_int_eq(hvc_x86hv_configure(&cfg), 0);
    ck_assert_int_eq(hvc_platform_open(&h, hvc_platform_x86hv(), "x86hv", 0, 0), 0);
    ck_assert_ptr_eq(h.base, region_mem);
    ck_assert_uint_eq(h.size, sizeof(region_mem));
    ck_assert_int_eq(hvc_platform_self_id(&h), 1);
    ck_assert_int_eq(hvc_platform_self_token(&h, &tok), 0);
    ck_assert_uint_eq(tok, guests[1].token);
    ck_assert_uint_eq(guests[1].irq_base, 0x50);
    ck_assert_uint_eq(guests[1].irq_count, 2);
    ck_assert_int_eq(hvc_platform_peer_alive(&h, 0, guests[0].token), 1);
    ck_assert_int_eq(hvc_platform_peer_alive(&h, 0, 0x7full << 22), 0);
    /* Ring guest 0: it has no vectors yet; then it has. */
    hvct_assert_rc(hvc_platform_notify(&h, 0, 0), -HVC_ENOTREADY);
    ck_assert_int_eq(call(0, HVC_HV_SET_IRQ, 0x30, 1, NULL), 0);
    ck_assert_int_eq(hvc_platform_notify(&h, 0, 0), 0);
    ck_assert_uint_eq(fk.log[0].vector, 0x30);
    hvct_assert_rc(hvc_platform_notify(&h, 0, 1), -HVC_EINVAL);
    hvct_assert_rc(hvc_platform_notify(&h, 7, 0), -HVC_ENOENT);
    /* A doorbell to us arrives through the ISR entry. */
    hvct_assert_rc(hvc_platform_wait_notify(&h, 0, &vec), -HVC_ETIMEDOUT);
    ck_assert_int_eq(hvc_x86hv_irq(0x51), 1);
    ck_assert_int_eq(hvc_x86hv_irq(0x52), 0);
    ck_assert_int_eq(hvc_x86hv_irq(0x4f), 0);
    ck_assert_int_eq(hvc_platform_wait_notify(&h, 0, &vec), 0);
    ck_assert_uint_eq(vec, 1);
    hvct_assert_rc(hvc_platform_wait_notify(&h, 0, &vec), -HVC_ETIMEDOUT);
    ck_assert_uint_eq(hvc_x86hv_stats()->irqs, 1);
    ck_assert_uint_eq(hvc_x86hv_stats()->stray_irqs, 2);
    ck_assert_int_eq(hvc_platform_close(&h), 0);

    /* The read-only guest: the flag comes from the hypervisor. */
    cfg.hook_ctx = (void *)(uintptr_t)2;
    ck_assert_int_eq(hvc_x86hv_configure(&cfg), 0);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_x86hv(), "x86hv", 0, 0),
                   -HVC_EACCES);
    ck_assert_int_eq(hvc_platform_open(&h, hvc_platform_x86hv(), "x86hv", 0,
                                       HVC_MAP_RDONLY), 0);
    ck_assert_int_eq(hvc_platform_self_id(&h), 5);
    ck_assert_int_eq(hvc_platform_close(&h), 0);

    /* A caller descriptor: region and id given, no hypercall for them. */
    cfg.region_gpa = 0x40000000u;
    cfg.region_size = 0x1000;
    cfg.peer_id = 3;
    ck_assert_int_eq(hvc_x86hv_configure(&cfg), 0);
    ck_assert_int_eq(hvc_platform_open(&h, hvc_platform_x86hv(), "x86hv", 0, 0), 0);
    ck_assert_uint_eq(h.size, 0x1000);
    ck_assert_int_eq(hvc_platform_self_id(&h), 3);
    /* Asking for more than the region holds. */
    ck_assert_int_eq(hvc_platform_close(&h), 0);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_x86hv(), "x86hv", 0x2000,
                                     HVC_MAP_CREATE), -HVC_ENOSPC);
    /* A hypervisor that does not serve the call (RAX left alone). */
    cfg.region_size = 0;
    cfg.peer_id = -1;
    cfg.hook_ctx = (void *)(uintptr_t)9;
    ck_assert_int_eq(hvc_x86hv_configure(&cfg), 0);
    hvct_assert_rc(hvc_platform_open(&h, hvc_platform_x86hv(), "x86hv", 0, 0), -HVC_EIO);
    hvct_assert_rc((int)hvc_x86hv_call(HVC_HV_SELF_ID, 0, 0, NULL), -HVC_EIO);
    ck_assert_uint_eq(hv.stats.bad_caller, 2);
    /* Bad descriptors. */
    cfg.irq_base = 10;
    hvct_assert_rc(hvc_x86hv_configure(&cfg), -HVC_EINVAL);
    cfg.irq_base = 0x50;
    cfg.irq_count = 33;
    hvct_assert_rc(hvc_x86hv_configure(&cfg), -HVC_EINVAL);
    cfg.irq_count = 1;
    cfg.method = 77;
    hvct_assert_rc(hvc_x86hv_configure(&cfg), -HVC_EINVAL);
    cfg.method = HVC_X86HV_HOOK;
    cfg.hook = NULL;
    hvct_assert_rc(hvc_x86hv_configure(&cfg), -HVC_EINVAL);
    hvct_assert_rc(hvc_x86hv_configure(NULL), -HVC_EINVAL);
}
END_TEST

/* Two guests on one region through the library: ids and tokens from the
 * hypervisor, and a guest the hypervisor stopped is declared gone. */
START_TEST(test_guest_region_join)
{
    struct hvc_x86hv_config cfg;
    struct hvc_region r0, r1;
    struct hvc_region_config rc = {.size = sizeof(region_mem)};
    struct hvc_peer_info pi;

    memset(region_mem, 0, sizeof(region_mem));
    hvc_x86hv_config_init(&cfg);
    cfg.method = HVC_X86HV_HOOK;
    cfg.hook = hook_call;
    cfg.hook_ctx = (void *)(uintptr_t)1;
    cfg.virt_offset = (uint64_t)(uintptr_t)region_mem - 0x40000000u;
    ck_assert_int_eq(hvc_x86hv_configure(&cfg), 0);
    ck_assert_int_eq(hvc_region_format(&r1, hvc_platform_x86hv(), "x86hv", &rc), 0);
    ck_assert_int_eq(hvc_peer_join(&r1, "g1"), 1);
    ck_assert_int_eq(hvc_peer_info(&r1, 1, &pi), 0);
    ck_assert_uint_eq(pi.token, guests[1].token);
    cfg.hook_ctx = (void *)(uintptr_t)0;
    ck_assert_int_eq(hvc_x86hv_configure(&cfg), 0);
    ck_assert_int_eq(hvc_region_attach(&r0, hvc_platform_x86hv(), "x86hv", 0), 0);
    ck_assert_int_eq(hvc_peer_join(&r0, "g0"), 0);
    ck_assert_int_eq(hvc_peer_scan(&r0, 0), 0);
    ck_assert_int_eq(hvc_hv_guest_stop(&hv, 1), 0);
    ck_assert_int_eq(hvc_peer_scan(&r0, 0), 1);
    ck_assert_int_eq(hvc_peer_info(&r0, 1, &pi), 0);
    ck_assert_uint_eq(pi.state, HVC_PEER_GONE);
    ck_assert_int_eq(hvc_region_detach(&r0), 0);
    /* The stopped guest's own handle: its leave finds itself declared gone. */
    hvc_region_detach(&r1);
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *s = hvct_suite("x86hv_lib", hvct_leak_setup, hvct_leak_teardown, 0,
                          HVCT_TESTS(test_init_errors, test_version_id_region_tsc, test_notify,
                                     test_bad_requests, test_inject_fails, test_liveness,
                                     test_guest_backend, test_guest_region_join), &tc);

    tcase_add_checked_fixture(tc, setup, NULL);
    return hvct_run(s);
}
