/* rpc_methods.c - the JSON-RPC methods of proto/osd-rpc.md: watch, unwatch, list,
 * status, series, threads. Each validates its params, then acts on the daemon. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "collect_heap.h"
#include "collect_net.h"
#include "collect_procmon.h"
#include "collect_syscall.h"
#include "detect.h"
#include "daemon.h"
#include "osd_proto.h"
#include "rpc.h"
#include "procfs.h"
#include "targets.h"

/* Counts and bytes print as integers, rates and percentages as reals. */
static json_t *number_json(double v)
{
    return v == floor(v) && fabs(v) < 9e15 ? json_integer((json_int_t)v) : json_real(v);
}

static json_t *target_json(const struct target *t)
{
    json_t *last = json_null(), *opts, *det;

    opts = json_pack("{s:b, s:b, s:i}", "children", t->opts.children, "threads", t->opts.threads, "interval_ms",
                     t->opts.interval_ms);
    if (t->have_last)
        last = json_pack("{s:f}", "time", t->last_time);
    for (int f = 0; f < FAM_MAX; f++) {
        const struct family_desc *fd = family_desc(f);

        json_object_set_new(opts, fd->name, json_boolean(t->opts.fam[f]));
        if (!t->have_last || !t->opts.fam[f])
            continue;
        for (size_t c = 0; c < fd->ncols; c++)
            json_object_set_new(last, fd->cols[c], number_json(t->last[f][c]));
    }
    if (t->opts.fam[FAM_HEAP])
        json_object_set_new(opts, "heap_scope", json_string(t->opts.heap_process ? "process" : "tree"));
    if (t->det.o.on)
        json_object_set_new(opts, "detect",
                            json_pack("{s:s, s:I, s:f, s:I, s:I}", "detector", det_kind_name(t->det.o.kind), "stride",
                                      (json_int_t)t->det.o.stride, "q", t->det.o.q, "calib",
                                      (json_int_t)t->det.o.calib, "window", (json_int_t)t->det.o.window));
    else
        json_object_set_new(opts, "detect", json_null());
    /* until `scored` > 0 the detector is still calibrating on the stream */
    det = t->det.o.on ? json_pack("{s:I, s:I, s:I, s:I}", "points", (json_int_t)t->det.seq, "scored",
                                  (json_int_t)t->det.scored, "anomalous_points", (json_int_t)t->det.anomalous_points,
                                  "errors", (json_int_t)t->det.errors)
                      : json_null();
    if (det && t->det.scored) {
        json_object_set_new(det, "last_score", number_json(t->det.last_score > 1e300 ? 1e300 : t->det.last_score));
        json_object_set_new(det, "threshold", number_json(t->det.last_threshold));
    }
    return json_pack("{s:i, s:s, s:s, s:f, s:o, s:I, s:I, s:o, s:o, s:o}", "pid", (int)t->pid, "comm", t->comm,
                     "state", t->state == TARGET_RUNNING ? "running" : "exited", "watched_at", t->watched_at,
                     "exited_at", t->state == TARGET_EXITED ? json_real(t->exited_at) : json_null(), "members",
                     (json_int_t)t->nmembers, "samples", (json_int_t)target_samples(t), "options", opts, "last", last,
                     "detection", det);
}

static int get_pid(json_t *params, pid_t *pid, struct rpc_error *e)
{
    long long v;

    if (param_int(params, "pid", true, 1, 0x7fffffff, &v, NULL, e))
        return -1;
    *pid = (pid_t)v;
    return 0;
}

/* The target named by params.pid, if the client may use it. */
static struct target *get_target(struct daemon *d, struct rpc_conn *c, json_t *params, struct rpc_error *e)
{
    struct target *t;
    pid_t pid;

    if (get_pid(params, &pid, e))
        return NULL;
    t = target_find(d, pid);
    if (!t) {
        rpc_fail(e, OSD_E_NOT_WATCHED, "pid", "pid %d is not watched (see 'list')", (int)pid);
        return NULL;
    }
    if (!target_visible(t, rpc_conn_uid(c))) {
        rpc_fail(e, OSD_E_PERMISSION, "pid", "permission denied: pid %d is watched by another user", (int)pid);
        return NULL;
    }
    return t;
}

