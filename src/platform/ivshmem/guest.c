/*
 * The ivshmem guest backend: Linux guest user space on QEMU's ivshmem
 * device. BAR0 holds the registers (IVPosition, Doorbell), BAR1 the MSI-X
 * table (ivshmem-doorbell only), BAR2 the shared memory.
 *
 * Everything the device reports is checked: IVPosition must be a 16-bit id,
 * BAR sizes must be non-zero and fit the address space, and the size the
 * caller asks for must fit BAR2.
 */
#define _GNU_SOURCE
#include "../hosted.h"
#include "ivshmem_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define IVG_MAGIC 0x49564731u /* "IVG1" */

struct ivg_state {
    uint32_t magic;
    int32_t mode;       /* enum hvc_ivshmem_mode */
    int32_t id;         /* IVPosition, -1 when none */
    uint32_t vfio_on;
    char addr[32];
    void *shm;
    uint64_t shm_size;
    uint32_t shm_from_vfio;
    uint32_t regs_len;
    void *regs_map;     /* sysfs mapping of BAR0's page(s), or NULL */
    volatile uint32_t *regs;
    struct hvc__ivs_vfio vfio;
};

_Static_assert(sizeof(struct ivg_state) <= HVC_PLATFORM_STATE_MAX, "state");

struct bar {
    uint64_t start, size;
};

static int read_hex(const char *addr, const char *file, unsigned long *out)
{
    char path[PATH_MAX], buf[32];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", addr, file);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    *out = strtoul(buf, NULL, 16);
    return 0;
}

static int is_ivshmem(const char *addr)
{
    unsigned long ven, dev;

    return read_hex(addr, "vendor", &ven) == 0 && read_hex(addr, "device", &dev) == 0 &&
           ven == HVC_IVSHMEM_VENDOR && dev == HVC_IVSHMEM_DEVICE;
}

/* "auto": the first ivshmem device, in directory order sorted by address. */
static int find_device(char *out, size_t len)
{
    struct dirent **list;
    int n, found = -HVC_ENOENT;

    n = scandir("/sys/bus/pci/devices", &list, NULL, alphasort);
    if (n < 0)
        return errno == EACCES ? -HVC_EACCES : -HVC_ENOENT;
    for (int i = 0; i < n; i++) {
        if (found < 0 && list[i]->d_name[0] != '.' && is_ivshmem(list[i]->d_name) &&
            strlen(list[i]->d_name) < len) {
            strcpy(out, list[i]->d_name);
            found = 0;
        }
        free(list[i]);
    }
    free(list);
    return found;
}

/* BARs 0..2 from the sysfs "resource" file: "start end flags" per line. */
static int read_bars(const char *addr, struct bar bars[3])
{
    char path[PATH_MAX];
    FILE *f;
    int i;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", addr);
    f = fopen(path, "re");
    if (f == NULL)
        return -HVC_ENOENT;
    for (i = 0; i < 3; i++) {
        unsigned long long s, e, fl;
        if (fscanf(f, "%llx %llx %llx", &s, &e, &fl) != 3)
            break;
        bars[i].start = s;
        bars[i].size = (e > s || (e == s && s != 0)) ? e - s + 1 : 0;
    }
    fclose(f);
    return i == 3 ? 0 : -HVC_EIO;
}

