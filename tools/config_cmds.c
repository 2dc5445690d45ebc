/*
 * The system-file commands of `hvcomm`: check, create --config [--verify],
 * gen, and the origin line of `info`. Built on the hvcomm_config loader.
 */
#define _GNU_SOURCE
#include "config_cmds.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvcomm/config.h>

#ifdef HVC_TOOLS_VNET
#include <hvcomm/vnet_port.h>
#endif

static void print_error(void *ctx, const char *file, unsigned line, unsigned col,
                        const char *msg)
{
    unsigned *count = ctx;

    (*count)++;
    if (line == 0)
        fprintf(stderr, "%s: %s\n", file, msg);
    else
        fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
}

static struct hvc_config *load(const char *path, unsigned *errors)
{
    struct hvc_config *cfg = NULL;

    *errors = 0;
    if (hvc_system_load(path, &cfg, print_error, errors) < 0) {
        if (*errors == 0)
            fprintf(stderr, "%s: cannot be loaded\n", path);
        return NULL;
    }
    return cfg;
}

static const char *writer_text(uint16_t w, const struct hvc_system *sys, char *buf, size_t len)
{
    if (w == HVC_PEER_ANY) {
        snprintf(buf, len, "any");
        return buf;
    }
    for (uint32_t i = 0; i < sys->npeers; i++)
        if (sys->peers[i].id == w) {
            snprintf(buf, len, "%s", sys->peers[i].name);
            return buf;
        }
    snprintf(buf, len, "%u", w);
    return buf;
}

struct layout {
    const struct hvc_system *sys;
    struct hvc_obj *objs;
    uint32_t n;
};

static void collect(void *ctx, const struct hvc_obj *o)
{
    struct layout *l = ctx;

    l->objs[l->n++] = *o;
}

/* The planned directory, in directory order. */
static int plan(const struct hvc_config *cfg, unsigned flags, struct layout *l, uint64_t *left)
{
    unsigned errors = 0;

    l->sys = &cfg->system;
    l->n = 0;
    l->objs = calloc(cfg->system.region.max_objects, sizeof(*l->objs));
    if (l->objs == NULL)
        return -HVC_ENOMEM;
    return hvc_config_plan(cfg, flags, collect, l, left, print_error, &errors);
}

int cmd_check(int argc, char **argv)
{
    const struct hvc_system *sys;
    struct hvc_config *cfg;
    struct layout lay;
    unsigned errors;
    uint64_t left = 0;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "hvcomm: usage: hvcomm check FILE\n");
        return 2;
    }
    cfg = load(argv[1], &errors);
    if (cfg == NULL) {
        fprintf(stderr, "%s: %u mistake%s\n", argv[1], errors, errors == 1 ? "" : "s");
        return EXIT_FAILURE;
    }
    sys = &cfg->system;
    rc = plan(cfg, HVC_CONFIG_PLAN_RUNTIME, &lay, &left);
    if (rc < 0) {
        if (rc != -HVC_ENOSPC)
            fprintf(stderr, "%s: cannot plan the layout: %s (%s)\n", argv[1], hvc_strerror(rc),
                    hvc_errname(rc));
        free(lay.objs);
        hvc_config_free(cfg);
        return EXIT_FAILURE;
    }
    printf("system   %s (from %s, hash %016" PRIx64 ")\n", sys->name, argv[1], sys->hash);
    printf("region   %" PRIu64 " bytes, %u peer slots, %u directory entries", sys->region.size,
           sys->region.max_peers, sys->region.max_objects);
    if (sys->region.posix)
        printf(", posix %s", sys->region.posix);
    printf("\npeers   ");
    for (uint32_t i = 0; i < sys->npeers; i++)
        printf(" %s=%u%s", sys->peers[i].name, sys->peers[i].id,
               i == sys->creator ? " (creator)" : "");
    printf("\n\n%-31s  %-8s  %-10s  %-10s  %s\n", "OBJECT", "TYPE", "OFFSET", "SIZE", "WRITER");
    for (uint32_t i = 0; i < lay.n; i++) {
        char w[32];

        printf("%-31s  %-8s  0x%-8" PRIx64 "  %-10" PRIu64 "  %s\n", lay.objs[i].name,
               hvc_obj_type_name(lay.objs[i].type), lay.objs[i].offset, lay.objs[i].size,
               writer_text(lay.objs[i].writer, sys, w, sizeof(w)));
    }
    printf("\n%u directory entries of %u used, %" PRIu64 " bytes left in the region\n"
           "(with what the vnet ends make when they open their links)\n", lay.n,
           sys->region.max_objects, left);
    free(lay.objs);
    hvc_config_free(cfg);
    return EXIT_SUCCESS;
}

