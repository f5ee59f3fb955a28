/* spot.c - SPOT/DSPOT (Siffer et al., KDD'17): GPD tail fit by Grimshaw, streaming thresholds. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "det_impl.h"

#define SPOT_PEAKS_CAP 1000 /* most recent excesses kept for refits: bounded memory */
#define GRIM_GRID 12 /* grid points per side when bracketing Grimshaw's roots */
#define SPOT_CALM 10 /* quiet points that end a hold after an alarm */

/*
 * Grimshaw: with x = gamma/sigma the GPD likelihood equations reduce to one equation
 * in x, w(x) = u(x) v(x) - 1 = 0, u = mean 1/(1+x y), v = 1 + mean log(1+x y).
 * Roots lie in (-1/ymax, 0) and (0, 2(mean-min)/min^2); each root gives
 * gamma = v(x) - 1, sigma = gamma / x, and the best likelihood wins (the exponential
 * case gamma = 0 is always a candidate).
 */
static double grim_w(const double *y, size_t n, double x)
{
    double su = 0, sv = 0;

    for (size_t i = 0; i < n; i++) {
        double s = 1.0 + x * y[i];

        su += 1.0 / s;
        sv += log(s);
    }
    return (su / n) * (1.0 + sv / n) - 1.0;
}

static double gpd_llh(const double *y, size_t n, double gamma, double sigma)
{
    double acc = 0;

    if (!(sigma > 0))
        return -INFINITY;
    if (fabs(gamma) < 1e-12) {
        for (size_t i = 0; i < n; i++)
            acc += y[i];
        return -(double)n * log(sigma) - acc / sigma;
    }
    for (size_t i = 0; i < n; i++) {
        double s = 1.0 + gamma * y[i] / sigma;

        if (s <= 0)
            return -INFINITY;
        acc += log(s);
    }
    return -(double)n * log(sigma) - (1.0 + 1.0 / gamma) * acc;
}

static void grim_try(const double *y, size_t n, double x, struct gpd_fit *best)
{
    double sv = 0, gamma, sigma, llh;

    if (x == 0)
        return;
    for (size_t i = 0; i < n; i++)
        sv += log(1.0 + x * y[i]);
    gamma = sv / n;
    sigma = gamma / x;
    llh = gpd_llh(y, n, gamma, sigma);
    if (isfinite(llh) && llh > best->llh) {
        best->gamma = gamma;
        best->sigma = sigma;
        best->llh = llh;
    }
}

/* Scan [a, b] on a grid for sign changes of w and refine each by bisection. */
static void grim_roots(const double *y, size_t n, double a, double b, struct gpd_fit *best)
{
    double xs[GRIM_GRID], ws[GRIM_GRID];

    if (!(b > a))
        return;
    for (int i = 0; i < GRIM_GRID; i++) {
        xs[i] = a + (b - a) * i / (GRIM_GRID - 1);
        ws[i] = grim_w(y, n, xs[i]);
    }
    for (int i = 0; i + 1 < GRIM_GRID; i++) {
        double lo = xs[i], hi = xs[i + 1], wlo = ws[i], whi = ws[i + 1];

        if (!isfinite(wlo) || !isfinite(whi) || (wlo > 0) == (whi > 0))
            continue;
        for (int it = 0; it < 40 && hi - lo > 1e-10 * (fabs(lo) + fabs(hi)); it++) {
            double mid = 0.5 * (lo + hi), wm = grim_w(y, n, mid);

            if ((wm > 0) == (wlo > 0)) {
                lo = mid;
                wlo = wm;
            } else {
                hi = mid;
            }
        }
        grim_try(y, n, 0.5 * (lo + hi), best);
    }
}

