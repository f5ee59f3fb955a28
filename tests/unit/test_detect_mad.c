/* test_detect_mad.c - rolling median/MAD baseline: tiny, constant, spike, top dims. */
#include <string.h>

#include "detector.h"
#include "test_detect_util.h"

static size_t run(struct det_params *p, const double *x, size_t t, struct det_result *out)
{
    struct detector *d;
    size_t got;

    if (det_create(p, &d))
        return (size_t)-1;
    if (det_push(d, x, t) || det_flush(d)) {
        det_free(d);
        return (size_t)-1;
    }
    got = det_pull(d, out, t + 1);
    det_free(d);
    return got;
}

int main(void)
{
    struct det_params p;
    size_t n = 1000, dims = 4, alarms = 0, got;
    double *x = calloc(n * dims, sizeof(double));
    struct det_result *r = calloc(n, sizeof(*r));
    unsigned long long seed = 9;

    det_params_default(&p, DET_MAD, dims);
    /* one row: one result, unscored */
    got = run(&p, x, 1, r);
    CHECK(got == 1 && isnan(r[0].score) && r[0].anomaly == 0,
          "single row: expected 1 unscored result, got %zu (score %g)", got, r[0].score);
    /* constant: MAD is 0, the floor keeps the score finite and 0 */
    got = run(&p, x, n, r);
    CHECK(got == n, "constant: expected %zu results, got %zu", n, got);
    for (size_t i = 8; i < got; i++) {
        CHECK(r[i].score == 0 && r[i].anomaly == 0, "constant row %zu: score %g anomaly %d", i,
              r[i].score, r[i].anomaly);
        if (r[i].score != 0)
            break;
    }
    /* noise with a spike in dim 2 */
    for (size_t i = 0; i < n * dims; i++)
        x[i] = 100 + 3 * t_norm(&seed);
    x[700 * dims + 2] += 60;
    got = run(&p, x, n, r);
    CHECK(got == n, "noise: result count %zu", got);
    for (size_t i = 0; i < n; i++)
        alarms += r[i].anomaly && i != 700;
    CHECK(r[700].anomaly == 1, "spike of 20 sigma at 700 not flagged (score %g, k %g)",
          r[700].score, r[700].threshold);
    CHECK(r[700].n_top >= 1 && r[700].top_dim[0] == 2,
          "spike: expected top contributing dim 2, got %u (n_top %d)", r[700].top_dim[0],
          r[700].n_top);
    CHECK(r[700].top_val[0] == r[700].score, "top contribution %g must equal the score %g",
          r[700].top_val[0], r[700].score);
    CHECK(alarms == 0, "noise: expected no other alarm at k=%g, got %zu", p.mad_k, alarms);
    /* bad parameters */
    p.mad_window = 2;
    CHECK(run(&p, x, 10, r) == (size_t)-1, "window 2 must be refused");
    free(x);
    free(r);
    return t_done("test_detect_mad");
}
