/*
 * hvcomm: look at and manage regions from the command line.
 *
 *   hvcomm info REGION               header, peer table and directory
 *   hvcomm create REGION --size N    create and format a region
 *   hvcomm create --config FILE      create a region and its objects from a
 *                                    system file ([--verify] compares instead)
 *   hvcomm check FILE                check a system file, print its layout
 *   hvcomm gen FILE -o OUT.c         a system file as a constant C table
 *   hvcomm rm REGION                 remove a region
 *   hvcomm scan REGION [--stale MS]  declare dead peers gone
 *
 * Errors are one line on stderr; exit 1 for a failed operation, 2 for bad
 * arguments.
 */
#define _GNU_SOURCE
#include <hvcomm/hvcomm.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_cmds.h"
#include "describe.h"

#define EXIT_USAGE 2

static const char *prog = "hvcomm";

__attribute__((format(printf, 1, 2), noreturn)) static void usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try '%s help')\n", prog);
    exit(EXIT_USAGE);
}

static int fail(const char *region, int rc)
{
    fprintf(stderr, "%s: %s: %s (%s)\n", prog, region, hvc_strerror(rc), hvc_errname(rc));
    return EXIT_FAILURE;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hvcomm COMMAND [REGION | FILE] [OPTIONS]\n"
            "\n"
            "commands:\n"
            "  info REGION                 show the header, the peer table and the directory\n"
            "  create REGION --size SIZE   create and format a region (an existing\n"
            "         [--peers N] [--objects N] [--force]   region only with --force)\n"
            "  create [REGION] --config FILE [--force]\n"
            "                              create the region and every object of a\n"
            "                              system file (REGION: the file's posix path)\n"
            "  create [REGION] --config FILE --verify\n"
            "                              list how the region differs from the file\n"
            "  check FILE                  check a system file; print the layout it makes\n"
            "  gen FILE -o OUT.c [--name SYMBOL]\n"
            "                              write the system as a constant C table\n"
            "  rm REGION                   remove a region\n"
            "  scan REGION [--stale MS]    declare peers that died without leaving gone\n"
            "  help, --help                this text\n"
            "  version, --version          the library version\n"
            "\n"
            "REGION is a file path (e.g. /dev/shm/demo, or the file QEMU maps with\n"
            "memory-backend-file), or /NAME or shm:NAME for a POSIX shared-memory object.\n"
            "SIZE takes a K, M or G suffix (powers of 1024).\n");
}

/* A size with an optional K/M/G suffix; exits on anything else. */
static uint64_t parse_size(const char *s, const char *what)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || s[0] == '-')
        usage_error("%s: '%s' is not a number", what, s);
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'B')
        end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    if (*end != '\0')
        usage_error("%s: '%s' has an unknown suffix", what, s);
    if (shift != 0 && v > (UINT64_MAX >> shift))
        usage_error("%s: '%s' is too large", what, s);
    return (uint64_t)v << shift;
}

static uint32_t parse_u32(const char *s, const char *what)
{
    uint64_t v = parse_size(s, what);

    if (v > UINT32_MAX)
        usage_error("%s: '%s' is too large", what, s);
    return (uint32_t)v;
}

static void human(char *buf, size_t len, uint64_t v)
{
    if (v >= (1ull << 30))
        snprintf(buf, len, "%.1f GiB", (double)v / (1ull << 30));
    else if (v >= (1ull << 20))
        snprintf(buf, len, "%.1f MiB", (double)v / (1ull << 20));
    else if (v >= 1024)
        snprintf(buf, len, "%.1f KiB", (double)v / 1024);
    else
        snprintf(buf, len, "%" PRIu64 " B", v);
}

