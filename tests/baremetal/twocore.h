/* Shared between the parts of the two-core test image. */
#ifndef HVC_TWOCORE_H
#define HVC_TWOCORE_H

#include <hvcomm/hvcomm.h>

struct line {
    uint32_t v;
    uint32_t pad[15];
};

/* The raw control block at board_ctrl_base (outside every region). */
struct ctrl {
    struct line step[2];     /* barrier steps, one writer each */
    struct line flag;        /* hand-shakes inside a phase */
    struct line c1_failures; /* core 1's failure count at the end */
    struct line c1_done;     /* core 1 finished */
    struct line ping;        /* raw flag ping-pong */
    struct line hostile;     /* hostile run: scribbler done */
    uint32_t guard[64];      /* hostile run: guard words */
};

#define ctrl ((struct ctrl *)board_ctrl_base)

void phase(uint32_t me, const char *what);
void barrier(uint32_t me, uint32_t n);
const struct hvc_platform *backend(uint32_t me, bool doorbells);
const struct hvc_baremetal *backend_instance(uint32_t me, bool doorbells);
int open_region(uint32_t me, const struct hvc_platform *ops, const char *name,
                struct hvc_region *r, uint32_t *step);
void hostile(uint32_t me, uint32_t *step);
void bench(uint32_t me, uint32_t *step);

#endif
