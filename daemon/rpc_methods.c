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
#include "rpc_select.h"
#include "procfs.h"
#include "targets.h"
#include "utrace.h"

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
    return json_pack("{s:i, s:o, s:o, s:s, s:s, s:f, s:o, s:I, s:I, s:o, s:o, s:o, s:o}", "pid", (int)t->pid, "cgroup",
                     target_is_cgroup(t) ? json_string(t->cgroup) : json_null(), "unit",
                     t->unit[0] ? json_string(t->unit) : json_null(), "comm", t->comm,
                     "state", t->state == TARGET_RUNNING ? "running" : "exited", "watched_at", t->watched_at,
                     "exited_at", t->state == TARGET_EXITED ? json_real(t->exited_at) : json_null(), "members",
                     (json_int_t)t->nmembers, "samples", (json_int_t)target_samples(t), "options", opts, "last", last,
                     "detection", det, "functions", utrace_functions_json(t));
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

/* Turns a target_watch*() error into the reply; `who` names the pid or cgroup. */
static void watch_error(struct daemon *d, const struct watch_opts *o, int err, const struct target_sel *sel,
                        const char *who, pid_t owner, const struct target *cg_owner, struct rpc_error *e)
{
    pid_t pid = sel->pid;

    switch (err) {
    case -ESRCH:
        rpc_fail(e, OSD_E_NO_SUCH_PROCESS, "pid", "no such process: %d", (int)pid);
        return;
    case -EEXIST:
        if (!pid)
            rpc_fail(e, OSD_E_ALREADY_WATCHED, sel->field, "%s is already watched%s%s", who,
                     cg_owner && cg_owner->unit[0] ? " as unit " : "", cg_owner && cg_owner->unit[0] ? cg_owner->unit : "");
        else if (owner == pid || owner == 0)
            rpc_fail(e, OSD_E_ALREADY_WATCHED, "pid", "pid %d is already watched", (int)pid);
        else
            rpc_fail(e, OSD_E_ALREADY_WATCHED, "pid", "pid %d is already watched as part of the tree of pid %d",
                     (int)pid, (int)owner);
        return;
    case -EINVAL:
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "pid %d is a thread of process %d; watch %d (with threads: true)",
                 (int)pid, (int)owner, (int)owner);
        return;
    case -EPERM:
        if (pid)
            rpc_fail(e, OSD_E_PERMISSION, "pid", "permission denied: pid %d belongs to another user", (int)pid);
        else
            rpc_fail(e, OSD_E_PERMISSION, sel->field, "permission denied: %s is not delegated to you", who);
        return;
    case -ENOSYS:
        rpc_fail(e, OSD_E_BPF, sel->field, "watching %s needs BPF, which is unavailable: %s", who, d->bpf_error);
        return;
    case -ENOTSUP: {
        const char *fam = o->fam[FAM_NET] && !d->net ? "net" : o->fam[FAM_SYSCALL] && !d->sys ? "syscall" : "heap";
        const char *why = o->fam[FAM_NET] && !d->net ? d->net_error
                          : o->fam[FAM_SYSCALL] && !d->sys ? d->sys_error : d->heap_error;
        rpc_fail(e, OSD_E_BPF, fam, "'%s' needs BPF, which is unavailable: %s", fam, why);
        return;
    }
    case -ENOEXEC:
        rpc_fail(e, OSD_E_BPF, "heap",
                 "'heap' needs uprobes on the target's libc, but %s maps no libc.so.6 (statically linked or "
                 "not a glibc program)", who);
        return;
    case -EIO:
        rpc_fail(e, OSD_E_BPF, "heap", "'heap': cannot attach uprobes to the libc of %s (see the daemon log)", who);
        return;
    case -EDOM:
        rpc_fail(e, OSD_E_INVALID_PARAMS, "detector", "invalid detector parameters for %s", det_kind_name(o->detect.kind));
        return;
    case -EMFILE:
        rpc_fail(e, OSD_E_LIMIT, NULL, "too many targets (max_targets=%d)", d->cfg.max_targets);
        return;
    case -EUSERS:
        rpc_fail(e, OSD_E_LIMIT, "syscall",
                 "too many syscall targets: %d already collect 'syscall' (the kernel counters have %d slots); "
                 "unwatch one or watch %s without syscall",
                 OSD_SYS_SLOTS - 1, OSD_SYS_SLOTS - 1, who);
        return;
    case -ENOSPC:
        if (pid)
            rpc_fail(e, OSD_E_BPF, NULL, "BPF map 'watched' is full (%d processes)", OSD_WATCHED_MAX);
        else
            rpc_fail(e, OSD_E_BPF, NULL, "BPF map 'watched_cgroups' is full (%d cgroups)", OSD_CGROUPS_MAX);
        return;
    default:
        rpc_fail(e, OSD_E_INTERNAL, NULL, "cannot watch %s: %s", who, strerror(-err));
        return;
    }
}

