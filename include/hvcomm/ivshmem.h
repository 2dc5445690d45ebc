/**
 * @file ivshmem.h
 * @brief KVM/QEMU ivshmem backends: the host peer and the Linux guest.
 *
 * QEMU's ivshmem device gives guests a PCI device (vendor 0x1af4, device
 * 0x1110) whose BAR2 is shared memory. `ivshmem-plain` maps a host file
 * (`-object memory-backend-file,share=on`) and has no doorbells;
 * `ivshmem-doorbell` connects to an ivshmem server (hvcomm-ivshmem-server)
 * that hands out the memory, a peer id (the IVPosition register) and one
 * eventfd per peer and vector: writing `(peer << 16) | vector` to the
 * Doorbell register raises MSI-X vector `vector` in peer `peer`.
 *
 * Two backends (platform.h) speak this from both sides:
 *
 * - hvc_platform_ivshmem_host(): a host process that joins the same
 *   region as the guests, as one more client of the ivshmem server. Its
 *   region name is the server's socket path.
 * - hvc_platform_ivshmem_guest(): Linux guest user space. It finds the
 *   device in sysfs, maps BAR2, reads IVPosition, rings the Doorbell
 *   register, and receives doorbells through VFIO (MSI-X vectors routed to
 *   eventfds) when the guest has an IOMMU and the vfio-pci driver.
 *
 * The region format is the same everywhere (region.h): a host process, a
 * guest and another guest attach the same region and find the same objects.
 *
 * Peer ids: with a server, the id is assigned by the server (lowest free id
 * below its `--peers`), the backends report it through `self_id`, and
 * hvc_peer_join() takes that slot. Peers must be READY in the peer table
 * before others ring them: a doorbell rung before a guest has enabled MSI-X
 * is lost. The guest backend enables MSI-X in `map`, before any join.
 *
 * Both backends are hosted Linux code; elsewhere the functions return NULL.
 */
#ifndef HVCOMM_IVSHMEM_H
#define HVCOMM_IVSHMEM_H

#include <stdint.h>

