/* Helpers shared by the test suites. */
#ifndef HVC_TESTUTIL_H
#define HVC_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

#include <hvcomm/hvcomm.h>

/* A fresh region path for this test, removed by hvct_leak_teardown(). */
const char *hvct_region_path(const char *tag);

/* Fixture: remember open fds and mappings; teardown fails on any leak and
 * removes the region files the test made. */
void hvct_leak_setup(void);
void hvct_leak_teardown(void);

/* Format a fresh POSIX region (a hvct_region_path(tag) file) into *r with
 * the given geometry, failing the test if it cannot; returns the path. The
 * one helper test files share instead of each its own copy. */
const char *hvct_make_region(struct hvc_region *r, const char *tag, uint64_t size,
                             uint32_t max_peers, uint32_t max_objects);

/* The fixture most single-process tests share: hvct_leak_setup(), a fresh
 * region of `size` bytes (4 peers, 32 objects) joined as "a" (peer 0);
 * returns its path. hvct_fixture_teardown() detaches it and checks leaks. */
const char *hvct_fixture_setup(struct hvc_region *r, const char *tag, uint64_t size);
void hvct_fixture_teardown(struct hvc_region *r);
/* A producer (created, writer = whoever calls) and a consumer (opened) on
 * one ring of region r; fails the test if either cannot be had. */
void hvct_ring_pair(struct hvc_region *r, struct hvc_ring *p, struct hvc_ring *c,
                    const char *name, uint32_t cap, uint32_t max, uint32_t flags);

/* Send library logs to stderr (set HVCT_LOG=4 for debug). */
void hvct_log_to_stderr(void);

/* Run fn(arg) in a child process; its return value is the exit code. */
pid_t hvct_fork(int (*fn)(void *), void *arg);
/* Child body: attach the region at path (a const char *), join as "doomed"
 * and sleep until killed; exits 1 if it cannot join. */
int hvct_join_and_hang(void *path);
/* Wait for a child: its exit code, or 128 + signal number. */
int hvct_wait(pid_t pid);

/* Run a Check suite with the given fixture-less cases; returns the exit code. */
int hvct_run(Suite *s);

/* The suite main every test file shares: one case named `name`, the
 * fixture setup/teardown (NULL: none; a teardown other than
 * hvct_leak_teardown() is the file's own), a timeout in seconds (0:
 * Check's default), the tests (HVCT_TESTS(a, b, ...)); runs it and returns
 * the exit code. */
int hvct_main(const char *name, void (*setup)(void), void (*teardown)(void), double timeout,
              const TTest *const *tests);
/* hvct_main()'s suite, not run: for a file that adds loop tests to *tc. */
Suite *hvct_suite(const char *name, void (*setup)(void), void (*teardown)(void), double timeout,
                  const TTest *const *tests, TCase **tc);
/* The NULL-terminated list of tests for hvct_main(). */
#define HVCT_TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})

/* Format a fresh region at path on ops (NULL: POSIX) with the geometry
 * (0: defaults), failing the test if it cannot; join as `label` unless it
 * is NULL. Returns the peer id (or -1 when not joined). */
int hvct_format(struct hvc_region *r, const struct hvc_platform *ops, const char *path,
                uint64_t size, uint32_t max_peers, uint32_t max_objects, const char *label);
/* In a child: attach the region at path on ops (NULL: POSIX) and join as
 * `label`; 0, or 1 (an exit code) when either fails. */
int hvct_child_join(struct hvc_region *r, const struct hvc_platform *ops, const char *path,
                    const char *label);

/* Monotonic nanoseconds. */
unsigned long long hvct_now_ns(void);

/* ck_assert that an hvcomm call returned the expected code, naming both. */
#define hvct_assert_rc(expr, expected)                                          \
    do {                                                                        \
        int hvct_rc_ = (expr);                                                  \
        int hvct_ex_ = (expected);                                              \
        ck_assert_msg(hvct_rc_ == hvct_ex_, "%s returned %d (%s), expected %d (%s)", \
                      #expr, hvct_rc_, hvc_errname(hvct_rc_), hvct_ex_,         \
                      hvc_errname(hvct_ex_));                                   \
    } while (0)

#endif
