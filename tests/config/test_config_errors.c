/*
 * Every mistake the system-file loader and planner report, each from a
 * broken file: the message, its line and column, and that every mistake
 * of a file is reported (not only the first).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvcomm/config.h>

#include "testutil.h"

struct errs {
    unsigned n;
    char text[64][320];
};

static void collect(void *ctx, const char *file, unsigned line, unsigned col, const char *msg)
{
    struct errs *e = ctx;

    if (e->n < 64)
        snprintf(e->text[e->n], sizeof(e->text[0]), "%s:%u:%u: %s", file, line, col, msg);
    e->n++;
}

/* A valid head: region, three peers. Objects are appended by each case. */
#define HEAD                                                                   \
    "system: t\n"                                                              \
    "region:\n"                                                                \
    "  size: 1M\n"                                                             \
    "  peers: 4\n"                                                             \
    "  objects: 16\n"                                                          \
    "peers:\n"                                                                 \
    "  - {name: a, id: 0}\n"                                                   \
    "  - {name: b, id: 1}\n"                                                   \
    "  - {name: c, id: 2}\n"
/* Objects start on line 11 (the "objects:" key is line 10). */
#define OBJ "objects:\n"

static struct errs *parse(const char *text, int *rc)
{
    static struct errs e;
    struct hvc_config *cfg = NULL;

    memset(&e, 0, sizeof(e));
    *rc = hvc_system_parse("t.yaml", text, strlen(text), &cfg, collect, &e);
    if (*rc == 0) {
        ck_assert_ptr_nonnull(cfg);
        hvc_config_free(cfg);
    } else {
        ck_assert_ptr_null(cfg);
    }
    return &e;
}

/* The file gives exactly one mistake, and it is `want` (whole line). */
static void expect1(const char *text, const char *want)
{
    int rc;
    struct errs *e = parse(text, &rc);

    hvct_assert_rc(rc, -HVC_EINVAL);
    ck_assert_msg(e->n == 1, "expected 1 error (%s), got %u: first '%s'", want, e->n,
                  e->n ? e->text[0] : "");
    ck_assert_str_eq(e->text[0], want);
}

START_TEST(valid_file_loads)
{
    int rc;
    struct errs *e = parse(HEAD OBJ "  - {name: r, type: ring, capacity: 4K, max-message: 100, "
                                    "writer: a, reader: b}\n",
                           &rc);

    ck_assert_msg(rc == 0 && e->n == 0, "rc %d, %u errors: %s", rc, e->n, e->n ? e->text[0] : "");
}
END_TEST

START_TEST(yaml_syntax)
{
    expect1(HEAD "objects: [\n  - a\n",
            "t.yaml:11:3: YAML: did not find expected node content while parsing a flow node");
}
END_TEST

START_TEST(empty_file)
{
    expect1("", "t.yaml:0:0: the file is empty");
}
END_TEST

START_TEST(top_not_mapping)
{
    expect1("- a\n", "t.yaml:1:1: the file must be a mapping of keys");
}
END_TEST

START_TEST(unknown_key_nearest)
{
    expect1(HEAD "objets: []\n", "t.yaml:10:1: unknown key 'objets' (did you mean 'objects'?)");
    expect1(HEAD OBJ "  - {name: r, type: ring, capacity: 4K, max-mesage: 100, max-message: 100, "
                     "writer: a, reader: b}\n",
            "t.yaml:11:41: unknown key 'max-mesage' (did you mean 'max-message'?)");
    expect1(HEAD "zzzzzz: 1\n", "t.yaml:10:1: unknown key 'zzzzzz'");
}
END_TEST

START_TEST(unknown_type_nearest)
{
    expect1(HEAD OBJ "  - {name: r, type: rinng}\n",
            "t.yaml:11:21: unknown type 'rinng' (did you mean 'ring'?)");
}
END_TEST

START_TEST(duplicate_key)
{
    expect1("system: t\nsystem: u\nregion: {size: 1M}\npeers: [{name: a, id: 0}]\n",
            "t.yaml:2:1: key 'system' given twice (first at line 1)");
}
END_TEST

START_TEST(missing_key)
{
    expect1("system: t\npeers: [{name: a, id: 0}]\n", "t.yaml:1:1: the file: missing key 'region'");
    expect1(HEAD OBJ "  - {name: r, type: ring, max-message: 100, writer: a, reader: b}\n",
            "t.yaml:11:5: r: missing key 'capacity'");
}
END_TEST

