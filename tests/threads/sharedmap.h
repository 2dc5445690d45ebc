/* A test backend for two peers that are two threads of one process: the
 * POSIX backend, except that a second map() of a region this process has
 * mapped already returns the same mapping (reference-counted). Each thread
 * still has its own struct hvc_region and its own peer slot; sharing the
 * virtual addresses is what lets ThreadSanitizer see both peers' accesses
 * to the same shared words (two mmaps of one file would be two address
 * ranges to it). No views (page_size 0): read-only segments share too. */
#ifndef HVCT_SHAREDMAP_H
#define HVCT_SHAREDMAP_H

#include <hvcomm/platform.h>

const struct hvc_platform *hvct_sharedmap_platform(void);

#endif
