/* detect_feed.c - see detect_feed.h. */
#include "detect_feed.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "families.h"
#include "log.h"
#include "targets.h"

void detect_opts_default(struct detect_opts *o, const struct daemon *d)
{
    *o = d->cfg.detect;
}

int detect_target_init(struct target *t)
{
    struct target_detect *td = &t->det;
    size_t cap;

    if (!td->o.on)
        return 0;
    td->ndims = 0;
    for (int f = 0; f < FAM_MAX; f++) {
        const struct family_desc *fd = family_desc(f);
        if (!t->opts.fam[f])
            continue;
        for (size_t c = 0; c < fd->ndetect && td->ndims < DETECT_MAX_DIMS; c++) {
            td->dim_fam[td->ndims] = f;
            td->dim_col[td->ndims++] = fd->detect_cols[c];
        }
    }
    det_params_default(&td->params, td->o.kind, (size_t)td->ndims);
    td->params.q = td->o.q;
    td->params.calib = td->o.calib;
    td->params.window = td->o.window;
    td->params.seed = t->id;
    if (det_params_check(&td->params))
        return -EINVAL;
    cap = td->o.stride * 4 > 64 ? td->o.stride * 4 : 64;
    return series_init(&td->rows, cap, (size_t)td->ndims);
}

void detect_target_free(struct target *t)
{
    series_free(&t->det.rows);
}

static const char *dim_name(const struct target *t, int dim)
{
    return family_desc(t->det.dim_fam[dim])->cols[t->det.dim_col[dim]];
}

void detect_target_tick(struct target *t, int64_t now_ms)
{
    struct target_detect *td = &t->det;
    double row[DETECT_MAX_DIMS];
    size_t n, first;
    double *x;
    int64_t *tm;

    if (!td->o.on || !t->d->worker)
        return;
    for (int i = 0; i < td->ndims; i++) {
        const struct series *s = &t->series[td->dim_fam[i]];
        int64_t last_ms;
        if (!s->len)
            return;
        series_row(s, s->len - 1, &last_ms);
        if (last_ms != now_ms) /* this family appended nothing this tick (no live member) */
            return;
        row[i] = t->last[td->dim_fam[i]][td->dim_col[i]];
    }
    if (series_append(&td->rows, now_ms, row))
        return;
    td->seq++;
    n = (size_t)(td->seq - td->sent);
    if (n < td->o.stride)
        return;
    /* rows [sent, seq) are the newest n rows of the ring (cap >= 4 strides) */
    x = malloc(n * (size_t)td->ndims * sizeof(*x));
    tm = malloc(n * sizeof(*tm));
    if (!x || !tm) {
        free(x);
        free(tm);
        return;
    }
    first = td->rows.len - n;
    for (size_t i = 0; i < n; i++) {
        const double *r = series_row(&td->rows, first + i, &tm[i]);
        memcpy(x + i * (size_t)td->ndims, r, (size_t)td->ndims * sizeof(*x));
    }
    if (detect_submit(t->d->worker, t->id, &td->params, td->sent, x, tm, n) == 0)
        td->sent = td->seq;
}

static void segment_close(struct target *t, int dim)
{
    struct target_detect *td = &t->det;

    if (!td->open[dim])
        return;
    td->open[dim] = false;
    alerts_end(t->d->alerts, &td->cur[dim]);
}

static void segments_close(struct target *t)
{
    for (int i = 0; i < t->det.ndims; i++)
        segment_close(t, i);
}

/* Dims responsible for an anomalous point: those whose contribution is at least half
 * the largest (all dims when the detector does not rank them). */
static int responsible(const struct target *t, const struct det_result *r, bool *dims)
{
    int n = 0;

    memset(dims, 0, DETECT_MAX_DIMS * sizeof(*dims));
    if (r->n_top <= 0) {
        for (int i = 0; i < t->det.ndims; i++)
            dims[i] = true;
        return t->det.ndims;
    }
    for (int i = 0; i < r->n_top && i < DET_TOP_DIMS; i++) {
        uint32_t dim = r->top_dim[i];
        if (dim < (uint32_t)t->det.ndims && (i == 0 || !(r->top_val[i] < 0.5 * r->top_val[0]))) {
            dims[dim] = true;
            n++;
        }
    }
    return n;
}

static void set_top(struct target *t, struct anomaly *a, const struct det_result *r)
{
    a->ntop = 0;
    for (int i = 0; i < r->n_top && i < ALERT_TOP; i++) {
        if (r->top_dim[i] >= (uint32_t)t->det.ndims)
            continue;
        snprintf(a->top_name[a->ntop], sizeof(a->top_name[0]), "%s", dim_name(t, (int)r->top_dim[i]));
        a->top_val[a->ntop++] = r->top_val[i];
    }
}

static void segment_point(struct target *t, int dim, const struct det_result *r, double time_s)
{
    struct target_detect *td = &t->det;
    struct anomaly *a = &td->cur[dim];

    td->normal_run[dim] = 0;
    if (!td->open[dim]) {
        memset(a, 0, sizeof(*a));
        snprintf(a->kind, sizeof(a->kind), "anomaly");
        a->pid = t->pid;
        memcpy(a->cgroup, t->cgroup, sizeof(a->cgroup));
        memcpy(a->unit, t->unit, sizeof(a->unit));
        a->uid = t->uid;
        memcpy(a->comm, t->comm, sizeof(a->comm));
        snprintf(a->metrics, sizeof(a->metrics), "%s", dim_name(t, dim));
        snprintf(a->detector, sizeof(a->detector), "%s", det_kind_name(td->o.kind));
        a->start = a->end = time_s;
        a->peak_score = r->score;
        a->threshold = r->threshold;
        set_top(t, a, r);
        td->open[dim] = true;
        alerts_begin(t->d->alerts, a);
        return;
    }
    a->end = time_s;
    if (r->score > a->peak_score) {
        a->peak_score = r->score;
        a->threshold = r->threshold;
        set_top(t, a, r);
    }
    alerts_update(t->d->alerts, a);
}

static void on_point(struct target *t, const struct det_result *r, double time_s)
{
    struct target_detect *td = &t->det;
    bool dims[DETECT_MAX_DIMS] = { false };

    if (isnan(r->score))
        return; /* warming up */
    td->scored++;
    td->last_score = r->score;
    td->last_threshold = r->threshold;
    if (r->anomaly) {
        td->anomalous_points++;
        responsible(t, r, dims);
    }
    for (int i = 0; i < td->ndims; i++) {
        if (dims[i])
            segment_point(t, i, r, time_s);
        else if (td->open[i] && ++td->normal_run[i] >= DETECT_END_STRIDES * td->o.stride)
            segment_close(t, i);
    }
}

void detect_on_done(void *arg, struct detect_done *done)
{
    struct daemon *d = arg;
    struct target *t = target_find_id(d, done->target_id);

    if (t && done->err) {
        t->det.errors++;
        log_warn("target %s: detector failed on %zu points: %s", t->label, done->t, strerror(-done->err));
        if (done->err == -ERANGE || done->err == -EINVAL)
            t->det.sent = t->det.seq = 0; /* the worker restarted the detector */
    } else if (t) {
        for (size_t i = 0; i < done->t; i++)
            on_point(t, &done->res[i], (double)done->t_ms[i] / 1000.0);
        if (t->det.stopped)
            segments_close(t);
    }
    detect_done_free(done);
}

void detect_target_stop(struct target *t)
{
    t->det.stopped = true;
    segments_close(t);
    if (t->det.o.on && t->d->worker)
        detect_forget(t->d->worker, t->id);
}