START_TEST(duplicate_names)
{
    expect1(HEAD "  - {name: a, id: 3}\n", "t.yaml:10:12: duplicate peer name 'a'");
    expect1(HEAD "  - {name: d, id: 1}\n", "t.yaml:10:19: peer 'd': id 1 is already peer 'b'");
    expect1(HEAD OBJ "  - {name: e, type: event}\n  - {name: e, type: event}\n",
            "t.yaml:12:12: duplicate object name 'e' (first at line 11)");
}
END_TEST

START_TEST(peer_id_range)
{
    expect1(HEAD "  - {name: d, id: 4}\n",
            "t.yaml:10:19: peer 'd': id 4 is outside the region's peer table (peers: 4)");
}
END_TEST

START_TEST(bad_sizes_and_units)
{
    expect1(HEAD OBJ "  - {name: s, type: segment, size: 12Q, writers: [a]}\n",
            "t.yaml:11:36: 'size': '12Q' is not a size (a number with K, M or G)");
    expect1("system: t\nregion: {size: 1K}\npeers: [{name: a, id: 0}]\n",
            "t.yaml:2:16: 'size' must be 4096..1099511627776, not 1024");
    expect1(HEAD OBJ "  - {name: p, type: sampling, max-message: 8, refresh: 10, writer: a}\n",
            "t.yaml:11:56: 'refresh': '10' is not a time (a number with ns, us, ms or s)");
    expect1(HEAD OBJ "  - {name: r, type: ring, capacity: 4K, max-message: 100, writer: a, "
                     "reader: b, blocking: maybe}\n",
            "t.yaml:11:91: 'blocking' must be true or false");
}
END_TEST

START_TEST(writer_not_a_peer)
{
    expect1(HEAD OBJ "  - {name: r, type: ring, capacity: 4K, max-message: 100, writer: bb, "
                     "reader: a}\n",
            "t.yaml:11:67: writer 'bb' of 'r' is not a declared peer (did you mean 'b'?)");
    expect1(HEAD OBJ "  - {name: e, type: event, signalers: [zed]}\n",
            "t.yaml:11:40: signalers 'zed' of 'e' is not a declared peer");
}
END_TEST

START_TEST(ring_too_small)
{
    expect1(HEAD OBJ "  - {name: r, type: ring, capacity: 200, max-message: 100, writer: a, "
                     "reader: b}\n",
            "t.yaml:11:37: ring 'r': capacity 200 is smaller than two records of max-message "
            "100 (needs at least 224)");
}
END_TEST

START_TEST(reader_is_writer)
{
    expect1(HEAD OBJ "  - {name: r, type: ring, capacity: 4K, max-message: 100, writer: a, "
                     "reader: a}\n",
            "t.yaml:11:78: peer 'a' of 'r' is declared both writer and reader");
    expect1(HEAD OBJ "  - {name: p, type: sampling, max-message: 8, refresh: 1ms, writer: a, "
                     "readers: [b, a]}\n",
            "t.yaml:11:81: peer 'a' of 'p' is declared both writer and reader");
    expect1(HEAD OBJ "  - {name: s, type: segment, size: 4K, writers: [a], read-only: [a]}\n",
            "t.yaml:11:65: peer 'a' of 's' is declared both writer and read-only");
    expect1(HEAD OBJ "  - {name: e, type: event, signalers: [a], waiters: [a]}\n",
            "t.yaml:11:53: peer 'a' of 'e' is declared both writer and waiter");
}
END_TEST

START_TEST(refresh_zero)
{
    expect1(HEAD OBJ "  - {name: p, type: sampling, max-message: 8, refresh: 0ms, writer: a}\n",
            "t.yaml:11:56: sampling port 'p': the refresh period must be greater than 0");
}
END_TEST