static void uprobe_fail(struct daemon *d, struct rpc_error *e, int err, const char *field, const char *spec,
                        const char *why);

/* watch's `uprobes`: each function counted for the target's whole life. */
static int watch_uprobes(struct daemon *d, struct target *t, json_t *uprobes, struct rpc_error *e)
{
    for (size_t i = 0; i < json_array_size(uprobes); i++) {
        const char *spec = json_string_value(json_array_get(uprobes, i));
        struct uprobe_spec s;
        char why[512] = "";
        int err = utrace_resolve(t->pid, spec, true, &s, why, sizeof(why));

        if (!err)
            err = utrace_hold(t, &s);
        if (err) {
            uprobe_fail(d, e, err, "uprobes", err == -EMFILE || err == -ENOSPC ? spec : s.name, why[0] ? why : NULL);
            return -1;
        }
    }
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
    static const char *const allowed[] = { "pid",    "cgroup", "unit",        "cpu",      "mem",    "net",
                                           "syscall", "heap",  "children",    "threads",  "interval_ms",
                                           "detector", "stride", "q",         "calib",    "window", "uprobes",
                                           "heap_scope", NULL };
    struct watch_opts o = { .children = true, .interval_ms = d->cfg.interval_ms, .uid = rpc_conn_uid(c),
                            .heap_process = d->cfg.heap_process };
    bool present[FAM_MAX] = { false }, any = false, none = true;
    struct target *t, *cg_owner = NULL;
    struct target_sel sel;
    struct cgroup_ref cg;
    char who[CGROUP_PATH_MAX + 16], msg[CGROUP_PATH_MAX * 2 + 256];
    json_t *uprobes;
    long long iv;
    pid_t owner = 0;
    int err;

    if (params_only(p, allowed, e) || rpc_sel_read(p, true, &sel, e) ||
        param_bool(p, "children", &o.children, NULL, e) || param_bool(p, "threads", &o.threads, NULL, e))
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
    uprobes = json_object_get(p, "uprobes");
    if (uprobes && (!json_is_array(uprobes) || json_array_size(uprobes) > UTRACE_FUNCS_PER_TARGET)) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "uprobes", "param 'uprobes' must be an array of at most %d "
                 "\"BINARY:FUNCTION\" strings", UTRACE_FUNCS_PER_TARGET);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(uprobes); i++) {
        if (!json_is_string(json_array_get(uprobes, i))) {
            rpc_fail(e, OSD_E_INVALID_PARAMS, "uprobes", "param 'uprobes' must hold \"BINARY:FUNCTION\" strings");
            return NULL;
        }
    }
    if (sel.pid) {
        snprintf(who, sizeof(who), "pid %d", (int)sel.pid);
        err = target_watch(d, sel.pid, &o, &t, &owner);
    } else {
        /* the path as given (normalised), so errors name what the client sent */
        err = cgroup_resolve(sel.unit[0] ? NULL : sel.cgroup, sel.unit[0] ? sel.unit : NULL, &cg, msg, sizeof(msg));
        if (err) {
            rpc_fail(e, err == -ENOENT ? OSD_E_NO_SUCH_PROCESS : OSD_E_INVALID_PARAMS, sel.field, "%s", msg);
            return NULL;
        }
        snprintf(who, sizeof(who), "%s %s", sel.unit[0] ? "unit" : "cgroup", sel.unit[0] ? sel.unit : cg.path);
        err = target_watch_cgroup(d, &cg, &o, &t, &cg_owner);
    }
    if (err) {
        watch_error(d, &o, err, &sel, who, owner, cg_owner, e);
        return NULL;
    }
    if (watch_uprobes(d, t, uprobes, e)) {
        target_unwatch(t); /* all or nothing */
        return NULL;
    }
    daemon_notify_status(d);
    return json_pack("{s:o}", "target", target_json(t));
}

