/* Demo: an event ping-pong between the demo's two guests.
 *
 * The system file declares two auto-reset events, "demo.ping" (A signals,
 * B waits) and "demo.pong" (the other way); both guests open them in that
 * role. A signals ping and waits for
 * pong, B does the opposite, DEMO_ROUNDS times; A prints the median round
 * trip, once spinning before sleeping and once sleeping at once.
 * Both guests are already attached and joined when this runs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <hvcomm/hvcomm.h>
#include <hvcomm/system.h>

#define DEMO_ROUNDS 10000
#define DEMO_TIMEOUT_NS 20000000000ll /* a peer that vanishes: give up after 20 s */

int demo_events(struct hvc_region *r, const struct hvc_system *sys, int role, FILE *out);

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static int run(struct hvc_region *r, int role, FILE *out, uint64_t spin_ns,
               struct hvc_event *ping, struct hvc_event *pong, uint64_t *lat)
{
    struct hvc_platform_handle *h = hvc_region_platform(r);
    int rc;

    hvc_event_set_spin(ping, spin_ns);
    hvc_event_set_spin(pong, spin_ns);
    for (int i = 0; i < DEMO_ROUNDS; i++) {
        if (role == 0) {
            uint64_t t0 = hvc_platform_now(h);

            if ((rc = hvc_event_signal(ping)) < 0 ||
                (rc = hvc_event_wait(pong, DEMO_TIMEOUT_NS)) < 0)
                return rc;
            lat[i] = hvc_platform_now(h) - t0;
        } else {
            if ((rc = hvc_event_wait(ping, DEMO_TIMEOUT_NS)) < 0 ||
                (rc = hvc_event_signal(pong)) < 0)
                return rc;
        }
    }
    if (role == 0) {
        qsort(lat, DEMO_ROUNDS, sizeof(lat[0]), cmp_u64);
        fprintf(out, "  %-28s median round trip %8.2f us (p99 %.2f us)\n",
                spin_ns ? "spin, then sleep:" : "sleep at once (futex/doorbell):",
                (double)lat[DEMO_ROUNDS / 2] / 1e3, (double)lat[DEMO_ROUNDS * 99 / 100] / 1e3);
    }
    return 0;
}

int demo_events(struct hvc_region *r, const struct hvc_system *sys, int role, FILE *out)
{
    static uint64_t lat[DEMO_ROUNDS];
    struct hvc_event ping, pong;
    int rc;

    if (r == NULL || out == NULL || (role != 0 && role != 1))
        return -HVC_EINVAL;
    /* The system made them; each guest opens them in its declared role. */
    if ((rc = hvc_system_open_event(r, sys, "demo.ping", &ping)) < 0 ||
        (rc = hvc_system_open_event(r, sys, "demo.pong", &pong)) < 0) {
        fprintf(out, "events: cannot open the events: %s\n", hvc_strerror(rc));
        return rc;
    }
    if (role == 0)
        fprintf(out, "events: guest A opened \"demo.ping\" and \"demo.pong\"; "
                     "%d round trips with guest B\n", DEMO_ROUNDS);
    else
        fprintf(out, "events: guest B opened the events, answering pings\n");
    if ((rc = run(r, role, out, HVC_EVENT_SPIN_DEFAULT, &ping, &pong, lat)) < 0 ||
        (rc = run(r, role, out, 0, &ping, &pong, lat)) < 0) {
        fprintf(out, "events: ping-pong stopped: %s\n", hvc_strerror(rc));
        return rc;
    }
    if (role == 0)
        fprintf(out, "events: done, no signal lost\n");
    return 0;
}
