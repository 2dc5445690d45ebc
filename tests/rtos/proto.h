/*
 * What the Linux processes and the bare-metal guest of tests/rtos say to
 * each other on the rings of rtos-linux.yaml, and what the guest publishes
 * on its sampling port. Shared by host.c (hosted) and guest.c (freestanding).
 */
#ifndef HVC_RTOS_PROTO_H
#define HVC_RTOS_PROTO_H

#include <stdint.h>

#define RTOS_MSG_MAGIC 0x52544f53u /* "RTOS" */
#define RTOS_MAX_PAYLOAD 480u

enum rtos_msg_type {
    RTOS_DATA = 1, /* a checksummed message of the stream */
    RTOS_SEND = 2, /* l2g: "send me `seq` messages on g2l" */
};

/* One ring message: this header, then `len` payload bytes. */
struct rtos_msg {
    uint32_t magic;
    uint32_t type;
    uint32_t seq;  /* per stream, from 0 */
    uint32_t len;  /* payload bytes */
    uint32_t sum;  /* FNV-1a over type, seq, len and the payload */
    uint32_t pad;
    uint8_t payload[RTOS_MAX_PAYLOAD];
};

/* The guest's sampling port: counters of the current incarnation. */
struct rtos_status {
    uint32_t magic;      /* RTOS_MSG_MAGIC */
    uint32_t boot;       /* random per boot (its mtime at start) */
    uint32_t loops;      /* main-loop iterations */
    uint32_t pings;      /* ping events answered */
    uint32_t mpings;     /* mping events answered */
    uint32_t rx;         /* good DATA messages received */
    uint32_t tx;         /* DATA messages sent */
    uint32_t bad;        /* bad messages (checksum, sequence, size) */
    uint32_t linux_gone; /* times it saw peer "linux" leave READY */
    uint32_t linux_seen; /* times it saw peer "linux" become READY */
    uint32_t net;        /* 1: vnet open and the link up; 2: opening failed */
    uint32_t iperf_runs; /* lwiperf sessions finished */
    uint32_t iperf_kbps; /* lwiperf's figure of the last session */
    uint32_t iperf_kb;   /* KiB received in the last session */
};

static inline uint32_t rtos_fnv(uint32_t h, const void *p, uint32_t n)
{
    const uint8_t *b = p;

    for (uint32_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static inline uint32_t rtos_sum(const struct rtos_msg *m)
{
    uint32_t h = 2166136261u;

    h = rtos_fnv(h, &m->type, 12); /* type, seq, len */
    return rtos_fnv(h, m->payload, m->len);
}

/* The payload of message `seq` of a stream: its length and bytes. */
static inline uint32_t rtos_fill(struct rtos_msg *m, uint32_t seq, uint32_t salt)
{
    uint32_t x = seq * 2654435761u ^ salt, len;

    x = x ? x : 1;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    len = 1 + x % RTOS_MAX_PAYLOAD;
    for (uint32_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        m->payload[i] = (uint8_t)x;
    }
    m->magic = RTOS_MSG_MAGIC;
    m->type = RTOS_DATA;
    m->seq = seq;
    m->len = len;
    m->pad = 0;
    m->sum = rtos_sum(m);
    return len;
}

#define RTOS_HDR 24u
#define RTOS_SALT_L2G 0x1111u
#define RTOS_SALT_G2L 0x2222u

#endif
