/* Shared pieces of the libFuzzer harnesses: see fuzz.h. */
#include "fuzz.h"

#include <sanitizer/asan_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 4096u /* poisoned bytes before and after every mapping */
#define MAX_REGIONS 4

struct fz_in fz;
int fz_self = -1;
uint64_t fz_dead;
int fz_quiet;

static enum fz_mode mode;
static uint64_t clock_ns;
static uint8_t *target_lo;
static size_t target_len;
static int in_hostile;

struct mem_region {
    char name[64];
    uint8_t *alloc; /* GUARD + size + GUARD */
    uint64_t size;
};
static struct mem_region regions[MAX_REGIONS];

struct mem_state {
    struct mem_region *m;
    int id;
};

/* ---- input ---- */

int fz_more(void)
{
    return fz.n > 0;
}

uint8_t fz_u8(void)
{
    uint8_t v = 0;

    if (fz.n > 0) {
        v = fz.p[0];
        fz.p++;
        fz.n--;
    }
    return v;
}

uint16_t fz_u16(void)
{
    return (uint16_t)(fz_u8() | (uint16_t)fz_u8() << 8);
}

uint32_t fz_u32(void)
{
    return fz_u16() | (uint32_t)fz_u16() << 16;
}

uint64_t fz_u64(void)
{
    return fz_u32() | (uint64_t)fz_u32() << 32;
}

void fz_bytes(void *dst, size_t n)
{
    size_t k = n < fz.n ? n : fz.n;

    memcpy(dst, fz.p, k);
    memset((uint8_t *)dst + k, 0, n - k);
    fz.p += k;
    fz.n -= k;
}

void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: harness check failed: %s\n", file, line, what);
    abort();
}

/* ---- poisoning ---- */

void fz_poison(void *p, size_t n)
{
    ASAN_POISON_MEMORY_REGION(p, n);
}

void fz_unpoison(void *p, size_t n)
{
    ASAN_UNPOISON_MEMORY_REGION(p, n);
}

void fz_guard(struct hvc_region *r, const char *name, uint64_t size)
{
    struct hvc_obj_spec spec = {.name = name, .type = HVC_OBJ_RAW, .size = size,
                                .writer = HVC_PEER_ANY};
    struct hvc_obj o;

    FZ_CHECK(hvc_obj_create(r, &spec, &o) == 0);
    fz_poison(o.ptr, o.size);
}

/* ---- the hostile peer ---- */

void fz_target(void *lo, size_t len)
{
    target_lo = lo;
    target_len = len;
}

