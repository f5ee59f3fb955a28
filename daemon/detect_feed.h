/* detect_feed.h - glue on the loop thread between a target and the detection worker:
 * assembles one row of detection dims per tick, submits every `stride` rows, and turns
 * per-point results into anomaly segments per dim (begin at the first point where the
 * dim is among the anomaly's main contributors, end after DETECT_END_STRIDES strides of
 * points without it) that go to alerts. */
#ifndef OSD_DETECT_FEED_H
#define OSD_DETECT_FEED_H
#include <stdbool.h>
#include <stdint.h>

#include "alerts.h"
#include "detect.h"
#include "series.h"

struct daemon;
struct target;

#define DETECT_MAX_DIMS 8
/* SPOT flags the onset of a sustained burst and then follows it, flagging again now and
 * then: a segment ends only after this many strides of quiet, so one burst is one anomaly. */
#define DETECT_END_STRIDES 3

struct detect_opts {
    bool on;
    enum det_kind kind;
    size_t stride;   /* points per submission and normal points that end a segment */
    double q;        /* SPOT risk */
    size_t calib;    /* SPOT calibration points */
    size_t window;   /* cs reconstruction window */
};

struct target_detect {
    struct detect_opts o;
    struct det_params params;
    int ndims;
    int dim_fam[DETECT_MAX_DIMS], dim_col[DETECT_MAX_DIMS];
    struct series rows;   /* the detection dims, one row per tick */
    uint64_t seq, sent;   /* rows appended / rows submitted */
    bool stopped;         /* collection ended: results still in flight end any segment */
    /* one segment per dim, so a CPU burst and a later memory surge are two anomalies */
    bool open[DETECT_MAX_DIMS];
    struct anomaly cur[DETECT_MAX_DIMS];
    size_t normal_run[DETECT_MAX_DIMS];
    uint64_t scored, anomalous_points, errors;
    double last_score, last_threshold;
};

void detect_opts_default(struct detect_opts *o, const struct daemon *d);
/* Sets up dims and buffers for a target being watched; 0 or -ENOMEM. */
int detect_target_init(struct target *t);
void detect_target_free(struct target *t);
/* After a tick appended its rows at now_ms. */
void detect_target_tick(struct target *t, int64_t now_ms);
/* Target unwatched or its tree gone: end an open segment, forget the detector. */
void detect_target_stop(struct target *t);
/* The worker's result callback (registered by main). */
void detect_on_done(void *arg, struct detect_done *done);
#endif