/* ---- --verify ---- */

static bool derived_name(const struct hvc_system *sys, const char *name)
{
    size_t n = strlen(name);

    /* A vnet link's rings are made by its ends when they open it, each
     * with the two events of a blocking ring. */
    if (strncmp(name, ".ring.", 6) == 0)
        return true;
    for (uint32_t i = 0; i < sys->nobjects; i++) {
        const struct hvc_system_object *o = &sys->objects[i];
        size_t k = strlen(o->name);

        if (o->type == HVC_OBJ_VNET && n == k + 2 && strncmp(name, o->name, k) == 0 &&
            name[k] == '.' && (name[k + 1] == '0' || name[k + 1] == '1'))
            return true;
        if (o->type == HVC_OBJ_BRIDGE && strcmp(name, o->name) == 0)
            return true; /* made by the bridge process */
    }
    return false;
}

static uint64_t pow2_up(uint64_t v)
{
    uint64_t p = 1;

    while (p < v)
        p <<= 1;
    return p;
}

/* Differences in what each module records in the object's own header. */
static unsigned attr_diffs(struct hvc_region *r, const struct hvc_obj *obj,
                           const struct hvc_system_object *o, const char *path, const char *file)
{
    unsigned n = 0;
#define ADIFF(what, got, want)                                                              \
    do {                                                                                    \
        if ((uint64_t)(got) != (uint64_t)(want)) {                                          \
            printf("%s: %s '%s' has %s %" PRIu64 ", %s says %" PRIu64 "\n", path,           \
                   hvc_obj_type_name(o->type), o->name, what, (uint64_t)(got), file,         \
                   (uint64_t)(want));                                                       \
            n++;                                                                            \
        }                                                                                   \
    } while (0)
    switch (o->type) {
    case HVC_OBJ_EVENT: {
        struct hvc_event_stats st;

        if (hvc_event_stats(r, obj, &st) == 0 && st.valid) {
            ADIFF("kind", st.kind, o->kind);
            if (o->kind == HVC_EVENT_COUNTING)
                ADIFF("max-count", st.max_count, o->count ? o->count : HVC_EVENT_COUNT_MAX);
            ADIFF("signaler mask", st.signalers, o->writers);
        }
        break;
    }
    case HVC_OBJ_SEGMENT: {
        struct hvc_seg_stats st;

        if (hvc_seg_stats(r, obj, &st) == 0 && st.valid)
            ADIFF("size", st.data_size, o->size);
        break;
    }
    case HVC_OBJ_RING: {
        struct hvc_ring_stats st;

        if (hvc_ring_stats(r, obj, &st) == 0) {
            ADIFF("capacity", st.capacity, pow2_up(o->size));
            ADIFF("max-message", st.max_msg, o->max_msg);
            ADIFF("blocking", (st.flags & HVC_RING_BLOCKING) != 0,
                  (o->flags & HVC_SYSTEM_F_BLOCKING) != 0);
        }
        break;
    }
    case HVC_OBJ_SAMPLING: {
        struct hvc_sampling_stats st;

        if (hvc_sampling_stats(r, obj, &st) == 0) {
            ADIFF("max-message", st.max_msg, o->max_msg);
            ADIFF("refresh (ns)", st.refresh_ns, o->period_ns);
        }
        break;
    }
    case HVC_OBJ_QUEUE: {
        struct hvc_queue_stats st;

        if (hvc_queue_stats(r, obj, &st) == 0) {
            ADIFF("depth", st.max_count, o->count);
            ADIFF("max-message", st.max_msg, o->max_msg);
            ADIFF("overflow policy", st.policy, o->kind);
        }
        break;
    }
#ifdef HVC_TOOLS_VNET
    case HVC_OBJ_VNET: {
        struct hvc_vnet_link_info li;

        if (hvc_vnet_link_info(r, obj, &li) == 0) {
            ADIFF("mtu", li.mtu, o->mtu);
            if (o->size != 0)
                ADIFF("ring", li.ring_capacity, pow2_up(o->size));
            ADIFF("checksum", (li.flags & HVC_VNET_CHECKSUM) != 0,
                  (o->flags & HVC_SYSTEM_F_CHECKSUM) != 0);
        }
        break;
    }
#endif
    default:
        break;
    }
#undef ADIFF
    return n;
}

