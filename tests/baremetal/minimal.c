/*
 * The minimal hvcomm guest, for the code-size report (size.sh): attach a
 * region formatted by another peer, join, open one ring as its consumer
 * and poll it; the bare-metal backend with no doorbell driver. Linked with
 * --gc-sections to count what such a guest carries; not run.
 */
#include <hvcomm/baremetal.h>
#include <hvcomm/region.h>
#include <hvcomm/ring.h>

static const struct hvc_baremetal_region win = {"shm", MIN_SHM_BASE, 0x10000};
static volatile uint64_t fake_clock;
static struct hvc_baremetal bm;
static struct hvc_region r;
static struct hvc_ring rx;

/* The board's clock (a stand-in: time is the board's code, not hvcomm's). */
static uint64_t now(void *ctx)
{
    (void)ctx;
    return fake_clock++;
}

int main(void)
{
    struct hvc_baremetal_desc d = {.regions = &win, .nregions = 1,
                                   .peer_id = HVC_BAREMETAL_PEER_FREE,
                                   .timer = {.now_ns = now}};
    uint8_t buf[64];
    int n = 0;

    if (hvc_baremetal_init(&bm, &d) != 0 ||
        hvc_region_attach(&r, hvc_platform_baremetal(&bm), "shm", 0) != 0 ||
        hvc_peer_join(&r, "min") < 0 ||
        hvc_ring_open(&rx, &r, "rx", HVC_RING_CONSUMER) != 0)
        return 1;
    for (;;) {
        int rc = hvc_ring_recv(&rx, buf, sizeof(buf));

        if (rc >= 0)
            n += buf[0];
        else if (rc != -HVC_EAGAIN)
            return n;
    }
}
