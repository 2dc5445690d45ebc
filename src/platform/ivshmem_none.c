/* Non-Linux builds: the ivshmem backends are Linux code. */
#include <hvcomm/ivshmem.h>

const struct hvc_platform *hvc_platform_ivshmem_host(void)
{
    return NULL;
}

const struct hvc_platform *hvc_platform_ivshmem_guest(void)
{
    return NULL;
}

int hvc_ivshmem_host_service(struct hvc_platform_handle *h)
{
    (void)h;
    return -HVC_EINVAL;
}

int hvc_ivshmem_host_peer_listed(struct hvc_platform_handle *h, uint32_t peer)
{
    (void)h;
    (void)peer;
    return -HVC_EINVAL;
}

int hvc_ivshmem_mode(const struct hvc_platform_handle *h)
{
    (void)h;
    return -HVC_EINVAL;
}
