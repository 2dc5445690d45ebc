/*
 * fuzz_seeds TARGET DIR: write the seed corpus of one fuzz target into DIR.
 * Every harness reads its input as a few configuration bytes followed by
 * steps of [hostile-write count][op][16-bit argument]; the seeds are honest
 * scripts (no hostile writes) that walk every op of the target, a few that
 * add hostile writes, and deterministic pseudo-random ones. Generated, not
 * committed, so the corpus follows the harnesses.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct target {
    const char *name;
    unsigned prefix; /* configuration bytes before the steps */
    unsigned ops;    /* number of distinct ops */
};

static const struct target targets[] = {
    {"fuzz_region", 2, 12}, {"fuzz_ring", 1, 16},     {"fuzz_ports", 2, 12},
    {"fuzz_events", 2, 12}, {"fuzz_segment", 1, 10},  {"fuzz_vnet_port", 1, 10},
    {"fuzz_bridge", 1, 8},  {"fuzz_ivshmem", 1, 8},   {"fuzz_describe", 2, 12},
    {"fuzz_config", 0, 0},  {"fuzz_fring", 2, 8},
};

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint8_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

static int put(const char *dir, const char *tag, int n, const uint8_t *p, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/seed-%s-%03d", dir, tag, n);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, len, f) != len) {
        perror(path);
        if (f != NULL)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

/* Copy a file of the source tree into the corpus. */
static int copy_seed(const char *dir, const char *tag, int n, const char *rel)
{
    static uint8_t buf[1 << 16];
    char path[1024];
    FILE *f;
    size_t len;

    snprintf(path, sizeof(path), "%s/%s", HVC_SOURCE_DIR, rel);
    f = fopen(path, "rb");
    if (f == NULL)
        return 0; /* a seed less, not an error */
    len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return put(dir, tag, n, buf, len);
}

/* Targets whose input is not only steps get hand-made seeds as well. */
static int extra_seeds(const char *name, const char *dir)
{
    int rc = 0;

    if (strcmp(name, "fuzz_config") == 0) {
        static const char *const files[] = {
            "examples/systems/bridged.yaml", "examples/systems/demo.yaml",
            "examples/systems/sensors.yaml", "tests/config/systems/base.yaml"};

        for (int i = 0; i < 4; i++)
            rc |= copy_seed(dir, "system", i, files[i]);
    }
    if (strcmp(name, "fuzz_ivshmem") == 0) {
        /* Host mode: a correct handshake (version, id 3, shm fd, peer 1's
         * and our own eventfd), then a peer leaves, then calls. */
        static const uint8_t host[] = {
            0, 7, /* mode, messages */
            0, 0, 0,    0, 3, 0,    1, 0xff, 1,   2, 1, 0,   2, 3, 0,
            0, 1, 0,    2, 2, 0,
            0, 0, 1, 1, 2, 1, 3, 0, 4, 3, 1, 2, 0, 0};
        /* Server mode: clients connect, read, talk, hang up, reconnect. */
        static const uint8_t server[] = {
            1, 1, 3,
            0, 0, 0, 1, 5, 0, 5, 1, 3, 0, 1, 1, 3, 0, 2, 0, 3, 0, 5, 1,
            0, 2, 4, 2, 3, 0, 0, 0, 5, 0, 0, 3, 5, 3, 2, 3, 3, 0, 5, 2};

        rc |= put(dir, "handshake", 0, host, sizeof(host));
        rc |= put(dir, "server", 0, server, sizeof(server));
    }
    if (strcmp(name, "fuzz_bridge") == 0) {
        /* Rule texts (length byte, text) then frames from both links and
         * the external port, polls and receives. */
        static const char *const rules[][4] = {
            {"deny,proto=tcp,dst=10.0.0.3/32,dport=7", "allow,src=10.0.0.0/24",
             "deny,src_mac=02:00:00:00:00:01", "deny,proto=udp"},
            {"allow,dst_mac=ff:ff:ff:ff:ff:ff", "deny,proto=icmp,src=10.0.0.1",
             "deny,dport=65535", "allow"},
            {"deny,dst=10.0.0.3/24,proto=17", "deny,src_mac=aa:bb:cc:dd:ee:ff,dst_mac=02:00:00:00:00:02",
             "allow,proto=6,dport=7", "deny,src=0.0.0.0/0"},
        };
        static const uint8_t steps[] = {
            0, 0x00, 0, 64, 0,  0, 0x21, 1, 80, 0,  4, 3, 0, 0,   5, 0, 0, 0,
            2, 0x10, 0, 90, 0,  3, 0x61, 0, 70, 0,  4, 3, 0, 0,   5, 1, 0, 0,
            1, 0x03, 0, 100, 0, 6, 0, 0, 0,         7, 1, 0, 0,   4, 9, 0, 0};
        for (int k = 0; k < 3; k++) {
            uint8_t b[1024];
            size_t n = 0;

            b[n++] = (uint8_t)(k * 2);
            for (int i = 0; i < 4; i++) {
                size_t l = strlen(rules[k][i]);

                b[n++] = (uint8_t)l;
                memcpy(b + n, rules[k][i], l);
                n += l;
            }
            memcpy(b + n, steps, sizeof(steps));
            n += sizeof(steps);
            rc |= put(dir, "rules", k, b, n);
        }
    }
    return rc;
}

int main(int argc, char **argv)
{
    const struct target *t = NULL;
    uint8_t buf[4096];
    int rc = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_seeds TARGET DIR\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
        if (strcmp(targets[i].name, argv[1]) == 0)
            t = &targets[i];
    if (t == NULL) {
        fprintf(stderr, "fuzz_seeds: unknown target %s\n", argv[1]);
        return 2;
    }
    rc |= extra_seeds(t->name, argv[2]);
    if (t->ops == 0) /* a text format: its harness brings its own seeds */
        return rc;
    /* Honest scripts: for each configuration byte value class, cycle the ops. */
    for (int s = 0; s < 16; s++) {
        size_t n = 0;

        for (unsigned k = 0; k < t->prefix; k++)
            buf[n++] = (uint8_t)(s * 37 + k * 11);
        for (unsigned step = 0; step < 96 && n + 4 <= sizeof(buf); step++) {
            unsigned op = (step * (unsigned)(s + 1)) % t->ops;

            buf[n++] = 0;                       /* no hostile write */
            buf[n++] = (uint8_t)(op + 16u * (unsigned)(s & 15));
            buf[n++] = (uint8_t)(step * 13 + (unsigned)s); /* argument */
            buf[n++] = 0;
        }
        rc |= put(argv[2], "honest", s, buf, n);
    }
    /* The same with one hostile write per step. */
    for (int s = 0; s < 8; s++) {
        size_t n = 0;

        for (unsigned k = 0; k < t->prefix; k++)
            buf[n++] = rnd();
        for (unsigned step = 0; step < 64 && n + 14 <= sizeof(buf); step++) {
            buf[n++] = 1;       /* one hostile write: */
            buf[n++] = rnd();   /* its kind */
            buf[n++] = rnd();   /* offset */
            buf[n++] = (uint8_t)(rnd() & 3);
            for (int k = 0; k < 4; k++)
                buf[n++] = rnd(); /* value */
            buf[n++] = (uint8_t)(step % t->ops);
            buf[n++] = rnd();
            buf[n++] = 0;
        }
        rc |= put(argv[2], "hostile", s, buf, n);
    }
    /* Pseudo-random. */
    for (int s = 0; s < 8; s++) {
        size_t n = 64 + rnd() * 4u;

        for (size_t i = 0; i < n; i++)
            buf[i] = rnd();
        rc |= put(argv[2], "random", s, buf, n);
    }
    return rc;
}