static void hostile_write(size_t off, const void *v, size_t n)
{
    if (target_len < n)
        return;
    off %= target_len - n + 1;
    off &= ~(size_t)(n - 1); /* aligned, as a peer's atomic stores are */
    if (__asan_region_is_poisoned(target_lo + off, n) != NULL)
        return; /* the hostile peer cannot write our guard zones either */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    memcpy(target_lo + off, v, n);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void fz_hostile(void)
{
    unsigned n;

    if (in_hostile || target_len == 0 || !fz_more())
        return;
    in_hostile = 1;
    n = fz_u8() % 4u;
    while (n-- > 0 && fz_more()) {
        uint8_t op = fz_u8();
        size_t off = fz_u16();
        uint32_t v32;

        if (target_len > 0xffffu)
            off |= (size_t)fz_u8() << 16; /* large targets: 24-bit offsets */
        uint8_t v8;
        uint64_t v64;

        switch (op % 6u) {
        case 0: /* any 32-bit value */
            v32 = fz_u32();
            hostile_write(off, &v32, 4);
            break;
        case 1: /* a small value (lengths, states, counts) */
            v32 = fz_u8();
            hostile_write(off, &v32, 4);
            break;
        case 2: { /* nudge a word by a small amount (indices) */
            size_t o;
            int8_t d = (int8_t)fz_u8();

            if (target_len < 4)
                break;
            o = (off % (target_len - 3)) & ~(size_t)3;
            if (__asan_region_is_poisoned(target_lo + o, 4) != NULL)
                break;
            memcpy(&v32, target_lo + o, 4);
            v32 += (uint32_t)(int32_t)d * 8u;
            hostile_write(o, &v32, 4);
            break;
        }
        case 3:
            v8 = fz_u8();
            hostile_write(off, &v8, 1);
            break;
        case 4:
            v64 = fz_u64();
            hostile_write(off, &v64, 8);
            break;
        default: /* all ones: the classic "huge" index or length */
            v32 = 0xffffffffu - fz_u8();
            hostile_write(off, &v32, 4);
            break;
        }
    }
    in_hostile = 0;
}

/* ---- the backend ---- */

static struct mem_region *find(const char *name)
{
    for (int i = 0; i < MAX_REGIONS; i++)
        if (regions[i].alloc != NULL && strcmp(regions[i].name, name) == 0)
            return &regions[i];
    return NULL;
}

static int mem_map(const struct hvc_platform *p, void *state, const char *name,
                   uint64_t size, unsigned flags, struct hvc_mapping *out)
{
    struct mem_state *st = state;
    struct mem_region *m = find(name);

    (void)p;
    if (m != NULL && (flags & HVC_MAP_EXCL))
        return -HVC_EEXIST;
    if (m == NULL) {
        if (!(flags & HVC_MAP_CREATE))
            return -HVC_ENOENT;
        if (size == 0 || size > (64u << 20) || strlen(name) >= sizeof(m->name))
            return -HVC_EINVAL;
        for (int i = 0; i < MAX_REGIONS && m == NULL; i++)
            if (regions[i].alloc == NULL)
                m = &regions[i];
        if (m == NULL)
            return -HVC_ENOMEM;
        size = (size + 4095u) & ~(uint64_t)4095u;
        m->alloc = aligned_alloc(4096, GUARD * 2 + size);
        if (m->alloc == NULL)
            return -HVC_ENOMEM;
        memset(m->alloc + GUARD, 0, size);
        fz_poison(m->alloc, GUARD);
        fz_poison(m->alloc + GUARD + size, GUARD);
        m->size = size;
        strcpy(m->name, name);
    }
    st->m = m;
    st->id = fz_self;
    out->base = m->alloc + GUARD;
    out->size = m->size;
    out->page_size = 0;
    return 0;
}

static int mem_unmap(const struct hvc_platform *p, void *state)
{
    (void)p;
    ((struct mem_state *)state)->m = NULL;
    return 0;
}

static int mem_unlink(const struct hvc_platform *p, const char *name)
{
    (void)p;
    return find(name) != NULL ? 0 : -HVC_ENOENT;
}

static int mem_self_id(const struct hvc_platform *p, void *state)
{
    const struct mem_state *st = state;

    (void)p;
    return st->id >= 0 ? st->id : -HVC_ENOTSUP;
}

static int mem_self_token(const struct hvc_platform *p, void *state, uint64_t *token)
{
    (void)p;
    *token = 0x1000u + (uint64_t)((struct mem_state *)state)->id + 1u;
    return 0;
}

static int mem_peer_alive(const struct hvc_platform *p, void *state, uint32_t peer,
                          uint64_t token)
{
    (void)p;
    (void)state;
    (void)token;
    return peer < 64 && (fz_dead >> peer & 1u) ? 0 : 1;
}

static uint64_t mem_now(const struct hvc_platform *p)
{
    (void)p;
    if (!fz_quiet)
        fz_hostile();
    clock_ns += 1000u;
    return clock_ns;
}

static void pass_time(int64_t timeout_ns)
{
    uint64_t step = 1000000u;

    if (timeout_ns >= 0 && (uint64_t)timeout_ns < step)
        step = (uint64_t)timeout_ns;
    clock_ns += step;
}

static int mem_wait_word(const struct hvc_platform *p, void *state, const uint32_t *addr,
                         uint32_t expected, int64_t timeout_ns)
{
    (void)p;
    (void)state;
    if (!fz_quiet)
        fz_hostile();
    if (__atomic_load_n(addr, __ATOMIC_ACQUIRE) != expected)
        return 0;
    pass_time(timeout_ns);
    return (fz_u8() & 1u) ? 0 : -HVC_ETIMEDOUT; /* spurious wake-ups too */
}

static int mem_wake_word(const struct hvc_platform *p, void *state, const uint32_t *addr,
                         uint32_t count)
{
    (void)p;
    (void)state;
    (void)addr;
    return (int)(count > 1 ? 1 : count);
}

static int mem_notify(const struct hvc_platform *p, void *state, uint32_t peer,
                      uint32_t vector)
{
    (void)p;
    (void)state;
    (void)vector;
    return peer < HVC_MAX_PEERS ? 0 : -HVC_EINVAL;
}

static int mem_wait_notify(const struct hvc_platform *p, void *state, int64_t timeout_ns,
                           uint32_t *vector)
{
    (void)p;
    (void)state;
    if (!fz_quiet)
        fz_hostile();
    if (fz_u8() & 1u) {
        *vector = fz_u8(); /* a doorbell, maybe for another event */
        return 0;
    }
    pass_time(timeout_ns);
    return -HVC_ETIMEDOUT;
}

static struct hvc_platform futex_ops = {
    .version = HVC_PLATFORM_VERSION,
    .state_size = sizeof(struct mem_state),
    .name = "fuzz-mem",
    .map = mem_map,
    .unmap = mem_unmap,
    .unlink = mem_unlink,
    .self_token = mem_self_token,
    .peer_alive = mem_peer_alive,
    .wait_word = mem_wait_word,
    .wake_word = mem_wake_word,
    .now_ns = mem_now,
};

static struct hvc_platform bell_ops = {
    .version = HVC_PLATFORM_VERSION,
    .state_size = sizeof(struct mem_state),
    .name = "fuzz-mem-doorbell",
    .map = mem_map,
    .unmap = mem_unmap,
    .unlink = mem_unlink,
    .self_id = mem_self_id,
    .self_token = mem_self_token,
    .peer_alive = mem_peer_alive,
    .notify = mem_notify,
    .wait_notify = mem_wait_notify,
    .now_ns = mem_now,
};

const struct hvc_platform *fz_platform(void)
{
    return mode == FZ_DOORBELL ? &bell_ops : &futex_ops;
}

void fz_begin(const uint8_t *data, size_t size, enum fz_mode m)
{
    fz.p = data;
    fz.n = size;
    mode = m;
    fz_self = -1;
    fz_dead = 0;
    fz_quiet = 1;
    clock_ns = 1000000000u;
    target_lo = NULL;
    target_len = 0;
}

void fz_end(void)
{
    for (int i = 0; i < MAX_REGIONS; i++) {
        struct mem_region *m = &regions[i];

        if (m->alloc == NULL)
            continue;
        fz_unpoison(m->alloc, GUARD * 2 + m->size);
        free(m->alloc);
        memset(m, 0, sizeof(*m));
    }
    target_lo = NULL;
    target_len = 0;
}

void fz_end_pair(struct hvc_region *a, struct hvc_region *b)
{
    fz_quiet = 1;
    hvc_region_detach(b);
    hvc_region_detach(a);
    fz_end();
}

int fz_region(struct hvc_region *r, const char *name, uint64_t size)
{
    struct hvc_region_config cfg = {.size = size, .max_peers = 8, .max_objects = 32};
    int rc = hvc_region_format(r, fz_platform(), name, &cfg);

    if (rc < 0)
        return rc;
    return hvc_peer_join(r, "victim");
}
