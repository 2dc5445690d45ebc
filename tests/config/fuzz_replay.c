/*
 * Runs the loader's fuzz target (tests/fuzz/fuzz_config.c) in the normal
 * suite, without libFuzzer: over every shipped system file, and over
 * deterministic mutations of each (every truncation, byte flips, lines
 * swapped and repeated, bytes from a fixed pseudo-random stream). The
 * sanitizer build turns any memory error into a failure.
 * Usage: fuzz_replay FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static unsigned long runs;

static void run(const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */

    if (copy == NULL)
        exit(2);
    memcpy(copy, p, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    runs++;
}

static void mutate(const uint8_t *data, size_t size)
{
    static const char *const tokens[] = {"{", "}", "[", "]", ":", "-", "&a", "*a", "!!map",
                                         "'", "\"", "\n  ", "0x", "99999999999999999999K",
                                         "type: ring", "writer: a", "name: x", "\t", "#", "?"};
    uint8_t *buf = malloc(size + 64);

    if (buf == NULL)
        exit(2);
    for (size_t n = 0; n <= size; n++)
        run(data, n); /* every prefix */
    for (unsigned i = 0; i < 4000 && size != 0; i++) {
        size_t n = size, at = next() % size;

        memcpy(buf, data, size);
        switch (next() % 4) {
        case 0: buf[at] ^= (uint8_t)(1u << (next() % 8)); break;
        case 1: buf[at] = (uint8_t)next(); break;
        case 2: {
            const char *t = tokens[next() % (sizeof(tokens) / sizeof(tokens[0]))];
            size_t tl = strlen(t);

            if (tl > 63)
                tl = 63;
            memmove(buf + at + tl, buf + at, size - at);
            memcpy(buf + at, t, tl);
            n = size + tl;
            break;
        }
        default: {
            size_t len = next() % 32;

            if (at + len > size)
                len = size - at;
            memmove(buf + at, buf + at + len, size - at - len);
            n = size - len;
            break;
        }
        }
        run(buf, n);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        static uint8_t data[1 << 16];
        size_t n;

        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }
        n = fread(data, 1, sizeof(data), f);
        fclose(f);
        run(data, n);
        mutate(data, n);
    }
    printf("fuzz_replay: %lu inputs, no crash\n", runs);
    return 0;
}
