/*
 * aarch64 QEMU virt, GICv3, two Cortex-A53 at EL1: core 1 started with
 * PSCI CPU_ON over HVC, doorbells as SGI 1, the virtual timer (PPI 27)
 * for alarms, PL011 output, semihosting exit.
 */
#include "../bm-common/board.h"

#define UART ((uintptr_t)0x09000000u)
#define GICD ((uintptr_t)0x08000000u)
#define GICR ((uintptr_t)0x080A0000u)
#define GICR_STRIDE 0x20000u
#define SGI_DOORBELL 1u
#define PPI_VTIMER 27u

const uint32_t board_ncores = 2;
const char board_name[] = "aarch64 virt (GICv3 SGI)";
const struct hvc_baremetal_region board_regions[] = {
    {"shm0", 0x40400000u, 0x40000}, {"shm1", 0x40440000u, 0x40000},
    {"shm2", 0x40480000u, 0x40000}, {"shm3", 0x404c0000u, 0x40000},
};
const uint32_t board_nregions = 4;
const uintptr_t board_ctrl_base = 0x40500000u;

struct hvc_baremetal *volatile board_bm[2];
static struct hvc_gicv3_ctx gic = {.gicr_base = GICR, .gicr_stride = GICR_STRIDE,
                                   .sgi = SGI_DOORBELL};
static uint32_t out_lock;

static inline void w32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t r32(uintptr_t a) { return *(volatile uint32_t *)a; }

#define SYSREG_R(name, v) __asm__ volatile("mrs %0, " name : "=r"(v))
#define SYSREG_W(name, v) __asm__ volatile("msr " name ", %0\n\tisb" ::"r"((uint64_t)(v)))

void board_puts(const char *s)
{
    while (__atomic_exchange_n(&out_lock, 1, __ATOMIC_ACQUIRE))
        ;
    for (; *s; s++) {
        while (r32(UART + 0x18) & 0x20) /* TXFF */
            ;
        w32(UART, (uint8_t)*s);
    }
    __atomic_store_n(&out_lock, 0, __ATOMIC_RELEASE);
}

_Noreturn void board_exit(int code)
{
    static volatile uint64_t block[2];
    register uint64_t x0 __asm__("x0") = 0x18; /* SYS_EXIT */
    register uint64_t x1 __asm__("x1") = (uintptr_t)block;

    block[0] = 0x20026; /* ADP_Stopped_ApplicationExit */
    block[1] = (uint64_t)code;
    __asm__ volatile("hlt #0xf000" ::"r"(x0), "r"(x1) : "memory");
    for (;;)
        __asm__ volatile("wfi");
}

uint32_t board_core(void)
{
    uint64_t m;

    SYSREG_R("mpidr_el1", m);
    return (uint32_t)(m & 0xff);
}

static uint64_t freq(void)
{
    uint64_t f;

    SYSREG_R("cntfrq_el0", f);
    return f;
}

uint64_t board_now_ns(void)
{
    uint64_t c, f = freq();

    __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(c));
    return c / f * 1000000000u + c % f * 1000000000u / f;
}

static uint64_t now_hook(void *ctx)
{
    (void)ctx;
    return board_now_ns();
}

/* The virtual timer fires at the deadline; the handler disables it. */
static int alarm_hook(void *ctx, uint64_t deadline_ns)
{
    uint64_t f = freq();
    uint64_t ticks = deadline_ns / 1000000000u * f +
                     (deadline_ns % 1000000000u) * f / 1000000000u + 1;

    (void)ctx;
    SYSREG_W("cntv_cval_el0", ticks);
    SYSREG_W("cntv_ctl_el0", 1); /* enabled, not masked */
    return 0;
}

static int core_hook(void *ctx)
{
    (void)ctx;
    return (int)board_core();
}

void board_desc(struct hvc_baremetal_desc *d, bool doorbells)
{
    *d = (struct hvc_baremetal_desc){
        .regions = board_regions, .nregions = board_nregions, .ncores = 2,
        .peer_id = HVC_BAREMETAL_PEER_CORE, .core_id = core_hook,
        .doorbell = doorbells ? hvc_doorbell_gicv3() : NULL,
        .doorbell_ctx = &gic,
        .timer = {.now_ns = now_hook, .alarm = doorbells ? alarm_hook : NULL},
    };
}

void board_raw_ring(uint32_t peer)
{
    uint64_t v = (uint64_t)SGI_DOORBELL << 24 | (1u << peer);

    __asm__ volatile("dsb ish\n\tmsr S3_0_C12_C11_5, %0\n\tisb" ::"r"(v) : "memory");
}

void board_irq_on(void)
{
    __asm__ volatile("msr daifclr, #2" ::: "memory");
}

/* This core's redistributor and CPU interface: the doorbell SGI (also set
 * up by the driver's enable) and the virtual timer's PPI. */
static void gic_core_init(uint32_t core)
{
    uintptr_t r = GICR + core * GICR_STRIDE, sgi = r + 0x10000;

    w32(r + 0x14, r32(r + 0x14) & ~2u); /* WAKER.ProcessorSleep */
    while (r32(r + 0x14) & 4u)
        ;
    w32(sgi + 0x80, ~0u); /* IGROUPR0: group 1 */
    for (uint32_t i = 0; i < 32; i += 4)
        w32(sgi + 0x400 + i, 0x80808080u);
    w32(sgi + 0x100, (1u << SGI_DOORBELL) | (1u << PPI_VTIMER));
    SYSREG_W("S3_0_C12_C12_5", 1);   /* ICC_SRE_EL1.SRE */
    SYSREG_W("S3_0_C4_C6_0", 0xff);  /* ICC_PMR_EL1 */
    SYSREG_W("S3_0_C12_C12_7", 1);   /* ICC_IGRPEN1_EL1 */
}

extern char _start1[];

void board_start_core1(void)
{
    register uint64_t x0 __asm__("x0") = 0xC4000003u; /* PSCI CPU_ON (64) */
    register uint64_t x1 __asm__("x1") = 1;
    register uint64_t x2 __asm__("x2") = (uintptr_t)_start1;
    register uint64_t x3 __asm__("x3") = 0;

    __asm__ volatile("hvc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3) : "memory");
    if ((int64_t)x0 != 0)
        board_fault("PSCI CPU_ON", x0, 0);
}

void board_irq(void);
void board_irq(void)
{
    uint64_t iar;
    uint32_t id, core = board_core();

    SYSREG_R("S3_0_C12_C12_0", iar); /* ICC_IAR1_EL1 */
    id = (uint32_t)(iar & 0xffffff);
    if (id >= 1020)
        return; /* spurious */
    if (id == PPI_VTIMER)
        SYSREG_W("cntv_ctl_el0", 0);
    else if (id == SGI_DOORBELL && board_bm[core] != NULL)
        hvc_baremetal_irq(board_bm[core], id);
    SYSREG_W("S3_0_C12_C12_1", iar); /* ICC_EOIR1_EL1 */
}

void board_exc(uint64_t esr, uint64_t elr);
void board_exc(uint64_t esr, uint64_t elr)
{
    board_fault("exception", (uintptr_t)esr, (uintptr_t)elr);
}

void board_entry(uint64_t core);
void board_entry(uint64_t core)
{
    if (core == 0)
        w32(GICD, (1u << 4) | 3u); /* ARE, group 0 and 1 */
    gic_core_init((uint32_t)core);
    board_main((uint32_t)core);
    for (;;)
        __asm__ volatile("wfi");
}
