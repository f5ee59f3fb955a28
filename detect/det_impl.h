/* det_impl.h - internals shared by the detector implementations (not installed). */
#ifndef OSD_DET_IMPL_H
#define OSD_DET_IMPL_H

#include <stdint.h>
#include "detector.h"

/* xoshiro256** seeded by splitmix64: per-instance, so runs are reproducible. */
struct det_rng {
    uint64_t s[4];
};

void det_rng_seed(struct det_rng *r, uint64_t seed);
uint64_t det_rng_next(struct det_rng *r);
/* Uniform in [0, 1). */
double det_rng_uniform(struct det_rng *r);
/* Uniform integer in [0, n). */
size_t det_rng_below(struct det_rng *r, size_t n);

struct det_ops {
    int (*push)(struct detector *d, const double *row); /* one point */
    int (*flush)(struct detector *d);
    void (*destroy)(struct detector *d);
};

struct det_cache_entry {
    uint64_t seq;
    struct det_result res;
};

struct detector {
    struct det_params p;
    const struct det_ops *ops;
    void *impl;
    uint64_t seen;     /* points pushed */
    uint64_t emitted;  /* results produced */
    /* ready results not yet pulled: a growable FIFO */
    struct det_result *q;
    size_t q_cap, q_head, q_len;
    /* det_feed_window(): last results by sequence number */
    struct det_cache_entry *cache;
    size_t cache_cap;
};

/* Queue one result (implementations call this in input order). */
int det_emit(struct detector *d, const struct det_result *r);
/* Fill the top-contributing dims of r from per-dimension contributions c[n]. */
void det_top_dims(struct det_result *r, const double *c, size_t n);

int det_spot_create(struct detector *d);
int det_mad_create(struct detector *d);
int det_cs_create(struct detector *d);

/* ---- SPOT building blocks (spot.c), exposed for cs and for tests ---- */

struct gpd_fit {
    double gamma; /* shape */
    double sigma; /* scale */
    double llh;   /* log-likelihood at the fit */
};

/* Fit a Generalised Pareto to excesses y[n] (> 0) by Grimshaw's method; 0 or -EINVAL. */
int gpd_fit_grimshaw(const double *y, size_t n, struct gpd_fit *out);
/* Quantile of risk q over a peak threshold t: z = t + sigma/gamma((q n/nt)^-gamma - 1). */
double gpd_quantile(const struct gpd_fit *f, double t, double q, double n, double nt);

/* One upper tail of SPOT over a stream of values where high means bad. */
struct spot_tail {
    double q, level;
    size_t calib_n;
    double *calib; /* calibration values, freed once calibrated */
    size_t calib_len;
    int ready;
    double t;      /* peak threshold */
    double z;      /* alarm threshold */
    struct gpd_fit fit;
    double *peaks; /* ring of the most recent excesses */
    size_t peaks_cap, peaks_len, peaks_head;
    size_t since_fit;
    double n;      /* normal observations counted */
    double nt;     /* peaks counted */
};

int spot_tail_init(struct spot_tail *s, double q, double level, size_t calib_n);
void spot_tail_free(struct spot_tail *s);
/*
 * Feed one value. Returns 1 if v is an alarm (not learnt), 0 if normal (learnt),
 * -EAGAIN while still calibrating (v is learnt), or negative errno.
 */
int spot_tail_step(struct spot_tail *s, double v);
/* Judge v without learning it: 1 alarm, 0 normal, -EAGAIN while calibrating. */
int spot_tail_judge(const struct spot_tail *s, double v);

#endif
