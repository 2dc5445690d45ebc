/* The hvcomm tool and the demo, run as programs, on good and corrupt regions. */
#define _GNU_SOURCE
#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[16384], err[4096];

/* Read a whole small file into buf and remove it. */
static void slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;

    buf[n] = '\0';
    if (f)
        fclose(f);
    unlink(path);
}

/* Run a shell command; capture stdout and stderr; return the exit code. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[2048], full[2300], o[64], e[64];
    va_list ap;
    int status;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(o, sizeof(o), "/tmp/hvct-cli-out.%d", (int)getpid());
    snprintf(e, sizeof(e), "/tmp/hvct-cli-err.%d", (int)getpid());
    snprintf(full, sizeof(full), "%s >%s 2>%s", cmd, o, e);
    status = system(full);
    slurp(o, out, sizeof(out));
    slurp(e, err, sizeof(err));
    ck_assert_msg(WIFEXITED(status), "%s did not exit", cmd);
    return WEXITSTATUS(status);
}

static int lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

#define assert_one_line_error(code, needle)                                        \
    do {                                                                            \
        ck_assert_msg(lines(err) == 1, "expected one line on stderr, got: %s", err); \
        ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in: %s", needle, err);  \
        (void)(code);                                                               \
    } while (0)

START_TEST(usage_errors)
{
    ck_assert_int_eq(run("%s help", HVCOMM_BIN), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: hvcomm"));
    ck_assert_int_eq(run("%s --version", HVCOMM_BIN), 0);
    ck_assert_ptr_nonnull(strstr(out, HVC_VERSION_STRING));
    ck_assert_int_eq(run("%s", HVCOMM_BIN), 2);
    assert_one_line_error(2, "missing command");
    ck_assert_int_eq(run("%s frobnicate x", HVCOMM_BIN), 2);
    assert_one_line_error(2, "unknown command 'frobnicate'");
    ck_assert_int_eq(run("%s info", HVCOMM_BIN), 2);
    assert_one_line_error(2, "missing REGION");
    ck_assert_int_eq(run("%s create /dev/shm/hvct-x", HVCOMM_BIN), 2);
    assert_one_line_error(2, "--size is required");
    ck_assert_int_eq(run("%s create /dev/shm/hvct-x --size 12Q", HVCOMM_BIN), 2);
    assert_one_line_error(2, "unknown suffix");
    ck_assert_int_eq(run("%s create /dev/shm/hvct-x --size 100", HVCOMM_BIN), 2);
    assert_one_line_error(2, "at least");
    ck_assert_int_eq(run("%s create /dev/shm/hvct-x --size 1M --peers 99", HVCOMM_BIN), 2);
    assert_one_line_error(2, "--peers");
    ck_assert_int_eq(run("%s create /dev/shm/hvct-x --size 1M --bogus", HVCOMM_BIN), 2);
    ck_assert_int_eq(run("%s info /dev/shm/hvct-x extra", HVCOMM_BIN), 2);
    ck_assert_int_eq(access("/dev/shm/hvct-x", F_OK), -1);
}
END_TEST

START_TEST(create_info_rm)
{
    const char *path = hvct_region_path("cli");
    struct hvc_region r;
    struct hvc_obj_spec spec = {.name = "telemetry", .type = HVC_OBJ_RAW, .size = 1000,
                                .writer = HVC_PEER_ANY};

    ck_assert_int_eq(run("%s create %s --size 2M --peers 4 --objects 16", HVCOMM_BIN, path), 0);
    ck_assert_ptr_nonnull(strstr(out, "2097152 bytes, 4 peers, 16 objects"));
    hvct_assert_rc(hvc_region_attach(&r, hvc_platform_posix(), path, 0), 0);
    ck_assert_int_eq(hvc_peer_join(&r, "cli-tester"), 0);
    hvct_assert_rc(hvc_obj_create(&r, &spec, NULL), 0);

    ck_assert_int_eq(run("%s info %s", HVCOMM_BIN, path), 0);
    ck_assert_ptr_nonnull(strstr(out, "layout   version 1"));
    ck_assert_ptr_nonnull(strstr(out, "1 ready of 4 slots"));
    ck_assert_ptr_nonnull(strstr(out, "cli-tester"));
    ck_assert_ptr_nonnull(strstr(out, "telemetry"));
    ck_assert_ptr_nonnull(strstr(out, "1024")); /* size, rounded to cache lines */

    /* A live peer protects the region from a re-format. */
    ck_assert_int_eq(run("%s create %s --size 2M", HVCOMM_BIN, path), 1);
    assert_one_line_error(1, "live peers");
    hvc_region_detach(&r);
    ck_assert_int_eq(run("%s create %s --size 2M --force", HVCOMM_BIN, path), 0);

    ck_assert_int_eq(run("%s rm %s", HVCOMM_BIN, path), 0);
    ck_assert_int_eq(run("%s rm %s", HVCOMM_BIN, path), 1);
    assert_one_line_error(1, "HVC_ENOENT");
    ck_assert_int_eq(run("%s info %s", HVCOMM_BIN, path), 1);
    assert_one_line_error(1, "HVC_ENOENT");
}
END_TEST

/* A newer peer's objects (a feature flag this build does not know) are
 * shown as unsupported, with the count of refusals; the others as usual. */
