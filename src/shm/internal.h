/* Helpers shared by the files of src/shm. Not installed. */
#ifndef HVC_SHM_INTERNAL_H
#define HVC_SHM_INTERNAL_H

#include <hvcomm/atomic.h>
#include <hvcomm/region.h>

/* Bits of hvc_region::state. */
#define HVC__ATTACHED 1u
#define HVC__RDONLY 2u
#define HVC__NONCOHERENT 4u /* the backend has cache maintenance (HVC_CAP_CACHE) */

static inline struct hvc_wire_header *hvc__hdr(const struct hvc_region *r)
{
    return (struct hvc_wire_header *)(void *)r->base;
}

static inline struct hvc_wire_peer *hvc__peer(const struct hvc_region *r,
                                              uint32_t id)
{
    return (struct hvc_wire_peer *)(void *)(r->base + r->peer_offset) + id;
}

static inline struct hvc_wire_dirent *hvc__dirent(const struct hvc_region *r,
                                                  uint32_t i)
{
    return (struct hvc_wire_dirent *)(void *)(r->base + r->dir_offset) + i;
}

static inline bool hvc__writable(const struct hvc_region *r)
{
    return (r->state & (HVC__ATTACHED | HVC__RDONLY)) == HVC__ATTACHED;
}

static inline uint64_t hvc__align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Length of a name of at most max characters; max + 1 when unterminated. */
static inline uint32_t hvc__strnlen(const char *s, uint32_t max)
{
    uint32_t n = 0;

    while (n <= max && s[n] != '\0')
        n++;
    return n;
}

/* Copy at most max characters and terminate: dst has room for max + 1. */
static inline void hvc__strlcpy(char *dst, const char *src, uint32_t max)
{
    uint32_t n = 0;

    if (src != NULL)
        for (; n < max && src[n] != '\0'; n++)
            dst[n] = src[n];
    dst[n] = '\0';
}

/* Equality of two NUL-terminated strings (no libc in the core). */
static inline bool hvc__streq(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/*
 * Cache maintenance for shared memory that is not coherent (platform.h,
 * HVC_CAP_CACHE): the one place the objects' code goes through. A writer
 * cleans what it wrote before the word that publishes it, then that word
 * after its store; a reader invalidates a published word before loading
 * it, and what the word covers before reading that. A side only ever
 * invalidates lines the other side writes (an invalidate would drop its
 * own unwritten stores). On coherent platforms each call is one test of a
 * bit the region computed once.
 *
 * Words updated with atomic read-modify-write (events, segment locks, the
 * directory lock, the peer status) cannot be shared through non-coherent
 * caches at all: such memory must be mapped uncached for them (see
 * doc/baremetal.md).
 */
#ifdef HVC_CONFIG_COHERENT
/* Built for coherent memory only (HVC_CONFIG_COHERENT): the dispatch
 * layer refuses a backend with cache maintenance, so there is none. */
static inline bool hvc__noncoherent(const struct hvc_region *r)
{
    (void)r;
    return false;
}

static inline unsigned hvc__coherence_state(struct hvc_platform_handle *h)
{
    (void)h;
    return 0;
}
#else
/* The region state bit for a backend with cache maintenance. */
static inline unsigned hvc__coherence_state(struct hvc_platform_handle *h)
{
    return (hvc_platform_caps(h) & HVC_CAP_CACHE) ? HVC__NONCOHERENT : 0u;
}

static inline bool hvc__noncoherent(const struct hvc_region *r)
{
    return (r->state & HVC__NONCOHERENT) != 0;
}
#endif

static inline void hvc__clean(struct hvc_region *r, const void *p, uint64_t n)
{
    if (hvc__noncoherent(r))
        hvc_platform_cache_clean(&r->plat, p, n);
}

static inline void hvc__invalidate(struct hvc_region *r, const void *p, uint64_t n)
{
    if (hvc__noncoherent(r))
        hvc_platform_cache_invalidate(&r->plat, p, n);
}

/* Counts a protocol error (unsupported false) or an unsupported object. */
void hvc__region_note(struct hvc_region *r, bool unsupported, const char *what);

/* The rule of every single-writer object: the writing role only for the
 * peer the object names as its writer (any peer when it names none). */
static inline bool hvc__may_write(struct hvc_region *r, const struct hvc_obj *obj)
{
    return obj->writer == HVC_PEER_ANY || hvc_peer_self(r) == (int)obj->writer;
}

/* Both indices of an SPSC object, each read once (acquire: pairs with the
 * other side's release store), invalidated first on non-coherent memory.
 * The caller checks them together. */
static inline void hvc__load_indices(struct hvc_region *r, const uint32_t *prod,
                                     const uint32_t *cons, uint32_t *p, uint32_t *c)
{
    hvc__invalidate(r, prod, sizeof(*prod));
    hvc__invalidate(r, cons, sizeof(*cons));
    *p = hvc_load_acquire(prod);
    *c = hvc_load_acquire(cons);
}

/* Checks the immutable header at base (map_size bytes) into r's fields. */
int hvc__check_header(struct hvc_region *r, const uint8_t *base,
                      uint64_t map_size);
/* Checks every slot of the peer table. */
int hvc__check_peers(struct hvc_region *r);
/* Checks every directory entry, pairwise for overlaps and duplicates. */
int hvc__check_directory(struct hvc_region *r);

#endif /* HVC_SHM_INTERNAL_H */