int gpd_fit_grimshaw(const double *y, size_t n, struct gpd_fit *out)
{
    double ymin = INFINITY, ymax = 0, mean = 0, a, b, eps;
    struct gpd_fit best;

    if (n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!(y[i] > 0) || !isfinite(y[i]))
            return -EINVAL;
        ymin = fmin(ymin, y[i]);
        ymax = fmax(ymax, y[i]);
        mean += y[i];
    }
    mean /= n;
    best.gamma = 0;
    best.sigma = mean;
    best.llh = gpd_llh(y, n, 0, mean);
    if (n >= 3 && ymax > ymin) {
        eps = 1e-8 / mean;
        a = -1.0 / ymax;
        /* the left interval is open at -1/ymax, where w diverges */
        grim_roots(y, n, a + fabs(a) * 1e-6, -eps, &best);
        b = 2.0 * (mean - ymin) / (ymin * ymin);
        grim_roots(y, n, eps, b, &best);
    }
    *out = best;
    return 0;
}

double gpd_quantile(const struct gpd_fit *f, double t, double q, double n, double nt)
{
    double r = q * n / nt;

    if (fabs(f->gamma) < 1e-12)
        return t - f->sigma * log(r);
    return t + f->sigma / f->gamma * (pow(r, -f->gamma) - 1.0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int spot_tail_init(struct spot_tail *s, double q, double level, size_t calib_n)
{
    memset(s, 0, sizeof(*s));
    s->q = q;
    s->level = level;
    s->calib_n = calib_n;
    s->calib = malloc(calib_n * sizeof(double));
    s->peaks_cap = SPOT_PEAKS_CAP;
    s->peaks = malloc(s->peaks_cap * sizeof(double));
    if (!s->calib || !s->peaks) {
        spot_tail_free(s);
        return -ENOMEM;
    }
    return 0;
}

void spot_tail_free(struct spot_tail *s)
{
    free(s->calib);
    free(s->peaks);
    s->calib = NULL;
    s->peaks = NULL;
}

static void spot_peak_add(struct spot_tail *s, double e)
{
    if (s->peaks_len < s->peaks_cap) {
        s->peaks[(s->peaks_head + s->peaks_len) % s->peaks_cap] = e;
        s->peaks_len++;
    } else {
        s->peaks[s->peaks_head] = e;
        s->peaks_head = (s->peaks_head + 1) % s->peaks_cap;
    }
    s->nt += 1;
}

static void spot_refit(struct spot_tail *s)
{
    /* the ring is used as a plain array: order does not matter to the fit */
    if (s->peaks_len == 0 || gpd_fit_grimshaw(s->peaks, s->peaks_len, &s->fit) < 0) {
        s->fit.gamma = 0;
        s->fit.sigma = 0;
    } else if (s->fit.gamma < 0) {
        /*
         * A bounded (gamma < 0) tail fitted on a few dozen peaks puts the extreme
         * quantile near the largest peak seen: at q ~ 1e-5 that floods alarms on
         * Gaussian-like data. Fall back to the exponential tail (the gamma = 0 MLE),
         * which errs on the side of fewer false alarms.
         */
        double m = 0;

        for (size_t i = 0; i < s->peaks_len; i++)
            m += s->peaks[i];
        s->fit.gamma = 0;
        s->fit.sigma = m / s->peaks_len;
    }
    s->since_fit = 0;
}

static void spot_update_z(struct spot_tail *s)
{
    if (s->peaks_len == 0 || !(s->fit.sigma > 0)) {
        /* no tail seen (constant data): alarm on anything above the max seen */
        s->z = s->t;
        return;
    }
    s->z = gpd_quantile(&s->fit, s->t, s->q, s->n, s->nt);
    if (!isfinite(s->z) || s->z < s->t)
        s->z = s->t;
}

static int spot_calibrate(struct spot_tail *s)
{
    size_t n = s->calib_len, k;
    double *v = s->calib;

    qsort(v, n, sizeof(double), cmp_double);
    k = (size_t)(s->level * (n - 1));
    s->t = v[k];
    /* ties at the top (e.g. constant data): raise t to the max so excesses stay > 0 */
    for (size_t i = 0; i < n; i++)
        if (v[i] > s->t)
            spot_peak_add(s, v[i] - s->t);
    s->n = (double)n;
    spot_refit(s);
    spot_update_z(s);
    free(s->calib);
    s->calib = NULL;
    s->ready = 1;
    return 0;
}

int spot_tail_step(struct spot_tail *s, double v)
{
    if (!s->ready) {
        s->calib[s->calib_len++] = v;
        if (s->calib_len == s->calib_n)
            spot_calibrate(s);
        return -EAGAIN;
    }
    if (v > s->z)
        return 1;
    s->n += 1;
    if (v > s->t) {
        spot_peak_add(s, v - s->t);
        /* refit when a tenth of the kept peaks is new: Grimshaw is O(peaks) */
        if (++s->since_fit * 10 >= s->peaks_len)
            spot_refit(s);
    }
    spot_update_z(s);
    return 0;
}

int spot_tail_judge(const struct spot_tail *s, double v)
{
    if (!s->ready)
        return -EAGAIN;
    return v > s->z;
}

/* ---- the spot detector: per dimension DSPOT, one or two tails ---- */

/*
 * A local model (DSPOT's "drift" part) over a ring of the last depth+gap values,
 * oldest first: the oldest `depth` are fitted (their mean, or with `trend` their
 * least-squares line) and the fit is extrapolated gap+1 steps. The gap keeps the
 * newest points out of the fit, so a ramp shows as a growing residual instead of
 * being absorbed; the line follows daily-like seasonality without a mean's lag.
 */
struct lmodel {
    double *v;
    double s0, s1; /* sum y and sum i*y over the fitted part, i = 0 for the oldest */
};

struct spot_dim {
    struct spot_tail up, down;
    /*
     * Two models share the ring positions: `held` learns normal values and, while
     * an alarm is held, its own predictions (it remembers the pre-anomaly normal);
     * `live` learns every raw value (it follows whatever the series does now).
     */
    struct lmodel held, live;
    size_t len, head, since_exact;
    double *pend; /* residuals waiting `gap` points before the tails learn them */
    size_t pend_len, pend_head;
    size_t hold; /* points since the hold began, 0 = not holding */
    size_t calm; /* consecutive points back under the peak threshold of `held` */
    size_t back; /* consecutive points that look like a return to the old normal */
};

struct spot_det {
    struct spot_dim *dims;
    size_t n, depth, gap, cap;
    int trend;
    double *contrib;
};

static double lm_predict(const struct spot_det *sp, const struct lmodel *m)
{
    double n = (double)sp->depth, mean = m->s0 / n, ibar, sxx, slope;

    if (!sp->trend || sp->depth < 3)
        return mean;
    ibar = (n - 1) / 2;
    sxx = n * (n * n - 1) / 12;
    slope = (m->s1 - ibar * m->s0) / sxx;
    return mean + slope * ((double)(sp->depth + sp->gap) - ibar);
}

static void lm_exact(const struct spot_det *sp, struct lmodel *m, size_t head)
{
    m->s0 = m->s1 = 0;
    for (size_t i = 0; i < sp->depth; i++) {
        double y = m->v[(head + i) % sp->cap];

        m->s0 += y;
        m->s1 += (double)i * y;
    }
}

/* Slide the fitted part by one: the oldest leaves, the first gap value enters. */
static void lm_slide(const struct spot_det *sp, struct lmodel *m, size_t head, double x)
{
    double out = m->v[head], in = m->v[(head + sp->depth) % sp->cap];

    m->s0 -= out;
    m->s1 -= m->s0; /* every remaining index moves down by one */
    m->s0 += in;
    m->s1 += (double)(sp->depth - 1) * in;
    m->v[head] = x;
}

/* Append x to `held` and r to `live`. */
static void dim_learn(const struct spot_det *sp, struct spot_dim *sd, double x, double r)
{
    size_t cap = sp->cap;

    if (sd->len < cap) {
        sd->held.v[(sd->head + sd->len) % cap] = x;
        sd->live.v[(sd->head + sd->len) % cap] = r;
        if (++sd->len == cap) {
            lm_exact(sp, &sd->held, sd->head);
            lm_exact(sp, &sd->live, sd->head);
        }
        return;
    }
    lm_slide(sp, &sd->held, sd->head, x);
    lm_slide(sp, &sd->live, sd->head, r);
    sd->head = (sd->head + 1) % cap;
    /* bound the rounding error of the running sums */
    if (++sd->since_exact >= sp->depth) {
        lm_exact(sp, &sd->held, sd->head);
        lm_exact(sp, &sd->live, sd->head);
        sd->since_exact = 0;
    }
}

/* Exceedance of v on one tail, scaled so the alarm threshold z maps to 1. */
static double tail_ratio(const struct spot_tail *s, double v)
{
    double span = s->z - s->t;

    if (!(span > 0))
        return v > s->z ? INFINITY : (v >= s->t ? 1.0 : 0.0);
    return (v - s->t) / span;
}

static double dim_ratio(const struct spot_dim *sd, int two_sided, double res)
{
    double c = tail_ratio(&sd->up, res);

    if (two_sided)
        c = fmax(c, tail_ratio(&sd->down, -res));
    return c;
}

/*
 * Tails learn a residual only `gap` points later, and only if no alarm came in
 * between: the run-up of a ramp just under the threshold is dropped instead of
 * fattening the tail (which would raise z and hide the next anomaly).
 */
static int dim_tails_learn(const struct spot_det *sp, struct spot_dim *sd, int two, double res)
{
    double v = res;
    int err;

    if (sp->gap) {
        if (sd->pend_len < sp->gap) {
            sd->pend[(sd->pend_head + sd->pend_len++) % sp->gap] = res;
            return 0;
        }
        v = sd->pend[sd->pend_head];
        sd->pend[sd->pend_head] = res;
        sd->pend_head = (sd->pend_head + 1) % sp->gap;
    }
    err = spot_tail_step(&sd->up, v);
    if (err >= 0 && two)
        err = spot_tail_step(&sd->down, -v);
    return err < 0 ? err : 0;
}

/* At an alarm onset: forget the unconfirmed residuals and rewrite the newest `gap`
 * values of `held` (not fitted yet) with the line, dropping a ramp's run-up. */
static void dim_onset(const struct spot_det *sp, struct spot_dim *sd)
{
    double n = (double)sp->depth, mean = sd->held.s0 / n, slope = 0, ibar = (n - 1) / 2;

    sd->pend_len = 0;
    sd->pend_head = 0;
    if (sp->trend && sp->depth >= 3)
        slope = (sd->held.s1 - ibar * sd->held.s0) / (n * (n * n - 1) / 12);
    for (size_t i = sp->depth; i < sp->cap; i++)
        sd->held.v[(sd->head + i) % sp->cap] = mean + slope * ((double)i - ibar);
}

/*
 * End of a hold: `held` carries its extrapolation through the episode, which leaves
 * a curved (seasonal) path the longer it runs. Now both ends are known: the calm
 * points take their real values and the episode is bridged by a straight line from
 * the values before it to the calm ones (or, if the episode fills the ring, the
 * extrapolation is shifted onto the calm points).
 */
static void dim_release(const struct spot_det *sp, struct spot_dim *sd)
{
    size_t cap = sp->cap, calm = SPOT_CALM < cap ? SPOT_CALM : cap;
    size_t span = sd->hold + 1; /* hold points incl. the calm ones, +1 just learnt */
    double right = 0, delta = 0;

    for (size_t i = cap - calm; i < cap; i++) {
        size_t pos = (sd->head + i) % cap;

        right += sd->live.v[pos];
        delta += sd->live.v[pos] - sd->held.v[pos];
        sd->held.v[pos] = sd->live.v[pos];
    }
    right /= (double)calm;
    delta /= (double)calm;
    if (span + 4 < cap) {
        size_t first = cap - span; /* ring index of the first held point */
        double left = 0, mid_r = (double)(cap - calm) + (calm - 1) / 2.0;
        double mid_l = (double)first - 2.5;

        for (size_t i = first - 4; i < first; i++)
            left += sd->held.v[(sd->head + i) % cap];
        left /= 4;
        for (size_t i = first; i < cap - calm; i++)
            sd->held.v[(sd->head + i) % cap] =
                left + (right - left) * ((double)i - mid_l) / (mid_r - mid_l);
    } else {
        for (size_t i = 0; i < cap - calm; i++)
            sd->held.v[(sd->head + i) % cap] += delta;
    }
    lm_exact(sp, &sd->held, sd->head);
    sd->since_exact = 0;
}

static int spot_push(struct detector *d, const double *row)
{
    struct spot_det *sp = d->impl;
    int two = d->p.two_sided;
    struct det_result r = { .score = -INFINITY, .threshold = 1.0 };
    int calibrating = 0;

    for (size_t k = 0; k < sp->n; k++) {
        struct spot_dim *sd = &sp->dims[k];
        double x = row[k], pred = 0, res, c;
        int ru, rd = 0;

        if (sp->depth && sd->len < sp->cap) {
            /* the local model is not full yet: learn, cannot judge */
            dim_learn(sp, sd, x, x);
            calibrating = 1;
            sp->contrib[k] = 0;
            continue;
        }
        if (sp->depth)
            pred = lm_predict(sp, &sd->held);
        res = x - pred;
        if (!sd->hold) {
            int ready = sd->up.ready && (!two || sd->down.ready);

            if (!ready) {
                /* calibration batch: learnt at once, nothing judged */
                ru = spot_tail_step(&sd->up, res);
                if (ru >= 0 || ru == -EAGAIN)
                    rd = two ? spot_tail_step(&sd->down, -res) : -EAGAIN;
                if ((ru < 0 && ru != -EAGAIN) || (rd < 0 && rd != -EAGAIN))
                    return ru < 0 && ru != -EAGAIN ? ru : rd;
                calibrating = 1;
                sp->contrib[k] = 0;
                if (sp->depth)
                    dim_learn(sp, sd, x, x);
                continue;
            }
            ru = spot_tail_judge(&sd->up, res);
            rd = two ? spot_tail_judge(&sd->down, -res) : 0;
            c = dim_ratio(sd, two, res);
            if (ru == 1 || rd == 1) {
                /* alarm: hold `held` at its pre-anomaly normal from here on */
                if (!(c > 1.0))
                    c = nextafter(1.0, 2.0);
                dim_onset(sp, sd);
                if (sp->depth) {
                    sd->hold = 1;
                    sd->calm = 0;
                    sd->back = 0;
                    pred = lm_predict(sp, &sd->held);
                    dim_learn(sp, sd, pred, x);
                }
            } else {
                int err = dim_tails_learn(sp, sd, two, res);

                if (err)
                    return err;
                if (sp->depth)
                    dim_learn(sp, sd, x, x);
            }
        } else {
            /*
             * Holding: judge against both models and learn nothing into the tails.
             * Alarm only if x fits neither: the series broke away from the normal it
             * had AND from what it did just now. A long extrapolation of `held` that
             * drifted off a seasonal curve alone cannot alarm forever, and a return
             * to the old normal never alarms (nor does any move toward it).
             */
            double live_pred = lm_predict(sp, &sd->live), res_live = x - live_pred;

            c = fmin(dim_ratio(sd, two, res), dim_ratio(sd, two, res_live));
            /* moving back toward the remembered normal ends an episode, never alarms */
            if (res_live * (live_pred - pred) < 0)
                c = fmin(c, 1.0);
            if (res <= sd->up.t && (!two || -res <= sd->down.t))
                sd->calm++;
            else
                sd->calm = 0;
            /* a return: x sits clearly on the old normal's side of what the series
             * just did, while the extrapolated old normal may have drifted off */
            if (res_live * (live_pred - pred) < 0 &&
                fabs(res_live) > 0.5 * fabs(live_pred - pred))
                sd->back++;
            else
                sd->back = 0;
            sd->hold++;
            if (sd->calm >= SPOT_CALM || sd->back >= SPOT_CALM) {
                /* back to the old normal for a while: learn again */
                dim_learn(sp, sd, x, x);
                dim_release(sp, sd);
                sd->hold = 0;
            } else if (d->p.relearn && sd->hold > d->p.relearn) {
                /* a change that outlasted `relearn` points is the new normal */
                dim_learn(sp, sd, x, x);
                memcpy(sd->held.v, sd->live.v, sp->cap * sizeof(double));
                lm_exact(sp, &sd->held, sd->head);
                sd->hold = 0;
            } else {
                dim_learn(sp, sd, pred, x);
            }
            if (c > 1.0 && !(spot_tail_judge(&sd->up, res) == 1 ||
                             (two && spot_tail_judge(&sd->down, -res) == 1)))
                c = 1.0; /* ratio and alarm must agree */
        }
        if (c > 1.0)
            r.anomaly = 1;
        sp->contrib[k] = c;
        r.score = fmax(r.score, c);
    }
    if (calibrating) {
        r.score = NAN;
        r.threshold = NAN;
        r.anomaly = 0;
    } else if (r.anomaly) {
        det_top_dims(&r, sp->contrib, sp->n);
    }
    if (isinf(r.score))
        r.score = r.score > 0 ? 1e300 : 0.0;
    return det_emit(d, &r);
}

static int spot_flush(struct detector *d)
{
    (void)d;
    return 0;
}

static void spot_destroy(struct detector *d)
{
    struct spot_det *sp = d->impl;

    if (!sp)
        return;
    for (size_t k = 0; k < sp->n && sp->dims; k++) {
        spot_tail_free(&sp->dims[k].up);
        spot_tail_free(&sp->dims[k].down);
        free(sp->dims[k].held.v);
        free(sp->dims[k].pend);
        free(sp->dims[k].live.v);
    }
    free(sp->dims);
    free(sp->contrib);
    free(sp);
    d->impl = NULL;
}

static const struct det_ops spot_ops = {
    .push = spot_push,
    .flush = spot_flush,
    .destroy = spot_destroy,
};

int det_spot_create(struct detector *d)
{
    struct spot_det *sp = calloc(1, sizeof(*sp));
    /* q is the risk per point (row): split it over every tail watched (Bonferroni) */
    double q_tail = d->p.q / ((double)d->p.n_dims * (d->p.two_sided ? 2 : 1));
    int err = -ENOMEM;

    if (!sp)
        return -ENOMEM;
    d->impl = sp;
    d->ops = &spot_ops;
    sp->n = d->p.n_dims;
    sp->trend = d->p.trend;
    sp->depth = d->p.depth;
    sp->gap = d->p.depth ? d->p.gap : 0;
    sp->cap = sp->depth + sp->gap;
    sp->dims = calloc(sp->n, sizeof(*sp->dims));
    sp->contrib = calloc(sp->n, sizeof(double));
    if (!sp->dims || !sp->contrib)
        goto err;
    for (size_t k = 0; k < sp->n; k++) {
        struct spot_dim *sd = &sp->dims[k];

        err = spot_tail_init(&sd->up, q_tail, d->p.init_level, d->p.calib);
        if (!err && d->p.two_sided)
            err = spot_tail_init(&sd->down, q_tail, d->p.init_level, d->p.calib);
        if (err)
            goto err;
        if (sp->cap) {
            sd->held.v = calloc(sp->cap, sizeof(double));
            sd->live.v = calloc(sp->cap, sizeof(double));
            sd->pend = calloc(sp->gap ? sp->gap : 1, sizeof(double));
            if (!sd->held.v || !sd->live.v || !sd->pend) {
                err = -ENOMEM;
                goto err;
            }
        }
    }
    return 0;
err:
    spot_destroy(d);
    d->ops = NULL;
    return err;
}