/* The detection params of `watch`; absent ones keep the configured defaults. */
static int detect_params(struct daemon *d, json_t *p, struct detect_opts *o, struct rpc_error *e)
{
    const char *name = NULL;
    long long v;
    bool present;

    *o = d->cfg.detect;
    if (param_string(p, "detector", false, &name, e))
        return -1;
    if (name && !strcmp(name, "none"))
        o->on = false;
    else if (name && det_kind_parse(name, &o->kind))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, "detector", "unknown detector '%s' (expected spot, cs, mad or none)",
                        name);
    else if (name)
        o->on = true;
    if (param_int(p, "stride", false, 1, 100000, &v, &present, e))
        return -1;
    if (present)
        o->stride = (size_t)v;
    if (param_int(p, "calib", false, 20, 1000000, &v, &present, e))
        return -1;
    if (present)
        o->calib = (size_t)v;
    if (param_int(p, "window", false, 16, 100000, &v, &present, e))
        return -1;
    if (present)
        o->window = (size_t)v;
    if (param_number(p, "q", &o->q, &present, e))
        return -1;
    if (present && !(o->q > 0 && o->q < 0.5))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, "q", "param 'q' must be in (0, 0.5), got %g", o->q);
    return 0;
}

/* heap_scope: "tree" (probes on the shared libc, children covered from their first call)
 * or "process" (probes in the members only; see proto/osd-rpc.md). */
static int heap_scope_param(json_t *p, struct watch_opts *o, struct rpc_error *e)
{
    json_t *v = json_object_get(p, "heap_scope");
    const char *s = json_string_value(v);

    if (!v)
        return 0;
    if (!s || (strcmp(s, "tree") && strcmp(s, "process")))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, "heap_scope", "param 'heap_scope' must be \"tree\" or \"process\"");
    if (!o->fam[FAM_HEAP])
        return rpc_fail(e, OSD_E_INVALID_PARAMS, "heap_scope", "'heap_scope' needs 'heap'");
    o->heap_process = !strcmp(s, "process");
    return 0;
}

