/*
 * hvc_system_vnet_create(): the one kind of system object the core cannot
 * create itself, since vnet links live in the vnet library. Built into
 * hvcomm_vnet_port (see the top-level CMakeLists.txt).
 */
#include <hvcomm/system.h>
#include <hvcomm/vnet_port.h>

int hvc_system_vnet_create(struct hvc_region *r, const struct hvc_system_object *obj)
{
    struct hvc_vnet_link_attr a = {0};

    if (r == NULL || obj == NULL || obj->type != HVC_OBJ_VNET)
        return -HVC_EINVAL;
    a.mtu = obj->mtu;
    a.ring_capacity = (uint32_t)obj->size;
    a.peer[0] = (uint16_t)obj->end[0].peer;
    a.peer[1] = (uint16_t)obj->end[1].peer;
    a.flags = (obj->flags & HVC_SYSTEM_F_CHECKSUM) ? HVC_VNET_CHECKSUM : 0;
    return hvc_vnet_link_create(r, obj->name, &a);
}
