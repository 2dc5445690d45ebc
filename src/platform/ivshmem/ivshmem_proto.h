/*
 * QEMU's ivshmem server protocol (docs/specs/ivshmem-spec.rst in QEMU), the
 * part shared by hvcomm-ivshmem-server and the host peer backend.
 *
 * Every message is one little-endian int64 over a UNIX stream socket,
 * optionally carrying one file descriptor in SCM_RIGHTS:
 *
 *   server -> new client: version (0, no fd); the client's own id (no fd);
 *                         -1 with the shared-memory fd;
 *                         then, for every peer (the client itself last),
 *                         one message per vector: peer id with an eventfd.
 *   server -> others:     a new peer's id with its eventfds (one per vector);
 *                         a peer id without fd: that peer left.
 *   client -> server:     nothing. A client that sends anything is broken.
 *
 * Internal to hvcomm (hvc__ prefix); hosted Linux code.
 */
#ifndef HVC_IVSHMEM_PROTO_H
#define HVC_IVSHMEM_PROTO_H

#include <stdint.h>

/** The only protocol version there is. */
#define HVC__IVS_PROTO_VERSION 0
/** The id that comes with the shared-memory fd. */
#define HVC__IVS_SHM_ID (-1)
/** Peer ids are 16 bits wide (the Doorbell register's upper half). */
#define HVC__IVS_MAX_ID 0xffff

/*
 * Send one message; fd < 0 sends none. Never raises SIGPIPE and never
 * blocks on a non-blocking socket.
 * Returns 0, -HVC_EAGAIN (socket buffer full), -HVC_EPEERGONE (closed),
 * -HVC_EIO.
 */
int hvc__ivs_send(int sock, int64_t value, int fd);

/*
 * Receive one message. With `nonblock`, returns -HVC_EAGAIN when nothing is
 * pending; otherwise waits up to `timeout_ms` (-1: forever). A received fd
 * (close-on-exec) goes to *fd, else *fd = -1; a message with more than one
 * fd, or a truncated control message, is -HVC_EPROTO (every fd received is
 * closed). Returns 0, -HVC_EAGAIN, -HVC_ETIMEDOUT, -HVC_EPEERGONE (end of
 * stream), -HVC_EPROTO, -HVC_EIO.
 */
int hvc__ivs_recv(int sock, int64_t *value, int *fd, int nonblock,
                  int timeout_ms);

#endif
