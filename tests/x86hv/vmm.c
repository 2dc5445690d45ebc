/*
 * A test VMM over /dev/kvm (tests only, not a product): two to three VMs
 * share one memfd as a memory slot, each runs the x86-64 bare-metal guest
 * of guest.c with hvcomm, and the VMM serves their requests with the
 * hypervisor-side library (src/hv).
 *
 * Paths: a guest's OUT to the call or doorbell port exits here, the library
 * validates it and calls inject(), which queues the vector for the target
 * VM and kicks its thread; the target takes it with KVM_INTERRUPT once it
 * can (after its HLT exit, or when its interrupt window opens). In the
 * irqfd scenario the doorbell never leaves the kernel: one eventfd is a
 * KVM_IOEVENTFD (port, datamatch on the doorbell value) in one VM and a
 * KVM_IRQFD (GSI 1, the 8259's IRQ 1) in the other.
 *
 * Every KVM_RUN runs under a watchdog (a per-thread SIGALRM timer: this
 * machine's KVM livelocks on VMCALL/VMMCALL, which the guests never issue),
 * every exit is named, and a VM that exits any unexpected way fails the
 * test. Usage: vmm GUEST.bin SCENARIO (events|irqfd|poll|ring|rdonly|
 * badreq|gone|bells); exit 0 pass, 1 fail, 77 skip.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <hvcomm/hv.h>
#include <hvcomm/hvcomm.h>

#include "scenario.h"

#define WATCHDOG_S 30   /* one KVM_RUN without an exit */
#define DEADLINE_S 300  /* the whole scenario, a failure bound only */
#define QLEN 64

struct vm {
    int idx, role, pic, rdonly;
    int fd, vcpu;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *ram;
    struct bootinfo *bi;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t q[QLEN];
    unsigned qh, qt;
    int in_run;
    volatile int stop;     /* asked to stop (the "gone" scenario) */
    int finished;          /* thread is done */
    int result;            /* guest's exit code, -1 stopped, -2 VMM error */
    char line[256];
    size_t linelen;
    uint64_t exits[40];
    uint64_t io_call, io_bell, mmio_ro, injected, ticks;
    uint64_t ro_addr, ro_value;
};

static struct vm vms[4];
static int nvms;
static struct hvc_hv hv;
static struct hvc_hv_guest guests[4];
static pthread_mutex_t hv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static uint8_t *shared;
static const char *vm_names[] = {"A", "B", "C", "D"};
static __thread struct kvm_run *cur_run;
static __thread volatile sig_atomic_t wd_fired;

static const char *exit_name(uint32_t r)
{
    static const char *const n[] = {
        "UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT", "MMIO",
        "IRQ_WINDOW_OPEN", "SHUTDOWN", "FAIL_ENTRY", "INTR", "SET_TPR",
        "TPR_ACCESS", "S390_SIEIC", "S390_RESET", "DCR", "NMI",
        "INTERNAL_ERROR", "OSI", "PAPR_HCALL", "S390_UCONTROL", "WATCHDOG",
        "S390_TSCH", "EPR", "SYSTEM_EVENT", "S390_STSI", "IOAPIC_EOI",
        "HYPERV", "ARM_NISV", "X86_RDMSR", "X86_WRMSR", "DIRTY_RING_FULL",
        "AP_RESET_HOLD", "X86_BUS_LOCK", "XEN", "RISCV_SBI", "RISCV_CSR",
        "NOTIFY"};

    return r < sizeof(n) / sizeof(n[0]) ? n[r] : "?";
}