static json_t *m_watch(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid",      "cpu",    "mem", "net",   "syscall", "heap", "children", "threads",
                                           "interval_ms", "detector", "stride", "q", "calib", "window",
                                           "heap_scope", NULL };
    struct watch_opts o = { .children = true, .interval_ms = d->cfg.interval_ms, .uid = rpc_conn_uid(c),
                            .heap_process = d->cfg.heap_process };
    bool present[FAM_MAX] = { false }, any = false, none = true;
    struct target *t;
    long long iv;
    pid_t pid, owner = 0;
    int err;

    if (params_only(p, allowed, e) || get_pid(p, &pid, e) || param_bool(p, "children", &o.children, NULL, e) ||
        param_bool(p, "threads", &o.threads, NULL, e))
        return NULL;
    for (int f = 0; f < FAM_MAX; f++) {
        if (param_bool(p, family_desc(f)->name, &o.fam[f], &present[f], e))
            return NULL;
        any |= present[f];
        none &= !o.fam[f];
    }
    iv = o.interval_ms;
    if (param_int(p, "interval_ms", false, OSD_INTERVAL_MIN_MS, OSD_INTERVAL_MAX_MS, &iv, NULL, e))
        return NULL;
    o.interval_ms = (int)iv;
    if (detect_params(d, p, &o.detect, e))
        return NULL;
    if (!any) /* no family named: the default set */
        o.fam[FAM_CPU] = o.fam[FAM_MEM] = true, none = false;
    if (none) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "cpu", "nothing to collect: enable 'cpu', 'mem', 'net', 'syscall' or 'heap'");
        return NULL;
    }
    if (heap_scope_param(p, &o, e))
        return NULL;
    if (o.threads && !o.fam[FAM_CPU]) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "threads", "'threads' needs 'cpu'");
        return NULL;
    }
    err = target_watch(d, pid, &o, &t, &owner);
    switch (err) {
    case 0:
        daemon_notify_status(d);
        return json_pack("{s:o}", "target", target_json(t));
    case -ESRCH:
        rpc_fail(e, OSD_E_NO_SUCH_PROCESS, "pid", "no such process: %d", (int)pid);
        return NULL;
    case -EEXIST:
        if (owner == pid || owner == 0)
            rpc_fail(e, OSD_E_ALREADY_WATCHED, "pid", "pid %d is already watched", (int)pid);
        else
            rpc_fail(e, OSD_E_ALREADY_WATCHED, "pid", "pid %d is already watched as part of the tree of pid %d",
                     (int)pid, (int)owner);
        return NULL;
    case -EINVAL:
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "pid %d is a thread of process %d; watch %d (with threads: true)",
                 (int)pid, (int)owner, (int)owner);
        return NULL;
    case -EPERM:
        rpc_fail(e, OSD_E_PERMISSION, "pid", "permission denied: pid %d belongs to another user", (int)pid);
        return NULL;
    case -ENOTSUP: {
        const char *fam = o.fam[FAM_NET] && !d->net ? "net" : o.fam[FAM_SYSCALL] && !d->sys ? "syscall" : "heap";
        const char *why = o.fam[FAM_NET] && !d->net ? d->net_error
                          : o.fam[FAM_SYSCALL] && !d->sys ? d->sys_error : d->heap_error;
        rpc_fail(e, OSD_E_BPF, fam, "'%s' needs BPF, which is unavailable: %s", fam, why);
        return NULL;
    }
    case -ENOEXEC:
        rpc_fail(e, OSD_E_BPF, "heap",
                 "'heap' needs uprobes on the target's libc, but pid %d maps no libc.so.6 (statically linked or "
                 "not a glibc program)", (int)pid);
        return NULL;
    case -EIO:
        rpc_fail(e, OSD_E_BPF, "heap", "'heap': cannot attach uprobes to the libc of pid %d (see the daemon log)",
                 (int)pid);
        return NULL;
    case -EDOM:
        rpc_fail(e, OSD_E_INVALID_PARAMS, "detector", "invalid detector parameters for %s", det_kind_name(o.detect.kind));
        return NULL;
    case -EMFILE:
        rpc_fail(e, OSD_E_LIMIT, NULL, "too many targets (max_targets=%d)", d->cfg.max_targets);
        return NULL;
    case -ENOSPC:
        rpc_fail(e, OSD_E_BPF, NULL, "BPF map 'watched' is full (%d processes)", OSD_WATCHED_MAX);
        return NULL;
    default:
        rpc_fail(e, OSD_E_INTERNAL, NULL, "cannot watch pid %d: %s", (int)pid, strerror(-err));
        return NULL;
    }
}

static json_t *m_unwatch(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", NULL };
    struct target *t;
    json_t *r;

    if (params_only(p, allowed, e) || !(t = get_target(d, c, p, e)))
        return NULL;
    r = json_pack("{s:i, s:I}", "pid", (int)t->pid, "samples", (json_int_t)target_samples(t));
    target_unwatch(t);
    daemon_notify_status(d);
    return r;
}

static json_t *m_list(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { NULL };
    json_t *arr;

    if (params_only(p, allowed, e))
        return NULL;
    arr = json_array();
    for (struct target *t = d->targets; t; t = t->next)
        if (target_visible(t, rpc_conn_uid(c)))
            json_array_append_new(arr, target_json(t));
    return json_pack("{s:o}", "targets", arr);
}

