/*
 * What a bare-metal board port gives the test and bench programs of
 * tests/baremetal (and any application): output, exit, time, the core id,
 * the shared windows and a filled hvc_baremetal descriptor. One file per
 * board implements it (ports/<board>/board.c), with its startup code and
 * linker script beside it.
 */
#ifndef HVC_PORTS_BOARD_H
#define HVC_PORTS_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include <hvcomm/baremetal.h>

/* Cores this board runs (1 or 2). */
extern const uint32_t board_ncores;
/* The board's name, printed in reports. */
extern const char board_name[];

/* Shared windows: regions "shm0".."shm3" and a raw control block (test
 * barriers and the raw ping-pong baselines), at fixed addresses. */
extern const struct hvc_baremetal_region board_regions[];
extern const uint32_t board_nregions;
#define BOARD_CTRL_SIZE 4096u
extern const uintptr_t board_ctrl_base;

/* Write a NUL-terminated string (both cores may call it). */
void board_puts(const char *s);
/* End the run: QEMU exits with `code` (0 pass). Called by core 0. */
_Noreturn void board_exit(int code);
/* This core's id, 0 or 1. */
uint32_t board_core(void);
/* Monotonic nanoseconds (this core's clock). */
uint64_t board_now_ns(void);
/* Fill a descriptor for this core; with doorbells = false, no driver. */
void board_desc(struct hvc_baremetal_desc *d, bool doorbells);
/* Per core: the instance whose driver the doorbell ISR feeds (NULL:
 * the ISR only clears the doorbell). One image runs on both cores, so
 * this is indexed by the core id. */
extern struct hvc_baremetal *volatile board_bm[2];
/* Send a raw doorbell to core `peer` (for the raw baseline). */
void board_raw_ring(uint32_t peer);
/* Interrupts on (after the trap/vector set-up done by the startup code). */
void board_irq_on(void);
/* Start core 1 at board_main(1) (no-op where both start together). */
void board_start_core1(void);

/* The program: entered on every core, after board set-up. */
int board_main(uint32_t core);

/* Called by the port when a CPU exception (not an interrupt) occurs. */
_Noreturn void board_fault(const char *what, uintptr_t cause, uintptr_t pc);

#endif
