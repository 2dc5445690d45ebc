/**
 * @file config.h
 * @brief Load a system description (YAML, doc/config.md) into a
 *        `struct hvc_system` (hosted library `hvcomm_config`, links libyaml).
 *
 * The loader checks the whole file and reports every mistake, one call of
 * the error callback each, with the line and column it is at. It returns a
 * system only when the file has none. The `hvcomm` tool (check, create
 * --config, gen) is built on it.
 *
 * Thread safety: the functions keep no global state; distinct configs may
 * be loaded from several threads at once. Not for the freestanding core.
 */
#ifndef HVCOMM_CONFIG_H
#define HVCOMM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <hvcomm/export.h>
#include <hvcomm/region.h>
#include <hvcomm/system.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup config System files
 * @brief The YAML loader and the layout planner.
 * @{
 */

/**
 * Receives one mistake: `file:line:col: msg` (line and column from 1;
 * 0 for the file as a whole).
 */
typedef void (*hvc_config_error_fn)(void *ctx, const char *file, unsigned line,
                                    unsigned col, const char *msg);

/** Where something was declared in the file. */
struct hvc_config_pos {
    uint32_t line; /**< from 1 */
    uint32_t col;  /**< from 1 */
};

/** A loaded system file. Free with hvc_config_free(). */
struct hvc_config {
    struct hvc_system system;                /**< the system, ready for hvc_system_apply() */
    const char *file;                        /**< the file name given to the loader */
    const struct hvc_config_pos *object_pos; /**< where each object was declared */
    const struct hvc_config_pos *peer_pos;   /**< where each peer was declared */
    void *priv;                              /**< the loader's memory */
};

/**
 * @brief Load and check a system file.
 * @param path the file.
 * @param out receives the config (NULL on failure).
 * @param on_error receives every mistake (may be NULL).
 * @param ctx passed to `on_error`.
 * @retval 0 loaded without a mistake.
 * @retval -HVC_EINVAL the file has mistakes (each was reported).
 * @retval -HVC_ENOENT / -HVC_EACCES / -HVC_EIO the file cannot be read (reported).
 * @retval -HVC_ENOMEM out of memory.
 */
HVC_API int hvc_system_load(const char *path, struct hvc_config **out,
                            hvc_config_error_fn on_error, void *ctx);

/**
 * @brief Check a system description held in memory (as hvc_system_load()).
 * @param name the name errors are reported under.
 * @param text the YAML text (need not be NUL-terminated).
 * @param len its bytes.
 * @param out receives the config (NULL on failure).
 * @param on_error receives every mistake (may be NULL).
 * @param ctx passed to `on_error`.
 * @retval 0 loaded.
 * @retval -HVC_EINVAL mistakes (reported).
 * @retval -HVC_ENOMEM out of memory.
 */
HVC_API int hvc_system_parse(const char *name, const void *text, size_t len,
                             struct hvc_config **out, hvc_config_error_fn on_error,
                             void *ctx);

/** @brief Free a config (NULL is allowed). */
HVC_API void hvc_config_free(struct hvc_config *cfg);

/** Flags of hvc_config_plan(). */
enum hvc_config_plan_flags {
    /** Also make what the system makes at run time: each vnet link end's
     *  transmit ring (a blocking ring and its two events), as the ends
     *  make them when they open the link. */
    HVC_CONFIG_PLAN_RUNTIME = 1u << 0,
};

/** Receives each directory entry of a planned region, in directory order. */
typedef void (*hvc_config_layout_fn)(void *ctx, const struct hvc_obj *obj);

/**
 * @brief Build the system in a scratch region (a temporary file) exactly as
 *        `hvcomm create --config` would, and report its layout.
 *
 * Objects that do not fit are reported at the line of their declaration,
 * all of them.
 *
 * @param cfg a loaded config.
 * @param flags #hvc_config_plan_flags.
 * @param each receives every directory entry (may be NULL).
 * @param each_ctx passed to `each`.
 * @param left receives the heap bytes after the last object (may be NULL).
 * @param on_error receives every mistake (may be NULL).
 * @param ctx passed to `on_error`.
 * @retval 0 everything fits.
 * @retval -HVC_ENOSPC some object did not fit (reported).
 * @retval -HVC_EIO / -HVC_ENOMEM / -HVC_EACCES the scratch region failed.
 * @retval -HVC_ENOTSUP a vnet link is declared but vnet is not built in.
 */
HVC_API int hvc_config_plan(const struct hvc_config *cfg, unsigned flags,
                            hvc_config_layout_fn each,
                            void *each_ctx, uint64_t *left,
                            hvc_config_error_fn on_error, void *ctx);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_CONFIG_H */