static json_t *m_unwatch(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", "cgroup", "unit", NULL };
    struct target *t;
    json_t *r;

    if (params_only(p, allowed, e) || !(t = rpc_get_target(d, c, p, e)))
        return NULL;
    r = json_pack("{s:I}", "samples", (json_int_t)target_samples(t));
    if (r)
        rpc_target_keys(r, t);
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

/* The fill of a collector's per-thread map (targets watched with threads: true). */
static json_t *threads_status(struct bpf_sweep *sw, uint64_t full)
{
    /* a recent reading will do: status polled by many clients must not re-read the map */
    bool ok = bpf_sweep_read(sw, 200 * 1000 * 1000LL) == 0;

    return json_pack("{s:I, s:I, s:I}", "entries", (json_int_t)(ok ? sw->n : 0), "max", (json_int_t)sw->cap, "full",
                     (json_int_t)full);
}

static json_t *net_status(struct daemon *d)
{
    if (!d->net)
        return json_pack("{s:s, s:b, s:s}", "source", "none", "loaded", 0, "error",
                         d->net_error[0] ? d->net_error : "not loaded: no target has collected net yet");
    return json_pack("{s:s, s:b, s:i, s:I, s:o}", "source", netmon_source(d->net), "attached",
                     netmon_users(d->net) > 0, "targets", netmon_users(d->net), "map_full",
                     (json_int_t)netmon_counter(d->net, OSD_NET_CNT_FULL), "threads",
                     threads_status(netmon_threads(d->net), netmon_counter(d->net, OSD_NET_CNT_THREADS_FULL)));
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
    return json_pack("{s:b, s:i, s:i, s:I, s:i, s:I, s:I, s:i, s:I, s:I, s:i, s:I, s:o}", "attached",
                     sysmon_users(d->sys) > 0, "targets", sysmon_users(d->sys), "tracing", tracing, "entries",
                     (json_int_t)(sw ? sw->n : 0), "entries_max", OSD_SYS_MAX, "map_full",
                     (json_int_t)sysmon_counter(d->sys, OSD_SYS_CNT_FULL), "slots",
                     (json_int_t)sysmon_slots_used(d->sys), "slots_max", OSD_SYS_SLOTS - 1, "pid_cover",
                     (json_int_t)sysmon_pid_cover(d->sys), "latency_sample", (int)sysmon_sample(d->sys),
                     "beyond_pid_cover", (json_int_t)sysmon_counter(d->sys, OSD_SYS_CNT_BIGPID), "trace_dropped",
                     (json_int_t)sysmon_counter(d->sys, OSD_SYS_CNT_DROPS), "threads",
                     threads_status(sysmon_threads(d->sys), sysmon_counter(d->sys, OSD_SYS_CNT_THREADS_FULL)));
}

static json_t *heap_status(struct daemon *d)
{
    json_t *r;

    if (!d->heap)
        return json_pack("{s:b, s:b, s:s}", "attached", 0, "loaded", 0, "error",
                         d->heap_error[0] ? d->heap_error : "not loaded: no target has collected heap yet");
    r = heapmon_status(d->heap);
    json_object_set_new(r, "threads", threads_status(heapmon_threads(d->heap),
                                                     heapmon_counter(d->heap, OSD_HEAP_CNT_THREADS_FULL)));
    return r;
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
        bpf = json_pack("{s:s, s:o, s:I, s:i, s:I, s:i, s:I, s:I, s:I, s:I, s:I}", "cpu_source", "bpf", "programs", progs,
                        "watched_entries", (json_int_t)st.watched_entries, "watched_max", OSD_WATCHED_MAX,
                        "cpu_entries", (json_int_t)st.cpu_entries, "cpu_max", OSD_CPU_MAX, "watched_full",
                        (json_int_t)st.counters[OSD_CNT_WATCHED_FULL], "cpu_full",
                        (json_int_t)st.counters[OSD_CNT_CPU_FULL], "forks_followed",
                        (json_int_t)st.counters[OSD_CNT_FORKS], "exits_seen", (json_int_t)st.counters[OSD_CNT_EXITS],
                        "cgroup_joins", (json_int_t)st.counters[OSD_CNT_CGROUP_JOINS]);
    } else {
        bpf = json_pack("{s:s, s:s}", "cpu_source", "procfs", "error", d->bpf_error);
    }
    detect = json_pack("{s:b, s:s, s:I, s:I, s:I, s:s, s:I}", "worker", d->worker != NULL, "default_detector",
                       d->cfg.detect.on ? det_kind_name(d->cfg.detect.kind) : "none", "queue",
                       (json_int_t)(d->worker ? detect_queue_len(d->worker) : 0), "anomalies",
                       (json_int_t)alerts_count(d->alerts), "subscribers",
                       (json_int_t)rpc_server_subscribers(d->rpc), "log", alerts_path(d->alerts), "log_errors",
                       (json_int_t)alerts_log_errors(d->alerts));
    return json_pack("{s:s, s:i, s:f, s:s, s:i, s:i, s:i, s:I, s:{s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:i, s:I, s:i, s:i, s:i}}",
                     "version", OSD_VERSION, "pid", (int)getpid(), "uptime_s",
                     (double)(mono_ns() - d->started_mono_ns) / 1e9, "socket", d->cfg.socket, "targets", d->ntargets,
                     "targets_running", running, "targets_exited", exited, "clients",
                     (json_int_t)rpc_server_clients(d->rpc), "memory", "rss_bytes", (json_int_t)self_rss_bytes(),
                     "series_bytes", (json_int_t)series_bytes, "series_capacity_bytes", (json_int_t)series_cap, "bpf", bpf, "net", net_status(d), "syscall",
                     sys_status(d), "heap", heap_status(d), "uprobe", utrace_status(d), "detection", detect, "config", "interval_ms",
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

static json_t *series_func(struct target *t, const char *function, double since, double until, long long limit,
                           struct rpc_error *e)
{
    static const struct family_desc fd = { OSD_METRIC_FUNC, NULL, UF_NCOLS, NULL, 0, true };
    struct family_desc d = fd;
    struct uprobe_spec s;
    struct ufunc *f = NULL;
    char why[512];
    json_t *r;

    d.cols = utrace_cols();
    if (!function) {
        json_t *names = utrace_functions_json(t);
        char *list = json_dumps(names, JSON_COMPACT);

        rpc_fail(e, OSD_E_INVALID_PARAMS, "function", "metric 'func' needs 'function' (BINARY:FUNCTION); traced: %s",
                 list ? list : "?");
        free(list);
        json_decref(names);
        return NULL;
    }
    /* the name as trace would have written it (absolute, symlinks resolved) */
    if (!(f = utrace_find(t, function)) && !utrace_resolve(t->pid, function, false, &s, why, sizeof(why)))
        f = utrace_find(t, s.name);
    if (!f) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "function",
                 "target %d has no series of '%s' (trace it first: trace with 'uprobe', or watch with 'uprobes')",
                 (int)t->pid, function);
        return NULL;
    }
    r = series_json(&f->s, &d, since, until, limit);
    json_object_set_new(r, "pid", json_integer(t->pid));
    json_object_set_new(r, "metric", json_string(OSD_METRIC_FUNC));
    json_object_set_new(r, "function", json_string(f->name));
    json_object_set_new(r, "attached", json_boolean(f->slot >= 0));
    json_object_set_new(r, "interval_ms", json_integer(t->opts.interval_ms));
    json_object_set_new(r, "state", json_string(t->state == TARGET_RUNNING ? "running" : "exited"));
    return r;
}

