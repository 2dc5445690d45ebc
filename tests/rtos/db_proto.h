/*
 * The doorbell variant of tests/rtos (rtos-doorbell.yaml): what the guest
 * (db_guest.c) publishes on its sampling port "status" for the Linux side
 * (db_host.c). Ring messages are those of proto.h.
 */
#ifndef HVC_RTOS_DB_PROTO_H
#define HVC_RTOS_DB_PROTO_H

#include <stdint.h>

#include "proto.h"

#define DB_POLL_ROUNDS 200u  /* polled round trips after one "poll" event */
#define DB_STREAM_MSGS 400u  /* messages each way after one "stream" event */
#define DB_ECHO_PORT 7u     /* the guest's TCP echo server on "net" */
#define DB_NET_BULK (4u * 1024u * 1024u) /* streamed, echoed, checked by the host */
#define DB_NET_RTT 200u      /* then this many one-piece round trips ... */
#define DB_NET_PIECE 64u     /* ... of this many bytes */
#define DB_NET_BYTES (DB_NET_BULK + DB_NET_RTT * DB_NET_PIECE)
#define DB_MSI_ID 16u        /* the IMSIC identity of the device's vector 0 */

/* Counters of one guest incarnation; `phase` moves after each request. */
struct db_status {
    uint32_t magic;       /* RTOS_MSG_MAGIC */
    uint32_t boot;        /* per boot (guest clock at start) */
    uint32_t ivposition;  /* the device's IVPosition = hvcomm peer id */
    uint32_t phase;       /* requests served (ping batches excluded) */
    uint32_t selftest_irq; /* 1: a doorbell rung to itself came back as MSI-X */
    uint32_t pings;       /* ping events answered (sleeping waits) */
    uint32_t polls;       /* polled round trips answered */
    uint32_t waits_slept; /* event waits that executed WFI */
    uint32_t waits_irq;   /* event waits during which a doorbell interrupt came */
    uint32_t waits_timer_only; /* event waits with a timer interrupt and no doorbell */
    uint32_t waits_slept_noirq; /* event waits that executed WFI and took no doorbell */
    uint32_t irqs;        /* doorbell interrupts (MSI-X via the IMSIC) taken */
    uint32_t timer_irqs;  /* timer interrupts (wait slices' alarms) taken */
    uint32_t sleeps;      /* WFI executed */
    uint32_t rx;          /* good DATA messages received on l2g */
    uint32_t tx;          /* DATA messages sent on g2l */
    uint32_t bad;         /* bad messages or failed calls */
    uint32_t stream_sleeps; /* WFI executed during the last stream */
    uint32_t stream_irqs;   /* doorbell interrupts during the last stream */
    uint32_t net_rx;        /* TCP bytes received by the echo server */
    uint32_t net_tx;        /* TCP bytes it queued back */
    uint32_t net_waits_slept;   /* hvc_vnet_wait() calls that executed WFI */
    uint32_t net_waits_irq;     /* ... ended by a doorbell interrupt */
    uint32_t net_waits_timer;   /* ... ended by the timer only (lwIP's timeouts) */
    uint32_t net_irqs;      /* doorbell interrupts during the TCP phase */
    uint32_t net_done;      /* 1: the echo connection closed cleanly */
};

#endif
