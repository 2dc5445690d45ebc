/* hvcomm-bench-events: event ping-pong round trip between two processes
 * pinned to two cores, against baselines measured in the same run: a
 * busy-polled shared-memory flag, a raw futex ping-pong and an eventfd
 * ping-pong. Prints one table. A program, not a test: it never fails on a
 * timing.
 *
 * Usage: hvcomm-bench-events [-n ROUNDS] [-r RUNS] [-o ONLY]
 *   ROUNDS round trips per run (default 100000), RUNS runs of each case
 *   (default 5, interleaved; the table shows the median over runs of each
 *   percentile), ONLY one case name (for strace -c -f / perf stat).
 *   HVC_BENCH_TSV=file also writes the table as tab-separated values
 *   (bench/plot.sh draws it). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hvcomm/hvcomm.h>

enum { BUSY, FUTEX, EVENTFD, EV_SPIN, EV_SLEEP, NCASES };
static const char *case_name[NCASES] = {"busy-flag", "raw-futex", "eventfd",
                                        "event-spin", "event-sleep"};

struct shared {
    uint32_t ping __attribute__((aligned(64)));
    uint32_t pong __attribute__((aligned(64)));
    uint64_t child_wakes __attribute__((aligned(64)));
    uint64_t child_sleeps;
    uint64_t child_signals;
};

static struct shared *sh;
static long rounds = 100000;
static char region_path[128];

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static void futex_wait(uint32_t *w, uint32_t v)
{
    syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0);
}

static void futex_wake(uint32_t *w)
{
    syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Event handles for the two event cases, opened in each process. */
static int open_events(struct hvc_region *r, struct hvc_event *ping,
                       struct hvc_event *pong, int create, uint64_t spin)
{
    int rc;

    if (create) {
        struct hvc_region_config cfg = {.size = 1 << 20};

        if ((rc = hvc_region_format(r, hvc_platform_posix(), region_path, &cfg)) < 0 ||
            (rc = hvc_peer_join(r, "bench-a")) < 0 ||
            (rc = hvc_event_create(r, "ping", NULL, ping)) < 0 ||
            (rc = hvc_event_create(r, "pong", NULL, pong)) < 0)
            return rc;
    } else {
        if ((rc = hvc_region_attach(r, hvc_platform_posix(), region_path, 0)) < 0 ||
            (rc = hvc_peer_join(r, "bench-b")) < 0 ||
            (rc = hvc_event_open(r, "ping", 0, NULL, ping)) < 0 ||
            (rc = hvc_event_open(r, "pong", 0, NULL, pong)) < 0)
            return rc;
    }
    hvc_event_set_spin(ping, spin);
    hvc_event_set_spin(pong, spin);
    return 0;
}

/* The responder: answers `rounds` pings. */
static int responder(int c, int efd_ping, int efd_pong)
{
    struct hvc_region r;
    struct hvc_event ping, pong;
    uint64_t v;

    pin(1);
    switch (c) {
    case BUSY:
        for (uint32_t i = 1; i <= (uint32_t)rounds; i++) {
            while (__atomic_load_n(&sh->ping, __ATOMIC_ACQUIRE) != i)
                hvc_cpu_relax();
            __atomic_store_n(&sh->pong, i, __ATOMIC_RELEASE);
        }
        break;
    case FUTEX:
        for (uint32_t i = 1; i <= (uint32_t)rounds; i++) {
            while (__atomic_load_n(&sh->ping, __ATOMIC_ACQUIRE) != i)
                futex_wait(&sh->ping, i - 1);
            __atomic_store_n(&sh->pong, i, __ATOMIC_RELEASE);
            futex_wake(&sh->pong);
        }
        break;
    case EVENTFD:
        for (long i = 0; i < rounds; i++) {
            if (read(efd_ping, &v, 8) != 8 || write(efd_pong, &v, 8) != 8)
                return 1;
        }
        break;
    default:
        /* wait until the parent has created the region */
        while (__atomic_load_n(&sh->ping, __ATOMIC_ACQUIRE) == 0)
            usleep(100);
        if (open_events(&r, &ping, &pong, 0, c == EV_SPIN ? 200000 : 0) < 0)
            return 1;
        __atomic_store_n(&sh->pong, 1, __ATOMIC_RELEASE);
        for (long i = 0; i < rounds; i++) {
            if (hvc_event_wait(&ping, HVC_FOREVER) < 0 || hvc_event_signal(&pong) < 0)
                return 1;
        }
        sh->child_wakes = ping.wake_calls + pong.wake_calls;
        sh->child_sleeps = ping.sleep_calls + pong.sleep_calls;
        sh->child_signals = (uint64_t)rounds;
        hvc_region_detach(&r);
        break;
    }
    return 0;
}

