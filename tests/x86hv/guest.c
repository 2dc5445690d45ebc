/*
 * The guest program of the x86hv test VMM: an x86-64 bare-metal hvcomm
 * peer. Its role and scenario come from the boot block the VMM wrote
 * (scenario.h); results go back into it, pass/fail through isa-debug-exit.
 * Loops are short: this machine's KVM emulates guest code.
 */
#include <hvcomm/hvcomm.h>
#include <hvcomm/x86hv.h>

#include "rt.h"
#include "scenario.h"

static struct bootinfo *const bi = (struct bootinfo *)(uintptr_t)GPA_BOOTINFO;
static struct hvc_region region;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            rt_printf("guest %u: check failed line %d: %s\n",                \
                      (unsigned)bi->role, __LINE__, #cond);                   \
            bi->fails++;                                                      \
        }                                                                     \
    } while (0)

#define MUST(expr)                                                            \
    do {                                                                      \
        int must_rc_ = (expr);                                                \
        if (must_rc_ < 0) {                                                   \
            rt_printf("guest %u: %s -> %s (line %d)\n", (unsigned)bi->role,  \
                      #expr, hvc_errname(must_rc_), __LINE__);                \
            bi->fails++;                                                      \
            return GUEST_FAIL;                                                \
        }                                                                     \
    } while (0)

void rt_irq(uint32_t vector)
{
    if (bi->pic) {
        hvc_x86hv_irq(vector);
        rt_pic_eoi();
    } else if (vector != VEC_TICK) {
        hvc_x86hv_irq(vector);
    }
}

static uint64_t now(void)
{
    return hvc_platform_now(hvc_region_platform(&region));
}

/* Wait until peer `id` is READY: the observable "ready" of the others. */
static int wait_ready(uint32_t id)
{
    struct hvc_peer_info pi;
    uint64_t end = now() + 20000000000ull;

    do {
        if (hvc_peer_info(&region, id, &pi) == 0 && pi.state == HVC_PEER_READY)
            return 0;
        hvc_cpu_relax();
    } while (now() < end);
    rt_printf("guest %u: peer %u never ready\n", (unsigned)bi->role, (unsigned)id);
    return -HVC_ETIMEDOUT;
}

static uint32_t fnv(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;

    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static int events(void)
{
    struct hvc_event ping, pong;
    uint32_t rounds = bi->rounds;

    MUST(hvc_event_open(&region, "ping", 0, NULL, &ping));
    MUST(hvc_event_open(&region, "pong", 0, NULL, &pong));
    /* Sleep at once: the spin would only burn emulated instructions. */
    hvc_event_set_spin(&ping, 0);
    hvc_event_set_spin(&pong, 0);
    if (bi->role == ROLE_A) {
        MUST(wait_ready(ROLE_B));
        for (uint32_t i = 0; i < rounds; i++) {
            uint64_t t0 = now();

            if (i == 0) {
                /* The first signal goes to a sleeping B, so the sleep and
                 * doorbell path is exercised whatever the scheduling: wait
                 * until B is registered as a sleeper (observable), bounded. */
                struct hvc_event_stats es;
                uint64_t end = now() + 20000000000ull;

                while (hvc_event_stats(&region, &ping.obj, &es) == 0 && es.sleepers == 0 &&
                       es.waiters == 0 && now() < end)
                    hvc_cpu_relax();
                t0 = now();
            }
            MUST(hvc_event_signal(&ping));
            MUST(hvc_event_wait(&pong, 20000000000ll));
            bi->rt_ns[i] = now() - t0;
        }
    } else {
        for (uint32_t i = 0; i < rounds; i++) {
            MUST(hvc_event_wait(&ping, 20000000000ll));
            if (i == 0) {
                /* Likewise A sleeps on pong once (its own check below). */
                struct hvc_event_stats es;
                uint64_t end = now() + 20000000000ull;

                while (hvc_event_stats(&region, &pong.obj, &es) == 0 && es.sleepers == 0 &&
                       es.waiters == 0 && now() < end)
                    hvc_cpu_relax();
            }
            MUST(hvc_event_signal(&pong));
        }
    }
    CHECK(ping.sleep_calls + pong.sleep_calls > 0);
    return GUEST_OK;
}

/* Raw doorbells: A rings B, B rings back. Through the PIC and irqfd when
 * bi->pic, through the VMM otherwise. */
static int doorbells(void)
{
    struct hvc_platform_handle *h = hvc_region_platform(&region);
    uint32_t other = bi->role == ROLE_A ? ROLE_B : ROLE_A, vec;

    MUST(wait_ready(other));
    for (uint32_t i = 0; i < bi->rounds; i++) {
        uint64_t t0 = now();

        if (bi->role == ROLE_A)
            MUST(hvc_platform_notify(h, other, 0));
        MUST(hvc_platform_wait_notify(h, HVC_FOREVER, &vec));
        CHECK(vec == 0);
        if (bi->role == ROLE_B)
            MUST(hvc_platform_notify(h, other, 0));
        else
            bi->rt_ns[i] = now() - t0;
    }
    return GUEST_OK;
}

/* The baseline: one shared word each way, polled. */
static int polling(void)
{
    struct hvc_obj o;
    uint32_t *w;

    MUST(hvc_obj_open(&region, "poll", HVC_OBJ_RAW, &o));
    w = o.ptr;
    MUST(wait_ready(bi->role == ROLE_A ? ROLE_B : ROLE_A));
    for (uint32_t i = 1; i <= bi->rounds; i++) {
        uint64_t t0 = now();

        if (bi->role == ROLE_A) {
            hvc_store_release(&w[0], i);
            while (hvc_load_acquire(&w[16]) != i)
                hvc_cpu_relax();
            bi->rt_ns[i - 1] = now() - t0;
        } else {
            while (hvc_load_acquire(&w[0]) != i)
                hvc_cpu_relax();
            hvc_store_release(&w[16], i);
        }
    }
    return GUEST_OK;
}

static int ring_stream(void)
{
    struct hvc_ring ring;
    uint8_t msg[RING_MSG];

    if (bi->role == ROLE_A) {
        MUST(hvc_ring_open(&ring, &region, "stream", HVC_RING_PRODUCER));
        for (uint32_t i = 0; i < bi->rounds; i++) {
            for (uint32_t k = 4; k < RING_MSG - 4; k++)
                msg[k] = (uint8_t)(i * 7 + k);
            __builtin_memcpy(msg, &i, 4);
            uint32_t c = fnv(msg, RING_MSG - 4);
            __builtin_memcpy(msg + RING_MSG - 4, &c, 4);
            MUST(hvc_ring_send_wait(&ring, msg, RING_MSG, 20000000000ll));
            bi->sum += c;
        }
        bi->count = bi->rounds;
    } else {
        MUST(hvc_ring_open(&ring, &region, "stream", HVC_RING_CONSUMER));
        for (uint32_t i = 0; i < bi->rounds; i++) {
            uint32_t seq, c;
            int n = hvc_ring_recv_wait(&ring, msg, sizeof(msg), 20000000000ll);

            MUST(n);
            __builtin_memcpy(&seq, msg, 4);
            __builtin_memcpy(&c, msg + RING_MSG - 4, 4);
            if (n != (int)RING_MSG || seq != i || c != fnv(msg, RING_MSG - 4)) {
                bi->bad++;
                continue;
            }
            bi->count++;
            bi->sum += c;
        }
    }
    return GUEST_OK;
}

static int rdonly_writer(void)
{
    struct hvc_obj o;
    uint32_t *w;

    MUST(hvc_obj_open(&region, "board", HVC_OBJ_RAW, &o));
    w = o.ptr;
    for (uint32_t i = 1; i < 16; i++)
        w[i] = 0xc0de0000u + i;
    /* The flag last: pairs with the reader's acquire. */
    hvc_store_release(&w[0], 1);
    return GUEST_OK;
}

static int rdonly_reader(void)
{
    struct hvc_obj o;
    volatile uint32_t *w;
    uint64_t end;

    MUST(hvc_obj_open(&region, "board", HVC_OBJ_RAW, &o));
    w = o.ptr;
    end = now() + 20000000000ull;
    while (hvc_load_acquire((const uint32_t *)&w[0]) != 1 && now() < end)
        hvc_cpu_relax();
    CHECK(w[0] == 1);
    for (uint32_t i = 1; i < 16; i++)
        CHECK(w[i] == 0xc0de0000u + i);
    /* Try to write: the store must become an MMIO exit, not a change. */
    bi->ro_addr = (uint64_t)(uintptr_t)&w[5];
    bi->ro_before = w[5];
    w[5] = 0xbad0bad0u;
    bi->ro_after = w[5];
    CHECK(bi->ro_after == bi->ro_before);
    /* And hvcomm refuses to join or map it writable. */
    CHECK(hvc_peer_join(&region, "ro") == -HVC_EINVAL);
    return GUEST_OK;
}

/* Bad requests; the others must carry on. A is READY (so its vectors are
 * set) from before our first request until after our last: it waits for
 * us to leave. */
static int bad_requests(void)
{
    uint64_t out[3];

    MUST(wait_ready(ROLE_A));
    for (uint32_t i = 0; i < bi->rounds; i++) {
        bi->err[0] = hvc_x86hv_call(HVC_HV_NOTIFY, 99, 0, NULL);
        bi->err[1] = hvc_x86hv_call(HVC_HV_NOTIFY, ROLE_A, 9, NULL);
        bi->err[2] = hvc_x86hv_call(HVC_HV_BASE + 42, 0, 0, NULL);
        bi->err[3] = hvc_x86hv_call(HVC_HV_REGION, 1, 0, out);
        bi->err[4] = hvc_x86hv_call(HVC_HV_SET_IRQ, 3, 1, NULL);
        bi->err[5] = hvc_x86hv_call(HVC_HV_PEER_ALIVE, 1000, 0, NULL);
        /* A doorbell register store to nobody: no result, only a counter. */
        rt_outl(PORT_BELL, HVC_HV_BELL(42, 0));
    }
    CHECK(bi->err[0] == -HVC_ENOENT);
    CHECK(bi->err[1] == -HVC_EINVAL);
    CHECK(bi->err[2] == -HVC_ENOTSUP);
    CHECK(bi->err[3] == -HVC_EINVAL);
    CHECK(bi->err[4] == -HVC_EINVAL);
    CHECK(bi->err[5] == -HVC_ENOENT);
    MUST(hvc_peer_leave(&region));
    return GUEST_OK;
}

static int gone(void)
{
    struct hvc_peer_info pi;
    uint64_t end;
    int n = 0;

    if (bi->role == ROLE_B) {
        /* Joined and READY: now idle until the VMM stops this VM. */
        for (;;)
            __asm__ __volatile__("sti; hlt; cli");
    }
    MUST(wait_ready(ROLE_B));
    /* B is alive: a scan keeps it. */
    CHECK(hvc_peer_scan(&region, 0) == 0);
    bi->stop_me = 1; /* the VMM stops B once it sees this */
    end = now() + 60000000000ull;
    while (n == 0 && now() < end) {
        n = hvc_peer_scan(&region, 0);
        if (n == 0)
            hvc_cpu_relax();
    }
    CHECK(n == 1);
    CHECK(hvc_peer_info(&region, ROLE_B, &pi) == 0 && pi.state == HVC_PEER_GONE);
    bi->gone_seen = pi.state == HVC_PEER_GONE;
    bi->gone_notify = (int32_t)hvc_x86hv_call(HVC_HV_NOTIFY, ROLE_B, 0, NULL);
    CHECK(bi->gone_notify == -HVC_EPEERGONE);
    return GUEST_OK;
}

int main(void)
{
    struct hvc_x86hv_config cfg;
    unsigned flags = 0;
    int rc, id;

    if (bi->magic != BOOT_MAGIC)
        return GUEST_FAIL;
    hvc_log_set(rt_log, NULL, HVC_LOG_WARN);
    hvc_x86hv_config_init(&cfg);
    cfg.method = HVC_X86HV_IO;
    cfg.call_port = PORT_CALL;
    cfg.bell_port = PORT_BELL;
    if (bi->pic) {
        /* Vector 0x21 is IRQ 1; unmask it before announcing READY. */
        cfg.irq_base = VEC_PIC + 1;
        cfg.irq_count = 1;
        rt_pic_init(VEC_PIC, 1u << 1);
    } else {
        cfg.irq_base = VEC_BELL;
        cfg.irq_count = 4;
        cfg.tick_ns = TICK_NS;
    }
    MUST(hvc_x86hv_configure(&cfg));
    if (bi->role == ROLE_C) {
        /* Read-only: hvcomm must refuse a writable mapping. */
        CHECK(hvc_region_attach(&region, hvc_platform_x86hv(), "x86hv", 0) ==
              -HVC_EACCES);
        flags = HVC_MAP_RDONLY;
    }
    MUST(hvc_region_attach(&region, hvc_platform_x86hv(), "x86hv", flags));
    bi->tsc_khz = 0;
    {
        uint64_t out[3];

        if (hvc_x86hv_call(HVC_HV_TSC_KHZ, 0, 0, out) == 0)
            bi->tsc_khz = out[0];
    }
    if (bi->role != ROLE_C) {
        if (bi->pic)
            rt_sti(); /* unmasked in the PIC and the CPU: now READY */
        static const char *const labels[] = {"guest-a", "guest-b", "guest-c", "guest-d"};

        id = hvc_peer_join(&region, labels[bi->role & 3]);
        MUST(id);
        CHECK(id == (int)bi->role);
    }
    if (bi->role == ROLE_A) {
        uint64_t t0 = now();

        for (int i = 0; i < 32; i++)
            rt_outb(PORT_NOP, 0);
        bi->out_ns = (now() - t0) / 32;
    }
    switch (bi->scenario) {
    case S_EVENTS:
        rc = events();
        break;
    case S_IRQFD:
    case S_BELLS:
        rc = doorbells();
        break;
    case S_POLL:
        rc = polling();
        break;
    case S_RING:
        rc = ring_stream();
        break;
    case S_RDONLY:
        rc = bi->role == ROLE_C ? rdonly_reader() : rdonly_writer();
        break;
    case S_BADREQ:
        if (bi->role == ROLE_D) {
            rc = bad_requests();
        } else {
            struct hvc_peer_info pi;

            /* A and B carry on while D misbehaves: A starts once D has
             * joined (its slot's epoch moved: D may even have left
             * already) and ends once D has left. */
            if (bi->role == ROLE_A) {
                uint64_t end = now() + 20000000000ull;

                while ((hvc_peer_info(&region, ROLE_D, &pi) != 0 || pi.epoch == 0) &&
                       now() < end)
                    hvc_cpu_relax();
                CHECK(pi.epoch != 0);
            }
            rc = events();
            while (bi->role == ROLE_A && hvc_peer_info(&region, ROLE_D, &pi) == 0 &&
                   pi.state == HVC_PEER_READY)
                hvc_cpu_relax();
        }
        break;
    case S_GONE:
        rc = gone();
        break;
    default:
        rc = GUEST_FAIL;
        break;
    }
    bi->done = 1;
    rt_printf("guest %u: scenario %u done, %u failed checks\n", (unsigned)bi->role,
              (unsigned)bi->scenario, (unsigned)bi->fails);
    return rc == GUEST_OK && bi->fails == 0 ? GUEST_OK : GUEST_FAIL;
}
