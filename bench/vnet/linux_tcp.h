/* Linux loopback TCP baselines for hvcomm-bench-vnet (kept apart from lwIP,
 * whose headers clash with the system's socket headers). */
#ifndef HVC_BENCH_LINUX_TCP_H
#define HVC_BENCH_LINUX_TCP_H

#include <stddef.h>
#include <stdint.h>

uint64_t linux_now_ns(void);
/* Stream `bytes` from this process to a forked one over 127.0.0.1; *ns is
 * the time until the receiver acknowledged the end. 0 or -1. */
int linux_tcp_stream(uint64_t bytes, const uint8_t *payload, size_t payload_len,
                     uint64_t *ns);
/* `iters` 64-byte request/response round trips (TCP_NODELAY, blocking
 * reads) after iters / 10 of warm-up; rtt[i] in ns, unsorted. 0 or -1. */
int linux_tcp_rr(int iters, const uint8_t *payload, uint64_t *rtt);

/* Stream `bytes` `runs` times over a veth pair between two network
 * namespaces made for the purpose (10.77.0.1 -> 10.77.0.2, nothing else
 * touched), with the default offloads or with TSO/GSO/GRO off; ns[i] per
 * run. 0, -1 on failure, -2 when ip(8) or ethtool(8) is missing. */
int linux_veth_stream(int offloads_on, int runs, uint64_t bytes, const uint8_t *payload,
                      size_t payload_len, uint64_t *ns);

#endif
