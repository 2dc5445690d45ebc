#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATHS 32

static char paths[MAX_PATHS][128];
static int npaths;
static int fds_at_setup;

const char *hvct_region_path(const char *tag)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    static unsigned counter;
    char *p;

    ck_assert_int_lt(npaths, MAX_PATHS);
    p = paths[npaths++];
    snprintf(p, sizeof(paths[0]), "%s/hvct-%d-%s-%u", dir, (int)getpid(), tag, counter++);
    unlink(p);
    return p;
}

const char *hvct_make_region(struct hvc_region *r, const char *tag, uint64_t size,
                             uint32_t max_peers, uint32_t max_objects)
{
    const char *path = hvct_region_path(tag);

    (void)hvct_format(r, NULL, path, size, max_peers, max_objects, NULL);
    return path;
}

const char *hvct_fixture_setup(struct hvc_region *r, const char *tag, uint64_t size)
{
    const char *path;

    hvct_leak_setup();
    path = hvct_region_path(tag);
    ck_assert_int_eq(hvct_format(r, NULL, path, size, 4, 32, "a"), 0);
    return path;
}

void hvct_fixture_teardown(struct hvc_region *r)
{
    hvc_region_detach(r);
    hvct_leak_teardown();
}

void hvct_ring_pair(struct hvc_region *r, struct hvc_ring *p, struct hvc_ring *c,
                    const char *name, uint32_t cap, uint32_t max, uint32_t flags)
{
    struct hvc_ring_attr a = {.capacity = cap, .max_msg = max, .writer = -1, .flags = flags};

    hvct_assert_rc(hvc_ring_create(p, r, name, &a), 0);
    hvct_assert_rc(hvc_ring_open(c, r, name, HVC_RING_CONSUMER), 0);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own fd */
}

/* Mappings of our region files still present in this process. */
static int count_region_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int n = 0;

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, "/hvct-") != NULL;
    fclose(f);
    return n;
}

void hvct_leak_setup(void)
{
    npaths = 0;
    fds_at_setup = count_fds();
    hvct_log_to_stderr();
}

void hvct_leak_teardown(void)
{
    int fds = count_fds(), maps = count_region_maps();

    for (int i = 0; i < npaths; i++)
        unlink(paths[i]);
    npaths = 0;
    ck_assert_msg(fds == fds_at_setup, "fd leak: %d open at setup, %d at teardown",
                  fds_at_setup, fds);
    ck_assert_msg(maps == 0, "mapping leak: %d region mappings left", maps);
}

__attribute__((format(printf, 3, 0))) static void log_stderr(void *ctx, int level, const char *fmt, va_list ap)
{
    (void)ctx;
    fprintf(stderr, "[hvcomm %d] ", level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void hvct_log_to_stderr(void)
{
    const char *lvl = getenv("HVCT_LOG");

    hvc_log_set(log_stderr, NULL, lvl != NULL ? atoi(lvl) : HVC_LOG_ERROR);
}

pid_t hvct_fork(int (*fn)(void *), void *arg)
{
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(fn(arg));
    return pid;
}

int hvct_join_and_hang(void *path)
{
    struct hvc_region r;

    if (hvc_region_attach(&r, hvc_platform_posix(), path, 0) < 0 ||
        hvc_peer_join(&r, "doomed") < 0)
        return 1;
    for (;;)
        pause();
}

int hvct_wait(pid_t pid)
{
    int status;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int hvct_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

Suite *hvct_suite(const char *name, void (*setup)(void), void (*teardown)(void), double timeout,
                  const TTest *const *tests, TCase **tcp)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(name);

    if (setup != NULL || teardown != NULL)
        tcase_add_checked_fixture(tc, setup, teardown);
    if (timeout > 0)
        tcase_set_timeout(tc, timeout);
    for (; *tests != NULL; tests++)
        tcase_add_test(tc, *tests);
    suite_add_tcase(s, tc);
    if (tcp != NULL)
        *tcp = tc;
    return s;
}

int hvct_main(const char *name, void (*setup)(void), void (*teardown)(void), double timeout,
              const TTest *const *tests)
{
    return hvct_run(hvct_suite(name, setup, teardown, timeout, tests, NULL));
}

int hvct_format(struct hvc_region *r, const struct hvc_platform *ops, const char *path,
                uint64_t size, uint32_t max_peers, uint32_t max_objects, const char *label)
{
    struct hvc_region_config cfg = {.size = size, .max_peers = max_peers,
                                    .max_objects = max_objects};
    int rc = hvc_region_format(r, ops != NULL ? ops : hvc_platform_posix(), path, &cfg);
    int id;

    ck_assert_msg(rc == 0, "format %s: %s", path, hvc_errname(rc));
    if (label == NULL)
        return -1;
    id = hvc_peer_join(r, label);
    ck_assert_msg(id >= 0, "join %s as %s: %s", path, label, hvc_errname(id));
    return id;
}

int hvct_child_join(struct hvc_region *r, const struct hvc_platform *ops, const char *path,
                    const char *label)
{
    if (hvc_region_attach(r, ops != NULL ? ops : hvc_platform_posix(), path, 0) < 0)
        return 1;
    return hvc_peer_join(r, label) < 0 ? 1 : 0;
}

unsigned long long hvct_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}
