/* detector.h - streaming anomaly detectors (cs, spot, mad) behind one interface. */
#ifndef OSD_DETECTOR_H
#define OSD_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

/*
 * Data layout: every function that takes samples takes them ROW-MAJOR, one row per
 * time point, like the CSV: x[i * n_dims + d] is dimension d at point i.
 *
 * Lifecycle: det_params_default() -> adjust -> det_create() -> det_push()* and
 * det_pull()* -> det_flush() -> det_pull() -> det_free(). Results come out in input
 * order, exactly one per pushed point; cs hands them out a stride at a time, spot and
 * mad at once. An instance has no shared state: use one per thread. (The first cs
 * instance turns GSL's abort-on-error handler off for the process, once.)
 */

enum det_kind {
    DET_CS = 0,
    DET_SPOT,
    DET_MAD,
};

enum det_solver {
    DET_SOLVER_OMP = 0, /* greedy simultaneous OMP (default, see docs/DETECTION.md) */
    DET_SOLVER_FISTA,   /* L1 (LASSO) by FISTA, kept for comparison */
};

#define DET_TOP_DIMS 3
#define DET_MAX_DIMS 4096

struct det_params {
    enum det_kind kind;
    size_t n_dims;
    uint64_t seed;
    /* SPOT (the spot detector, and the threshold of cs) */
    double q;          /* risk: probability of a normal point exceeding the threshold */
    size_t calib;      /* calibration batch taken from the stream itself (points) */
    double init_level; /* quantile of the calibration batch used as the peak threshold t */
    size_t depth;      /* spot: DSPOT moving-average depth, 0 = plain SPOT */
    int two_sided;     /* spot: watch both tails (drops as well as surges) */
    int trend;         /* spot: local model is a least-squares line, not a mean */
    size_t gap;        /* spot: newest points kept out of the local model's fit */
    size_t relearn;    /* spot: a hold longer than this makes the change the new normal (0 = never) */
    double floor_rel;  /* spot: noise floor relative to the level (flat series), 0 = none */
    /* mad */
    size_t mad_window; /* trailing points in the median/MAD baseline */
    double mad_k;      /* alarm when |x - median| / (1.4826 MAD) > k */
    /* cs */
    size_t window;         /* points reconstructed together */
    size_t stride;         /* new points per reconstruction */
    double sample_ratio;   /* samples / window */
    size_t sparsity;       /* max DCT atoms per group */
    double cluster_thresh; /* SBD distance under which dims share a group */
    size_t lesinn_t;       /* LESINN ensemble size */
    size_t lesinn_phi;     /* LESINN subsample size */
    enum det_solver solver;
};

struct det_result {
    double score;     /* NaN until the detector can score (warm-up) */
    double threshold; /* NaN while calibrating; anomaly iff score > threshold */
    int anomaly;      /* 0 or 1 */
    int n_top;        /* valid entries in top_dim / top_val (anomalous points only) */
    uint32_t top_dim[DET_TOP_DIMS];
    double top_val[DET_TOP_DIMS]; /* per-dimension contribution, same unit as score */
};

struct detector;

/* Fill p with the documented defaults for kind over n_dims dimensions. */
void det_params_default(struct det_params *p, enum det_kind kind, size_t n_dims);
/* Name of a detector kind ("cs", "spot", "mad"). */
const char *det_kind_name(enum det_kind kind);
/* Parse a detector name; 0 or -EINVAL. */
int det_kind_parse(const char *name, enum det_kind *kind);
/* Check parameters; 0 or -EINVAL. */
int det_params_check(const struct det_params *p);
/* Allocate a detector; 0, -EINVAL or -ENOMEM. */
int det_create(const struct det_params *p, struct detector **out);
/* Free a detector (NULL is fine). */
void det_free(struct detector *d);
/* Append t points (row-major t x n_dims, all finite); 0 or negative errno. */
int det_push(struct detector *d, const double *x, size_t t);
/* Score every point pushed so far that has no result yet (end of stream). */
int det_flush(struct detector *d);
/* Move up to max ready results, oldest first, into out; returns how many. */
size_t det_pull(struct detector *d, struct det_result *out, size_t max);
/* Number of points pushed so far. */
uint64_t det_seen(const struct detector *d);
/*
 * Daemon-style feeding of overlapping copied windows: x holds points seq0..seq0+t-1.
 * Points already seen are answered from the result cache (never re-solved), new ones
 * are pushed and flushed; out[t] receives one result per point. -ERANGE if a point
 * is older than the cache, -EINVAL on a gap after the last point seen.
 */
int det_feed_window(struct detector *d, uint64_t seq0, const double *x, size_t t,
                    struct det_result *out);

#endif