static long self_rss_bytes(void)
{
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "re");

    if (f) {
        if (fscanf(f, "%*d %ld", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return pages * sysconf(_SC_PAGESIZE);
}

static json_t *net_status(struct daemon *d)
{
    if (!d->net)
        return json_pack("{s:s, s:b, s:s}", "source", "none", "loaded", 0, "error",
                         d->net_error[0] ? d->net_error : "not loaded: no target has collected net yet");
    return json_pack("{s:s, s:b, s:i, s:I}", "source", netmon_source(d->net), "attached", netmon_users(d->net) > 0,
                     "targets", netmon_users(d->net), "map_full", (json_int_t)netmon_full(d->net));
}

static json_t *sys_status(struct daemon *d)
{
    const struct sysmon_sweep *sw;
    int tracing = 0, err;

    if (!d->sys)
        return json_pack("{s:b, s:b, s:s}", "attached", 0, "loaded", 0, "error",
                         d->sys_error[0] ? d->sys_error : "not loaded: no target has collected syscall yet");
    for (struct target *t = d->targets; t; t = t->next)
        tracing += t->tracers > 0;
    sw = sysmon_sweep(d->sys, 200 * 1000 * 1000LL, &err);
    return json_pack("{s:b, s:i, s:i, s:I, s:i, s:I, s:I}", "attached", sysmon_users(d->sys) > 0, "targets",
                     sysmon_users(d->sys), "tracing", tracing, "entries", (json_int_t)(sw ? sw->n : 0), "entries_max",
                     OSD_SYS_MAX, "map_full", (json_int_t)sysmon_counter(d->sys, OSD_SYS_CNT_FULL), "trace_dropped",
                     (json_int_t)sysmon_counter(d->sys, OSD_SYS_CNT_DROPS));
}

static json_t *heap_status(struct daemon *d)
{
    if (!d->heap)
        return json_pack("{s:b, s:b, s:s}", "attached", 0, "loaded", 0, "error",
                         d->heap_error[0] ? d->heap_error : "not loaded: no target has collected heap yet");
    return heapmon_status(d->heap);
}

static json_t *m_status(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    (void)c;
    static const char *const allowed[] = { NULL };
    size_t series_bytes = 0, series_cap = 0, progs_n;
    int running = 0, exited = 0;
    json_t *bpf, *progs, *detect;

    if (params_only(p, allowed, e))
        return NULL;
    for (struct target *t = d->targets; t; t = t->next) {
        series_bytes += target_series_bytes(t);
        series_cap += target_series_cap_bytes(t);
        if (t->state == TARGET_RUNNING)
            running++;
        else
            exited++;
    }
    if (d->pm) {
        struct procmon_stats st;
        const char *const *names = procmon_programs(&progs_n);

        procmon_stats(d->pm, &st);
        progs = json_array();
        for (size_t i = 0; i < progs_n; i++)
            json_array_append_new(progs, json_string(names[i]));
        bpf = json_pack("{s:s, s:o, s:I, s:i, s:I, s:i, s:I, s:I, s:I, s:I}", "cpu_source", "bpf", "programs", progs,
                        "watched_entries", (json_int_t)st.watched_entries, "watched_max", OSD_WATCHED_MAX,
                        "cpu_entries", (json_int_t)st.cpu_entries, "cpu_max", OSD_CPU_MAX, "watched_full",
                        (json_int_t)st.counters[OSD_CNT_WATCHED_FULL], "cpu_full",
                        (json_int_t)st.counters[OSD_CNT_CPU_FULL], "forks_followed",
                        (json_int_t)st.counters[OSD_CNT_FORKS], "exits_seen", (json_int_t)st.counters[OSD_CNT_EXITS]);
    } else {
        bpf = json_pack("{s:s, s:s}", "cpu_source", "procfs", "error", d->bpf_error);
    }
    detect = json_pack("{s:b, s:s, s:I, s:I, s:I, s:s, s:I}", "worker", d->worker != NULL, "default_detector",
                       d->cfg.detect.on ? det_kind_name(d->cfg.detect.kind) : "none", "queue",
                       (json_int_t)(d->worker ? detect_queue_len(d->worker) : 0), "anomalies",
                       (json_int_t)alerts_count(d->alerts), "subscribers",
                       (json_int_t)rpc_server_subscribers(d->rpc), "log", alerts_path(d->alerts), "log_errors",
                       (json_int_t)alerts_log_errors(d->alerts));
    return json_pack("{s:s, s:i, s:f, s:s, s:i, s:i, s:i, s:I, s:{s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:o, s:{s:i, s:I, s:i, s:i, s:i}}",
                     "version", OSD_VERSION, "pid", (int)getpid(), "uptime_s",
                     (double)(mono_ns() - d->started_mono_ns) / 1e9, "socket", d->cfg.socket, "targets", d->ntargets,
                     "targets_running", running, "targets_exited", exited, "clients",
                     (json_int_t)rpc_server_clients(d->rpc), "memory", "rss_bytes", (json_int_t)self_rss_bytes(),
                     "series_bytes", (json_int_t)series_bytes, "series_capacity_bytes", (json_int_t)series_cap, "bpf", bpf, "net", net_status(d), "syscall",
                     sys_status(d), "heap", heap_status(d), "detection", detect, "config", "interval_ms",
                     d->cfg.interval_ms, "ring_capacity", (json_int_t)d->cfg.ring_capacity, "retention_s",
                     d->cfg.retention_s, "max_targets", d->cfg.max_targets, "max_clients", d->cfg.max_clients);
}

static json_t *series_json(const struct series *s, const struct family_desc *fd, double since, double until,
                           long long limit)
{
    json_t *columns = json_array(), *points = json_array();
    size_t first, last;
    int64_t since_ms = (int64_t)floor(since * 1000.0), until_ms;

    until_ms = until >= 9e15 ? INT64_MAX : (int64_t)ceil(until * 1000.0);
    json_array_append_new(columns, json_string("time"));
    for (size_t c = 0; c < fd->ncols; c++)
        json_array_append_new(columns, json_string(fd->cols[c]));
    if (s->len) {
        series_range(s, since_ms, until_ms, &first, &last);
        if (limit > 0 && last - first > (size_t)limit)
            first = last - (size_t)limit;
        for (size_t i = first; i < last; i++) {
            int64_t t;
            const double *v = series_row(s, i, &t);
            json_t *row = json_array();

            json_array_append_new(row, json_real((double)t / 1000.0));
            for (size_t k = 0; k < s->ncols; k++)
                json_array_append_new(row, number_json(v[k]));
            json_array_append_new(points, row);
        }
    }
    return json_pack("{s:o, s:o}", "columns", columns, "points", points);
}

static json_t *m_series(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", "metric", "since", "until", "limit", NULL };
    const char *metric = NULL;
    double since = 0, until = 1e16;
    long long limit = 0;
    struct target *t;
    json_t *r;
    int f;

    if (params_only(p, allowed, e) || !(t = get_target(d, c, p, e)) || param_string(p, "metric", true, &metric, e) ||
        param_number(p, "since", &since, NULL, e) || param_number(p, "until", &until, NULL, e) ||
        param_int(p, "limit", false, 1, 1LL << 40, &limit, NULL, e))
        return NULL;
    f = family_find(metric);
    if (f < 0) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "metric", "unknown metric '%s' (expected cpu, mem, net, syscall or heap)",
                 metric);
        return NULL;
    }
    if (!t->opts.fam[f]) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "metric", "target %d does not collect '%s' (watch it with --%s)",
                 (int)t->pid, metric, metric);
        return NULL;
    }
    r = series_json(&t->series[f], family_desc(f), since, until, limit);
    json_object_set_new(r, "pid", json_integer(t->pid));
    json_object_set_new(r, "metric", json_string(metric));
    json_object_set_new(r, "interval_ms", json_integer(t->opts.interval_ms));
    json_object_set_new(r, "state", json_string(t->state == TARGET_RUNNING ? "running" : "exited"));
    return r;
}

