/* What the loader uses from the vnet library, when it is built. */
#include "config_internal.h"

#ifdef HVC_CONFIG_VNET
#include <hvcomm/bridge.h>

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
