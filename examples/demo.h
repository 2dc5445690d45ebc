/* The demo's parts: each later area adds a step run by both guests. */
#ifndef HVC_DEMO_H
#define HVC_DEMO_H

#include <stdio.h>

#include <hvcomm/hvcomm.h>

/* printf to stdout, prefixed with the guest's name. */
void demo_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run the steps of the other areas (events, rings, ...) in order.
 * role 0 is guest A (creates), 1 is guest B (opens). */
int demo_extensions(struct hvc_region *r, int role, double seconds);

#endif
