/* Shared by the files of src/config. Not installed. */
#ifndef HVC_CONFIG_INTERNAL_H
#define HVC_CONFIG_INTERNAL_H

#include <hvcomm/system.h>

/* Ports a bridge may have (HVC_BRIDGE_PORTS_MAX of bridge.h). */
#define HVC_CONFIG_BRIDGE_PORTS_MAX 16u

/* 0 when `text` is a valid bridge rule (hvc_bridge_rule_parse()), or when
 * vnet is not built in and rules cannot be checked; -1 otherwise. */
int hvc__config_rule_check(const char *text);

/* hvc_system_vnet_create when vnet is built in, else NULL. */
hvc_system_create_fn hvc__config_vnet_create(void);

/* The ring capacity of vnet link `obj` in region r (from its header), or
 * a negative HVC_E code; -HVC_ENOTSUP when vnet is not built in. */
int hvc__config_vnet_capacity(struct hvc_region *r, const struct hvc_obj *obj);

#endif
