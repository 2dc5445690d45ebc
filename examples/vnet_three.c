/*
 * vnet_three: three lwIP guests (three processes, one vnet link each) joined
 * by a bridge (this process, the bridge library).
 *
 *   vnet_three [--region PATH] [--deny RULE]
 *
 * Guest N has 10.0.0.N+1 on link "lanN". Each guest pings the other two
 * three times and prints the replies; then the bridge prints its counters
 * (what `hvcomm info PATH` shows while it runs). With --deny, e.g.
 * `--deny deny,proto=icmp,dst=10.0.0.3`, the rule's effect shows up in the
 * replies and the rule's hit counter.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hvcomm/bridge.h>
#include <hvcomm/hvcomm.h>
#include <hvcomm/vnet.h>

#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/raw.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

static const char *const links[3] = {"lan0", "lan1", "lan2"};
static const char *path = "/dev/shm/hvcomm-vnet-three";
static struct hvc_vnet vnet;
static struct netif nif;
static int replies;

static uint64_t ms_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void step(void)
{
    if (hvc_vnet_poll(&vnet, 64) == 0)
        hvc_vnet_wait(&vnet, 1000000);
    sys_check_timeouts();
}

static u8_t on_icmp(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
    u16_t hl = (u16_t)ip_current_header_tot_len();
    u8_t type;

    (void)arg, (void)pcb, (void)addr;
    if (p->tot_len < hl + 8u || pbuf_copy_partial(p, &type, 1, hl) != 1 || type != ICMP_ER)
        return 0;
    replies++;
    pbuf_free(p);
    return 1;
}

static int ping(struct raw_pcb *pcb, int to)
{
    int got = 0;
    ip_addr_t dst;

    IP_ADDR4(&dst, 10, 0, 0, to + 1);
    for (u16_t i = 0; i < 3; i++) {
        struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + 32, PBUF_RAM);
        struct icmp_echo_hdr *h;
        int before = replies;
        uint64_t end = ms_now() + 1000;

        if (p == NULL)
            break;
        h = p->payload;
        memset(h, 0, p->len);
        h->type = ICMP_ECHO;
        h->id = PP_HTONS(0x3e3e);
        h->seqno = lwip_htons(i);
        h->chksum = inet_chksum(h, p->len);
        raw_sendto(pcb, p, &dst);
        pbuf_free(p);
        while (replies == before && ms_now() < end)
            step();
        got += replies > before;
    }
    return got;
}

static int guest(int idx)
{
    struct hvc_region r;
    ip4_addr_t ip, mask, gw;
    struct raw_pcb *pcb;
    char label[16];
    int rc;

    snprintf(label, sizeof(label), "guest-%d", idx);
    if ((rc = hvc_region_attach(&r, hvc_platform_posix(), path, 0)) < 0 ||
        (rc = hvc_peer_join(&r, label)) < 0 || (rc = hvc_vnet_open(&vnet, &r, links[idx], NULL)) < 0) {
        fprintf(stderr, "guest %d: %s\n", idx, hvc_strerror(rc));
        return 1;
    }
    srand((unsigned)getpid());
    lwip_init();
    IP4_ADDR(&ip, 10, 0, 0, idx + 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    netif_add(&nif, &ip, &mask, &gw, &vnet, hvc_vnet_netif_init, ethernet_input);
    netif_set_up(&nif);
    while (!netif_is_link_up(&nif))
        step();
    pcb = raw_new(IP_PROTO_ICMP);
    raw_recv(pcb, on_icmp, NULL);
    for (int k = 1; k <= 2; k++) {
        int to = (idx + k) % 3;

        printf("guest 10.0.0.%d: ping 10.0.0.%d: %d/3 replies\n", idx + 1, to + 1, ping(pcb, to));
        fflush(stdout);
    }
    for (uint64_t end = ms_now() + 3000; ms_now() < end;) /* keep answering */
        step();
    raw_remove(pcb);
    netif_remove(&nif);
    hvc_vnet_close(&vnet);
    hvc_region_detach(&r);
    return 0;
}

int main(int argc, char **argv)
{
    static struct hvc_bridge br;
    static struct hvc_bridge_fdb fdb[64];
    static struct hvc_bridge_info bi;
    struct hvc_bridge_config bcfg = {.fdb = fdb, .fdb_size = 64};
    struct hvc_region_config cfg = {.size = 32u << 20};
    struct hvc_vnet_link_attr attr = {.peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
    struct hvc_bridge_rule rule;
    const char *deny = NULL;
    struct hvc_region r;
    struct hvc_obj obj;
    pid_t pid[3];
    int rc, live = 3;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--deny") == 0 && i + 1 < argc)
            deny = argv[++i];
        else {
            fprintf(stderr, "usage: vnet_three [--region PATH] [--deny RULE]\n");
            return 2;
        }
    }
    if (deny != NULL && hvc_bridge_rule_parse(deny, &rule) < 0) {
        fprintf(stderr, "vnet_three: bad rule '%s'\n", deny);
        return 2;
    }
    if ((rc = hvc_region_format(&r, hvc_platform_posix(), path, &cfg)) < 0 ||
        (rc = hvc_peer_join(&r, "bridge")) < 0) {
        fprintf(stderr, "vnet_three: %s: %s\n", path, hvc_strerror(rc));
        return 1;
    }
    for (int i = 0; i < 3; i++)
        if ((rc = hvc_vnet_link_create(&r, links[i], &attr)) < 0) {
            fprintf(stderr, "vnet_three: %s: %s\n", links[i], hvc_strerror(rc));
            return 1;
        }
    if ((rc = hvc_bridge_init(&br, &r, "bridge", &bcfg)) < 0) {
        fprintf(stderr, "vnet_three: bridge: %s\n", hvc_strerror(rc));
        return 1;
    }
    for (int i = 0; i < 3; i++)
        hvc_bridge_add_link(&br, links[i]);
    if (deny != NULL)
        hvc_bridge_add_rule(&br, &rule);
    fflush(stdout);
    for (int i = 0; i < 3; i++) {
        pid[i] = fork();
        if (pid[i] == 0)
            _exit(guest(i));
    }
    while (live > 0) {
        if (hvc_bridge_poll(&br, 64) == 0)
            hvc_bridge_wait(&br, 1000000);
        for (int i = 0; i < 3; i++)
            if (pid[i] > 0 && waitpid(pid[i], NULL, WNOHANG) == pid[i]) {
                pid[i] = 0;
                live--;
            }
    }
    hvc_bridge_poll(&br, 0);
    if (hvc_obj_open(&r, "bridge", HVC_OBJ_BRIDGE, &obj) == 0 && hvc_bridge_stats(&r, &obj, &bi) == 0) {
        printf("\nbridge: %u MACs learned\n", (unsigned)bi.fdb_used);
        for (uint32_t i = 0; i < bi.nports; i++)
            printf("  port %-5s rx %3" PRIu64 " tx %3" PRIu64 " flooded %2" PRIu64
                   " denied %2" PRIu64 "\n",
                   bi.port[i].name, bi.port[i].rx_frames, bi.port[i].tx_frames,
                   bi.port[i].flood, bi.port[i].drop_rule);
        for (uint32_t i = 0; i < bi.nrules; i++)
            printf("  rule %u (%s): %" PRIu64 " hits\n", (unsigned)i, deny, bi.rule[i].hits);
    }
    hvc_bridge_close(&br);
    hvc_region_detach(&r);
    return 0;
}
