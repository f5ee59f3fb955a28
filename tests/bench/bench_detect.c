/* bench_detect.c - detector throughput (cs, spot, mad) and peak memory of osd-analyze. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "detector.h"

/*
 * Usage: bench_detect [--osd-analyze PATH] [--csv PATH] [--points N] [--dims N]
 * Prints one line per figure. Targets (checked, exit 1 if missed): cs >= 5000
 * points/s on 38 dims, spot >= 1e6 points/s per metric, osd-analyze peak RSS < 64 MB.
 */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long rng_s = 12345;

static double norm(void)
{
    unsigned long long z;
    double u, v;

    z = (rng_s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    u = (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
    z = (rng_s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    v = (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* Seasonal, group-correlated data like the test suite, with a few spikes. */
static double *make_data(size_t n, size_t dims)
{
    double *x = malloc(n * dims * sizeof(double));

    if (!x)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        for (size_t d = 0; d < dims; d++) {
            double lat = 4 * sin(2 * M_PI * i / 1440.0 + (double)(d / 8));

            x[i * dims + d] = 50 + (1 + d % 3) * lat + norm() + (i % 2003 == 1000 ? 12 : 0);
        }
    }
    return x;
}

static double run(enum det_kind kind, const double *x, size_t n, size_t dims, size_t *alarms)
{
    struct det_params p;
    struct detector *d;
    struct det_result *r = malloc(4096 * sizeof(*r));
    size_t chunk = 4096, got;
    double t0, t1;

    det_params_default(&p, kind, dims);
    if (!r || det_create(&p, &d)) {
        free(r);
        return -1;
    }
    *alarms = 0;
    t0 = now();
    for (size_t i = 0; i < n; i += chunk) {
        size_t m = n - i < chunk ? n - i : chunk;

        if (det_push(d, x + i * dims, m))
            break;
        while ((got = det_pull(d, r, 4096)) > 0)
            for (size_t k = 0; k < got; k++)
                *alarms += r[k].anomaly;
    }
    det_flush(d);
    while ((got = det_pull(d, r, 4096)) > 0)
        for (size_t k = 0; k < got; k++)
            *alarms += r[k].anomaly;
    t1 = now();
    det_free(d);
    free(r);
    return t1 - t0;
}

/* Write x as a CSV with epoch timestamps. */
static int write_csv(const char *path, const double *x, size_t n, size_t dims)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -errno;
    fputs("timestamp", f);
    for (size_t d = 0; d < dims; d++)
        fprintf(f, ",m%02zu", d);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu", 1704067200 + i * 60);
        for (size_t d = 0; d < dims; d++)
            fprintf(f, ",%.4f", x[i * dims + d]);
        fputc('\n', f);
    }
    return fclose(f) ? -errno : 0;
}

/* Run osd-analyze on csv with the given detector; peak RSS of the child in KiB. */
static long child_maxrss(const char *bin, const char *csv, const char *det, double *secs)
{
    char *const av[] = { (char *)bin, (char *)csv, "--detector", (char *)det, "-o", "/dev/null",
                         NULL };
    struct rusage ru;
    double t0 = now();
    pid_t pid;
    int status;

    /*
     * fork, not posix_spawn: a vfork-style child reports the parent's high-water RSS.
     * A forked child starts from our current RSS, so the caller frees its big
     * buffers first; the figure then errs high by our few MB at most.
     */
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        execv(bin, av);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -ECHILD;
    *secs = now() - t0;
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    const char *bin = NULL, *csv = "/tmp/osd_bench_detect.csv";
    size_t n = 20000, dims = 38, spot_n = 2000000, alarms;
    double *x, *y, secs;
    int fails = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--osd-analyze") && i + 1 < argc)
            bin = argv[++i];
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc)
            csv = argv[++i];
        else if (!strcmp(argv[i], "--points") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dims") && i + 1 < argc)
            dims = strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [--osd-analyze PATH] [--csv PATH] [--points N] [--dims N]\n",
                    argv[0]);
            return 2;
        }
    }
    x = make_data(n, dims);
    y = malloc(spot_n * sizeof(double));
    if (!x || !y)
        return 1;
    for (size_t i = 0; i < spot_n; i++)
        y[i] = 10 + 3 * sin(2 * M_PI * i / 1440.0) + norm() + (i % 5003 == 2500 ? 10 : 0);

    secs = run(DET_CS, x, n, dims, &alarms);
    printf("cs   %zu dims x %zu points: %.3f s, %.0f points/s (%zu alarms)\n", dims, n, secs,
           n / secs, alarms);
    if (dims == 38 && n / secs < 5000) {
        fprintf(stderr, "MISS: cs expected >= 5000 points/s, got %.0f\n", n / secs);
        fails++;
    }
    secs = run(DET_MAD, x, n, dims, &alarms);
    printf("mad  %zu dims x %zu points: %.3f s, %.0f points/s (%zu alarms)\n", dims, n, secs,
           n / secs, alarms);
    secs = run(DET_SPOT, x, n, dims, &alarms);
    printf("spot %zu dims x %zu points: %.3f s, %.0f points/s, %.0f metric-points/s (%zu alarms)\n",
           dims, n, secs, n / secs, n * dims / secs, alarms);
    secs = run(DET_SPOT, y, spot_n, 1, &alarms);
    printf("spot 1 metric x %zu points: %.3f s, %.0f points/s per metric (%zu alarms)\n", spot_n,
           secs, spot_n / secs, alarms);
    if (spot_n / secs < 1e6) {
        fprintf(stderr, "MISS: spot expected >= 1e6 points/s per metric, got %.0f\n", spot_n / secs);
        fails++;
    }
    if (bin) {
        static const char *const dets[] = { "spot", "mad", "cs" };
        long kb;

        if (write_csv(csv, x, n, dims)) {
            fprintf(stderr, "cannot write %s\n", csv);
            return 1;
        }
        /* a forked child's maxrss starts from our pages: drop the big ones first */
        free(x);
        free(y);
        x = y = NULL;
        for (int k = 0; k < 3; k++) {
            kb = child_maxrss(bin, csv, dets[k], &secs);
            if (kb < 0) {
                fprintf(stderr, "osd-analyze -d %s failed (%ld)\n", dets[k], kb);
                fails++;
                continue;
            }
            printf("osd-analyze -d %-4s %zu dims x %zu points: %.3f s wall, peak RSS %.1f MB\n",
                   dets[k], dims, n, secs, kb / 1024.0);
            if (kb >= 64 * 1024) {
                fprintf(stderr, "MISS: peak RSS expected < 64 MB, got %.1f MB\n", kb / 1024.0);
                fails++;
            }
        }
        unlink(csv);
    }
    free(x);
    free(y);
    return fails ? 1 : 0;
}
