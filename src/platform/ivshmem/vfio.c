/*
 * VFIO for the ivshmem guest backend: how a Linux guest's user space
 * receives the device's MSI-X interrupts (Linux's
 * Documentation/driver-api/vfio.rst). Needs an IOMMU in the guest (QEMU:
 * q35 with -device intel-iommu, kernel intel_iommu=on) because Debian's
 * kernels lack VFIO's no-IOMMU mode; uio_pci_generic cannot help, as the
 * device raises MSI-X only.
 */
#define _GNU_SOURCE
#include "../hosted.h"
#include "ivshmem_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4 /* without it MSI-X writes are dropped silently */

static int sysfs_write(const char *path, const char *val)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return errno == EACCES || errno == EPERM ? -HVC_EACCES : -HVC_ENOTSUP;
    n = write(fd, val, strlen(val));
    close(fd);
    return n == (ssize_t)strlen(val) ? 0 : -HVC_EIO;
}

/* The name of the driver bound to the device, "" when none. */
static void current_driver(const char *addr, char *buf, size_t len)
{
    char path[PATH_MAX], link[PATH_MAX];
    ssize_t n;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", addr);
    n = readlink(path, link, sizeof(link) - 1);
    buf[0] = '\0';
    if (n > 0) {
        link[n] = '\0';
        const char *b = strrchr(link, '/');
        size_t i = 0;

        /* A driver name longer than buf is cut: it only has to differ. */
        for (b = b != NULL ? b + 1 : link; i + 1 < len && b[i] != '\0'; i++)
            buf[i] = b[i];
        buf[i] = '\0';
    }
}

static int bind_vfio(const char *addr)
{
    char path[PATH_MAX], drv[64];
    struct stat sb;
    int rc;

    current_driver(addr, drv, sizeof(drv));
    if (strcmp(drv, "vfio-pci") == 0)
        return 0;
    if (stat("/sys/bus/pci/drivers/vfio-pci", &sb) < 0) {
        hvc_log(HVC_LOG_INFO, "ivshmem-guest: no vfio-pci driver (modules not loaded)");
        return -HVC_ENOTSUP;
    }
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", addr);
    if ((rc = sysfs_write(path, "vfio-pci")) < 0)
        return rc;
    if (drv[0] != '\0') {
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", addr);
        if ((rc = sysfs_write(path, addr)) < 0)
            return rc;
    }
    /* drivers_probe matches the device against driver_override. */
    sysfs_write("/sys/bus/pci/drivers_probe", addr);
    current_driver(addr, drv, sizeof(drv));
    if (strcmp(drv, "vfio-pci") != 0) {
        hvc_log(HVC_LOG_INFO, "ivshmem-guest: %s did not bind to vfio-pci "
                "(no IOMMU group?)", addr);
        return -HVC_ENOTSUP;
    }
    return 0;
}

static int iommu_group(const char *addr)
{
    char path[PATH_MAX], link[PATH_MAX];
    const char *b;
    ssize_t n;
    long g;
    char *end;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", addr);
    n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0)
        return -HVC_ENOTSUP;
    link[n] = '\0';
    b = strrchr(link, '/');
    b = b != NULL ? b + 1 : link;
    g = strtol(b, &end, 10);
    if (*end != '\0' || g < 0 || g > INT_MAX)
        return -HVC_EIO;
    return (int)g;
}

static int region_info(int dev, uint32_t index, struct vfio_region_info *ri)
{
    memset(ri, 0, sizeof(*ri));
    ri->argsz = sizeof(*ri);
    ri->index = index;
    return ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, ri) < 0 ? -HVC_EIO : 0;
}

static int enable_master(struct hvc__ivs_vfio *v)
{
    struct vfio_region_info cfg;
    uint16_t cmd;

    if (region_info(v->device, VFIO_PCI_CONFIG_REGION_INDEX, &cfg) < 0)
        return -HVC_EIO;
    if (pread(v->device, &cmd, sizeof(cmd), (off_t)(cfg.offset + PCI_COMMAND)) != sizeof(cmd))
        return -HVC_EIO;
    cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    if (pwrite(v->device, &cmd, sizeof(cmd), (off_t)(cfg.offset + PCI_COMMAND)) != sizeof(cmd))
        return -HVC_EIO;
    return 0;
}

static int route_msix(struct hvc__ivs_vfio *v)
{
    struct vfio_irq_info ii = {.argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX};
    char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t) * HVC_IVSHMEM_GUEST_MAX_VECTORS];
    struct vfio_irq_set *set = (struct vfio_irq_set *)(void *)buf;
    uint32_t n;

    if (ioctl(v->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0 || ii.count == 0 ||
        !(ii.flags & VFIO_IRQ_INFO_EVENTFD))
        return -HVC_ENOTSUP; /* no MSI-X: ivshmem-plain */
    n = ii.count < HVC_IVSHMEM_GUEST_MAX_VECTORS ? ii.count : HVC_IVSHMEM_GUEST_MAX_VECTORS;
    for (v->nvec = 0; v->nvec < n; v->nvec++) {
        v->efd[v->nvec] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (v->efd[v->nvec] < 0)
            return -HVC_EIO;
    }
    memset(buf, 0, sizeof(buf));
    set->argsz = (uint32_t)(sizeof(*set) + sizeof(int32_t) * n);
    set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    set->index = VFIO_PCI_MSIX_IRQ_INDEX;
    set->start = 0;
    set->count = n;
    memcpy(set->data, v->efd, sizeof(int32_t) * n);
    if (ioctl(v->device, VFIO_DEVICE_SET_IRQS, set) < 0) {
        hvc_log(HVC_LOG_WARN, "ivshmem-guest: VFIO_DEVICE_SET_IRQS failed (%d)", errno);
        return -HVC_EIO;
    }
    return 0;
}