START_TEST(info_shows_unsupported)
{
    const char *path = hvct_region_path("cliunsup");
    struct hvc_region r;
    struct hvc_ring ring;
    struct hvc_queue q;
    struct hvc_ring_attr ra = {.max_msg = 64, .writer = -1};
    struct hvc_queue_attr qa = {.max_msg = 16, .max_count = 4, .writer = -1};
    struct hvc_obj o;

    ck_assert_int_eq(run("%s create %s --size 1M", HVCOMM_BIN, path), 0);
    hvct_assert_rc(hvc_region_attach(&r, hvc_platform_posix(), path, 0), 0);
    ck_assert_int_ge(hvc_peer_join(&r, "cli-tester"), 0);
    hvct_assert_rc(hvc_ring_create(&ring, &r, "newring", &ra), 0);
    hvct_assert_rc(hvc_queue_create(&q, &r, "oldqueue", &qa), 0);
    hvct_assert_rc(hvc_obj_open(&r, "newring", HVC_OBJ_RING, &o), 0);
    ((struct hvc_wire_ring *)o.ptr)->flags |= 0x100u;
    hvct_assert_rc(hvc_ring_open(&ring, &r, "newring", HVC_RING_CONSUMER), -HVC_ENOTSUP);
    ck_assert_int_eq(run("%s info %s", HVCOMM_BIN, path), 0);
    ck_assert_msg(strstr(out, "unsupported: feature flags 0x100") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "1 objects refused as not supported") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "0 protocol errors") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "reject max=4") != NULL, "%s", out);
    hvc_region_detach(&r);
    ck_assert_int_eq(run("%s rm %s", HVCOMM_BIN, path), 0);
}
END_TEST

static void poke(const char *path, size_t off, const void *bytes, size_t n)
{
    int fd = open(path, O_RDWR);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
    close(fd);
}

START_TEST(info_on_corrupt_regions)
{
    const char *path = hvct_region_path("clicorrupt");
    uint32_t v;
    uint64_t big = ~0ull;

    ck_assert_int_eq(run("%s create %s --size 1M", HVCOMM_BIN, path), 0);
    v = 0xdeadbeef;
    poke(path, offsetof(struct hvc_wire_header, magic), &v, sizeof(v));
    ck_assert_int_eq(run("%s info %s", HVCOMM_BIN, path), 1);
    assert_one_line_error(1, "HVC_EMAGIC");

    ck_assert_int_eq(run("%s create %s --size 1M --force", HVCOMM_BIN, path), 0);
    v = 7;
    poke(path, offsetof(struct hvc_wire_header, version), &v, sizeof(v));
    ck_assert_int_eq(run("%s info %s", HVCOMM_BIN, path), 1);
    assert_one_line_error(1, "HVC_EVERSION");

    ck_assert_int_eq(run("%s create %s --size 1M --force", HVCOMM_BIN, path), 0);
    poke(path, offsetof(struct hvc_wire_header, region_size), &big, sizeof(big));
    ck_assert_int_eq(run("%s info %s", HVCOMM_BIN, path), 1);
    assert_one_line_error(1, "HVC_EPROTO");

    ck_assert_int_eq(system("printf 'not a region' > /dev/shm/hvct-cli-text"), 0);
    ck_assert_int_eq(run("%s info /dev/shm/hvct-cli-text", HVCOMM_BIN), 1);
    assert_one_line_error(1, "HVC_EMAGIC");
    unlink("/dev/shm/hvct-cli-text");
}
END_TEST

START_TEST(scan_declares_dead_peer)
{
    const char *path = hvct_region_path("cliscan");
    pid_t pid;

    ck_assert_int_eq(run("%s create %s --size 1M", HVCOMM_BIN, path), 0);
    pid = hvct_fork(hvct_join_and_hang, (void *)path);
    for (int i = 0; i < 2000; i++) {
        run("%s info %s", HVCOMM_BIN, path);
        if (strstr(out, "1 ready") != NULL)
            break;
        usleep(1000);
    }
    ck_assert_ptr_nonnull(strstr(out, "doomed"));
    ck_assert_int_eq(run("%s scan %s", HVCOMM_BIN, path), 0);
    ck_assert_ptr_nonnull(strstr(out, "0 peers declared gone"));
    kill(pid, SIGKILL);
    hvct_wait(pid);
    ck_assert_int_eq(run("%s scan %s", HVCOMM_BIN, path), 0);
    ck_assert_ptr_nonnull(strstr(out, "1 peer declared gone"));
    ck_assert_int_eq(run("%s info %s", HVCOMM_BIN, path), 0);
    ck_assert_ptr_nonnull(strstr(out, "gone"));
}
END_TEST

START_TEST(demo_runs_and_info_shows_it)
{
    const char *path = hvct_region_path("demo");

    int rc = run("%s --region %s --seconds 0.5", DEMO_BIN, path);

    ck_assert_msg(rc == 0, "demo exited %d; stderr: %s; stdout tail: %s", rc, err,
                  strlen(out) > 600 ? out + strlen(out) - 600 : out);
    ck_assert_ptr_nonnull(strstr(out, "[guest B] found 'greeting' by name"));
    ck_assert_ptr_nonnull(strstr(out, "[guest A] B answered in 'reply'"));
    ck_assert_ptr_nonnull(strstr(out, "both guests finished"));
    ck_assert_int_eq(run("%s info %s", HVCOMM_BIN, path), 0);
    ck_assert_ptr_nonnull(strstr(out, "guest-A"));
    ck_assert_ptr_nonnull(strstr(out, "guest-B"));
    ck_assert_ptr_nonnull(strstr(out, "greeting"));
    ck_assert_int_eq(run("%s --role c", DEMO_BIN), 2);
}
END_TEST

static Suite *cli_suite(void)
{
    return hvct_suite("cli", hvct_leak_setup, hvct_leak_teardown, 60,
                      HVCT_TESTS(usage_errors, create_info_rm, info_shows_unsupported,
                                 info_on_corrupt_regions, scan_declares_dead_peer,
                                 demo_runs_and_info_shows_it), NULL);
}

int main(void)
{
    return hvct_run(cli_suite());
}