#include <hvcomm/export.h>
#include <hvcomm/platform.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup ivshmem KVM/QEMU ivshmem
 * @brief Host peer and guest backends for QEMU's ivshmem device.
 * @{
 */

/** PCI vendor id of the ivshmem device (Red Hat, Inc.). */
#define HVC_IVSHMEM_VENDOR 0x1af4u
/** PCI device id of the ivshmem device. */
#define HVC_IVSHMEM_DEVICE 0x1110u

/** BAR0 register: interrupt mask (INTx only). */
#define HVC_IVSHMEM_REG_INTRMASK 0x00u
/** BAR0 register: interrupt status (INTx only). */
#define HVC_IVSHMEM_REG_INTRSTATUS 0x04u
/** BAR0 register: this guest's peer id (read-only; -1 without server). */
#define HVC_IVSHMEM_REG_IVPOSITION 0x08u
/** BAR0 register: write `(peer << 16) | vector` to ring a doorbell. */
#define HVC_IVSHMEM_REG_DOORBELL 0x0Cu

/** Peers whose eventfds the host backend tracks: ids 0..15. */
#define HVC_IVSHMEM_HOST_MAX_PEERS 16u
/** Vectors per peer the host backend tracks (more are ignored). */
#define HVC_IVSHMEM_HOST_MAX_VECTORS 4u
/** MSI-X vectors the guest backend routes to eventfds. */
#define HVC_IVSHMEM_GUEST_MAX_VECTORS 8u

/**
 * @brief The liveness token of ivshmem peer `id`.
 *
 * Tag "IVSH" in the upper 32 bits, the id in bits 22..31 and zero low 22
 * bits. Stored with the namespace #HVC_TOKEN_NS_IVSHMEM: other kinds of
 * backend never judge it (hvc_platform_token_alive()); the zero low bits
 * kept older POSIX peers, which read them as a pid, at "cannot tell".
 */
#define HVC_IVSHMEM_TOKEN(id) \
    ((uint64_t)0x49565348u << 32 | ((uint64_t)(id) & 0x3ffu) << 22)

/** What an ivshmem handle is, from hvc_ivshmem_mode(). */
enum hvc_ivshmem_mode {
    HVC_IVSHMEM_HOST = 1,          /**< host peer, server client */
    HVC_IVSHMEM_PLAIN = 2,         /**< guest, ivshmem-plain: poll only */
    HVC_IVSHMEM_DOORBELL_POLL = 3, /**< guest, doorbell device, no VFIO: can
                                        ring, cannot receive (poll) */
    HVC_IVSHMEM_DOORBELL_VFIO = 4, /**< guest, doorbells both ways */
};

/**
 * @brief The host peer backend: a host process as a client of an ivshmem
 *        server.
 *
 * Region name: the server's UNIX socket path. `map` connects, receives its
 * peer id, the shared-memory fd (mapped whole; `size`, when not 0, must not
 * exceed it; #HVC_MAP_CREATE is accepted, as the server already created the
 * memory) and every peer's eventfds. `self_id` is the server's id,
 * `self_token` #HVC_IVSHMEM_TOKEN, `notify(peer, vector)` writes that
 * peer's eventfd, `wait_notify` sleeps on this peer's own eventfds,
 * `peer_alive` is 1 while the server lists the peer (0 after its leave
 * message), `now_ns` is CLOCK_MONOTONIC, `map_view` maps the
 * shared-memory fd again. Server messages are processed in `notify` (first,
 * so that a peer that left and came back under the same id is rung on its
 * new eventfds), `wait_notify`, `peer_alive` and
 * hvc_ivshmem_host_service().
 *
 * Bounds: this peer's id must be below #HVC_IVSHMEM_HOST_MAX_PEERS (else
 * `map` fails with -HVC_ENOSPC); eventfds of peers or vectors beyond the
 * bounds are closed and ignored. `notify` returns -HVC_EPEERGONE for a
 * peer the server does not list, -HVC_EINVAL for ids or vectors beyond the
 * bounds. `map` fails with -HVC_ENOENT (no server at that path),
 * -HVC_EPROTO (the server broke the protocol), -HVC_ETIMEDOUT (no answer
 * in 5 s), -HVC_EINVAL (`size` larger than the memory).
 *
 * Thread safety: notify, wait_notify, peer_alive and the service call may
 * run in different threads at once (the fd table is locked); one thread at
 * a time in wait_notify.
 *
 * @return the backend (static), NULL where not supported.
 */
HVC_API const struct hvc_platform *hvc_platform_ivshmem_host(void);

/**
 * @brief The Linux guest user-space backend.
 *
 * Region name: `auto` (the first 1af4:1110 device in /sys/bus/pci/devices)
 * or a PCI address such as `0000:00:04.0`, optionally followed by `,poll`
 * to skip VFIO. `map` maps BAR2 (shared memory) and reads BAR0; on a
 * doorbell device (one with an MSI-X BAR) it binds the device to vfio-pci,
 * enables bus mastering and routes the MSI-X vectors to eventfds. When VFIO
 * is not available (no IOMMU, no vfio-pci, `,poll`), it maps BAR0 and BAR2
 * through sysfs (`resource0`, `resource2`; not `resource2_wc`: write
 * combining would reorder the stores that publish shared data) and
 * `wait_notify` returns -HVC_ENOTSUP: callers poll.
 *
 * `self_id` is IVPosition (-HVC_ENOTSUP on ivshmem-plain, where peers pick a
 * free slot), `self_token` #HVC_IVSHMEM_TOKEN of it, `notify` writes the
 * Doorbell register (-HVC_ENOTSUP on ivshmem-plain), `peer_alive` is not
 * known in a guest (heartbeats decide). `map` fails with -HVC_ENOENT (no
 * such device), -HVC_EACCES (sysfs not writable/readable: run as root),
 * -HVC_EIO (mapping failed); `size`, when not 0, must not exceed BAR2
 * (-HVC_EINVAL).
 *
 * Thread safety: any method from any thread; one thread at a time in
 * wait_notify.
 *
 * @return the backend (static), NULL where not supported.
 */
HVC_API const struct hvc_platform *hvc_platform_ivshmem_guest(void);

/**
 * @brief Process pending server messages (joins, leaves) without blocking.
 *
 * At most 4 x #HVC_IVSHMEM_HOST_MAX_PEERS x #HVC_IVSHMEM_HOST_MAX_VECTORS
 * messages per call, so a flooding server cannot hold the caller; the rest
 * waits for the next call. (Opening the handle does its whole setup within
 * one 5 s deadline, however the server paces its messages.)
 *
 * @param h a handle opened with hvc_platform_ivshmem_host().
 * @return the number of messages processed (>= 0).
 * @retval -HVC_EINVAL `h` is not an open ivshmem host handle.
 * @retval -HVC_EPEERGONE the server closed the connection (peers' liveness
 *         is unknown from then on; doorbells keep working).
 * @retval -HVC_EPROTO the server sent a message that breaks the protocol
 *         (it is skipped).
 *
 * Context: any thread.
 */
HVC_API int hvc_ivshmem_host_service(struct hvc_platform_handle *h);

/**
 * @brief Is peer `peer` listed by the server? (host backend only)
 * @return 1 listed, 0 not.
 * @retval -HVC_EINVAL `h` is not an ivshmem host handle, or `peer` is out
 *         of the tracked range.
 */
HVC_API int hvc_ivshmem_host_peer_listed(struct hvc_platform_handle *h,
                                         uint32_t peer);

/**
 * @brief What kind of ivshmem handle this is.
 * @return an #hvc_ivshmem_mode.
 * @retval -HVC_EINVAL `h` is not open with one of the ivshmem backends.
 */
HVC_API int hvc_ivshmem_mode(const struct hvc_platform_handle *h);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_IVSHMEM_H */
