/*
 * hvcomm-bridge: join vnet links (and optionally a Linux TAP device) into
 * one learning Ethernet switch, with rate limits and allow/deny rules.
 *
 *   hvcomm-bridge REGION --link NAME [--link NAME ...]
 *                 [--rate NAME=BYTES_PER_S[:BURST]] [--rule allow|deny,...]
 *                 [--default allow|deny] [--name OBJECT]
 *                 [--tap IFNAME [--tap-addr A.B.C.D/PREFIX]]
 *
 * Counters are in the bridge object (default name "bridge"): `hvcomm info
 * REGION` shows them. SIGINT or SIGTERM stop the bridge. Errors are one
 * line on stderr; exit 2 for bad arguments, 1 for a failed operation.
 */
#define _GNU_SOURCE
#include <hvcomm/bridge.h>
#include <hvcomm/hvcomm.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/if_tun.h>
#endif

#define EXIT_USAGE 2
#define MAX_RATES HVC_BRIDGE_PORTS_MAX

static const char *prog = "hvcomm-bridge";
static volatile sig_atomic_t stop;

__attribute__((format(printf, 1, 2), noreturn)) static void usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try '%s --help')\n", prog);
    exit(EXIT_USAGE);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s (%s)\n", prog, what, hvc_strerror(rc), hvc_errname(rc));
    return EXIT_FAILURE;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: %s REGION --link NAME [--link NAME ...]\n"
               "       [--rate NAME=BYTES_PER_S[:BURST]] [--rule allow|deny[,KEY=VALUE...]]\n"
               "       [--default allow|deny] [--name OBJECT]\n"
               "       [--tap IFNAME [--tap-addr A.B.C.D/PREFIX]]\n"
               "rule keys: src_mac, dst_mac (aa:bb:cc:dd:ee:ff), src, dst (IPv4 or IPv6[/prefix]),\n"
               "           proto (icmp|icmp6|tcp|udp|N), dport (N); first match wins; one VLAN\n"
               "           tag is looked through; frames with unreadable IP headers match\n"
               "           deny rules with IP fields and no allow rule with them\n",
            prog);
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    if (*end == 'k' || *end == 'K')
        v *= 1000ull, end++;
    else if (*end == 'm' || *end == 'M')
        v *= 1000000ull, end++;
    else if (*end == 'g' || *end == 'G')
        v *= 1000000000ull, end++;
    if (*end != '\0' && *end != ':')
        return -1;
    *out = v;
    return (int)(end - s);
}

#ifdef __linux__
/* A TAP device: whole Ethernet frames, no packet information header. */
static int tap_open(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;

        close(fd);
        return -e;
    }
    return fd;
}

/* Give the interface the links' MTU (a bigger frame from Linux could not
 * go out on a link), an IPv4 address, and bring it up (ioctl, no ip(8)). */