static void vmlog(struct vm *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vmlog(struct vm *v, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "[vmm %s] ", vm_names[v->role]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
    if (sig == SIGALRM)
        wd_fired = 1;
    if (cur_run != NULL)
        cur_run->immediate_exit = 1;
}

/* ---- the hypervisor callbacks ---- */

static int vmm_inject(void *ctx, void *vmp, uint32_t vcpu, uint32_t vector)
{
    struct vm *t = vmp;
    int kick;

    (void)ctx;
    (void)vcpu;
    if (t->pic) {
        /* An in-kernel 8259: pulse its IRQ 1 (the vector is the PIC's). */
        struct kvm_irq_level l = {.irq = 1, .level = 1};

        if (ioctl(t->fd, KVM_IRQ_LINE, &l) < 0)
            return -HVC_EIO;
        l.level = 0;
        ioctl(t->fd, KVM_IRQ_LINE, &l);
        return 0;
    }
    pthread_mutex_lock(&t->mu);
    if (t->qt - t->qh >= QLEN || t->finished) {
        pthread_mutex_unlock(&t->mu);
        return -HVC_ENOSPC;
    }
    t->q[t->qt++ % QLEN] = vector;
    kick = t->in_run;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (kick)
        pthread_kill(t->th, SIGUSR1);
    return 0;
}

static const struct hvc_hv_ops vmm_ops = {.inject = vmm_inject};

/* ---- one VM ---- */

static int fail(struct vm *v, const char *what)
{
    vmlog(v, "%s: %s", what, strerror(errno));
    return -1;
}

static int vm_create(int kvm, struct vm *v, const uint8_t *img, size_t img_len,
                     int memfd)
{
    struct kvm_userspace_memory_region ram = {0}, shm = {0};
    struct kvm_sregs sregs;
    struct kvm_regs regs = {0};
    struct kvm_cpuid2 *cpuid;
    struct kvm_segment cs = {.base = 0, .limit = 0xffffffff, .selector = 0x08,
                             .type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1,
                             .l = 1, .g = 1};
    struct kvm_segment ds = cs;
    uint64_t *pt;
    int n;

    v->fd = ioctl(kvm, KVM_CREATE_VM, 0);
    if (v->fd < 0)
        return fail(v, "KVM_CREATE_VM");
    if (ioctl(v->fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0)
        return fail(v, "KVM_SET_TSS_ADDR");
    if (v->pic && ioctl(v->fd, KVM_CREATE_IRQCHIP, 0) < 0)
        return fail(v, "KVM_CREATE_IRQCHIP");
    v->ram = mmap(NULL, GPA_RAM_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (v->ram == MAP_FAILED)
        return fail(v, "mmap ram");
    ram = (struct kvm_userspace_memory_region){
        .slot = 0, .guest_phys_addr = 0, .memory_size = GPA_RAM_SIZE,
        .userspace_addr = (uint64_t)(uintptr_t)v->ram};
    if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &ram) < 0)
        return fail(v, "KVM_SET_USER_MEMORY_REGION ram");
    /* The region: one memfd, mapped in every VM, read-only for some. */
    (void)memfd;
    shm = (struct kvm_userspace_memory_region){
        .slot = 1, .flags = v->rdonly ? KVM_MEM_READONLY : 0,
        .guest_phys_addr = GPA_REGION, .memory_size = REGION_SIZE,
        .userspace_addr = (uint64_t)(uintptr_t)shared};
    if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &shm) < 0)
        return fail(v, "KVM_SET_USER_MEMORY_REGION shared");

    /* Identity map: 0..2 MiB and the region's 2 MiB, 2 MiB pages. */
    pt = (uint64_t *)(void *)(v->ram + 0x1000);
    pt[0] = 0x2003;
    pt = (uint64_t *)(void *)(v->ram + 0x2000);
    pt[0] = 0x3003;
    pt[1] = 0x4003;
    ((uint64_t *)(void *)(v->ram + 0x3000))[0] = 0x83;
    ((uint64_t *)(void *)(v->ram + 0x4000))[0] = GPA_REGION | 0x83;
    pt = (uint64_t *)(void *)(v->ram + 0x500);
    pt[0] = 0;
    pt[1] = 0x00af9a000000ffffull;
    pt[2] = 0x00cf92000000ffffull;
    if (img_len > GPA_RAM_SIZE - GPA_IMAGE - 0x20000) {
        errno = EFBIG;
        return fail(v, "image");
    }
    memcpy(v->ram + GPA_IMAGE, img, img_len);
    v->bi = (struct bootinfo *)(void *)(v->ram + GPA_BOOTINFO);

    v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
    if (v->vcpu < 0)
        return fail(v, "KVM_CREATE_VCPU");
    v->run_size = (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
    if (v->run == MAP_FAILED)
        return fail(v, "mmap kvm_run");
    n = 100;
    cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
    cpuid->nent = (uint32_t)n;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
        ioctl(v->vcpu, KVM_SET_CPUID2, cpuid) < 0) {
        free(cpuid);
        return fail(v, "CPUID");
    }
    free(cpuid);
    if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0)
        return fail(v, "KVM_GET_SREGS");
    ds.selector = 0x10;
    ds.type = 3;
    ds.l = 0;
    ds.db = 1;
    sregs.cs = cs;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
    sregs.tr = (struct kvm_segment){.limit = 0x67, .type = 11, .present = 1};
    sregs.gdt.base = 0x500;
    sregs.gdt.limit = 23;
    sregs.cr0 = 0x80000011;
    sregs.cr3 = 0x1000;
    sregs.cr4 = 0x20;
    sregs.efer = 0x500;
    if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0)
        return fail(v, "KVM_SET_SREGS");
    regs.rip = GPA_IMAGE;
    regs.rsp = 0x8000;
    regs.rflags = 2;
    if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
        return fail(v, "KVM_SET_REGS");
    return 0;
}

