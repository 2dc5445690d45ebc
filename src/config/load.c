/*
 * The system file loader: libyaml builds the node tree (with line and
 * column marks), and this file walks it against the schema of
 * doc/config.md. Every mistake is reported and the walk goes on, so one
 * run lists all of them; a system is returned only from a clean file.
 */
#define _POSIX_C_SOURCE 200809L
#include <hvcomm/config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <hvcomm/vnet_port.h>

#include "config_internal.h"

/* ---- memory: everything the config points to, freed at once ---- */

struct block {
    struct block *next;
    _Alignas(16) unsigned char data[];
};

struct loader {
    const char *file;
    yaml_document_t doc;
    hvc_config_error_fn on_error;
    void *ctx;
    unsigned errors;
    int nomem;
    struct block *mem;
    struct hvc_config *cfg;
    /* objects while they are being read */
    struct hvc_system_object *objs;
    struct hvc_config_pos *obj_pos;
    uint32_t nobjs;
    struct hvc_system_peer *peers;
    struct hvc_config_pos *peer_pos;
    uint32_t npeers;
    uint32_t max_peers;
};

static void *zalloc(struct loader *l, size_t n)
{
    struct block *b = calloc(1, sizeof(*b) + (n ? n : 1));

    if (b == NULL) {
        l->nomem = 1;
        return NULL;
    }
    b->next = l->mem;
    l->mem = b;
    return b->data;
}

