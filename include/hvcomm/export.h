/**
 * @file export.h
 * @brief Symbol visibility for the public API.
 *
 * The library is built with hidden visibility; only functions marked
 * `HVC_API` are exported from the shared library.
 */
#ifndef HVCOMM_EXPORT_H
#define HVCOMM_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
/** Marks a function as part of the exported public API. */
#define HVC_API __attribute__((visibility("default")))
#else
#define HVC_API
#endif

#endif /* HVCOMM_EXPORT_H */