struct result {
    double p50, p99, p999;
    double wakes_per_signal, sleeps_per_wait;
};

static int run_case(int c, struct result *res, uint64_t *lat)
{
    struct hvc_region r;
    struct hvc_event ping, pong;
    int efd_ping = -1, efd_pong = -1;
    uint64_t v = 1, parent_wakes = 0, parent_sleeps = 0;
    pid_t pid;
    int status;

    memset(sh, 0, sizeof(*sh));
    if (c == EVENTFD) {
        efd_ping = eventfd(0, 0);
        efd_pong = eventfd(0, 0);
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0)
        _exit(responder(c, efd_ping, efd_pong));
    pin(0);
    if (c == EV_SPIN || c == EV_SLEEP) {
        if (open_events(&r, &ping, &pong, 1, c == EV_SPIN ? 200000 : 0) < 0) {
            fprintf(stderr, "cannot set up the region\n");
            return -1;
        }
        __atomic_store_n(&sh->ping, 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(&sh->pong, __ATOMIC_ACQUIRE) == 0)
            usleep(100);
    }
    for (long i = 0; i < rounds; i++) {
        uint64_t t0 = now_ns();
        uint32_t s = (uint32_t)i + 1;

        switch (c) {
        case BUSY:
            __atomic_store_n(&sh->ping, s, __ATOMIC_RELEASE);
            while (__atomic_load_n(&sh->pong, __ATOMIC_ACQUIRE) != s)
                hvc_cpu_relax();
            break;
        case FUTEX:
            __atomic_store_n(&sh->ping, s, __ATOMIC_RELEASE);
            futex_wake(&sh->ping);
            while (__atomic_load_n(&sh->pong, __ATOMIC_ACQUIRE) != s)
                futex_wait(&sh->pong, s - 1);
            break;
        case EVENTFD:
            if (write(efd_ping, &v, 8) != 8 || read(efd_pong, &v, 8) != 8)
                return -1;
            break;
        default:
            if (hvc_event_signal(&ping) < 0 || hvc_event_wait(&pong, HVC_FOREVER) < 0)
                return -1;
            break;
        }
        lat[i] = now_ns() - t0;
    }
    if (c == EV_SPIN || c == EV_SLEEP) {
        parent_wakes = ping.wake_calls + pong.wake_calls;
        parent_sleeps = ping.sleep_calls + pong.sleep_calls;
    }
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    if (c == EV_SPIN || c == EV_SLEEP) {
        hvc_region_detach(&r);
        hvc_platform_unlink(hvc_platform_posix(), region_path);
        res->wakes_per_signal = (double)(parent_wakes + sh->child_wakes) / (2.0 * (double)rounds);
        res->sleeps_per_wait = (double)(parent_sleeps + sh->child_sleeps) / (2.0 * (double)rounds);
    } else {
        res->wakes_per_signal = res->sleeps_per_wait = -1;
    }
    if (efd_ping >= 0) {
        close(efd_ping);
        close(efd_pong);
    }
    qsort(lat, (size_t)rounds, sizeof(lat[0]), cmp_u64);
    res->p50 = (double)lat[rounds / 2];
    res->p99 = (double)lat[rounds * 99 / 100];
    res->p999 = (double)lat[rounds * 999 / 1000];
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(v[0]), cmp_d);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    int runs = 5, only = -1, opt;
    static struct result res[NCASES][64];
    double med[NCASES][5];
    const char *tsv;
    uint64_t *lat;

    while ((opt = getopt(argc, argv, "n:r:o:")) != -1) {
        switch (opt) {
        case 'n':
            rounds = atol(optarg);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 'o':
            for (int c = 0; c < NCASES; c++)
                if (strcmp(optarg, case_name[c]) == 0)
                    only = c;
            if (only < 0) {
                fprintf(stderr, "unknown case %s\n", optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: %s [-n rounds] [-r runs] [-o case]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1000 || runs < 1 || runs > 64)
        return 2;
    if (hvc_platform_posix() == NULL) {
        fprintf(stderr, "no POSIX backend\n");
        return 77;
    }
    snprintf(region_path, sizeof(region_path), "/dev/shm/hvc-bench-events-%d", (int)getpid());
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    lat = malloc((size_t)rounds * sizeof(*lat));
    if (sh == MAP_FAILED || lat == NULL)
        return 1;
    for (int run = 0; run < runs; run++)
        for (int c = 0; c < NCASES; c++)
            if ((only < 0 || only == c) && run_case(c, &res[c][run], lat) < 0) {
                fprintf(stderr, "case %s failed\n", case_name[c]);
                return 1;
            }
    for (int c = 0; c < NCASES; c++) {
        double v[64];

        if (only >= 0 && only != c)
            continue;
        for (int k = 0; k < 5; k++) {
            for (int run = 0; run < runs; run++) {
                const struct result *x = &res[c][run];

                v[run] = k == 0 ? x->p50 : k == 1 ? x->p99 : k == 2 ? x->p999
                       : k == 3 ? x->wakes_per_signal : x->sleeps_per_wait;
            }
            med[c][k] = median(v, runs);
        }
    }
    printf("event ping-pong round trip, 2 processes pinned to cpus 0 and 1, "
           "%ld round trips x %d runs (median over runs)\n\n", rounds, runs);
    printf("%-12s %10s %10s %10s %16s %16s\n", "case", "p50 ns", "p99 ns", "p99.9 ns",
           "wake calls/sig", "sleep calls/wait");
    for (int c = 0; c < NCASES; c++) {
        if (only >= 0 && only != c)
            continue;
        printf("%-12s %10.0f %10.0f %10.0f", case_name[c], med[c][0], med[c][1], med[c][2]);
        if (med[c][3] >= 0)
            printf(" %16.4f %16.4f\n", med[c][3], med[c][4]);
        else
            printf(" %16s %16s\n", "-", "-");
    }
    if ((tsv = getenv("HVC_BENCH_TSV")) != NULL) {
        FILE *f = fopen(tsv, "w");

        if (f == NULL) {
            perror(tsv);
            return 1;
        }
        fprintf(f, "# kind\tcase\tp50_ns\tp99_ns\tp999_ns\n");
        for (int c = 0; c < NCASES; c++)
            if (only < 0 || only == c)
                fprintf(f, "ev\t%s\t%.0f\t%.0f\t%.0f\n", case_name[c], med[c][0], med[c][1],
                        med[c][2]);
        fclose(f);
    }
    if (only < 0) {
        printf("\nevent-sleep / raw-futex  p50 %.2fx  p99 %.2fx  (target <= 1.10)\n",
               med[EV_SLEEP][0] / med[FUTEX][0], med[EV_SLEEP][1] / med[FUTEX][1]);
        printf("event-spin  / busy-flag  p50 %.2fx  p99 %.2fx  (target <= 1.20)\n",
               med[EV_SPIN][0] / med[BUSY][0], med[EV_SPIN][1] / med[BUSY][1]);
        printf("event-sleep / eventfd    p50 %.2fx\n", med[EV_SLEEP][0] / med[EVENTFD][0]);
        printf("event-spin: %.4f platform wake calls per signal (target 0)\n", med[EV_SPIN][3]);
    }
    free(lat);
    return 0;
}
