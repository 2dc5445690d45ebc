/* Two-guest harness for the vnet suites (see vnettest.h). */
#define _GNU_SOURCE
#include "vnettest.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

uint8_t vt_pattern[VT_PATTERN];

void vt_pattern_init(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;

    for (uint32_t i = 0; i < VT_PATTERN; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vt_pattern[i] = (uint8_t)(x >> 24);
    }
}

uint64_t vt_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void vt_ip4(ip_addr_t *a, int idx)
{
    IP_ADDR4(a, 10, 0, 0, (u8_t)(idx + 1));
}

void vt_ip6(ip_addr_t *a, int idx)
{
    IP_ADDR6(a, PP_HTONL(0xfd000000u), 0, 0, PP_HTONL((u32_t)(idx + 1)));
}

struct vt_board *vt_setup(struct hvc_region *r, const char *path,
                          const struct hvc_vnet_link_attr *attr)
{
    struct hvc_region_config cfg = {.size = VT_REGION_SIZE};
    struct hvc_obj_spec spec = {.name = "board", .type = HVC_OBJ_RAW,
                                .size = sizeof(struct vt_board), .writer = HVC_PEER_ANY};
    struct hvc_obj obj;

    if (hvc_region_format(r, hvc_platform_posix(), path, &cfg) < 0 ||
        hvc_peer_join(r, "test") < 0 || hvc_vnet_link_create(r, VT_LINK, attr) < 0 ||
        hvc_obj_create(r, &spec, &obj) < 0)
        return NULL;
    return obj.ptr;
}

static struct vt_guest *the_guest; /* one guest per process */

static int guest_up(struct vt_guest *g, const char *link, const struct hvc_vnet_config *cfg,
                    uint32_t ipv4, unsigned prefix);

static void link_cb(struct netif *nif)
{
    if (the_guest == NULL)
        return;
    if (netif_is_link_up(nif))
        the_guest->link_up++;
    else
        the_guest->link_down++;
}

int vt_guest_start(struct vt_guest *g, const char *path, int idx,
                   const struct hvc_vnet_config *cfg)
{
    return vt_guest_start_on(g, path, idx, VT_LINK, cfg);
}

int vt_guest_start_on(struct vt_guest *g, const char *path, int idx, const char *link,
                      const struct hvc_vnet_config *cfg)
{
    static const char *const labels[] = {"guest-a", "guest-b", "guest-c", "guest-d"};
    struct hvc_obj obj;
    int rc;

    memset(g, 0, sizeof(*g));
    g->idx = idx;
    the_guest = g;
    rc = hvc_region_attach(&g->r, hvc_platform_posix(), path, 0);
    if (rc < 0)
        return rc;
    rc = hvc_peer_join(&g->r, labels[idx & 3]);
    if (rc < 0)
        return rc;
    rc = hvc_obj_open(&g->r, "board", HVC_OBJ_RAW, &obj);
    if (rc < 0)
        return rc;
    g->board = obj.ptr;
    return guest_up(g, link, cfg, 0x0a000000u | (uint32_t)(idx + 1), 24);
}

/* Open the link, bring up lwIP with IPv4 address ipv4/prefix (host order)
 * and fd00::idx+1. */
static int guest_up(struct vt_guest *g, const char *link, const struct hvc_vnet_config *cfg,
                    uint32_t ipv4, unsigned prefix)
{
    ip4_addr_t ip, mask, gw;
    ip_addr_t a6;
    s8_t slot;
    int rc = -HVC_EBUSY;

    /* A peer that just died may still look live: scan, then retry until
     * the scan has declared it gone (10 s at most). */
    for (uint64_t end = vt_ms() + 10000;;) {
        hvc_peer_scan(&g->r, 0);
        rc = hvc_vnet_open(&g->v, &g->r, link, cfg);
        if (rc != -HVC_EBUSY || vt_ms() > end)
            break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc < 0)
        return rc;
    /* lwIP's ISNs and local ports come from rand(): differ per process. */
    srand((unsigned)getpid() ^ (unsigned)vt_ms());
    lwip_init();
    ip4_addr_set_u32(&ip, lwip_htonl(ipv4));
    ip4_addr_set_u32(&mask, lwip_htonl(prefix ? ~0u << (32 - prefix) : 0));
    IP4_ADDR(&gw, 0, 0, 0, 0);
    if (netif_add(&g->nif, &ip, &mask, &gw, &g->v, hvc_vnet_netif_init, ethernet_input) == NULL)
        return -HVC_EIO;
    netif_set_link_callback(&g->nif, link_cb);
    netif_set_default(&g->nif);
    netif_set_up(&g->nif);
    vt_ip6(&a6, g->idx);
    if (netif_add_ip6_address(&g->nif, ip_2_ip6(&a6), &slot) != ERR_OK)
        return -HVC_EIO;
    /* No duplicate detection on a two-guest link: usable at once. */
    netif_ip6_addr_set_state(&g->nif, slot, IP6_ADDR_PREFERRED);
    return 0;
}