static int serve_call(struct vm *v, int bell, uint32_t value)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct hvc_hv_regs r;
    int rc;

    if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0)
        return fail(v, "KVM_GET_SREGS");
    if (bell) {
        v->io_bell++;
        pthread_mutex_lock(&hv_mu);
        rc = hvc_hv_doorbell(&hv, (uint32_t)v->idx, value, sregs.cs.selector & 3);
        pthread_mutex_unlock(&hv_mu);
        (void)rc; /* a store has no result: the library counted it */
        return 0;
    }
    v->io_call++;
    if (ioctl(v->vcpu, KVM_GET_REGS, &regs) < 0)
        return fail(v, "KVM_GET_REGS");
    r = (struct hvc_hv_regs){.rax = regs.rax, .rbx = regs.rbx, .rcx = regs.rcx,
                             .rsi = regs.rsi, .cpl = sregs.cs.selector & 3u};
    pthread_mutex_lock(&hv_mu);
    hvc_hv_call(&hv, (uint32_t)v->idx, &r);
    pthread_mutex_unlock(&hv_mu);
    regs.rax = r.rax;
    regs.rbx = r.rbx;
    regs.rcx = r.rcx;
    regs.rsi = r.rsi;
    /* RIP unchanged: KVM completes the OUT on the next KVM_RUN. */
    if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
        return fail(v, "KVM_SET_REGS");
    return 0;
}

/* 1: the guest finished (v->result set), 0: go on, -1: error. */
static int on_io(struct vm *v)
{
    struct kvm_run *run = v->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    uint32_t val = 0;

    if (run->io.direction != KVM_EXIT_IO_OUT) {
        vmlog(v, "unexpected IN from port %#x", run->io.port);
        return -1;
    }
    if (run->io.size == 4)
        memcpy(&val, data, 4);
    switch (run->io.port) {
    case PORT_SERIAL:
        for (uint32_t i = 0; i < run->io.count; i++) {
            char c = (char)data[i * run->io.size];

            if (c == '\n' || v->linelen == sizeof(v->line) - 1) {
                v->line[v->linelen] = '\0';
                vmlog(v, "serial: %s", v->line);
                v->linelen = 0;
            } else {
                v->line[v->linelen++] = c;
            }
        }
        return 0;
    case PORT_NOP:
        return 0;
    case PORT_EXIT:
        v->result = (int)val;
        return 1;
    case PORT_CALL:
    case PORT_BELL:
        if (run->io.size != 4 || run->io.count != 1) {
            vmlog(v, "bad access size %u count %u to port %#x", run->io.size,
                  run->io.count, run->io.port);
            return -1;
        }
        return serve_call(v, run->io.port == PORT_BELL, val) < 0 ? -1 : 0;
    default:
        vmlog(v, "OUT to unexpected port %#x", run->io.port);
        return -1;
    }
}

static int on_mmio(struct vm *v)
{
    struct kvm_run *run = v->run;
    uint64_t a = run->mmio.phys_addr;

    if (v->rdonly && run->mmio.is_write && a >= GPA_REGION &&
        a + run->mmio.len <= GPA_REGION + REGION_SIZE) {
        /* A read-only guest's store: dropped, never reaches the region. */
        v->mmio_ro++;
        v->ro_addr = a;
        memcpy(&v->ro_value, run->mmio.data, run->mmio.len <= 8 ? run->mmio.len : 8);
        return 0;
    }
    vmlog(v, "unexpected MMIO %s at %#llx len %u", run->mmio.is_write ? "write" : "read",
          (unsigned long long)a, run->mmio.len);
    return -1;
}

