/* Linux loopback TCP baselines for hvcomm-bench-vnet. */
#define _GNU_SOURCE
#include "linux_tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
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

/* ---- Linux TCP over a veth pair between two network namespaces ---- */

#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>

#define VETH_PORT 5201

/* fork/exec a tool with stdout/stderr to /dev/null; 0 when it exits 0. */
static int tool(const char *path, const char *const *args)
{
    char *argv[16];
    pid_t pid;
    int st, n = 0;

    argv[n++] = (char *)(uintptr_t)path;
    while (args[n - 1] != NULL && n < 15) {
        argv[n] = (char *)(uintptr_t)args[n - 1];
        n++;
    }
    argv[n] = NULL;
    pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        dup2(null, 1);
        dup2(null, 2);
        execv(path, argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int ip_cmd(const char *a, const char *b, const char *c, const char *d, const char *e,
                  const char *f, const char *g)
{
    const char *args[] = {a, b, c, d, e, f, g, NULL};

    return tool("/usr/sbin/ip", args);
}

static int offloads_off(const char *dev)
{
    const char *args[] = {"-K", dev, "tso", "off", "gso", "off", "gro", "off", NULL};

    return tool("/usr/sbin/ethtool", args);
}

static int byte_io(int fd, int write_it)
{
    char c = 'x';

    return (write_it ? write(fd, &c, 1) : read(fd, &c, 1)) == 1 ? 0 : -1;
}

/* Namespace B: the receiving side. */
static int veth_b(int to_a, int from_a, int off, int runs)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(VETH_PORT)};
    int l, one = 1;

    if (unshare(CLONE_NEWNET) < 0 || byte_io(to_a, 1) < 0 || byte_io(from_a, 0) < 0)
        return 1;
    if (ip_cmd("addr", "add", "10.77.0.2/24", "dev", "hvb", NULL, NULL) < 0 ||
        ip_cmd("link", "set", "hvb", "up", NULL, NULL, NULL) < 0 ||
        (off && offloads_off("hvb") < 0))
        return 2;
    inet_pton(AF_INET, "10.77.0.2", &sa.sin_addr);
    l = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 4) < 0)
        return 3;
    if (byte_io(to_a, 1) < 0)
        return 4;
    for (int i = 0; i < runs; i++) {
        int c = accept(l, NULL, NULL);

        if (c < 0)
            return 5;
        while (read(c, buf, sizeof(buf)) > 0)
            ;
        if (write(c, "k", 1) != 1)
            return 6;
        close(c);
    }
    return 0;
}

/* Namespace A: makes the pair, sends. Results (ns per run) go to out_fd. */
static int veth_a(int out_fd, int off, int runs, uint64_t bytes, const uint8_t *payload,
                  size_t payload_len)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(VETH_PORT)};
    int a2b[2], b2a[2], st, rc = 0;
    char pidtxt[16];
    pid_t b;

    if (unshare(CLONE_NEWNET) < 0 || pipe(a2b) < 0 || pipe(b2a) < 0)
        return 1;
    b = fork();
    if (b == 0)
        _exit(veth_b(b2a[1], a2b[0], off, runs));
    snprintf(pidtxt, sizeof(pidtxt), "%d", (int)b);
    if (byte_io(b2a[0], 0) < 0 ||
        ip_cmd("link", "add", "hva", "type", "veth", "peer", "hvb") < 0 ||
        ip_cmd("link", "set", "hvb", "netns", pidtxt, NULL, NULL) < 0 ||
        ip_cmd("addr", "add", "10.77.0.1/24", "dev", "hva", NULL, NULL) < 0 ||
        ip_cmd("link", "set", "hva", "up", NULL, NULL, NULL) < 0 ||
        (off && offloads_off("hva") < 0) || byte_io(a2b[1], 1) < 0 || byte_io(b2a[0], 0) < 0) {
        rc = 2;
        goto out;
    }
    inet_pton(AF_INET, "10.77.0.2", &sa.sin_addr);
    for (int i = 0; i < runs && rc == 0; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        uint64_t sent = 0, t0, ns;

        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            rc = 3;
            break;
        }
        t0 = linux_now_ns();
        while (sent < bytes) {
            size_t n = bytes - sent < payload_len ? (size_t)(bytes - sent) : payload_len;
            ssize_t k = write(fd, payload, n);

            if (k <= 0) {
                rc = 4;
                break;
            }
            sent += (uint64_t)k;
        }
        shutdown(fd, SHUT_WR);
        if (rc == 0 && read_full(fd, buf, 1) < 0)
            rc = 5;
        ns = linux_now_ns() - t0;
        close(fd);
        if (rc == 0 && write(out_fd, &ns, sizeof(ns)) != sizeof(ns))
            rc = 6;
    }
out:
    if (rc != 0)
        kill(b, SIGKILL);
    waitpid(b, &st, 0);
    return rc;
}

int linux_veth_stream(int offloads_on, int runs, uint64_t bytes, const uint8_t *payload,
                      size_t payload_len, uint64_t *ns)
{
    int p[2], st;
    pid_t pid;

    if (access("/usr/sbin/ip", X_OK) != 0 || (!offloads_on && access("/usr/sbin/ethtool", X_OK) != 0))
        return -2;
    if (pipe(p) < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        _exit(veth_a(p[1], !offloads_on, runs, bytes, payload, payload_len));
    }
    close(p[1]);
    for (int i = 0; i < runs; i++)
        if (read_full(p[0], &ns[i], sizeof(ns[i])) < 0) {
            close(p[0]);
            waitpid(pid, &st, 0);
            return -1;
        }
    close(p[0]);
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}
