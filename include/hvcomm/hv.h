/**
 * @file hv.h
 * @brief The x86 hypervisor ABI of hvcomm, and the hypervisor-side library
 *        that serves it.
 *
 * hvcomm is not a hypervisor. It defines a small hypercall ABI (described
 * for hypervisor authors in `doc/x86hv.md`) and provides both halves: the
 * guest backend (hvc_platform_x86hv(), x86hv.h) and this library, which a
 * VT-x/AMD-V hypervisor (or a VMM over KVM) calls from its exit handler:
 *
 * - on a hypercall exit (`VMCALL`, `VMMCALL`) or a trapped `OUT` to the call
 *   port: copy the guest's RAX, RBX, RCX, RSI and its CPL into a
 *   `struct hvc_hv_regs`, call hvc_hv_call(), write the registers back;
 * - on a trapped `OUT` (or MMIO store) to the doorbell register: call
 *   hvc_hv_doorbell() with the 32-bit value written, and put its result
 *   nowhere (a store has no result register);
 * - when it stops or restarts a guest: hvc_hv_guest_stop(),
 *   hvc_hv_guest_start().
 *
 * The library decodes and validates every request against the table of
 * guests the hypervisor gave it (peer id to VM/vCPU, region placement,
 * read-only flags, interrupt vectors), then calls the hypervisor's own
 * `inject(vm, vcpu, vector)` and, if given, `alive(vm)` callbacks. A bad
 * request gets a negative `HVC_E...` code in the guest's RAX and a counter;
 * the library never crashes, allocates, prints or blocks.
 *
 * It is freestanding C11 (no libc), so it links into a bare hypervisor as
 * well as into a hosted VMM. Context: one `struct hvc_hv` is not locked;
 * a hypervisor with several physical CPUs serialises calls on it (or keeps
 * one per CPU with a shared guest table it locks itself). The `inject`
 * callback is called from inside hvc_hv_call() / hvc_hv_doorbell().
 */
#ifndef HVCOMM_HV_H
#define HVCOMM_HV_H

#include <stdint.h>

