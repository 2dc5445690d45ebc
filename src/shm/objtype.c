/*
 * The object types: one descriptor per row of HVC_OBJ_TYPE_MAP (region.h),
 * the table behind hvc_obj_type_desc() and hvc_obj_type_name(), and the
 * checks every module starts with (hvc_obj_validate()).
 *
 * Each descriptor is its own object (its own section with -fdata-sections):
 * a module refers to its own descriptor only, so a small image links the
 * descriptors of the types it uses, not the table.
 */
#include <hvcomm/atomic.h>
#include <hvcomm/region.h>

#include "internal.h"

#ifdef HVC_CONFIG_NO_STRINGS
#define TYPE_NAME(nm) "" /* small targets: no diagnostic strings */
#else
#define TYPE_NAME(nm) #nm
#endif

#define DESC(NAME, nm, mg, ver, hdr, fat, known, wat)                          \
    const struct hvc_obj_desc hvc__objdesc_##nm = {                            \
        .name = TYPE_NAME(nm), .type = HVC_OBJ_##NAME, .magic = (mg), .version = (ver),  \
        .hdr_size = (uint32_t)(hdr), .known_flags = (known),                   \
        .flags_at = (uint16_t)(fat), .writer_at = (uint16_t)(wat)};           \
    _Static_assert((hdr) == 0 || ((fat) >= 8 && (fat) + 4 <= (hdr)),           \
                   #nm ": flags word inside the header");                      \
    _Static_assert((wat) == 0 || ((wat) >= 8 && (wat) + 4 <= (hdr)),           \
                   #nm ": writer word inside the header");
HVC_OBJ_TYPE_MAP(DESC)
#undef DESC

#define ENTRY(NAME, nm, mg, ver, hdr, fat, known, wat) [HVC_OBJ_##NAME] = &hvc__objdesc_##nm,
static const struct hvc_obj_desc *const types[] = {HVC_OBJ_TYPE_MAP(ENTRY)};
#undef ENTRY

const struct hvc_obj_desc *hvc_obj_type_desc(uint32_t type)
{
    return type < sizeof(types) / sizeof(types[0]) ? types[type] : NULL;
}

const char *hvc_obj_type_name(uint32_t type)
{
    const struct hvc_obj_desc *d = hvc_obj_type_desc(type);

    if (d != NULL)
        return d->name;
    if (type == HVC_OBJ_ANY)
        return "any";
    return type >= HVC_OBJ_USER ? "user" : "?";
}

static uint32_t word_at(const struct hvc_obj *obj, uint32_t off)
{
    return hvc_load_relaxed((const uint32_t *)(const void *)((const uint8_t *)obj->ptr + off));
}

/* r == NULL counts nothing (as hvc_obj_check_header(), whose caller counts). */
int hvc_obj_validate(struct hvc_region *r, const struct hvc_obj *obj,
                     const struct hvc_obj_desc *d, uint32_t *flags)
{
    uint32_t f;

    if (d == NULL || obj == NULL || obj->ptr == NULL || d->magic == 0)
        return -HVC_EINVAL;
    if (obj->type != d->type)
        return -HVC_ETYPE;
    if (obj->size < d->hdr_size || ((uintptr_t)obj->ptr & (HVC_CACHELINE - 1)) != 0)
        goto proto;
    /* Pairs with the creator's release store of magic, which publishes
     * the object: the rest of the immutable line is visible after it. */
    f = hvc_load_acquire(&((const struct hvc_wire_obj_head *)obj->ptr)->magic);
    if (f == 0)
        return -HVC_ENOTREADY;
    if (f != d->magic)
        goto proto;
    if (word_at(obj, 4) != d->version)
        return -HVC_EVERSION;
    /* Feature flags before the type's own fields: a newer peer's flag may
     * change what those mean, so they are not judged by this build's rules. */
    f = word_at(obj, d->flags_at);
    if ((f & ~d->known_flags) != 0) {
        hvc__region_note(r, true, d->name);
        return -HVC_ENOTSUP;
    }
    if (d->writer_at != 0 && obj->writer != HVC_PEER_ANY &&
        word_at(obj, d->writer_at) != obj->writer)
        goto proto;
    if (flags != NULL)
        *flags = f;
    return 0;
proto:
    hvc__region_note(r, false, d->name);
    return -HVC_EPROTO;
}

int hvc_obj_check_header(const struct hvc_obj *obj, uint32_t type, uint64_t min_size,
                         uint32_t magic, uint32_t version)
{
    /* Flags at the version word, every bit known: no flag check. */
    struct hvc_obj_desc d;

    if (min_size < sizeof(struct hvc_wire_obj_head) || magic == 0)
        return -HVC_EINVAL;
    d = (struct hvc_obj_desc){.type = type, .magic = magic, .version = version,
                             .hdr_size = min_size > 0xffffffffu ? 0xffffffffu : (uint32_t)min_size,
                             .known_flags = 0xffffffffu, .flags_at = 4};

    return hvc_obj_validate(NULL, obj, &d, NULL);
}
