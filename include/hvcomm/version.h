/**
 * @file version.h
 * @brief The library's version.
 */
#ifndef HVCOMM_VERSION_H
#define HVCOMM_VERSION_H

#include <hvcomm/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup version Version
 * @{
 */

#define HVC_VERSION_MAJOR 0 /**< incompatible API changes */
#define HVC_VERSION_MINOR 1 /**< compatible additions */
#define HVC_VERSION_PATCH 0 /**< fixes */
/** The version as a string. */
#define HVC_VERSION_STRING "0.1.0"

/** @brief The version of the library linked at run time, e.g. "0.1.0". */
HVC_API const char *hvc_version(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HVCOMM_VERSION_H */
