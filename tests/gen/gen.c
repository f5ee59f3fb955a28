/* gen.c - seeded synthetic labelled suite for the detectors (osd-gen-suite). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/*
 * Series: daily-like seasonality (period 1440 points, two harmonics, amplitude 1-12
 * sigma) + a slow AR(1) wander (phi 0.98) + Gaussian noise sigma,
 * sampled once a minute from 2024-01-01. Anomalies start after a warm-up of 1500
 * points and are spaced 500-800 points apart, cycling through the kinds:
 *   spike     1-3 points, +-(7..12) sigma
 *   level     60-240 points shifted by +-(6..9) sigma
 *   variance  60-240 points with noise x(5..7)
 *   drift     100-250 points of a linear ramp of (0.15..0.3) sigma per point
 * Multivariate files: 38 dims in 6 correlated groups (shared latent seasonal + AR(1)
 * component per group); each anomaly hits 1-3 dims of one group.
 * Labels: "start end kind dims" per line, 0-based data-row indices, inclusive.
 */

#define PERIOD 1440.0
#define WARMUP 1500
#define NDIM_MULTI 38

enum kind { K_SPIKE, K_LEVEL, K_VAR, K_DRIFT, K_COUNT };
static const char *const kind_name[] = { "spike", "level", "variance", "drift" };

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unif(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double rng_range(struct rng *r, double a, double b)
{
    return a + (b - a) * rng_unif(r);
}

static double rng_norm(struct rng *r)
{
    double u = rng_unif(r), v = rng_unif(r);

    return sqrt(-2.0 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

struct anomaly {
    size_t start, len;
    enum kind kind;
    double mag, sign;
    int dims[3], n_dims;
};

struct series {
    size_t T, n;
    double *x;       /* T x n */
    double *sigma;   /* n noise levels */
};

static int write_csv(const char *path, const struct series *s, int iso)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -errno;
    fputs("timestamp", f);
    for (size_t k = 0; k < s->n; k++)
        fprintf(f, ",m%02zu", k);
    fputc('\n', f);
    for (size_t t = 0; t < s->T; t++) {
        long ts = 1704067200L + (long)t * 60;

        if (iso) {
            time_t tt = ts;
            struct tm tm;
            char buf[64];

            gmtime_r(&tt, &tm);
            strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
            fputs(buf, f);
        } else {
            fprintf(f, "%ld", ts);
        }
        for (size_t k = 0; k < s->n; k++)
            fprintf(f, ",%.4f", s->x[t * s->n + k]);
        fputc('\n', f);
    }
    return fclose(f) ? -errno : 0;
}

/* Baseline: per-group latent seasonal + AR(1), per-dim gain, offset and noise. */
static int make_base(struct series *s, struct rng *r, size_t T, size_t n)
{
    static const size_t groups_multi[] = { 8, 8, 6, 6, 5, 5 };
    size_t ng = n == NDIM_MULTI ? 6 : n;
    double *lat;

    s->T = T;
    s->n = n;
    s->x = malloc(T * n * sizeof(double));
    s->sigma = malloc(n * sizeof(double));
    lat = malloc(T * ng * sizeof(double));
    if (!s->x || !s->sigma || !lat) {
        free(lat);
        return -ENOMEM;
    }
    for (size_t g = 0; g < ng; g++) {
        double a1 = rng_range(r, 2, 6), a2 = rng_range(r, 0.5, 2), ph = rng_range(r, 0, 6.28);
        double ar = 0;

        for (size_t t = 0; t < T; t++) {
            ar = 0.98 * ar + 0.05 * rng_norm(r);
            lat[t * ng + g] = a1 * sin(2 * M_PI * t / PERIOD + ph) +
                              a2 * sin(4 * M_PI * t / PERIOD + 2 * ph) + ar;
        }
    }
    {
        size_t k = 0;

        for (size_t g = 0; g < ng; g++) {
            size_t gs = n == NDIM_MULTI ? groups_multi[g] : 1;

            for (size_t i = 0; i < gs; i++, k++) {
                double gain = rng_range(r, 0.5, 2.0), off = rng_range(r, 10, 100);
                double sig = rng_range(r, 0.5, 2.0);

                s->sigma[k] = sig;
                for (size_t t = 0; t < T; t++)
                    s->x[t * n + k] = off + gain * sig * lat[t * ng + g] + sig * rng_norm(r);
            }
        }
    }
    free(lat);
    return 0;
}

static void inject(struct series *s, struct rng *r, const struct anomaly *a)
{
    for (int i = 0; i < a->n_dims; i++) {
        size_t k = (size_t)a->dims[i];
        double sig = s->sigma[k];

        for (size_t t = a->start; t < a->start + a->len && t < s->T; t++) {
            double *v = &s->x[t * s->n + k];
            size_t u = t - a->start;

            switch (a->kind) {
            case K_SPIKE:
            case K_LEVEL:
                *v += a->sign * a->mag * sig;
                break;
            case K_VAR:
                *v += (a->mag - 1.0) * sig * rng_norm(r);
                break;
            case K_DRIFT:
                *v += a->sign * a->mag * sig * (double)(u + 1);
                break;
            default:
                break;
            }
        }
    }
}

static int gen_file(const char *dir, const char *name, struct rng *r, size_t T, size_t n,
                    int anomalous, int iso, FILE *manifest)
{
    static const size_t gfirst[] = { 0, 8, 16, 22, 28, 33, 38 };
    struct series s = { 0 };
    char path[4096];
    FILE *lf;
    size_t t = WARMUP + (size_t)rng_range(r, 0, 300);
    int kind = (int)(rng_next(r) % K_COUNT), err;

    err = make_base(&s, r, T, n);
    if (err)
        goto out;
    snprintf(path, sizeof(path), "%s/%s.labels", dir, name);
    lf = fopen(path, "w");
    if (!lf) {
        err = -errno;
        goto out;
    }
    fprintf(lf, "# start end kind dims (0-based data rows, inclusive)\n");
    while (anomalous) {
        struct anomaly a = { .start = t, .kind = (enum kind)kind };

        a.sign = rng_unif(r) < 0.5 ? -1.0 : 1.0;
        switch (a.kind) {
        case K_SPIKE:
            a.len = 1 + rng_next(r) % 3;
            a.mag = rng_range(r, 7, 12);
            break;
        case K_LEVEL:
            a.len = 60 + rng_next(r) % 181;
            a.mag = rng_range(r, 6, 9);
            break;
        case K_VAR:
            a.len = 60 + rng_next(r) % 181;
            a.mag = rng_range(r, 5, 7);
            break;
        default:
            a.len = 100 + rng_next(r) % 151;
            a.mag = rng_range(r, 0.15, 0.3);
            break;
        }
        if (a.start + a.len + 100 >= T)
            break;
        if (n == NDIM_MULTI) {
            size_t g = rng_next(r) % 6, gs = gfirst[g + 1] - gfirst[g];

            a.n_dims = 1 + (int)(rng_next(r) % 3);
            for (int i = 0; i < a.n_dims; i++) {
                int d;
                int dup;

                do {
                    d = (int)(gfirst[g] + rng_next(r) % gs);
                    dup = 0;
                    for (int j = 0; j < i; j++)
                        dup |= a.dims[j] == d;
                } while (dup);
                a.dims[i] = d;
            }
        } else {
            a.n_dims = 1;
            a.dims[0] = 0;
        }
        inject(&s, r, &a);
        fprintf(lf, "%zu %zu %s", a.start, a.start + a.len - 1, kind_name[a.kind]);
        for (int i = 0; i < a.n_dims; i++)
            fprintf(lf, "%s%d", i ? "," : " ", a.dims[i]);
        fputc('\n', lf);
        t = a.start + a.len + 500 + rng_next(r) % 301;
        kind = (kind + 1) % K_COUNT;
    }
    if (fclose(lf)) {
        err = -errno;
        goto out;
    }
    snprintf(path, sizeof(path), "%s/%s.csv", dir, name);
    err = write_csv(path, &s, iso);
    if (!err && manifest)
        fprintf(manifest, "%s.csv %s.labels %s\n", name, name, anomalous ? "anomalous" : "clean");
out:
    free(s.x);
    free(s.sigma);
    return err;
}

static void usage(void)
{
    fputs("usage: osd-gen-suite [--seed N] [--scale F] OUTDIR\n"
          "       osd-gen-suite --one FILE [--dims N] [--points N] [--seed N] [--clean]\n"
          "Writes the labelled suite (OUTDIR/suite.lst lists 'csv labels anomalous|clean'),\n"
          "or one file (multivariate when --dims is 38, labels beside it).\n", stderr);
}

int main(int argc, char **argv)
{
    uint64_t seed = 42;
    double scale = 1.0;
    const char *dir = NULL, *one = NULL;
    size_t dims = NDIM_MULTI, points = 20000;
    int clean = 0, err = 0;
    struct rng r;
    FILE *man;
    char path[4096];

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            scale = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--one") && i + 1 < argc)
            one = argv[++i];
        else if (!strcmp(argv[i], "--dims") && i + 1 < argc)
            dims = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--points") && i + 1 < argc)
            points = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--clean"))
            clean = 1;
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else {
            usage();
            return 2;
        }
    }
    r.s = seed;
    if (one) {
        char d[4096], *slash, name[4096];

        snprintf(d, sizeof(d), "%s", one);
        slash = strrchr(d, '/');
        if (slash) {
            *slash = 0;
            snprintf(name, sizeof(name), "%s", slash + 1);
        } else {
            snprintf(name, sizeof(name), "%s", d);
            strcpy(d, ".");
        }
        if (strlen(name) > 4 && !strcmp(name + strlen(name) - 4, ".csv"))
            name[strlen(name) - 4] = 0;
        if (dims < 1 || points < 10) {
            usage();
            return 2;
        }
        err = gen_file(d, name, &r, points, dims, !clean, 0, NULL);
        if (err)
            fprintf(stderr, "osd-gen-suite: %s: %s\n", one, strerror(-err));
        return err ? 1 : 0;
    }
    if (!dir || !(scale > 0 && scale <= 10)) {
        usage();
        return 2;
    }
    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "osd-gen-suite: mkdir %s: %s\n", dir, strerror(errno));
        return 1;
    }
    snprintf(path, sizeof(path), "%s/suite.lst", dir);
    man = fopen(path, "w");
    if (!man) {
        fprintf(stderr, "osd-gen-suite: %s: %s\n", path, strerror(errno));
        return 1;
    }
    {
        size_t tu = (size_t)(8000 * scale), tm = (size_t)(6000 * scale);
        int nu = 8, nm = 4;

        if (tu < WARMUP + 1200)
            tu = WARMUP + 1200;
        if (tm < WARMUP + 1200)
            tm = WARMUP + 1200;
        if (scale < 1) {
            nu = 4;
            nm = 2;
        }
        for (int i = 0; i < nu && !err; i++) {
            snprintf(path, sizeof(path), "uni_%02d", i);
            err = gen_file(dir, path, &r, tu, 1, 1, i % 2, man);
        }
        for (int i = 0; i < nm && !err; i++) {
            snprintf(path, sizeof(path), "multi_%02d", i);
            err = gen_file(dir, path, &r, tm, NDIM_MULTI, 1, i % 2, man);
        }
        for (int i = 0; i < 2 && !err; i++) {
            snprintf(path, sizeof(path), "clean_uni_%02d", i);
            err = gen_file(dir, path, &r, tu, 1, 0, 0, man);
        }
        for (int i = 0; i < 2 && !err; i++) {
            snprintf(path, sizeof(path), "clean_multi_%02d", i);
            err = gen_file(dir, path, &r, tm, NDIM_MULTI, 0, 1, man);
        }
    }
    if (fclose(man) && !err)
        err = -errno;
    if (err) {
        fprintf(stderr, "osd-gen-suite: %s\n", strerror(-err));
        return 1;
    }
    return 0;
}
