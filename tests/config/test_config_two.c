/*
 * Two processes load the same system file (examples/systems/sensors.yaml):
 * the creator formats and applies it, the other attaches and applies it,
 * and they find each other's objects by name: a blocking ring, an event, a
 * sampling port and a queuing port, each opened in the declared role.
 * Roles the file does not give are refused with -HVC_EPERM.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hvcomm/config.h>

#include "testutil.h"

#define MSGS 200
#define DEADLINE_NS 30000000000ull

static const char *region_path;

static void pause_1ms(void)
{
    struct timespec ts = {0, 1000000};

    nanosleep(&ts, NULL);
}

static struct hvc_config *load(void)
{
    struct hvc_config *cfg = NULL;

    if (hvc_system_load(SYSTEMS_DIR "/sensors.yaml", &cfg, NULL, NULL) < 0)
        return NULL;
    return cfg;
}

/* Attach and apply as `peer`, retrying while the creator is not done
 * (the condition: the region exists and holds the system record). */
static int attach_apply(struct hvc_region *r, const struct hvc_system *sys, const char *peer)
{
    unsigned long long end = hvct_now_ns() + DEADLINE_NS;
    int rc;

    for (;;) {
        rc = hvc_system_start(r, hvc_platform_posix(), region_path, sys, peer);
        if (rc != -HVC_ENOTREADY && rc != -HVC_ENOENT && rc != -HVC_EMAGIC)
            return rc;
        if (hvct_now_ns() > end)
            return rc;
        pause_1ms(); /* poll interval only; the condition decides */
    }
}

static int sensor(void *arg)
{
    struct hvc_config *cfg = load();
    struct hvc_region r;
    struct hvc_ring ring;
    struct hvc_event ready;
    struct hvc_sampling speed;
    struct hvc_queue cmds;
    struct hvc_seg cal;
    unsigned long long end = hvct_now_ns() + DEADLINE_NS;
    char buf[256];
    int rc;

    (void)arg;
    if (cfg == NULL)
        return 10;
    if (hvc_system_start(&r, hvc_platform_posix(), region_path, &cfg->system, "sensor") < 0)
        return 12;
    if (hvc_peer_self(&r) != 0)
        return 13;
    if (hvc_system_open_ring(&r, &cfg->system, "readings", &ring) < 0 ||
        hvc_system_open_event(&r, &cfg->system, "ready", &ready) < 0 ||
        hvc_system_open_sampling(&r, &cfg->system, "speed", &speed) < 0 ||
        hvc_system_open_queue(&r, &cfg->system, "commands", &cmds) < 0)
        return 14;
    /* Declared read-only on the segment: it opens read-only. */
    if (hvc_system_open_segment(&r, &cfg->system, "calibration", &cal) < 0 ||
        !(cal.flags & HVC_SEG_O_RDONLY))
        return 15;
    hvc_seg_close(&cal);
    if (hvc_sampling_write(&speed, "fast", 4) < 0)
        return 16;
    for (int i = 0; i < MSGS; i++) {
        snprintf(buf, sizeof(buf), "reading %d", i);
        if (hvc_ring_send_wait(&ring, buf, (uint32_t)strlen(buf), (int64_t)DEADLINE_NS) < 0)
            return 17;
    }
    if (hvc_event_signal(&ready) < 0)
        return 18;
    /* The other side answers on the queue it writes. */
    for (;;) {
        rc = hvc_queue_recv(&cmds, buf, sizeof(buf), NULL);
        if (rc >= 0)
            break;
        if (rc != -HVC_EAGAIN || hvct_now_ns() > end)
            return 19;
        pause_1ms();
    }
    if (rc != 4 || memcmp(buf, "done", 4) != 0)
        return 20;
    hvc_event_close(&ready);
    hvc_region_detach(&r);
    hvc_config_free(cfg);
    return 0;
}