static json_t *m_series(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", "cgroup", "unit", "metric", "function", "since", "until", "limit",
                                           NULL };
    const char *metric = NULL, *function = NULL;
    double since = 0, until = 1e16;
    long long limit = 0;
    struct target *t;
    json_t *r;
    int f;

    if (params_only(p, allowed, e) || !(t = rpc_get_target(d, c, p, e)) || param_string(p, "metric", true, &metric, e) ||
        param_number(p, "since", &since, NULL, e) || param_number(p, "until", &until, NULL, e) ||
        param_int(p, "limit", false, 1, 1LL << 40, &limit, NULL, e) ||
        param_string(p, "function", false, &function, e))
        return NULL;
    if (!strcmp(metric, OSD_METRIC_FUNC))
        return series_func(t, function, since, until, limit, e);
    if (function) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "function", "'function' goes with metric 'func'");
        return NULL;
    }
    f = family_find(metric);
    if (f < 0) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "metric", "unknown metric '%s' (expected cpu, mem, net, syscall, heap or func)",
                 metric);
        return NULL;
    }
    if (!t->opts.fam[f]) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "metric", "target %s does not collect '%s' (watch it with --%s)",
                 t->label, metric, metric);
        return NULL;
    }
    r = series_json(&t->series[f], family_desc(f), since, until, limit);
    rpc_target_keys(r, t);
    json_object_set_new(r, "metric", json_string(metric));
    json_object_set_new(r, "interval_ms", json_integer(t->opts.interval_ms));
    json_object_set_new(r, "state", json_string(t->state == TARGET_RUNNING ? "running" : "exited"));
    return r;
}

