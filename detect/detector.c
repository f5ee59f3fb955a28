/* detector.c - the common detector front: parameters, result FIFO, window cache, rng. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "det_impl.h"

static const char *const kind_names[] = {
    [DET_CS] = "cs",
    [DET_SPOT] = "spot",
    [DET_MAD] = "mad",
};

const char *det_kind_name(enum det_kind kind)
{
    if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
        return "?";
    return kind_names[kind];
}

int det_kind_parse(const char *name, enum det_kind *kind)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *kind = (enum det_kind)i;
            return 0;
        }
    }
    return -EINVAL;
}

void det_params_default(struct det_params *p, enum det_kind kind, size_t n_dims)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->n_dims = n_dims;
    p->seed = 1;
    p->q = 1e-4;
    p->calib = 1000;
    p->init_level = 0.98;
    p->depth = 90;
    p->gap = 20;
    p->trend = 1;
    p->relearn = 600;
    p->floor_rel = 0.005;
    p->two_sided = 1;
    p->mad_window = 120;
    p->mad_k = 8.0;
    p->window = 128;
    p->stride = 32;
    p->sample_ratio = 0.4;
    p->sparsity = 12;
    p->cluster_thresh = 0.7;
    p->lesinn_t = 16;
    p->lesinn_phi = 16;
    p->solver = DET_SOLVER_OMP;
}

int det_params_check(const struct det_params *p)
{
    if (p->n_dims == 0 || p->n_dims > DET_MAX_DIMS)
        return -EINVAL;
    if ((unsigned)p->kind > DET_MAD)
        return -EINVAL;
    if (!(p->q > 0 && p->q < 1) || !(p->init_level > 0 && p->init_level < 1))
        return -EINVAL;
    if (p->calib < 10 || p->calib > 100000000)
        return -EINVAL;
    if (p->depth > 1000000 || p->gap > 1000000 || (p->depth == 0 && p->gap) || p->relearn > 100000000)
        return -EINVAL;
    if (!(p->floor_rel >= 0 && p->floor_rel < 1))
        return -EINVAL;
    if (p->kind == DET_MAD && (p->mad_window < 3 || p->mad_window > 1000000 || !(p->mad_k > 0)))
        return -EINVAL;
    if (p->kind == DET_CS) {
        if (p->window < 16 || p->window > 4096 || p->stride < 1 || p->stride > p->window)
            return -EINVAL;
        if (!(p->sample_ratio > 0.05 && p->sample_ratio <= 1.0))
            return -EINVAL;
        if (p->sparsity < 1 || p->sparsity > p->window / 2)
            return -EINVAL;
        if (!(p->cluster_thresh >= 0 && p->cluster_thresh <= 2))
            return -EINVAL;
        if (p->lesinn_t < 1 || p->lesinn_phi < 1 || p->lesinn_t * p->lesinn_phi > 1000000)
            return -EINVAL;
        if ((unsigned)p->solver > DET_SOLVER_FISTA)
            return -EINVAL;
    }
    return 0;
}

int det_create(const struct det_params *p, struct detector **out)
{
    struct detector *d;
    int err;

    *out = NULL;
    err = det_params_check(p);
    if (err)
        return err;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->p = *p;
    /* the cache must cover at least one window so re-fed windows never re-solve */
    d->cache_cap = p->window > p->mad_window ? p->window : p->mad_window;
    if (d->cache_cap < 4096)
        d->cache_cap = 4096;
    d->cache = calloc(d->cache_cap, sizeof(*d->cache));
    if (!d->cache) {
        err = -ENOMEM;
        goto err_free;
    }
    switch (p->kind) {
    case DET_CS:
        err = det_cs_create(d);
        break;
    case DET_SPOT:
        err = det_spot_create(d);
        break;
    case DET_MAD:
        err = det_mad_create(d);
        break;
    }
    if (err)
        goto err_free;
    *out = d;
    return 0;
err_free:
    free(d->cache);
    free(d);
    return err;
}

void det_free(struct detector *d)
{
    if (!d)
        return;
    if (d->ops)
        d->ops->destroy(d);
    free(d->q);
    free(d->cache);
    free(d);
}