static char *sdup(struct loader *l, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = zalloc(l, n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* ---- reporting ---- */

__attribute__((format(printf, 3, 4))) static void err(struct loader *l, const yaml_node_t *at,
                                                       const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    l->errors++;
    if (l->on_error != NULL)
        l->on_error(l->ctx, l->file, at ? (unsigned)at->start_mark.line + 1 : 0,
                    at ? (unsigned)at->start_mark.column + 1 : 0, msg);
}

/* Edit distance, for "did you mean". */
static unsigned distance(const char *a, const char *b)
{
    unsigned row[64], n = (unsigned)strlen(b), m = (unsigned)strlen(a);

    if (n >= 63 || m >= 63)
        return 99;
    for (unsigned j = 0; j <= n; j++)
        row[j] = j;
    for (unsigned i = 1; i <= m; i++) {
        unsigned prev = row[0], cur;

        row[0] = i;
        for (unsigned j = 1; j <= n; j++) {
            cur = row[j];
            row[j] = prev + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < row[j])
                row[j] = row[j - 1] + 1;
            if (cur + 1 < row[j])
                row[j] = cur + 1;
            prev = cur;
        }
    }
    return row[n];
}

static const char *nearest(const char *word, const char *const *choices)
{
    const char *best = NULL;
    unsigned bd = 99, limit = (unsigned)strlen(word) / 3 + 1;

    if (limit < 2)
        limit = 2;
    for (; *choices != NULL; choices++) {
        unsigned d = distance(word, *choices);

        if (strlen(word) >= 3 && strncmp(*choices, word, strlen(word)) == 0)
            return *choices; /* an abbreviation */
        if (d < bd) {
            bd = d;
            best = *choices;
        }
    }
    return bd <= limit && bd < strlen(word) ? best : NULL;
}

static void err_choice(struct loader *l, const yaml_node_t *at, const char *what,
                       const char *word, const char *const *choices)
{
    const char *near = nearest(word, choices);

    if (near != NULL)
        err(l, at, "unknown %s '%s' (did you mean '%s'?)", what, word, near);
    else
        err(l, at, "unknown %s '%s'", what, word);
}

/* ---- nodes ---- */

static yaml_node_t *node(struct loader *l, int i)
{
    return yaml_document_get_node(&l->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
    return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A mapping checked against its allowed keys: unknown and repeated keys
 * are reported; get() then finds a key's value. */
struct map {
    yaml_node_t *n;
};

static int map_open(struct loader *l, yaml_node_t *n, const char *what,
                    const char *const *keys, struct map *m)
{
    m->n = NULL;
    if (n == NULL || n->type != YAML_MAPPING_NODE) {
        err(l, n, "%s must be a mapping of keys", what);
        return -1;
    }
    m->n = n;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(l, p->key);
        const char *ks = scalar(k);
        bool known = false;

        if (ks == NULL) {
            err(l, k, "a key of %s must be a plain word", what);
            continue;
        }
        for (const char *const *c = keys; *c != NULL; c++)
            known |= strcmp(*c, ks) == 0;
        if (!known)
            err_choice(l, k, what[0] == 'a' && what[1] == ' ' ? "key" : "key", ks, keys);
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
            if (scalar(node(l, q->key)) != NULL && strcmp(scalar(node(l, q->key)), ks) == 0) {
                err(l, k, "key '%s' given twice (first at line %u)", ks,
                    (unsigned)node(l, q->key)->start_mark.line + 1);
                break;
            }
    }
    return 0;
}

static yaml_node_t *get(struct loader *l, const struct map *m, const char *key)
{
    if (m->n == NULL)
        return NULL;
    for (yaml_node_pair_t *p = m->n->data.mapping.pairs.start; p < m->n->data.mapping.pairs.top;
         p++) {
        const char *ks = scalar(node(l, p->key));

        if (ks != NULL && strcmp(ks, key) == 0)
            return node(l, p->value);
    }
    return NULL;
}

static yaml_node_t *need(struct loader *l, const struct map *m, const char *key,
                         const char *what)
{
    yaml_node_t *v = get(l, m, key);

    if (v == NULL && m->n != NULL)
        err(l, m->n, "%s: missing key '%s'", what, key);
    return v;
}

/* ---- values ---- */

static int get_string(struct loader *l, yaml_node_t *v, const char *key, const char **out)
{
    const char *s = scalar(v);

    if (s == NULL || s[0] == '\0') {
        err(l, v, "'%s' must be a non-empty string", key);
        return -1;
    }
    *out = sdup(l, s);
    return *out != NULL ? 0 : -1;
}

/* A number with an optional unit from `units` (suffix, multiplier). */
struct unit {
    const char *suffix;
    uint64_t mult;
};

static const struct unit size_units[] = {
    {"", 1},          {"B", 1},           {"K", 1ull << 10}, {"KiB", 1ull << 10},
    {"M", 1ull << 20}, {"MiB", 1ull << 20}, {"G", 1ull << 30}, {"GiB", 1ull << 30},
    {NULL, 0}};
static const struct unit time_units[] = {
    {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000ull}, {NULL, 0}};
static const struct unit rate_units[] = {
    {"", 1},          {"B/s", 1},          {"K", 1ull << 10}, {"K/s", 1ull << 10},
    {"M", 1ull << 20}, {"M/s", 1ull << 20}, {"G", 1ull << 30}, {"G/s", 1ull << 30},
    {NULL, 0}};

static int parse_unit(const char *s, const struct unit *units, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno != 0)
        return -1;
    for (; units->suffix != NULL; units++)
        if (strcmp(end, units->suffix) == 0) {
            if (v > UINT64_MAX / units->mult)
                return -1;
            *out = v * units->mult;
            return 0;
        }
    return -1;
}

static int get_size(struct loader *l, yaml_node_t *v, const char *key, uint64_t min,
                    uint64_t max, uint64_t *out)
{
    uint64_t x;

    if (parse_unit(scalar(v), size_units, &x) < 0) {
        err(l, v, "'%s': '%s' is not a size (a number with K, M or G)", key,
            scalar(v) ? scalar(v) : "(not a scalar)");
        return -1;
    }
    if (x < min || x > max) {
        err(l, v, "'%s' must be %llu..%llu, not %llu", key, (unsigned long long)min,
            (unsigned long long)max, (unsigned long long)x);
        return -1;
    }
    *out = x;
    return 0;
}

static int get_u32(struct loader *l, yaml_node_t *v, const char *key, uint32_t min,
                   uint32_t max, uint32_t *out)
{
    uint64_t x;

    if (get_size(l, v, key, min, max, &x) < 0)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

static int get_time(struct loader *l, yaml_node_t *v, const char *key, uint64_t *out)
{
    if (parse_unit(scalar(v), time_units, out) < 0) {
        err(l, v, "'%s': '%s' is not a time (a number with ns, us, ms or s)", key,
            scalar(v) ? scalar(v) : "(not a scalar)");
        return -1;
    }
    return 0;
}

static int get_bool(struct loader *l, yaml_node_t *v, const char *key, bool *out)
{
    const char *s = scalar(v);

    if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)) {
        *out = true;
        return 0;
    }
    if (s != NULL && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)) {
        *out = false;
        return 0;
    }
    err(l, v, "'%s' must be true or false", key);
    return -1;
}

