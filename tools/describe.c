#include "describe.h"

#include <stdio.h>

void describe_object(struct hvc_region *r, const struct hvc_obj *o, char *buf, size_t len)
{
    (void)r;
    if (len == 0)
        return;
    buf[0] = '\0';
    switch (o->type) {
    default:
        break;
    }
}