static int tap_config(const char *name, const char *cidr, uint32_t mtu)
{
    char addr[32];
    const char *slash = strchr(cidr, '/');
    unsigned long plen = 24;
    struct ifreq ifr;
    struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
    int s, rc = 0;

    if (slash != NULL) {
        char *end;

        plen = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || plen > 32 || (size_t)(slash - cidr) >= sizeof(addr))
            return -EINVAL;
        memcpy(addr, cidr, (size_t)(slash - cidr));
        addr[slash - cidr] = '\0';
    } else {
        snprintf(addr, sizeof(addr), "%s", cidr);
    }
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
        close(s);
        return -EINVAL;
    }
    if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
        rc = -errno;
    ifr.ifr_mtu = (int)mtu;
    if (rc == 0 && mtu != 0 && ioctl(s, SIOCSIFMTU, &ifr) < 0)
        fprintf(stderr, "%s: %s: MTU %u: %s (frames above the links' MTU are dropped)\n",
                prog, name, (unsigned)mtu, strerror(errno));
    memset(&ifr.ifr_addr, 0, sizeof(ifr.ifr_addr));
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(plen == 0 ? 0u : ~0u << (32u - plen));
    if (rc == 0 && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
        rc = -errno;
    if (rc == 0 && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        rc = -errno;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (rc == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        rc = -errno;
    close(s);
    return rc;
}

static int tap_tx(void *ctx, const void *frame, uint32_t len)
{
    int fd = *(int *)ctx;
    ssize_t n = write(fd, frame, len);

    if (n == (ssize_t)len)
        return 0;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? -HVC_EAGAIN : -HVC_EIO;
}
#endif

int main(int argc, char **argv)
{
    static struct hvc_bridge br;
    static struct hvc_bridge_fdb fdb[1024];
    static uint8_t frame[HVC_VNET_FRAME_MAX];
    static const struct option opts[] = {
        {"link", required_argument, NULL, 'l'},   {"rate", required_argument, NULL, 'r'},
        {"rule", required_argument, NULL, 'R'},   {"default", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},   {"tap", required_argument, NULL, 't'},
        {"tap-addr", required_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *links[HVC_BRIDGE_PORTS_MAX], *rate_name[MAX_RATES];
    uint64_t rate_bps[MAX_RATES], rate_burst[MAX_RATES];
    struct hvc_bridge_rule rules[HVC_BRIDGE_RULES_MAX];
    const char *name = "bridge", *tap = NULL, *tap_addr = NULL, *region;
    struct hvc_bridge_config cfg = {.fdb = fdb, .fdb_size = 1024};
    unsigned nlinks = 0, nrates = 0, nrules = 0;
    struct hvc_region r;
    struct sigaction sa;
    int tap_fd = -1, tap_port = -1, c, rc;

    (void)frame;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (nlinks >= HVC_BRIDGE_PORTS_MAX)
                usage_error("too many --link (at most %u ports)", HVC_BRIDGE_PORTS_MAX);
            links[nlinks++] = optarg;
            break;
        case 'r': {
            char *eq = strchr(optarg, '=');
            int n;

            if (nrates >= MAX_RATES)
                usage_error("too many --rate");
            if (eq == NULL || eq == optarg)
                usage_error("bad --rate '%s': expected NAME=BYTES_PER_S[:BURST]", optarg);
            *eq = '\0';
            rate_name[nrates] = optarg;
            rate_burst[nrates] = 0;
            n = parse_u64(eq + 1, &rate_bps[nrates]);
            if (n < 0 || (eq[1 + n] == ':' && parse_u64(eq + 2 + n, &rate_burst[nrates]) < 0))
                usage_error("bad --rate value '%s': expected BYTES_PER_S[:BURST]", eq + 1);
            nrates++;
            break;
        }
        case 'R':
            if (nrules >= HVC_BRIDGE_RULES_MAX)
                usage_error("too many --rule (at most %u)", HVC_BRIDGE_RULES_MAX);
            if (hvc_bridge_rule_parse(optarg, &rules[nrules]) < 0)
                usage_error("bad --rule '%s'", optarg);
            nrules++;
            break;
        case 'd':
            if (strcmp(optarg, "allow") == 0)
                cfg.default_action = HVC_BRIDGE_ALLOW;
            else if (strcmp(optarg, "deny") == 0)
                cfg.default_action = HVC_BRIDGE_DENY;
            else
                usage_error("bad --default '%s': allow or deny", optarg);
            break;
        case 'n': name = optarg; break;
        case 't': tap = optarg; break;
        case 'a': tap_addr = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage_error("bad option");
        }
    }
    if (optind + 1 != argc)
        usage_error(optind >= argc ? "no REGION" : "extra argument '%s'",
                    optind < argc ? argv[optind + 1] : "");
    region = argv[optind];
    if (nlinks == 0)
        usage_error("no --link");
    if (tap_addr != NULL && tap == NULL)
        usage_error("--tap-addr without --tap");
    if (tap != NULL && strlen(tap) >= IFNAMSIZ)
        usage_error("TAP name '%s' too long", tap);
    for (unsigned i = 0; i < nrates; i++) {
        int found = tap != NULL && strcmp(rate_name[i], tap) == 0;

        for (unsigned k = 0; k < nlinks; k++)
            found |= strcmp(rate_name[i], links[k]) == 0;
        if (!found)
            usage_error("--rate for '%s', which is not a --link or the --tap", rate_name[i]);
    }
#ifndef __linux__
    if (tap != NULL)
        usage_error("--tap needs Linux");
#endif

    rc = hvc_region_attach(&r, hvc_platform_posix(), region, 0);
    if (rc < 0)
        return fail(region, rc);
    rc = hvc_peer_join(&r, "bridge");
    if (rc < 0)
        return fail(region, rc);
    rc = hvc_bridge_init(&br, &r, name, &cfg);
    if (rc < 0)
        return fail(name, rc);
    for (unsigned i = 0; i < nlinks; i++) {
        rc = hvc_bridge_add_link(&br, links[i]);
        if (rc < 0) {
            fail(links[i], rc);
            hvc_bridge_close(&br);
            return EXIT_FAILURE;
        }
    }
#ifdef __linux__
    if (tap != NULL) {
        tap_fd = tap_open(tap);
        if (tap_fd < 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, tap, strerror(-tap_fd));
            hvc_bridge_close(&br);
            return EXIT_FAILURE;
        }
        uint32_t mtu = 0;

        for (unsigned i = 0; i < nlinks; i++)
            if (mtu == 0 || br.port[i].vp.mtu < mtu)
                mtu = br.port[i].vp.mtu;
        if (tap_addr != NULL && (rc = tap_config(tap, tap_addr, mtu)) < 0) {
            fprintf(stderr, "%s: %s: address %s: %s\n", prog, tap, tap_addr, strerror(-rc));
            close(tap_fd);
            hvc_bridge_close(&br);
            return EXIT_FAILURE;
        }
        tap_port = hvc_bridge_add_ext(&br, tap, tap_tx, &tap_fd);
    }
#endif
    for (unsigned i = 0; i < nrates; i++)
        hvc_bridge_set_rate(&br, (unsigned)hvc_bridge_port_find(&br, rate_name[i]), rate_bps[i],
                            rate_burst[i]);
    for (unsigned i = 0; i < nrules; i++)
        hvc_bridge_add_rule(&br, &rules[i]);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop) {
        int n = hvc_bridge_poll(&br, 64);

        /* Peers that find the dead by heartbeat (a bare-metal guest has no
         * other way) must see this one beat. */
        hvc_peer_heartbeat(&r);

        if (tap_fd >= 0) {
            for (int k = 0; k < 64; k++) {
                ssize_t got = read(tap_fd, frame, sizeof(frame));

                if (got <= 0)
                    break;
                hvc_bridge_input(&br, (unsigned)tap_port, frame, (uint32_t)got);
                n++;
            }
        }
        if (n == 0) {
            if (tap_fd >= 0) {
                struct pollfd pfd = {.fd = tap_fd, .events = POLLIN};

                hvc_bridge_wait(&br, 200000);
                poll(&pfd, 1, 0);
            } else {
                hvc_bridge_wait(&br, 1000000);
            }
        }
    }
    if (tap_fd >= 0)
        close(tap_fd);
    hvc_bridge_close(&br);
    hvc_region_detach(&r);
    return 0;
}
