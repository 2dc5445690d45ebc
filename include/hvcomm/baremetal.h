/**
 * @file baremetal.h
 * @brief The bare-metal backend: regions at fixed physical addresses, peer
 *        ids from the board, doorbells through a small driver table, and
 *        sleeping with WFI/WFE/HLT without losing a wake-up.
 *
 * For cores that share RAM with no OS (AMP on one chip, or a partition of a
 * static partitioning hypervisor). Freestanding C11: no malloc, no libc.
 *
 * The board glue fills a caller-owned `struct hvc_baremetal_desc` (regions,
 * peer id source, doorbell driver, timer, cache and MPU hooks), calls
 * hvc_baremetal_init() once per core, and passes hvc_platform_baremetal() to
 * hvc_region_format() / hvc_region_attach() with a region name from the
 * descriptor. Its doorbell interrupt handler calls hvc_baremetal_irq().
 *
 * What the methods do:
 * - `map`: looks the name up in the descriptor, checks the size, calls the
 *   optional `protect` hook (MMU/MPU), returns the fixed address. There is
 *   no "create": the memory is always there, so #HVC_MAP_EXCL is ignored.
 * - `self_id`: the descriptor's fixed id, or the `core_id` hook (mhartid,
 *   MPIDR affinity, LAPIC id: the board chooses), or none (free slot).
 * - `self_token`: #HVC_BAREMETAL_TOKEN of the core id (or the
 *   descriptor's `token` in its `token_ns`). No `peer_alive`:
 *   the heartbeat decides. The token is stored with the namespace
 *   #HVC_TOKEN_NS_BAREMETAL, so a POSIX host sharing the region never
 *   judges it (hvc_platform_token_alive()); its low 22 bits are also zero,
 *   which kept older POSIX peers, that read them as a pid, at "cannot tell".
 * - `notify` / `wait_notify`: through the doorbell driver (absent when the
 *   descriptor has none: the core then uses its polling paths).
 * - `wait_word` / `wake_word`: `wake_word` rings every other core's "word"
 *   channel; `wait_word` sleeps until the word changes, a doorbell arrives
 *   or the timeout expires. Without a doorbell driver both poll (bounded by
 *   the timeout).
 * - `now_ns`: the board's timer hook.
 * - `cache_clean` / `cache_invalidate`: the board's hooks (absent: coherent).
 *
 * Sleeping: interrupts masked, the condition checked, then WFI (Arm, RISC-V;
 * a pending interrupt wakes WFI even while masked) or `sti; hlt` (x86), then
 * unmasked so the handler runs, and the condition checked again. A doorbell
 * that arrives between the check and the sleep is therefore never lost.
 * A finite wait arms the timer hook's `alarm` so that the sleep ends in
 * time; a board without `alarm` gets polling for finite waits.
 */