int hvc__ivs_vfio_open(struct hvc__ivs_vfio *v, const char *addr)
{
    struct vfio_group_status gs = {.argsz = sizeof(gs)};
    struct vfio_region_info ri;
    char path[64];
    int group, rc, type;

    memset(v, 0, sizeof(*v));
    v->container = v->group = v->device = -1;
    if ((rc = bind_vfio(addr)) < 0)
        return rc;
    if ((group = iommu_group(addr)) < 0)
        return group;
    v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (v->container < 0) {
        rc = -HVC_ENOTSUP;
        goto fail;
    }
    if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
        rc = -HVC_ENOTSUP;
        goto fail;
    }
    type = ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ? VFIO_TYPE1v2_IOMMU
           : ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0 ? VFIO_TYPE1_IOMMU
                                                                              : -1;
    if (type < 0) {
        rc = -HVC_ENOTSUP;
        goto fail;
    }
    snprintf(path, sizeof(path), "/dev/vfio/%d", group);
    v->group = open(path, O_RDWR | O_CLOEXEC);
    if (v->group < 0) {
        rc = errno == EBUSY ? -HVC_EBUSY : -HVC_ENOTSUP;
        goto fail;
    }
    if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &gs) < 0 ||
        !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        hvc_log(HVC_LOG_INFO, "ivshmem-guest: IOMMU group %d not viable", group);
        rc = -HVC_ENOTSUP;
        goto fail;
    }
    if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) < 0 ||
        ioctl(v->container, VFIO_SET_IOMMU, type) < 0) {
        hvc_log(HVC_LOG_INFO, "ivshmem-guest: cannot set the IOMMU (%d); no "
                "interrupt remapping?", errno);
        rc = -HVC_ENOTSUP;
        goto fail;
    }
    v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, addr);
    if (v->device < 0) {
        rc = -HVC_EIO;
        goto fail;
    }
    if (region_info(v->device, VFIO_PCI_BAR0_REGION_INDEX, &ri) < 0 || ri.size < 16) {
        rc = -HVC_EIO;
        goto fail;
    }
    v->bar0_off = ri.offset;
    v->bar0_size = ri.size;
    if (region_info(v->device, VFIO_PCI_BAR2_REGION_INDEX, &ri) < 0 || ri.size == 0) {
        rc = -HVC_EIO;
        goto fail;
    }
    v->bar2_off = ri.offset;
    v->bar2_size = ri.size;
    v->bar2_mmap = (ri.flags & VFIO_REGION_INFO_FLAG_MMAP) != 0;
    if ((rc = enable_master(v)) < 0 || (rc = route_msix(v)) < 0)
        goto fail;
    hvc_log(HVC_LOG_INFO, "ivshmem-guest: %s through VFIO group %d, %u vectors", addr,
            group, v->nvec);
    return 0;

fail:
    hvc__ivs_vfio_close(v);
    return rc;
}

void hvc__ivs_vfio_close(struct hvc__ivs_vfio *v)
{
    if (v->device >= 0 && v->nvec > 0) {
        struct vfio_irq_set off = {.argsz = sizeof(off),
                                   .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                                   .index = VFIO_PCI_MSIX_IRQ_INDEX};
        ioctl(v->device, VFIO_DEVICE_SET_IRQS, &off);
    }
    for (uint32_t i = 0; i < v->nvec; i++)
        close(v->efd[i]);
    v->nvec = 0;
    if (v->device >= 0)
        close(v->device);
    if (v->group >= 0)
        close(v->group);
    if (v->container >= 0)
        close(v->container);
    v->device = v->group = v->container = -1;
}

#define mono_ns hvc__hosted_now_ns

int hvc__ivs_vfio_wait(struct hvc__ivs_vfio *v, int64_t timeout_ns, uint32_t *vector)
{
    struct pollfd pfd[HVC_IVSHMEM_GUEST_MAX_VECTORS];
    uint64_t start = mono_ns();

    for (;;) {
        int64_t left = timeout_ns;
        int ms;

        for (uint32_t i = 0; i < v->nvec; i++) {
            uint64_t cnt;
            if (read(v->efd[i], &cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt)) {
                *vector = i;
                return 0;
            }
        }
        if (timeout_ns != HVC_FOREVER) {
            uint64_t el = mono_ns() - start;
            if (el >= (uint64_t)timeout_ns)
                return -HVC_ETIMEDOUT;
            left = timeout_ns - (int64_t)el;
        }
        for (uint32_t i = 0; i < v->nvec; i++) {
            pfd[i].fd = v->efd[i];
            pfd[i].events = POLLIN;
        }
        ms = timeout_ns == HVC_FOREVER ? -1
             : left / 1000000 >= INT_MAX ? INT_MAX
                                         : (int)((left + 999999) / 1000000);
        poll(pfd, v->nvec, ms);
    }
}

int hvc__ivs_vfio_reg_read(struct hvc__ivs_vfio *v, uint32_t off, uint32_t *val)
{
    if ((uint64_t)off + 4 > v->bar0_size)
        return -HVC_EINVAL;
    return pread(v->device, val, 4, (off_t)(v->bar0_off + off)) == 4 ? 0 : -HVC_EIO;
}

int hvc__ivs_vfio_reg_write(struct hvc__ivs_vfio *v, uint32_t off, uint32_t val)
{
    if ((uint64_t)off + 4 > v->bar0_size)
        return -HVC_EINVAL;
    return pwrite(v->device, &val, 4, (off_t)(v->bar0_off + off)) == 4 ? 0 : -HVC_EIO;
}
