/* A test backend with doorbells: the POSIX backend plus notify/wait_notify
 * over per-peer futex words in a side file (REGION.bells). It assigns peer
 * ids (self_id) from hvct_bell_self, which each process sets before join.
 * Test code only: it exists so the doorbell path of events runs on a host. */
#ifndef HVCT_BELLPLAT_H
#define HVCT_BELLPLAT_H

#include <hvcomm/platform.h>

extern int hvct_bell_self;
/* Doorbells delivered to this process, for tests that count them. */
extern unsigned long hvct_bell_received;

const struct hvc_platform *hvct_bell_platform(void);
/* Remove the side file of a region. */
void hvct_bell_unlink(const char *region);

#endif
