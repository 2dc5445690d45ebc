/* Encode and decode ivshmem server messages (see ivshmem_proto.h). */
#define _GNU_SOURCE
#include "ivshmem_proto.h"

#include <hvcomm/error.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void le64_put(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t le64_get(const unsigned char *b)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

int hvc__ivs_send(int sock, int64_t value, int fd)
{
    unsigned char buf[8];
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    le64_put(buf, (uint64_t)value);
    if (fd >= 0) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.space;
        msg.msg_controllen = sizeof(ctl.space);
        ctl.h.cmsg_level = SOL_SOCKET;
        ctl.h.cmsg_type = SCM_RIGHTS;
        ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(&ctl.h), &fd, sizeof(int));
    }
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(buf))
        return 0;
    if (n >= 0)
        return -HVC_EAGAIN; /* a partial message: the stream is now useless */
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return -HVC_EAGAIN;
    if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
        return -HVC_EPEERGONE;
    return -HVC_EIO;
}

static void close_fds(struct msghdr *msg)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
            c->cmsg_len < CMSG_LEN(0))
            continue;
        size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int f;
            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (f >= 0)
                close(f);
        }
    }
}

static int wait_readable(int sock, int timeout_ms)
{
    struct pollfd pfd = {.fd = sock, .events = POLLIN};
    int n;

    do
        n = poll(&pfd, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -HVC_EIO;
    return n == 0 ? -HVC_ETIMEDOUT : 0;
}

int hvc__ivs_recv(int sock, int64_t *value, int *fd, int nonblock,
                  int timeout_ms)
{
    unsigned char buf[8];
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(4 * sizeof(int))];
    } ctl;
    size_t got = 0;
    int rc, nfd = 0, rfd = -1;

    *fd = -1;
    if (!nonblock && (rc = wait_readable(sock, timeout_ms)) < 0)
        return rc;
    /* A sender writes each 8-byte message in one call, but a stream may
     * still split it; the fd travels with the first byte. */
    while (got < sizeof(buf)) {
        struct iovec iov = {.iov_base = buf + got, .iov_len = sizeof(buf) - got};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = ctl.space,
                             .msg_controllen = sizeof(ctl.space)};
        ssize_t n;

        memset(&ctl, 0, sizeof(ctl));
        do
            n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                rc = errno == ECONNRESET ? -HVC_EPEERGONE : -HVC_EIO;
                goto fail;
            }
            if (got == 0 && nonblock)
                return -HVC_EAGAIN;
            /* Mid-message: the rest is on its way. */
            if ((rc = wait_readable(sock, got == 0 ? timeout_ms : 1000)) < 0) {
                if (got != 0)
                    rc = -HVC_EPROTO;
                goto fail;
            }
            continue;
        }
        if (n == 0) {
            rc = got == 0 ? -HVC_EPEERGONE : -HVC_EPROTO;
            goto fail;
        }
        if (msg.msg_flags & MSG_CTRUNC) {
            close_fds(&msg);
            rc = -HVC_EPROTO;
            goto fail;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL;
             c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
                c->cmsg_len < CMSG_LEN(0))
                continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int f;
                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (nfd++ == 0)
                    rfd = f;
                else
                    close(f);
            }
        }
        got += (size_t)n;
    }
    if (nfd > 1) {
        rc = -HVC_EPROTO;
        goto fail;
    }
    *value = (int64_t)le64_get(buf);
    *fd = rfd;
    return 0;

fail:
    if (rfd >= 0)
        close(rfd);
    return rc;
}
