/* test_detect_cs.c - DCT basis, OMP/FISTA recovery of a sparse signal, and the cs detector. */
#include <errno.h>
#include <string.h>

#include "cs_solve.h"
#include "detector.h"
#include "test_detect_util.h"

static void test_dct_orthonormal(void)
{
    size_t L = 64;
    double *psi = malloc(L * L * sizeof(double)), worst = 0;

    cs_dct_basis(psi, L);
    for (size_t a = 0; a < L; a++) {
        for (size_t b = 0; b < L; b++) {
            double acc = 0;

            for (size_t t = 0; t < L; t++)
                acc += psi[t * L + a] * psi[t * L + b];
            worst = fmax(worst, fabs(acc - (a == b)));
        }
    }
    CHECK(worst < 1e-12, "DCT basis not orthonormal: worst |<a,b> - delta| = %g", worst);
    free(psi);
}

/* A 5-sparse low-frequency signal sampled at 48 of 128 points is recovered exactly. */
static void test_sparse_recovery(void)
{
    size_t L = 128, m = 48, g = 2, k = 0;
    static const size_t atoms[] = { 0, 3, 7, 12, 20 };
    double *psi = malloc(L * L * sizeof(double)), *s = calloc(L * g, sizeof(double));
    double *x = calloc(L * g, sizeof(double)), *Y = malloc(m * g * sizeof(double));
    double *X = malloc(L * g * sizeof(double)), err = 0, err_f = 0, norm = 0;
    size_t *idx = malloc(m * sizeof(size_t));
    unsigned long long seed = 21;
    struct cs_ws ws;

    cs_dct_basis(psi, L);
    for (size_t a = 0; a < 5; a++) {
        s[atoms[a] * g + 0] = 1.0 + a;
        s[atoms[a] * g + 1] = -0.5 * a + 0.3;
    }
    for (size_t t = 0; t < L; t++)
        for (size_t d = 0; d < g; d++)
            for (size_t j = 0; j < L; j++)
                x[t * g + d] += psi[t * L + j] * s[j * g + d];
    /* spread samples: one random point per segment */
    for (size_t i = 0; i < m; i++)
        idx[i] = i * L / m + (size_t)(t_unif(&seed) * (double)((i + 1) * L / m - i * L / m));
    for (size_t i = 0; i < m; i++)
        for (size_t d = 0; d < g; d++)
            Y[i * g + d] = x[idx[i] * g + d];
    CHECK(cs_ws_init(&ws, L, g, 10) == 0, "workspace");
    CHECK(cs_somp(&ws, psi, L, L / 2, idx, m, Y, g, 10, 1e-12, &k) == 0, "somp failed");
    cs_somp_reconstruct(&ws, psi, L, g, k, X);
    for (size_t i = 0; i < L * g; i++) {
        err = fmax(err, fabs(X[i] - x[i]));
        norm = fmax(norm, fabs(x[i]));
    }
    CHECK(k == 5, "OMP: expected the 5 true atoms, used %zu", k);
    CHECK(err < 1e-9 * norm, "OMP: expected exact recovery, max error %g (signal max %g)", err,
          norm);
    CHECK(cs_fista(&ws, psi, L, idx, m, Y, g, 1e-3, 3000, X) == 0, "fista failed");
    for (size_t i = 0; i < L * g; i++)
        err_f = fmax(err_f, fabs(X[i] - x[i]));
    CHECK(err_f < 0.05 * norm, "FISTA: expected max error < 5%% of %g, got %g", norm, err_f);
    CHECK(cs_somp(&ws, psi, L, L / 2, idx, m, Y, g, 11, 1e-12, &k) == -EINVAL,
          "kmax above the workspace must be -EINVAL");
    cs_ws_free(&ws);
    free(psi);
    free(s);
    free(x);
    free(Y);
    free(X);
    free(idx);
}

