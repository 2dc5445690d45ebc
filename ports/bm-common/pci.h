/*
 * A small PCI helper for bare-metal guests on a PCIe host with ECAM (QEMU's
 * generic "gpex" host of riscv64 and aarch64 `virt`): find a function by
 * vendor and device id, size and assign its memory BARs when no firmware
 * did, enable memory decoding and bus mastering, route MSI-X vectors.
 * Freestanding C11; every configuration-space register is read once into
 * a local and used from there.
 */
#ifndef HVC_PORTS_PCI_H
#define HVC_PORTS_PCI_H

#include <stdbool.h>
#include <stdint.h>

/* One function's configuration space (a 4 KiB ECAM page). */
struct bm_pci_dev {
    uintptr_t cfg; /* ECAM address of the function's configuration space */
    uint8_t bus, dev, fn;
};

/* A window of the host bridge's memory space that BARs are placed in. */
struct bm_pci_window {
    uint64_t next; /* first free address */
    uint64_t end;  /* one past the window */
};

/* What a memory BAR is, from bm_pci_bar_probe(). */
struct bm_pci_bar {
    uint64_t size;  /* bytes (0: the BAR is not implemented) */
    bool is64;      /* a 64-bit BAR (takes this BAR and the next) */
    bool prefetch;  /* prefetchable */
};

/*
 * Look for vendor:device on buses 0..nbus-1 of the ECAM at `ecam`: 0 and
 * *out, or -1 when there is none.
 */
int bm_pci_find(uintptr_t ecam, uint32_t nbus, uint16_t vendor, uint16_t device,
                struct bm_pci_dev *out);

/*
 * Size memory BAR `bar` (0..5), with memory decoding off (the probe writes
 * all ones to the BAR); restores its value. -1 for an I/O BAR or a bad
 * index.
 */
int bm_pci_bar_probe(const struct bm_pci_dev *d, unsigned bar, struct bm_pci_bar *out);

/* Program BAR `bar` with `addr` (both halves for a 64-bit BAR). -1 when
 * `addr` does not fit a 32-bit BAR. */
int bm_pci_bar_set(const struct bm_pci_dev *d, unsigned bar, const struct bm_pci_bar *b,
                   uint64_t addr);

/*
 * Place BAR `bar` in the window, naturally aligned: probes, allocates,
 * programs. 0 and *addr; -1 when it does not fit or is not a memory BAR.
 */
int bm_pci_bar_assign(const struct bm_pci_dev *d, unsigned bar, struct bm_pci_window *w,
                      uint64_t *addr);

/* Command register: memory space and bus mastering on, I/O off, INTx
 * disabled when `intx_off` (a function that signals MSI-X). */
void bm_pci_enable(const struct bm_pci_dev *d, bool intx_off);

/* Offset of capability `id` in configuration space, or 0 when absent. */
unsigned bm_pci_cap(const struct bm_pci_dev *d, uint8_t id);

#define BM_PCI_CAP_MSIX 0x11u

/*
 * MSI-X: route vector `vec` to a write of `data` at `addr` (its entry in
 * the table, which lives in BAR `bar_addr[BIR]`; `bar_addr` lists the
 * addresses the caller assigned to BARs 0..5), unmasked. -1 without an
 * MSI-X capability, a vector beyond the table or a table BAR not given.
 */
int bm_pci_msix_route(const struct bm_pci_dev *d, const uint64_t bar_addr[6], unsigned vec,
                      uint64_t addr, uint32_t data);

/* MSI-X on (function mask off) or off. -1 without the capability. */
int bm_pci_msix_enable(const struct bm_pci_dev *d, bool on);

#endif
