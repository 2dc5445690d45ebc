/* Hosts without the POSIX backend (not Linux): it is simply absent. */
#include <hvcomm/platform.h>

const struct hvc_platform *hvc_platform_posix(void)
{
    return NULL;
}