static int cmp_busy(const void *a, const void *b)
{
    const struct thread_stat *x = a, *y = b;

    return (x->cpu_pct < y->cpu_pct) - (x->cpu_pct > y->cpu_pct);
}

static json_t *m_threads(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", NULL };
    struct thread_stat *sorted;
    struct target *t;
    json_t *arr;

    if (params_only(p, allowed, e) || !(t = get_target(d, c, p, e)))
        return NULL;
    if (!t->opts.threads) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "target %d is not watched per thread (watch it with --threads)",
                 (int)t->pid);
        return NULL;
    }
    arr = json_array();
    sorted = malloc((t->nthreads ? t->nthreads : 1) * sizeof(*sorted));
    if (!sorted) {
        json_decref(arr);
        rpc_fail(e, OSD_E_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    if (t->nthreads) /* t->threads is NULL before the first per-thread reading */
        memcpy(sorted, t->threads, t->nthreads * sizeof(*sorted));
    qsort(sorted, t->nthreads, sizeof(*sorted), cmp_busy);
    for (size_t i = 0; i < t->nthreads; i++) {
        char comm[32] = "";
        procfs_comm((pid_t)sorted[i].tgid, (pid_t)sorted[i].tid, comm, sizeof(comm));
        json_array_append_new(arr, json_pack("{s:i, s:i, s:s, s:f, s:I, s:I, s:I}", "tid", (int)sorted[i].tid,
                                             "tgid", (int)sorted[i].tgid, "comm", comm, "cpu_pct", sorted[i].cpu_pct,
                                             "oncpu_ns", (json_int_t)sorted[i].oncpu_ns, "ctx_voluntary",
                                             (json_int_t)sorted[i].d_nvcsw, "ctx_involuntary",
                                             (json_int_t)sorted[i].d_nivcsw));
    }
    free(sorted);
    return json_pack("{s:i, s:f, s:o}", "pid", (int)t->pid, "time", t->threads_time, "threads", arr);
}

static json_t *m_anomalies(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "since", "until", "pid", "metric", "limit", NULL };
    double since = 0, until = 1e16;
    const char *metric = NULL;
    long long pid = 0, limit = 0;

    if (params_only(p, allowed, e) || param_number(p, "since", &since, NULL, e) ||
        param_number(p, "until", &until, NULL, e) || param_int(p, "pid", false, 1, 0x7fffffff, &pid, NULL, e) ||
        param_string(p, "metric", false, &metric, e) || param_int(p, "limit", false, 1, 10000000, &limit, NULL, e))
        return NULL;
    return json_pack("{s:o}", "anomalies",
                     alerts_query(d->alerts, since, until, (pid_t)pid, metric, (size_t)limit, rpc_conn_uid(c)));
}