static int map_resource(const char *addr, int bar, uint64_t off_in_page,
                        uint64_t len, int prot, void **out)
{
    char path[PATH_MAX];
    void *m;
    int fd;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d", addr, bar);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == EACCES || errno == EPERM ? -HVC_EACCES : -HVC_ENOENT;
    m = mmap(NULL, (size_t)(off_in_page + len), prot, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return -HVC_EIO;
    *out = m;
    return 0;
}

static int reg_read(struct ivg_state *st, uint32_t off, uint32_t *val)
{
    if (st->vfio_on)
        return hvc__ivs_vfio_reg_read(&st->vfio, off, val);
    if (st->regs == NULL)
        return -HVC_ENOTSUP;
    *val = st->regs[off / 4];
    return 0;
}

static int reg_write(struct ivg_state *st, uint32_t off, uint32_t val)
{
    if (st->vfio_on)
        return hvc__ivs_vfio_reg_write(&st->vfio, off, val);
    if (st->regs == NULL)
        return -HVC_ENOTSUP;
    st->regs[off / 4] = val;
    return 0;
}

static int guest_unmap(const struct hvc_platform *p, void *state);

static int guest_map(const struct hvc_platform *p, void *state, const char *name,
                     uint64_t size, unsigned flags, struct hvc_mapping *out)
{
    struct ivg_state *st = state;
    long page = sysconf(_SC_PAGESIZE);
    struct bar bars[3];
    const char *comma = strchr(name, ',');
    size_t nlen = comma != NULL ? (size_t)(comma - name) : strlen(name);
    bool poll_only = comma != NULL && strcmp(comma, ",poll") == 0;
    bool doorbell;
    uint32_t pos;
    char path[PATH_MAX];
    int rc;

    (void)p;
    /* CREATE needs nothing: the device's memory exists. */
    int prot = PROT_READ | ((flags & HVC_MAP_RDONLY) ? 0 : PROT_WRITE);
    st->magic = IVG_MAGIC;
    st->id = -1;
    st->vfio.container = st->vfio.group = st->vfio.device = -1;
    if (comma != NULL && !poll_only)
        return -HVC_EINVAL;
    if (nlen == 0 || (nlen == 4 && strncmp(name, "auto", 4) == 0)) {
        if ((rc = find_device(st->addr, sizeof(st->addr))) < 0)
            return rc;
    } else {
        if (nlen >= sizeof(st->addr) || memchr(name, '/', nlen) != NULL)
            return -HVC_EINVAL;
        memcpy(st->addr, name, nlen);
        st->addr[nlen] = '\0';
        if (!is_ivshmem(st->addr))
            return -HVC_ENOENT;
    }
    if ((rc = read_bars(st->addr, bars)) < 0)
        return rc;
    if (bars[0].size < 16 || bars[2].size == 0 || bars[2].size > SIZE_MAX) {
        hvc_log(HVC_LOG_ERROR, "ivshmem-guest: %s: unexpected BARs", st->addr);
        return -HVC_EIO;
    }
    if (size > bars[2].size)
        return -HVC_EINVAL;
    doorbell = bars[1].size != 0; /* the MSI-X BAR */
    /* Let the kernel enable the device (memory decoding) if nothing has. */
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/enable", st->addr);
    {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, "1", 1) < 0) { /* already enabled, or no permission */ }
            close(fd);
        }
    }

    if (doorbell && !poll_only) {
        rc = hvc__ivs_vfio_open(&st->vfio, st->addr);
        if (rc == 0)
            st->vfio_on = 1;
        else
            hvc_log(HVC_LOG_INFO, "ivshmem-guest: no VFIO (%s); doorbells "
                    "can be rung, not received: poll", hvc_strerror(rc));
    }
    if (st->vfio_on && st->vfio.bar2_mmap) {
        void *m = mmap(NULL, (size_t)bars[2].size, prot, MAP_SHARED, st->vfio.device,
                       (off_t)st->vfio.bar2_off);
        if (m != MAP_FAILED) {
            st->shm = m;
            st->shm_from_vfio = 1;
        }
    }
    if (st->shm == NULL) {
        /* resource2, not resource2_wc: write-combined stores may be reordered,
         * which would break release/acquire publication in shared memory. */
        if ((rc = map_resource(st->addr, 2, 0, bars[2].size, prot, &st->shm)) < 0)
            goto fail;
    }
    st->shm_size = bars[2].size;
    if (!st->vfio_on) {
        uint64_t off = bars[0].start & (uint64_t)(page - 1);
        st->regs_len = (uint32_t)(off + bars[0].size);
        if (map_resource(st->addr, 0, off, bars[0].size, PROT_READ | PROT_WRITE,
                         &st->regs_map) == 0)
            st->regs = (volatile uint32_t *)(void *)((char *)st->regs_map + off);
        else
            st->regs_len = 0;
    }
    if (doorbell && reg_read(st, HVC_IVSHMEM_REG_IVPOSITION, &pos) == 0 &&
        pos <= 0xffffu)
        st->id = (int32_t)pos;
    else if (doorbell)
        hvc_log(HVC_LOG_WARN, "ivshmem-guest: %s: no valid IVPosition (%#x); "
                "not connected to a server?", st->addr, pos);
    st->mode = !doorbell ? HVC_IVSHMEM_PLAIN
               : st->vfio_on ? HVC_IVSHMEM_DOORBELL_VFIO
                             : HVC_IVSHMEM_DOORBELL_POLL;
    out->base = st->shm;
    out->size = st->shm_size;
    out->page_size = 0; /* no second views of a BAR */
    hvc_log(HVC_LOG_INFO, "ivshmem-guest: %s, %llu bytes, id %d, mode %d", st->addr,
            (unsigned long long)st->shm_size, st->id, st->mode);
    return 0;