#include <hvcomm/error.h>
#include <hvcomm/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup hv x86 hypervisor ABI and hypervisor-side library
 * @brief Hypercalls for peer id, region, doorbells and liveness.
 * @{
 */

/** The ABI version returned by #HVC_HV_VERSION. */
#define HVC_HV_ABI_VERSION 1u

/** Function numbers are `HVC_HV_BASE + n`, in RAX (bits 63..32 zero). */
#define HVC_HV_BASE 0x68760000u

/**
 * @brief Hypercall function numbers (RAX). Arguments in RBX, RCX, RSI;
 *        status back in RAX (0 or a negative `HVC_E...`, sign-extended to
 *        64 bits), results in RBX, RCX, RSI.
 */
enum hvc_hv_func {
    /** -> RBX = ABI version, RCX = #hvc_hv_feature bits, RSI = max peers. */
    HVC_HV_VERSION = HVC_HV_BASE + 0,
    /** -> RBX = this guest's peer id. */
    HVC_HV_SELF_ID = HVC_HV_BASE + 1,
    /** RBX = region index (0) -> RBX = guest-physical base, RCX = size,
     *  RSI = #hvc_hv_region_flags. */
    HVC_HV_REGION = HVC_HV_BASE + 2,
    /** RBX = target peer, RCX = doorbell vector: ring it. */
    HVC_HV_NOTIFY = HVC_HV_BASE + 3,
    /** RBX = peer, RCX = its token -> RAX = 1 running, 0 stopped or
     *  another incarnation. */
    HVC_HV_PEER_ALIVE = HVC_HV_BASE + 4,
    /** -> RBX = this guest's liveness token (low 22 bits zero). */
    HVC_HV_SELF_TOKEN = HVC_HV_BASE + 5,
    /** RBX = first interrupt vector (32..255), RCX = count (1..32):
     *  doorbell vector v of this guest arrives as interrupt RBX + v. */
    HVC_HV_SET_IRQ = HVC_HV_BASE + 6,
    /** -> RBX = TSC frequency in kHz (0 when unknown). */
    HVC_HV_TSC_KHZ = HVC_HV_BASE + 7,
};

/** Bits of RCX after #HVC_HV_VERSION. */
enum hvc_hv_feature {
    HVC_HV_F_NOTIFY = 1u << 0,   /**< doorbells are delivered */
    HVC_HV_F_LIVENESS = 1u << 1, /**< #HVC_HV_PEER_ALIVE answers */
    HVC_HV_F_TSC = 1u << 2,      /**< #HVC_HV_TSC_KHZ answers */
    HVC_HV_F_IOCALL = 1u << 3,   /**< calls by `OUT` to the call port */
};

/** Bits of RSI after #HVC_HV_REGION. */
enum hvc_hv_region_flags {
    HVC_HV_REGION_RDONLY = 1u << 0, /**< mapped read-only for this guest */
};

/** Doorbell register value: `(peer << 16) | vector`, both 16 bits. */
#define HVC_HV_BELL(peer, vector) (((uint32_t)(peer) << 16) | ((uint32_t)(vector) & 0xffffu))

/** Bits of a liveness token that are always zero (a POSIX peer reads a
 *  token's low 22 bits as a process id: zero means "not a process"). */
#define HVC_HV_TOKEN_SHIFT 22

/** The largest number of doorbell vectors per guest. */
#define HVC_HV_MAX_VECTORS 32u

/* The ABI carries these codes in RAX: their values must never change. */
_Static_assert(HVC_EINVAL == 1 && HVC_ENOTSUP == 2 && HVC_ENOENT == 3 &&
                   HVC_EPERM == 11 && HVC_EPEERGONE == 15 && HVC_ENOTREADY == 19 &&
                   HVC_EIO == 23,
               "hypercall return codes are ABI");

/** Guest registers of one request, in and out. */
struct hvc_hv_regs {
    uint64_t rax; /**< function in, status out */
    uint64_t rbx; /**< argument 0 / result 0 */
    uint64_t rcx; /**< argument 1 / result 1 */
    uint64_t rsi; /**< argument 2 / result 2 */
    uint32_t cpl; /**< the caller's privilege level (CS.DPL / SS.DPL), 0..3 */
    uint32_t reserved; /**< 0 */
};

/** Flags of a guest in the table. */
enum hvc_hv_guest_flags {
    HVC_HV_GUEST_RDONLY = 1u << 0, /**< the region is mapped read-only for it */
};

/**
 * @brief One guest in the hypervisor's table. Filled in by the hypervisor
 *        before hvc_hv_init(); the fields marked "state" belong to the
 *        library afterwards.
 */
struct hvc_hv_guest {
    void *vm;             /**< the hypervisor's handle, passed to callbacks */
    uint32_t vcpu;        /**< the vCPU that takes its doorbells */
    uint32_t peer;        /**< its hvcomm peer id (< hvc_hv::max_peers) */
    uint64_t region_gpa;  /**< guest-physical base of the shared region */
    uint64_t region_size; /**< bytes */
    uint32_t flags;       /**< #hvc_hv_guest_flags */
    uint32_t irq_base;    /**< state: first vector, 0 until #HVC_HV_SET_IRQ */
    uint32_t irq_count;   /**< state: vectors from irq_base */
    uint32_t running;     /**< state: 1 started, 0 stopped */
    uint64_t token;       /**< state: token of the current incarnation */
};

/** The hypervisor's callbacks. */
struct hvc_hv_ops {
    /**
     * Deliver interrupt `vector` (32..255) to `vcpu` of `vm` (queue it and
     * kick the vCPU out of HLT). Returns 0, or a negative code (counted,
     * and returned to the ringing guest as `-HVC_EIO`).
     */
    int (*inject)(void *ctx, void *vm, uint32_t vcpu, uint32_t vector);
    /**
     * Optional: is `vm` still running? 1 yes, 0 no. When NULL the library
     * goes by hvc_hv_guest_stop() / hvc_hv_guest_start() only.
     */
    int (*alive)(void *ctx, void *vm);
};

/** Counters of served and refused requests. */
struct hvc_hv_stats {
    uint64_t calls;         /**< requests served (good and bad) */
    uint64_t errors;        /**< requests refused, all reasons */
    uint64_t bad_caller;    /**< caller index not in the table */
    uint64_t bad_cpl;       /**< called from CPL 1..3 */
    uint64_t bad_func;      /**< unknown function number */
    uint64_t bad_peer;      /**< unknown peer id */
    uint64_t bad_vector;    /**< vector out of the target's range */
    uint64_t bad_arg;       /**< other bad argument */
    uint64_t peer_gone;     /**< doorbell to a stopped guest */
    uint64_t injected;      /**< interrupts injected */
    uint64_t inject_failed; /**< inject callback failures */
};

/** The library's state. Caller-owned; see hvc_hv_init(). */
struct hvc_hv {
    struct hvc_hv_guest *guests; /**< the table */
    uint32_t count;              /**< entries in the table */
    uint32_t max_peers;          /**< peer ids are below this */
    const struct hvc_hv_ops *ops; /**< callbacks */
    void *ctx;                   /**< first argument of the callbacks */
    uint64_t tsc_khz;            /**< answer to #HVC_HV_TSC_KHZ, 0 unknown */
    uint32_t generation;         /**< incarnations handed out */
    uint32_t reserved;           /**< 0 */
    struct hvc_hv_stats stats;   /**< counters */
};

/**
 * @brief Take a table of guests. Every guest starts running, with a fresh
 *        token and no interrupt vectors.
 * @param hv the state, caller-owned.
 * @param guests the table (kept, not copied: it stays the caller's).
 * @param count entries, at least 1.
 * @param max_peers peer ids are below this (1..65535).
 * @param ops the callbacks (`inject` required).
 * @param ctx passed to the callbacks.
 * @retval 0 ready.
 * @retval -HVC_EINVAL NULL arguments, no inject, count or max_peers 0, a
 *         peer id out of range, or a region that wraps around.
 * @retval -HVC_EEXIST two guests with one peer id.
 *
 * Context: before any other call on `hv`.
 */
HVC_API int hvc_hv_init(struct hvc_hv *hv, struct hvc_hv_guest *guests,
                        uint32_t count, uint32_t max_peers,
                        const struct hvc_hv_ops *ops, void *ctx);

/**
 * @brief Serve one hypercall (or trapped call-port `OUT`) of guest
 *        `caller`: decode `regs->rax`, validate, act, and set the result
 *        registers. The status (also in `regs->rax`, sign-extended) is:
 * @param hv the state.
 * @param caller the index in the table of the guest that exited.
 * @param regs the caller's registers and CPL, updated in place.
 * @return the status put into RAX (0 or 1 for #HVC_HV_PEER_ALIVE):
 * @retval -HVC_EINVAL `caller` not in the table (RAX is then left alone),
 *         or a bad argument (region index, IRQ range), or a doorbell
 *         vector outside the target's range (counted as bad_vector).
 * @retval -HVC_EPERM called from CPL 1..3.
 * @retval -HVC_ENOTSUP unknown function.
 * @retval -HVC_ENOENT no guest with the target peer id.
 * @retval -HVC_EPEERGONE the target guest is stopped.
 * @retval -HVC_ENOTREADY the target has not set its interrupt vectors.
 * @retval -HVC_EIO the inject callback failed.
 *
 * Context: the hypervisor's exit handler; does not block.
 */
HVC_API int hvc_hv_call(struct hvc_hv *hv, uint32_t caller,
                        struct hvc_hv_regs *regs);

/**
 * @brief Serve a doorbell register store (`OUT` to the doorbell port or an
 *        MMIO store) of guest `caller`: `value` is #HVC_HV_BELL(peer,
 *        vector). Same checks as #HVC_HV_NOTIFY.
 * @param hv the state.
 * @param caller the index of the guest that exited.
 * @param value the 32-bit value stored.
 * @param cpl the caller's privilege level.
 * @retval 0 delivered.
 * @retval -HVC_EINVAL bad caller or vector (counted).
 * @retval -HVC_EPERM CPL 1..3.
 * @retval -HVC_ENOENT no such peer.
 * @retval -HVC_EPEERGONE the target is stopped.
 * @retval -HVC_ENOTREADY the target has not set its interrupt vectors.
 * @retval -HVC_EIO the inject callback failed.
 *
 * A store has no result register: the hypervisor may drop the status, the
 * counters keep it.
 */
HVC_API int hvc_hv_doorbell(struct hvc_hv *hv, uint32_t caller, uint32_t value,
                            uint32_t cpl);

/**
 * @brief The hypervisor stopped guest `caller`: others now see it gone
 *        (#HVC_HV_PEER_ALIVE answers 0, doorbells get -HVC_EPEERGONE).
 * @retval 0 done.
 * @retval -HVC_EINVAL not in the table.
 */
HVC_API int hvc_hv_guest_stop(struct hvc_hv *hv, uint32_t caller);

/**
 * @brief The hypervisor (re)started guest `caller`: a new incarnation, with
 *        a new token and no interrupt vectors until it sets them again.
 * @retval 0 done.
 * @retval -HVC_EINVAL not in the table.
 */
HVC_API int hvc_hv_guest_start(struct hvc_hv *hv, uint32_t caller);

/**
 * @brief The table index of the guest with peer id `peer`.
 * @return the index (>= 0).
 * @retval -HVC_ENOENT none.
 * @retval -HVC_EINVAL `hv` is NULL.
 */
HVC_API int hvc_hv_find(const struct hvc_hv *hv, uint32_t peer);

/** @brief The name of a function number ("notify", ...), "?" if unknown. */
HVC_API const char *hvc_hv_func_name(uint64_t func);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_HV_H */