static int cmd_info(const char *path)
{
    struct hvc_region r;
    struct hvc_region_info info;
    char size[32], used[32];
    int rc;

    rc = hvc_region_attach(&r, hvc_platform_posix(), path, HVC_MAP_RDONLY);
    if (rc < 0)
        return fail(path, rc);
    hvc_region_info(&r, &info);
    human(size, sizeof(size), info.size);
    human(used, sizeof(used), info.heap_used);
    printf("region   %s\n", path);
    printf("layout   version %u, session %016" PRIx64 "\n", info.version, info.session_id);
    printf("size     %s (%" PRIu64 " bytes), heap at %" PRIu64 ", %s in objects\n", size,
           info.size, info.heap_offset, used);
    printf("peers    %u ready of %u slots\n", info.peers_ready, info.max_peers);
    printf("objects  %u of %u entries\n", info.objects, info.max_objects);
    printf("errors   %u protocol errors reported by peers\n", info.proto_errors);
    printf("unsupp.  %u objects refused as not supported (newer feature flags)\n",
           info.unsupported);
    info_system(&r);

    printf("\n%-4s  %-7s  %-6s  %-9s  %-8s  %s\n", "PEER", "STATE", "EPOCH", "HEARTBEAT",
           "PID", "LABEL");
    for (uint32_t i = 0; i < info.max_peers; i++) {
        struct hvc_peer_info pi;
        char pid[16] = "-";

        if (hvc_peer_info(&r, i, &pi) < 0 || (pi.state == HVC_PEER_ABSENT && pi.epoch == 0))
            continue;
        /* Only a POSIX host's token holds a pid; others' are not shown as one. */
        if (pi.token != 0 && pi.token_ns == HVC_TOKEN_NS_POSIX)
            snprintf(pid, sizeof(pid), "%u", (unsigned)HVC_POSIX_TOKEN_PID(pi.token));
        printf("%-4u  %-7s  %-6u  %-9u  %-8s  %s\n", i, hvc_peer_state_name(pi.state),
               pi.epoch, pi.heartbeat, pid, pi.label);
    }

    printf("\n%-31s  %-8s  %-10s  %-10s  %-6s  %-7s  %s\n", "OBJECT", "TYPE", "OFFSET", "SIZE",
           "WRITER", "CREATOR", "DETAILS");
    for (uint32_t i = 0; i < info.max_objects; i++) {
        struct hvc_obj o;
        char writer[8], details[256];

        rc = hvc_obj_get(&r, i, &o);
        if (rc == -HVC_EPROTO) {
            printf("%-31s  entry %u is corrupt\n", "?", i);
            continue;
        }
        if (rc < 0)
            continue;
        if (o.writer == HVC_PEER_ANY)
            snprintf(writer, sizeof(writer), "any");
        else
            snprintf(writer, sizeof(writer), "%u", o.writer);
        describe_object(&r, &o, details, sizeof(details));
        printf("%-31s  %-8s  0x%-8" PRIx64 "  %-10" PRIu64 "  %-6s  %-7u  %s\n", o.name,
               hvc_obj_type_name(o.type), o.offset, o.size, writer, o.creator, details);
    }
    hvc_region_detach(&r);
    return EXIT_SUCCESS;
}