#ifndef HVCOMM_BAREMETAL_H
#define HVCOMM_BAREMETAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hvcomm/export.h>
#include <hvcomm/platform.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup baremetal Bare-metal backend
 * @brief hvcomm on cores with no OS: descriptor, doorbell drivers, ISR hook.
 * @{
 */

/** Liveness token of core `id`: "BMET" above, the id in bits 22..31. */
#define HVC_BAREMETAL_TOKEN(id) \
    ((uint64_t)0x424d4554u << 32 | ((uint64_t)(id) & 0x3ffu) << 22)

/** hvc_baremetal_desc::peer_id: take the id from the `core_id` hook. */
#define HVC_BAREMETAL_PEER_CORE (-1)
/** hvc_baremetal_desc::peer_id: no fixed id, hvc_peer_join() picks a slot. */
#define HVC_BAREMETAL_PEER_FREE (-2)

/** The most regions one descriptor may list. */
#define HVC_BAREMETAL_MAX_REGIONS 8u

/** One shared RAM window at a fixed (physical = virtual) address. */
struct hvc_baremetal_region {
    const char *name; /**< the name given to hvc_region_format()/attach() */
    uintptr_t base;   /**< first byte, 64-byte aligned */
    uint64_t size;    /**< bytes, at least #HVC_REGION_MIN_SIZE */
};

/**
 * @brief A doorbell driver: a tiny table, after Zephyr's mbox API.
 *
 * A channel is what the hardware tells apart (an SGI number, an MHU bit; a
 * CLINT has one). hvcomm vectors are folded onto channels: channel =
 * vector % max_channels, so a vector read from shared memory can never
 * address a channel the hardware lacks. Every method returns 0 or a
 * negative `HVC_E...` code. Ready drivers: hvc_doorbell_clint(),
 * hvc_doorbell_gicv3(), hvc_doorbell_mhu(), hvc_doorbell_lapic(),
 * hvc_doorbell_ivshmem().
 */
struct hvc_doorbell_driver {
    const char *name;      /**< "clint", "gicv3", ... */
    uint32_t max_channels; /**< channels per core, at least 1 */
    /** Ring `channel` of core `peer`. Must be ISR-safe. */
    int (*send)(void *ctx, uint32_t peer, uint32_t channel);
    /** Enable (or disable) receiving doorbells on core `self`. Thread context. */
    int (*enable)(void *ctx, uint32_t self, bool on);
    /**
     * In the interrupt handler: acknowledge what rang on core `self` and
     * return the channels as a bit mask. `source` is what the board's
     * vector told it (SGI id, IDT vector), or 0.
     */
    uint32_t (*ack)(void *ctx, uint32_t self, uint32_t source);
};

/**
 * @brief The board's timer.
 *
 * `now_ns` is required and must be monotonic on this core. `alarm`, when
 * set, must make an interrupt (any interrupt, even a masked one that WFI
 * sees as pending) happen no later than about `deadline_ns`, or return an
 * error; an earlier wake-up is harmless. A board with a periodic tick may
 * make `alarm` a no-op that returns 0, if the tick is short enough.
 */
struct hvc_baremetal_timer {
    uint64_t (*now_ns)(void *ctx);                   /**< monotonic ns */
    int (*alarm)(void *ctx, uint64_t deadline_ns);   /**< optional */
    void *ctx;                                       /**< for both hooks */
};

/** The description of one core's view of the system. Caller-filled. */
struct hvc_baremetal_desc {
    const struct hvc_baremetal_region *regions; /**< shared windows */
    uint32_t nregions;      /**< 1..#HVC_BAREMETAL_MAX_REGIONS */
    /** Cores that share the regions (ids 0..ncores-1): wake_word rings them. */
    uint32_t ncores;
    /** A fixed peer id >= 0, #HVC_BAREMETAL_PEER_CORE or #HVC_BAREMETAL_PEER_FREE. */
    int32_t peer_id;
    /** This core's id (mhartid, MPIDR.Aff0, LAPIC id); needed for doorbells. */
    int (*core_id)(void *ctx);
    void *core_ctx;         /**< for core_id */
    /** The doorbell driver, or NULL for polling only. */
    const struct hvc_doorbell_driver *doorbell;
    void *doorbell_ctx;     /**< for the driver's methods */
    struct hvc_baremetal_timer timer; /**< the clock (required) */
    /** Write back cached lines (non-coherent memory); NULL when coherent. */
    void (*cache_clean)(void *ctx, const void *addr, uint64_t len);
    /** Discard cached lines (non-coherent memory); NULL when coherent. */
    void (*cache_invalidate)(void *ctx, const void *addr, uint64_t len);
    void *cache_ctx;        /**< for the cache hooks */
    /**
     * Optional MMU/MPU hook, called by `map` with the window and the
     * #hvc_map_flags; a negative return fails the mapping with that code.
     */
    int (*protect)(void *ctx, uintptr_t base, uint64_t size, unsigned flags);
    void *protect_ctx;      /**< for protect */
    /**
     * The liveness token namespace to publish instead of
     * #HVC_TOKEN_NS_BAREMETAL, with `token` (not 0) as this peer's token;
     * 0 keeps the bare-metal token. A guest of an ivshmem server sets
     * #HVC_TOKEN_NS_IVSHMEM and `HVC_IVSHMEM_TOKEN(IVPosition)`
     * (ivshmem.h), so that host peers judge it by the server's list.
     */
    uint32_t token_ns;
    uint64_t token;         /**< the token of `token_ns` (see there) */
};

/** Counters of one core's backend. Read them with plain loads. */
struct hvc_baremetal_stats {
    uint32_t irqs;        /**< doorbell interrupts taken */
    uint32_t sent;        /**< doorbells sent */
    uint32_t sleeps;      /**< WFI/HLT executed */
    uint32_t send_errors; /**< driver send failures */
};

/**
 * @brief One core's backend instance. Caller-owned (one per descriptor,
 *        usually one per core); fields are private.
 */
struct hvc_baremetal {
    struct hvc_platform ops;             /**< the table handed to the core */
    struct hvc_baremetal_desc desc;      /**< checked copy of the descriptor */
    uint32_t self;                       /**< this core's id */
    uint32_t pending;                    /**< channels rung, set by the ISR */
    uint32_t irq_seq;                    /**< bumped by every doorbell ISR */
    uint32_t ready;                      /**< 1 after init */
    struct hvc_baremetal_stats stats;    /**< counters */
};

/**
 * @brief Check a descriptor and bind a backend instance to it.
 *
 * Copies the descriptor (the regions array it points to must stay valid)
 * and enables the doorbell driver's reception on this core.
 *
 * @param bm caller-owned instance.
 * @param desc the description.
 * @retval 0 ready.
 * @retval -HVC_EINVAL NULL, no timer, no regions or too many, a region
 *         unaligned, too small or nameless, a peer id out of range,
 *         a `token_ns` with a zero `token`,
 *         #HVC_BAREMETAL_PEER_CORE without `core_id`, a core id >= 1024,
 *         or a doorbell driver that cannot work: no `core_id`, no `send` or
 *         `ack`, 0 or more than 32 channels, a core id not below `ncores`,
 *         or a peer id other than the core id (doorbells address cores).
 * @retval other a negative code from the driver's `enable`.
 *
 * Context: thread (start-up), once per instance; not from an ISR.
 */
HVC_API int hvc_baremetal_init(struct hvc_baremetal *bm,
                               const struct hvc_baremetal_desc *desc);

/**
 * @brief The platform table bound to `bm`, for hvc_region_format()/attach().
 * @return the table, or NULL when `bm` is NULL or not initialised.
 *
 * Context: any.
 */
HVC_API const struct hvc_platform *hvc_platform_baremetal(struct hvc_baremetal *bm);

/**
 * @brief Record a doorbell: call it from the doorbell interrupt handler.
 *
 * Acknowledges the interrupt through the driver's `ack`, records the
 * channels that rang and wakes any wait on this core.
 *
 * @param bm the instance whose driver took the interrupt.
 * @param source what the board's vector knows (SGI id, IDT vector) or 0.
 *
 * Context: ISR-safe (and only meaningful there). It takes no lock and
 * calls nothing but the driver's `ack`.
 */
HVC_API void hvc_baremetal_irq(struct hvc_baremetal *bm, uint32_t source);

/**
 * @brief The counters of an instance.
 * @retval 0 copied.
 * @retval -HVC_EINVAL NULL argument.
 *
 * Context: any (values are read once each, not as a snapshot).
 */
HVC_API int hvc_baremetal_stats(const struct hvc_baremetal *bm,
                                struct hvc_baremetal_stats *out);

/* ---- ready doorbell drivers: the board gives each its addresses ---- */

/** Context of the RISC-V CLINT/ACLINT MSIP driver. */
struct hvc_clint_ctx {
    uintptr_t msip_base; /**< MSIP of hart 0 (QEMU virt: 0x02000000) */
    uint32_t nharts;     /**< harts that may be rung */
};
/**
 * @brief RISC-V CLINT (or ACLINT MSWI) software interrupts: one channel.
 *
 * `send` writes 1 to the peer's MSIP word, `ack` writes 0 to ours, `enable`
 * sets `mie.MSIE` (M-mode). The board's machine software interrupt handler
 * calls hvc_baremetal_irq(). Context: `send` and `ack` are ISR-safe.
 * @return the driver; NULL when not built for RISC-V.
 */
HVC_API const struct hvc_doorbell_driver *hvc_doorbell_clint(void);

/** Context of the Arm GICv3 SGI driver. */
struct hvc_gicv3_ctx {
    uintptr_t gicr_base;  /**< redistributor of core 0 (QEMU virt: 0x080A0000) */
    uint32_t gicr_stride; /**< bytes between redistributors (0x20000) */
    uint32_t sgi;         /**< the SGI used for doorbells (0..15) */
};
/**
 * @brief Arm GICv3 SGIs (AArch64, EL1, affinity 0.0.0.N for core N): one
 *        channel, one SGI.
 *
 * `send` writes ICC_SGI1R_EL1; `enable` sets this core's redistributor up
 * (group 1, priority 0x80, SGIs enabled) and the CPU interface (SRE, PMR,
 * group 1 enable); `ack` maps the INTID to the channel (the board's handler reads IAR1,
 * passes the INTID as `source` and writes EOIR1 after the call). The
 * distributor is the board's business. Context: `send`, `ack` ISR-safe.
 * @return the driver; NULL when not built for AArch64.
 */
HVC_API const struct hvc_doorbell_driver *hvc_doorbell_gicv3(void);

/** Context of the Arm SSE-200 MHU driver. */
struct hvc_mhu_ctx {
    uintptr_t base; /**< MHU frame (AN521: MHU0 at 0x50003000) */
};
/**
 * @brief Arm SSE-200 Message Handling Unit: 32 channels between CPU 0 and
 *        CPU 1 (bits of CPUnINTR).
 *
 * `send` sets the bit in the peer's CPUnINTR_SET, `ack` reads our
 * CPUnINTR_STAT and clears what it read through CPUnINTR_CLR, `enable`
 * does nothing (the board enables the MHU's NVIC line). Peers 0 and 1
 * only. Context: `send`, `ack` ISR-safe.
 * @return the driver.
 */
HVC_API const struct hvc_doorbell_driver *hvc_doorbell_mhu(void);

/** Context of the x86 local APIC driver. */
struct hvc_lapic_ctx {
    uintptr_t base;       /**< xAPIC MMIO base (0xFEE00000) */
    uint32_t vector;       /**< the IDT vector used for doorbells (32..255) */
};
/**
 * @brief x86 local APIC IPIs through the ICR (xAPIC MMIO mode): one
 *        channel, one IDT vector.
 *
 * `send` waits for the delivery-status bit to clear, writes the
 * destination (APIC id = peer) to ICR high and a fixed IPI of
 * `vector` to ICR low; `enable` sets the software-enable bit of the
 * spurious vector register; `ack` writes EOI. The x86 sleep is `sti; hlt`
 * (available on x86 builds of the backend; the driver itself is plain
 * MMIO and builds anywhere). Context: `send`, `ack` ISR-safe.
 * @return the driver.
 */
HVC_API const struct hvc_doorbell_driver *hvc_doorbell_lapic(void);

/** Context of the ivshmem-doorbell driver. */
struct hvc_ivshmem_bm_ctx {
    uintptr_t regs;    /**< the device's BAR0 (registers), as assigned */
    uint32_t msi_base; /**< the interrupt identity the board routed vector 0 to */
};
/**
 * @brief QEMU's `ivshmem-doorbell` PCI device (ivshmem-spec.rst), from a
 *        bare-metal guest: one channel, vector 0 of the device.
 *
 * A peer is an ivshmem peer id (IVPosition): the board makes the hvcomm
 * peer id the IVPosition (`core_id` returns it, `peer_id` is
 * #HVC_BAREMETAL_PEER_CORE, `ncores` bounds the ids, e.g. the server's
 * `--peers`), as hvc_platform_ivshmem_host() and the Linux guest backend
 * do. `send` writes `(peer << 16) | 0` to the Doorbell register after a
 * full fence (shared-memory stores before the device write); `ack`
 * returns channel 0 when `source` is `msi_base`, nothing otherwise;
 * `enable` does nothing. The device signals MSI-X only (QEMU never raises
 * its INTx pin for `ivshmem-doorbell`): the board finds the device, assigns
 * its BARs, routes MSI-X vector 0 to its interrupt controller (riscv64
 * `virt`: an AIA IMSIC; `ports/bm-common/pci.h`), claims the interrupt and
 * passes its identity as `source` to hvc_baremetal_irq(). Context: `send`,
 * `ack` ISR-safe.
 * @return the driver.
 */
HVC_API const struct hvc_doorbell_driver *hvc_doorbell_ivshmem(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_BAREMETAL_H */