enum thread_sort { SORT_CPU, SORT_NET, SORT_SYSCALL, SORT_HEAP };

static uint64_t heap_live(const struct thread_stat *th)
{
    return th->heap.alloc_bytes > th->heap.free_bytes ? th->heap.alloc_bytes - th->heap.free_bytes : 0;
}

static uint64_t heap_outstanding(const struct thread_stat *th)
{
    return th->heap.allocs > th->heap.frees ? th->heap.allocs - th->heap.frees : 0;
}

/* The last interval first; among equals (e.g. all idle now), the totals since the watch. */
static void sort_key(const struct thread_stat *th, enum thread_sort by, double *now, double *total)
{
    switch (by) {
    case SORT_NET:
        *now = (double)(th->d_net.tx_bytes + th->d_net.rx_bytes);
        *total = (double)(th->net.tx_bytes + th->net.rx_bytes);
        break;
    case SORT_SYSCALL:
        *now = (double)th->d_sys_calls;
        *total = (double)th->sys.count;
        break;
    case SORT_HEAP: /* live bytes are a level, not a count: no interval figure */
        *now = *total = (double)heap_live(th);
        break;
    default:
        *now = th->cpu_pct;
        *total = (double)th->oncpu_ns;
    }
}

static enum thread_sort sort_by; /* qsort has no context; the loop thread is the only caller */

/* Largest first; then by tid so the order is stable between calls. */
static int cmp_busy(const void *a, const void *b)
{
    const struct thread_stat *x = a, *y = b;
    double nx, tx, ny, ty;

    sort_key(x, sort_by, &nx, &tx);
    sort_key(y, sort_by, &ny, &ty);
    if (nx != ny)
        return nx < ny ? 1 : -1;
    if (tx != ty)
        return tx < ty ? 1 : -1;
    return (x->tid > y->tid) - (x->tid < y->tid);
}

#define THREAD_TOP_SYSCALLS 5

/* The thread's most frequent syscalls since the watch, from the per-thread map. */
static json_t *thread_top_syscalls(struct bpf_sweep *sw, uint32_t target_id, uint32_t tid)
{
    const struct sys_thread_key *k;
    const struct sys_val *top[THREAD_TOP_SYSCALLS] = { NULL };
    uint32_t nr[THREAD_TOP_SYSCALLS] = { 0 };
    size_t first, n, lo, hi;
    json_t *arr = json_array();

    bpf_sweep_slice(sw, target_id, &first, &n);
    /* the slice is sorted by (tid, nr): binary search of the thread's first entry */
    lo = first, hi = first + n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        k = bpf_sweep_key(sw, mid);
        if (k->tid < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < first + n && (k = bpf_sweep_key(sw, i))->tid == tid; i++) {
        const struct sys_val *v = bpf_sweep_val(sw, i);
        int j = THREAD_TOP_SYSCALLS - 1;

        if (top[j] && top[j]->count >= v->count)
            continue;
        for (; j > 0 && (!top[j - 1] || top[j - 1]->count < v->count); j--) {
            top[j] = top[j - 1];
            nr[j] = nr[j - 1];
        }
        top[j] = v;
        nr[j] = k->nr;
    }
    for (int j = 0; j < THREAD_TOP_SYSCALLS && top[j]; j++)
        json_array_append_new(arr, json_pack("{s:i, s:s, s:I, s:I}", "nr", (int)nr[j], "name", syscall_name(nr[j]),
                                             "count", (json_int_t)top[j]->count, "errors",
                                             (json_int_t)top[j]->errors));
    return arr;
}