static int control(void *arg)
{
    struct hvc_config *cfg = load();
    struct hvc_region r;
    struct hvc_ring ring, wrong;
    struct hvc_event ready;
    struct hvc_sampling speed;
    struct hvc_sampling_info si;
    struct hvc_queue cmds;
    struct hvc_seg cal;
    char buf[256], want[64];
    int rc;

    (void)arg;
    if (cfg == NULL)
        return 30;
    if (attach_apply(&r, &cfg->system, "control") < 0)
        return 31;
    if (hvc_peer_self(&r) != 1)
        return 32;
    if (hvc_system_open_ring(&r, &cfg->system, "readings", &ring) < 0 ||
        hvc_system_open_event(&r, &cfg->system, "ready", &ready) < 0 ||
        hvc_system_open_sampling(&r, &cfg->system, "speed", &speed) < 0 ||
        hvc_system_open_queue(&r, &cfg->system, "commands", &cmds) < 0)
        return 33;
    /* The declared writer of the segment opens it read-write. */
    if (hvc_system_open_segment(&r, &cfg->system, "calibration", &cal) < 0 ||
        (cal.flags & HVC_SEG_O_RDONLY) || hvc_seg_lock(&cal) < 0 || hvc_seg_unlock(&cal) < 0)
        return 34;
    hvc_seg_close(&cal);
    /* A consumer handle cannot be turned into the producer by hand either. */
    if (hvc_ring_open(&wrong, &r, "readings", HVC_RING_PRODUCER) != -HVC_EPERM)
        return 35;
    for (int i = 0; i < MSGS; i++) {
        rc = hvc_ring_recv_wait(&ring, buf, sizeof(buf) - 1, (int64_t)DEADLINE_NS);
        if (rc < 0)
            return 36;
        buf[rc] = '\0';
        snprintf(want, sizeof(want), "reading %d", i);
        if (strcmp(buf, want) != 0)
            return 37;
    }
    if (hvc_event_wait(&ready, (int64_t)DEADLINE_NS) < 0)
        return 38;
    rc = hvc_sampling_read(&speed, buf, sizeof(buf), &si);
    if (rc != 4 || memcmp(buf, "fast", 4) != 0)
        return 39;
    if (hvc_queue_send(&cmds, "done", 4) < 0)
        return 40;
    hvc_event_close(&ready);
    hvc_region_detach(&r);
    hvc_config_free(cfg);
    return 0;
}

START_TEST(two_processes_one_file)
{
    pid_t a, b;
    int ea, eb;

    region_path = hvct_region_path("two");
    /* Start the non-creator first: it must wait for the creator. */
    b = hvct_fork(control, NULL);
    a = hvct_fork(sensor, NULL);
    ea = hvct_wait(a);
    eb = hvct_wait(b);
    ck_assert_msg(ea == 0 && eb == 0, "sensor exit %d, control exit %d", ea, eb);
}
END_TEST

/* hvc_system_start(): a non-creator before the region exists waits
 * (-HVC_ENOENT); the creator formats; a restarted creator keeps the region
 * and its contents (it verifies, it does not format again). */
START_TEST(start_and_restart)
{
    struct hvc_config *cfg = load();
    struct hvc_region r, r2;
    struct hvc_seg seg;
    uint64_t session;

    ck_assert_ptr_nonnull(cfg);
    region_path = hvct_region_path("start");
    hvct_assert_rc(hvc_system_start(&r2, hvc_platform_posix(), region_path, &cfg->system,
                                    "control"), -HVC_ENOENT);
    hvct_assert_rc(hvc_system_start(&r, hvc_platform_posix(), region_path, &cfg->system,
                                    "nobody"), -HVC_ENOENT);
    hvct_assert_rc(hvc_system_start(&r, hvc_platform_posix(), region_path, &cfg->system,
                                    "sensor"), 0);
    session = r.session_id;
    hvct_assert_rc(hvc_system_start(&r2, hvc_platform_posix(), region_path, &cfg->system,
                                    "control"), 0);
    hvct_assert_rc(hvc_system_open_segment(&r2, &cfg->system, "calibration", &seg), 0);
    hvct_assert_rc(hvc_seg_lock(&seg), 0);
    memcpy(hvc_seg_data(&seg), "kept", 5);
    hvct_assert_rc(hvc_seg_unlock(&seg), 0);
    hvc_seg_close(&seg);
    hvc_region_detach(&r);
    /* The creator restarts: same session, same data. */
    hvct_assert_rc(hvc_system_start(&r, hvc_platform_posix(), region_path, &cfg->system,
                                    "sensor"), 0);
    ck_assert_uint_eq(r.session_id, session);
    hvct_assert_rc(hvc_system_open_segment(&r, &cfg->system, "calibration", &seg), 0);
    ck_assert_str_eq((const char *)hvc_seg_data(&seg), "kept");
    hvc_seg_close(&seg);
    hvc_region_detach(&r2);
    hvc_region_detach(&r);
    hvc_config_free(cfg);
}
END_TEST

