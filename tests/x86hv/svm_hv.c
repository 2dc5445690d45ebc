/*
 * A tiny AMD-V hypervisor for QEMU TCG (`-accel tcg -cpu max` has SVM): it
 * proves the real hypercall path of the x86hv ABI. Booted by multiboot
 * (ports/x86_64-hv/boot32.S), it enables SVM (EFER.SVME, VM_HSAVE_PA), runs
 * a guest with the VMRUN, VMMCALL and HLT intercepts and ASID 1, and
 * serves the guest's VMMCALLs (#VMEXIT 0x81) with the hypervisor-side
 * library. Its other peer is the hypervisor itself: a hypervisor-side
 * hvcomm peer (peer 1) that answers the guest's doorbells and drains a
 * ring the guest fills. A second, read-only guest (peer 2, ASID 2) runs
 * beside it on the same CPU (the loop switches VMCBs when one halts) under
 * nested paging: it answers guest 0's doorbells, and its store to the
 * region must exit as a nested page fault and change nothing. When guest 0
 * is done the hypervisor stops it (still joined); its peer and the
 * read-only guest see it gone through the liveness call.
 *
 * Without nested paging the first guest runs on the hypervisor's identity
 * map (guest-physical = physical): that part tests the ABI, not isolation.
 * The guests are code in the same image (guest_main, ro_main below), with
 * their own stacks, the x86hv guest backend picking VMMCALL from the CPUID
 * vendor.
 *
 * Pass/fail through isa-debug-exit: QEMU exits with (code << 1) | 1; the
 * hypervisor writes SVM_PASS when every check held.
 */
#include <hvcomm/hv.h>
#include <hvcomm/hvcomm.h>
#include <hvcomm/x86hv.h>

#include "rt.h"

#define SVM_PASS 0x21u
#define SVM_FAIL 0x22u

#define EXIT_VMMCALL 0x81u
#define EXIT_HLT 0x78u
#define EXIT_NPF 0x400u
#define RO_PEER 2u

#define GUEST_PEER 0u
#define HV_PEER 1u
#define GUEST_VEC 0x40u
#define ROUNDS 20u
#define RING_MSGS 100u
#define RING_MSG 40u
#define REGION_SIZE 0x10000u

/* Test-only requests of the harness (never reach the library). */
#define T_ENTER_RING3 (HVC_HV_BASE + 0x100)
#define T_BACK_TO_RING0 (HVC_HV_BASE + 0x101)

struct svm_gregs {
    uint64_t rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};

uint64_t svm_run(uint64_t vmcb_pa, struct svm_gregs *g);

static uint8_t vmcb_a[4096] __attribute__((aligned(4096))); /* guest 0 */
static uint8_t vmcb_b[4096] __attribute__((aligned(4096))); /* guest 2, read-only */
static uint8_t *vmcb = vmcb_a; /* the one running */
static uint32_t cur_caller;     /* its index in the library's table */
static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[16384] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));
/* 64 KiB aligned: inside one 2 MiB nested page. */
static uint8_t region_mem[REGION_SIZE] __attribute__((aligned(REGION_SIZE)));
static uint8_t ro_stack[16384] __attribute__((aligned(16)));
/* Nested page tables for guest 2: identity, 1 GiB, the region read-only. */
static uint64_t npt_pml4[512] __attribute__((aligned(4096)));
static uint64_t npt_pdpt[512] __attribute__((aligned(4096)));
static uint64_t npt_pd[512] __attribute__((aligned(4096)));
static uint64_t npt_pt[512] __attribute__((aligned(4096)));
static struct svm_gregs gregs;

/* What the guest reports (the same memory: no nested paging). */
static struct {
    volatile uint32_t done;
    uint32_t fails;
    uint64_t rt_cycles[ROUNDS];
    uint64_t gg_cycles[ROUNDS]; /* round trips with the read-only guest */
    uint64_t call_cycles; /* one VMMCALL exit and return, mean of 32 */
    uint64_t ring_sum;
    int64_t bad[4];
    volatile int64_t ring3_rc;
} res;

/* What the read-only guest (peer 2, nested paging) reports. */
#define RO_WORD (REGION_SIZE / 2) /* the word it tries to write */
static struct {
    volatile uint32_t done;
    uint32_t fails;
    uint32_t before, after; /* the word, read by the guest around its store */
    uint32_t gone_state;    /* peer 0's state in the table it reads */
    int64_t gone_notify;    /* its doorbell to peer 0 */
    uint64_t region_flags;  /* RSI of HVC_HV_REGION */
    uint64_t t_store, t_back; /* TSC just before the store, just after */
    uint32_t pongs;           /* doorbells answered to guest 0 */
} ro;

#define U64(off) (*(volatile uint64_t *)(vmcb + (off)))
#define U32(off) (*(volatile uint32_t *)(vmcb + (off)))
#define U16(off) (*(volatile uint16_t *)(vmcb + (off)))
#define U8(off) (*(volatile uint8_t *)(vmcb + (off)))