static json_t *thread_json(const struct target *t, const struct thread_stat *th, struct bpf_sweep *sys_sw)
{
    char comm[32] = "";
    json_t *o;

    procfs_comm((pid_t)th->tgid, (pid_t)th->tid, comm, sizeof(comm));
    o = json_pack("{s:i, s:i, s:s, s:f, s:I, s:I, s:I}", "tid", (int)th->tid, "tgid", (int)th->tgid, "comm", comm,
                  "cpu_pct", th->cpu_pct, "oncpu_ns", (json_int_t)th->oncpu_ns, "ctx_voluntary",
                  (json_int_t)th->d_nvcsw, "ctx_involuntary", (json_int_t)th->d_nivcsw);
    if (t->opts.fam[FAM_NET])
        json_object_set_new(o, "net",
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "tx_bytes",
                                      (json_int_t)th->d_net.tx_bytes, "rx_bytes", (json_int_t)th->d_net.rx_bytes,
                                      "tx_calls", (json_int_t)th->d_net.tx_calls, "rx_calls",
                                      (json_int_t)th->d_net.rx_calls, "tx_bytes_total", (json_int_t)th->net.tx_bytes,
                                      "rx_bytes_total", (json_int_t)th->net.rx_bytes, "tx_calls_total",
                                      (json_int_t)th->net.tx_calls, "rx_calls_total", (json_int_t)th->net.rx_calls));
    if (t->opts.fam[FAM_SYSCALL])
        json_object_set_new(o, "syscall",
                            json_pack("{s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:o}", "calls",
                                      (json_int_t)th->d_sys_calls, "errors", (json_int_t)th->d_sys_errors, "p50_ns",
                                      number_json(th->sys_p50_ns), "p99_ns", number_json(th->sys_p99_ns),
                                      "calls_total", (json_int_t)th->sys.count, "errors_total",
                                      (json_int_t)th->sys.errors, "total_ns", (json_int_t)th->sys.total_ns, "top",
                                      sys_sw ? thread_top_syscalls(sys_sw, t->id, th->tid) : json_array()));
    if (t->opts.fam[FAM_HEAP])
        json_object_set_new(o, "heap",
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "live_bytes",
                                      (json_int_t)heap_live(th), "outstanding", (json_int_t)heap_outstanding(th),
                                      "allocs",
                                      (json_int_t)th->d_heap_allocs, "frees", (json_int_t)th->d_heap_frees,
                                      "alloc_bytes", (json_int_t)th->d_heap_alloc_bytes, "allocs_total",
                                      (json_int_t)th->heap.allocs, "frees_total", (json_int_t)th->heap.frees,
                                      "alloc_bytes_total", (json_int_t)th->heap.alloc_bytes));
    return o;
}

static json_t *m_threads(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", "cgroup", "unit", "sort", NULL };
    static const char *const sorts[] = { [SORT_CPU] = "cpu", [SORT_NET] = "net", [SORT_SYSCALL] = "syscall",
                                         [SORT_HEAP] = "heap" };
    static const enum family sort_fam[] = { [SORT_CPU] = FAM_CPU, [SORT_NET] = FAM_NET,
                                            [SORT_SYSCALL] = FAM_SYSCALL, [SORT_HEAP] = FAM_HEAP };
    struct bpf_sweep *sys_sw = NULL;
    struct thread_stat *sorted;
    const char *sort = NULL;
    enum thread_sort by = SORT_CPU;
    struct target *t;
    json_t *arr, *r;

    if (params_only(p, allowed, e) || !(t = rpc_get_target(d, c, p, e)) || param_string(p, "sort", false, &sort, e))
        return NULL;
    if (!t->opts.threads) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "target %s is not watched per thread (watch it with --threads)",
                 t->label);
        return NULL;
    }
    if (sort) {
        while (by <= SORT_HEAP && strcmp(sort, sorts[by]))
            by++;
        if (by > SORT_HEAP) {
            rpc_fail(e, OSD_E_INVALID_PARAMS, "sort", "unknown sort '%s' (expected cpu, net, syscall or heap)", sort);
            return NULL;
        }
        if (!t->opts.fam[sort_fam[by]]) {
            rpc_fail(e, OSD_E_INVALID_PARAMS, "sort", "cannot sort by '%s': target %s does not collect it", sort,
                     t->label);
            return NULL;
        }
    }
    if (t->opts.fam[FAM_SYSCALL] && d->sys) {
        sys_sw = sysmon_threads(d->sys);
        if (bpf_sweep_read(sys_sw, 200 * 1000 * 1000LL))
            sys_sw = NULL; /* no top list; the counts come from the last tick anyway */
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
    sort_by = by;
    qsort(sorted, t->nthreads, sizeof(*sorted), cmp_busy);
    for (size_t i = 0; i < t->nthreads; i++)
        json_array_append_new(arr, thread_json(t, &sorted[i], sys_sw));
    free(sorted);
    r = json_pack("{s:f, s:s, s:o}", "time", t->threads_time, "sort", sorts[by], "threads", arr);
    if (r)
        rpc_target_keys(r, t);
    return r;
}

