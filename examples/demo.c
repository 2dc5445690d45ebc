/*
 * hvcomm-demo: two "guests" on the POSIX backend, as two separate programs.
 *
 *   hvcomm-demo [--system FILE] [--region PATH] [--seconds S]   both guests
 *   hvcomm-demo --role a|b [--system FILE] [--region PATH]      one guest
 *
 * The system (region, the two guests, every object and who may use it) is
 * one file, examples/systems/demo.yaml (doc/config.md). Guest A formats the
 * region and applies the file, which creates every object; guest B attaches
 * and applies it too, which checks that the region holds what the file
 * says; each opens the objects by name in its declared role, and they
 * watch each other in the peer table. The region stays behind so that
 * `hvcomm info PATH` can show it.
 */
#define _GNU_SOURCE
#include <hvcomm/config.h>
#include <hvcomm/hvcomm.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

#ifndef DEMO_SYSTEM
#define DEMO_SYSTEM "examples/systems/demo.yaml"
#endif
#define WAIT_MS 30000 /* generous: a loaded machine, sanitizers */
#define ACK 255 /* byte of 'greeting' where A acknowledges B's reply */

static const char *who = "demo";
static struct hvc_config *cfg; /* the loaded system file */

void demo_say(const char *fmt, ...)
{
    va_list ap;

    printf("[%s] ", who);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "[%s] %s: %s (%s)\n", who, what, hvc_strerror(rc), hvc_errname(rc));
    return EXIT_FAILURE;
}