static size_t run(struct det_params *p, const double *x, size_t t, struct det_result *out)
{
    struct detector *d;
    size_t got = 0, chunk = 97; /* odd chunks: results must not depend on them */

    if (det_create(p, &d))
        return (size_t)-1;
    for (size_t i = 0; i < t; i += chunk) {
        if (det_push(d, x + i * p->n_dims, t - i < chunk ? t - i : chunk)) {
            det_free(d);
            return (size_t)-1;
        }
        got += det_pull(d, out + got, t - got);
    }
    if (det_flush(d)) {
        det_free(d);
        return (size_t)-1;
    }
    got += det_pull(d, out + got, t - got + 1);
    det_free(d);
    return got;
}

static void make_multi(double *x, size_t n, size_t dims, unsigned long long seed)
{
    for (size_t i = 0; i < n; i++) {
        double lat = 4 * sin(2 * M_PI * i / 1440.0);

        for (size_t d = 0; d < dims; d++)
            x[i * dims + d] = 20 + d + (1 + d % 3) * lat + t_norm(&seed);
    }
}

static void test_detector(void)
{
    struct det_params p;
    size_t dims = 38, n = 2200, spike = 2000, got, alarms = 0;
    double *x = malloc(n * dims * sizeof(double));
    struct det_result *a = calloc(n + 1, sizeof(*a)), *b = calloc(n + 1, sizeof(*b));

    det_params_default(&p, DET_CS, dims);
    p.calib = 500;
    /* tiny inputs: one result per row, none judged */
    make_multi(x, n, dims, 1);
    got = run(&p, x, 1, a);
    CHECK(got == 1 && isnan(a[0].score) && a[0].anomaly == 0, "cs single row: got %zu results",
          got);
    got = run(&p, x, 20, a);
    CHECK(got == 20 && a[19].anomaly == 0, "cs 20 rows: expected 20 results, got %zu", got);
    /* constant dims mixed with live ones: no NaN, no alarm on the constants */
    for (size_t i = 0; i < n; i++)
        x[i * dims + 5] = 7.0;
    x[spike * dims + 17] += 25;
    got = run(&p, x, n, a);
    CHECK(got == n, "cs: expected %zu results, got %zu", n, got);
    for (size_t i = p.window; i < got; i++) {
        CHECK(isfinite(a[i].score), "cs: score of row %zu is %g", i, a[i].score);
        if (!isfinite(a[i].score))
            break;
        alarms += a[i].anomaly && i != spike;
    }
    CHECK(a[spike].anomaly == 1, "cs: 25-sigma spike at %zu not flagged (score %g thr %g)", spike,
          a[spike].score, a[spike].threshold);
    CHECK(a[spike].n_top >= 1 && a[spike].top_dim[0] == 17,
          "cs: expected top dim 17 for the spike, got %u", a[spike].top_dim[0]);
    CHECK(alarms <= 3, "cs: expected <= 3 other alarms, got %zu", alarms);
    /* same seed, same output; other seed, other sampling */
    CHECK(run(&p, x, n, b) == n && memcmp(a, b, n * sizeof(*a)) == 0,
          "cs: two runs with seed %llu differ", (unsigned long long)p.seed);
    p.seed = 99;
    run(&p, x, n, b);
    {
        size_t diff = 0;

        for (size_t i = p.window; i < n; i++)
            diff += a[i].score != b[i].score;
        CHECK(diff > 0, "cs: seeds 1 and 99 gave identical scores: seed not used");
    }
    /* the FISTA solver runs through the same path */
    p.seed = 1;
    p.solver = DET_SOLVER_FISTA;
    got = run(&p, x, 400, b);
    CHECK(got == 400 && isfinite(b[399].score), "cs fista: %zu results, last score %g", got,
          b[399].score);
    free(x);
    free(a);
    free(b);
}

int main(void)
{
    test_dct_orthonormal();
    test_sparse_recovery();
    test_detector();
    return t_done("test_detect_cs");
}
