/* mad.c - rolling median/MAD baseline: robust z-score of each point against the points before it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "det_impl.h"

#define MAD_MIN_POINTS 8 /* below this the baseline is not judged */

struct mad_dim {
    double *ring;   /* raw values in arrival order */
    double *sorted; /* the same values, sorted, for the median */
};

struct mad_det {
    struct mad_dim *dims;
    size_t n, w, len, head;
    double *dev;     /* scratch: absolute deviations */
    double *contrib; /* per-dim robust z of the current point */
};

static size_t sorted_find(const double *a, size_t n, double v)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void sorted_insert(double *a, size_t n, double v)
{
    size_t i = sorted_find(a, n, v);

    memmove(a + i + 1, a + i, (n - i) * sizeof(double));
    a[i] = v;
}

static void sorted_remove(double *a, size_t n, double v)
{
    size_t i = sorted_find(a, n, v);

    memmove(a + i, a + i + 1, (n - i - 1) * sizeof(double));
}

static double median_sorted(const double *a, size_t n)
{
    return n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double robust_z(struct mad_det *m, struct mad_dim *md, double x)
{
    double med = median_sorted(md->sorted, m->len), mad, scale;

    for (size_t i = 0; i < m->len; i++)
        m->dev[i] = fabs(md->sorted[i] - med);
    qsort(m->dev, m->len, sizeof(double), cmp_double);
    mad = median_sorted(m->dev, m->len);
    /* constant or quantised series have MAD 0: floor the scale, never divide by 0 */
    scale = fmax(1.4826 * mad, 1e-9 * fmax(1.0, fabs(med)));
    return fabs(x - med) / scale;
}

static int mad_push(struct detector *d, const double *row)
{
    struct mad_det *m = d->impl;
    struct det_result r = { .score = NAN, .threshold = NAN };

    if (m->len >= MAD_MIN_POINTS) {
        r.score = 0;
        r.threshold = d->p.mad_k;
        for (size_t k = 0; k < m->n; k++) {
            m->contrib[k] = robust_z(m, &m->dims[k], row[k]);
            r.score = fmax(r.score, m->contrib[k]);
        }
        r.anomaly = r.score > r.threshold;
        if (r.anomaly)
            det_top_dims(&r, m->contrib, m->n);
    }
    for (size_t k = 0; k < m->n; k++) {
        struct mad_dim *md = &m->dims[k];

        if (m->len == m->w) {
            sorted_remove(md->sorted, m->len, md->ring[m->head]);
            sorted_insert(md->sorted, m->len - 1, row[k]);
            md->ring[m->head] = row[k];
        } else {
            sorted_insert(md->sorted, m->len, row[k]);
            md->ring[(m->head + m->len) % m->w] = row[k];
        }
    }
    if (m->len == m->w)
        m->head = (m->head + 1) % m->w;
    else
        m->len++;
    return det_emit(d, &r);
}

static int mad_flush(struct detector *d)
{
    (void)d;
    return 0;
}

static void mad_destroy(struct detector *d)
{
    struct mad_det *m = d->impl;

    if (!m)
        return;
    for (size_t k = 0; k < m->n && m->dims; k++) {
        free(m->dims[k].ring);
        free(m->dims[k].sorted);
    }
    free(m->dims);
    free(m->dev);
    free(m->contrib);
    free(m);
    d->impl = NULL;
}

static const struct det_ops mad_ops = {
    .push = mad_push,
    .flush = mad_flush,
    .destroy = mad_destroy,
};

int det_mad_create(struct detector *d)
{
    struct mad_det *m = calloc(1, sizeof(*m));

    if (!m)
        return -ENOMEM;
    d->impl = m;
    d->ops = &mad_ops;
    m->n = d->p.n_dims;
    m->w = d->p.mad_window;
    m->dims = calloc(m->n, sizeof(*m->dims));
    m->dev = calloc(m->w, sizeof(double));
    m->contrib = calloc(m->n, sizeof(double));
    if (!m->dims || !m->dev || !m->contrib)
        goto err;
    for (size_t k = 0; k < m->n; k++) {
        m->dims[k].ring = calloc(m->w, sizeof(double));
        m->dims[k].sorted = calloc(m->w, sizeof(double));
        if (!m->dims[k].ring || !m->dims[k].sorted)
            goto err;
    }
    return 0;
err:
    mad_destroy(d);
    d->ops = NULL;
    return -ENOMEM;
}
