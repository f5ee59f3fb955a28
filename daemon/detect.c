/* detect.c - see detect.h. One mutex guards the job and result queues and the stop
 * flag; detectors belong to the worker thread alone. */
#include "detect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct job {
    struct job *next;
    uint32_t target_id;
    int forget;
    struct det_params params;
    uint64_t seq0;
    double *x;
    int64_t *t_ms;
    size_t t;
};

struct done_node {
    struct done_node *next;
    struct detect_done d;
};

struct det_slot {
    uint32_t target_id;
    struct detector *det;
};

struct detect_worker {
    uv_thread_t thread;
    uv_async_t async;
    detect_cb cb;
    void *cb_arg;
    uv_mutex_t mu; /* guards: jobs, jobs_tail, njobs, done, done_tail, stop */
    uv_cond_t cv;
    struct job *jobs, *jobs_tail;
    size_t njobs;
    struct done_node *done, *done_tail;
    int stop;
    /* worker thread only */
    struct det_slot *slots;
    size_t nslots;
};

static void job_free(struct job *j)
{
    free(j->x);
    free(j->t_ms);
    free(j);
}

void detect_done_free(struct detect_done *d)
{
    free(d->t_ms);
    free(d->res);
}

static struct det_slot *slot_get(struct detect_worker *w, uint32_t id, const struct det_params *p, int create)
{
    struct det_slot *ns;

    for (size_t i = 0; i < w->nslots; i++)
        if (w->slots[i].target_id == id)
            return &w->slots[i];
    if (!create)
        return NULL;
    ns = realloc(w->slots, (w->nslots + 1) * sizeof(*ns));
    if (!ns)
        return NULL;
    w->slots = ns;
    ns = &w->slots[w->nslots];
    ns->target_id = id;
    if (det_create(p, &ns->det))
        return NULL;
    w->nslots++;
    return ns;
}

static void slot_drop(struct detect_worker *w, uint32_t id)
{
    for (size_t i = 0; i < w->nslots; i++) {
        if (w->slots[i].target_id != id)
            continue;
        det_free(w->slots[i].det);
        w->slots[i] = w->slots[--w->nslots];
        return;
    }
}

static void run_job(struct detect_worker *w, struct job *j)
{
    struct done_node *n = calloc(1, sizeof(*n));
    struct det_slot *s;

    if (!n) {
        job_free(j);
        return;
    }
    n->d.target_id = j->target_id;
    n->d.seq0 = j->seq0;
    n->d.t = j->t;
    n->d.t_ms = j->t_ms;
    j->t_ms = NULL;
    s = slot_get(w, j->target_id, &j->params, 1);
    n->d.res = s ? calloc(j->t ? j->t : 1, sizeof(*n->d.res)) : NULL;
    if (!s || !n->d.res)
        n->d.err = -ENOMEM;
    else
        n->d.err = det_feed_window(s->det, j->seq0, j->x, j->t, n->d.res);
    if (n->d.err == -ERANGE || n->d.err == -EINVAL) {
        /* The loop lost points (ring wrapped faster than we kept up): start afresh. */
        slot_drop(w, j->target_id);
    }
    job_free(j);
    uv_mutex_lock(&w->mu);
    if (w->done_tail)
        w->done_tail->next = n;
    else
        w->done = n;
    w->done_tail = n;
    uv_mutex_unlock(&w->mu);
    uv_async_send(&w->async);
}

static void worker_main(void *arg)
{
    struct detect_worker *w = arg;

    for (;;) {
        struct job *j;

        uv_mutex_lock(&w->mu);
        while (!w->jobs && !w->stop)
            uv_cond_wait(&w->cv, &w->mu);
        if (w->stop) {
            uv_mutex_unlock(&w->mu);
            break;
        }
        j = w->jobs;
        w->jobs = j->next;
        if (!w->jobs)
            w->jobs_tail = NULL;
        w->njobs--;
        uv_mutex_unlock(&w->mu);
        if (j->forget) {
            slot_drop(w, j->target_id);
            job_free(j);
            continue;
        }
        run_job(w, j);
    }
    while (w->nslots)
        slot_drop(w, w->slots[0].target_id);
    free(w->slots);
}

static void on_async(uv_async_t *h)
{
    struct detect_worker *w = h->data;
    struct done_node *list;

    uv_mutex_lock(&w->mu);
    list = w->done;
    w->done = w->done_tail = NULL;
    uv_mutex_unlock(&w->mu);
    while (list) {
        struct done_node *n = list;
        list = n->next;
        w->cb(w->cb_arg, &n->d);
        free(n);
    }
}

int detect_start(uv_loop_t *loop, detect_cb cb, void *arg, struct detect_worker **out)
{
    struct detect_worker *w = calloc(1, sizeof(*w));
    int err;

    if (!w)
        return -ENOMEM;
    w->cb = cb;
    w->cb_arg = arg;
    uv_mutex_init(&w->mu);
    uv_cond_init(&w->cv);
    uv_async_init(loop, &w->async, on_async);
    w->async.data = w;
    err = uv_thread_create(&w->thread, worker_main, w);
    if (err) {
        uv_close((uv_handle_t *)&w->async, NULL);
        return err;
    }
    *out = w;
    return 0;
}

static void on_async_closed(uv_handle_t *h)
{
    struct detect_worker *w = h->data;
    struct done_node *n;

    while ((n = w->done)) {
        w->done = n->next;
        detect_done_free(&n->d);
        free(n);
    }
    uv_mutex_destroy(&w->mu);
    uv_cond_destroy(&w->cv);
    free(w);
}

void detect_stop(struct detect_worker *w)
{
    struct job *j;

    if (!w)
        return;
    uv_mutex_lock(&w->mu);
    w->stop = 1;
    uv_cond_signal(&w->cv);
    uv_mutex_unlock(&w->mu);
    uv_thread_join(&w->thread);
    while ((j = w->jobs)) {
        w->jobs = j->next;
        job_free(j);
    }
    uv_close((uv_handle_t *)&w->async, on_async_closed);
}

static void enqueue(struct detect_worker *w, struct job *j)
{
    uv_mutex_lock(&w->mu);
    if (w->jobs_tail)
        w->jobs_tail->next = j;
    else
        w->jobs = j;
    w->jobs_tail = j;
    w->njobs++;
    uv_cond_signal(&w->cv);
    uv_mutex_unlock(&w->mu);
}

int detect_submit(struct detect_worker *w, uint32_t target_id, const struct det_params *params, uint64_t seq0,
                  double *x, int64_t *t_ms, size_t t)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j) {
        free(x);
        free(t_ms);
        return -ENOMEM;
    }
    j->target_id = target_id;
    j->params = *params;
    j->seq0 = seq0;
    j->x = x;
    j->t_ms = t_ms;
    j->t = t;
    enqueue(w, j);
    return 0;
}

void detect_forget(struct detect_worker *w, uint32_t target_id)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j)
        return;
    j->target_id = target_id;
    j->forget = 1;
    enqueue(w, j);
}

size_t detect_queue_len(struct detect_worker *w)
{
    size_t n;

    uv_mutex_lock(&w->mu);
    n = w->njobs;
    uv_mutex_unlock(&w->mu);
    return n;
}