static json_t *m_subscribe(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", NULL };
    long long pid = 0;

    (void)d;
    if (params_only(p, allowed, e) || param_int(p, "pid", false, 1, 0x7fffffff, &pid, NULL, e))
        return NULL;
    rpc_conn_subscribe(c, (pid_t)pid);
    return json_pack("{s:b, s:i}", "subscribed", 1, "pid", (int)pid);
}

static json_t *m_config_get(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { NULL };

    (void)c;
    if (params_only(p, allowed, e))
        return NULL;
    return json_pack("{s:s?, s:o}", "path", d->config_path[0] ? d->config_path : NULL, "config", config_json(&d->cfg));
}

static json_t *m_config_reload(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { NULL };
    char err[512];

    if (params_only(p, allowed, e))
        return NULL;
    if (rpc_conn_uid(c) != 0) {
        rpc_fail(e, OSD_E_PERMISSION, NULL, "permission denied: only root may reload the configuration");
        return NULL;
    }
    if (daemon_reload(d, err, sizeof(err))) {
        rpc_fail(e, OSD_E_CONFIG, NULL, "configuration refused, the current one stays: %s", err);
        return NULL;
    }
    daemon_notify_status(d);
    return m_config_get(d, c, p, e);
}

struct sys_row {
    uint32_t nr;
    const struct sys_val *v;
};

static int cmp_count(const void *a, const void *b)
{
    const struct sys_row *x = a, *y = b;

    return (x->v->count < y->v->count) - (x->v->count > y->v->count);
}

static int cmp_time(const void *a, const void *b)
{
    const struct sys_row *x = a, *y = b;

    return (x->v->total_ns < y->v->total_ns) - (x->v->total_ns > y->v->total_ns);
}

