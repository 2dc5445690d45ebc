/* lwIP's clock for NO_SYS=1 hosted builds: milliseconds, CLOCK_MONOTONIC.
 * An embedded guest provides its own sys_now() from a board timer. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "lwip/sys.h"

u32_t sys_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u32_t)((unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u);
}
