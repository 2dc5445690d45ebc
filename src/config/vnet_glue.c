/* What the loader uses from the vnet library, when it is built. */
#include "config_internal.h"

#ifdef HVC_CONFIG_VNET
#include <hvcomm/bridge.h>
#include <hvcomm/vnet_port.h>

int hvc__config_vnet_capacity(struct hvc_region *r, const struct hvc_obj *obj)
{
    struct hvc_vnet_link_info li;
    int rc = hvc_vnet_link_info(r, obj, &li);

    return rc < 0 ? rc : (int)li.ring_capacity;
}

_Static_assert(HVC_CONFIG_BRIDGE_PORTS_MAX == HVC_BRIDGE_PORTS_MAX, "bridge ports");

int hvc__config_rule_check(const char *text)
{
    struct hvc_bridge_rule r;

    return hvc_bridge_rule_parse(text, &r) < 0 ? -1 : 0;
}

hvc_system_create_fn hvc__config_vnet_create(void)
{
    return hvc_system_vnet_create;
}
#else
int hvc__config_vnet_capacity(struct hvc_region *r, const struct hvc_obj *obj)
{
    (void)r;
    (void)obj;
    return -HVC_ENOTSUP;
}

int hvc__config_rule_check(const char *text)
{
    (void)text;
    return 0;
}

hvc_system_create_fn hvc__config_vnet_create(void)
{
    return 0;
}
#endif