static void watchdog_arm(timer_t t, int on)
{
    struct itimerspec its = {.it_value = {.tv_sec = on ? WATCHDOG_S : 0}};

    timer_settime(t, 0, &its, NULL);
}

static int vm_loop(struct vm *v)
{
    struct kvm_run *run = v->run;
    struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM};
    timer_t wd;
    int rc;

    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_MONOTONIC, &sev, &wd) < 0)
        return fail(v, "timer_create");
    cur_run = run;
    for (;;) {
        pthread_mutex_lock(&v->mu);
        if (v->stop) {
            pthread_mutex_unlock(&v->mu);
            timer_delete(wd);
            return 1;
        }
        if (!v->pic && v->qh != v->qt) {
            if (run->ready_for_interrupt_injection && run->if_flag) {
                struct kvm_interrupt irq = {.irq = v->q[v->qh++ % QLEN]};

                if (ioctl(v->vcpu, KVM_INTERRUPT, &irq) < 0) {
                    pthread_mutex_unlock(&v->mu);
                    return fail(v, "KVM_INTERRUPT");
                }
                v->injected++;
            }
            run->request_interrupt_window = v->qh != v->qt;
        } else {
            run->request_interrupt_window = 0;
        }
        v->in_run = 1;
        pthread_mutex_unlock(&v->mu);

        watchdog_arm(wd, 1);
        rc = ioctl(v->vcpu, KVM_RUN, 0);
        watchdog_arm(wd, 0);
        pthread_mutex_lock(&v->mu);
        v->in_run = 0;
        pthread_mutex_unlock(&v->mu);
        run->immediate_exit = 0;
        if (rc < 0 && errno == EINTR) {
            if (wd_fired) {
                struct kvm_regs regs;

                ioctl(v->vcpu, KVM_GET_REGS, &regs);
                vmlog(v, "watchdog: KVM_RUN did not return for %d s (rip %#llx)",
                      WATCHDOG_S, (unsigned long long)regs.rip);
                timer_delete(wd);
                return -1;
            }
            continue; /* a kick: look at the queue again */
        }
        if (rc < 0) {
            timer_delete(wd);
            return fail(v, "KVM_RUN");
        }
        if (run->exit_reason < 40)
            v->exits[run->exit_reason]++;
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            rc = on_io(v);
            break;
        case KVM_EXIT_MMIO:
            rc = on_mmio(v);
            break;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
        case KVM_EXIT_INTR:
            rc = 0;
            break;
        case KVM_EXIT_HLT: {
            /* Idle: wait for a doorbell, else give the idle tick. */
            struct timespec ts;
            uint64_t dl = now_ns() + TICK_NS;

            ts.tv_sec = (time_t)(dl / 1000000000u);
            ts.tv_nsec = (long)(dl % 1000000000u);
            pthread_mutex_lock(&v->mu);
            while (v->qh == v->qt && !v->stop &&
                   pthread_cond_timedwait(&v->cv, &v->mu, &ts) == 0)
                ;
            if (v->qh == v->qt && !v->stop && v->qt - v->qh < QLEN) {
                v->q[v->qt++ % QLEN] = VEC_TICK;
                v->ticks++;
            }
            pthread_mutex_unlock(&v->mu);
            rc = 0;
            break;
        }
        case KVM_EXIT_INTERNAL_ERROR:
            vmlog(v, "exit INTERNAL_ERROR suberror %u", run->internal.suberror);
            rc = -1;
            break;
        case KVM_EXIT_FAIL_ENTRY:
            vmlog(v, "exit FAIL_ENTRY reason %#llx",
                  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            rc = -1;
            break;
        default: {
            struct kvm_regs regs;

            ioctl(v->vcpu, KVM_GET_REGS, &regs);
            vmlog(v, "unexpected exit %s (%u) at rip %#llx", exit_name(run->exit_reason),
                  run->exit_reason, (unsigned long long)regs.rip);
            rc = -1;
            break;
        }
        }
        if (rc != 0) {
            timer_delete(wd);
            return rc;
        }
    }
}