/* Roles: what the file does not give is refused. */
START_TEST(roles_refused)
{
    struct hvc_config *cfg = load();
    struct hvc_region_config rc_cfg;
    struct hvc_region r, r2;
    struct hvc_ring ring;
    struct hvc_event ev;
    struct hvc_queue q;
    struct hvc_seg seg;
    struct hvc_sampling sp;

    ck_assert_ptr_nonnull(cfg);
    region_path = hvct_region_path("roles");
    hvc_system_region_config(&cfg->system, &rc_cfg);
    hvct_assert_rc(hvc_region_format(&r, hvc_platform_posix(), region_path, &rc_cfg), 0);
    /* Not the creator, nothing there yet. */
    hvct_assert_rc(hvc_system_apply(&r, &cfg->system, "monitor"), -HVC_ENOTREADY);
    hvct_assert_rc(hvc_peer_leave(&r), 0);
    hvct_assert_rc(hvc_system_apply(&r, &cfg->system, "nobody"), -HVC_ENOENT);
    hvct_assert_rc(hvc_system_apply(&r, &cfg->system, "sensor"), 0);
    hvct_assert_rc(hvc_region_attach(&r2, hvc_platform_posix(), region_path, 0), 0);
    hvct_assert_rc(hvc_system_apply(&r2, &cfg->system, "monitor"), 0);
    ck_assert_int_eq(hvc_peer_self(&r2), 2);
    /* The sensor's own slot is taken by a live peer. */
    {
        struct hvc_region r3;

        hvct_assert_rc(hvc_region_attach(&r3, hvc_platform_posix(), region_path, 0), 0);
        hvct_assert_rc(hvc_system_apply(&r3, &cfg->system, "sensor"), -HVC_EBUSY);
        hvc_region_detach(&r3);
    }
    /* monitor: no role on the ring, the event, the queue; reader of speed;
     * read-only on calibration. */
    hvct_assert_rc(hvc_system_open_ring(&r2, &cfg->system, "readings", &ring), -HVC_EPERM);
    hvct_assert_rc(hvc_system_open_event(&r2, &cfg->system, "ready", &ev), -HVC_EPERM);
    hvct_assert_rc(hvc_system_open_queue(&r2, &cfg->system, "commands", &q), -HVC_EPERM);
    hvct_assert_rc(hvc_system_vnet_end(&r2, &cfg->system, "net", NULL), -HVC_EPERM);
    hvct_assert_rc(hvc_system_open_sampling(&r2, &cfg->system, "speed", &sp), 0);
    hvct_assert_rc(hvc_system_open_segment(&r2, &cfg->system, "calibration", &seg), 0);
    ck_assert(seg.flags & HVC_SEG_O_RDONLY);
    hvct_assert_rc(hvc_seg_lock(&seg), -HVC_EPERM);
    hvc_seg_close(&seg);
    /* Wrong type, unknown name. */
    hvct_assert_rc(hvc_system_open_ring(&r2, &cfg->system, "speed", &ring), -HVC_ETYPE);
    hvct_assert_rc(hvc_system_open_ring(&r2, &cfg->system, "nothing", &ring), -HVC_ENOENT);
    /* The sensor's end of the link. */
    {
        struct hvc_system_vnet_end end;

        ck_assert_int_eq(hvc_system_vnet_end(&r, &cfg->system, "net", &end), 0);
        ck_assert_uint_eq(end.ipv4, 0x0a000001u);
        ck_assert_uint_eq(end.mac[5], 1);
    }
    /* The file's record. */
    {
        struct hvc_system_info si;

        hvct_assert_rc(hvc_system_info(&r2, &si), 0);
        ck_assert_str_eq(si.name, "sensors");
        ck_assert(si.hash == cfg->system.hash);
        ck_assert_uint_eq(si.nobjects, cfg->system.nobjects);
    }
    hvc_region_detach(&r2);
    hvc_region_detach(&r);
    hvc_config_free(cfg);
}
END_TEST

