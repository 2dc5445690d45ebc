/*
 * libFuzzer target for the system-file loader: any bytes, as a file,
 * must give a config or a list of mistakes, never a crash, a leak or a
 * hang. A config that loads is also checked by hvc_system_validate().
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DHVC_CONFIG_VNET -Iinclude \
 *       -Isrc/config tests/fuzz/fuzz_config.c src/config/load.c src/config/vnet_glue.c \
 *       BUILD/src/vnet/libhvcomm_vnet_port.a BUILD/libhvcomm.a -lyaml -o fuzz_config
 *   ./fuzz_config -max_total_time=300 CORPUS   (seed: examples/systems, tests/config/systems)
 *
 * (BUILD: an address,undefined sanitizer build; the loader's sources are
 * compiled here so libFuzzer sees their coverage.)
 *
 * tests/config/fuzz_replay.c runs the same entry point over a corpus in
 * the normal test suite.
 */
#include <stddef.h>
#include <stdint.h>

#include <hvcomm/config.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *ctx, const char *file, unsigned line, unsigned col, const char *msg)
{
    unsigned *n = ctx;

    (void)file;
    (void)line;
    (void)col;
    (void)msg;
    (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hvc_config *cfg = NULL;
    unsigned errors = 0;
    int rc = hvc_system_parse("fuzz.yaml", data, size, &cfg, count, &errors);

    if (rc == 0) {
        /* A clean file: a consistent table, and no mistake was reported. */
        if (cfg == NULL || errors != 0 || hvc_system_validate(&cfg->system) != 0)
            __builtin_trap();
        hvc_config_free(cfg);
    } else if (cfg != NULL || (rc == -HVC_EINVAL && errors == 0)) {
        __builtin_trap(); /* a failure always says why */
    }
    return 0;
}