static void *vm_thread(void *arg)
{
    struct vm *v = arg;
    int rc = vm_loop(v);

    pthread_mutex_lock(&v->mu);
    v->finished = 1;
    if (rc < 0)
        v->result = -2;
    else if (rc == 1 && v->stop)
        v->result = -1;
    pthread_mutex_unlock(&v->mu);
    pthread_mutex_lock(&hv_mu);
    hvc_hv_guest_stop(&hv, (uint32_t)v->idx);
    pthread_mutex_unlock(&hv_mu);
    pthread_mutex_lock(&done_mu);
    pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&done_mu);
    return NULL;
}

/* ---- the VMM's own view of the region ---- */

static int mem_map(const struct hvc_platform *p, void *state, const char *name,
                   uint64_t size, unsigned flags, struct hvc_mapping *out)
{
    (void)p, (void)state, (void)name, (void)size, (void)flags;
    out->base = shared;
    out->size = REGION_SIZE;
    return 0;
}

static int mem_unmap(const struct hvc_platform *p, void *state)
{
    (void)p, (void)state;
    return 0;
}

static int mem_self_id(const struct hvc_platform *p, void *state)
{
    (void)p, (void)state;
    return VMM_PEER;
}

static uint64_t mem_now(const struct hvc_platform *p)
{
    (void)p;
    return now_ns();
}

static const struct hvc_platform mem_platform = {
    .version = 1, .name = "vmm-mem", .map = mem_map, .unmap = mem_unmap,
    .self_id = mem_self_id, .now_ns = mem_now};

static int setup_region(struct hvc_region *r)
{
    struct hvc_region_config rc = {.size = REGION_SIZE, .max_peers = MAX_PEERS};
    struct hvc_ring ring;
    struct hvc_ring_attr ra = {.capacity = 1024, .max_msg = RING_MSG, .writer = ROLE_A,
                               .flags = HVC_RING_BLOCKING};
    struct hvc_obj_spec raw = {.name = "poll", .type = HVC_OBJ_RAW, .size = 128,
                               .writer = HVC_PEER_ANY};
    struct hvc_event ev;
    int rc2;

    if ((rc2 = hvc_region_format(r, &mem_platform, "x86hv", &rc)) < 0 ||
        (rc2 = hvc_peer_join(r, "vmm")) < 0 ||
        (rc2 = hvc_event_create(r, "ping", NULL, &ev)) < 0 ||
        (rc2 = hvc_event_create(r, "pong", NULL, &ev)) < 0 ||
        (rc2 = hvc_obj_create(r, &raw, NULL)) < 0 ||
        (raw.name = "board", (rc2 = hvc_obj_create(r, &raw, NULL)) < 0) ||
        (rc2 = hvc_ring_create(&ring, r, "stream", &ra)) < 0 ||
        (rc2 = hvc_peer_leave(r)) < 0) {
        fprintf(stderr, "vmm: region setup: %s\n", hvc_strerror(rc2));
        return -1;
    }
    return 0;
}

/* ---- scenarios ---- */

struct plan {
    const char *name;
    int scenario;
    int roles[4];
    int nroles;
    int pic;
    uint32_t rounds;
};

static const struct plan plans[] = {
    {"events", S_EVENTS, {ROLE_A, ROLE_B}, 2, 0, 20},
    {"irqfd", S_IRQFD, {ROLE_A, ROLE_B}, 2, 1, 20},
    {"bells", S_BELLS, {ROLE_A, ROLE_B}, 2, 0, 20},
    {"poll", S_POLL, {ROLE_A, ROLE_B}, 2, 0, 20},
    {"ring", S_RING, {ROLE_A, ROLE_B}, 2, 0, 300},
    {"rdonly", S_RDONLY, {ROLE_A, ROLE_C}, 2, 0, 1},
    {"badreq", S_BADREQ, {ROLE_A, ROLE_B, ROLE_D}, 3, 0, 10},
    {"gone", S_GONE, {ROLE_A, ROLE_B}, 2, 0, 1},
};

/* The VM of a role; a role missing from the plan falls back to VM 0 (the
 * checks of that role then fail instead of crashing). */
