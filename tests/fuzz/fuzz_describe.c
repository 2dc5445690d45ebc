/*
 * `hvcomm info` on a hostile region: the input rewrites a region holding
 * one object of every type (event, segment, ring, fring, sampling and queuing
 * ports, vnet link and bridge when vnet is built) and the tool's code reads
 * it.
 *
 * Mode "file" (first byte even): the whole image may change (header, peer
 * table, directory, objects); it is written to a region file and
 * tools/hvcomm.c's cmd_info() (compiled in, main() renamed) attaches it
 * read-only through the POSIX backend and prints everything to /dev/null.
 * The end of the file mapping is the guard (nothing is mapped past it).
 *
 * Mode "memory" (first byte odd): only the objects' bytes change, in the
 * in-memory backend with a poisoned guard object after every object; the
 * same loop as cmd_info() calls describe_object() (tools/describe.c) on
 * every entry, so reading past an object into its neighbour is caught.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#define main hvc_fz_cli_main
int hvc_fz_cli_main(int argc, char **argv);
#include "../../tools/hvcomm.c"
#undef main

#ifdef HVC_TOOLS_VNET
#include <hvcomm/bridge.h>
static struct hvc_bridge bridge;
static struct hvc_bridge_fdb fdb[4];
#endif

#define SIZE (64u << 10)

static void make_objects(struct hvc_region *r, const struct hvc_platform *ops, int guards)
{
    struct hvc_event ev;
    struct hvc_seg seg;
    struct hvc_ring ring;
    struct hvc_sampling sp;
    struct hvc_queue qp;
    struct hvc_fring fr;
    struct hvc_fring_attr fa = {.elem_size = 12, .capacity = 16, .writer = -1};
    struct hvc_event_attr ea = {.kind = HVC_EVENT_COUNTING, .max_count = 9};
    struct hvc_ring_attr ra = {.capacity = 1024, .max_msg = 100, .writer = -1};
    struct hvc_sampling_attr sa = {.max_msg = 32, .writer = -1, .refresh_ns = 1000};
    struct hvc_queue_attr qa = {.max_msg = 16, .max_count = 4, .writer = -1};
    int n = 0;
    char g[8];

#define GUARD()                                                                  \
    do {                                                                         \
        snprintf(g, sizeof(g), "g%d", n++);                                      \
        if (guards)                                                              \
            fz_guard(r, g, 64);                                                  \
    } while (0)
    (void)ops;
    FZ_CHECK(hvc_event_create(r, "event", &ea, &ev) == 0);
    GUARD();
    FZ_CHECK(hvc_seg_create(r, "segment", 100, &seg) == 0);
    GUARD();
    FZ_CHECK(hvc_ring_create(&ring, r, "ring", &ra) == 0);
    GUARD();
    FZ_CHECK(hvc_sampling_create(&sp, r, "sampling", &sa) == 0);
    GUARD();
    FZ_CHECK(hvc_queue_create(&qp, r, "queue", &qa) == 0);
    GUARD();
    FZ_CHECK(hvc_fring_create(&fr, r, "fring", &fa) == 0);
    GUARD();
#ifdef HVC_TOOLS_VNET
    {
        struct hvc_vnet_link_attr la = {.mtu = 1500, .ring_capacity = 256u << 10,
                                        .peer = {HVC_PEER_ANY, HVC_PEER_ANY}};
        struct hvc_bridge_config bc = {.fdb = fdb, .fdb_size = 4};
        struct hvc_bridge_rule rule;

        FZ_CHECK(hvc_vnet_link_create(r, "link", &la) == 0);
        GUARD();
        FZ_CHECK(hvc_bridge_init(&bridge, r, "bridge", &bc) == 0);
        FZ_CHECK(hvc_bridge_rule_parse("deny,proto=tcp,dport=7", &rule) == 0);
        FZ_CHECK(hvc_bridge_add_rule(&bridge, &rule) == 0);
        GUARD();
    }
#endif
#undef GUARD
    /* Some history: a signal, a message, a value. */
    hvc_event_signal(&ev);
    hvc_ring_send(&ring, "hello", 5);
    hvc_sampling_write(&sp, "v", 1);
    hvc_queue_send(&qp, "q", 1);
    hvc_fring_send(&fr, "twelve bytes");
}

/* ---- file mode ---- */

static char path[64];
static uint8_t image[SIZE];

static void remove_file(void)
{
    unlink(path);
}

static void file_setup(void)
{
    struct hvc_region_config cfg = {.size = SIZE, .max_peers = 4, .max_objects = 16};
    struct hvc_region r;
    int fd;

    snprintf(path, sizeof(path), "/dev/shm/hvc-fuzz-describe-%d", (int)getpid());
    atexit(remove_file);
    FZ_CHECK(hvc_region_format(&r, hvc_platform_posix(), path, &cfg) == 0);
    FZ_CHECK(hvc_peer_join(&r, "maker") == 0);
    make_objects(&r, hvc_platform_posix(), 0);
    hvc_region_detach(&r);
    fd = open(path, O_RDONLY);
    FZ_CHECK(fd >= 0 && pread(fd, image, SIZE, 0) == (ssize_t)SIZE);
    close(fd);
    FZ_CHECK(freopen("/dev/null", "w", stdout) != NULL);
}

static void file_mode(void)
{
    static uint8_t img[SIZE];
    int fd;

    if (path[0] == '\0')
        file_setup();
    memcpy(img, image, SIZE);
    fz_target(img, SIZE);
    for (unsigned i = 0; i < 24 && fz_more(); i++)
        fz_hostile();
    fd = open(path, O_WRONLY);
    FZ_CHECK(fd >= 0 && pwrite(fd, img, SIZE, 0) == (ssize_t)SIZE);
    close(fd);
    cmd_info(path); /* any exit code; it must not crash */
}

/* ---- memory mode ---- */

static void memory_mode(void)
{
    struct hvc_region a, b;
    struct hvc_region_info info;

    FZ_CHECK(fz_region(&a, "describe", 512u << 10) == 0);
    make_objects(&a, fz_platform(), 1);
    fz_target(a.base + a.heap_offset, (size_t)(a.size - a.heap_offset));
    for (unsigned i = 0; i < 24 && fz_more(); i++)
        fz_hostile();
    FZ_CHECK(hvc_region_attach(&b, fz_platform(), "describe", HVC_MAP_RDONLY) == 0);
    FZ_CHECK(hvc_region_info(&b, &info) == 0);
    for (uint32_t i = 0; i < info.max_objects; i++) {
        struct hvc_obj o;
        char details[256];

        if (hvc_obj_get(&b, i, &o) < 0)
            continue;
        memset(details, 'x', sizeof(details));
        describe_object(&b, &o, details, sizeof(details));
        FZ_CHECK(memchr(details, 0, sizeof(details)) != NULL);
        fz_hostile(); /* and changes between two looks */
    }
    hvc_region_detach(&b);
    hvc_region_detach(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t m;

    fz_begin(data, size, FZ_FUTEX);
    m = fz_u8();
    if (m & 1)
        memory_mode();
    else
        file_mode();
    fz_end();
    return 0;
}
