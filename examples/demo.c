/*
 * hvcomm-demo: two "guests" on the POSIX backend, as two separate programs.
 *
 *   hvcomm-demo [--region PATH] [--seconds S]   run guest A and guest B
 *   hvcomm-demo --role a|b [--region PATH]      run one guest
 *
 * Guest A formats the region and creates named objects; guest B attaches,
 * finds them by name and answers; both watch each other in the peer table.
 * The region stays behind so that `hvcomm info PATH` can show it.
 */
#define _GNU_SOURCE
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

#define REGION_SIZE (8u << 20)
#define WAIT_MS 30000 /* generous: a loaded machine, sanitizers */
#define ACK 255 /* byte of 'reply' where A acknowledges B */

static const char *who = "demo";

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
    struct hvc_region_config cfg = {.size = REGION_SIZE, .max_peers = 8, .max_objects = 32};
    struct hvc_obj_spec spec = {.name = "greeting", .type = HVC_OBJ_RAW, .size = 256};
    struct hvc_region r;
    struct hvc_obj greeting, reply;
    int rc, self, b;

    rc = hvc_region_format(&r, hvc_platform_posix(), path, &cfg);
    if (rc < 0)
        return die("format", rc);
    demo_say("formatted region %s (%u MiB, session %016llx)", path, REGION_SIZE >> 20,
             (unsigned long long)r.session_id);
    self = hvc_peer_join(&r, "guest-A");
    if (self < 0)
        return die("join", self);
    demo_say("joined as peer %d", self);

    spec.writer = (uint16_t)self;
    rc = hvc_obj_create(&r, &spec, &greeting);
    if (rc < 0)
        return die("create greeting", rc);
    snprintf(greeting.ptr, 256, "hello from guest A (pid %d)", (int)getpid());
    spec.name = "reply";
    spec.writer = HVC_PEER_ANY;
    rc = hvc_obj_create(&r, &spec, &reply);
    if (rc < 0)
        return die("create reply", rc);
    demo_say("created objects 'greeting' (%llu bytes at offset %llu) and 'reply'",
             (unsigned long long)greeting.size, (unsigned long long)greeting.offset);

    /* B writes its answer after joining, then waits for our ack. */
    for (int t = 0; t < WAIT_MS && __atomic_load_n((char *)reply.ptr, __ATOMIC_ACQUIRE) == '\0'; t++)
        sleep_ms(1);
    b = wait_for_peer(&r, HVC_PEER_READY, -1);
    if (b < 0)
        return die("waiting for guest B", -HVC_ETIMEDOUT);
    demo_say("guest B is here as peer %d; the peer table as A sees it:", b);
    show_peers(&r);
    demo_say("B answered in 'reply': \"%.200s\"", (char *)reply.ptr);
    __atomic_store_n((char *)reply.ptr + ACK, 1, __ATOMIC_RELEASE);

    rc = demo_extensions(&r, 0, seconds);
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
    struct hvc_region r;
    struct hvc_obj greeting, reply;
    int rc = -HVC_ENOENT, self;

    /* A may not have formatted it yet: a missing or half-made region. */
    for (int t = 0; t < WAIT_MS; t++) {
        rc = hvc_region_attach(&r, hvc_platform_posix(), path, 0);
        if (rc == 0)
            rc = hvc_obj_open(&r, "reply", HVC_OBJ_RAW, &reply);
        if (rc == 0)
            break;
        if (rc != -HVC_ENOENT && rc != -HVC_EMAGIC)
            return die("attach", rc);
        if (r.base != NULL)
            hvc_region_detach(&r);
        sleep_ms(1);
    }
    if (rc < 0)
        return die("attach", rc);
    self = hvc_peer_join(&r, "guest-B");
    if (self < 0)
        return die("join", self);
    demo_say("attached to %s and joined as peer %d", path, self);
    rc = hvc_obj_open(&r, "greeting", HVC_OBJ_RAW, &greeting);
    if (rc < 0)
        return die("open greeting", rc);
    demo_say("found 'greeting' by name (writer: peer %u): \"%.200s\"", greeting.writer,
             (char *)greeting.ptr);
    demo_say("the peer table as B sees it:");
    show_peers(&r);
    snprintf(reply.ptr, ACK, "hello back from guest B (pid %d)", (int)getpid());
    for (int t = 0; t < WAIT_MS && !__atomic_load_n((char *)reply.ptr + ACK, __ATOMIC_ACQUIRE); t++)
        sleep_ms(1);

    rc = demo_extensions(&r, 1, seconds);
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
        execl(self, self, "--role", role, "--region", path, "--seconds", secs, (char *)NULL);
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
    demo_say("both guests finished. Look at the region with: hvcomm info %s", path);
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'},
        {"region", required_argument, NULL, 'p'},
        {"seconds", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *role = NULL, *path = "/dev/shm/hvcomm-demo", *secs = "2";
    double seconds;
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "r:p:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': role = optarg; break;
        case 'p': path = optarg; break;
        case 's': secs = optarg; break;
        case 'h':
            printf("usage: hvcomm-demo [--region PATH] [--seconds S] [--role a|b]\n");
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
