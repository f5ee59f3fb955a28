/* detect.h - the detection worker thread. The loop hands it copied windows of a
 * target's detection dims; the worker runs that target's detector (detect/ library)
 * and hands per-point results back through uv_async. The worker never sees a target. */
#ifndef OSD_DETECT_H
#define OSD_DETECT_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "detector.h"

struct detect_worker;

/* A finished job, delivered on the loop thread; the callback must call detect_done(). */
struct detect_done {
    uint32_t target_id;
    uint64_t seq0;             /* sequence number of the first point */
    size_t t;                  /* points */
    int64_t *t_ms;             /* their times */
    struct det_result *res;    /* one per point, NULL if err */
    int err;                   /* negative errno from the detector */
};

typedef void (*detect_cb)(void *arg, struct detect_done *done);

int detect_start(uv_loop_t *loop, detect_cb cb, void *arg, struct detect_worker **out);
/* Joins the thread; pending jobs are dropped. Call from the loop thread. */
void detect_stop(struct detect_worker *w);
/* Queues a window (x: t rows of params->n_dims values, row-major; copied by the caller
 * into heap memory whose ownership passes to the worker: x and t_ms are freed by it). */
int detect_submit(struct detect_worker *w, uint32_t target_id, const struct det_params *params, uint64_t seq0,
                  double *x, int64_t *t_ms, size_t t);
/* Frees the detector of a target that is gone (queued behind its last window). */
void detect_forget(struct detect_worker *w, uint32_t target_id);
void detect_done_free(struct detect_done *d);
size_t detect_queue_len(struct detect_worker *w);
#endif
