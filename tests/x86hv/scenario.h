/*
 * What the test VMM (vmm.c) and the guest program (guest.c) share: the
 * guest-physical layout, the ports, and the boot block through which the
 * VMM tells a guest its role and reads back its results.
 */
#ifndef X86HV_SCENARIO_H
#define X86HV_SCENARIO_H

#include <stdint.h>

#define GPA_BOOTINFO 0x9000u
#define GPA_IMAGE 0x100000u
#define GPA_RAM_SIZE 0x200000u
#define GPA_REGION 0x40000000u
#define REGION_SIZE 0x40000u

#define PORT_CALL 0x510
#define PORT_BELL 0x514
#define PORT_SERIAL 0x3f8
#define PORT_EXIT 0xf4
#define PORT_NOP 0x80   /* the VMM ignores it: the bare exit cost */

#define VEC_TICK 0x30u   /* the VMM's idle tick (direct injection) */
#define VEC_BELL 0x40u   /* first doorbell vector (direct injection) */
#define VEC_PIC 0x20u    /* PIC master base: IRQ 1 is vector 0x21 */

#define TICK_NS 10000000u
#define VMM_PEER 7u
#define MAX_PEERS 8u
#define MAX_ROUNDS 64u
#define RING_MSG 48u

enum scenario {
    S_EVENTS = 1, /* A<->B named events, doorbells through the VMM */
    S_IRQFD = 2,  /* A<->B raw doorbells, ioeventfd -> irqfd, PIC */
    S_POLL = 3,   /* A<->B a polled shared word (baseline) */
    S_RING = 4,   /* A -> B ring stream of checksummed messages */
    S_RDONLY = 5, /* C maps the region read-only and tries to write */
    S_BADREQ = 6, /* D issues bad requests while A<->B carry on */
    S_GONE = 7,   /* B stopped by the VMM, A sees it gone */
    S_BELLS = 8,  /* A<->B raw doorbells through the VMM (trapped OUT) */
};

enum role { ROLE_A = 0, ROLE_B = 1, ROLE_C = 2, ROLE_D = 3 };

#define BOOT_MAGIC 0x49425648u /* "HVBI" */

/* Result codes a guest returns through isa-debug-exit. */
#define GUEST_OK 0x10u
#define GUEST_FAIL 0x11u

struct bootinfo {
    uint32_t magic;
    uint32_t scenario;
    uint32_t role;
    uint32_t pic;      /* 1: doorbells through the 8259 (irqfd) */
    uint32_t rounds;   /* round trips / messages */
    uint32_t reserved;
    /* written by the guest */
    uint32_t done;
    uint32_t fails;    /* checks that failed */
    uint64_t tsc_khz;
    uint64_t rt_ns[MAX_ROUNDS]; /* round trips (A) */
    uint64_t sum;      /* ring: sum of checksums sent / received */
    uint32_t count;    /* ring: messages received intact */
    uint32_t bad;      /* ring: messages with a wrong checksum or seq */
    int64_t err[8];    /* bad requests: the codes the guest got */
    uint64_t ro_before, ro_after; /* read-only guest: word before / after its store */
    uint64_t ro_addr;  /* the guest-physical address it stored to */
    uint32_t gone_seen; /* A saw B gone */
    int32_t gone_notify; /* A's notify to gone B */
    uint32_t stop_me;  /* gone: A checked B alive; the VMM may stop B */
    uint64_t out_ns;   /* A: mean cost of one OUT exit to the VMM */
};

#endif
