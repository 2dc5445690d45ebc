/* Hosted helpers shared by the POSIX and ivshmem backends (hosted.h). */
#define _GNU_SOURCE
#include "hosted.h"

#include <hvcomm/error.h>

#include <errno.h>
#include <time.h>

uint64_t hvc__hosted_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int hvc__hosted_errno(int e)
{
    switch (e) {
    case ENOENT: return -HVC_ENOENT;
    case EEXIST: return -HVC_EEXIST;
    case EACCES: case EPERM: case EROFS: return -HVC_EACCES;
    case ENOMEM: case ENOSPC: case EFBIG: return -HVC_ENOMEM;
    case ENAMETOOLONG: return -HVC_ENAMETOOLONG;
    case EINVAL: case EISDIR: case ENOTDIR: return -HVC_EINVAL;
    case EINTR: return -HVC_EINTR;
    default: return -HVC_EIO;
    }
}
