/* The steps each area adds to the demo, run by both guests in this order. */
#include "demo.h"

int demo_events(struct hvc_region *r, const struct hvc_system *sys, int role, FILE *out);
int demo_ring(struct hvc_region *r, const struct hvc_system *sys, int role, double seconds,
              FILE *out);
#ifdef HVC_DEMO_VNET
int demo_vnet(struct hvc_region *r, const struct hvc_system *sys, int role, FILE *out);
#endif

int demo_extensions(struct hvc_region *r, const struct hvc_system *sys, int role,
                    double seconds)
{
    int rc;

    demo_say("-- named events: ping-pong --");
    rc = demo_events(r, sys, role, stdout);
    if (rc < 0)
        return rc;
    demo_say("-- message ring: stream for %.1f s --", seconds);
    rc = demo_ring(r, sys, role, seconds, stdout);
    if (rc < 0)
        return rc;
#ifdef HVC_DEMO_VNET
    demo_say("-- vnet: TCP over lwIP between the guests --");
    rc = demo_vnet(r, sys, role, stdout);
    if (rc < 0)
        return rc;
#else
    demo_say("-- vnet: not built (no lwIP tree; scripts/fetch-lwip.sh fetches it) --");
#endif
    return 0;
}