/* VMCB offsets (AMD APM vol. 2, appendix B). */
#define C_INTERCEPT_MISC1 0x00c
#define C_INTERCEPT_MISC2 0x010
#define C_ASID 0x058
#define C_INT_SHADOW 0x068
#define C_EXITCODE 0x070
#define C_EXITINFO1 0x078
#define C_EXITINFO2 0x080
#define C_NP_ENABLE 0x090
#define C_NCR3 0x0b0
#define C_TLB_CONTROL 0x05c
#define C_EVENTINJ 0x0a8
#define S_ES 0x400
#define S_CS 0x410
#define S_SS 0x420
#define S_DS 0x430
#define S_FS 0x440
#define S_GS 0x450
#define S_GDTR 0x460
#define S_IDTR 0x480
#define S_TR 0x490
#define S_CPL 0x4cb
#define S_EFER 0x4d0
#define S_CR4 0x548
#define S_CR3 0x550
#define S_CR0 0x558
#define S_RFLAGS 0x570
#define S_RIP 0x578
#define S_RSP 0x5d8
#define S_RAX 0x5f8
#define S_PAT 0x668

static void seg(uint32_t off, uint16_t sel, uint16_t attr, uint32_t limit)
{
    U16(off) = sel;
    U16(off + 2) = attr;
    U32(off + 4) = limit;
    U64(off + 8) = 0;
}

/* ---------------------------------------------------------------- guest */

static uint32_t fnv(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;

    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

void rt_irq(uint32_t vector)
{
    hvc_x86hv_irq(vector);
}

#define GCHECK(c)                                                             \
    do {                                                                      \
        if (!(c)) {                                                           \
            rt_printf("guest: check failed line %d: %s\n", __LINE__, #c);    \
            res.fails++;                                                      \
        }                                                                     \
    } while (0)

static uint64_t vmmcall4(uint64_t a, uint64_t b, uint64_t c, uint64_t s)
{
    __asm__ __volatile__("vmmcall" : "+a"(a), "+b"(b), "+c"(c), "+S"(s) : : "memory");
    return a;
}

/* Runs at CPL 3 (the harness put it there): a request from user mode must
 * be refused by the library. */
__attribute__((noreturn)) void guest_user(void);
void guest_user(void)
{
    res.ring3_rc = (int64_t)vmmcall4(HVC_HV_SELF_ID, 0, 0, 0);
    vmmcall4(T_BACK_TO_RING0, 0, 0, 0);
    for (;;)
        ;
}

static int guest_work(void)
{
    struct hvc_x86hv_config cfg;
    struct hvc_region r;
    struct hvc_platform_handle *h;
    struct hvc_ring ring;
    uint8_t msg[RING_MSG];
    uint32_t vec;
    int rc;

    hvc_x86hv_config_init(&cfg);
    cfg.irq_base = GUEST_VEC;
    cfg.irq_count = 1;
    if (hvc_x86hv_configure(&cfg) < 0)
        return -1;
    rc = hvc_region_attach(&r, hvc_platform_x86hv(), "x86hv", 0);
    if (rc < 0) {
        rt_printf("guest: attach: %s\n", hvc_strerror(rc));
        return -1;
    }
    rc = hvc_peer_join(&r, "svm-guest");
    GCHECK(rc == (int)GUEST_PEER);
    h = hvc_region_platform(&r);
    {
        uint64_t t0 = rt_rdtsc();

        for (int i = 0; i < 32; i++)
            hvc_x86hv_call(HVC_HV_VERSION, 0, 0, NULL);
        res.call_cycles = (rt_rdtsc() - t0) / 32;
    }
    /* Doorbells both ways: guest -> hypervisor peer -> guest. */
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint64_t t0 = rt_rdtsc();

        GCHECK(hvc_platform_notify(h, HV_PEER, 0) == 0);
        GCHECK(hvc_platform_wait_notify(h, HVC_FOREVER, &vec) == 0 && vec == 0);
        res.rt_cycles[i] = rt_rdtsc() - t0;
    }
    /* A ring stream to the hypervisor peer; ring its doorbell when full. */
    rc = hvc_ring_open(&ring, &r, "stream", HVC_RING_PRODUCER);
    GCHECK(rc == 0);
    for (uint32_t i = 0; rc == 0 && i < RING_MSGS; i++) {
        uint32_t c;

        for (uint32_t k = 0; k < RING_MSG - 4; k++)
            msg[k] = (uint8_t)(i + k * 3);
        c = fnv(msg, RING_MSG - 4);
        __builtin_memcpy(msg + RING_MSG - 4, &c, 4);
        while ((rc = hvc_ring_send(&ring, msg, RING_MSG)) == -HVC_EAGAIN) {
            GCHECK(hvc_platform_notify(h, HV_PEER, 0) == 0);
            GCHECK(hvc_platform_wait_notify(h, HVC_FOREVER, &vec) == 0);
        }
        GCHECK(rc == 0);
        res.ring_sum += c;
    }
    GCHECK(hvc_platform_notify(h, HV_PEER, 0) == 0);
    GCHECK(hvc_platform_wait_notify(h, HVC_FOREVER, &vec) == 0);
    /* Bad requests: errors back, the guest goes on. */
    res.bad[0] = hvc_x86hv_call(HVC_HV_NOTIFY, 99, 0, NULL);
    res.bad[1] = hvc_x86hv_call(HVC_HV_NOTIFY, HV_PEER, 5, NULL);
    res.bad[2] = hvc_x86hv_call(HVC_HV_BASE + 77, 0, 0, NULL);
    GCHECK(res.bad[0] == -HVC_ENOENT);
    GCHECK(res.bad[1] == -HVC_EINVAL);
    GCHECK(res.bad[2] == -HVC_ENOTSUP);
    /* A request from CPL 3. */
    vmmcall4(T_ENTER_RING3, (uint64_t)(uintptr_t)guest_user,
             (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack) - 8), 0);
    GCHECK(res.ring3_rc == -HVC_EPERM);
    /* Still served at CPL 0 afterwards. */
    GCHECK(hvc_platform_self_id(h) == (int)GUEST_PEER);
    /* Doorbells with the second (read-only) guest, both ways. */
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint64_t t0 = rt_rdtsc();

        GCHECK(hvc_platform_notify(h, RO_PEER, 0) == 0);
        GCHECK(hvc_platform_wait_notify(h, HVC_FOREVER, &vec) == 0 && vec == 0);
        res.gg_cycles[i] = rt_rdtsc() - t0;
    }
    /* Stays joined (no detach): the hypervisor stops this guest next, and
     * its peer must see it gone through the liveness hypercall. */
    return 0;
}