/* A region that holds another system (another hash) is refused. */
START_TEST(other_system_refused)
{
    struct hvc_config *cfg = load();
    struct hvc_region_config rc_cfg;
    struct hvc_region r, r2;
    struct hvc_system other;

    ck_assert_ptr_nonnull(cfg);
    region_path = hvct_region_path("other");
    hvc_system_region_config(&cfg->system, &rc_cfg);
    hvct_assert_rc(hvc_region_format(&r, hvc_platform_posix(), region_path, &rc_cfg), 0);
    hvct_assert_rc(hvc_system_apply(&r, &cfg->system, "sensor"), 0);
    other = cfg->system;
    other.hash ^= 1;
    hvct_assert_rc(hvc_region_attach(&r2, hvc_platform_posix(), region_path, 0), 0);
    hvct_assert_rc(hvc_system_apply(&r2, &other, "control"), -HVC_EEXIST);
    hvc_region_detach(&r2);
    /* Another size: refused before joining. */
    other = cfg->system;
    other.region.size *= 2;
    hvct_assert_rc(hvc_region_attach(&r2, hvc_platform_posix(), region_path, 0), 0);
    hvct_assert_rc(hvc_system_apply(&r2, &other, "control"), -HVC_EINVAL);
    hvc_region_detach(&r2);
    hvc_region_detach(&r);
    hvc_config_free(cfg);
}
END_TEST

/* Tables that are not consistent are refused before the region is touched. */
START_TEST(bad_tables_refused)
{
    struct hvc_config *cfg = load();
    struct hvc_system bad;
    struct hvc_system_peer peers[3];
    struct hvc_system_object objs[8];
    struct hvc_region_config rc_cfg;
    struct hvc_region r;

    ck_assert_ptr_nonnull(cfg);
    hvct_assert_rc(hvc_system_validate(&cfg->system), 0);
    ck_assert_uint_le(cfg->system.nobjects, 8);
    bad = cfg->system;
    bad.version = 99;
    hvct_assert_rc(hvc_system_validate(&bad), -HVC_EINVAL);
    /* Two peers with one id. */
    bad = cfg->system;
    memcpy(peers, cfg->system.peers, sizeof(peers));
    peers[1].id = peers[0].id;
    bad.peers = peers;
    hvct_assert_rc(hvc_system_validate(&bad), -HVC_EINVAL);
    /* A ring with two writers; a role for an undeclared peer. */
    bad = cfg->system;
    memcpy(objs, cfg->system.objects, cfg->system.nobjects * sizeof(objs[0]));
    bad.objects = objs;
    objs[0].writers |= 1u << 1;
    hvct_assert_rc(hvc_system_validate(&bad), -HVC_EINVAL);
    objs[0] = cfg->system.objects[0];
    objs[0].readers |= 1ull << 40;
    hvct_assert_rc(hvc_system_validate(&bad), -HVC_EINVAL);
    /* Apply refuses it too, and leaves the region alone. */
    region_path = hvct_region_path("bad");
    hvc_system_region_config(&cfg->system, &rc_cfg);
    hvct_assert_rc(hvc_region_format(&r, hvc_platform_posix(), region_path, &rc_cfg), 0);
    hvct_assert_rc(hvc_system_apply(&r, &bad, "sensor"), -HVC_EINVAL);
    ck_assert_int_eq(hvc_peer_self(&r), -HVC_EINVAL);
    /* Without the vnet creator a system with a link cannot be made. */
    bad = cfg->system;
    bad.create_vnet = NULL;
    hvct_assert_rc(hvc_system_apply(&r, &bad, "sensor"), -HVC_ENOTSUP);
    {
        struct hvc_region_info info;

        hvct_assert_rc(hvc_region_info(&r, &info), 0);
        ck_assert_uint_eq(info.objects, 0); /* refused before making anything */
        ck_assert_int_eq(hvc_peer_self(&r), -HVC_EINVAL);
    }
    hvc_region_detach(&r);
    hvc_config_free(cfg);
}
END_TEST

int main(void)
{
    return hvct_main("config_two", hvct_leak_setup, hvct_leak_teardown, 120,
                     HVCT_TESTS(two_processes_one_file, roles_refused, start_and_restart,
                                other_system_refused, bad_tables_refused));
}
