/*
 * riscv64 QEMU virt: two harts in M-mode, CLINT MSIP doorbells, mtime and
 * mtimecmp for time and alarms, 16550 UART, sifive_test finisher.
 */
#include "../bm-common/board.h"

#define UART ((uintptr_t)0x10000000u)
#define FINISHER ((uintptr_t)0x100000u)
#define CLINT ((uintptr_t)0x02000000u)
#define MTIMECMP(h) (CLINT + 0x4000u + 8u * (h))
#define MTIME (CLINT + 0xbff8u)

const uint32_t board_ncores = 2;
const char board_name[] = "riscv64 virt (CLINT MSIP)";
const struct hvc_baremetal_region board_regions[] = {
    {"shm0", 0x80400000u, 0x40000}, {"shm1", 0x80440000u, 0x40000},
    {"shm2", 0x80480000u, 0x40000}, {"shm3", 0x804c0000u, 0x40000},
};
const uint32_t board_nregions = 4;
const uintptr_t board_ctrl_base = 0x80500000u;

struct hvc_baremetal *volatile board_bm[2];
static struct hvc_clint_ctx clint = {.msip_base = CLINT, .nharts = 2};
static uint32_t out_lock;

static inline uint64_t rd64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void wr64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

void board_puts(const char *s)
{
    while (__atomic_exchange_n(&out_lock, 1, __ATOMIC_ACQUIRE))
        ;
    for (; *s; s++) {
        while (!(*(volatile uint8_t *)(UART + 5) & 0x20))
            ;
        *(volatile uint8_t *)UART = (uint8_t)*s;
    }
    __atomic_store_n(&out_lock, 0, __ATOMIC_RELEASE);
}

_Noreturn void board_exit(int code)
{
    *(volatile uint32_t *)FINISHER = code == 0 ? 0x5555u : ((uint32_t)code << 16) | 0x3333u;
    for (;;)
        __asm__ volatile("wfi");
}

uint32_t board_core(void)
{
    uintptr_t h;

    __asm__ volatile("csrr %0, mhartid" : "=r"(h));
    return (uint32_t)h;
}

uint64_t board_now_ns(void)
{
    return rd64(MTIME) * 100u; /* 10 MHz */
}

static uint64_t now_hook(void *ctx)
{
    (void)ctx;
    return board_now_ns();
}

/* Machine external interrupts (an AIA IMSIC, ports/riscv-virt/virt.h) go
 * to this hook when set; timer interrupts are counted. */
void (*volatile board_ext_irq)(void);
volatile uint32_t board_timer_irqs;

/* An interrupt at the deadline: mtimecmp, cleared by the handler. */
int board_alarm(void *ctx, uint64_t deadline_ns);
int board_alarm(void *ctx, uint64_t deadline_ns)
{
    (void)ctx;
    wr64(MTIMECMP(board_core()), deadline_ns / 100u + 1u);
    __asm__ volatile("csrs mie, %0" ::"r"(1ul << 7)); /* MTIE */
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
        .doorbell = doorbells ? hvc_doorbell_clint() : NULL,
        .doorbell_ctx = &clint,
        .timer = {.now_ns = now_hook, .alarm = doorbells ? board_alarm : NULL},
    };
}

void board_raw_ring(uint32_t peer)
{
    *(volatile uint32_t *)(CLINT + 4u * peer) = 1;
}

void board_irq_on(void)
{
    __asm__ volatile("csrsi mstatus, 8");
}

void board_start_core1(void)
{
}

void board_trap(uintptr_t cause, uintptr_t epc);
void board_trap(uintptr_t cause, uintptr_t epc)
{
    if ((intptr_t)cause >= 0)
        board_fault("exception", cause, epc);
    switch (cause & 0xff) {
    case 3: /* machine software interrupt: a doorbell */
        if (board_bm[board_core()] != NULL)
            hvc_baremetal_irq(board_bm[board_core()], 0);
        else
            *(volatile uint32_t *)(CLINT + 4u * board_core()) = 0;
        break;
    case 7: /* machine timer: the alarm fired; disarm it */
        wr64(MTIMECMP(board_core()), ~0ull);
        board_timer_irqs++;
        break;
    case 11: /* machine external interrupt */
        if (board_ext_irq == NULL)
            board_fault("external interrupt", cause, epc);
        board_ext_irq();
        break;
    default:
        board_fault("interrupt", cause, epc);
    }
}

void board_entry(uintptr_t hart);
void board_entry(uintptr_t hart)
{
    wr64(MTIMECMP(hart), ~0ull);
    if (hart >= 2)
        for (;;)
            __asm__ volatile("wfi");
    board_main((uint32_t)hart);
    for (;;)
        __asm__ volatile("wfi");
}