void vt_guest_step(struct vt_guest *g)
{
    int n = hvc_vnet_poll(&g->v, 64);

    sys_check_timeouts();
    if (n == 0 && !g->busy)
        hvc_vnet_wait(&g->v, 1000000);
}

int vt_guest_run_until(struct vt_guest *g, volatile int *cond, int ms)
{
    uint64_t end = vt_ms() + (uint64_t)ms;

    while (!*cond) {
        if (vt_ms() > end)
            return 0;
        vt_guest_step(g);
    }
    return 1;
}

int vt_guest_wait_up(struct vt_guest *g, int ms)
{
    uint64_t end = vt_ms() + (uint64_t)ms;

    while (!netif_is_link_up(&g->nif)) {
        if (vt_ms() > end)
            return 0;
        vt_guest_step(g);
    }
    return 1;
}

int vt_guest_wait_flag(struct vt_guest *g, int i, uint32_t v, int ms)
{
    uint64_t end = vt_ms() + (uint64_t)ms;

    while (vt_get(&g->board->flag[i]) < v) {
        if (vt_ms() > end)
            return 0;
        vt_guest_step(g);
    }
    return 1;
}

void vt_guest_stop(struct vt_guest *g)
{
    netif_remove(&g->nif);
    hvc_vnet_close(&g->v);
    hvc_region_detach(&g->r);
    the_guest = NULL;
}

/* ---- the same from a system file (doc/config.md) ---- */

struct vt_board *vt_setup_system(struct hvc_region *r, const char *path,
                                 const struct hvc_system *sys)
{
    struct hvc_region_config cfg;
    struct hvc_seg board;

    hvc_system_region_config(sys, &cfg);
    if (hvc_region_format(r, hvc_platform_posix(), path, &cfg) < 0 ||
        hvc_system_apply(r, sys, sys->peers[sys->creator].name) < 0 ||
        hvc_system_open_segment(r, sys, "board", &board) < 0 ||
        hvc_seg_size(&board) < sizeof(struct vt_board))
        return NULL;
    return hvc_seg_data(&board);
}

int vt_guest_start_system(struct vt_guest *g, const char *path, const struct hvc_system *sys,
                          const char *peer, const char *link, const struct hvc_vnet_config *cfg)
{
    struct hvc_system_vnet_end end;
    struct hvc_seg board;
    int rc;

    memset(g, 0, sizeof(*g));
    the_guest = g;
    rc = hvc_region_attach(&g->r, hvc_platform_posix(), path, 0);
    if (rc < 0)
        return rc;
    rc = hvc_system_apply(&g->r, sys, peer); /* checks the region, joins at peer's id */
    if (rc < 0)
        return rc;
    rc = hvc_system_open_segment(&g->r, sys, "board", &board);
    if (rc < 0)
        return rc;
    if (hvc_seg_size(&board) < sizeof(struct vt_board))
        return -HVC_EPROTO;
    g->board = hvc_seg_data(&board);
    rc = hvc_system_vnet_end(&g->r, sys, link, &end); /* -HVC_EPERM: not an end */
    if (rc < 0)
        return rc;
    g->idx = rc;
    if (end.ipv4 == 0)
        return -HVC_EINVAL; /* the harness needs an address on each end */
    return guest_up(g, link, cfg, end.ipv4, end.prefix);
}