START_TEST(invalid_mac_and_address)
{
    expect1(HEAD OBJ "  - {name: n, type: vnet, ends: [{peer: a, mac: '02:00:00:00:00'}, {peer: b}]}\n",
            "t.yaml:11:49: invalid MAC '02:00:00:00:00' (want six hex bytes like "
            "02:00:00:00:00:01, unicast)");
    expect1(HEAD OBJ "  - {name: n, type: vnet, ends: [{peer: a, mac: '01:00:00:00:00:01'}, {peer: b}]}\n",
            "t.yaml:11:49: invalid MAC '01:00:00:00:00:01' (want six hex bytes like "
            "02:00:00:00:00:01, unicast)");
    expect1(HEAD OBJ "  - {name: n, type: vnet, ends: [{peer: a, address: 10.0.0.300/24}, {peer: b}]}\n",
            "t.yaml:11:53: invalid IPv4 address '10.0.0.300/24' (want A.B.C.D or A.B.C.D/PREFIX)");
    expect1(HEAD OBJ "  - {name: n, type: vnet, ends: [{peer: a, mac: '02:00:00:00:00:01'}, "
                     "{peer: b, mac: '02:00:00:00:00:01'}]}\n",
            "t.yaml:11:86: vnet link 'n': both ends have MAC 02:00:00:00:00:01");
}
END_TEST

START_TEST(vnet_shape)
{
    expect1(HEAD OBJ "  - {name: n, type: vnet, ends: [{peer: a}]}\n",
            "t.yaml:11:33: vnet link 'n': 'ends' must be a list of two ends");
    expect1(HEAD OBJ "  - {name: n, type: vnet, ends: [{peer: a}, {peer: a}]}\n",
            "t.yaml:11:52: vnet link 'n': both ends are peer 'a'");
    expect1(HEAD OBJ "  - {name: n, type: vnet, ring: 64K, ends: [{peer: a}, {peer: b}]}\n",
            "t.yaml:11:33: vnet link 'n': ring 65536 is smaller than two maximal frames (needs "
            "at least 131120)");
    expect1(HEAD OBJ "  - {name: n23456789012345678901234567890, type: vnet, ends: [{peer: a}, {peer: b}]}\n",
            "t.yaml:11:12: vnet link name 'n23456789012345678901234567890' is longer than 29 "
            "characters");
}
END_TEST

START_TEST(names)
{
    expect1(HEAD OBJ "  - {name: e234567890123456789012345678901234, type: event}\n",
            "t.yaml:11:12: object name 'e234567890123456789012345678901234' is longer than 31 "
            "characters");
    expect1(HEAD OBJ "  - {name: .x, type: event}\n",
            "t.yaml:11:12: object name '.x': names starting with '.' are reserved");
    expect1(HEAD "  - {name: p23456789012345678901234, id: 3}\n",
            "t.yaml:10:12: peer name 'p23456789012345678901234' is longer than 23 characters");
}
END_TEST

START_TEST(enums)
{
    expect1(HEAD OBJ "  - {name: e, type: event, kind: brodcast}\n",
            "t.yaml:11:34: unknown kind 'brodcast' (did you mean 'broadcast'?)");
    expect1(HEAD OBJ "  - {name: q, type: queue, depth: 4, max-message: 8, overflow: drop, "
                     "writer: a, reader: b}\n",
            "t.yaml:11:64: unknown overflow 'drop' (did you mean 'drop-oldest'?)");
    expect1(HEAD OBJ "  - {name: e, type: event, max-count: 3}\n",
            "t.yaml:11:39: 'max-count' is only for a counting event");
}
END_TEST

START_TEST(bridge_mistakes)
{
    expect1(HEAD OBJ "  - {name: br, type: bridge, host: c, ports: [nope]}\n",
            "t.yaml:11:5: bridge 'br': port 'nope' is not a declared vnet link");
    expect1(HEAD OBJ "  - {name: n, type: vnet, ends: [{peer: a}, {peer: b}]}\n"
                     "  - {name: br, type: bridge, host: c, ports: [n], rules: ['frobnicate']}\n",
            "t.yaml:12:59: bridge 'br': invalid rule 'frobnicate'");
    expect1(HEAD OBJ "  - {name: br, type: bridge, host: zz, ports: []}\n",
            "t.yaml:11:36: host 'zz' of 'br' is not a declared peer");
}
END_TEST

START_TEST(creator_and_shapes)
{
    expect1(HEAD "creator: d\n", "t.yaml:10:10: creator 'd' is not a declared peer");
    expect1(HEAD "objects: 3\n", "t.yaml:10:10: 'objects' must be a list of objects");
    expect1("system: t\nregion: {size: 1M}\npeers: 3\n", "t.yaml:3:8: 'peers' must be a list of peers");
    expect1(HEAD OBJ "  - 3\n", "t.yaml:11:5: an object must be a mapping of keys");
    expect1(HEAD OBJ "  - {name: x}\n", "t.yaml:11:5: object: missing key 'type'");
}
END_TEST