static int get_enum(struct loader *l, yaml_node_t *v, const char *key,
                    const char *const *names, uint32_t *out)
{
    const char *s = scalar(v);

    for (uint32_t i = 0; s != NULL && names[i] != NULL; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    if (s == NULL)
        err(l, v, "'%s' must be a word", key);
    else
        err_choice(l, v, key, s, names);
    return -1;
}

static int find_peer(struct loader *l, const char *name)
{
    for (uint32_t i = 0; i < l->npeers; i++)
        if (strcmp(l->peers[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* One peer name: its id bit, or an error. */
static int get_peer(struct loader *l, yaml_node_t *v, const char *key, const char *obj,
                    uint64_t *bit, uint32_t *id)
{
    const char *s = scalar(v);
    int p;

    if (s == NULL) {
        err(l, v, "'%s' of '%s' must be a peer name", key, obj);
        return -1;
    }
    p = find_peer(l, s);
    if (p < 0) {
        const char *names[HVC_MAX_PEERS + 1];
        const char *near;

        for (uint32_t i = 0; i < l->npeers; i++)
            names[i] = l->peers[i].name;
        names[l->npeers] = NULL;
        near = nearest(s, names);
        if (near != NULL)
            err(l, v, "%s '%s' of '%s' is not a declared peer (did you mean '%s'?)", key, s,
                obj, near);
        else
            err(l, v, "%s '%s' of '%s' is not a declared peer", key, s, obj);
        return -1;
    }
    *bit = 1ull << l->peers[p].id;
    if (id != NULL)
        *id = l->peers[p].id;
    return 0;
}

/* A peer or a list of peers: a mask. */
static uint64_t get_peers(struct loader *l, yaml_node_t *v, const char *key, const char *obj)
{
    uint64_t mask = 0, b;

    if (v == NULL)
        return 0;
    if (v->type == YAML_SCALAR_NODE)
        return get_peer(l, v, key, obj, &b, NULL) == 0 ? b : 0;
    if (v->type != YAML_SEQUENCE_NODE) {
        err(l, v, "'%s' of '%s' must be a peer name or a list of them", key, obj);
        return 0;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node(l, *it);

        if (get_peer(l, e, key, obj, &b, NULL) < 0)
            continue;
        if (mask & b)
            err(l, e, "peer '%s' is listed twice in '%s' of '%s'", scalar(e), key, obj);
        mask |= b;
    }
    return mask;
}

static const char *peer_name(struct loader *l, uint64_t bit)
{
    for (uint32_t i = 0; i < l->npeers; i++)
        if ((1ull << l->peers[i].id) == bit)
            return l->peers[i].name;
    return "?";
}

/* Readers that are also writers: one error each. */
static void check_overlap(struct loader *l, yaml_node_t *at, uint64_t writers, uint64_t readers,
                          const char *rkey, const char *obj)
{
    uint64_t both = writers & readers;

    for (; both != 0; both &= both - 1)
        err(l, at, "peer '%s' of '%s' is declared both writer and %s", peer_name(l, both & -both),
            obj, rkey);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;

    if (s == NULL || strlen(s) != 17 ||
        sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (s[i * 3 + 2] != ':' && i < 5)
            return -1;
        mac[i] = (uint8_t)v[i];
    }
    if (mac[0] & 1)
        return -1; /* multicast */
    return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) != 0 ? 0 : -1;
}

static int parse_ipv4(const char *s, uint32_t *addr, uint8_t *prefix)
{
    unsigned a, b, c, d, p = 32;
    int n = 0;

    if (s == NULL)
        return -1;
    if (sscanf(s, "%3u.%3u.%3u.%3u%n", &a, &b, &c, &d, &n) != 4)
        return -1;
    if (s[n] == '/') {
        int m = 0;

        if (sscanf(s + n + 1, "%2u%n", &p, &m) != 1 || s[n + 1 + m] != '\0' || m == 0)
            return -1;
    } else if (s[n] != '\0') {
        return -1;
    }
    if (a > 255 || b > 255 || c > 255 || d > 255 || p == 0 || p > 32)
        return -1;
    *addr = (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
    *prefix = (uint8_t)p;
    return 0;
}

/* ---- objects ---- */

static const char *const type_names[] = {"event", "segment", "ring", "sampling", "queue",
                                         "vnet",  "bridge",  NULL};
static const uint32_t type_ids[] = {HVC_OBJ_EVENT, HVC_OBJ_SEGMENT, HVC_OBJ_RING,
                                    HVC_OBJ_SAMPLING, HVC_OBJ_QUEUE, HVC_OBJ_VNET,
                                    HVC_OBJ_BRIDGE};

static const char *const keys_event[] = {"name", "type", "kind", "max-count", "signalers",
                                         "waiters", NULL};
static const char *const keys_segment[] = {"name", "type", "size", "writers", "read-only", NULL};
static const char *const keys_ring[] = {"name", "type", "capacity", "max-message", "writer",
                                        "reader", "blocking", NULL};
static const char *const keys_sampling[] = {"name", "type", "max-message", "refresh", "writer",
                                            "readers", NULL};
static const char *const keys_queue[] = {"name", "type", "depth", "max-message", "overflow",
                                         "writer", "reader", NULL};
static const char *const keys_vnet[] = {"name", "type", "mtu", "ring", "checksum", "ends", NULL};
static const char *const keys_bridge[] = {"name", "type", "host", "ports", "rules", NULL};
static const char *const *const type_keys[] = {keys_event, keys_segment, keys_ring,
                                               keys_sampling, keys_queue, keys_vnet,
                                               keys_bridge};
static const char *const keys_any[] = {"name", "type", NULL};

static void one_writer(struct loader *l, yaml_node_t *v, struct hvc_system_object *o)
{
    uint64_t b;

    if (v != NULL && get_peer(l, v, "writer", o->name, &b, NULL) == 0)
        o->writers = b;
}

static void one_reader(struct loader *l, yaml_node_t *v, struct hvc_system_object *o)
{
    uint64_t b;

    if (v != NULL && get_peer(l, v, "reader", o->name, &b, NULL) == 0) {
        if (b & o->writers)
            err(l, v, "peer '%s' of '%s' is declared both writer and reader", scalar(v),
                o->name);
        else
            o->readers = b;
    }
}

static void load_event(struct loader *l, struct map *m, struct hvc_system_object *o)
{
    static const char *const kinds[] = {"?", "auto", "counting", "broadcast", NULL};
    yaml_node_t *v;

    o->kind = HVC_EVENT_AUTO;
    if ((v = get(l, m, "kind")) != NULL && get_enum(l, v, "kind", kinds, &o->kind) == 0 &&
        o->kind == 0)
        err(l, v, "unknown kind '?'");
    if ((v = get(l, m, "max-count")) != NULL) {
        if (o->kind != HVC_EVENT_COUNTING)
            err(l, v, "'max-count' is only for a counting event");
        else
            get_u32(l, v, "max-count", 1, HVC_EVENT_COUNT_MAX, &o->count);
    }
    o->writers = get_peers(l, get(l, m, "signalers"), "signalers", o->name);
    o->readers = get_peers(l, get(l, m, "waiters"), "waiters", o->name);
    check_overlap(l, get(l, m, "waiters"), o->writers, o->readers, "waiter", o->name);
    o->readers &= ~o->writers;
}

static void load_segment(struct loader *l, struct map *m, struct hvc_system_object *o)
{
    yaml_node_t *v = need(l, m, "size", o->name);

    if (v != NULL)
        get_size(l, v, "size", 1, 1ull << 40, &o->size);
    o->writers = get_peers(l, need(l, m, "writers", o->name), "writers", o->name);
    o->readonly = get_peers(l, get(l, m, "read-only"), "read-only", o->name);
    check_overlap(l, get(l, m, "read-only"), o->writers, o->readonly, "read-only", o->name);
    o->readonly &= ~o->writers;
}

static void load_ring(struct loader *l, struct map *m, struct hvc_system_object *o)
{
    yaml_node_t *cap = need(l, m, "capacity", o->name), *v;
    bool b = false;
    int ok = 1;

    if ((v = need(l, m, "max-message", o->name)) != NULL)
        ok &= get_u32(l, v, "max-message", 0, HVC_RING_CAPACITY_MAX / 2, &o->max_msg) == 0;
    else
        ok = 0;
    if (cap != NULL) {
        ok &= get_size(l, cap, "capacity", 1, HVC_RING_CAPACITY_MAX, &o->size) == 0;
        if (ok && o->size < 2ull * HVC_RING_RECORD_SIZE(o->max_msg))
            err(l, cap,
                "ring '%s': capacity %llu is smaller than two records of max-message %u "
                "(needs at least %u)",
                o->name, (unsigned long long)o->size, o->max_msg,
                2u * HVC_RING_RECORD_SIZE(o->max_msg));
    }
    one_writer(l, need(l, m, "writer", o->name), o);
    one_reader(l, need(l, m, "reader", o->name), o);
    if ((v = get(l, m, "blocking")) != NULL && get_bool(l, v, "blocking", &b) == 0 && b)
        o->flags |= HVC_SYSTEM_F_BLOCKING;
}

static void load_sampling(struct loader *l, struct map *m, struct hvc_system_object *o)
{
    yaml_node_t *v;

    if ((v = need(l, m, "max-message", o->name)) != NULL)
        get_u32(l, v, "max-message", 1, HVC_PORT_MSG_MAX, &o->max_msg);
    if ((v = need(l, m, "refresh", o->name)) != NULL && get_time(l, v, "refresh", &o->period_ns) == 0 &&
        o->period_ns == 0)
        err(l, v, "sampling port '%s': the refresh period must be greater than 0", o->name);
    one_writer(l, need(l, m, "writer", o->name), o);
    o->readers = get_peers(l, get(l, m, "readers"), "readers", o->name);
    check_overlap(l, get(l, m, "readers"), o->writers, o->readers, "reader", o->name);
    o->readers &= ~o->writers;
}

static void load_queue(struct loader *l, struct map *m, struct hvc_system_object *o)
{
    static const char *const policies[] = {"reject", "drop-oldest", NULL};
    yaml_node_t *v;

    if ((v = need(l, m, "depth", o->name)) != NULL)
        get_u32(l, v, "depth", 1, 65536, &o->count);
    if ((v = need(l, m, "max-message", o->name)) != NULL)
        get_u32(l, v, "max-message", 0, HVC_PORT_MSG_MAX, &o->max_msg);
    o->kind = HVC_QUEUE_REJECT;
    if ((v = get(l, m, "overflow")) != NULL)
        get_enum(l, v, "overflow", policies, &o->kind);
    one_writer(l, need(l, m, "writer", o->name), o);
    one_reader(l, need(l, m, "reader", o->name), o);
}

static void load_vnet(struct loader *l, struct map *m, struct hvc_system_object *o)
{
    static const char *const end_keys[] = {"peer", "mac", "address", NULL};
    yaml_node_t *v, *ends;
    bool b = false;

    o->mtu = 1500;
    if (strlen(o->name) > HVC_VNET_NAME_MAX)
        err(l, get(l, m, "name"), "vnet link name '%s' is longer than %u characters", o->name,
            HVC_VNET_NAME_MAX);
    if ((v = get(l, m, "mtu")) != NULL)
        get_u32(l, v, "mtu", HVC_VNET_MTU_MIN, HVC_VNET_MTU_MAX, &o->mtu);
    if ((v = get(l, m, "ring")) != NULL &&
        get_size(l, v, "ring", 1, HVC_RING_CAPACITY_MAX, &o->size) == 0 &&
        o->size < 2ull * HVC_RING_RECORD_SIZE(HVC_VNET_FRAME_MAX))
        err(l, v, "vnet link '%s': ring %llu is smaller than two maximal frames (needs at least %u)",
            o->name, (unsigned long long)o->size, 2u * HVC_RING_RECORD_SIZE(HVC_VNET_FRAME_MAX));
    if ((v = get(l, m, "checksum")) != NULL && get_bool(l, v, "checksum", &b) == 0 && b)
        o->flags |= HVC_SYSTEM_F_CHECKSUM;
    ends = need(l, m, "ends", o->name);
    if (ends == NULL)
        return;
    if (ends->type != YAML_SEQUENCE_NODE ||
        ends->data.sequence.items.top - ends->data.sequence.items.start != 2) {
        err(l, ends, "vnet link '%s': 'ends' must be a list of two ends", o->name);
        return;
    }
    for (int e = 0; e < 2; e++) {
        yaml_node_t *en = node(l, ends->data.sequence.items.start[e]);
        struct hvc_system_vnet_end *end = &o->end[e];
        struct map em;
        uint64_t bit;

        end->peer = UINT32_MAX;
        if (map_open(l, en, "a vnet end", end_keys, &em) < 0)
            continue;
        if ((v = need(l, &em, "peer", o->name)) != NULL &&
            get_peer(l, v, "peer", o->name, &bit, &end->peer) == 0) {
            o->writers |= bit;
            if (e == 1 && o->end[0].peer == end->peer)
                err(l, v, "vnet link '%s': both ends are peer '%s'", o->name, scalar(v));
        }
        if ((v = get(l, &em, "mac")) != NULL) {
            if (parse_mac(scalar(v), end->mac) < 0)
                err(l, v, "invalid MAC '%s' (want six hex bytes like 02:00:00:00:00:01, unicast)",
                    scalar(v) ? scalar(v) : "");
            else
                end->has_mac = 1;
            if (e == 1 && end->has_mac && o->end[0].has_mac &&
                memcmp(end->mac, o->end[0].mac, 6) == 0)
                err(l, v, "vnet link '%s': both ends have MAC %s", o->name, scalar(v));
        }
        if ((v = get(l, &em, "address")) != NULL &&
            parse_ipv4(scalar(v), &end->ipv4, &end->prefix) < 0)
            err(l, v, "invalid IPv4 address '%s' (want A.B.C.D or A.B.C.D/PREFIX)",
                scalar(v) ? scalar(v) : "");
    }
}

static void load_bridge(struct loader *l, struct map *m, struct hvc_system_object *o)
{
    static const char *const port_keys[] = {"link", "rate", "burst", NULL};
    yaml_node_t *v, *ports, *rules;

    if ((v = need(l, m, "host", o->name)) != NULL)
        get_peer(l, v, "host", o->name, &o->writers, NULL);
    ports = need(l, m, "ports", o->name);
    if (ports != NULL && ports->type != YAML_SEQUENCE_NODE) {
        err(l, ports, "bridge '%s': 'ports' must be a list", o->name);
    } else if (ports != NULL) {
        uint32_t n = (uint32_t)(ports->data.sequence.items.top - ports->data.sequence.items.start);
        struct hvc_system_bridge_port *bp = zalloc(l, n * sizeof(*bp));

        if (bp == NULL)
            return;
        o->ports = bp;
        o->nports = n;
        for (uint32_t i = 0; i < n; i++) {
            yaml_node_t *pn = node(l, ports->data.sequence.items.start[i]);
            struct map pm;

            if (scalar(pn) != NULL) {
                bp[i].link = sdup(l, scalar(pn));
                continue;
            }
            if (map_open(l, pn, "a bridge port", port_keys, &pm) < 0)
                continue;
            if ((v = need(l, &pm, "link", o->name)) != NULL)
                get_string(l, v, "link", &bp[i].link);
            if ((v = get(l, &pm, "rate")) != NULL &&
                parse_unit(scalar(v), rate_units, &bp[i].rate) < 0)
                err(l, v, "'rate': '%s' is not a rate (bytes per second, with K, M or G)",
                    scalar(v) ? scalar(v) : "");
            if ((v = get(l, &pm, "burst")) != NULL)
                get_size(l, v, "burst", 1, 1ull << 32, &bp[i].burst);
        }
    }
    rules = get(l, m, "rules");
    if (rules != NULL && rules->type != YAML_SEQUENCE_NODE) {
        err(l, rules, "bridge '%s': 'rules' must be a list of strings", o->name);
    } else if (rules != NULL) {
        uint32_t n = (uint32_t)(rules->data.sequence.items.top - rules->data.sequence.items.start);
        const char **r = zalloc(l, (n + 1) * sizeof(*r));

        if (r == NULL)
            return;
        o->rules = r;
        o->nrules = n;
        for (uint32_t i = 0; i < n; i++) {
            yaml_node_t *rn = node(l, rules->data.sequence.items.start[i]);

            if (get_string(l, rn, "rules", &r[i]) == 0 && hvc__config_rule_check(r[i]) < 0)
                err(l, rn, "bridge '%s': invalid rule '%s'", o->name, r[i]);
        }
    }
}

static void load_object(struct loader *l, yaml_node_t *n, uint32_t idx)
{
    struct hvc_system_object *o = &l->objs[idx];
    yaml_node_t *nv, *tv;
    struct map m;
    uint32_t t = 0;

    l->obj_pos[idx].line = (uint32_t)n->start_mark.line + 1;
    l->obj_pos[idx].col = (uint32_t)n->start_mark.column + 1;
    o->name = "?";
    if (n->type != YAML_MAPPING_NODE) {
        err(l, n, "an object must be a mapping of keys");
        return;
    }
    /* The type decides the keys: look at it first. */
    m.n = n;
    tv = get(l, &m, "type");
    if (tv == NULL) {
        map_open(l, n, "an object", keys_any, &m);
        err(l, n, "object: missing key 'type'");
        return;
    }
    if (get_enum(l, tv, "type", type_names, &t) < 0) {
        return;
    }
    o->type = type_ids[t];
    map_open(l, n, type_names[t], type_keys[t], &m);
    nv = need(l, &m, "name", "object");
    if (nv != NULL && get_string(l, nv, "name", &o->name) == 0) {
        if (strlen(o->name) > HVC_NAME_MAX)
            err(l, nv, "object name '%s' is longer than %u characters", o->name, HVC_NAME_MAX);
        else if (o->name[0] == '.')
            err(l, nv, "object name '%s': names starting with '.' are reserved", o->name);
        for (uint32_t j = 0; j < idx; j++)
            if (strcmp(l->objs[j].name, o->name) == 0)
                err(l, nv, "duplicate object name '%s' (first at line %u)", o->name,
                    l->obj_pos[j].line);
    } else {
        o->name = "?";
    }
    switch (o->type) {
    case HVC_OBJ_EVENT: load_event(l, &m, o); break;
    case HVC_OBJ_SEGMENT: load_segment(l, &m, o); break;
    case HVC_OBJ_RING: load_ring(l, &m, o); break;
    case HVC_OBJ_SAMPLING: load_sampling(l, &m, o); break;
    case HVC_OBJ_QUEUE: load_queue(l, &m, o); break;
    case HVC_OBJ_VNET: load_vnet(l, &m, o); break;
    default: load_bridge(l, &m, o); break;
    }
}

/* Bridge ports name vnet links declared anywhere in the file. */
static void check_bridges(struct loader *l, yaml_node_t *objects)
{
    for (uint32_t i = 0; i < l->nobjs; i++) {
        const struct hvc_system_object *o = &l->objs[i];
        yaml_node_t *on = node(l, objects->data.sequence.items.start[i]);

        if (o->type != HVC_OBJ_BRIDGE)
            continue;
        for (uint32_t p = 0; p < o->nports; p++) {
            bool found = false;

            if (o->ports[p].link == NULL)
                continue;
            for (uint32_t j = 0; j < l->nobjs; j++)
                found |= l->objs[j].type == HVC_OBJ_VNET &&
                         strcmp(l->objs[j].name, o->ports[p].link) == 0;
            if (!found)
                err(l, on, "bridge '%s': port '%s' is not a declared vnet link", o->name,
                    o->ports[p].link);
            for (uint32_t q = 0; q < p; q++)
                if (o->ports[q].link != NULL && strcmp(o->ports[q].link, o->ports[p].link) == 0)
                    err(l, on, "bridge '%s': port '%s' is listed twice", o->name,
                        o->ports[p].link);
        }
        if (o->nports > HVC_CONFIG_BRIDGE_PORTS_MAX)
            err(l, on, "bridge '%s' has %u ports, at most %u", o->name, o->nports,
                HVC_CONFIG_BRIDGE_PORTS_MAX);
    }
}

/* ---- the top level ---- */

static void load_region(struct loader *l, yaml_node_t *n, struct hvc_system_region *reg)
{
    static const char *const keys[] = {"size", "peers", "objects", "posix", "ivshmem",
                                       "baremetal", "x86hv", NULL};
    struct map m;
    yaml_node_t *v;

    reg->max_peers = HVC_DEFAULT_PEERS;
    reg->max_objects = HVC_DEFAULT_OBJECTS;
    if (map_open(l, n, "region", keys, &m) < 0)
        return;
    if ((v = need(l, &m, "size", "region")) != NULL)
        get_size(l, v, "size", HVC_REGION_MIN_SIZE, 1ull << 40, &reg->size);
    if ((v = get(l, &m, "peers")) != NULL)
        get_u32(l, v, "peers", 1, HVC_MAX_PEERS, &reg->max_peers);
    if ((v = get(l, &m, "objects")) != NULL)
        get_u32(l, v, "objects", 1, HVC_MAX_OBJECTS, &reg->max_objects);
    if ((v = get(l, &m, "posix")) != NULL)
        get_string(l, v, "posix", &reg->posix);
    if ((v = get(l, &m, "ivshmem")) != NULL)
        get_string(l, v, "ivshmem", &reg->ivshmem);
    if ((v = get(l, &m, "baremetal")) != NULL)
        get_size(l, v, "baremetal", 0, UINT64_MAX, &reg->baremetal_base);
    if ((v = get(l, &m, "x86hv")) != NULL)
        get_size(l, v, "x86hv", 0, UINT64_MAX, &reg->x86hv_base);
}

static void load_peers(struct loader *l, yaml_node_t *n)
{
    static const char *const keys[] = {"name", "id", NULL};
    uint32_t count;

    if (n->type != YAML_SEQUENCE_NODE) {
        err(l, n, "'peers' must be a list of peers");
        return;
    }
    count = (uint32_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0)
        err(l, n, "'peers' must list at least one peer");
    l->peers = zalloc(l, (count + 1) * sizeof(*l->peers));
    l->peer_pos = zalloc(l, (count + 1) * sizeof(*l->peer_pos));
    if (l->peers == NULL || l->peer_pos == NULL)
        return;
    for (uint32_t i = 0; i < count; i++) {
        yaml_node_t *pn = node(l, n->data.sequence.items.start[i]), *v;
        struct hvc_system_peer *p = &l->peers[l->npeers];
        struct map m;
        bool ok = true;

        if (map_open(l, pn, "a peer", keys, &m) < 0)
            continue;
        if ((v = need(l, &m, "name", "peer")) == NULL || get_string(l, v, "name", &p->name) < 0)
            continue;
        if (strlen(p->name) > HVC_LABEL_MAX) {
            err(l, v, "peer name '%s' is longer than %u characters", p->name, HVC_LABEL_MAX);
            ok = false;
        }
        if (find_peer(l, p->name) >= 0) {
            err(l, v, "duplicate peer name '%s'", p->name);
            ok = false;
        }
        if ((v = need(l, &m, "id", p->name)) == NULL ||
            get_u32(l, v, "id", 0, HVC_MAX_PEERS - 1, &p->id) < 0)
            ok = false;
        else if (p->id >= l->max_peers) {
            err(l, v, "peer '%s': id %u is outside the region's peer table (peers: %u)", p->name,
                p->id, l->max_peers);
            ok = false;
        } else {
            for (uint32_t j = 0; j < l->npeers; j++)
                if (l->peers[j].id == p->id) {
                    err(l, v, "peer '%s': id %u is already peer '%s'", p->name, p->id,
                        l->peers[j].name);
                    ok = false;
                }
        }
        if (!ok)
            continue;
        l->peer_pos[l->npeers].line = (uint32_t)pn->start_mark.line + 1;
        l->peer_pos[l->npeers].col = (uint32_t)pn->start_mark.column + 1;
        l->npeers++;
    }
}

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void load_document(struct loader *l, const void *text, size_t len)
{
    static const char *const keys[] = {"system", "creator", "region", "peers", "objects", NULL};
    struct hvc_system *sys = &l->cfg->system;
    yaml_node_t *root = yaml_document_get_root_node(&l->doc), *v, *objects;
    struct map m;
    uint32_t entries;

    if (root == NULL) {
        err(l, NULL, "the file is empty");
        return;
    }
    if (map_open(l, root, "the file", keys, &m) < 0)
        return;
    sys->version = HVC_SYSTEM_VERSION;
    sys->hash = fnv1a(text, len);
    sys->name = "?";
    sys->region.max_peers = HVC_DEFAULT_PEERS;
    sys->region.max_objects = HVC_DEFAULT_OBJECTS;
    if ((v = need(l, &m, "system", "the file")) != NULL) {
        if (get_string(l, v, "system", &sys->name) == 0 && strlen(sys->name) > HVC_SYSTEM_NAME_MAX)
            err(l, v, "system name is longer than %u characters", HVC_SYSTEM_NAME_MAX);
    }
    v = need(l, &m, "region", "the file");
    if (v != NULL)
        load_region(l, v, &sys->region);
    l->max_peers = sys->region.max_peers;
    if ((v = need(l, &m, "peers", "the file")) != NULL)
        load_peers(l, v);
    sys->peers = l->peers;
    sys->npeers = l->npeers;
    sys->creator = 0;
    if ((v = get(l, &m, "creator")) != NULL) {
        const char *s = scalar(v);
        int p = s ? find_peer(l, s) : -1;

        if (p < 0)
            err(l, v, "creator '%s' is not a declared peer", s ? s : "");
        else
            sys->creator = (uint32_t)p;
    }

    objects = get(l, &m, "objects");
    if (objects == NULL)
        return;
    if (objects->type != YAML_SEQUENCE_NODE) {
        err(l, objects, "'objects' must be a list of objects");
        return;
    }
    l->nobjs = (uint32_t)(objects->data.sequence.items.top - objects->data.sequence.items.start);
    l->objs = zalloc(l, (l->nobjs + 1) * sizeof(*l->objs));
    l->obj_pos = zalloc(l, (l->nobjs + 1) * sizeof(*l->obj_pos));
    if (l->objs == NULL || l->obj_pos == NULL)
        return;
    entries = 1; /* the system record */
    for (uint32_t i = 0; i < l->nobjs; i++) {
        load_object(l, node(l, objects->data.sequence.items.start[i]), i);
        entries += 1;
        if (l->objs[i].type == HVC_OBJ_RING && (l->objs[i].flags & HVC_SYSTEM_F_BLOCKING))
            entries += 2; /* the ring's two events */
        if (l->objs[i].type == HVC_OBJ_VNET)
            entries += 6; /* each end's blocking ring, made when it opens */
    }
    check_bridges(l, objects);
    if (entries > sys->region.max_objects)
        err(l, objects,
            "the objects need %u directory entries (with the system record, two per blocking "
            "ring and six per vnet link) but the region has %u (region 'objects')",
            entries, sys->region.max_objects);
    sys->objects = l->objs;
    sys->nobjects = l->nobjs;
    for (uint32_t i = 0; i < l->nobjs; i++)
        if (l->objs[i].type == HVC_OBJ_VNET)
            sys->create_vnet = hvc__config_vnet_create();
}

static void free_loader(struct loader *l)
{
    while (l->mem != NULL) {
        struct block *b = l->mem;

        l->mem = b->next;
        free(b);
    }
}

int hvc_system_parse(const char *name, const void *text, size_t len, struct hvc_config **out,
                     hvc_config_error_fn on_error, void *ctx)
{
    struct loader l = {.file = name ? name : "(config)", .on_error = on_error, .ctx = ctx};
    yaml_parser_t parser;
    int rc;

    if (out == NULL || (text == NULL && len != 0))
        return -HVC_EINVAL;
    *out = NULL;
    l.cfg = zalloc(&l, sizeof(*l.cfg));
    if (l.cfg == NULL)
        return -HVC_ENOMEM;
    if (!yaml_parser_initialize(&parser)) {
        free_loader(&l);
        return -HVC_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, text ? text : (const void *)"", len);
    if (!yaml_parser_load(&parser, &l.doc)) {
        char msg[256];

        snprintf(msg, sizeof(msg), "YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
                 parser.context ? " " : "", parser.context ? parser.context : "");
        l.errors++;
        if (on_error != NULL)
            on_error(ctx, l.file, (unsigned)parser.problem_mark.line + 1,
                     (unsigned)parser.problem_mark.column + 1, msg);
        yaml_parser_delete(&parser);
        free_loader(&l);
        return -HVC_EINVAL;
    }
    yaml_parser_delete(&parser);
    load_document(&l, text, len);
    yaml_document_delete(&l.doc);
    if (l.nomem) {
        free_loader(&l);
        return -HVC_ENOMEM;
    }
    if (l.errors == 0 && hvc_system_validate(&l.cfg->system) < 0)
        err(&l, NULL, "the system is inconsistent (hvc_system_validate failed)");
    if (l.errors != 0) {
        free_loader(&l);
        return -HVC_EINVAL;
    }
    l.cfg->file = sdup(&l, l.file);
    l.cfg->system.source = l.cfg->file;
    l.cfg->object_pos = l.obj_pos;
    l.cfg->peer_pos = l.peer_pos;
    l.cfg->priv = l.mem;
    rc = l.cfg->file != NULL ? 0 : -HVC_ENOMEM;
    if (rc < 0) {
        free_loader(&l);
        return rc;
    }
    l.cfg->priv = l.mem; /* the block list, head included */
    *out = l.cfg;
    return 0;
}

void hvc_config_free(struct hvc_config *cfg)
{
    struct loader l = {0};

    if (cfg == NULL)
        return;
    l.mem = cfg->priv;
    free_loader(&l);
}

int hvc_system_load(const char *path, struct hvc_config **out, hvc_config_error_fn on_error,
                    void *ctx)
{
    FILE *f;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (path == NULL || out == NULL)
        return -HVC_EINVAL;
    *out = NULL;
    f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;

        if (on_error != NULL) {
            char msg[256];

            snprintf(msg, sizeof(msg), "cannot open: %s", strerror(e));
            on_error(ctx, path, 0, 0, msg);
        }
        return e == ENOENT ? -HVC_ENOENT : e == EACCES ? -HVC_EACCES : -HVC_EIO;
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            char *nb = realloc(buf, cap ? cap * 2 : 4096);

            if (nb == NULL || cap > (64u << 20)) {
                free(nb ? nb : buf);
                fclose(f);
                return -HVC_ENOMEM;
            }
            buf = nb;
            cap = cap ? cap * 2 : 4096;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    rc = ferror(f) ? -HVC_EIO : 0;
    fclose(f);
    if (rc == 0)
        rc = hvc_system_parse(path, buf, len, out, on_error, ctx);
    else if (on_error != NULL)
        on_error(ctx, path, 0, 0, "read error");
    free(buf);
    return rc;
}