int det_emit(struct detector *d, const struct det_result *r)
{
    if (d->q_len == d->q_cap) {
        size_t ncap = d->q_cap ? d->q_cap * 2 : 256;
        struct det_result *nq = malloc(ncap * sizeof(*nq));

        if (!nq)
            return -ENOMEM;
        for (size_t i = 0; i < d->q_len; i++)
            nq[i] = d->q[(d->q_head + i) % d->q_cap];
        free(d->q);
        d->q = nq;
        d->q_cap = ncap;
        d->q_head = 0;
    }
    d->q[(d->q_head + d->q_len) % d->q_cap] = *r;
    d->q_len++;
    d->cache[d->emitted % d->cache_cap].seq = d->emitted;
    d->cache[d->emitted % d->cache_cap].res = *r;
    d->emitted++;
    return 0;
}

void det_top_dims(struct det_result *r, const double *c, size_t n)
{
    r->n_top = 0;
    for (size_t i = 0; i < n; i++) {
        int k = r->n_top;

        if (k == DET_TOP_DIMS && c[i] <= r->top_val[k - 1])
            continue;
        if (k < DET_TOP_DIMS)
            r->n_top++;
        else
            k--;
        /* insertion into a descending list of at most DET_TOP_DIMS */
        while (k > 0 && r->top_val[k - 1] < c[i]) {
            r->top_val[k] = r->top_val[k - 1];
            r->top_dim[k] = r->top_dim[k - 1];
            k--;
        }
        r->top_val[k] = c[i];
        r->top_dim[k] = (uint32_t)i;
    }
}

int det_push(struct detector *d, const double *x, size_t t)
{
    size_t n = d->p.n_dims;

    for (size_t i = 0; i < t; i++) {
        const double *row = x + i * n;
        int err;

        for (size_t k = 0; k < n; k++)
            if (!isfinite(row[k]))
                return -EINVAL;
        err = d->ops->push(d, row);
        if (err)
            return err;
        d->seen++;
    }
    return 0;
}

int det_flush(struct detector *d)
{
    return d->ops->flush(d);
}

size_t det_pull(struct detector *d, struct det_result *out, size_t max)
{
    size_t n = d->q_len < max ? d->q_len : max;

    for (size_t i = 0; i < n; i++) {
        out[i] = d->q[d->q_head];
        d->q_head = (d->q_head + 1) % d->q_cap;
    }
    d->q_len -= n;
    return n;
}

uint64_t det_seen(const struct detector *d)
{
    return d->seen;
}

int det_feed_window(struct detector *d, uint64_t seq0, const double *x, size_t t,
                    struct det_result *out)
{
    size_t n = d->p.n_dims;
    size_t skip;
    int err;

    if (seq0 > d->seen)
        return -EINVAL;
    skip = d->seen - seq0 < t ? (size_t)(d->seen - seq0) : t;
    if (skip && d->emitted < d->seen) {
        /* results owed from a previous push: settle them before answering */
        err = det_flush(d);
        if (err)
            return err;
    }
    if (skip && d->emitted - seq0 > d->cache_cap)
        return -ERANGE;
    err = det_push(d, x + skip * n, t - skip);
    if (err)
        return err;
    err = det_flush(d);
    if (err)
        return err;
    /* the FIFO is not used by window callers; drop what it holds */
    d->q_len = 0;
    d->q_head = 0;
    for (size_t i = 0; i < t; i++) {
        const struct det_cache_entry *e = &d->cache[(seq0 + i) % d->cache_cap];

        if (e->seq != seq0 + i)
            return -ERANGE;
        out[i] = e->res;
    }
    return 0;
}

/* ---- rng ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void det_rng_seed(struct det_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t det_rng_next(struct det_rng *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

double det_rng_uniform(struct det_rng *r)
{
    return (double)(det_rng_next(r) >> 11) * 0x1.0p-53;
}

size_t det_rng_below(struct det_rng *r, size_t n)
{
    return (size_t)(det_rng_uniform(r) * (double)n);
}
