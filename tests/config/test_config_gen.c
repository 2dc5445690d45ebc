/*
 * `hvcomm gen` output (compiled into this program with the project's
 * warnings as errors): the table equals what the loader reads from the same
 * file, and applying it to a region gives the directory `hvcomm create
 * --config` makes from the file, byte for byte.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvcomm/config.h>

#include "testutil.h"

extern const struct hvc_system hvct_sensors_system;

static void same_string(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        ck_assert(a == b);
    else
        ck_assert_str_eq(a, b);
}

START_TEST(table_equals_loaded)
{
    const struct hvc_system *g = &hvct_sensors_system;
    struct hvc_config *cfg = NULL;
    const struct hvc_system *l;

    hvct_assert_rc(hvc_system_load(SENSORS_YAML, &cfg, NULL, NULL), 0);
    l = &cfg->system;
    hvct_assert_rc(hvc_system_validate(g), 0);
    ck_assert_uint_eq(g->version, l->version);
    ck_assert_uint_eq(g->creator, l->creator);
    same_string(g->name, l->name);
    ck_assert(g->hash == l->hash);
    ck_assert(g->region.size == l->region.size);
    ck_assert_uint_eq(g->region.max_peers, l->region.max_peers);
    ck_assert_uint_eq(g->region.max_objects, l->region.max_objects);
    same_string(g->region.posix, l->region.posix);
    same_string(g->region.ivshmem, l->region.ivshmem);
    ck_assert(g->region.baremetal_base == l->region.baremetal_base);
    ck_assert(g->region.x86hv_base == l->region.x86hv_base);
    ck_assert_uint_eq(g->npeers, l->npeers);
    for (uint32_t i = 0; i < g->npeers; i++) {
        same_string(g->peers[i].name, l->peers[i].name);
        ck_assert_uint_eq(g->peers[i].id, l->peers[i].id);
    }
    ck_assert_uint_eq(g->nobjects, l->nobjects);
    for (uint32_t i = 0; i < g->nobjects; i++) {
        const struct hvc_system_object *a = &g->objects[i], *b = &l->objects[i];

        same_string(a->name, b->name);
        ck_assert_uint_eq(a->type, b->type);
        ck_assert_uint_eq(a->flags, b->flags);
        ck_assert(a->size == b->size && a->period_ns == b->period_ns);
        ck_assert(a->max_msg == b->max_msg && a->count == b->count && a->kind == b->kind &&
                  a->mtu == b->mtu);
        ck_assert(a->writers == b->writers && a->readers == b->readers &&
                  a->readonly == b->readonly);
        ck_assert(memcmp(a->end, b->end, sizeof(a->end)) == 0);
        ck_assert_uint_eq(a->nports, b->nports);
        ck_assert_uint_eq(a->nrules, b->nrules);
    }
    ck_assert((g->create_vnet != NULL) == (l->create_vnet != NULL));
    hvc_config_free(cfg);
}
END_TEST

START_TEST(applied_equals_created)
{
    const struct hvc_system *g = &hvct_sensors_system;
    const char *pa = hvct_region_path("gen"), *pb = hvct_region_path("cli");
    struct hvc_region_config rc_cfg;
    struct hvc_region a, b;
    char cmd[512];
    size_t dir_bytes;

    hvc_system_region_config(g, &rc_cfg);
    hvct_assert_rc(hvc_region_format(&a, hvc_platform_posix(), pa, &rc_cfg), 0);
    hvct_assert_rc(hvc_system_apply(&a, g, g->peers[g->creator].name), 0);
    hvct_assert_rc(hvc_peer_leave(&a), 0);

    snprintf(cmd, sizeof(cmd), "'%s' create '%s' --config '%s' >/dev/null", HVCOMM_BIN, pb,
             SENSORS_YAML);
    ck_assert_int_eq(system(cmd), 0);
    hvct_assert_rc(hvc_region_attach(&b, hvc_platform_posix(), pb, HVC_MAP_RDONLY), 0);

    ck_assert_uint_eq(a.dir_offset, b.dir_offset);
    ck_assert_uint_eq(a.max_objects, b.max_objects);
    dir_bytes = (size_t)a.max_objects * sizeof(struct hvc_wire_dirent);
    ck_assert_msg(memcmp(a.base + a.dir_offset, b.base + b.dir_offset, dir_bytes) == 0,
                  "the directories differ");
    /* Not trivially equal: it holds every object and the record. */
    {
        struct hvc_region_info info;

        hvct_assert_rc(hvc_region_info(&b, &info), 0);
        ck_assert_uint_ge(info.objects, g->nobjects + 1);
    }
    /* And the other peers verify it. */
    hvct_assert_rc(hvc_system_apply(&a, g, "control"), 0);
    hvc_region_detach(&a);
    hvc_region_detach(&b);
}
END_TEST

int main(void)
{
    return hvct_main("config_gen", hvct_leak_setup, hvct_leak_teardown, 0,
                     HVCT_TESTS(table_equals_loaded, applied_equals_created));
}
