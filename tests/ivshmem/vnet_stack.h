/* The QEMU scenario "vnet": one lwIP stack (NO_SYS=1, raw API) on a vnet
 * link, shared by the host driver (qemu_driver.c) and the guest program
 * (guest_init.c). This header carries no lwIP types, so neither of them
 * includes lwIP. Built only when hvcomm_vnet is (HVC_IVS_VNET).
 *
 * Functions return 0 (or a count) on success and -1 on failure with a
 * reason in ivs_vnet_error. Every loop calls the tick hook, which may exit
 * (the callers' fail() / finish() do). */
#ifndef HVC_IVS_VNET_STACK_H
#define HVC_IVS_VNET_STACK_H

#include <stddef.h>
#include <stdint.h>

struct hvc_region;

#define IVS_VNET_LINK "ivs-vnet"
#define IVS_VNET_PORT 7 /* TCP echo */

extern char ivs_vnet_error[160];

/* Called on every turn of every loop below (deadline, VM checks). */
void ivs_vnet_set_tick(void (*tick)(void));
/* Open the link, add 10.0.0.<idx+1>/24 and set it up (no wait). */
int ivs_vnet_start(struct hvc_region *r, const char *link, unsigned idx);
/* Run the stack until the link is up. */
int ivs_vnet_wait_up(uint64_t timeout_ns);
/* One turn: frames in, lwIP timers, sleep in hvc_vnet_wait() when idle. */
void ivs_vnet_step(void);
/* Run the stack for `ns` (idle: the other end's loop goes to sleep). */
void ivs_vnet_run_for(uint64_t ns);
/* ICMP echo to 10.0.0.<idx+1>; *rtt_ns the round trip of the answer. */
int ivs_vnet_ping(unsigned idx, uint16_t seq, uint64_t timeout_ns, uint64_t *rtt_ns);
/* Serve one TCP echo connection on IVS_VNET_PORT until the client closes
 * it; returns the bytes echoed (saturated at INT32_MAX). */
int ivs_vnet_echo_serve(uint64_t timeout_ns);
/* Client: connect to 10.0.0.<idx+1>:IVS_VNET_PORT. */
int ivs_vnet_echo_connect(unsigned idx, uint64_t timeout_ns);
/* Client: send n bytes, receive n bytes back into `back`. */
int ivs_vnet_echo_round(const void *msg, size_t n, void *back, uint64_t timeout_ns);
/* Client: close the connection (and let the FIN go out). */
void ivs_vnet_echo_close(void);
/* Sleeps in hvc_vnet_wait(): ended by frames (the other end's doorbell),
 * and ran out while idle. */
void ivs_vnet_sleeps(uint64_t *woken, uint64_t *timeouts);
/* Frames sent and received by this end. */
void ivs_vnet_frames(uint64_t *tx, uint64_t *rx);
/* Remove the netif and close the link. */
void ivs_vnet_stop(void);

#endif
