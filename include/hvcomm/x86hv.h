/**
 * @file x86hv.h
 * @brief The x86 hypervisor guest backend: a bare-metal or RTOS guest in
 *        x86-64 long mode that reaches its hypervisor through the hvcomm
 *        hypercall ABI (hv.h, `doc/x86hv.md`).
 *
 * hvc_platform_x86hv() maps the region the hypervisor placed for this guest
 * (from #HVC_HV_REGION, or from the caller's descriptor), takes its peer id
 * from #HVC_HV_SELF_ID, rings doorbells with #HVC_HV_NOTIFY or a store to a
 * trapped doorbell port, and sleeps in `wait_notify` with `sti; hlt`. The
 * guest's IDT handlers for its doorbell vectors call hvc_x86hv_irq().
 *
 * The instruction is chosen by hvc_x86hv_config::method: `VMCALL` (Intel),
 * `VMMCALL` (AMD), chosen by the CPUID vendor for #HVC_X86HV_AUTO; or
 * trapped I/O: calls by `OUT` to the call port (registers as for a
 * hypercall), doorbells by `OUT` of #HVC_HV_BELL(peer, vector) to the
 * doorbell port, which a VMM can route in the kernel (KVM ioeventfd).
 *
 * The liveness token (from #HVC_HV_SELF_TOKEN) is stored with the namespace
 * #HVC_TOKEN_NS_X86HV, so a POSIX peer of the same region never judges it
 * (hvc_platform_token_alive()); its low 22 bits are also zero, which kept
 * older POSIX peers, that read them as a pid, at "cannot tell".
 *
 * One guest, one configuration: the backend keeps it (and the doorbells
 * pending from the interrupt handler) in static storage.
 *
 * The backend is not part of the hosted libhvcomm: a guest image compiles
 * `src/platform/x86hv/x86hv.c` with the core (as `ports/x86_64-hv/build.sh`
 * does). The hypervisor side (hv.h) is in libhvcomm.
 */
#ifndef HVCOMM_X86HV_H
#define HVCOMM_X86HV_H

#include <stdint.h>