static struct vm *by_role(int role)
{
    for (int i = 0; i < nvms; i++)
        if (vms[i].role == role)
            return &vms[i];
    return &vms[0];
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void report_rt(const char *path, struct vm *a, uint32_t rounds)
{
    uint64_t t[MAX_ROUNDS];
    uint32_t n = rounds < MAX_ROUNDS ? rounds : MAX_ROUNDS;

    memcpy(t, a->bi->rt_ns, n * sizeof(t[0]));
    qsort(t, n, sizeof(t[0]), cmp_u64);
    printf("x86hv figure: path=%s round_trip_us median=%.1f min=%.1f max=%.1f n=%u "
           "out_exit_us=%.1f (emulated guest code)\n",
           path, t[n / 2] / 1e3, t[0] / 1e3, t[n - 1] / 1e3, n, a->bi->out_ns / 1e3);
}

#define EXPECT(cond)                                                          \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "vmm: FAIL: %s (line %d)\n", #cond, __LINE__);    \
            ok = 0;                                                           \
        }                                                                     \
    } while (0)

static int check(const struct plan *p, struct hvc_region *r)
{
    struct vm *a = by_role(ROLE_A), *b = by_role(ROLE_B), *c = by_role(ROLE_C),
              *d = by_role(ROLE_D);
    int ok = 1;

    for (int i = 0; i < nvms; i++) {
        struct vm *v = &vms[i];

        fprintf(stderr, "[vmm %s] result %#x, exits: io %llu (calls %llu, bells %llu) "
                "hlt %llu mmio %llu window %llu; injected %llu (ticks %llu)\n",
                vm_names[v->role], v->result, (unsigned long long)v->exits[KVM_EXIT_IO],
                (unsigned long long)v->io_call, (unsigned long long)v->io_bell,
                (unsigned long long)v->exits[KVM_EXIT_HLT],
                (unsigned long long)v->exits[KVM_EXIT_MMIO],
                (unsigned long long)v->exits[KVM_EXIT_IRQ_WINDOW_OPEN],
                (unsigned long long)v->injected, (unsigned long long)v->ticks);
        if (!(p->scenario == S_GONE && v->role == ROLE_B))
            EXPECT(v->result == (int)GUEST_OK);
    }
    fprintf(stderr, "[vmm] hv: calls %llu errors %llu bad_peer %llu bad_vector %llu "
            "bad_func %llu bad_arg %llu bad_cpl %llu peer_gone %llu injected %llu\n",
            (unsigned long long)hv.stats.calls, (unsigned long long)hv.stats.errors,
            (unsigned long long)hv.stats.bad_peer, (unsigned long long)hv.stats.bad_vector,
            (unsigned long long)hv.stats.bad_func, (unsigned long long)hv.stats.bad_arg,
            (unsigned long long)hv.stats.bad_cpl, (unsigned long long)hv.stats.peer_gone,
            (unsigned long long)hv.stats.injected);
    switch (p->scenario) {
    case S_EVENTS:
        EXPECT(hv.stats.errors == 0);
        EXPECT(hv.stats.injected > 0 && a->io_bell + b->io_bell > 0);
        report_rt("trapped-io-vmm (hvc_event)", a, p->rounds);
        break;
    case S_IRQFD:
        /* Every doorbell stayed in the kernel: none reached the VMM. */
        EXPECT(a->io_bell == 0 && b->io_bell == 0);
        EXPECT(hv.stats.injected == 0 && hv.stats.errors == 0);
        report_rt("ioeventfd-irqfd (raw doorbell)", a, p->rounds);
        break;
    case S_BELLS:
        /* Every doorbell went through the VMM and the library. */
        EXPECT(a->io_bell == p->rounds && b->io_bell == p->rounds);
        EXPECT(hv.stats.injected == 2u * p->rounds && hv.stats.errors == 0);
        report_rt("trapped-io-vmm (raw doorbell)", a, p->rounds);
        break;
    case S_POLL:
        report_rt("polling (shared word)", a, p->rounds);
        break;
    case S_RING:
        EXPECT(b->bi->count == p->rounds && b->bi->bad == 0);
        EXPECT(a->bi->sum == b->bi->sum);
        fprintf(stderr, "[vmm] ring: %u messages intact, checksum sum %#llx\n",
                b->bi->count, (unsigned long long)b->bi->sum);
        break;
    case S_RDONLY: {
        uint32_t w;

        EXPECT(c->mmio_ro >= 1);
        EXPECT(c->ro_addr == c->bi->ro_addr && c->ro_value == 0xbad0bad0u);
        memcpy(&w, shared + (c->bi->ro_addr - GPA_REGION), 4);
        EXPECT(w == 0xc0de0005u && c->bi->ro_after == 0xc0de0005u);
        fprintf(stderr, "[vmm] rdonly: %llu store(s) trapped at %#llx, region word %#x\n",
                (unsigned long long)c->mmio_ro, (unsigned long long)c->ro_addr, w);
        break;
    }
    case S_BADREQ:
        EXPECT(hv.stats.bad_peer >= 3u * p->rounds);
        EXPECT(hv.stats.bad_vector >= p->rounds && hv.stats.bad_func >= p->rounds);
        EXPECT(hv.stats.bad_arg >= 2u * p->rounds);
        EXPECT(d->bi->err[0] == -HVC_ENOENT && d->bi->err[2] == -HVC_ENOTSUP);
        report_rt("trapped-io-vmm beside a bad guest", a, p->rounds);
        break;
    case S_GONE: {
        struct hvc_peer_info pi;

        EXPECT(b->result == -1);
        EXPECT(a->bi->gone_seen == 1 && a->bi->gone_notify == -HVC_EPEERGONE);
        EXPECT(hvc_peer_info(r, ROLE_B, &pi) == 0 && pi.state == HVC_PEER_GONE);
        EXPECT(hv.stats.peer_gone >= 1);
        break;
    }
    }
    (void)d;
    return ok;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int setup_irqfd(void)
{
    /* ab: A's doorbell to B, ba: B's to A. */
    int ab = eventfd(0, EFD_CLOEXEC), ba = eventfd(0, EFD_CLOEXEC);
    struct vm *a = by_role(ROLE_A), *b = by_role(ROLE_B);
    struct kvm_ioeventfd io = {.addr = PORT_BELL, .len = 4,
                               .flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH};
    struct kvm_irqfd irq = {.gsi = 1};

    if (ab < 0 || ba < 0)
        return fail(a, "eventfd");
    io.fd = ab;
    io.datamatch = HVC_HV_BELL(ROLE_B, 0);
    if (ioctl(a->fd, KVM_IOEVENTFD, &io) < 0)
        return fail(a, "KVM_IOEVENTFD");
    irq.fd = (uint32_t)ab;
    if (ioctl(b->fd, KVM_IRQFD, &irq) < 0)
        return fail(b, "KVM_IRQFD");
    io.fd = ba;
    io.datamatch = HVC_HV_BELL(ROLE_A, 0);
    if (ioctl(b->fd, KVM_IOEVENTFD, &io) < 0)
        return fail(b, "KVM_IOEVENTFD");
    irq.fd = (uint32_t)ba;
    if (ioctl(a->fd, KVM_IRQFD, &irq) < 0)
        return fail(a, "KVM_IRQFD");
    return 0;
}

int main(int argc, char **argv)
{
    const struct plan *p = NULL;
    struct hvc_region region;
    struct sigaction sa = {.sa_handler = on_signal};
    struct timespec dl;
    uint8_t *img;
    size_t img_len;
    uint64_t t0;
    int kvm, memfd, all_done, ok;

    if (argc != 3) {
        fprintf(stderr, "usage: %s GUEST.bin SCENARIO\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++)
        if (strcmp(argv[2], plans[i].name) == 0)
            p = &plans[i];
    if (p == NULL) {
        fprintf(stderr, "vmm: unknown scenario %s\n", argv[2]);
        return 2;
    }
    kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        printf("SKIP: cannot open /dev/kvm: %s\n", strerror(errno));
        return 77;
    }
    img = read_file(argv[1], &img_len);
    if (img == NULL) {
        fprintf(stderr, "vmm: cannot read %s\n", argv[1]);
        return 1;
    }
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);

    memfd = memfd_create("hvcomm-x86hv", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, REGION_SIZE) < 0) {
        perror("memfd");
        return 1;
    }
    shared = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (shared == MAP_FAILED) {
        perror("mmap memfd");
        return 1;
    }
    if (setup_region(&region) < 0)
        return 1;

    nvms = p->nroles;
    for (int i = 0; i < nvms; i++) {
        struct vm *v = &vms[i];

        v->idx = i;
        v->role = p->roles[i];
        v->pic = p->pic;
        v->rdonly = v->role == ROLE_C;
        v->result = -3;
        pthread_mutex_init(&v->mu, NULL);
        {
            pthread_condattr_t ca;

            pthread_condattr_init(&ca);
            pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
            pthread_cond_init(&v->cv, &ca);
            pthread_condattr_destroy(&ca);
        }
        if (vm_create(kvm, v, img, img_len, memfd) < 0)
            return 1;
        *v->bi = (struct bootinfo){.magic = BOOT_MAGIC, .scenario = (uint32_t)p->scenario,
                                   .role = (uint32_t)v->role, .pic = (uint32_t)p->pic,
                                   .rounds = p->rounds};
        guests[i] = (struct hvc_hv_guest){.vm = v, .vcpu = 0, .peer = (uint32_t)v->role,
                                          .region_gpa = GPA_REGION,
                                          .region_size = REGION_SIZE,
                                          .flags = v->rdonly ? HVC_HV_GUEST_RDONLY : 0};
    }
    free(img);
    if (hvc_hv_init(&hv, guests, (uint32_t)nvms, MAX_PEERS, &vmm_ops, NULL) < 0)
        return 1;
    {
        long khz = ioctl(vms[0].vcpu, KVM_GET_TSC_KHZ, 0);

        hv.tsc_khz = khz > 0 ? (uint64_t)khz : 0;
    }
    if (p->pic && setup_irqfd() < 0)
        return 1;

    t0 = now_ns();
    for (int i = 0; i < nvms; i++)
        pthread_create(&vms[i].th, NULL, vm_thread, &vms[i]);

    /* Wait for every VM to finish; "gone": stop B once A asks. */
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += DEADLINE_S;
    pthread_mutex_lock(&done_mu);
    for (;;) {
        struct timespec slice;

        all_done = 1;
        for (int i = 0; i < nvms; i++)
            all_done &= __atomic_load_n(&vms[i].finished, __ATOMIC_ACQUIRE);
        if (all_done)
            break;
        if (p->scenario == S_GONE) {
            struct vm *a = by_role(ROLE_A), *b = by_role(ROLE_B);

            if (!b->stop && __atomic_load_n(&a->bi->stop_me, __ATOMIC_ACQUIRE)) {
                fprintf(stderr, "[vmm] A saw B alive: stopping VM B\n");
                pthread_mutex_lock(&b->mu);
                b->stop = 1;
                pthread_cond_signal(&b->cv);
                pthread_mutex_unlock(&b->mu);
                pthread_kill(b->th, SIGUSR1);
            }
        }
        /* Wake at least every 10 ms: A's request above is a memory flag. */
        clock_gettime(CLOCK_REALTIME, &slice);
        slice.tv_nsec += 10000000;
        if (slice.tv_nsec >= 1000000000) {
            slice.tv_sec++;
            slice.tv_nsec -= 1000000000;
        }
        if (slice.tv_sec > dl.tv_sec || (slice.tv_sec == dl.tv_sec && slice.tv_nsec > dl.tv_nsec)) {
            fprintf(stderr, "vmm: FAIL: scenario not finished in %d s\n", DEADLINE_S);
            pthread_mutex_unlock(&done_mu);
            for (int i = 0; i < nvms; i++)
                fprintf(stderr, "[vmm %s] finished %d\n", vm_names[vms[i].role], vms[i].finished);
            _exit(1);
        }
        pthread_cond_timedwait(&done_cv, &done_mu, &slice);
    }
    pthread_mutex_unlock(&done_mu);
    for (int i = 0; i < nvms; i++)
        pthread_join(vms[i].th, NULL);
    fprintf(stderr, "[vmm] scenario %s: %.2f s wall\n", p->name, (now_ns() - t0) / 1e9);
    ok = check(p, &region);
    printf("%s: scenario %s\n", ok ? "PASS" : "FAIL", p->name);
    return ok ? 0 : 1;
}
