/* A user's program, built against the installed hvcomm only. */
#include <hvcomm/hvcomm.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct hvc_region_config cfg = {.size = 1u << 16};
    struct hvc_obj_spec spec = {.name = "installed", .type = HVC_OBJ_RAW, .size = 64,
                                .writer = HVC_PEER_ANY};
    struct hvc_region r;
    struct hvc_obj o;
    int rc;

    if (argc != 2)
        return 2;
    rc = hvc_region_format(&r, hvc_platform_posix(), argv[1], &cfg);
    if (rc == 0 && (rc = hvc_peer_join(&r, "consumer")) >= 0)
        rc = hvc_obj_create(&r, &spec, &o);
    if (rc < 0) {
        fprintf(stderr, "consumer: %s\n", hvc_strerror(rc));
        return 1;
    }
    strcpy(o.ptr, "ok");
    printf("hvcomm %s: object '%s' at offset %llu\n", hvc_version(), o.name,
           (unsigned long long)o.offset);
    hvc_region_detach(&r);
    return hvc_platform_unlink(hvc_platform_posix(), argv[1]) == 0 ? 0 : 1;
}
