/*
 * PCI through ECAM for bare-metal guests (pci.h). Configuration space is
 * little-endian and accessed with aligned 32-bit loads and stores (the
 * 16-bit command and MSI-X control registers by read-modify-write of their
 * dword), which every ECAM host accepts.
 */
#include "pci.h"

#define PCI_VENDOR 0x00u
#define PCI_COMMAND 0x04u /* low half; status in the high half */
#define PCI_HEADER 0x0cu  /* header type in bits 23:16 */
#define PCI_BAR0 0x10u
#define PCI_CAPS 0x34u
#define PCI_STATUS_CAPS (1u << 20) /* in the command/status dword */
#define CMD_IO 1u
#define CMD_MEM 2u
#define CMD_MASTER 4u
#define CMD_INTX_OFF (1u << 10)
#define MSIX_ENABLE (1u << 31)   /* message control bit 15, in the cap's dword */
#define MSIX_FMASK (1u << 30)    /* message control bit 14 */

static inline uint32_t cfg_r(const struct bm_pci_dev *d, unsigned off)
{
    return *(volatile const uint32_t *)(d->cfg + off);
}

static inline void cfg_w(const struct bm_pci_dev *d, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(d->cfg + off) = v;
}

static inline void mmio_w32(uint64_t a, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)a = v;
}

int bm_pci_find(uintptr_t ecam, uint32_t nbus, uint16_t vendor, uint16_t device,
                struct bm_pci_dev *out)
{
    for (uint32_t bus = 0; bus < nbus && bus < 256; bus++) {
        for (uint32_t dev = 0; dev < 32; dev++) {
            for (uint32_t fn = 0; fn < 8; fn++) {
                struct bm_pci_dev d = {ecam + (bus << 20 | dev << 15 | fn << 12),
                                       (uint8_t)bus, (uint8_t)dev, (uint8_t)fn};
                uint32_t id = cfg_r(&d, PCI_VENDOR), hdr;

                if ((id & 0xffffu) == 0xffffu) {
                    if (fn == 0)
                        break; /* no device in this slot */
                    continue;
                }
                if ((id & 0xffffu) == vendor && id >> 16 == device) {
                    *out = d;
                    return 0;
                }
                hdr = cfg_r(&d, PCI_HEADER);
                if (fn == 0 && !(hdr & (1u << 23)))
                    break; /* single-function device */
            }
        }
    }
    return -1;
}

int bm_pci_bar_probe(const struct bm_pci_dev *d, unsigned bar, struct bm_pci_bar *out)
{
    unsigned off = PCI_BAR0 + 4u * bar;
    uint32_t lo, lo_mask, hi = 0, hi_mask = 0;
    uint64_t mask;

    if (bar > 5)
        return -1;
    lo = cfg_r(d, off);
    if (lo & 1u)
        return -1; /* I/O space */
    out->is64 = ((lo >> 1) & 3u) == 2u;
    out->prefetch = (lo & 8u) != 0;
    if (out->is64 && bar == 5)
        return -1;
    cfg_w(d, off, ~0u);
    lo_mask = cfg_r(d, off);
    cfg_w(d, off, lo);
    if (out->is64) {
        hi = cfg_r(d, off + 4);
        cfg_w(d, off + 4, ~0u);
        hi_mask = cfg_r(d, off + 4);
        cfg_w(d, off + 4, hi);
    } else {
        hi_mask = lo_mask != 0 ? ~0u : 0u; /* a 32-bit BAR: upper bits fixed */
    }
    mask = (uint64_t)hi_mask << 32 | (lo_mask & ~0xfu);
    out->size = mask == 0 ? 0 : ~mask + 1;
    return 0;
}

int bm_pci_bar_set(const struct bm_pci_dev *d, unsigned bar, const struct bm_pci_bar *b,
                   uint64_t addr)
{
    unsigned off = PCI_BAR0 + 4u * bar;

    if (bar > 5 || (!b->is64 && addr >> 32 != 0))
        return -1;
    cfg_w(d, off, (uint32_t)addr);
    if (b->is64)
        cfg_w(d, off + 4, (uint32_t)(addr >> 32));
    return 0;
}

int bm_pci_bar_assign(const struct bm_pci_dev *d, unsigned bar, struct bm_pci_window *w,
                      uint64_t *addr)
{
    struct bm_pci_bar b;
    uint64_t a;

    if (bm_pci_bar_probe(d, bar, &b) < 0 || b.size == 0)
        return -1;
    a = (w->next + b.size - 1) & ~(b.size - 1);
    if (a < w->next || a > w->end || w->end - a < b.size || bm_pci_bar_set(d, bar, &b, a) < 0)
        return -1;
    w->next = a + b.size;
    *addr = a;
    return 0;
}

void bm_pci_enable(const struct bm_pci_dev *d, bool intx_off)
{
    uint32_t v = cfg_r(d, PCI_COMMAND) & 0xffffu;

    v = (v & ~CMD_IO) | CMD_MEM | CMD_MASTER;
    v = intx_off ? v | CMD_INTX_OFF : v & ~CMD_INTX_OFF;
    cfg_w(d, PCI_COMMAND, v); /* the status half: zero writes clear nothing */
}

unsigned bm_pci_cap(const struct bm_pci_dev *d, uint8_t id)
{
    uint32_t ptr;

    if (!(cfg_r(d, PCI_COMMAND) & PCI_STATUS_CAPS))
        return 0;
    ptr = cfg_r(d, PCI_CAPS) & 0xfcu;
    /* At most 48 capabilities fit in 192 bytes: a loop in the list ends. */
    for (int n = 0; ptr >= 0x40u && n < 48; n++) {
        uint32_t hdr = cfg_r(d, ptr);

        if ((hdr & 0xffu) == id)
            return ptr;
        ptr = (hdr >> 8) & 0xfcu;
    }
    return 0;
}

int bm_pci_msix_route(const struct bm_pci_dev *d, const uint64_t bar_addr[6], unsigned vec,
                      uint64_t addr, uint32_t data)
{
    unsigned cap = bm_pci_cap(d, BM_PCI_CAP_MSIX);
    uint32_t ctl, tbl;
    uint64_t entry;

    if (cap == 0)
        return -1;
    ctl = cfg_r(d, cap);
    tbl = cfg_r(d, cap + 4);
    if (vec > ((ctl >> 16) & 0x7ffu) || (tbl & 7u) > 5 || bar_addr[tbl & 7u] == 0)
        return -1;
    entry = bar_addr[tbl & 7u] + (tbl & ~7u) + 16u * vec;
    mmio_w32(entry + 0, (uint32_t)addr);
    mmio_w32(entry + 4, (uint32_t)(addr >> 32));
    mmio_w32(entry + 8, data);
    mmio_w32(entry + 12, 0); /* vector control: unmasked */
    return 0;
}

int bm_pci_msix_enable(const struct bm_pci_dev *d, bool on)
{
    unsigned cap = bm_pci_cap(d, BM_PCI_CAP_MSIX);
    uint32_t ctl;

    if (cap == 0)
        return -1;
    ctl = cfg_r(d, cap) & ~MSIX_FMASK;
    cfg_w(d, cap, on ? ctl | MSIX_ENABLE : ctl & ~MSIX_ENABLE);
    return 0;
}
