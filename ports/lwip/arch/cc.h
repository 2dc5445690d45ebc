/* lwIP's compiler and platform glue for hosted builds of hvcomm's vnet. */
#ifndef HVC_LWIP_ARCH_CC_H
#define HVC_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
/* An lwIP assertion is a bug in lwIP or in its use: stop there, loudly. */
#define LWIP_PLATFORM_ASSERT(x)                                               \
    do {                                                                      \
        fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x,         \
                __FILE__, __LINE__);                                          \
        abort();                                                              \
    } while (0)
#define LWIP_RAND() ((u32_t)rand())
#define LWIP_NO_CTYPE_H 0

#endif