static json_t *m_anomalies(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "since", "until", "pid", "cgroup", "unit", "metric", "limit", NULL };
    double since = 0, until = 1e16;
    const char *metric = NULL;
    long long limit = 0;
    struct target_sel sel;
    struct anomaly_filter f;

    if (params_only(p, allowed, e) || param_number(p, "since", &since, NULL, e) ||
        param_number(p, "until", &until, NULL, e) || rpc_sel_read(p, false, &sel, e) ||
        param_string(p, "metric", false, &metric, e) || param_int(p, "limit", false, 1, 10000000, &limit, NULL, e))
        return NULL;
    rpc_sel_filter(d, &sel, &f);
    return json_pack("{s:o}", "anomalies",
                     alerts_query(d->alerts, since, until, &f, metric, (size_t)limit, rpc_conn_uid(c)));
}

static json_t *m_subscribe(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", "cgroup", "unit", NULL };
    struct target_sel sel;
    struct anomaly_filter f;

    if (params_only(p, allowed, e) || rpc_sel_read(p, false, &sel, e))
        return NULL;
    rpc_sel_filter(d, &sel, &f);
    rpc_conn_subscribe(c, &f);
    return json_pack("{s:b, s:i, s:o, s:o}", "subscribed", 1, "pid", (int)sel.pid, "cgroup",
                     f.cgroup[0] ? json_string(f.cgroup) : json_null(), "unit",
                     sel.unit[0] ? json_string(sel.unit) : json_null());
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
    static const char *const allowed[] = { "pid", "cgroup", "unit", "sort", "limit", NULL };
    const struct sysmon_sweep *sw;
    const struct sysmon_entry *ent;
    const char *sort = "count";
    struct sys_row *rows;
    size_t first, n;
    long long limit = 0;
    struct target *t;
    json_t *arr, *r;
    int err;

    if (params_only(p, allowed, e) || !(t = rpc_get_target(d, c, p, e)) || param_string(p, "sort", false, &sort, e) ||
        param_int(p, "limit", false, 1, 100000, &limit, NULL, e))
        return NULL;
    if (strcmp(sort, "count") && strcmp(sort, "time")) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "sort", "param 'sort' must be \"count\" or \"time\", got '%s'", sort);
        return NULL;
    }
    if (!t->opts.fam[FAM_SYSCALL]) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "target %s does not collect syscalls (watch it with --syscall)",
                 t->label);
        return NULL;
    }
    if (t->sys_slot || !t->sys_final) {
        sw = sysmon_sweep(d->sys, 0, &err);
        if (!sw) {
            rpc_fail(e, OSD_E_BPF, NULL, "cannot read the syscall map: %s", strerror(-err));
            return NULL;
        }
        sysmon_target(sw, t->id, &first, &n);
        ent = sw->e + first;
    } else { /* stopped collecting: the totals it kept */
        ent = t->sys_final;
        n = t->sys_nfinal;
    }
    rows = calloc(n ? n : 1, sizeof(*rows));
    if (!rows)
        return NULL;
    for (size_t i = 0; i < n; i++)
        rows[i] = (struct sys_row){ ent[i].k.nr, &ent[i].v };
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
    r = json_pack("{s:o}", "syscalls", arr);
    if (r)
        rpc_target_keys(r, t);
    return r;
}

