/* trace.c - see trace.h. */
#include "trace.h"

#include <jansson.h>
#include <time.h>

#include "collect_procmon.h"
#include "collect_syscall.h"
#include "daemon.h"
#include "osd_proto.h"
#include "rpc.h"
#include "targets.h"

void trace_on_event(void *arg, const struct sys_event *ev)
{
    struct daemon *d = arg;
    struct target *t = target_find_id(d, ev->target_id);
    json_t *params;
    double when;

    if (!t || !t->tracers)
        return; /* the last tracer left; events already in the buffer are moot */
    /* the kernel stamps CLOCK_MONOTONIC; shift it onto the epoch */
    when = now_epoch() - (double)(mono_ns() - (int64_t)ev->ts_ns) / 1e9;
    params = json_pack("{s:i, s:i, s:i, s:f, s:s, s:i, s:s}", "pid", (int)t->pid, "tgid", (int)ev->tgid, "tid",
                       (int)ev->tid, "time", when, "event", ev->type == OSD_SYS_ENTER ? "enter" : "exit", "nr",
                       (int)ev->nr, "name", ev->nr >= 0 ? syscall_name((uint32_t)ev->nr) : "?");
    if (!params)
        return;
    if (ev->type == OSD_SYS_ENTER)
        json_object_set_new(params, "args",
                            json_pack("[I, I, I, I, I, I]", (json_int_t)ev->args[0], (json_int_t)ev->args[1],
                                      (json_int_t)ev->args[2], (json_int_t)ev->args[3], (json_int_t)ev->args[4],
                                      (json_int_t)ev->args[5]));
    else
        json_object_set_new(params, "ret", json_integer((json_int_t)ev->ret));
    if (target_is_cgroup(t)) /* pid is 0: say which target */
        json_object_set_new(params, "cgroup", json_string(t->cgroup));
    rpc_server_notify_trace(d->rpc, OSD_N_TRACE, params, t->id);
    json_decref(params);
}

static void on_drop_timer(uv_timer_t *h)
{
    struct daemon *d = h->data;
    uint64_t dropped = sysmon_counter(d->sys, OSD_SYS_CNT_DROPS);

    if (dropped == d->trace_dropped_reported)
        return;
    d->trace_dropped_reported = dropped;
    for (struct target *t = d->targets; t; t = t->next) {
        json_t *params;
        if (!t->tracers)
            continue;
        params = json_pack("{s:i, s:I}", "pid", (int)t->pid, "dropped", (json_int_t)dropped);
        if (params && target_is_cgroup(t))
            json_object_set_new(params, "cgroup", json_string(t->cgroup));
        rpc_server_notify_trace(d->rpc, OSD_N_TRACE_DROPPED, params, t->id);
        json_decref(params);
    }
}

void trace_start_drop_reports(struct daemon *d)
{
    if (!d->sys)
        return;
    uv_timer_init(d->loop, &d->drop_timer);
    d->drop_timer.data = d;
    uv_timer_start(&d->drop_timer, on_drop_timer, 1000, 1000);
    d->drop_timer_on = 1;
}

void trace_stop_drop_reports(struct daemon *d)
{
    if (d->drop_timer_on)
        uv_close((uv_handle_t *)&d->drop_timer, NULL);
    d->drop_timer_on = 0;
}
