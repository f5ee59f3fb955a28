/* targets.c - target lifecycle: watch (BPF membership + existing descendants), the
 * per-target sampling timer, exit, retention and unwatch. Sampling itself is collect.c. */
#include "targets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect_heap.h"
#include "collect_net.h"
#include "collect_procmon.h"
#include "collect_syscall.h"
#include "daemon.h"
#include "log.h"
#include "procfs.h"
#include "state.h"
#include "utrace.h"

struct target *target_find(struct daemon *d, pid_t pid)
{
    for (struct target *t = d->targets; t && pid > 0; t = t->next)
        if (t->pid == pid)
            return t;
    return NULL;
}

struct target *target_find_cgroup(struct daemon *d, const char *path)
{
    for (struct target *t = d->targets; t; t = t->next)
        if (target_is_cgroup(t) && !strcmp(t->cgroup, path))
            return t;
    return NULL;
}

struct target *target_find_unit(struct daemon *d, const char *unit)
{
    for (struct target *t = d->targets; t; t = t->next)
        if (t->unit[0] && !strcmp(t->unit, unit))
            return t;
    return NULL;
}

struct target *target_find_id(struct daemon *d, uint32_t id)
{
    for (struct target *t = d->targets; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

size_t target_series_bytes(const struct target *t)
{
    size_t n = 0;

    for (int f = 0; f < FAM_MAX; f++)
        n += series_bytes(&t->series[f]);
    for (size_t i = 0; i < t->nufuncs; i++)
        n += series_bytes(&t->ufuncs[i].s);
    return n;
}

size_t target_series_cap_bytes(const struct target *t)
{
    size_t n = 0;

    for (int f = 0; f < FAM_MAX; f++)
        n += series_cap_bytes(&t->series[f]);
    for (size_t i = 0; i < t->nufuncs; i++)
        n += series_cap_bytes(&t->ufuncs[i].s);
    return n;
}

size_t target_samples(const struct target *t)
{
    for (int f = 0; f < FAM_MAX; f++)
        if (t->opts.fam[f])
            return t->series[f].len;
    return 0;
}

static void list_add_tail(struct daemon *d, struct target *t)
{
    struct target **pp = &d->targets, *prev = NULL;

    while (*pp) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    t->prev = prev;
    *pp = t;
    d->ntargets++;
}

static void list_del(struct daemon *d, struct target *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        d->targets = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    d->ntargets--;
}

struct add_ctx {
    struct target *t;
    uint32_t flags;
    int depth;
};

/* Adds existing descendants. Children forked from now on are added by the fork
 * tracepoint because the parent is already in `watched`; a child that already belongs
 * to another target stays there. */
static int add_descendant(pid_t child, void *arg)
{
    struct add_ctx *c = arg;
    struct add_ctx sub = *c;
    uint32_t owner;
    int err;

    if (c->depth > 64) /* /proc trees are finite, but a bound keeps the stack safe */
        return 0;
    err = procmon_add(c->t->d->pm, child, c->t->id, c->flags, &owner);
    if (err && err != -EEXIST) {
        log_warn("target %s: cannot add child %d: %s", c->t->label, (int)child, strerror(-err));
        return 0;
    }
    sub.depth++;
    procfs_children(child, add_descendant, &sub);
    return 0;
}

/* The net and syscall programs are attached while at least one target uses them; a
 * target's counters are deleted when it goes. */
static void collectors_use(struct target *t, int delta)
{
    struct daemon *d = t->d;

    if (t->opts.fam[FAM_NET]) {
        netmon_use(d->net, delta);
        if (delta < 0)
            netmon_forget(d->net, t->id);
    }
    if (t->opts.fam[FAM_SYSCALL]) {
        sysmon_use(d->sys, delta);
        if (delta < 0) {
            sysmon_forget(d->sys, t->id);
            t->sys_slot = 0;
        }
    }
}

/* The heap counters and blocks of every member: the kernel keeps them per process. */
static void heap_forget_members(struct target *t)
{
    const struct procmon_sweep *sw;
    size_t first, n;
    int err;

    if (!t->d->heap || !t->d->pm || !(sw = procmon_sweep(t->d->pm, 0, &err)))
        return;
    procmon_target_members(sw, t->id, &first, &n);
    for (size_t i = first; i < first + n; i++)
        heapmon_forget(t->d->heap, sw->members[i].tgid, 1);
}

static void on_timer(uv_timer_t *h)
{
    struct target *t = h->data;

    target_sample(t);
}

static void target_free(struct target *t)
{
    if (t->sys_slot && t->d->sys)
        sysmon_forget(t->d->sys, t->id); /* a watch that failed after taking its slot */
    if (t->heap_libc[0] && t->d->heap)
        heapmon_release(t->d->heap, t->heap_libc);
    if (t->opts.heap_process && t->d->heap)
        heapmon_detach_target(t->d->heap, t->id);
    for (int f = 0; f < FAM_MAX; f++)
        series_free(&t->series[f]);
    utrace_target_free(t);
    detect_target_free(t);
    free(t->threads);
    free(t->seen);
    free(t->sys_final);
    free(t);
}

static void on_timer_closed(uv_handle_t *h)
{
    target_free(h->data);
}

static int series_setup(struct target *t, size_t cap)
{
    int err;

    for (int f = 0; f < FAM_MAX; f++)
        if (t->opts.fam[f] && (err = series_init(&t->series[f], cap, family_desc(f)->ncols)))
            return err;
    return 0;
}

static uint32_t watch_flags(const struct watch_opts *o)
{
    uint32_t flags = 0;

    if (o->children)
        flags |= OSD_W_CHILDREN;
    if (o->threads)
        flags |= OSD_W_THREADS;
    if (o->fam[FAM_NET])
        flags |= OSD_W_NET;
    if (o->fam[FAM_SYSCALL])
        flags |= OSD_W_SYSCALL;
    if (o->fam[FAM_HEAP])
        flags |= OSD_W_HEAP | (o->heap_process ? OSD_W_HEAP_PROC : 0);
    return flags;
}

/* The part of a watch common to pid and cgroup targets: storage, detector, BPF objects
 * of the families, heap probes on the libc that libc_pid maps. */
static int target_new(struct daemon *d, const struct watch_opts *o, pid_t libc_pid, struct target **out)
{
    struct target *t;
    int err;

    if (d->ntargets >= d->cfg.max_targets)
        return -EMFILE;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->d = d;
    t->id = ++d->next_target_id;
    t->uid = o->uid;
    t->opts = *o;
    t->state = TARGET_RUNNING;
    t->watched_at = now_epoch();
    t->det.o = o->detect;
    err = series_setup(t, d->cfg.ring_capacity);
    if (!err && (err = detect_target_init(t)) == -EINVAL)
        err = -EDOM; /* -EINVAL means "a thread id" to the caller */
    if (err)
        goto err_free;
    /* these families have no /proc fallback: their BPF objects load on first use */
    if ((err = daemon_load_families(d, o->fam)))
        goto err_free;
    if (o->fam[FAM_SYSCALL] && (err = sysmon_slot_get(d->sys, t->id, watch_flags(o), &t->sys_slot)))
        goto err_free;
    if (o->fam[FAM_HEAP]) {
        char libc[256];

        err = heapmon_find_libc(libc_pid, libc, sizeof(libc));
        if (err) {
            err = err == -ENOENT ? -ENOEXEC : err;
            goto err_free;
        }
        if (o->heap_process) {
            /* members found later are attached as they are sampled (collect.c); an empty
             * cgroup target gives the daemon's own pid here, which is not probed */
            if (libc_pid != getpid() && heapmon_attach_pid(d->heap, (uint32_t)libc_pid, t->id)) {
                err = -EIO;
                goto err_free;
            }
        } else {
            if (heapmon_use(d->heap, libc)) {
                err = -EIO;
                goto err_free;
            }
            memcpy(t->heap_libc, libc, sizeof(libc)); /* released by target_free */
        }
    }
    *out = t;
    return 0;
err_free:
    target_free(t);
    return err;
}

/* Membership is in place: start the collectors, the timer and the first baseline. */
static void target_start(struct target *t)
{
    struct daemon *d = t->d;
    const struct watch_opts *o = &t->opts;

    collectors_use(t, +1);
    uv_timer_init(d->loop, &t->timer);
    t->timer.data = t;
    list_add_tail(d, t);
    target_sample(t); /* baseline: the first point comes one interval later */
    /* the loop's clock is as old as this request, which may have loaded BPF objects:
     * refresh it so the first interval is a whole one after the baseline */
    uv_update_time(d->loop);
    uv_timer_start(&t->timer, on_timer, (uint64_t)o->interval_ms, (uint64_t)o->interval_ms);
    t->collecting = true;
    state_changed(d);
    log_info("watching %s (%s) as target %u:%s%s%s%s%s children=%d threads=%d interval=%dms", t->label, t->comm,
             t->id, o->fam[FAM_CPU] ? " cpu" : "", o->fam[FAM_MEM] ? " mem" : "", o->fam[FAM_NET] ? " net" : "",
             o->fam[FAM_SYSCALL] ? " syscall" : "", o->fam[FAM_HEAP] ? " heap" : "", o->children, o->threads,
             o->interval_ms);
}

int target_watch(struct daemon *d, pid_t pid, const struct watch_opts *o, struct target **out, pid_t *owner_pid)
{
    struct proc_stat st;
    struct target *t, *owner;
    uint32_t owner_id = 0, flags = watch_flags(o);
    int err;

    if (pid <= 0)
        return -ESRCH;
    if ((owner = target_find(d, pid))) {
        *owner_pid = owner->pid;
        return -EEXIST;
    }
    if (d->ntargets >= d->cfg.max_targets)
        return -EMFILE;
    err = procfs_stat(pid, &st);
    if (err)
        return err == -ENOENT ? -ESRCH : err;
    if (st.tgid != pid) { /* a thread id: the caller says which process to watch */
        *owner_pid = st.tgid;
        return -EINVAL;
    }
    if (st.state == 'Z' || st.state == 'X')
        return -ESRCH;
    if (o->uid != 0 && st.uid != o->uid)
        return -EPERM;
    if ((err = target_new(d, o, pid, &t)))
        return err;
    flags |= t->sys_slot << OSD_W_SLOT_SHIFT;
    t->pid = pid;
    t->start_ticks = st.start_ticks;
    memcpy(t->comm, st.comm, sizeof(t->comm));
    snprintf(t->label, sizeof(t->label), "pid %d", (int)pid);
    if (d->pm) {
        err = procmon_add(d->pm, pid, t->id, flags, &owner_id);
        if (err == -EEXIST) {
            struct target *o2 = target_find_id(d, owner_id);
            *owner_pid = o2 ? o2->pid : 0;
            goto err_free;
        }
        if (err) {
            err = err == -E2BIG || err == -ENOMEM ? -ENOSPC : err;
            goto err_free;
        }
        if (o->children) {
            struct add_ctx c = { .t = t, .flags = flags };
            procfs_children(pid, add_descendant, &c);
        }
        procmon_invalidate(d->pm);
    }
    target_start(t);
    *out = t;
    return 0;
err_free:
    target_free(t);
    return err;
}

static int first_pid(pid_t pid, void *arg)
{
    *(pid_t *)arg = pid;
    return 1;
}

/* A process of the cgroup joins the target unless another target has it already (a
 * pid target keeps its tree: the first owner keeps a process). */
static int add_cgroup_member(pid_t pid, void *arg)
{
    struct add_ctx *c = arg;
    uint32_t owner;
    int err = procmon_add(c->t->d->pm, pid, c->t->id, c->flags, &owner);

    if (err && err != -EEXIST)
        log_warn("target %s: cannot add process %d: %s", c->t->label, (int)pid, strerror(-err));
    return 0;
}

int target_watch_cgroup(struct daemon *d, const struct cgroup_ref *cg, const struct watch_opts *o, struct target **out,
                        struct target **owner)
{
    struct add_ctx c = { .flags = watch_flags(o) };
    const char *base = strrchr(cg->path, '/');
    pid_t libc_pid = getpid(); /* without a member yet, the libc the daemon itself uses */
    const char *name;
    struct target *t;
    size_t n;
    int err;

    if (!d->pm)
        return -ENOSYS;
    if ((*owner = target_find_cgroup(d, cg->path)))
        return -EEXIST;
    if (o->uid != 0 && cg->uid != o->uid)
        return -EPERM;
    if (o->fam[FAM_HEAP])
        cgroup_procs(cg->path, first_pid, &libc_pid);
    if ((err = target_new(d, o, libc_pid, &t)))
        return err;
    c.flags |= t->sys_slot << OSD_W_SLOT_SHIFT;
    snprintf(t->cgroup, sizeof(t->cgroup), "%s", cg->path);
    snprintf(t->unit, sizeof(t->unit), "%s", cg->unit);
    t->cgroup_id = cg->id;
    name = cg->unit[0] ? cg->unit : base ? base + 1 : cg->path;
    n = strnlen(name, sizeof(t->comm) - 1); /* a long name is cut: comm is a short label */
    memcpy(t->comm, name, n);
    snprintf(t->label, sizeof(t->label), "%s %s", cg->unit[0] ? "unit" : "cgroup", cg->unit[0] ? cg->unit : cg->path);
    /* the cgroup first, then its processes: one that enters between the two is caught by
     * the kernel side, one already there is listed */
    err = procmon_cgroup_add(d->pm, cg->id, t->id, c.flags);
    if (err)
        goto err_free;
    t->cgroup_registered = true;
    c.t = t;
    if ((err = cgroup_procs(cg->path, add_cgroup_member, &c)))
        log_warn("target %s: cannot list its processes: %s", t->label, strerror(-err));
    procmon_invalidate(d->pm);
    target_start(t);
    *out = t;
    return 0;
err_free:
    target_free(t);
    return err;
}

void target_cgroup_gone(struct target *t)
{
    if (t->cgroup_registered && t->d->pm)
        procmon_cgroup_del(t->d->pm, t->cgroup_id);
    t->cgroup_registered = false;
}

void target_unwatch(struct target *t)
{
    struct daemon *d = t->d;

    if (t->opts.fam[FAM_HEAP])
        heap_forget_members(t);
    utrace_target_gone(t);
    if (t->opts.fam[FAM_HEAP] && t->opts.threads && d->heap)
        heapmon_forget_threads(d->heap, t->id);
    target_cgroup_gone(t); /* before the members go, so none joins again meanwhile */
    if (d->pm)
        procmon_remove_target(d->pm, t->id);
    collectors_use(t, -1);
    detect_target_stop(t);
    list_del(d, t);
    uv_timer_stop(&t->timer);
    uv_close((uv_handle_t *)&t->timer, on_timer_closed);
    state_changed(d);
}

int target_trace_start(struct target *t)
{
    if (!t->opts.fam[FAM_SYSCALL])
        return -ENOTSUP;
    if (t->tracers++ == 0 && t->d->pm) {
        procmon_target_flags(t->d->pm, t->id, OSD_W_TRACE, 0);
        sysmon_slot_flags(t->d->sys, t->id, OSD_W_TRACE, 0);
    }
    return 0;
}

void target_trace_release(struct daemon *d, uint32_t target_id)
{
    struct target *t = target_find_id(d, target_id);

    if (t && t->tracers > 0 && --t->tracers == 0 && d->pm) {
        procmon_target_flags(d->pm, t->id, 0, OSD_W_TRACE);
        sysmon_slot_flags(d->sys, t->id, 0, OSD_W_TRACE);
    }
}

void targets_unwatch_all(struct daemon *d)
{
    while (d->targets)
        target_unwatch(d->targets);
}

static void on_retention(uv_timer_t *h)
{
    struct target *t = h->data;

    log_info("target %s (%s) exited %d s ago: dropped by retention", t->label, t->comm, t->d->cfg.retention_s);
    target_unwatch(t);
}

void target_stop_collecting(struct target *t)
{
    if (!t->collecting)
        return;
    t->collecting = false;
    uv_timer_stop(&t->timer);
    detect_target_stop(t);
    /* no member left: keep the syscall totals, free the slot for another target */
    if (t->sys_slot && t->d->sys) {
        int err = sysmon_copy(t->d->sys, t->id, &t->sys_final, &t->sys_nfinal);

        if (err)
            log_warn("target %s: cannot keep its syscall totals: %s", t->label, strerror(-err));
        sysmon_slot_put(t->d->sys, t->id);
        t->sys_slot = 0;
    }
    if (t->d->cfg.retention_s > 0)
        uv_timer_start(&t->timer, on_retention, (uint64_t)t->d->cfg.retention_s * 1000, 0);
}