static int cmd_create(const char *path, int argc, char **argv)
{
    static const struct option opts[] = {
        {"size", required_argument, NULL, 's'},
        {"peers", required_argument, NULL, 'p'},
        {"objects", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {"verify", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    struct hvc_region_config cfg = {0};
    struct hvc_region r;
    const char *config = NULL;
    int c, rc, verify = 0;

    while ((c = getopt_long(argc, argv, "+s:p:o:fc:v", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'v': verify = 1; break;
        case 's': cfg.size = parse_size(optarg, "--size"); break;
        case 'p': cfg.max_peers = parse_u32(optarg, "--peers"); break;
        case 'o': cfg.max_objects = parse_u32(optarg, "--objects"); break;
        case 'f': cfg.flags |= HVC_FORMAT_FORCE; break;
        default: usage_error("create: bad option");
        }
    }
    if (optind != argc)
        usage_error("create: unexpected argument '%s'", argv[optind]);
    if (config != NULL) {
        if (cfg.size != 0 || cfg.max_peers != 0 || cfg.max_objects != 0)
            usage_error("create: --config takes the sizes from the file");
        return cmd_create_config(config, path, verify, (cfg.flags & HVC_FORMAT_FORCE) != 0);
    }
    if (verify)
        usage_error("create: --verify needs --config FILE");
    if (path == NULL)
        usage_error("create: missing REGION");
    if (cfg.size == 0)
        usage_error("create: --size is required");
    if (cfg.size < HVC_REGION_MIN_SIZE)
        usage_error("create: --size must be at least %u bytes", HVC_REGION_MIN_SIZE);
    if (cfg.max_peers > HVC_MAX_PEERS)
        usage_error("create: --peers must be at most %u", HVC_MAX_PEERS);
    if (cfg.max_objects > HVC_MAX_OBJECTS)
        usage_error("create: --objects must be at most %u", HVC_MAX_OBJECTS);
    if (!(cfg.flags & HVC_FORMAT_FORCE) &&
        hvc_region_attach(&r, hvc_platform_posix(), path, HVC_MAP_RDONLY) == 0) {
        struct hvc_region_info info;

        /* Formatting would silently drop every object of a region whose
         * peers merely left: ask first. */
        hvc_region_info(&r, &info);
        hvc_region_detach(&r);
        if (info.peers_ready != 0)
            fprintf(stderr,
                    "%s: %s: holds a region with live peers (%u ready); --force formats it "
                    "anyway\n",
                    prog, path, info.peers_ready);
        else
            fprintf(stderr,
                    "%s: %s: already holds a region (%u objects, no live peers); --force "
                    "formats it anew\n",
                    prog, path, info.objects);
        return EXIT_FAILURE;
    }
    rc = hvc_region_format(&r, hvc_platform_posix(), path, &cfg);
    if (rc == -HVC_EBUSY) {
        fprintf(stderr, "%s: %s: holds a region with live peers; --force formats it anyway\n",
                prog, path);
        return EXIT_FAILURE;
    }
    if (rc < 0)
        return fail(path, rc);
    printf("created %s: %" PRIu64 " bytes, %u peers, %u objects\n", path, r.size, r.max_peers,
           r.max_objects);
    hvc_region_detach(&r);
    return EXIT_SUCCESS;
}

static int cmd_scan(const char *path, int argc, char **argv)
{
    static const struct option opts[] = {
        {"stale", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    struct hvc_region r;
    uint64_t stale_ms = 0;
    int c, rc;

    while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
        if (c != 's')
            usage_error("scan: bad option");
        stale_ms = parse_size(optarg, "--stale");
    }
    if (optind != argc)
        usage_error("scan: unexpected argument '%s'", argv[optind]);
    rc = hvc_region_attach(&r, hvc_platform_posix(), path, 0);
    if (rc < 0)
        return fail(path, rc);
    rc = hvc_peer_scan(&r, 0);
    if (rc >= 0 && stale_ms != 0) {
        /* Heartbeats are judged over time: look twice, stale_ms apart. */
        struct timespec ts = {(time_t)(stale_ms / 1000), (long)(stale_ms % 1000) * 1000000};
        int more;

        nanosleep(&ts, NULL);
        more = hvc_peer_scan(&r, stale_ms * 1000000);
        rc = more < 0 ? more : rc + more;
    }
    hvc_region_detach(&r);
    if (rc < 0)
        return fail(path, rc);
    printf("%d peer%s declared gone\n", rc, rc == 1 ? "" : "s");
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    const char *cmd, *path;
    int rc;

    if (argc < 2)
        usage_error("missing command");
    cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return EXIT_SUCCESS;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("hvcomm %s\n", hvc_version());
        return EXIT_SUCCESS;
    }
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "gen") == 0) {
        optind = 1;
        return cmd_gen(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "info") != 0 && strcmp(cmd, "create") != 0 && strcmp(cmd, "rm") != 0 &&
        strcmp(cmd, "scan") != 0)
        usage_error("unknown command '%s'", cmd);
    if (strcmp(cmd, "create") == 0 && argc >= 3 && argv[2][0] == '-') {
        /* create --config FILE: the region is the file's. */
        optind = 1;
        return cmd_create(NULL, argc - 1, argv + 1);
    }
    if (argc < 3 || argv[2][0] == '-')
        usage_error("%s: missing REGION", cmd);
    path = argv[2];
    /* getopt sees "CMD REGION opts...": skip both. */
    optind = 1;
    argc -= 2;
    argv += 2;

    if (strcmp(cmd, "info") == 0) {
        if (argc > 1)
            usage_error("info: unexpected argument '%s'", argv[1]);
        return cmd_info(path);
    }
    if (strcmp(cmd, "create") == 0)
        return cmd_create(path, argc, argv);
    if (strcmp(cmd, "scan") == 0)
        return cmd_scan(path, argc, argv);
    if (argc > 1)
        usage_error("rm: unexpected argument '%s'", argv[1]);
    rc = hvc_platform_unlink(hvc_platform_posix(), path);
    if (rc < 0)
        return fail(path, rc);
    printf("removed %s\n", path);
    return EXIT_SUCCESS;
}