static json_t *m_syscalls(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", "sort", "limit", NULL };
    const struct sysmon_sweep *sw;
    const char *sort = "count";
    struct sys_row *rows;
    size_t first, n;
    long long limit = 0;
    struct target *t;
    json_t *arr;
    int err;

    if (params_only(p, allowed, e) || !(t = get_target(d, c, p, e)) || param_string(p, "sort", false, &sort, e) ||
        param_int(p, "limit", false, 1, 100000, &limit, NULL, e))
        return NULL;
    if (strcmp(sort, "count") && strcmp(sort, "time")) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "sort", "param 'sort' must be \"count\" or \"time\", got '%s'", sort);
        return NULL;
    }
    if (!t->opts.fam[FAM_SYSCALL]) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "target %d does not collect syscalls (watch it with --syscall)",
                 (int)t->pid);
        return NULL;
    }
    sw = sysmon_sweep(d->sys, 0, &err);
    if (!sw) {
        rpc_fail(e, OSD_E_BPF, NULL, "cannot read the syscall map: %s", strerror(-err));
        return NULL;
    }
    sysmon_target(sw, t->id, &first, &n);
    rows = calloc(n ? n : 1, sizeof(*rows));
    if (!rows)
        return NULL;
    for (size_t i = 0; i < n; i++)
        rows[i] = (struct sys_row){ sw->e[first + i].k.nr, &sw->e[first + i].v };
    qsort(rows, n, sizeof(*rows), strcmp(sort, "time") ? cmp_count : cmp_time);
    if (limit && (size_t)limit < n)
        n = (size_t)limit;
    arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct sys_val *v = rows[i].v;
        json_array_append_new(arr, json_pack("{s:i, s:s, s:I, s:I, s:I, s:f, s:f, s:f}", "nr", (int)rows[i].nr,
                                             "name", syscall_name(rows[i].nr), "count", (json_int_t)v->count,
                                             "errors", (json_int_t)v->errors, "total_ns", (json_int_t)v->total_ns,
                                             "avg_ns", v->count ? (double)v->total_ns / (double)v->count : 0.0,
                                             "p50_ns", sysmon_quantile(v->hist, 0.5), "p99_ns",
                                             sysmon_quantile(v->hist, 0.99)));
    }
    free(rows);
    return json_pack("{s:i, s:o}", "pid", (int)t->pid, "syscalls", arr);
}

static json_t *m_trace(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", "syscalls", NULL };
    bool syscalls = false, present;
    struct target *t;

    if (params_only(p, allowed, e) || !(t = get_target(d, c, p, e)) ||
        param_bool(p, "syscalls", &syscalls, &present, e))
        return NULL;
    if (!syscalls) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "syscalls", "say what to trace: 'syscalls': true");
        return NULL;
    }
    if (!t->opts.fam[FAM_SYSCALL]) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "target %d does not collect syscalls (watch it with --syscall)",
                 (int)t->pid);
        return NULL;
    }
    if (!c || rpc_conn_trace(c, t->pid)) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "this connection already traces a target; open another one");
        return NULL;
    }
    target_trace_start(t);
    return json_pack("{s:b, s:i}", "tracing", 1, "pid", (int)t->pid);
}

json_t *rpc_dispatch(struct daemon *d, struct rpc_conn *c, const struct rpc_request *req, struct rpc_error *e)
{
    static const struct {
        const char *name;
        json_t *(*fn)(struct daemon *, struct rpc_conn *, json_t *, struct rpc_error *);
    } methods[] = {
        { OSD_M_WATCH, m_watch },       { OSD_M_UNWATCH, m_unwatch },     { OSD_M_LIST, m_list },
        { OSD_M_STATUS, m_status },     { OSD_M_SERIES, m_series },       { OSD_M_THREADS, m_threads },
        { OSD_M_ANOMALIES, m_anomalies }, { OSD_M_SUBSCRIBE, m_subscribe },
        { OSD_M_CONFIG_GET, m_config_get }, { OSD_M_CONFIG_RELOAD, m_config_reload },
        { OSD_M_SYSCALLS, m_syscalls },     { OSD_M_TRACE, m_trace },
    };
    json_t *r;

    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(req->method, methods[i].name))
            continue;
        r = methods[i].fn(d, c, req->params, e);
        if (!r && !e->code)
            rpc_fail(e, OSD_E_INTERNAL, NULL, "out of memory");
        return r;
    }
    rpc_fail(e, OSD_E_METHOD_NOT_FOUND, NULL, "method not found: '%s'", req->method);
    return NULL;
}
