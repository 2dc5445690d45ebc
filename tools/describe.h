/* One line of details about an object, by type, for the tools. */
#ifndef HVC_TOOLS_DESCRIBE_H
#define HVC_TOOLS_DESCRIBE_H

#include <stddef.h>

#include <hvcomm/hvcomm.h>

/* Fill buf with the object's type-specific state (counters, owner...), or
 * an empty string when the type has nothing to show. Never fails: a corrupt
 * object is described as such. */
void describe_object(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len);

#endif
