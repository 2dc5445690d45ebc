/* Linux loopback TCP baselines for hvcomm-bench-vnet. */
#define _GNU_SOURCE
#include "linux_tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t linux_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char buf[1 << 18];

static int read_full(int fd, void *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t k = read(fd, (char *)p + got, n - got);

        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

/* Fork a server on a loopback port; returns the connected client fd. */
static int start(int echo, pid_t *pid)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int l = socket(AF_INET, SOCK_STREAM, 0), fd, one = 1;

    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) < 0)
        return -1;
    *pid = fork();
    if (*pid == 0) {
        int c = accept(l, NULL, NULL);
        ssize_t k;

        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        while ((k = read(c, buf, echo ? 64 : sizeof(buf))) > 0)
            if (echo && write(c, buf, (size_t)k) != k)
                _exit(1);
        if (!echo && write(c, "k", 1) != 1)
            _exit(1);
        _exit(0);
    }
    close(l);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int finish(int fd, pid_t pid)
{
    int st;

    close(fd);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int linux_tcp_stream(uint64_t bytes, const uint8_t *payload, size_t payload_len,
                     uint64_t *ns)
{
    pid_t pid;
    int fd = start(0, &pid);
    uint64_t sent = 0, t0 = linux_now_ns();

    if (fd < 0)
        return -1;
    while (sent < bytes) {
        size_t n = bytes - sent < payload_len ? (size_t)(bytes - sent) : payload_len;
        ssize_t k = write(fd, payload, n);

        if (k <= 0)
            return -1;
        sent += (uint64_t)k;
    }
    shutdown(fd, SHUT_WR);
    if (read_full(fd, buf, 1) < 0)
        return -1;
    *ns = linux_now_ns() - t0;
    return finish(fd, pid);
}

int linux_tcp_rr(int iters, const uint8_t *payload, uint64_t *rtt)
{
    pid_t pid;
    int fd = start(1, &pid);
    char in[64];

    if (fd < 0)
        return -1;
    for (int i = -iters / 10; i < iters; i++) {
        uint64_t t0 = linux_now_ns();

        if (write(fd, payload, 64) != 64 || read_full(fd, in, 64) < 0)
            return -1;
        if (i >= 0)
            rtt[i] = linux_now_ns() - t0;
    }
    return finish(fd, pid);
}