/* A uprobe error of utrace_resolve()/utrace_start() as a reply. */
static void uprobe_fail(struct daemon *d, struct rpc_error *e, int err, const char *field, const char *spec,
                        const char *why)
{
    switch (err) {
    case -EMFILE:
        rpc_fail(e, OSD_E_LIMIT, field, "too many uprobes: all %d probe slots are in use (see status.uprobe)",
                 OSD_UP_SLOTS);
        break;
    case -ENOSPC:
        rpc_fail(e, OSD_E_LIMIT, field, "too many traced functions for this target (at most %d)",
                 UTRACE_FUNCS_PER_TARGET);
        break;
    case -ENOTSUP:
        rpc_fail(e, OSD_E_BPF, field, "uprobes need BPF, which is unavailable: %s", d->up_error);
        break;
    case -ENOMEM:
        rpc_fail(e, OSD_E_INTERNAL, field, "out of memory");
        break;
    default:
        if (why)
            rpc_fail(e, OSD_E_INVALID_PARAMS, field, "param '%s': %s", field, why);
        else
            rpc_fail(e, OSD_E_BPF, field, "cannot attach the uprobe to %s: %s", spec, strerror(-err));
    }
}

/* Parses --enter/--return formats; defaults name the function. */
static int uprobe_formats(json_t *p, const struct uprobe_spec *s, struct ufmt *enter, struct ufmt *ret,
                          struct rpc_error *e)
{
    const char *fe = NULL, *fr = NULL;
    char def[UTRACE_FUNC_MAX + 32], why[256];

    if (param_string(p, "enter", false, &fe, e) || param_string(p, "return", false, &fr, e))
        return -1;
    snprintf(def, sizeof(def), "enter %s", s->func);
    if (ufmt_parse(fe ? fe : def, false, enter, why, sizeof(why)))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, "enter", "param 'enter': %s", why);
    snprintf(def, sizeof(def), "return %s ret=%%ld retval", s->func);
    if (ufmt_parse(fr ? fr : def, true, ret, why, sizeof(why)))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, "return", "param 'return': %s", why);
    return 0;
}

static json_t *trace_uprobe(struct daemon *d, struct rpc_conn *c, struct target *t, json_t *p, const char *spec,
                            struct rpc_error *e)
{
    struct uprobe_spec s;
    struct ufmt enter, ret;
    char why[512] = "";
    int err;

    if (!c || rpc_conn_tracing(c)) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "this connection already traces a target; open another one");
        return NULL;
    }
    err = utrace_resolve(t->pid, spec, true, &s, why, sizeof(why));
    if (err) {
        uprobe_fail(d, e, err, "uprobe", spec, why);
        return NULL;
    }
    if (uprobe_formats(p, &s, &enter, &ret, e))
        return NULL;
    err = utrace_start(t, &s, &enter, &ret, c);
    if (err) {
        uprobe_fail(d, e, err, "uprobe", s.name, NULL);
        return NULL;
    }
    return json_pack("{s:b, s:i, s:s, s:s, s:s}", "tracing", 1, "pid", (int)t->pid, "function", s.name, "enter",
                     enter.text, "return", ret.text);
}

static json_t *m_trace(struct daemon *d, struct rpc_conn *c, json_t *p, struct rpc_error *e)
{
    static const char *const allowed[] = { "pid", "cgroup", "unit", "syscalls", "uprobe", "enter", "return", NULL };
    bool syscalls = false, present;
    const char *uprobe = NULL;
    struct target *t;
    json_t *r;

    if (params_only(p, allowed, e) || !(t = rpc_get_target(d, c, p, e)) ||
        param_bool(p, "syscalls", &syscalls, &present, e) || param_string(p, "uprobe", false, &uprobe, e))
        return NULL;
    if (syscalls && uprobe) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "uprobe", "trace either 'syscalls' or one 'uprobe', not both");
        return NULL;
    }
    if (uprobe)
        return trace_uprobe(d, c, t, p, uprobe, e);
    if (json_object_get(p, "enter") || json_object_get(p, "return")) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, json_object_get(p, "enter") ? "enter" : "return",
                 "'enter' and 'return' go with 'uprobe'");
        return NULL;
    }
    if (!syscalls) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "syscalls", "say what to trace: 'syscalls': true or 'uprobe': \"BINARY:FUNCTION\"");
        return NULL;
    }
    if (!t->opts.fam[FAM_SYSCALL]) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "target %s does not collect syscalls (watch it with --syscall)",
                 t->label);
        return NULL;
    }
    if (!c || rpc_conn_trace(c, t->id)) {
        rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "this connection already traces a target; open another one");
        return NULL;
    }
    target_trace_start(t);
    r = json_pack("{s:b}", "tracing", 1);
    if (r)
        rpc_target_keys(r, t);
    return r;
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