static int verify(const struct hvc_config *cfg, const char *path)
{
    const struct hvc_system *sys = &cfg->system;
    struct hvc_system_info si;
    struct hvc_region_info info;
    struct hvc_region r;
    struct layout lay;
    unsigned diffs = 0;
    int rc;

    rc = hvc_region_attach(&r, hvc_platform_posix(), path, HVC_MAP_RDONLY);
    if (rc < 0) {
        fprintf(stderr, "hvcomm: %s: %s (%s)\n", path, hvc_strerror(rc), hvc_errname(rc));
        return EXIT_FAILURE;
    }
    rc = plan(cfg, 0, &lay, NULL);
    if (rc < 0) {
        free(lay.objs);
        hvc_region_detach(&r);
        return EXIT_FAILURE;
    }
    hvc_region_info(&r, &info);
#define DIFF(...)                                                                        \
    do {                                                                                 \
        printf("%s: ", path);                                                            \
        printf(__VA_ARGS__);                                                             \
        printf("\n");                                                                    \
        diffs++;                                                                         \
    } while (0)
    if (info.size != sys->region.size)
        DIFF("region size is %" PRIu64 ", %s says %" PRIu64, info.size, cfg->file,
             sys->region.size);
    if (info.max_peers != sys->region.max_peers)
        DIFF("region has %u peer slots, %s says %u", info.max_peers, cfg->file,
             sys->region.max_peers);
    if (info.max_objects != sys->region.max_objects)
        DIFF("region has %u directory entries, %s says %u", info.max_objects, cfg->file,
             sys->region.max_objects);
    rc = hvc_system_info(&r, &si);
    if (rc == -HVC_ENOENT)
        DIFF("region was not made from a system file");
    else if (rc < 0)
        DIFF("system record: %s", hvc_strerror(rc));
    else if (si.hash != sys->hash)
        DIFF("region was made from %s (system '%s', hash %016" PRIx64 "), not this file (hash %016" PRIx64 ")",
             si.source[0] ? si.source : "another file", si.name, si.hash, sys->hash);
    for (uint32_t i = 0; i < lay.n; i++) {
        const struct hvc_obj *want = &lay.objs[i];
        struct hvc_obj got;
        char w1[32], w2[32];

        if (strcmp(want->name, HVC_SYSTEM_OBJ) == 0)
            continue;
        rc = hvc_obj_open(&r, want->name, HVC_OBJ_ANY, &got);
        if (rc < 0) {
            DIFF("missing %s '%s'", hvc_obj_type_name(want->type), want->name);
            continue;
        }
        if (got.type != want->type) {
            DIFF("'%s' is a %s, %s says %s", want->name, hvc_obj_type_name(got.type), cfg->file,
                 hvc_obj_type_name(want->type));
            continue;
        }
        if (got.size != want->size)
            DIFF("%s '%s' takes %" PRIu64 " bytes, %s makes it %" PRIu64,
                 hvc_obj_type_name(want->type), want->name, got.size, cfg->file, want->size);
        if (got.writer != want->writer)
            DIFF("%s '%s' has writer %s, %s says %s", hvc_obj_type_name(want->type), want->name,
                 writer_text(got.writer, sys, w1, sizeof(w1)), cfg->file,
                 writer_text(want->writer, sys, w2, sizeof(w2)));
        {
            int k = hvc_system_object_find(sys, want->name);

            /* Same place, other contents: what the object's header says. */
            if (k >= 0 && got.size == want->size)
                diffs += attr_diffs(&r, &got, &sys->objects[k], path, cfg->file);
        }
    }
    for (uint32_t i = 0; i < info.max_objects; i++) {
        struct hvc_obj got;
        bool known = false;

        if (hvc_obj_get(&r, i, &got) < 0)
            continue;
        for (uint32_t j = 0; j < lay.n && !known; j++)
            known = strcmp(lay.objs[j].name, got.name) == 0;
        if (!known && !derived_name(sys, got.name))
            DIFF("extra %s '%s' not in %s", hvc_obj_type_name(got.type), got.name, cfg->file);
    }
#undef DIFF
    free(lay.objs);
    hvc_region_detach(&r);
    if (diffs != 0) {
        printf("%s: %u difference%s from %s\n", path, diffs, diffs == 1 ? "" : "s", cfg->file);
        return EXIT_FAILURE;
    }
    printf("%s matches %s\n", path, cfg->file);
    return EXIT_SUCCESS;
}

