/* follow.c - see follow.h. */
#include "follow.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmds.h"
#include "exec.h"
#include "fetch.h"
#include "osd_proto.h"
#include "series.h"

/* Times carry milliseconds, so asking from half a millisecond after the last printed point
 * skips it; points are still filtered here in case the daemon rounds the other way. */
#define FOLLOW_AFTER_EPS 0.0005

volatile sig_atomic_t follow_interrupted;

static void follow_on_sigint(int sig)
{
    (void)sig;
    follow_interrupted = 1;
}

void follow_sigint_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = follow_on_sigint; /* no SA_RESTART: blocking calls return EINTR */
    sigaction(SIGINT, &sa, NULL);
}

static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps ms unless a signal comes first (SIGINT to stop, SIGCHLD to reap at once). */
static void follow_sleep(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

    nanosleep(&ts, NULL);
}

/* The target's interval from a series reply, bounded so a bad value cannot spin or stall. */
static int follow_interval(const json_t *reply)
{
    double ms = json_path_num(reply, "interval_ms");

    if (!(ms >= OSD_INTERVAL_MIN_MS))
        return isnan(ms) ? OSD_INTERVAL_DEFAULT_MS : OSD_INTERVAL_MIN_MS;
    return ms > OSD_INTERVAL_MAX_MS ? OSD_INTERVAL_MAX_MS : (int)ms;
}

/* Reaps the child of watch --exec when it has ended; returns 1 once it has. */
static int follow_reap(struct follow *f)
{
    if (f->child > 0 && !f->child_done && exec_reap(f->child, 1, &f->child_status) == 1)
        f->child_done = 1;
    return f->child_done;
}

int follow_run(struct cli *cli, struct follow *f)
{
    double after = f->since > 0 ? f->since - FOLLOW_AFTER_EPS : -INFINITY;
    double child_done_at = 0;
    int first = 1, ret = 0;

    cli->conn.cancel = &follow_interrupted;
    for (;;) {
        struct fetch_range r = { .since = isfinite(after) ? after + FOLLOW_AFTER_EPS : 0,
                                 .limit = first ? f->limit : 0, .function = f->function };
        json_t *target = NULL, *reply = NULL, *fresh = NULL;
        double complete, newest, upto;
        int exited, interval_ms;

        if (follow_reap(f) && !child_done_at)
            child_done_at = now_mono();
        /* The state is read before the points, so "exited" means no point can follow. */
        ret = fetch_target(cli, &f->tgt, &target);
        if (ret)
            break;
        exited = target && !strcmp(json_path_str(target, "state", ""), "exited");
        json_decref(target);
        ret = fetch_series(cli, &f->tgt, f->families, f->nfamilies, &r, &reply, &complete);
        if (ret)
            break;
        /* Rows after "complete" may still lack a family's values; they wait for the next
         * batch unless the target is gone. */
        upto = exited ? INFINITY : complete;
        fresh = series_slice(reply, after, upto);
        newest = series_last_time(reply);
        if (!fresh) {
            json_decref(reply);
            ret = cli_oom(cli);
            break;
        }
        if (first && f->fmt != OUT_JSON)
            output_series_header(cli->out, json_object_get(reply, "columns"), f->fmt);
        if (json_array_size(json_object_get(fresh, "points"))) {
            if (f->fmt == OUT_JSON)
                output_json(cli->out, fresh, 1);
            else
                output_series_rows(cli->out, json_object_get(reply, "columns"), json_object_get(fresh, "points"), f->fmt);
            after = series_last_time(fresh);
        }
        fflush(cli->out);
        interval_ms = follow_interval(reply);
        json_decref(fresh);
        json_decref(reply);
        first = 0;
        if (exited && !(newest > after))
            break;
        /* The root was our child and is gone: give the daemon a few intervals to notice. */
        if (child_done_at && now_mono() - child_done_at > 3 * interval_ms / 1000.0 + 1)
            break;
        if (follow_interrupted)
            break;
        follow_sleep(interval_ms);
        if (follow_interrupted)
            break;
    }
    cli->conn.cancel = NULL;
    if (ret == CLI_INTERRUPTED || follow_interrupted)
        return 0;
    return ret;
}
