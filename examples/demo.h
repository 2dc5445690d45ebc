/* The demo's parts: each later area adds a step run by both guests. */
#ifndef HVC_DEMO_H
#define HVC_DEMO_H

#include <stdio.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/system.h>

/* printf to stdout, prefixed with the guest's name. */
void demo_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run the steps of the other areas (events, rings, ...) in order, on the
 * objects of the demo's system (examples/systems/demo.yaml), already
 * applied. role 0 is guest A, 1 is guest B. */
int demo_extensions(struct hvc_region *r, const struct hvc_system *sys, int role,
                    double seconds);

#endif