/* ---- create --config ---- */

int cmd_create_config(const char *config, const char *region, int do_verify, int force)
{
    struct hvc_region_config rcfg;
    struct hvc_config *cfg;
    struct hvc_region r;
    struct layout lay;
    unsigned errors;
    int rc, status = EXIT_SUCCESS;

    cfg = load(config, &errors);
    if (cfg == NULL)
        return EXIT_FAILURE;
    if (region == NULL)
        region = cfg->system.region.posix;
    if (region == NULL) {
        fprintf(stderr, "%s: the region has no 'posix' location: name the region "
                        "(hvcomm create REGION --config FILE)\n", config);
        hvc_config_free(cfg);
        return 2;
    }
    if (do_verify) {
        status = verify(cfg, region);
        hvc_config_free(cfg);
        return status;
    }
    /* The checks of `hvcomm check` first: nothing is touched if it fails. */
    rc = plan(cfg, HVC_CONFIG_PLAN_RUNTIME, &lay, NULL);
    free(lay.objs);
    if (rc < 0) {
        hvc_config_free(cfg);
        return EXIT_FAILURE;
    }
    if (!force && hvc_region_attach(&r, hvc_platform_posix(), region, HVC_MAP_RDONLY) == 0) {
        struct hvc_region_info info;

        hvc_region_info(&r, &info);
        hvc_region_detach(&r);
        if (info.peers_ready != 0)
            fprintf(stderr,
                    "hvcomm: %s: holds a region with live peers (%u ready); --force formats "
                    "it anyway\n",
                    region, info.peers_ready);
        else
            fprintf(stderr,
                    "hvcomm: %s: already holds a region (%u objects, no live peers); --force "
                    "formats it anew\n",
                    region, info.objects);
        hvc_config_free(cfg);
        return EXIT_FAILURE;
    }
    hvc_system_region_config(&cfg->system, &rcfg);
    if (force)
        rcfg.flags |= HVC_FORMAT_FORCE;
    rc = hvc_region_format(&r, hvc_platform_posix(), region, &rcfg);
    if (rc == 0) {
        rc = hvc_system_apply(&r, &cfg->system, cfg->system.peers[cfg->system.creator].name);
        if (rc < 0)
            fprintf(stderr, "hvcomm: %s: applying %s failed: %s (%s)\n", region, config,
                    hvc_strerror(rc), hvc_errname(rc));
        else
            printf("created %s from %s: system '%s', %u objects, %" PRIu64 " bytes\n", region,
                   config, cfg->system.name, cfg->system.nobjects, r.size);
        hvc_peer_leave(&r);
        hvc_region_detach(&r);
    } else {
        fprintf(stderr, "hvcomm: %s: %s (%s)\n", region, hvc_strerror(rc), hvc_errname(rc));
    }
    hvc_config_free(cfg);
    return rc < 0 ? EXIT_FAILURE : status;
}

/* ---- gen ---- */

