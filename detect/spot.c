/* spot.c - SPOT/DSPOT (Siffer et al., KDD'17): GPD tail fit by Grimshaw, streaming thresholds. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "det_impl.h"

#define SPOT_PEAKS_CAP 1000 /* most recent excesses kept for refits: bounded memory */
#define GRIM_GRID 24 /* grid points per side when bracketing Grimshaw's roots */
#define SPOT_CALM 10 /* points that confirm the end of an episode */
#define SPOT_LIVE 10 /* newest raw values averaged as the level of the current regime */
#define SPOT_SETTLE 30 /* hold points after which an episode is judged level-moving or not */
#define SPOT_TRUST 60 /* hold points over which the extrapolated `held` is trusted alone */
#define SPOT_RUN 10 /* consecutive same-side peaks that freeze `held` (a ramp starting) */
#define SPOT_SUSP_MAX 60 /* points such a freeze without an alarm lasts at most */
#define SPOT_SPREAD 40 /* newest raw values whose steps give a flat dim's recent noise */

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

/*
 * Scan the open interval between lo and hi (same sign) on a grid geometric in |x|,
 * since roots crowd near 0 and near the ends, and refine each sign change of w by
 * bisection.
 */
static void grim_roots(const double *y, size_t n, double lo, double hi, struct gpd_fit *best)
{
    double xs[GRIM_GRID], ws[GRIM_GRID], alo = fabs(lo), ahi = fabs(hi), sgn = lo < 0 ? -1 : 1;

    if (!(ahi > alo) || !(alo > 0))
        return;
    for (int i = 0; i < GRIM_GRID; i++) {
        xs[i] = sgn * alo * pow(ahi / alo, (double)i / (GRIM_GRID - 1));
        ws[i] = grim_w(y, n, xs[i]);
    }
    for (int i = 0; i + 1 < GRIM_GRID; i++) {
        double a = xs[i], b = xs[i + 1], wa = ws[i], wb = ws[i + 1];

        if (!isfinite(wa) || !isfinite(wb) || (wa > 0) == (wb > 0))
            continue;
        for (int it = 0; it < 40 && fabs(b - a) > 1e-10 * (fabs(a) + fabs(b)); it++) {
            double mid = 0.5 * (a + b), wm = grim_w(y, n, mid);

            if ((wm > 0) == (wa > 0)) {
                a = mid;
                wa = wm;
            } else {
                b = mid;
            }
        }
        grim_try(y, n, 0.5 * (a + b), best);
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
        /* x = gamma/sigma; the left side is open at -1/ymax, where w diverges */
        eps = 1e-6 / ymax;
        a = -1.0 / ymax;
        grim_roots(y, n, -eps, a * (1 - 1e-6), &best);
        b = 2.0 * (mean - ymin) / (ymin * ymin);
        grim_roots(y, n, eps, fmax(b, 2 * eps), &best);
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
    } else if (s->fit.gamma != 0) {
        /*
         * Keep the fitted shape only when the data demand it: a likelihood-ratio test
         * against the exponential tail (gamma = 0, chi2(1) at 95 %: 3.84), and never a
         * bounded tail (gamma < 0). On a few dozen peaks the shape is noisy, and at the
         * small per-tail risks used here a spurious gamma of +0.4 moves z from 6 to 80
         * sigma (misses) while a spurious -0.2 puts z at the largest peak seen (floods).
         */
        double m = 0, llh_exp;

        for (size_t i = 0; i < s->peaks_len; i++)
            m += s->peaks[i];
        m /= s->peaks_len;
        llh_exp = -(double)s->peaks_len * log(m) - (double)s->peaks_len;
        if (s->fit.gamma < 0 || 2 * (s->fit.llh - llh_exp) < 3.84) {
            s->fit.gamma = 0;
            s->fit.sigma = m;
            s->fit.llh = llh_exp;
        }
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
    size_t calm;  /* consecutive points back under the peak threshold of `held` */
    size_t quiet; /* consecutive points within the peak thresholds around `live` */
    size_t back;  /* consecutive points that stayed on the far side of a return step */
    double dep0;  /* departure from `held` at the onset of the hold (signed) */
    double ret_ref; /* level of the anomalous regime just before a return step */
    double res_sum; /* residuals of the first SPOT_SETTLE hold points, summed */
    size_t res_n;
    int shifted;  /* episode moved the level: -1 not known yet, 0 no, 1 yes */
    size_t run;   /* consecutive peaks on one side (run_side) outside a hold */
    int run_side;
    size_t susp;  /* points since a run of peaks froze `held` without an alarm, 0 = none */
    int done;     /* the hold ends with this point */
    double small_dx[3]; /* 3 smallest positive steps seen while warming up, ascending */
    double last_x;
    size_t seen;
    double quantum;     /* the value's resolution: 3rd smallest step, 0 = unknown */
    int thin;           /* calibration showed no spread above the noise floor */
    double *cal_tmp;           /* calibration screen: scratch, calib values */
    double cal_med, cal_scale; /* robust centre and spread of the batch so far */
    size_t cal_at;             /* batch size when they were computed */
};

struct spot_eval;

struct spot_det {
    struct spot_dim *dims;
    struct spot_eval *eval; /* per-dim verdicts of the current row */
    size_t n, depth, gap, cap;
    size_t run_min; /* SPOT_RUN, at most gap: the run-up must still be unfitted */
    double floor_rel;
    double a_t, a_z; /* t and z of Gaussian noise of sd 1 under this level and risk */
    double scratch[SPOT_SPREAD];
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

/* Mean of the newest SPOT_LIVE raw values: the level the series holds right now. */
static double live_level(const struct spot_det *sp, const struct spot_dim *sd)
{
    size_t m = SPOT_LIVE < sp->cap ? SPOT_LIVE : sp->cap;
    double acc = 0;

    for (size_t i = 0; i < m; i++)
        acc += sd->live.v[(sd->head + sp->cap - 1 - i) % sp->cap];
    return acc / (double)m;
}

/* Exceedance of v over peak threshold t, scaled so the alarm threshold z maps to 1. */
static double tail_ratio(double t, double z, double v)
{
    double span = z - t;

    if (!(span > 0))
        return v > z ? INFINITY : (v >= t ? 1.0 : 0.0);
    return (v - t) / span;
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
static void dim_release(const struct spot_det *sp, struct spot_dim *sd, size_t span)
{
    size_t cap = sp->cap, calm = SPOT_CALM < cap ? SPOT_CALM : cap;
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

/*
 * Robust screen of the calibration batch: |res - median| over 8 robust sigmas
 * (1.4826 MAD of the batch so far, refreshed every 64 values) is left out.
 */
static int calib_outlier(struct spot_dim *sd, double res)
{
    size_t n = sd->up.calib_len;

    if (n >= 64 && n % 64 == 0 && n != sd->cal_at) {
        double *v = sd->cal_tmp;

        memcpy(v, sd->up.calib, n * sizeof(double));
        qsort(v, n, sizeof(double), cmp_double);
        sd->cal_med = v[n / 2];
        for (size_t i = 0; i < n; i++)
            v[i] = fabs(v[i] - sd->cal_med);
        qsort(v, n, sizeof(double), cmp_double);
        sd->cal_scale = 1.4826 * v[n / 2];
        sd->cal_at = n;
    }
    return sd->cal_scale > 0 && fabs(res - sd->cal_med) > 8 * sd->cal_scale;
}

/* Per-dimension verdict of one point, computed before anything is learnt. */
struct spot_eval {
    double pred, res, c;
    double tu, zu, td, zd; /* thresholds in force: the tails', raised to the noise floor */
    int alarm;  /* beyond z (or, while holding, beyond z against both models) */
    int peak;   /* beyond the peak threshold t: moving, maybe not yet alarming */
    int state;  /* 0 judged, 1 warming up */
};

/* Is residual v within the peak thresholds (t) of the tails watched? */
static int within_t(const struct spot_eval *e, int two, double v)
{
    return v <= e->tu && (!two || -v <= e->td);
}

/* Exceedance ratio of residual v on the worse tail (1 = at z). */
static double dim_ratio(const struct spot_eval *e, int two, double v)
{
    double c = tail_ratio(e->tu, e->zu, v);

    if (two)
        c = fmax(c, tail_ratio(e->td, e->zd, -v));
    return c;
}

/* Robust sd of the steps between the newest SPOT_SPREAD raw values (MAD of steps). */
static double recent_spread(struct spot_det *sp, const struct spot_dim *sd)
{
    size_t w = SPOT_SPREAD < sp->cap ? SPOT_SPREAD : sp->cap, n = 0;
    double prev = sd->live.v[(sd->head + sp->cap - w) % sp->cap];

    for (size_t i = sp->cap - w + 1; i < sp->cap; i++) {
        double v = sd->live.v[(sd->head + i) % sp->cap];

        sp->scratch[n++] = fabs(v - prev);
        prev = v;
    }
    if (!n)
        return 0;
    qsort(sp->scratch, n, sizeof(double), cmp_double);
    return 1.4826 * sp->scratch[n / 2] / M_SQRT2;
}

/* The noise floor at this level: see dim_thresholds(). */
static double dim_floor(const struct spot_det *sp, const struct spot_dim *sd, double level)
{
    double s = fmax(sp->floor_rel * fabs(level), sd->quantum);

    return fmax(s, 1e-9 * fmax(1.0, fabs(level)));
}

/*
 * Thresholds in force for one point. A series flat during calibration (an idle
 * process's RSS, a counter at 0) has t = z = its only residual, and any later move
 * would be "infinitely unlikely". So t and z never go below those that Gaussian noise
 * of sd `s` would get, s = the larger of floor_rel x |level|, the value's resolution
 * seen while warming up, and, for a dim whose calibration was flat (thin), the
 * robust spread of its recent steps: a series that leaves a flat regime is judged
 * against the noise it shows now instead of alarming on every wiggle.
 */
static void dim_thresholds(struct spot_det *sp, struct spot_dim *sd, int two, double level,
                           struct spot_eval *e)
{
    double s = dim_floor(sp, sd, level);

    if (sd->thin && sp->cap)
        s = fmax(s, recent_spread(sp, sd));
    e->tu = fmax(sd->up.t, sp->a_t * s);
    e->zu = fmax(sd->up.z, sp->a_z * s);
    if (two) {
        e->td = fmax(sd->down.t, sp->a_t * s);
        e->zd = fmax(sd->down.z, sp->a_z * s);
    }
}

/* While warming up: keep the 3 smallest positive steps; the 3rd is the resolution
 * (a single spike's up and down steps do not make one). */
static void dim_track_steps(struct spot_dim *sd, double x)
{
    double dx = fabs(x - sd->last_x);

    if (sd->seen++ && dx > 0) {
        for (int i = 0; i < 3; i++) {
            if (!(sd->small_dx[i] > 0) || dx < sd->small_dx[i]) {
                double tmp = sd->small_dx[i];

                sd->small_dx[i] = dx;
                dx = tmp;
                if (!(dx > 0))
                    break;
            }
        }
    }
    sd->last_x = x;
    sd->quantum = sd->small_dx[2];
}

/*
 * One point while holding. Alarm only if x fits neither model: the series broke away
 * from the normal it had (`held`) AND from the level it holds now (`live`), so a long
 * extrapolation of `held` that drifted off a seasonal curve cannot alarm forever.
 *
 * The end of the episode: `held` extrapolates a line, which after ~100 points can be
 * several sigma off, so "back within t of `held`" (calm) is trusted only while that is
 * not the only evidence. After SPOT_SETTLE points the episode is classed by the mean
 * residual so far (against a still-accurate `held`):
 *  - level-moving (a shift or a ramp): it ends with a return step, a step against the
 *    onset's direction, at least half as large, from the level the regime held just
 *    before it, staying there SPOT_CALM points. Moving that way never alarms.
 *  - level-neutral (a spike, a variance burst, a dim held along with a correlated one):
 *    it ends when the noise around `live` is back under t for SPOT_CALM points.
 */
static void dim_hold_eval(const struct spot_det *sp, struct spot_dim *sd, int two, double x,
                          struct spot_eval *e)
{
    double live = live_level(sp, sd), res_live = x - live, off = live - e->pred;
    double half = 0.5 * fabs(sd->dep0);
    double tmin = two ? fmin(e->tu, e->td) : e->tu;

    e->c = fmin(e->c, dim_ratio(e, two, res_live));
    if (sd->shifted == 1 ? res_live * sd->dep0 < 0 : (fabs(off) > tmin && res_live * off < 0))
        e->c = fmin(e->c, 1.0);
    e->alarm = e->alarm && e->c > 1.0;
    if (sd->res_n < SPOT_SETTLE) {
        sd->res_sum += e->res;
        if (++sd->res_n == SPOT_SETTLE)
            sd->shifted = fabs(sd->res_sum / SPOT_SETTLE) > fmax(half, tmin);
    }
    sd->calm = e->peak ? 0 : sd->calm + 1;
    sd->quiet = within_t(e, two, res_live) ? sd->quiet + 1 : 0;
    if (sd->back && (x - sd->ret_ref) * sd->dep0 < 0 && fabs(x - sd->ret_ref) > half) {
        sd->back++;
    } else if (res_live * sd->dep0 < 0 && fabs(res_live) > half) {
        sd->ret_ref = live;
        sd->back = 1;
    } else {
        sd->back = 0;
    }
    switch (sd->shifted) {
    case -1:
        sd->done = sd->calm >= SPOT_CALM;
        break;
    case 0:
        sd->done = sd->calm >= SPOT_CALM || sd->quiet >= SPOT_CALM;
        break;
    default:
        sd->done = sd->back >= SPOT_CALM || (sd->calm >= SPOT_CALM && sd->hold < SPOT_TRUST);
        break;
    }
}

static int dim_eval(struct detector *d, struct spot_det *sp, struct spot_dim *sd, double x,
                    struct spot_eval *e)
{
    int two = d->p.two_sided;

    memset(e, 0, sizeof(*e));
    if (!sd->up.ready)
        dim_track_steps(sd, x);
    if (sp->depth && sd->len < sp->cap) {
        /* the local model is not full yet: learn, cannot judge */
        dim_learn(sp, sd, x, x);
        e->state = 1;
        return 0;
    }
    if (sp->depth)
        e->pred = lm_predict(sp, &sd->held);
    e->res = x - e->pred;
    if (!(sd->up.ready && (!two || sd->down.ready))) {
        /* calibration batch: learnt at once, nothing judged */
        int ru, rd = -EAGAIN;

        if (calib_outlier(sd, e->res)) {
            /* a gross outlier in the calibration batch would bias the local model for
             * `depth` points and fatten the fitted tail: leave it out of both */
            if (sp->depth)
                dim_learn(sp, sd, e->pred, x);
            e->state = 1;
            return 0;
        }
        ru = spot_tail_step(&sd->up, e->res);

        if (two && (ru >= 0 || ru == -EAGAIN))
            rd = spot_tail_step(&sd->down, -e->res);
        if (ru < 0 && ru != -EAGAIN)
            return ru;
        if (rd < 0 && rd != -EAGAIN)
            return rd;
        if (sp->depth)
            dim_learn(sp, sd, x, x);
        if (sd->up.ready && (!two || sd->down.ready)) {
            /* calibrated: did the batch show any spread above the noise floor? */
            double span = (sp->a_z - sp->a_t) * dim_floor(sp, sd, sp->depth ? e->pred : 0);

            sd->thin = !(sd->up.z - sd->up.t > span) || (two && !(sd->down.z - sd->down.t > span));
        }
        e->state = 1;
        return 0;
    }
    dim_thresholds(sp, sd, two,
                   sd->hold ? fmax(fabs(e->pred), fabs(live_level(sp, sd))) : e->pred, e);
    e->peak = !within_t(e, two, e->res);
    e->c = dim_ratio(e, two, e->res);
    e->alarm = e->res > e->zu || (two && -e->res > e->zd);
    if (sd->hold)
        dim_hold_eval(sp, sd, two, x, e);
    if (e->alarm && !(e->c > 1.0))
        e->c = nextafter(1.0, 2.0); /* ratio and alarm agree even on a degenerate tail */
    if (!e->alarm && e->c > 1.0)
        e->c = 1.0;
    return 0;
}

/* Learn point x of one dimension once the verdict of the whole row is known. */
static int dim_update(struct detector *d, struct spot_det *sp, struct spot_dim *sd, double x,
                      const struct spot_eval *e, int row_alarm)
{
    if (!sd->hold) {
        int side = e->res > 0 ? 1 : -1;

        /* an alarm, or a dim already moving past t in a row that alarms elsewhere
         * (one event across correlated dims), starts a hold */
        if (sp->depth && (e->alarm || (row_alarm && e->peak))) {
            if (!sd->susp)
                dim_onset(sp, sd);
            sd->hold = sd->susp + 1;
            sd->susp = 0;
            sd->run = 0;
            sd->calm = sd->quiet = sd->back = 0;
            sd->dep0 = e->res;
            sd->res_sum = e->res;
            sd->res_n = 1;
            sd->shifted = -1;
            sd->done = 0;
            dim_learn(sp, sd, lm_predict(sp, &sd->held), x);
            return 0;
        }
        if (e->alarm)
            return 0; /* plain SPOT (depth 0): alarms are simply not learnt */
        if (!sp->depth)
            return dim_tails_learn(sp, sd, d->p.two_sided, e->res);
        /*
         * A run of peaks on one side is how a ramp starts, long before it crosses z:
         * freeze `held` (and the tails) so the line does not absorb the ramp. Back
         * under t for SPOT_CALM points, or no alarm within SPOT_SUSP_MAX points: it
         * was a normal wander, learn it.
         */
        if (sd->susp) {
            sd->susp++;
            sd->calm = e->peak ? 0 : sd->calm + 1;
            if (sd->calm >= SPOT_CALM || sd->susp > SPOT_SUSP_MAX) {
                dim_learn(sp, sd, x, x);
                dim_release(sp, sd, sd->susp + 1);
                sd->susp = 0;
                sd->run = 0;
            } else {
                dim_learn(sp, sd, e->pred, x);
            }
            return 0;
        }
        if (e->peak && side == sd->run_side) {
            sd->run++;
        } else {
            sd->run = e->peak ? 1 : 0;
            sd->run_side = side;
        }
        if (sd->run >= sp->run_min) {
            dim_onset(sp, sd);
            sd->susp = 1;
            sd->calm = 0;
            dim_learn(sp, sd, e->pred, x);
            return 0;
        }
        dim_learn(sp, sd, x, x);
        return dim_tails_learn(sp, sd, d->p.two_sided, e->res);
    }
    sd->hold++;
    if (sd->done) {
        /* the episode is over: learn again */
        dim_learn(sp, sd, x, x);
        dim_release(sp, sd, sd->hold + 1); /* hold points incl. the calm ones, +1 just learnt */
        sd->hold = 0;
    } else if (d->p.relearn && sd->hold > d->p.relearn) {
        /* a change that outlasted `relearn` points is the new normal */
        dim_learn(sp, sd, x, x);
        memcpy(sd->held.v, sd->live.v, sp->cap * sizeof(double));
        lm_exact(sp, &sd->held, sd->head);
        sd->hold = 0;
    } else {
        dim_learn(sp, sd, e->pred, x);
    }
    return 0;
}

static int spot_push(struct detector *d, const double *row)
{
    struct spot_det *sp = d->impl;
    struct det_result r = { .score = -INFINITY, .threshold = 1.0 };
    int calibrating = 0, err;

    for (size_t k = 0; k < sp->n; k++) {
        err = dim_eval(d, sp, &sp->dims[k], row[k], &sp->eval[k]);
        if (err)
            return err;
        if (sp->eval[k].state) {
            calibrating = 1;
            sp->contrib[k] = 0;
            continue;
        }
        r.anomaly |= sp->eval[k].alarm;
        sp->contrib[k] = sp->eval[k].c;
        r.score = fmax(r.score, sp->eval[k].c);
    }
    for (size_t k = 0; k < sp->n; k++) {
        if (sp->eval[k].state)
            continue;
        err = dim_update(d, sp, &sp->dims[k], row[k], &sp->eval[k], r.anomaly);
        if (err)
            return err;
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
        free(sp->dims[k].cal_tmp);
        free(sp->dims[k].pend);
        free(sp->dims[k].live.v);
    }
    free(sp->dims);
    free(sp->eval);
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
    sp->run_min = sp->gap < SPOT_RUN ? (sp->gap > 3 ? sp->gap : 3) : SPOT_RUN;
    sp->floor_rel = sp->depth ? d->p.floor_rel : 0; /* plain SPOT: the residual is x itself */
    {
        /* Gaussian noise: t at the init_level quantile, mean excess over it, and the
         * exponential-tail z at the per-tail risk, the way calibration would get them */
        double lv = d->p.init_level, at = gsl_cdf_ugaussian_Pinv(lv);
        double mexc = exp(-0.5 * at * at) / sqrt(2 * M_PI) / (1 - lv) - at;

        sp->a_t = at;
        sp->a_z = fmax(at - mexc * log(q_tail / (1 - lv)), at + mexc);
    }
    sp->dims = calloc(sp->n, sizeof(*sp->dims));
    sp->contrib = calloc(sp->n, sizeof(double));
    sp->eval = calloc(sp->n, sizeof(*sp->eval));
    if (!sp->dims || !sp->contrib || !sp->eval)
        goto err;
    for (size_t k = 0; k < sp->n; k++) {
        struct spot_dim *sd = &sp->dims[k];

        err = spot_tail_init(&sd->up, q_tail, d->p.init_level, d->p.calib);
        if (!err && d->p.two_sided)
            err = spot_tail_init(&sd->down, q_tail, d->p.init_level, d->p.calib);
        if (err)
            goto err;
        sd->cal_tmp = malloc(d->p.calib * sizeof(double));
        if (!sd->cal_tmp) {
            err = -ENOMEM;
            goto err;
        }
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
