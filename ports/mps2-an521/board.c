/*
 * mps2-an521: two Cortex-M33 (secure) in the SSE-200. CPU 1 is released
 * by CPU 0 through the SSE-200 system control registers; doorbells through
 * MHU0 (NVIC IRQ 6 on both CPUs); time from SysTick (1 ms interrupts at
 * the 20 MHz system clock: the tick also ends every WFI, so the alarm hook
 * has nothing to do); output and exit by semihosting.
 */
#include "../bm-common/board.h"

#define SYSCLK_HZ 20000000u
#define TICK_RELOAD (SYSCLK_HZ / 1000u - 1u)
#define NS_PER_CLK 50u
#define MHU0 ((uintptr_t)0x50003000u)
#define INITSVTOR1 ((uintptr_t)0x50021114u)
#define CPUWAIT ((uintptr_t)0x50021118u)
#define CPUID ((uintptr_t)0x4001F000u)
#define SYST_CSR ((uintptr_t)0xE000E010u)
#define SYST_RVR ((uintptr_t)0xE000E014u)
#define SYST_CVR ((uintptr_t)0xE000E018u)
#define ICSR ((uintptr_t)0xE000ED04u)
#define NVIC_ISER0 ((uintptr_t)0xE000E100u)
#define SHCSR ((uintptr_t)0xE000ED24u)
#define IRQ_MHU0 6u

const uint32_t board_ncores = 2;
const char board_name[] = "mps2-an521 (SSE-200 MHU)";
const struct hvc_baremetal_region board_regions[] = {
    {"shm0", 0x38000000u, 0x40000}, {"shm1", 0x38040000u, 0x40000},
    {"shm2", 0x38080000u, 0x40000}, {"shm3", 0x380c0000u, 0x40000},
};
const uint32_t board_nregions = 4;
const uintptr_t board_ctrl_base = 0x38100000u;

struct hvc_baremetal *volatile board_bm[2];
static struct hvc_mhu_ctx mhu = {.base = MHU0};
static uint32_t out_lock;
static volatile uint32_t ticks[2];
static uint64_t last_ns[2]; /* board_now_ns(): the last value per core */

static inline void w32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t r32(uintptr_t a) { return *(volatile uint32_t *)a; }

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;

    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_puts(const char *s)
{
    while (__atomic_exchange_n(&out_lock, 1, __ATOMIC_ACQUIRE))
        ;
    semihost(0x04, s); /* SYS_WRITE0 */
    __atomic_store_n(&out_lock, 0, __ATOMIC_RELEASE);
}

_Noreturn void board_exit(int code)
{
    static volatile uint32_t block[2];

    block[0] = 0x20026; /* ADP_Stopped_ApplicationExit */
    block[1] = (uint32_t)code;
    semihost(0x20, (const void *)block); /* SYS_EXIT_EXTENDED */
    for (;;)
        __asm__ volatile("wfi");
}

uint32_t board_core(void)
{
    return r32(CPUID) & 1u;
}

uint64_t board_now_ns(void)
{
    uint32_t c = board_core(), t1, t2, p1, p2, cvr;
    uint64_t ns;

    /* A wrap whose interrupt has not run yet (masked) shows as PENDSTSET:
     * count it, and retry if the tick or the pending bit moved meanwhile. */
    do {
        t1 = ticks[c];
        p1 = r32(ICSR) & (1u << 26);
        cvr = r32(SYST_CVR);
        p2 = r32(ICSR) & (1u << 26);
        t2 = ticks[c];
    } while (t1 != t2 || p1 != p2);
    ns = ((uint64_t)t1 + (p1 ? 1u : 0u)) * 1000000u + (uint64_t)(TICK_RELOAD - cvr) * NS_PER_CLK;
    /* Never backwards. Under QEMU a reading once came out below an earlier
     * one (a 60 s deadline "passed" 3 s into a run, by unsigned
     * subtraction): the counter, the pending bit and the tick count are
     * three reads, and the emulated wrap is not atomic with them. Hold the
     * clock still until the tick catches up. */
    if (ns < last_ns[c])
        ns = last_ns[c];
    last_ns[c] = ns;
    return ns;
}

static uint64_t now_hook(void *ctx)
{
    (void)ctx;
    return board_now_ns();
}

/* The 1 ms SysTick interrupt ends every WFI: nothing to arm. */
static int alarm_hook(void *ctx, uint64_t deadline_ns)
{
    (void)ctx;
    (void)deadline_ns;
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
        .doorbell = doorbells ? hvc_doorbell_mhu() : NULL,
        .doorbell_ctx = &mhu,
        .timer = {.now_ns = now_hook, .alarm = doorbells ? alarm_hook : NULL},
    };
}

void board_raw_ring(uint32_t peer)
{
    __asm__ volatile("dmb" ::: "memory");
    w32(MHU0 + (peer == 0 ? 0x04u : 0x14u), 1u);
}

void board_irq_on(void)
{
    __asm__ volatile("cpsie i" ::: "memory");
}

/* ---- vectors and handlers ---- */

extern char __stack0_top[], __stack1_top[], __bss_start[], __bss_end[];
void reset0(void);
static void reset1(void);

static void systick(void)
{
    ticks[board_core()]++;
}

static void mhu_irq(void)
{
    uint32_t c = board_core();

    if (board_bm[c] != NULL)
        hvc_baremetal_irq(board_bm[c], 0);
    else
        w32(MHU0 + (c == 0 ? 0x08u : 0x18u), ~0u); /* CLR */
}

static void fault(void)
{
    uint32_t ipsr, *sp;

    __asm__ volatile("mrs %0, ipsr\n\tmrs %1, msp" : "=r"(ipsr), "=r"(sp));
    board_fault("exception", ipsr, sp[6]); /* stacked pc */
}

typedef void (*vec_fn)(void);
#define VECTORS(top, reset)                                                     \
    {                                                                           \
        (vec_fn)(uintptr_t)(top), reset, fault, fault, fault, fault, fault,     \
            fault, 0, 0, 0, fault, fault, 0, fault, systick,                    \
            [16 + IRQ_MHU0] = mhu_irq,                                          \
    }
__attribute__((section(".vectors0"), used)) static const vec_fn vectors0[32] =
    VECTORS(__stack0_top, reset0);
__attribute__((section(".vectors1"), used)) static const vec_fn vectors1[32] =
    VECTORS(__stack1_top, reset1);

static void core_init(uint32_t c)
{
    ticks[c] = 0;
    w32(SHCSR, r32(SHCSR) | (0xfu << 16)); /* own handlers for the faults */
    w32(SYST_RVR, TICK_RELOAD);
    w32(SYST_CVR, 0);
    w32(SYST_CSR, 7); /* processor clock, interrupt, enable */
    w32(NVIC_ISER0, 1u << IRQ_MHU0);
}

void board_start_core1(void)
{
    w32(INITSVTOR1, (uint32_t)(uintptr_t)vectors1);
    w32(CPUWAIT, r32(CPUWAIT) & ~2u);
}

void reset0(void)
{
    for (char *p = __bss_start; p < __bss_end; p++)
        *p = 0;
    core_init(0);
    board_main(0);
    for (;;)
        __asm__ volatile("wfi");
}

static void reset1(void)
{
    core_init(1);
    board_main(1);
    for (;;)
        __asm__ volatile("wfi");
}