#include <hvcomm/export.h>
#include <hvcomm/hv.h>
#include <hvcomm/platform.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup x86hv x86 hypervisor guest backend
 * @brief hvc_platform_x86hv(): hypercalls or trapped I/O, `hlt`, the TSC.
 * @{
 */

/** How the guest reaches the hypervisor. */
enum hvc_x86hv_method {
    HVC_X86HV_AUTO = 0,    /**< VMCALL or VMMCALL by the CPUID vendor */
    HVC_X86HV_VMCALL = 1,  /**< Intel VT-x `VMCALL` (0f 01 c1) */
    HVC_X86HV_VMMCALL = 2, /**< AMD-V `VMMCALL` (0f 01 d9) */
    HVC_X86HV_IO = 3,      /**< `OUT` to call_port / bell_port */
    HVC_X86HV_HOOK = 4,    /**< a function (tests, or a custom transport);
                                waits then poll and never halt */
};

/**
 * @brief A hypercall transport provided by the caller (#HVC_X86HV_HOOK).
 * @param ctx hvc_x86hv_config::hook_ctx.
 * @param regs RAX, RBX, RCX, RSI in; the same registers out.
 * @return the status (the new RAX).
 */
typedef int64_t (*hvc_x86hv_hook_fn)(void *ctx, uint64_t regs[4]);

/** The guest's description of its hypervisor. Start from hvc_x86hv_config_init(). */
struct hvc_x86hv_config {
    uint32_t method;       /**< #hvc_x86hv_method */
    uint16_t call_port;    /**< #HVC_X86HV_IO: port of calls */
    uint16_t bell_port;    /**< #HVC_X86HV_IO: port of the doorbell register;
                                also used by the hypercall methods when not 0 */
    uint32_t irq_base;     /**< first doorbell interrupt vector (32..255) */
    uint32_t irq_count;    /**< vectors (1..#HVC_HV_MAX_VECTORS) */
    uint32_t set_irq;      /**< 1: tell the hypervisor (#HVC_HV_SET_IRQ) at map */
    int32_t peer_id;       /**< -1: ask the hypervisor, else this id */
    uint64_t region_gpa;   /**< region_size 0: ask; else this placement */
    uint64_t region_size;  /**< bytes, 0 to ask the hypervisor */
    uint32_t region_rdonly; /**< with region_size: mapped read-only */
    uint32_t reserved;     /**< 0 */
    uint64_t virt_offset;  /**< virtual = guest-physical + virt_offset */
    uint64_t tsc_khz;      /**< TSC frequency; 0: ask the hypervisor */
    /**
     * The longest an idle `hlt` lasts: the period of a timer interrupt the
     * guest gets anyway. When 0 (no timer), waits with a finite timeout
     * poll the pending doorbells with `pause` instead of halting, and only
     * #HVC_FOREVER waits halt.
     */
    uint64_t tick_ns;
    hvc_x86hv_hook_fn hook; /**< #HVC_X86HV_HOOK: the transport */
    void *hook_ctx;         /**< its first argument */
};

/** Counters of the guest backend, from hvc_x86hv_stats(). */
struct hvc_x86hv_stats {
    uint64_t calls;      /**< hypercalls issued */
    uint64_t call_errors; /**< hypercalls that returned an error */
    uint64_t irqs;       /**< doorbell interrupts taken */
    uint64_t stray_irqs; /**< interrupts outside the doorbell vectors */
    uint64_t halts;      /**< `hlt` executed in wait_notify */
};

/**
 * @brief Defaults: #HVC_X86HV_AUTO, ask for everything, vectors 0x40..0x43
 *        set at map, no tick.
 * Context: any.
 */
HVC_API void hvc_x86hv_config_init(struct hvc_x86hv_config *cfg);

/**
 * @brief Install the configuration used by the next map.
 * @retval 0 installed.
 * @retval -HVC_EINVAL NULL, an unknown method, #HVC_X86HV_HOOK without a
 *         hook, #HVC_X86HV_IO without ports, or a vector range outside
 *         32..255 / count outside 1..#HVC_HV_MAX_VECTORS.
 *
 * Context: thread, before hvc_platform_open() / hvc_region_attach().
 */
HVC_API int hvc_x86hv_configure(const struct hvc_x86hv_config *cfg);

/**
 * @brief The backend. The region name is not interpreted (region 0 of the
 *        hypervisor is mapped); `map` fails with -HVC_EACCES when a
 *        writable mapping is asked of a read-only region, -HVC_ENOSPC when
 *        the size asked exceeds it, -HVC_EIO when the hypervisor refuses.
 */
HVC_API const struct hvc_platform *hvc_platform_x86hv(void);

/**
 * @brief The ISR-safe entry: call it from the IDT handler of every
 *        doorbell vector (then EOI as the interrupt controller needs).
 * @param vector the interrupt vector taken.
 * @retval 1 it was a doorbell vector: recorded for wait_notify.
 * @retval 0 not one of ours (counted as stray).
 *
 * Context: interrupt handler (interrupts off); touches only an atomic mask.
 */
HVC_API int hvc_x86hv_irq(uint32_t vector);

/**
 * @brief Issue one raw hypercall by the configured method (for tests and
 *        for requests hvcomm has no method for).
 * @param func #hvc_hv_func.
 * @param a0 RBX.
 * @param a1 RCX.
 * @param out RBX, RCX, RSI after the call (may be NULL).
 * @return the status in RAX (negative `HVC_E...` from the hypervisor).
 *
 * Context: thread or interrupt handler; CPL 0.
 */
HVC_API int64_t hvc_x86hv_call(uint64_t func, uint64_t a0, uint64_t a1,
                               uint64_t out[3]);

/** @brief The counters (static storage, never NULL). */
HVC_API const struct hvc_x86hv_stats *hvc_x86hv_stats(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_X86HV_H */