static void c_string(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("NULL", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\%03o", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static const char *type_macro(uint32_t type)
{
    switch (type) {
    case HVC_OBJ_EVENT: return "HVC_OBJ_EVENT";
    case HVC_OBJ_SEGMENT: return "HVC_OBJ_SEGMENT";
    case HVC_OBJ_RING: return "HVC_OBJ_RING";
    case HVC_OBJ_SAMPLING: return "HVC_OBJ_SAMPLING";
    case HVC_OBJ_QUEUE: return "HVC_OBJ_QUEUE";
    case HVC_OBJ_VNET: return "HVC_OBJ_VNET";
    default: return "HVC_OBJ_BRIDGE";
    }
}

static const char *flags_text(uint32_t flags)
{
    switch (flags & (HVC_SYSTEM_F_BLOCKING | HVC_SYSTEM_F_CHECKSUM)) {
    case HVC_SYSTEM_F_BLOCKING: return "HVC_SYSTEM_F_BLOCKING";
    case HVC_SYSTEM_F_CHECKSUM: return "HVC_SYSTEM_F_CHECKSUM";
    case HVC_SYSTEM_F_BLOCKING | HVC_SYSTEM_F_CHECKSUM:
        return "HVC_SYSTEM_F_BLOCKING | HVC_SYSTEM_F_CHECKSUM";
    default: return "0";
    }
}

static void gen_object(FILE *f, const struct hvc_system_object *o, uint32_t i)
{
    fprintf(f, "    {.name = ");
    c_string(f, o->name);
    fprintf(f, ", .type = %s, .flags = %s, .size = %" PRIu64 "u,\n", type_macro(o->type),
            flags_text(o->flags), o->size);
    fprintf(f, "     .max_msg = %uu, .count = %uu, .kind = %uu, .mtu = %uu, .period_ns = %" PRIu64 "u,\n",
            o->max_msg, o->count, o->kind, o->mtu, o->period_ns);
    fprintf(f, "     .writers = 0x%" PRIx64 "u, .readers = 0x%" PRIx64 "u, .readonly = 0x%" PRIx64 "u",
            o->writers, o->readers, o->readonly);
    if (o->type == HVC_OBJ_VNET) {
        fprintf(f, ",\n     .end = {");
        for (int e = 0; e < 2; e++) {
            const struct hvc_system_vnet_end *end = &o->end[e];

            fprintf(f, "%s{.peer = %uu, .mac = {0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x}, "
                       ".prefix = %u, .has_mac = %u, .ipv4 = 0x%08xu}",
                    e ? ", " : "", end->peer, end->mac[0], end->mac[1], end->mac[2], end->mac[3],
                    end->mac[4], end->mac[5], end->prefix, end->has_mac, end->ipv4);
        }
        fprintf(f, "}");
    }
    if (o->type == HVC_OBJ_BRIDGE) {
        if (o->nports)
            fprintf(f, ",\n     .ports = bridge%u_ports, .nports = %uu", i, o->nports);
        if (o->nrules)
            fprintf(f, ",\n     .rules = bridge%u_rules, .nrules = %uu", i, o->nrules);
    }
    fprintf(f, "},\n");
}

int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"name", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *symbol = NULL, *file;
    const struct hvc_system *sys;
    struct hvc_config *cfg;
    char sym[80];
    unsigned errors;
    bool vnet = false;
    FILE *f;
    int c;

    while ((c = getopt_long(argc, argv, "o:n:", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 'n')
            symbol = optarg;
        else
            return 2;
    }
    if (optind + 1 != argc || out == NULL) {
        fprintf(stderr, "hvcomm: usage: hvcomm gen FILE -o OUT.c [--name SYMBOL]\n");
        return 2;
    }
    file = argv[optind];
    cfg = load(file, &errors);
    if (cfg == NULL)
        return EXIT_FAILURE;
    sys = &cfg->system;
    if (symbol == NULL) {
        size_t n = 0;

        n = (size_t)snprintf(sym, sizeof(sym), "hvc_system_");
        for (const char *s = sys->name; *s && n + 1 < sizeof(sym); s++)
            sym[n++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                                      (*s >= '0' && *s <= '9')
                                  ? *s
                                  : '_');
        sym[n] = '\0';
        symbol = sym;
    }
    f = fopen(out, "w");
    if (f == NULL) {
        perror(out);
        hvc_config_free(cfg);
        return EXIT_FAILURE;
    }
    fprintf(f, "/* Generated by `hvcomm gen` from %s (hash %016" PRIx64 "). Do not edit:\n"
               " * edit the system file and generate again. */\n"
               "#include <stddef.h>\n\n#include <hvcomm/system.h>\n\n", file, sys->hash);
    fprintf(f, "static const struct hvc_system_peer peers[] = {\n");
    for (uint32_t i = 0; i < sys->npeers; i++) {
        fprintf(f, "    {.name = ");
        c_string(f, sys->peers[i].name);
        fprintf(f, ", .id = %uu},\n", sys->peers[i].id);
    }
    fprintf(f, "};\n\n");
    for (uint32_t i = 0; i < sys->nobjects; i++) {
        const struct hvc_system_object *o = &sys->objects[i];

        vnet |= o->type == HVC_OBJ_VNET;
        if (o->type != HVC_OBJ_BRIDGE)
            continue;
        if (o->nports) {
            fprintf(f, "static const struct hvc_system_bridge_port bridge%u_ports[] = {\n", i);
            for (uint32_t p = 0; p < o->nports; p++) {
                fprintf(f, "    {.link = ");
                c_string(f, o->ports[p].link);
                fprintf(f, ", .rate = %" PRIu64 "u, .burst = %" PRIu64 "u},\n", o->ports[p].rate,
                        o->ports[p].burst);
            }
            fprintf(f, "};\n\n");
        }
        if (o->nrules) {
            fprintf(f, "static const char *const bridge%u_rules[] = {\n", i);
            for (uint32_t p = 0; p < o->nrules; p++) {
                fprintf(f, "    ");
                c_string(f, o->rules[p]);
                fprintf(f, ",\n");
            }
            fprintf(f, "};\n\n");
        }
    }
    if (sys->nobjects) {
        fprintf(f, "static const struct hvc_system_object objects[] = {\n");
        for (uint32_t i = 0; i < sys->nobjects; i++)
            gen_object(f, &sys->objects[i], i);
        fprintf(f, "};\n\n");
    }
    fprintf(f, "extern const struct hvc_system %s;\n", symbol);
    fprintf(f, "const struct hvc_system %s = {\n", symbol);
    fprintf(f, "    .version = HVC_SYSTEM_VERSION,\n    .creator = %uu,\n    .name = ", sys->creator);
    c_string(f, sys->name);
    fprintf(f, ",\n    .hash = 0x%016" PRIx64 "u,\n    .source = ", sys->hash);
    c_string(f, cfg->file);
    fprintf(f, ",\n    .region = {.size = %" PRIu64 "u, .max_peers = %uu, .max_objects = %uu,\n"
               "               .posix = ",
            sys->region.size, sys->region.max_peers, sys->region.max_objects);
    c_string(f, sys->region.posix);
    fprintf(f, ", .ivshmem = ");
    c_string(f, sys->region.ivshmem);
    fprintf(f, ",\n               .baremetal_base = 0x%" PRIx64 "u, .x86hv_base = 0x%" PRIx64 "u},\n",
            sys->region.baremetal_base, sys->region.x86hv_base);
    fprintf(f, "    .peers = peers,\n    .npeers = %uu,\n", sys->npeers);
    fprintf(f, "    .nobjects = %uu,\n    .objects = %s,\n", sys->nobjects,
            sys->nobjects ? "objects" : "NULL");
    fprintf(f, "    .create_vnet = %s,\n};\n", vnet ? "hvc_system_vnet_create" : "NULL");
    if (fclose(f) != 0) {
        perror(out);
        hvc_config_free(cfg);
        return EXIT_FAILURE;
    }
    printf("wrote %s: system '%s' as `%s`\n", out, sys->name, symbol);
    hvc_config_free(cfg);
    return EXIT_SUCCESS;
}

/* ---- info ---- */

void info_system(struct hvc_region *r)
{
    struct hvc_system_info si;
    int rc = hvc_system_info(r, &si);

    if (rc == -HVC_ENOENT)
        printf("system   none (not made from a system file)\n");
    else if (rc < 0)
        printf("system   record unreadable: %s\n", hvc_strerror(rc));
    else
        printf("system   %s, from %s (hash %016" PRIx64 "), %u objects, creator peer %u\n",
               si.name, si.source[0] ? si.source : "?", si.hash, si.nobjects, si.creator);
}
