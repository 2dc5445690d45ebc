/* Shared between the ivshmem backend files (hosted Linux code). */
#ifndef HVC_IVSHMEM_INTERNAL_H
#define HVC_IVSHMEM_INTERNAL_H

#include <hvcomm/ivshmem.h>

#include <stdint.h>

/* A device opened through VFIO: its fds, the BAR regions' offsets in the
 * device fd, and the eventfds its MSI-X vectors are routed to. */
struct hvc__ivs_vfio {
    int container;
    int group;
    int device;
    uint32_t nvec;
    int32_t efd[HVC_IVSHMEM_GUEST_MAX_VECTORS];
    uint64_t bar0_off, bar0_size;
    uint64_t bar2_off, bar2_size;
    uint32_t bar2_mmap; /* BAR2 may be mmapped from the device fd */
};

/* Bind `addr` ("0000:00:04.0") to vfio-pci, open it, enable memory
 * decoding and bus mastering, and route up to HVC_IVSHMEM_GUEST_MAX_VECTORS
 * MSI-X vectors to eventfds. -HVC_ENOTSUP when the guest has no usable
 * VFIO (no module, no IOMMU group, group not viable); -HVC_EACCES, -HVC_EIO
 * otherwise. On failure everything is undone. */
int hvc__ivs_vfio_open(struct hvc__ivs_vfio *v, const char *addr);
void hvc__ivs_vfio_close(struct hvc__ivs_vfio *v);
/* Wait for any vector; 0 and *vector, or -HVC_ETIMEDOUT. */
int hvc__ivs_vfio_wait(struct hvc__ivs_vfio *v, int64_t timeout_ns,
                       uint32_t *vector);
/* 32-bit BAR0 register access through the device fd. */
int hvc__ivs_vfio_reg_read(struct hvc__ivs_vfio *v, uint32_t off, uint32_t *val);
int hvc__ivs_vfio_reg_write(struct hvc__ivs_vfio *v, uint32_t off, uint32_t val);

/* hvc_platform_control(), with "not supported" (not an ivshmem handle, or
 * not one with this op) as the ivshmem calls' documented -HVC_EINVAL. */
int hvc__ivshmem_control(struct hvc_platform_handle *h, uint32_t op, void *arg);

#endif
