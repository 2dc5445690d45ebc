/*
 * hvc_config_plan(): build the system in a scratch region with the real
 * library calls, so the layout `hvcomm check` prints is the one a real
 * create makes, by construction (no second copy of the allocator or of
 * each module's object sizes).
 */
#define _POSIX_C_SOURCE 200809L
#include <hvcomm/config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hvcomm/platform.h>
#include <hvcomm/vnet_port.h>

#include "config_internal.h"

static void report(hvc_config_error_fn fn, void *ctx, const struct hvc_config *cfg,
                   uint32_t i, const char *msg)
{
    if (fn != NULL)
        fn(ctx, cfg->file, cfg->object_pos[i].line, cfg->object_pos[i].col, msg);
}

static uint64_t heap_end(struct hvc_region *r)
{
    struct hvc_region_info info;
    uint64_t end;

    hvc_region_info(r, &info);
    end = info.heap_offset;
    for (uint32_t i = 0; i < info.max_objects; i++) {
        struct hvc_obj o;

        if (hvc_obj_get(r, i, &o) == 0 && o.offset + o.size > end)
            end = o.offset + o.size;
    }
    return end;
}

/* What the ends of each vnet link make when they open it: a blocking
 * ring each, named by the vnet library's rule (link name, '.', end). */
static int plan_runtime(struct hvc_region *r, const struct hvc_config *cfg,
                        hvc_config_error_fn on_error, void *ctx)
{
    const struct hvc_system *sys = &cfg->system;
    int result = 0;

    for (uint32_t i = 0; i < sys->nobjects; i++) {
        const struct hvc_system_object *o = &sys->objects[i];
        struct hvc_obj obj;
        int cap;

        if (o->type != HVC_OBJ_VNET || hvc_obj_open(r, o->name, HVC_OBJ_VNET, &obj) < 0)
            continue;
        cap = hvc__config_vnet_capacity(r, &obj);
        if (cap < 0)
            return cap;
        for (uint32_t e = 0; e < 2; e++) {
            struct hvc_ring_attr ra = {.capacity = (uint32_t)cap, .max_msg = HVC_VNET_FRAME_MAX,
                                       .writer = (int32_t)o->end[e].peer,
                                       .flags = HVC_RING_BLOCKING};
            struct hvc_ring ring;
            char name[HVC_NAME_MAX + 1], msg[256];
            int rc;

            snprintf(name, sizeof(name), "%s.%u", o->name, e);
            rc = hvc_ring_create(&ring, r, name, &ra);
            if (rc == 0)
                continue;
            snprintf(msg, sizeof(msg),
                     "vnet link '%s': end %u's ring (%d bytes) will not fit when the end opens "
                     "the link: %s",
                     o->name, e, cap,
                     rc == -HVC_ENOSPC   ? "no room left in the region or its directory"
                     : rc == -HVC_EINVAL ? "larger than the region"
                                         : hvc_strerror(rc));
            report(on_error, ctx, cfg, i, msg);
            result = -HVC_ENOSPC;
        }
    }
    return result;
}

/* Heap bytes no object uses (in all the gaps). */
static uint64_t free_bytes(struct hvc_region *r)
{
    struct hvc_region_info info;

    hvc_region_info(r, &info);
    return info.size - info.heap_offset - info.heap_used;
}

int hvc_config_plan(const struct hvc_config *cfg, unsigned flags, hvc_config_layout_fn each,
                    void *each_ctx,
                    uint64_t *left, hvc_config_error_fn on_error, void *ctx)
{
    const struct hvc_system *sys;
    struct hvc_region_config rc_cfg;
    struct hvc_region r;
    char path[128];
    const char *tmp = getenv("TMPDIR");
    int fd, rc, result = 0;

    if (cfg == NULL)
        return -HVC_EINVAL;
    sys = &cfg->system;
    snprintf(path, sizeof(path), "%s/hvcomm-plan.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    fd = mkstemp(path);
    if (fd < 0)
        return -HVC_EIO;
    close(fd);
    hvc_system_region_config(sys, &rc_cfg);
    rc_cfg.flags = HVC_FORMAT_FORCE;
    rc = hvc_region_format(&r, hvc_platform_posix(), path, &rc_cfg);
    if (rc < 0) {
        unlink(path);
        return rc;
    }
    /* Join at the creator's id as a real create does, so the directory's
     * creator fields are the same. */
    rc = hvc_system_join(&r, sys, sys->peers[sys->creator].name);
    if (rc < 0)
        goto out;
    for (uint32_t i = 0; i < sys->nobjects; i++) {
        char msg[256];

        rc = hvc_system_create(&r, sys, i);
        if (rc == -HVC_ENOSPC) {
            /* (The loader checked that the directory has entries enough.) */
            snprintf(msg, sizeof(msg),
                     "object '%s' does not fit in the region (%llu bytes free in all after "
                     "the objects before it)",
                     sys->objects[i].name, (unsigned long long)free_bytes(&r));
            report(on_error, ctx, cfg, i, msg);
            result = -HVC_ENOSPC;
        } else if (rc < 0) {
            snprintf(msg, sizeof(msg), "object '%s' cannot be created: %s (%s)",
                     sys->objects[i].name, hvc_strerror(rc), hvc_errname(rc));
            report(on_error, ctx, cfg, i, msg);
            if (result == 0)
                result = rc;
        }
    }
    if (result == 0) {
        rc = hvc_system_mark(&r, sys);
        if (rc == -HVC_ENOSPC) {
            if (on_error != NULL)
                on_error(ctx, cfg->file, 0, 0,
                         "no room left for the system record '" HVC_SYSTEM_OBJ "'");
            result = rc;
        } else if (rc < 0) {
            result = rc;
        }
    }
    if (result == 0 && (flags & HVC_CONFIG_PLAN_RUNTIME))
        result = plan_runtime(&r, cfg, on_error, ctx);
    if (result == 0) {
        struct hvc_region_info info;

        hvc_region_info(&r, &info);
        for (uint32_t i = 0; i < info.max_objects && each != NULL; i++) {
            struct hvc_obj o;

            if (hvc_obj_get(&r, i, &o) == 0)
                each(each_ctx, &o);
        }
        if (left != NULL)
            *left = r.size - heap_end(&r);
    }
    rc = result;
out:
    hvc_region_detach(&r);
    unlink(path);
    return rc;
}