static void print_error(void *ctx, const char *file, unsigned line, unsigned col,
                        const char *msg)
{
    (void)ctx;
    fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

static void show_peers(struct hvc_region *r)
{
    struct hvc_region_info info;

    hvc_region_info(r, &info);
    for (uint32_t i = 0; i < info.max_peers; i++) {
        struct hvc_peer_info pi;

        if (hvc_peer_info(r, i, &pi) == 0 && pi.state != HVC_PEER_ABSENT)
            demo_say("  peer %u: %-7s epoch %u  %s%s", i, hvc_peer_state_name(pi.state),
                     pi.epoch, pi.label, (int32_t)i == info.self ? "  (me)" : "");
    }
}

/* Wait until peer `only` (or, with -1, any peer but us) is in `state`. */
static int wait_for_peer(struct hvc_region *r, uint32_t state, int only)
{
    for (int t = 0; t < WAIT_MS; t++) {
        for (uint32_t i = 0; i < r->max_peers; i++) {
            struct hvc_peer_info pi;

            if ((int)i == r->self || (only >= 0 && (int)i != only))
                continue;
            if (hvc_peer_info(r, i, &pi) == 0 && pi.state == state)
                return (int)i;
        }
        sleep_ms(1);
    }
    return -1;
}

static int guest_a(const char *path, double seconds)
{
    const struct hvc_system *sys = &cfg->system;
    struct hvc_region_config rcfg;
    struct hvc_region r;
    struct hvc_seg greeting, reply;
    char *g;
    const char *answer;
    int rc, b;

    hvc_system_region_config(sys, &rcfg);
    rc = hvc_region_format(&r, hvc_platform_posix(), path, &rcfg);
    if (rc < 0)
        return die("format", rc);
    demo_say("formatted region %s (%llu MiB, session %016llx)", path,
             (unsigned long long)(sys->region.size >> 20), (unsigned long long)r.session_id);
    /* Joins at guest-A's id and, A being the creator, creates every object. */
    rc = hvc_system_apply(&r, sys, "guest-A");
    if (rc < 0)
        return die("apply the system file", rc);
    demo_say("joined as peer %d and made the %u objects of system '%s' (%s)", hvc_peer_self(&r),
             sys->nobjects, sys->name, cfg->file);

    /* The file makes A the writer of 'greeting' and a reader of 'reply'. */
    if ((rc = hvc_system_open_segment(&r, sys, "greeting", &greeting)) < 0 ||
        (rc = hvc_system_open_segment(&r, sys, "reply", &reply)) < 0)
        return die("open greeting and reply", rc);
    g = hvc_seg_data(&greeting);
    answer = hvc_seg_data(&reply);
    snprintf(g, ACK, "hello from guest A (pid %d)", (int)getpid());
    demo_say("wrote 'greeting' (a %llu-byte segment); 'reply' is read-only here",
             (unsigned long long)hvc_seg_size(&greeting));

    /* B writes its answer after joining, then waits for our ack. */
    for (int t = 0; t < WAIT_MS && __atomic_load_n(answer, __ATOMIC_ACQUIRE) == '\0'; t++)
        sleep_ms(1);
    b = wait_for_peer(&r, HVC_PEER_READY, -1);
    if (b < 0)
        return die("waiting for guest B", -HVC_ETIMEDOUT);
    demo_say("guest B is here as peer %d; the peer table as A sees it:", b);
    show_peers(&r);
    demo_say("B answered in 'reply': \"%.200s\"", answer);
    __atomic_store_n(g + ACK, 1, __ATOMIC_RELEASE);
    hvc_seg_close(&greeting);
    hvc_seg_close(&reply);

    rc = demo_extensions(&r, sys, 0, seconds);
    if (rc < 0)
        return die("demo", rc);

    if (wait_for_peer(&r, HVC_PEER_ABSENT, b) < 0)
        return die("waiting for guest B to leave", -HVC_ETIMEDOUT);
    demo_say("guest B left; leaving too (the region stays for 'hvcomm info %s')", path);
    hvc_region_detach(&r);
    return EXIT_SUCCESS;
}

static int guest_b(const char *path, double seconds)
{
    const struct hvc_system *sys = &cfg->system;
    struct hvc_region r = {0};
    struct hvc_seg greeting, reply;
    const char *g;
    int rc = -HVC_ENOENT;

    /* A may not have formatted it yet (a missing or half-made region), or
     * not finished making the objects (apply says ENOTREADY until then). */
    for (int t = 0; t < WAIT_MS; t++) {
        rc = hvc_region_attach(&r, hvc_platform_posix(), path, 0);
        if (rc == 0) {
            rc = hvc_system_apply(&r, sys, "guest-B");
            if (rc == 0)
                break;
            hvc_region_detach(&r);
        }
        if (rc != -HVC_ENOENT && rc != -HVC_EMAGIC && rc != -HVC_ENOTREADY)
            return die("attach and apply the system file", rc);
        sleep_ms(1);
    }
    if (rc < 0)
        return die("attach", rc);
    demo_say("attached to %s and joined as peer %d; the region holds system '%s' as %s says",
             path, hvc_peer_self(&r), sys->name, cfg->file);
    if ((rc = hvc_system_open_segment(&r, sys, "greeting", &greeting)) < 0 ||
        (rc = hvc_system_open_segment(&r, sys, "reply", &reply)) < 0)
        return die("open greeting and reply", rc);
    g = hvc_seg_data(&greeting);
    demo_say("found 'greeting' by name (read-only here): \"%.200s\"", g);
    demo_say("the peer table as B sees it:");
    show_peers(&r);
    snprintf(hvc_seg_data(&reply), ACK, "hello back from guest B (pid %d)", (int)getpid());
    for (int t = 0; t < WAIT_MS && !__atomic_load_n(g + ACK, __ATOMIC_ACQUIRE); t++)
        sleep_ms(1);
    hvc_seg_close(&greeting);
    hvc_seg_close(&reply);

    rc = demo_extensions(&r, sys, 1, seconds);
    if (rc < 0)
        return die("demo", rc);
    demo_say("leaving");
    hvc_region_detach(&r);
    return EXIT_SUCCESS;
}

static pid_t spawn(const char *self, const char *role, const char *path, const char *secs)
{
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        execl(self, self, "--role", role, "--system", cfg->file, "--region", path, "--seconds",
              secs, (char *)NULL);
        fprintf(stderr, "[demo] cannot run %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    return pid;
}

static int run_both(const char *path, const char *secs)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    pid_t a, b;
    int sa, sb;

    if (n < 0)
        return EXIT_FAILURE;
    self[n] = '\0';
    unlink(path); /* a fresh region each run */
    demo_say("starting guest A and guest B as two processes on region %s", path);
    a = spawn(self, "a", path, secs);
    b = spawn(self, "b", path, secs);
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    if (!WIFEXITED(sa) || WEXITSTATUS(sa) != 0 || !WIFEXITED(sb) || WEXITSTATUS(sb) != 0) {
        demo_say("FAILED (guest A status %d, guest B status %d)", sa, sb);
        return EXIT_FAILURE;
    }
    {
        /* The tool beside us in the build tree (build/demo/tools/hvcomm),
         * else the installed one on the PATH. */
        char tool[4200];
        char *slash = strrchr(self, '/');

        snprintf(tool, sizeof(tool), "hvcomm");
        if (slash != NULL) {
            *slash = '\0';
            if (snprintf(tool, sizeof(tool), "%s/../tools/hvcomm", self) >= (int)sizeof(tool) ||
                access(tool, X_OK) != 0)
                snprintf(tool, sizeof(tool), "hvcomm");
        }
        demo_say("both guests finished. Look at the region with: %s info %s", tool, path);
    }
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'},
        {"region", required_argument, NULL, 'p'},
        {"seconds", required_argument, NULL, 's'},
        {"system", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *role = NULL, *path = NULL, *secs = "2", *file = DEMO_SYSTEM;
    double seconds;
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "r:p:s:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': file = optarg; break;
        case 'r': role = optarg; break;
        case 'p': path = optarg; break;
        case 's': secs = optarg; break;
        case 'h':
            printf("usage: hvcomm-demo [--system FILE] [--region PATH] [--seconds S] "
                   "[--role a|b]\n(system file: %s)\n", DEMO_SYSTEM);
            return EXIT_SUCCESS;
        default:
            fprintf(stderr, "hvcomm-demo: bad option (try --help)\n");
            return 2;
        }
    }
    seconds = strtod(secs, &end);
    if (*end != '\0' || seconds < 0 || seconds > 3600) {
        fprintf(stderr, "hvcomm-demo: --seconds: '%s' is not a duration in seconds\n", secs);
        return 2;
    }
    if (hvc_system_load(file, &cfg, print_error, NULL) < 0)
        return EXIT_FAILURE; /* every mistake was printed */
    if (path == NULL)
        path = cfg->system.region.posix;
    if (path == NULL) {
        fprintf(stderr, "hvcomm-demo: %s gives no posix region: use --region PATH\n", file);
        return 2;
    }
    if (role == NULL)
        return run_both(path, secs);
    if (strcmp(role, "a") == 0) {
        who = "guest A";
        return guest_a(path, seconds);
    }
    if (strcmp(role, "b") == 0) {
        who = "guest B";
        return guest_b(path, seconds);
    }
    fprintf(stderr, "hvcomm-demo: --role must be a or b, not '%s'\n", role);
    return 2;
}