START_TEST(directory_too_small)
{
    expect1("system: t\nregion: {size: 1M, objects: 3}\npeers: [{name: a, id: 0}, {name: b, id: 1}]\n"
            "objects:\n"
            "  - {name: r, type: ring, capacity: 4K, max-message: 8, writer: a, reader: b, "
            "blocking: true}\n",
            "t.yaml:5:3: the objects need 4 directory entries (with the system record, two per "
            "blocking ring and six per vnet link) but the region has 3 (region 'objects')");
}
END_TEST

/* Every mistake of one file, in file order. */
START_TEST(all_mistakes_reported)
{
    int rc;
    struct errs *e = parse(HEAD OBJ
                           "  - {name: r, type: ring, capacity: 200, max-message: 100, writer: x, reader: b}\n"
                           "  - {name: r, type: evnt}\n"
                           "  - {name: p, type: sampling, max-message: 8, refresh: 0s, writer: a, readers: [a]}\n"
                           "  - {name: n, type: vnet, ends: [{peer: a, mac: zz}, {peer: b}], mtuu: 9000}\n",
                           &rc);

    hvct_assert_rc(rc, -HVC_EINVAL);
    ck_assert_msg(e->n == 7, "got %u errors", e->n);
    ck_assert_str_eq(e->text[0], "t.yaml:11:37: ring 'r': capacity 200 is smaller than two "
                                 "records of max-message 100 (needs at least 224)");
    ck_assert_str_eq(e->text[1], "t.yaml:11:68: writer 'x' of 'r' is not a declared peer");
    ck_assert_str_eq(e->text[2], "t.yaml:12:21: unknown type 'evnt' (did you mean 'event'?)");
    ck_assert_str_eq(e->text[3],
                     "t.yaml:13:56: sampling port 'p': the refresh period must be greater than 0");
    ck_assert_str_eq(e->text[4], "t.yaml:13:80: peer 'a' of 'p' is declared both writer and reader");
    ck_assert_str_eq(e->text[5], "t.yaml:14:66: unknown key 'mtuu' (did you mean 'mtu'?)");
    ck_assert_str_eq(e->text[6], "t.yaml:14:49: invalid MAC 'zz' (want six hex bytes like "
                                 "02:00:00:00:00:01, unicast)");
}
END_TEST

/* The planner: objects that do not fit, each reported at its line. */
START_TEST(objects_do_not_fit)
{
    static const char text[] = "system: t\nregion: {size: 64K, objects: 8}\n"
                               "peers: [{name: a, id: 0}, {name: b, id: 1}]\n"
                               "objects:\n"
                               "  - {name: s1, type: segment, size: 40K, writers: [a]}\n"
                               "  - {name: s2, type: segment, size: 40K, writers: [a]}\n"
                               "  - {name: e, type: event}\n"
                               "  - {name: s3, type: segment, size: 30K, writers: [a]}\n";
    struct hvc_config *cfg = NULL;
    struct errs e = {0};
    uint64_t left = 0;

    hvct_assert_rc(hvc_system_parse("t.yaml", text, strlen(text), &cfg, collect, &e), 0);
    hvct_assert_rc(hvc_config_plan(cfg, HVC_CONFIG_PLAN_RUNTIME, NULL, NULL, &left, collect, &e), -HVC_ENOSPC);
    ck_assert_msg(e.n == 2, "got %u errors: %s", e.n, e.text[0]);
    ck_assert_msg(strstr(e.text[0], "t.yaml:6:5: object 's2' does not fit in the region (") ==
                      e.text[0], "%s", e.text[0]);
    ck_assert_msg(strstr(e.text[0], " bytes free in all after the objects before it)") != NULL,
                  "%s", e.text[0]);
    ck_assert_msg(strstr(e.text[1], "t.yaml:8:5: object 's3' does not fit in the region (") ==
                      e.text[1], "%s", e.text[1]);
    hvc_config_free(cfg);
}
END_TEST

