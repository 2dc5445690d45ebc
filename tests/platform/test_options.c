/*
 * The small-target options on a host: this program links its own build of
 * the core and the POSIX backend with HVC_CONFIG_ATTACH_ONLY,
 * HVC_CONFIG_NO_STRINGS, HVC_CONFIG_NO_BLOCKING and HVC_CONFIG_COHERENT
 * (tests/platform/CMakeLists.txt), attaches a region the full library made
 * (`hvcomm create --config options.yaml`, run by the test before this
 * program), moves messages through a ring, and checks that what each
 * option removes fails the documented way (doc/baremetal.md).
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvcomm/hvcomm.h>

static const char *region_path;

static void cache_nop(const struct hvc_platform *p, void *state, const void *addr,
                      uint64_t len)
{
    (void)p, (void)state, (void)addr, (void)len;
}

START_TEST(attach_join_move)
{
    struct hvc_region r;
    struct hvc_ring tx, rx;
    uint8_t buf[256];

    ck_assert_int_eq(hvc_region_attach(&r, hvc_platform_posix(), region_path, 0), 0);
    ck_assert_int_ge(hvc_peer_join_id(&r, 1, "b"), 0);
    /* One handle per side in this process: rx has writer "a" (peer 0), so
     * the producer handle must refuse this peer, then the consumer works. */
    ck_assert_int_eq(hvc_ring_open(&tx, &r, "rx", HVC_RING_PRODUCER), -HVC_EPERM);
    ck_assert_int_eq(hvc_ring_open(&rx, &r, "rx", HVC_RING_CONSUMER), 0);
    ck_assert_int_eq(hvc_ring_recv(&rx, buf, sizeof(buf)), -HVC_EAGAIN);
    ck_assert_int_eq(hvc_peer_leave(&r), 0);

    /* As peer "a" the producer opens; 1000 messages of every length. */
    ck_assert_int_ge(hvc_peer_join_id(&r, 0, "a"), 0);
    ck_assert_int_eq(hvc_ring_open(&tx, &r, "rx", HVC_RING_PRODUCER), 0);
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t len = 1 + i % 200;

        memset(buf, (int)(i & 0xff), len);
        ck_assert_int_eq(hvc_ring_send(&tx, buf, len), 0);
        memset(buf, 0, sizeof(buf));
        ck_assert_int_eq(hvc_ring_recv(&rx, buf, sizeof(buf)), (int)len);
        for (uint32_t k = 0; k < len; k++)
            ck_assert_uint_eq(buf[k], i & 0xff);
    }
    ck_assert_int_eq(hvc_region_detach(&r), 0);
}
END_TEST

START_TEST(removed_parts_fail_cleanly)
{
    struct hvc_region r, f;
    struct hvc_ring q;
    struct hvc_ring_attr attr = {.capacity = 4096, .max_msg = 64};
    struct hvc_region_config rattr = {.size = 1u << 16, .max_peers = 2, .max_objects = 4};

    ck_assert_int_eq(hvc_region_attach(&r, hvc_platform_posix(), region_path, 0), 0);
    ck_assert_int_ge(hvc_peer_join_id(&r, 1, "b"), 0);
    /* NO_BLOCKING: a blocking ring is well formed but not for this build. */
    ck_assert_int_eq(hvc_ring_open(&q, &r, "brx", HVC_RING_CONSUMER), -HVC_ENOTSUP);
    /* ... and every wait on a ring, one or several, says so. */
    ck_assert_int_eq(hvc_ring_open(&q, &r, "rx", HVC_RING_CONSUMER), 0);
    {
        struct hvc_ring *qs[1] = {&q};

        ck_assert_int_eq(hvc_ring_wait_readable(&q, 0), -HVC_ENOTSUP);
        ck_assert_int_eq(hvc_ring_wait_any(qs, 1, 0), -HVC_ENOTSUP);
    }
    /* ATTACH_ONLY: nothing is created or formatted. */
    ck_assert_int_eq(hvc_ring_create(&q, &r, "new", &attr), -HVC_ENOTSUP);
    ck_assert_int_eq(hvc_region_format(&f, hvc_platform_posix(), "/hvct-options-fmt", &rattr),
                     -HVC_ENOTSUP);
    /* NO_STRINGS: no tables. */
    ck_assert_str_eq(hvc_strerror(-HVC_EPROTO), "");
    ck_assert_str_eq(hvc_errname(-HVC_EPROTO), "");
    ck_assert_int_eq(hvc_region_detach(&r), 0);
}
END_TEST

START_TEST(coherent_refuses_cache_backend)
{
    struct hvc_platform cached = *hvc_platform_posix();
    struct hvc_region r;

    /* COHERENT: a backend that needs cache maintenance would be driven
     * without it, so it is refused before anything is mapped. */
    cached.cache_clean = cache_nop;
    ck_assert_int_eq(hvc_platform_check(&cached), -HVC_ENOTSUP);
    ck_assert_int_eq(hvc_region_attach(&r, &cached, region_path, 0), -HVC_ENOTSUP);
    cached.cache_clean = NULL;
    cached.cache_invalidate = cache_nop;
    ck_assert_int_eq(hvc_region_attach(&r, &cached, region_path, 0), -HVC_ENOTSUP);
    cached.cache_invalidate = NULL;
    ck_assert_int_eq(hvc_region_attach(&r, &cached, region_path, 0), 0);
    ck_assert_int_eq(hvc_region_detach(&r), 0);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    if (argc != 2) {
        fprintf(stderr, "usage: test_options REGION\n");
        return 2;
    }
    region_path = argv[1];
    tcase_add_test(tc, attach_join_move);
    tcase_add_test(tc, removed_parts_fail_cleanly);
    tcase_add_test(tc, coherent_refuses_cache_backend);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