fail:
    guest_unmap(p, state);
    return rc;
}

static int guest_unmap(const struct hvc_platform *p, void *state)
{
    struct ivg_state *st = state;

    (void)p;
    if (st->shm != NULL)
        munmap(st->shm, (size_t)st->shm_size);
    if (st->regs_map != NULL)
        munmap(st->regs_map, st->regs_len);
    if (st->vfio_on)
        hvc__ivs_vfio_close(&st->vfio);
    memset(st, 0, sizeof(*st));
    return 0;
}

static int guest_self_id(const struct hvc_platform *p, void *state)
{
    struct ivg_state *st = state;

    (void)p;
    return st->id >= 0 ? st->id : -HVC_ENOTSUP;
}

static int guest_self_token(const struct hvc_platform *p, void *state,
                            uint64_t *token)
{
    struct ivg_state *st = state;

    (void)p;
    if (st->id < 0)
        return -HVC_ENOTSUP;
    *token = HVC_IVSHMEM_TOKEN(st->id);
    return 0;
}

static int guest_notify(const struct hvc_platform *p, void *state, uint32_t peer,
                        uint32_t vector)
{
    struct ivg_state *st = state;

    (void)p;
    if (st->mode == HVC_IVSHMEM_PLAIN || st->id < 0)
        return -HVC_ENOTSUP;
    if (peer > 0xffffu || vector > 0xffffu)
        return -HVC_EINVAL;
    return reg_write(st, HVC_IVSHMEM_REG_DOORBELL, peer << 16 | vector);
}

static int guest_wait_notify(const struct hvc_platform *p, void *state,
                             int64_t timeout_ns, uint32_t *vector)
{
    struct ivg_state *st = state;

    (void)p;
    if (!st->vfio_on)
        return -HVC_ENOTSUP;
    return hvc__ivs_vfio_wait(&st->vfio, timeout_ns, vector);
}

/* Plain devices have no doorbells; without VFIO, doorbells can be rung but
 * not received. */
static uint32_t guest_caps(const struct hvc_platform *p, void *state)
{
    const struct ivg_state *st = state;
    uint32_t caps = HVC_CAP_SELF_ID;

    (void)p;
    if (st->mode != HVC_IVSHMEM_PLAIN && st->id >= 0)
        caps |= HVC_CAP_NOTIFY;
    if (st->vfio_on)
        caps |= HVC_CAP_WAIT_NOTIFY;
    return caps;
}

static uint64_t guest_now_ns(const struct hvc_platform *p)
{
    (void)p;
    return hvc__hosted_now_ns();
}

static int guest_control(const struct hvc_platform *p, void *state, uint32_t op,
                         void *arg)
{
    const struct ivg_state *st = state;

    (void)p;
    (void)arg;
    if (st->magic != IVG_MAGIC)
        return -HVC_EINVAL;
    return op == HVC_PLATFORM_OP_IVSHMEM_MODE ? st->mode : -HVC_ENOTSUP;
}

static const struct hvc_platform guest_platform = {
    .version = HVC_PLATFORM_VERSION,
    .token_ns = HVC_TOKEN_NS_IVSHMEM,
    .state_size = sizeof(struct ivg_state),
    .name = "ivshmem-guest",
    .map = guest_map,
    .unmap = guest_unmap,
    .self_id = guest_self_id,
    .self_token = guest_self_token,
    .notify = guest_notify,
    .wait_notify = guest_wait_notify,
    .now_ns = guest_now_ns,
    .caps = guest_caps,
    .control = guest_control,
};

const struct hvc_platform *hvc_platform_ivshmem_guest(void)
{
    return &guest_platform;
}

int hvc__ivshmem_control(struct hvc_platform_handle *h, uint32_t op, void *arg)
{
    int rc = hvc_platform_control(h, op, arg);

    /* Not an ivshmem handle (or not one that has this op): the documented
     * -HVC_EINVAL of the ivshmem calls. */
    return rc == -HVC_ENOTSUP ? -HVC_EINVAL : rc;
}

int hvc_ivshmem_mode(const struct hvc_platform_handle *h)
{
    /* The op only reads: the const handle is not written through. */
    return hvc__ivshmem_control((struct hvc_platform_handle *)(uintptr_t)h,
                                HVC_PLATFORM_OP_IVSHMEM_MODE, NULL);
}