/* The objects fit, the system record after them does not. */
START_TEST(record_does_not_fit)
{
    char text[1024];
    struct hvc_config *cfg = NULL;
    struct errs e = {0};
    int n = snprintf(text, sizeof(text),
                     "system: t\nregion: {size: 64K, peers: 1, objects: 40}\n"
                     "peers: [{name: a, id: 0}]\nobjects:\n"
                     "  - {name: s, type: segment, size: 61312, writers: [a]}\n");

    for (int i = 0; i < 6; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "  - {name: e%d, type: event}\n", i);
    hvct_assert_rc(hvc_system_parse("t.yaml", text, strlen(text), &cfg, collect, &e), 0);
    hvct_assert_rc(hvc_config_plan(cfg, 0, NULL, NULL, NULL, collect, &e), -HVC_ENOSPC);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.text[0], "t.yaml:0:0: no room left for the system record '.hvc.system'");
    hvc_config_free(cfg);
}
END_TEST

/* A vnet link fits; the rings its ends make when they open it do not. */
START_TEST(vnet_rings_do_not_fit)
{
    static const char text[] = "system: t\nregion: {size: 1M, objects: 16}\n"
                               "peers: [{name: a, id: 0}, {name: b, id: 1}]\nobjects:\n"
                               "  - {name: n, type: vnet, ring: 512K, ends: [{peer: a}, {peer: b}]}\n";
    struct hvc_config *cfg = NULL;
    struct errs e = {0};

    hvct_assert_rc(hvc_system_parse("t.yaml", text, strlen(text), &cfg, collect, &e), 0);
    /* Without the run-time objects it fits. */
    hvct_assert_rc(hvc_config_plan(cfg, 0, NULL, NULL, NULL, collect, &e), 0);
    hvct_assert_rc(hvc_config_plan(cfg, HVC_CONFIG_PLAN_RUNTIME, NULL, NULL, NULL, collect, &e),
                   -HVC_ENOSPC);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.text[0], "t.yaml:5:5: vnet link 'n': end 1's ring (524288 bytes) will not "
                                "fit when the end opens the link: no room left in the region or "
                                "its directory");
    hvc_config_free(cfg);
}
END_TEST

/* A ring larger than the region itself. */
START_TEST(vnet_ring_larger_than_region)
{
    static const char text[] = "system: t\nregion: {size: 1M, objects: 16}\n"
                               "peers: [{name: a, id: 0}, {name: b, id: 1}]\nobjects:\n"
                               "  - {name: n, type: vnet, ring: 2M, ends: [{peer: a}, {peer: b}]}\n";
    struct hvc_config *cfg = NULL;
    struct errs e = {0};

    hvct_assert_rc(hvc_system_parse("t.yaml", text, strlen(text), &cfg, collect, &e), 0);
    hvct_assert_rc(hvc_config_plan(cfg, HVC_CONFIG_PLAN_RUNTIME, NULL, NULL, NULL, collect, &e),
                   -HVC_ENOSPC);
    ck_assert_uint_eq(e.n, 2);
    ck_assert_str_eq(e.text[0], "t.yaml:5:5: vnet link 'n': end 0's ring (2097152 bytes) will not "
                                "fit when the end opens the link: larger than the region");
    hvc_config_free(cfg);
}
END_TEST

START_TEST(missing_file)
{
    struct hvc_config *cfg = NULL;
    struct errs e = {0};

    hvct_assert_rc(hvc_system_load("/nonexistent/x.yaml", &cfg, collect, &e), -HVC_ENOENT);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.text[0], "/nonexistent/x.yaml:0:0: cannot open: No such file or directory");
}
END_TEST

int main(void)
{
    return hvct_main("config_errors", hvct_leak_setup, hvct_leak_teardown, 0,
                     HVCT_TESTS(valid_file_loads, yaml_syntax, empty_file, top_not_mapping,
                                unknown_key_nearest, unknown_type_nearest, duplicate_key,
                                missing_key, duplicate_names, peer_id_range,
                                bad_sizes_and_units, writer_not_a_peer, ring_too_small,
                                reader_is_writer, refresh_zero, invalid_mac_and_address,
                                vnet_shape, names, enums, bridge_mistakes, creator_and_shapes,
                                directory_too_small, all_mistakes_reported, objects_do_not_fit,
                                record_does_not_fit, vnet_rings_do_not_fit,
                                vnet_ring_larger_than_region, missing_file));
}
