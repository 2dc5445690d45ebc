/*
 * Liveness tokens carry the namespace of the backend that issued them: a
 * POSIX peer judges only POSIX tokens. A bare-metal, ivshmem or x86hv peer's
 * token whose low bits happen to be a dead pid must not be declared gone by
 * a POSIX scan.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <string.h>
#include <unistd.h>

#define SIZE (1u << 20)

static struct hvc_wire_peer *slot(struct hvc_region *r, uint32_t id)
{
    uint8_t *base = hvc_region_platform(r)->base;
    const struct hvc_wire_header *hdr = (const void *)base;

    return (struct hvc_wire_peer *)(void *)(base + hdr->peer_offset) + id;
}

static int exit_now(void *arg)
{
    (void)arg;
    return 0;
}

/* A pid that was a process of ours and is now reaped: dead for kill(). */
static uint32_t dead_pid(void)
{
    pid_t pid = hvct_fork(exit_now, NULL);

    ck_assert_int_eq(hvct_wait(pid), 0);
    ck_assert_uint_lt((unsigned)pid, 1u << HVC_POSIX_TOKEN_PID_BITS);
    return (uint32_t)pid;
}

/* Put a READY peer in slot `id` with the given token, as another peer would. */
static void plant(struct hvc_region *r, uint32_t id, uint32_t ns, uint64_t token)
{
    struct hvc_wire_peer *p = slot(r, id);

    p->token_lo = (uint32_t)token;
    p->token_hi = (uint32_t)(token >> 32);
    p->token_ns = ns;
    __atomic_store_n(&p->status, HVC_PEER_STATUS(7u, HVC_PEER_READY), __ATOMIC_RELEASE);
}

static uint32_t state_of(struct hvc_region *r, uint32_t id)
{
    struct hvc_peer_info pi;

    hvct_assert_rc(hvc_peer_info(r, id, &pi), 0);
    return pi.state;
}

START_TEST(own_token_has_the_posix_namespace)
{
    struct hvc_peer_info pi;
    struct hvc_region r;
    int id;

    hvct_leak_setup();
    hvct_make_region(&r, "tns", SIZE, 4, 4);
    ck_assert_uint_eq(hvc_platform_token_ns(hvc_region_platform(&r)), HVC_TOKEN_NS_POSIX);
    id = hvc_peer_join(&r, "self");
    ck_assert_int_ge(id, 0);
    hvct_assert_rc(hvc_peer_info(&r, (uint32_t)id, &pi), 0);
    ck_assert_uint_ne(pi.token, 0);
    ck_assert_uint_eq(pi.token_ns, HVC_TOKEN_NS_POSIX);
    ck_assert_uint_eq(HVC_POSIX_TOKEN_PID(pi.token), (uint32_t)getpid());
    hvct_assert_rc(hvc_region_detach(&r), 0);
    hvct_leak_teardown();
}
END_TEST

START_TEST(foreign_tokens_are_not_judged)
{
    static const uint32_t foreign[] = {HVC_TOKEN_NS_NONE, HVC_TOKEN_NS_IVSHMEM,
                                       HVC_TOKEN_NS_BAREMETAL, HVC_TOKEN_NS_X86HV,
                                       HVC_TOKEN_NS_USER};
    struct hvc_platform_handle *h;
    struct hvc_region r;
    uint64_t token;
    uint32_t pid;

    hvct_leak_setup();
    hvct_make_region(&r, "tnf", SIZE, 8, 4);
    ck_assert_int_eq(hvc_peer_join(&r, "scanner"), 0);
    h = hvc_region_platform(&r);
    pid = dead_pid();
    /* What a bare-metal "core N" token with pid-like low bits looks like. */
    token = 3ull << 40 | pid;
    hvct_assert_rc(hvc_platform_peer_alive(h, 1, token), 0); /* as a pid: dead */

    for (uint32_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        plant(&r, 1 + i, foreign[i], token);
        hvct_assert_rc(hvc_platform_token_alive(h, 1 + i, foreign[i], token), -HVC_ENOTSUP);
    }
    hvct_assert_rc(hvc_peer_scan(&r, 0), 0);
    for (uint32_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
        ck_assert_msg(state_of(&r, 1 + i) == HVC_PEER_READY,
                      "a token of namespace %u was judged by the POSIX backend",
                      (unsigned)foreign[i]);

    /* The same token in the POSIX namespace is a dead process: gone. */
    plant(&r, 6, HVC_TOKEN_NS_POSIX, token);
    hvct_assert_rc(hvc_platform_token_alive(h, 6, HVC_TOKEN_NS_POSIX, token), 0);
    hvct_assert_rc(hvc_peer_scan(&r, 0), 1);
    ck_assert_uint_eq(state_of(&r, 6), HVC_PEER_GONE);
    /* Token 0 is unknown in every namespace. */
    hvct_assert_rc(hvc_platform_token_alive(h, 6, HVC_TOKEN_NS_POSIX, 0), -HVC_ENOTSUP);
    hvct_assert_rc(hvc_platform_token_alive(NULL, 6, HVC_TOKEN_NS_POSIX, token), -HVC_EINVAL);
    ck_assert_uint_eq(hvc_platform_token_ns(NULL), HVC_TOKEN_NS_NONE);
    hvct_assert_rc(hvc_region_detach(&r), 0);
    hvct_leak_teardown();
}
END_TEST

int main(void)
{
    return hvct_main("token_ns", NULL, NULL, 0,
                     HVCT_TESTS(own_token_has_the_posix_namespace,
                                foreign_tokens_are_not_judged));
}