__attribute__((noreturn)) void guest_main(void);
void guest_main(void)
{
    if (guest_work() < 0)
        res.fails++;
    res.done = 1;
    for (;;)
        __asm__ __volatile__("cli; hlt");
}

/* The read-only guest: runs under nested paging with the region's pages
 * mapped without write permission. */
#define ROCHECK(c)                                                            \
    do {                                                                      \
        if (!(c)) {                                                           \
            rt_printf("ro guest: check failed line %d: %s\n", __LINE__, #c); \
            ro.fails++;                                                       \
        }                                                                     \
    } while (0)

extern const char ro_store[], ro_store_end[];

static void ro_work(void)
{
    struct hvc_x86hv_config cfg;
    struct hvc_region r;
    struct hvc_peer_info pi;
    struct hvc_platform_handle *h;
    uint64_t out[3];
    volatile uint32_t *w;
    uint32_t vec;

    hvc_x86hv_config_init(&cfg);
    cfg.irq_base = GUEST_VEC;
    cfg.irq_count = 1;
    ROCHECK(hvc_x86hv_configure(&cfg) == 0);
    ROCHECK(hvc_x86hv_call(HVC_HV_REGION, 0, 0, out) == 0);
    ro.region_flags = out[2];
    ROCHECK(out[0] == (uint64_t)(uintptr_t)region_mem && out[1] == REGION_SIZE);
    ROCHECK(out[2] & HVC_HV_REGION_RDONLY);
    /* hvcomm refuses a writable mapping, takes a read-only one. */
    ROCHECK(hvc_region_attach(&r, hvc_platform_x86hv(), "x86hv", 0) == -HVC_EACCES);
    if (hvc_region_attach(&r, hvc_platform_x86hv(), "x86hv", HVC_MAP_RDONLY) != 0) {
        ro.fails++;
        return;
    }
    ROCHECK(hvc_peer_join(&r, "ro") == -HVC_EINVAL);
    h = hvc_region_platform(&r);
    /* Guest 0 rings, this guest rings back. */
    for (uint32_t i = 0; i < ROUNDS; i++) {
        ROCHECK(hvc_platform_wait_notify(h, HVC_FOREVER, &vec) == 0 && vec == 0);
        ROCHECK(hvc_platform_notify(h, GUEST_PEER, 0) == 0);
    }
    ro.pongs = ROUNDS;
    /* The hypervisor peer's doorbell: guest 0 has been stopped. */
    ROCHECK(hvc_platform_wait_notify(h, HVC_FOREVER, &vec) == 0 && vec == 0);
    /* Guest 0, stopped by the hypervisor, is gone for this guest too. */
    ROCHECK(hvc_peer_info(&r, GUEST_PEER, &pi) == 0);
    ro.gone_state = pi.state;
    ro.gone_notify = hvc_x86hv_call(HVC_HV_NOTIFY, GUEST_PEER, 0, NULL);
    /* The store: a nested page fault; the hypervisor skips it. */
    w = (volatile uint32_t *)(region_mem + RO_WORD);
    ro.before = *w;
    ro.t_store = rt_rdtsc();
    __asm__ __volatile__(".globl ro_store, ro_store_end\n"
                         "ro_store: movl %%eax, (%%rdi)\n"
                         "ro_store_end:"
                         :
                         : "a"(0xbad0bad0u), "D"(w)
                         : "memory");
    ro.t_back = rt_rdtsc();
    ro.after = *w;
    ROCHECK(ro.after == ro.before);
    hvc_region_detach(&r);
}

__attribute__((noreturn)) void ro_main(void);
void ro_main(void)
{
    ro_work();
    ro.done = 1;
    for (;;)
        __asm__ __volatile__("cli; hlt");
}

/* ----------------------------------------------------------- hypervisor */

struct hvpeer {
    struct hvc_region r;
    struct hvc_ring ring;
    uint32_t rung;      /* doorbells from the guest not yet answered */
    uint32_t received;  /* ring messages intact */
    uint32_t bad;       /* ring messages corrupt */
    uint64_t sum;
};

static struct hvpeer hp;
static struct hvc_hv_guest table[3];
/* The two guests share one physical CPU: each has its VMCB, registers and
 * pending vectors; the run loop switches when the running one halts. */
enum { V_RUN, V_HALTED, V_DONE };
struct vcpu {
    uint8_t *vmcb;
    uint32_t caller; /* index in the library's table */
    struct svm_gregs g;
    uint64_t mask[4]; /* vectors to inject */
    uint32_t pending;
    uint32_t state;
    volatile uint32_t *done;
};
static struct vcpu vcpus[2]; /* guest 0, the read-only guest */
static struct vcpu *cur;
static uint64_t tsc_khz;
static uint64_t ring0_rip, ring0_rsp;
static uint64_t exits_vmmcall, exits_hlt;

static int hv_inject(void *ctx, void *vm, uint32_t vcpu, uint32_t vector)
{
    (void)ctx;
    (void)vcpu;
    if (vm == &hp) {
        hp.rung++;
        return 0;
    }
    {
        struct vcpu *t = vm == vmcb_a ? &vcpus[0] : &vcpus[1];

        t->mask[vector / 64] |= 1ull << (vector % 64);
        t->pending = 1;
        if (t->state == V_HALTED)
            t->state = V_RUN;
    }
    return 0;
}

static const struct hvc_hv_ops hv_ops = {.inject = hv_inject};

static int hm_map(const struct hvc_platform *p, void *s, const char *n, uint64_t size,
                  unsigned f, struct hvc_mapping *out)
{
    (void)p, (void)s, (void)n, (void)size, (void)f;
    out->base = region_mem;
    out->size = REGION_SIZE;
    return 0;
}

static int hm_unmap(const struct hvc_platform *p, void *s)
{
    (void)p, (void)s;
    return 0;
}

static int hm_self_id(const struct hvc_platform *p, void *s)
{
    (void)p, (void)s;
    return HV_PEER;
}

static uint64_t hm_now(const struct hvc_platform *p)
{
    uint64_t t = rt_rdtsc();

    (void)p;
    return t / tsc_khz * 1000000u + t % tsc_khz * 1000000u / tsc_khz;
}

static struct hvc_hv hv;

/* The hypervisor peer asks about a guest's liveness through the same
 * library call a guest's PEER_ALIVE hypercall reaches (caller 1: itself). */
static int hm_peer_alive(const struct hvc_platform *p, void *s, uint32_t peer, uint64_t token)
{
    struct hvc_hv_regs q = {.rax = HVC_HV_PEER_ALIVE, .rbx = peer, .rcx = token};

    (void)p, (void)s;
    hvc_hv_call(&hv, 1, &q);
    if ((int64_t)q.rax < 0)
        return (int64_t)q.rax == -HVC_ENOENT ? 0 : -HVC_ENOTSUP;
    return q.rax != 0;
}

static const struct hvc_platform hm_platform = {
    .version = HVC_PLATFORM_VERSION, .name = "svm-hv", .map = hm_map, .unmap = hm_unmap,
    .self_id = hm_self_id, .now_ns = hm_now, .peer_alive = hm_peer_alive,
    .token_ns = HVC_TOKEN_NS_X86HV};

/* TSC against PIT channel 2 (1193182 Hz), 50 ms. */
static uint64_t calibrate_tsc(void)
{
    uint16_t count = 59659;
    uint64_t t0, t1;
    uint8_t v;

    __asm__ __volatile__("inb $0x61, %0" : "=a"(v));
    rt_outb(0x61, (uint8_t)((v & ~0x02) | 0x01));
    rt_outb(0x43, 0xb0);
    rt_outb(0x42, (uint8_t)count);
    rt_outb(0x42, (uint8_t)(count >> 8));
    t0 = rt_rdtsc();
    do
        __asm__ __volatile__("inb $0x61, %0" : "=a"(v));
    while (!(v & 0x20));
    t1 = rt_rdtsc();
    return (t1 - t0) / 50;
}

/* The hypervisor peer's turn: drain the ring, answer doorbells. */
static void hvpeer_run(void)
{
    uint8_t msg[RING_MSG];
    int n;

    while ((n = hvc_ring_recv(&hp.ring, msg, sizeof(msg))) >= 0) {
        uint32_t c;

        __builtin_memcpy(&c, msg + RING_MSG - 4, 4);
        if (n == (int)RING_MSG && c == fnv(msg, RING_MSG - 4)) {
            hp.received++;
            hp.sum += c;
        } else {
            hp.bad++;
        }
    }
    while (hp.rung > 0) {
        hp.rung--;
        /* The hypervisor peer rings the guest through its own library. */
        struct hvc_hv_regs q = {.rax = HVC_HV_NOTIFY, .rbx = GUEST_PEER, .rcx = 0};

        hvc_hv_call(&hv, 1, &q);
    }
}

static void vmcb_init(void (*entry)(void), uint8_t *stack_top, uint32_t asid)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr, idtr;
    uint64_t cr0, cr3, cr4;

    __asm__ __volatile__("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
    __asm__ __volatile__("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2"
                         : "=r"(cr0), "=r"(cr3), "=r"(cr4));
    __builtin_memset(vmcb, 0, 4096);
    U32(C_INTERCEPT_MISC1) = 1u << 24;            /* HLT */
    U32(C_INTERCEPT_MISC2) = (1u << 0) | (1u << 1); /* VMRUN, VMMCALL */
    U32(C_ASID) = asid;
    seg(S_CS, 0x08, 0xa9b, 0xffffffff);
    seg(S_SS, 0x10, 0xc93, 0xffffffff);
    seg(S_DS, 0x10, 0xc93, 0xffffffff);
    seg(S_ES, 0x10, 0xc93, 0xffffffff);
    seg(S_FS, 0x10, 0xc93, 0xffffffff);
    seg(S_GS, 0x10, 0xc93, 0xffffffff);
    seg(S_TR, 0, 0x08b, 0x67);
    U32(S_GDTR + 4) = gdtr.limit;
    U64(S_GDTR + 8) = gdtr.base;
    U32(S_IDTR + 4) = idtr.limit;
    U64(S_IDTR + 8) = idtr.base;
    U8(S_CPL) = 0;
    U64(S_EFER) = 0x1500; /* SVME | LMA | LME */
    U64(S_CR0) = cr0;
    U64(S_CR3) = cr3;
    U64(S_CR4) = cr4;
    U64(S_RFLAGS) = 2;
    U64(S_RIP) = (uint64_t)(uintptr_t)entry;
    U64(S_RSP) = (uint64_t)(uintptr_t)(stack_top - 8);
    U64(S_PAT) = 0x0007040600070406ull;
}

static int take_injection(struct vcpu *c)
{
    for (int w = 0; w < 4; w++)
        if (c->mask[w] != 0) {
            int b = __builtin_ctzll(c->mask[w]);

            c->mask[w] &= ~(1ull << b);
            return w * 64 + b;
        }
    c->pending = 0;
    return -1;
}

static void switch_to(struct vcpu *n)
{
    cur->g = gregs;
    cur = n;
    gregs = n->g;
    vmcb = n->vmcb;
    cur_caller = n->caller;
}

static int gone_phase(void);

static int handle_vmmcall(void)
{
    struct hvc_hv_regs q = {.rax = U64(S_RAX), .rbx = gregs.rbx, .rcx = gregs.rcx,
                            .rsi = gregs.rsi, .cpl = U8(S_CPL)};

    exits_vmmcall++;
    if (q.rax == T_ENTER_RING3 && q.cpl == 0) {
        ring0_rip = U64(S_RIP) + 3;
        ring0_rsp = U64(S_RSP);
        seg(S_CS, 0x1b, 0xafb, 0xffffffff);
        seg(S_SS, 0x23, 0xcf3, 0xffffffff);
        U8(S_CPL) = 3;
        U64(S_RIP) = q.rbx;
        U64(S_RSP) = q.rcx;
        return 0;
    }
    if (q.rax == T_BACK_TO_RING0 && q.cpl == 3) {
        seg(S_CS, 0x08, 0xa9b, 0xffffffff);
        seg(S_SS, 0x10, 0xc93, 0xffffffff);
        U8(S_CPL) = 0;
        U64(S_RIP) = ring0_rip;
        U64(S_RSP) = ring0_rsp;
        return 0;
    }
    hvc_hv_call(&hv, cur_caller, &q);
    U64(S_RAX) = q.rax;
    gregs.rbx = q.rbx;
    gregs.rcx = q.rcx;
    gregs.rsi = q.rsi;
    U64(S_RIP) += 3; /* 0f 01 d9 */
    return 0;
}

/* Nested page faults of the read-only guest. */
static uint64_t npf_count, npf_gpa, npf_info1, npf_tsc;
static uint32_t npf_word_before;

/* Run both guests until each halts for good with its done flag set;
 * when guest 0 has, stop it (gone_phase). */
static int run_guests(void)
{
    for (uint64_t n = 0;; n++) {
        uint64_t code;
        int v;

        if (n > 2000000) {
            rt_puts("hv: FAIL: too many exits\n");
            return -1;
        }
        if (cur->state != V_RUN) {
            struct vcpu *o = cur == &vcpus[0] ? &vcpus[1] : &vcpus[0];

            if (o->state != V_RUN) {
                if (cur->state == V_DONE && o->state == V_DONE)
                    return 0;
                rt_puts("hv: FAIL: both guests wait, nothing pending\n");
                return -1;
            }
            switch_to(o);
        }
        /* Deliver a pending doorbell when the guest can take it. */
        U64(C_EVENTINJ) = 0;
        if (cur->pending && (U64(S_RFLAGS) & 0x200) && !(U64(C_INT_SHADOW) & 1) &&
            (v = take_injection(cur)) >= 0)
            U64(C_EVENTINJ) = (uint64_t)v | (1ull << 31); /* external interrupt */
        svm_run((uint64_t)(uintptr_t)vmcb, &gregs);
        code = U64(C_EXITCODE);
        if (code == EXIT_NPF)
            npf_tsc = rt_rdtsc(); /* the guest runs on the same TSC (no offset) */
        U32(C_TLB_CONTROL) = 0;
        if (code == EXIT_VMMCALL) {
            handle_vmmcall();
        } else if (code == EXIT_HLT) {
            exits_hlt++;
            U64(S_RIP) += 1;
            U64(C_INT_SHADOW) = 0;
            if (!(U64(S_RFLAGS) & 0x200)) {
                if (!*cur->done) {
                    rt_puts("hv: FAIL: guest halted with interrupts off\n");
                    return -1;
                }
                cur->state = V_DONE;
                if (cur == &vcpus[0] && gone_phase() < 0)
                    return -1;
            } else if (!cur->pending) {
                cur->state = V_HALTED;
            }
        } else if (code == EXIT_NPF && vmcb == vmcb_b &&
                   U64(S_RIP) == (uint64_t)(uintptr_t)ro_store) {
            /* The read-only guest's store: refused, recorded, skipped. */
            npf_count++;
            npf_info1 = U64(C_EXITINFO1);
            npf_gpa = U64(C_EXITINFO2);
            U64(S_RIP) = (uint64_t)(uintptr_t)ro_store_end;
        } else {
            rt_printf("hv: FAIL: unexpected #VMEXIT 0x%lx info1 0x%lx info2 0x%lx at rip 0x%lx\n",
                      code, U64(C_EXITINFO1), U64(C_EXITINFO2), U64(S_RIP));
            return -1;
        }
        hvpeer_run();
    }
}

/* Identity nested page tables over the first GiB (2 MiB pages), with the
 * 2 MiB page holding the region split into 4 KiB pages, the region's
 * present and user but not writable. Nested walks are user accesses:
 * every level has the U bit. */
static void npt_init(void)
{
    uint64_t rbase = (uint64_t)(uintptr_t)region_mem;
    uint64_t big = rbase & ~0x1fffffull;

    npt_pml4[0] = (uint64_t)(uintptr_t)npt_pdpt | 0x7;
    npt_pdpt[0] = (uint64_t)(uintptr_t)npt_pd | 0x7;
    for (uint64_t i = 0; i < 512; i++)
        npt_pd[i] = (i << 21) | 0x87;
    for (uint64_t j = 0; j < 512; j++) {
        uint64_t a = big + (j << 12);

        npt_pt[j] = a | (a >= rbase && a < rbase + REGION_SIZE ? 0x5 : 0x7);
    }
    npt_pd[big >> 21] = (uint64_t)(uintptr_t)npt_pt | 0x7;
}

#define HCHECK(c)                                                             \
    do {                                                                      \
        if (!(c)) {                                                           \
            rt_printf("hv: FAIL line %d: %s\n", __LINE__, #c);               \
            ok = 0;                                                           \
        }                                                                     \
    } while (0)

/* A guest stopped by the hypervisor and seen gone: guest 0 is halted for
 * good, still joined. Alive for the peer table until the hypervisor tells
 * the library it stopped it; gone afterwards. Then the hypervisor peer
 * tells the read-only guest, which must see it gone too. */
static int gone_phase(void)
{
    struct hvc_peer_info pi;
    struct hvc_hv_regs q = {.rax = HVC_HV_NOTIFY, .rbx = GUEST_PEER, .rcx = 0};
    struct hvc_hv_regs q2 = {.rax = HVC_HV_NOTIFY, .rbx = RO_PEER, .rcx = 0};
    int ok = 1;

    HCHECK(hvc_peer_scan(&hp.r, 0) == 0);
    HCHECK(hvc_peer_info(&hp.r, GUEST_PEER, &pi) == 0 && pi.state == HVC_PEER_READY);
    HCHECK(hvc_hv_guest_stop(&hv, 0) == 0);
    HCHECK(hvc_peer_scan(&hp.r, 0) == 1);
    HCHECK(hvc_peer_info(&hp.r, GUEST_PEER, &pi) == 0 && pi.state == HVC_PEER_GONE);
    hvc_hv_call(&hv, 1, &q);
    HCHECK((int64_t)q.rax == -HVC_EPEERGONE);
    HCHECK(hv.stats.peer_gone == 1);
    rt_printf("hv: guest 0 stopped by the hypervisor: peer table %s, doorbell %ld\n",
              hvc_peer_state_name(pi.state), (long)(int64_t)q.rax);
    /* Tell the read-only guest (a doorbell from the hypervisor peer). */
    hvc_hv_call(&hv, 1, &q2);
    HCHECK(q2.rax == 0);
    return ok ? 0 : -1;
}

static int setup_region(void)
{
    struct hvc_region_config rc = {.size = REGION_SIZE, .max_peers = 4};
    struct hvc_ring_attr ra = {.capacity = 512, .max_msg = RING_MSG, .writer = GUEST_PEER};
    int e;

    if ((e = hvc_region_format(&hp.r, &hm_platform, "svm", &rc)) < 0 ||
        (e = hvc_peer_join(&hp.r, "hypervisor")) < 0 ||
        (e = hvc_ring_create(&hp.ring, &hp.r, "stream", &ra)) < 0) {
        rt_printf("hv: region setup: %s\n", hvc_strerror(e));
        return -1;
    }
    return 0;
}


int main(void)
{
    uint32_t a, b, c, d;
    uint64_t sorted[ROUNDS];
    int ok = 1;

    hvc_log_set(rt_log, NULL, HVC_LOG_WARN);
    /* Mask the 8259s the BIOS left on (its IRQ 0 would reach the guest
     * with vector 8: without the INTR intercept, a guest with IF set takes
     * physical interrupts itself). */
    rt_pic_init(0x20, 0);
    __asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0));
    if (!(c & (1u << 2))) {
        rt_puts("hv: no SVM in CPUID (run with -cpu max under TCG)\n");
        return SVM_FAIL;
    }
    tsc_khz = calibrate_tsc();
    if (tsc_khz == 0)
        tsc_khz = 1000000;
    rt_printf("hv: SVM present, TSC %lu kHz\n", tsc_khz);
    {
        uint32_t lo, hi;

        __asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u));
        lo |= 1u << 12; /* EFER.SVME */
        __asm__ __volatile__("wrmsr" : : "a"(lo), "d"(hi), "c"(0xc0000080u));
        __asm__ __volatile__("wrmsr" : : "a"((uint32_t)(uintptr_t)hsave), "d"(0),
                             "c"(0xc0010117u));
    }
    if (setup_region() < 0)
        return SVM_FAIL;
    table[0] = (struct hvc_hv_guest){.vm = vmcb_a, .peer = GUEST_PEER,
                                     .region_gpa = (uint64_t)(uintptr_t)region_mem,
                                     .region_size = REGION_SIZE};
    table[1] = (struct hvc_hv_guest){.vm = &hp, .peer = HV_PEER,
                                     .region_gpa = (uint64_t)(uintptr_t)region_mem,
                                     .region_size = REGION_SIZE};
    table[2] = (struct hvc_hv_guest){.vm = vmcb_b, .peer = RO_PEER,
                                     .region_gpa = (uint64_t)(uintptr_t)region_mem,
                                     .region_size = REGION_SIZE,
                                     .flags = HVC_HV_GUEST_RDONLY};
    if (hvc_hv_init(&hv, table, 3, 4, &hv_ops, NULL) < 0)
        return SVM_FAIL;
    hv.tsc_khz = tsc_khz;
    /* The hypervisor peer takes doorbell vector 0 (it is not interrupted:
     * the library just needs a range to check against). */
    table[1].irq_base = 32;
    table[1].irq_count = 1;
    /* The read-only guest (peer 2): nested paging, the region's pages not
     * writable in its nested page tables. Its store must exit as a nested
     * page fault and never reach the region. */
    {
        uint32_t a2, b2, c2, d2;
        volatile uint32_t *word = (volatile uint32_t *)(region_mem + RO_WORD);

        __asm__ __volatile__("cpuid"
                             : "=a"(a2), "=b"(b2), "=c"(c2), "=d"(d2)
                             : "a"(0x8000000au), "c"(0));
        if (!(d2 & 1u)) {
            rt_puts("hv: FAIL: no nested paging in CPUID 8000000A (QEMU -cpu max has it)\n");
            return SVM_FAIL;
        }
        npt_init();
        vmcb = vmcb_a;
        vmcb_init(guest_main, guest_stack + sizeof(guest_stack), 1);
        vmcb = vmcb_b;
        vmcb_init(ro_main, ro_stack + sizeof(ro_stack), 2);
        U64(C_NP_ENABLE) = 1;
        U64(C_NCR3) = (uint64_t)(uintptr_t)npt_pml4;
        U32(C_TLB_CONTROL) = 1; /* flush this ASID on the first run */
        vcpus[0] = (struct vcpu){.vmcb = vmcb_a, .caller = 0, .done = &res.done};
        vcpus[1] = (struct vcpu){.vmcb = vmcb_b, .caller = 2, .done = &ro.done};
        /* The read-only guest first: it sets its vectors, then waits. */
        cur = &vcpus[1];
        cur_caller = 2;
        __builtin_memset(&gregs, 0, sizeof(gregs));
        npf_word_before = *word;
        if (run_guests() < 0)
            return SVM_FAIL;
        HCHECK(ro.fails == 0);
        HCHECK(ro.region_flags & HVC_HV_REGION_RDONLY);
        HCHECK(npf_count == 1);
        HCHECK(npf_gpa == (uint64_t)(uintptr_t)word);
        HCHECK((npf_info1 & 3) == 3); /* present, write */
        HCHECK(*word == npf_word_before);
        HCHECK(ro.before == npf_word_before && ro.after == npf_word_before);
        HCHECK(ro.gone_state == HVC_PEER_GONE && ro.gone_notify == -HVC_EPEERGONE);
        HCHECK(hv.stats.peer_gone == 2);
        {
            uint64_t ex = (npf_tsc - ro.t_store) * 1000000u / tsc_khz;
            uint64_t rt = (ro.t_back - ro.t_store) * 1000000u / tsc_khz;

            rt_printf("hv: read-only guest: %lu nested page fault(s) at gpa 0x%lx info1 0x%lx, "
                      "region word 0x%x unchanged; peer 0 %s, doorbell to it %ld\n",
                      npf_count, npf_gpa, npf_info1, (unsigned)*word,
                      hvc_peer_state_name(ro.gone_state), (long)ro.gone_notify);
            HCHECK(ro.t_store < npf_tsc && npf_tsc < ro.t_back);
            rt_printf("x86hv figure: path=npf-svm-tcg store_to_exit_us=%lu.%lu "
                      "store_to_resume_us=%lu.%lu (n=1, QEMU TCG)\n",
                      ex / 1000, ex % 1000 / 100, rt / 1000, rt % 1000 / 100);
        }
    }
    HCHECK(res.fails == 0);
    HCHECK(hp.received == RING_MSGS && hp.bad == 0 && hp.sum == res.ring_sum);
    HCHECK(hv.stats.bad_peer >= 1 && hv.stats.bad_vector >= 1 && hv.stats.bad_func >= 1);
    HCHECK(hv.stats.bad_cpl == 1);
    HCHECK(res.ring3_rc == -HVC_EPERM);
    /* Guest 0 -> hypervisor peer -> guest 0, guest 0 <-> read-only guest,
     * the stop notice to the read-only guest. */
    HCHECK(hv.stats.injected >= 3 * ROUNDS + 1);
    HCHECK(ro.pongs == ROUNDS);
    HCHECK(exits_vmmcall > ROUNDS);
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint64_t x = res.rt_cycles[i];
        uint32_t j = i;

        for (; j > 0 && sorted[j - 1] > x; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = x;
    }
    rt_printf("hv: %lu VMMCALL exits, %lu HLT exits; library: %lu calls, %lu refused "
              "(peer %lu, vector %lu, func %lu, cpl %lu), %lu injected\n",
              exits_vmmcall, exits_hlt, hv.stats.calls, hv.stats.errors, hv.stats.bad_peer,
              hv.stats.bad_vector, hv.stats.bad_func, hv.stats.bad_cpl, hv.stats.injected);
    rt_printf("hv: ring: %u messages intact from the guest\n", (unsigned)hp.received);
    {
        uint64_t med = sorted[ROUNDS / 2] * 1000000u / tsc_khz, lo = sorted[0] * 1000000u / tsc_khz;

        /* ns from TSC cycles, calibrated against the PIT. */
        uint64_t call = res.call_cycles * 1000000u / tsc_khz;

        rt_printf("x86hv figure: path=vmmcall-svm-tcg round_trip_us median=%lu.%lu min=%lu.%lu "
                  "n=%u vmmcall_exit_us=%lu.%lu (TSC %lu kHz, QEMU TCG)\n",
                  med / 1000, med % 1000 / 100, lo / 1000, lo % 1000 / 100, (unsigned)ROUNDS,
                  call / 1000, call % 1000 / 100, tsc_khz);
    }
    {
        uint64_t gs[ROUNDS], med, lo;

        for (uint32_t i = 0; i < ROUNDS; i++) {
            uint64_t x = res.gg_cycles[i];
            uint32_t j = i;

            for (; j > 0 && gs[j - 1] > x; j--)
                gs[j] = gs[j - 1];
            gs[j] = x;
        }
        med = gs[ROUNDS / 2] * 1000000u / tsc_khz;
        lo = gs[0] * 1000000u / tsc_khz;
        rt_printf("x86hv figure: path=vmmcall-svm-tcg-guest2guest round_trip_us median=%lu.%lu "
                  "min=%lu.%lu n=%u (guest 0 <-> read-only guest, one vCPU, QEMU TCG)\n",
                  med / 1000, med % 1000 / 100, lo / 1000, lo % 1000 / 100, (unsigned)ROUNDS);
    }
    rt_printf("hv: %s\n", ok ? "PASS" : "FAIL");
    return ok ? SVM_PASS : SVM_FAIL;
}
