/* cs.c - compressed-sensing detector after JumpStarter (Ma et al., ATC'21), causal and streaming. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_solve.h"
#include "det_impl.h"

#define CS_MIN_POINTS 8     /* shorter streams get no score */
#define CS_OMP_TOL 1e-3     /* RMS residual on [0,1) data under which OMP stops */
#define CS_MAX_TRIES 3      /* sampling rounds before falling back to full sampling */
#define CS_FISTA_ITERS 150
#define CS_FISTA_LAMBDA 0.02

/*
 * Flow per reconstruction (every `stride` new points, on the last `window` points):
 * normalise each dim to [0,1) on the window (data up to now only: causal) -> group
 * dims by shape-based distance (re-done once per window of progress) -> LESINN outlier
 * score of each new point within its group, cached per point -> sampling weights ->
 * localized weighted random sampling -> sparse DCT reconstruction per group (retry
 * with more samples on failure) -> per-dim residual scaled by the window's robust
 * residual spread -> score = max over dims -> SPOT on the score stream.
 * Each point is scored once, by the first window that has it among its newest points.
 */
struct cs_det {
    const struct det_params *p;
    size_t n, W, S;
    double *ring;       /* W x n raw points; slot of point seq is seq % W */
    uint64_t count;     /* points pushed */
    uint64_t scored;    /* points scored */
    uint64_t last_cluster;
    int clustered;
    /* groups: dims listed group by group in gdims[gstart[g] .. gstart[g+1]) */
    size_t n_groups;
    size_t *gdims, *gstart;
    /* LESINN per ring slot and group; lesinn_seq tells which point the slot holds */
    double *lesinn;
    uint64_t *lesinn_seq;
    /* scratch */
    double *win;        /* L x n normalised window, oldest first */
    double *lo, *span;  /* per-dim normalisation */
    double *psi;        /* L x L DCT basis for psi_L */
    size_t psi_L;
    double *Y, *X;      /* m x g samples, L x g reconstruction */
    double *recon;      /* L x n reconstruction of the whole window */
    double *weights;    /* L sampling weights */
    double *weights2;   /* L scratch */
    size_t *group_of;   /* dim -> group */
    size_t *idx;        /* sample rows */
    double *tmp;        /* L + n scratch */
    double *dist;       /* n x n SBD */
    double *zrow;       /* n contributions of one point */
    double *scale;      /* n residual scale */
    struct cs_ws ws;
    struct spot_tail th;
    struct det_rng rng;
    uint64_t solves, retries;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Copy the last L points, oldest first, normalised per dim to [0,1). */
static void cs_window(struct cs_det *c, size_t L)
{
    size_t n = c->n;
    uint64_t first = c->count - L;

    for (size_t k = 0; k < n; k++) {
        c->lo[k] = INFINITY;
        c->span[k] = -INFINITY;
    }
    for (size_t j = 0; j < L; j++) {
        const double *row = c->ring + ((first + j) % c->W) * n;

        for (size_t k = 0; k < n; k++) {
            c->lo[k] = fmin(c->lo[k], row[k]);
            c->span[k] = fmax(c->span[k], row[k]);
        }
    }
    for (size_t k = 0; k < n; k++) {
        double range = c->span[k] - c->lo[k];

        /* constant (or numerically flat) dims become all zeros, never divide by 0 */
        c->span[k] = range > 1e-12 * fmax(1.0, fabs(c->lo[k])) ? range * (1.0 + 1e-9) : 0.0;
    }
    for (size_t j = 0; j < L; j++) {
        const double *row = c->ring + ((first + j) % c->W) * n;
        double *out = c->win + j * n;

        for (size_t k = 0; k < n; k++)
            out[k] = c->span[k] > 0 ? (row[k] - c->lo[k]) / c->span[k] : 0.0;
    }
}

/* Shape-based distance (1 - max normalised cross-correlation over small lags), then
 * complete-linkage agglomeration under cluster_thresh. */
static void cs_cluster(struct cs_det *c, size_t L, double thresh)
{
    size_t n = c->n, maxlag = L / 8 < 8 ? L / 8 : 8;
    double *mean = c->tmp, *nrm = c->tmp + n;
    size_t *label = c->idx; /* scratch: cluster id per dim */
    int *alive;

    for (size_t k = 0; k < n; k++) {
        double s = 0, q = 0;

        for (size_t j = 0; j < L; j++)
            s += c->win[j * n + k];
        mean[k] = s / L;
        for (size_t j = 0; j < L; j++) {
            double v = c->win[j * n + k] - mean[k];

            q += v * v;
        }
        nrm[k] = sqrt(q);
    }
    for (size_t a = 0; a < n; a++) {
        c->dist[a * n + a] = 0;
        for (size_t b = a + 1; b < n; b++) {
            double best = -1, dab;

            if (nrm[a] < 1e-9 || nrm[b] < 1e-9) {
                dab = (nrm[a] < 1e-9 && nrm[b] < 1e-9) ? 0.0 : 1.0;
            } else {
                for (long lag = -(long)maxlag; lag <= (long)maxlag; lag++) {
                    double acc = 0;

                    for (size_t j = 0; j < L; j++) {
                        long jb = (long)j + lag;

                        if (jb < 0 || jb >= (long)L)
                            continue;
                        acc += (c->win[j * n + a] - mean[a]) * (c->win[jb * n + b] - mean[b]);
                    }
                    best = fmax(best, acc / (nrm[a] * nrm[b]));
                }
                dab = 1.0 - best;
            }
            c->dist[a * n + b] = c->dist[b * n + a] = dab;
        }
    }
    alive = calloc(n, sizeof(int));
    for (size_t k = 0; k < n; k++) {
        label[k] = k;
        if (alive)
            alive[k] = 1;
    }
    /* dist becomes the cluster-to-cluster complete-linkage distance, indexed by the
     * representative (lowest) dim of each cluster */
    while (alive) {
        size_t ba = n, bb = n;
        double bd = thresh;

        for (size_t a = 0; a < n; a++) {
            if (!alive[a])
                continue;
            for (size_t b = a + 1; b < n; b++) {
                if (alive[b] && c->dist[a * n + b] < bd) {
                    bd = c->dist[a * n + b];
                    ba = a;
                    bb = b;
                }
            }
        }
        if (ba == n)
            break;
        for (size_t k = 0; k < n; k++) {
            double m = fmax(c->dist[ba * n + k], c->dist[bb * n + k]);

            c->dist[ba * n + k] = c->dist[k * n + ba] = m;
            if (label[k] == bb)
                label[k] = ba;
        }
        alive[bb] = 0;
    }
    free(alive); /* on allocation failure every dim simply stays alone */
    /* lay the groups out contiguously, ordered by representative */
    c->n_groups = 0;
    {
        size_t pos = 0;

        for (size_t rep = 0; rep < n; rep++) {
            size_t before = pos;

            for (size_t k = 0; k < n; k++)
                if (label[k] == rep)
                    c->gdims[pos++] = k;
            if (pos > before)
                c->gstart[c->n_groups++] = before;
        }
        c->gstart[c->n_groups] = pos;
    }
    for (size_t g = 0; g < c->n_groups; g++)
        for (size_t i = c->gstart[g]; i < c->gstart[g + 1]; i++)
            c->group_of[c->gdims[i]] = g;
}

/* LESINN (least similar nearest neighbours) of window point j for every group at
 * once: mean over t random subsets of phi other window points of the distance to
 * the nearest one, measured on each group's own dims. One shared draw of subsets
 * serves all groups. out[g] receives the score of group g. */
static void cs_lesinn(struct cs_det *c, size_t L, size_t j, double *out)
{
    size_t t = c->p->lesinn_t, phi = c->p->lesinn_phi, n = c->n, ng = c->n_groups;
    double *best = c->tmp, *dd = c->tmp + n; /* ng entries each (ng <= n) */
    const double *xj = c->win + j * n;

    for (size_t g = 0; g < ng; g++)
        out[g] = 0;
    for (size_t e = 0; e < t; e++) {
        for (size_t g = 0; g < ng; g++)
            best[g] = INFINITY;
        for (size_t s = 0; s < phi; s++) {
            size_t o = det_rng_below(&c->rng, L - 1);
            const double *xo;

            if (o >= j)
                o++; /* never the point itself */
            xo = c->win + o * n;
            for (size_t g = 0; g < ng; g++)
                dd[g] = 0;
            for (size_t k = 0; k < n; k++) {
                double v = xj[k] - xo[k];

                dd[c->group_of[k]] += v * v;
            }
            for (size_t g = 0; g < ng; g++)
                if (dd[g] < best[g])
                    best[g] = dd[g];
        }
        for (size_t g = 0; g < ng; g++)
            out[g] += sqrt(best[g]);
    }
    for (size_t g = 0; g < ng; g++)
        out[g] /= (double)t;
}

/* Sampling weights of the window points for group g: LESINN cached per point, turned
 * into confidence 1 / (1 + r^4), r = score / median score (outliers get ~0). */
static void cs_weights(struct cs_det *c, size_t L, size_t g)
{
    uint64_t first = c->count - L;
    double *vals = c->weights2, med;

    for (size_t j = 0; j < L; j++) {
        size_t slot = (first + j) % c->W;

        if (c->lesinn_seq[slot] != first + j) {
            /* a new point (or new groups): score all groups of this point once */
            cs_lesinn(c, L, j, &c->lesinn[slot * c->n]);
            c->lesinn_seq[slot] = first + j;
        }
        vals[j] = c->lesinn[slot * c->n + g];
    }
    memcpy(c->weights, vals, L * sizeof(double));
    qsort(vals, L, sizeof(double), cmp_double);
    med = vals[L / 2];
    for (size_t j = 0; j < L; j++) {
        double r = med > 1e-12 ? c->weights[j] / med : (c->weights[j] > 1e-12 ? 10.0 : 0.0);

        c->weights[j] = 1.0 / (1.0 + r * r * r * r);
    }
}

/*
 * Localized weighted random sampling: the window is cut into m equal segments and
 * each segment offers one candidate drawn by weight; a candidate is kept with
 * probability min(1, 2w), so a segment made only of outliers usually gives nothing
 * and the reconstruction there comes from the neighbours. accept = 0 keeps all.
 */
static size_t cs_sample(struct cs_det *c, size_t L, size_t m, int accept)
{
    size_t got = 0;

    for (size_t s = 0; s < m; s++) {
        size_t a = s * L / m, b = (s + 1) * L / m, pick;
        double tot = 0, u;

        if (b <= a)
            continue;
        for (size_t j = a; j < b; j++)
            tot += c->weights[j];
        u = det_rng_uniform(&c->rng) * tot;
        pick = b - 1;
        for (size_t j = a; j < b; j++) {
            u -= c->weights[j];
            if (u < 0) {
                pick = j;
                break;
            }
        }
        if (accept && det_rng_uniform(&c->rng) >= fmin(1.0, 2.0 * c->weights[pick]))
            continue;
        c->idx[got++] = pick;
    }
    return got;
}

static int cs_solve_group(struct cs_det *c, size_t L, size_t g)
{
    const size_t *dims = c->gdims + c->gstart[g];
    size_t gn = c->gstart[g + 1] - c->gstart[g];
    size_t need = 2 * c->p->sparsity + 2;
    double ratio = c->p->sample_ratio;
    int err = 0;

    if (need > L)
        need = L;
    cs_weights(c, L, g);
    for (int attempt = 0; attempt <= CS_MAX_TRIES; attempt++) {
        int full = attempt == CS_MAX_TRIES;
        size_t m = full ? L : (size_t)ceil(fmin(1.0, ratio) * L), k = 0;
        int ok = 1;

        if (full) {
            for (size_t j = 0; j < L; j++)
                c->idx[j] = j;
        } else {
            m = cs_sample(c, L, m, 1);
        }
        if (m < need) {
            ok = 0;
        } else {
            for (size_t i = 0; i < m; i++)
                for (size_t q = 0; q < gn; q++)
                    c->Y[i * gn + q] = c->win[c->idx[i] * c->n + dims[q]];
            if (c->p->solver == DET_SOLVER_FISTA) {
                err = cs_fista(&c->ws, c->psi, L, c->idx, m, c->Y, gn, CS_FISTA_LAMBDA,
                               CS_FISTA_ITERS, c->X);
            } else {
                size_t kmax = c->p->sparsity < m ? c->p->sparsity : m;

                /* normal behaviour lives in the low half of the spectrum; leaving the
                 * high half out halves the cost and keeps OMP from fitting jitter */
                err = cs_somp(&c->ws, c->psi, L, L / 2, c->idx, m, c->Y, gn, kmax, CS_OMP_TOL,
                              &k);
                if (!err)
                    cs_somp_reconstruct(&c->ws, c->psi, L, gn, k, c->X);
            }
            if (err == -EDOM) {
                ok = 0;
                err = 0;
            } else if (err) {
                return err;
            }
            /* a reconstruction far outside [0,1) means the gaps were too wide */
            for (size_t i = 0; ok && i < L * gn; i++)
                if (!isfinite(c->X[i]) || fabs(c->X[i] - 0.5) > 3.0)
                    ok = 0;
        }
        if (ok) {
            for (size_t j = 0; j < L; j++)
                for (size_t q = 0; q < gn; q++)
                    c->recon[j * c->n + dims[q]] = c->X[j * gn + q];
            return 0;
        }
        c->retries++;
        ratio *= 1.5;
    }
    /* even full sampling failed (singular): fall back to the window mean */
    for (size_t q = 0; q < gn; q++) {
        double mean = 0;

        for (size_t j = 0; j < L; j++)
            mean += c->win[j * c->n + dims[q]];
        mean /= L;
        for (size_t j = 0; j < L; j++)
            c->recon[j * c->n + dims[q]] = mean;
    }
    return 0;
}

static int cs_emit_unscored(struct detector *d, size_t count)
{
    struct det_result r = { .score = NAN, .threshold = NAN };

    for (size_t i = 0; i < count; i++) {
        int err = det_emit(d, &r);

        if (err)
            return err;
    }
    return 0;
}

/* Reconstruct the last min(W, count) points and score the unscored ones among them. */
static int cs_solve(struct detector *d)
{
    struct cs_det *c = d->impl;
    size_t n = c->n, L = c->count < c->W ? (size_t)c->count : c->W;
    size_t pending = (size_t)(c->count - c->scored);
    int err;

    if (pending == 0)
        return 0;
    if (L < CS_MIN_POINTS) {
        c->scored = c->count;
        return cs_emit_unscored(d, pending);
    }
    cs_window(c, L);
    if (!c->clustered || c->count - c->last_cluster >= c->W) {
        cs_cluster(c, L, c->p->cluster_thresh);
        c->clustered = 1;
        c->last_cluster = c->count;
        /* new groups: cached LESINN no longer matches */
        for (size_t s = 0; s < c->W; s++)
            c->lesinn_seq[s] = UINT64_MAX;
    }
    if (c->psi_L != L) {
        cs_dct_basis(c->psi, L);
        c->psi_L = L;
    }
    for (size_t g = 0; g < c->n_groups; g++) {
        err = cs_solve_group(c, L, g);
        if (err)
            return err;
    }
    c->solves++;
    /* robust spread of each dim's residual over the window */
    for (size_t k = 0; k < n; k++) {
        double *res = c->tmp;

        for (size_t j = 0; j < L; j++)
            res[j] = fabs(c->win[j * n + k] - c->recon[j * n + k]);
        qsort(res, L, sizeof(double), cmp_double);
        c->scale[k] = 1.4826 * res[L / 2] + 0.01;
    }
    for (size_t j = L - pending; j < L; j++) {
        struct det_result r = { .score = 0, .threshold = NAN };
        int alarm;

        for (size_t k = 0; k < n; k++) {
            c->zrow[k] = fabs(c->win[j * n + k] - c->recon[j * n + k]) / c->scale[k];
            r.score = fmax(r.score, c->zrow[k]);
        }
        alarm = spot_tail_step(&c->th, r.score);
        if (alarm < 0 && alarm != -EAGAIN)
            return alarm;
        if (c->th.ready && alarm != -EAGAIN)
            r.threshold = c->th.z;
        r.anomaly = alarm == 1;
        if (r.anomaly)
            det_top_dims(&r, c->zrow, n);
        err = det_emit(d, &r);
        if (err)
            return err;
    }
    c->scored = c->count;
    return 0;
}

static int cs_push(struct detector *d, const double *row)
{
    struct cs_det *c = d->impl;

    memcpy(c->ring + (c->count % c->W) * c->n, row, c->n * sizeof(double));
    c->count++;
    /* the first solve waits for a full window; then one solve per stride */
    if (c->count >= c->W && c->count - c->scored >= c->S)
        return cs_solve(d);
    return 0;
}

static int cs_flush(struct detector *d)
{
    return cs_solve(d);
}

static void cs_destroy(struct detector *d)
{
    struct cs_det *c = d->impl;

    if (!c)
        return;
    free(c->ring);
    free(c->gdims);
    free(c->gstart);
    free(c->lesinn);
    free(c->lesinn_seq);
    free(c->win);
    free(c->lo);
    free(c->span);
    free(c->psi);
    free(c->Y);
    free(c->X);
    free(c->recon);
    free(c->weights);
    free(c->weights2);
    free(c->group_of);
    free(c->idx);
    free(c->tmp);
    free(c->dist);
    free(c->zrow);
    free(c->scale);
    cs_ws_free(&c->ws);
    spot_tail_free(&c->th);
    free(c);
    d->impl = NULL;
}

static const struct det_ops cs_ops = {
    .push = cs_push,
    .flush = cs_flush,
    .destroy = cs_destroy,
};

int det_cs_create(struct detector *d)
{
    struct cs_det *c = calloc(1, sizeof(*c));
    size_t n = d->p.n_dims, W = d->p.window, big = W > n ? W : n;
    int err;

    if (!c)
        return -ENOMEM;
    d->impl = c;
    d->ops = &cs_ops;
    c->p = &d->p;
    c->n = n;
    c->W = W;
    c->S = d->p.stride;
    det_rng_seed(&c->rng, d->p.seed);
    c->ring = malloc(W * n * sizeof(double));
    c->gdims = malloc(n * sizeof(size_t));
    c->gstart = malloc((n + 1) * sizeof(size_t));
    c->lesinn = malloc(W * n * sizeof(double));
    c->lesinn_seq = malloc(W * sizeof(uint64_t));
    c->win = malloc(W * n * sizeof(double));
    c->lo = malloc(n * sizeof(double));
    c->span = malloc(n * sizeof(double));
    c->psi = malloc(W * W * sizeof(double));
    c->Y = malloc(W * n * sizeof(double));
    c->X = malloc(W * n * sizeof(double));
    c->recon = malloc(W * n * sizeof(double));
    c->weights = malloc(W * sizeof(double));
    c->weights2 = malloc(W * sizeof(double));
    c->group_of = calloc(n, sizeof(size_t));
    c->idx = malloc(big * sizeof(size_t));
    c->tmp = malloc(2 * (W + n) * sizeof(double));
    c->dist = malloc(n * n * sizeof(double));
    c->zrow = malloc(n * sizeof(double));
    c->scale = malloc(n * sizeof(double));
    if (!c->ring || !c->gdims || !c->gstart || !c->lesinn || !c->lesinn_seq || !c->win ||
        !c->lo || !c->span || !c->psi || !c->Y || !c->X || !c->recon || !c->weights || !c->weights2 || !c->group_of ||
        !c->idx || !c->tmp || !c->dist || !c->zrow || !c->scale) {
        err = -ENOMEM;
        goto err;
    }
    err = cs_ws_init(&c->ws, W, n, d->p.sparsity);
    if (err)
        goto err;
    err = spot_tail_init(&c->th, d->p.q, d->p.init_level, d->p.calib);
    if (err)
        goto err;
    return 0;
err:
    cs_destroy(d);
    d->ops = NULL;
    return err;
}
