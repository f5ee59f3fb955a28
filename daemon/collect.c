/* collect.c - one sampling step of a target: CPU from the procmon sweep (or /proc when
 * BPF is unavailable), memory from /proc/PID/statm of every live member, heap counters of
 * every member, root exit; heap misuse events become alerts. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alerts.h"
#include "collect_heap.h"
#include "collect_net.h"
#include "collect_procmon.h"
#include "collect_syscall.h"
#include "daemon.h"
#include "log.h"
#include "procfs.h"
#include "state.h"
#include "targets.h"
#include "thread_stats.h"
#include "utrace.h"

/* A sweep older than this is re-read; targets ticking together share one read. */
#define SWEEP_MAX_AGE_NS (20 * 1000 * 1000LL)

struct tick {
    int64_t mono_ns;
    uint64_t total_ns, total_nvcsw, total_nivcsw;
    uint64_t rss, vm;
    size_t members; /* live processes */
    size_t entries; /* membership entries left, dead ones not yet reaped included */
    bool root_alive;
    struct net_val net; /* cumulative, when the target collects net */
    struct sys_val sys; /* cumulative totals over its syscalls */
    struct heap_val heap; /* cumulative, gone members (the bank) included */
    uint64_t heap_live, heap_outstanding; /* live members only */
};

static void heap_add(struct heap_val *to, const struct heap_val *v)
{
    to->allocs += v->allocs;
    to->frees += v->frees;
    to->alloc_bytes += v->alloc_bytes;
    to->free_bytes += v->free_bytes;
    to->calls += v->calls;
    to->misuse += v->misuse;
    to->untracked += v->untracked;
}

/* heap_scope "process": the kernel does not carry per-process probes into forked children,
 * so members get their own as they are first sampled (calls they make before are missed),
 * and lose them when reaped. */
static void heap_scope_member(struct target *t, uint32_t tgid, bool alive, bool reaped)
{
    int err;

    if (reaped) {
        heapmon_detach_pid(t->d->heap, tgid);
        return;
    }
    if (!alive)
        return;
    err = heapmon_attach_pid(t->d->heap, tgid, t->id);
    /* no libc (a static program) or already gone: nothing to probe */
    if (err && err != -ENOENT && err != -ESRCH)
        log_warn("heap: cannot attach probes to pid %u of target %u: %s", tgid, t->id, strerror(-err));
}

/* A member's heap counters: a gone one's are banked (its heap is gone with it), a live
 * one's count towards live bytes and outstanding blocks. */
static void heap_member(struct target *t, uint32_t tgid, bool alive, bool reaped, struct tick *k)
{
    struct heap_val v;

    if (!t->opts.fam[FAM_HEAP] || !t->d->heap || heapmon_read(t->d->heap, tgid, &v))
        return;
    if (t->opts.heap_process)
        heap_scope_member(t, tgid, alive, reaped);
    if (reaped) {
        heap_add(&t->heap_bank, &v);
        heapmon_forget(t->d->heap, tgid, v.allocs > v.frees);
        return;
    }
    heap_add(&k->heap, &v);
    if (alive) {
        k->heap_live += v.alloc_bytes > v.free_bytes ? v.alloc_bytes - v.free_bytes : 0;
        k->heap_outstanding += v.allocs > v.frees ? v.allocs - v.frees : 0;
    }
}

static void add_mem(struct target *t, pid_t pid, struct tick *k)
{
    uint64_t rss, vm;

    if (t->opts.fam[FAM_MEM] && procfs_statm(pid, &rss, &vm) == 0) {
        k->rss += rss;
        k->vm += vm;
    }
}

static int cmp_thread(const void *a, const void *b)
{
    const struct thread_stat *x = a, *y = b;

    return (x->tid > y->tid) - (x->tid < y->tid);
}

static struct thread_stat *thread_prev(struct target *t, uint32_t tid)
{
    struct thread_stat key = { .tid = tid };

    return t->threads ? bsearch(&key, t->threads, t->nthreads, sizeof(key), cmp_thread) : NULL;
}

static bool thread_exists(uint32_t tgid, uint32_t tid)
{
    char path[64];
    struct stat st;

    snprintf(path, sizeof(path), "/proc/%u/task/%u", tgid, tid);
    return stat(path, &st) == 0;
}

/* Tids whose slots are to be deleted from the other families' per-thread maps. */
struct dead_tids {
    uint32_t *tid;
    size_t n;
};

/* Per-thread view: deltas against the previous tick; threads gone from /proc for two
 * ticks are banked and their slots deleted so the map does not fill with dead tids. */
static void update_threads(struct target *t, const struct procmon_sweep *sw, size_t first, size_t n,
                           const uint32_t *reaped, size_t nreaped, double dt_ns, bool *banked,
                           struct dead_tids *dead)
{
    struct thread_stat *cur = calloc(n ? n : 1, sizeof(*cur));
    size_t m = 0, r = 0;

    if (!cur)
        return;
    for (size_t i = first; i < first + n; i++) {
        const struct procmon_cpu *c = &sw->cpu[i];
        struct thread_stat *p;

        while (r < nreaped && reaped[r] < c->k.tgid)
            r++;
        if (!c->k.tid || (r < nreaped && reaped[r] == c->k.tgid))
            continue;
        p = thread_prev(t, c->k.tid);
        if (!thread_exists(c->k.tgid, c->k.tid)) {
            if (p && p->gone_once) {
                t->banked_ns += c->v.oncpu_ns;
                t->banked_nvcsw += c->v.nvcsw;
                t->banked_nivcsw += c->v.nivcsw;
                procmon_forget_cpu(t->d->pm, &c->k);
                banked[i - first] = true;
                dead->tid[dead->n++] = c->k.tid;
                continue;
            }
        }
        cur[m].tid = c->k.tid;
        cur[m].tgid = c->k.tgid;
        cur[m].oncpu_ns = c->v.oncpu_ns;
        cur[m].nvcsw = c->v.nvcsw;
        cur[m].nivcsw = c->v.nivcsw;
        cur[m].gone_once = !thread_exists(c->k.tgid, c->k.tid);
        if (p && dt_ns > 0) {
            cur[m].cpu_pct = 100.0 * (double)(c->v.oncpu_ns - p->oncpu_ns) / dt_ns;
            cur[m].d_nvcsw = c->v.nvcsw - p->nvcsw;
            cur[m].d_nivcsw = c->v.nivcsw - p->nivcsw;
        }
        m++;
    }
    qsort(cur, m, sizeof(*cur), cmp_thread);
    thread_stats_fill(t, cur, m, SWEEP_MAX_AGE_NS);
    free(t->threads);
    t->threads = cur;
    t->nthreads = m;
    t->threads_time = now_epoch();
}

/* The root is checked by start time too, so a reused pid is not mistaken for it. */
static bool member_alive(struct target *t, pid_t pid)
{
    struct proc_stat st;

    if (pid == t->pid) {
        if (procfs_stat(pid, &st) || st.start_ticks != t->start_ticks || st.state == 'Z' || st.state == 'X')
            return false;
        memcpy(t->comm, st.comm, sizeof(t->comm)); /* follows exec, e.g. after `watch --exec` */
        return true;
    }
    return kill(pid, 0) == 0 || errno != ESRCH;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static int sample_bpf(struct target *t, struct tick *k)
{
    struct procmon *pm = t->d->pm;
    const struct procmon_sweep *sw;
    size_t first, n, n_members, nreaped = 0;
    uint32_t *reaped = NULL;
    struct dead_tids dead = { 0 };
    bool *banked;
    int err;

    sw = procmon_sweep(pm, SWEEP_MAX_AGE_NS, &err);
    if (!sw)
        return err;
    k->mono_ns = sw->mono_ns;
    procmon_target_members(sw, t->id, &first, &n);
    n_members = n;
    reaped = calloc(n ? n : 1, sizeof(*reaped));
    if (!reaped)
        return -ENOMEM;
    for (size_t i = first; i < first + n; i++) {
        const struct procmon_member *m = &sw->members[i];
        struct watched_val w = m->w;

        if (w.flags & OSD_W_REAP) {
            /* Dead since the previous tick: its final switch-out has been counted. */
            reaped[nreaped++] = m->tgid;
            if (t->sys_slot)
                sysmon_member_gone(t->d->sys, (pid_t)m->tgid, t->sys_slot);
            heap_member(t, m->tgid, false, true, k);
            continue;
        }
        if (w.flags & OSD_W_DEAD) {
            heap_member(t, m->tgid, false, false, k);
            w.flags |= OSD_W_REAP;
            procmon_set_flags(pm, (pid_t)m->tgid, &w);
            continue;
        }
        /* A process that exited between its /proc discovery and its map insertion was
         * never flagged by the exit tracepoint: notice it here and reap it the same way. */
        if (!member_alive(t, (pid_t)m->tgid)) {
            heap_member(t, m->tgid, false, false, k);
            w.flags |= OSD_W_DEAD;
            procmon_set_flags(pm, (pid_t)m->tgid, &w);
            continue;
        }
        heap_member(t, m->tgid, true, false, k);
        /* the kernel sets the slot byte at fork/exec/cgroup attach; this also covers
         * members added from /proc (and costs one byte store) */
        if (t->sys_slot)
            sysmon_member(t->d->sys, (pid_t)m->tgid, t->sys_slot);
        if ((pid_t)m->tgid == t->pid)
            k->root_alive = true;
        k->members++;
        add_mem(t, (pid_t)m->tgid, k);
    }
    /* members are sorted by tgid, so reaped is too */
    procmon_target_cpu(sw, t->id, &first, &n);
    banked = calloc(n ? n : 1, sizeof(*banked));
    dead.tid = calloc(n ? n : 1, sizeof(*dead.tid));
    if (!banked || !dead.tid) {
        free(dead.tid);
        free(banked);
        free(reaped);
        return -ENOMEM;
    }
    if (t->opts.threads)
        update_threads(t, sw, first, n, reaped, nreaped,
                       t->have_prev ? (double)(sw->mono_ns - t->prev_mono_ns) : 0, banked, &dead);
    for (size_t i = first; i < first + n; i++) {
        const struct procmon_cpu *c = &sw->cpu[i];

        if (banked[i - first])
            continue;
        if (bsearch(&c->k.tgid, reaped, nreaped, sizeof(*reaped), cmp_u32)) {
            t->banked_ns += c->v.oncpu_ns;
            t->banked_nvcsw += c->v.nvcsw;
            t->banked_nivcsw += c->v.nivcsw;
            if (c->k.tid) {
                procmon_forget_cpu(pm, &c->k);
                dead.tid[dead.n++] = c->k.tid;
            }
            continue;
        }
        k->total_ns += c->v.oncpu_ns;
        k->total_nvcsw += c->v.nvcsw;
        k->total_nivcsw += c->v.nivcsw;
    }
    for (size_t i = 0; i < nreaped; i++)
        procmon_forget(pm, (pid_t)reaped[i]);
    k->entries = n_members - nreaped;
    if (nreaped)
        procmon_invalidate(pm);
    qsort(dead.tid, dead.n, sizeof(*dead.tid), cmp_u32);
    thread_stats_forget(t, dead.tid, dead.n);
    free(dead.tid);
    free(banked);
    free(reaped);
    return 0;
}

struct walk {
    struct target *t;
    struct tick *k;
    int depth;
};

static struct proc_seen *seen_find(struct target *t, pid_t pid, uint64_t start)
{
    for (size_t i = 0; i < t->nseen; i++)
        if (t->seen[i].pid == pid && t->seen[i].start_ticks == start)
            return &t->seen[i];
    return NULL;
}

static int walk_proc(pid_t pid, void *arg)
{
    struct walk *w = arg, sub = *w;
    struct target *t = w->t;
    struct proc_stat st;
    struct proc_seen *s;

    if (procfs_stat(pid, &st) || st.state == 'Z')
        return 0;
    s = seen_find(t, pid, st.start_ticks);
    if (!s) {
        if (t->nseen == t->seen_cap) {
            size_t cap = t->seen_cap ? t->seen_cap * 2 : 16;
            struct proc_seen *ns = realloc(t->seen, cap * sizeof(*ns));
            if (!ns)
                return 0;
            t->seen = ns;
            t->seen_cap = cap;
        }
        s = &t->seen[t->nseen++];
        s->pid = pid;
        s->start_ticks = st.start_ticks;
    }
    s->ticks = st.utime_ticks + st.stime_ticks;
    s->seen = true;
    if (pid == t->pid)
        w->k->root_alive = true;
    w->k->members++;
    add_mem(t, pid, w->k);
    if (t->opts.children && w->depth < 64) {
        sub.depth++;
        procfs_children(pid, walk_proc, &sub);
    }
    return 0;
}

/* Fallback without BPF: utime+stime of every live process of the tree; a process that
 * disappeared keeps its last reading in the bank (its final ticks are lost). */
static int sample_procfs(struct target *t, struct tick *k)
{
    struct walk w = { .t = t, .k = k };
    double ns_per_tick = 1e9 / (double)procfs_clk_tck();
    size_t j = 0;

    k->mono_ns = mono_ns();
    for (size_t i = 0; i < t->nseen; i++)
        t->seen[i].seen = false;
    if (t->state == TARGET_RUNNING)
        walk_proc(t->pid, &w);
    else if (t->opts.children) /* orphans are re-parented: only the root's tree is known */
        for (size_t i = 0; i < t->nseen; i++)
            walk_proc(t->seen[i].pid, &w);
    for (size_t i = 0; i < t->nseen; i++) {
        if (!t->seen[i].seen) {
            t->banked_ns += (uint64_t)((double)t->seen[i].ticks * ns_per_tick);
            continue;
        }
        k->total_ns += (uint64_t)((double)t->seen[i].ticks * ns_per_tick);
        t->seen[j++] = t->seen[i];
    }
    t->nseen = j;
    k->entries = k->members;
    return 0;
}

static void mark_exited(struct target *t)
{
    t->state = TARGET_EXITED;
    t->exited_at = now_epoch();
    target_cgroup_gone(t);
    log_info("target %s (%s) exited%s", t->label, t->comm, target_is_cgroup(t) ? ": its cgroup was removed" : "");
    state_changed(t->d);
    daemon_notify_status(t->d);
}

/* A point that cannot be stored (the wall clock stepped back, or no memory to grow the
 * ring) is dropped and said once per target, not silently. */
static void append_row(struct target *t, enum family f, int64_t now_ms, const double *row)
{
    int err = series_append(&t->series[f], now_ms, row);

    if (err && !t->append_warned) {
        t->append_warned = true;
        log_warn("target %s: dropping %s points: %s", t->label, family_desc(f)->name,
                 err == -EINVAL ? "the wall clock went back" : strerror(-err));
    } else if (!err) {
        t->append_warned = false;
    }
}

static uint64_t delta(uint64_t now, uint64_t before)
{
    return now > before ? now - before : 0;
}

static void net_row(double *row, const struct net_val *now, const struct net_val *before)
{
    uint64_t tx = 0, rx = 0, txc = 0, rxc = 0;

    for (int p = 0; p < OSD_NET_NPROTO; p++) {
        tx += delta(now->tx_bytes[p], before->tx_bytes[p]);
        rx += delta(now->rx_bytes[p], before->rx_bytes[p]);
        txc += delta(now->tx_calls[p], before->tx_calls[p]);
        rxc += delta(now->rx_calls[p], before->rx_calls[p]);
    }
    row[NET_COL_TX_BYTES] = (double)tx;
    row[NET_COL_RX_BYTES] = (double)rx;
    row[NET_COL_TX_CALLS] = (double)txc;
    row[NET_COL_RX_CALLS] = (double)rxc;
    row[NET_COL_TCP_TX] = (double)delta(now->tx_bytes[OSD_NET_TCP], before->tx_bytes[OSD_NET_TCP]);
    row[NET_COL_TCP_RX] = (double)delta(now->rx_bytes[OSD_NET_TCP], before->rx_bytes[OSD_NET_TCP]);
    row[NET_COL_UDP_TX] = (double)delta(now->tx_bytes[OSD_NET_UDP], before->tx_bytes[OSD_NET_UDP]);
    row[NET_COL_UDP_RX] = (double)delta(now->rx_bytes[OSD_NET_UDP], before->rx_bytes[OSD_NET_UDP]);
}

static void sys_row(double *row, const struct sys_val *now, const struct sys_val *before, double dt_s)
{
    __u64 hist[OSD_SYS_HIST];
    uint64_t calls = delta(now->count, before->count), errors = delta(now->errors, before->errors);

    for (int b = 0; b < OSD_SYS_HIST; b++)
        hist[b] = delta(now->hist[b], before->hist[b]);
    row[SYS_COL_RATE] = (double)calls / dt_s;
    row[SYS_COL_ERR_RATE] = (double)errors / dt_s;
    row[SYS_COL_P50] = sysmon_quantile(hist, 0.5);
    row[SYS_COL_P99] = sysmon_quantile(hist, 0.99);
    row[SYS_COL_CALLS] = (double)calls;
    row[SYS_COL_ERRORS] = (double)errors;
}

static void heap_row(double *row, const struct tick *k, const struct heap_val *before, double dt_s)
{
    const struct heap_val *now = &k->heap;

    row[HEAP_COL_LIVE] = (double)k->heap_live;
    row[HEAP_COL_OUTSTANDING] = (double)k->heap_outstanding;
    row[HEAP_COL_ALLOC_RATE] = (double)delta(now->allocs, before->allocs) / dt_s;
    row[HEAP_COL_FREE_RATE] = (double)delta(now->frees, before->frees) / dt_s;
    row[HEAP_COL_ALLOC_BYTES] = (double)delta(now->alloc_bytes, before->alloc_bytes);
    row[HEAP_COL_MISUSE] = (double)delta(now->misuse, before->misuse);
}

void target_sample(struct target *t)
{
    struct tick k = { 0 };
    int64_t now_ms;
    int err;

    err = t->d->pm ? sample_bpf(t, &k) : sample_procfs(t, &k);
    if (err) {
        log_warn("target %s: sampling failed: %s", t->label, strerror(-err));
        return;
    }
    if (t->opts.fam[FAM_NET] && (err = netmon_read(t->d->net, t->id, &k.net)))
        log_warn("target %s: reading network counters: %s", t->label, strerror(-err));
    if (t->opts.fam[FAM_SYSCALL]) {
        const struct sysmon_sweep *sw = sysmon_sweep(t->d->sys, SWEEP_MAX_AGE_NS, &err);
        if (sw)
            sysmon_total(sw, t->id, &k.sys);
        else
            log_warn("target %s: reading syscall counters: %s", t->label, strerror(-err));
    }
    heap_add(&k.heap, &t->heap_bank);
    k.total_ns += t->banked_ns;
    k.total_nvcsw += t->banked_nvcsw;
    k.total_nivcsw += t->banked_nivcsw;
    t->nmembers = k.members;
    now_ms = (int64_t)(now_epoch() * 1000.0);
    if (t->have_prev && k.mono_ns > t->prev_mono_ns) {
        double dt = (double)(k.mono_ns - t->prev_mono_ns);
        double *row;

        t->have_last = true;
        t->last_time = (double)now_ms / 1000.0;
        if (t->opts.fam[FAM_CPU]) {
            /* Counters only grow; a torn read must not make a negative interval. */
            row = t->last[FAM_CPU];
            row[CPU_COL_PCT] = 100.0 * (double)delta(k.total_ns, t->prev_ns) / dt;
            row[CPU_COL_NVCSW] = (double)delta(k.total_nvcsw, t->prev_nvcsw);
            row[CPU_COL_NIVCSW] = (double)delta(k.total_nivcsw, t->prev_nivcsw);
            append_row(t, FAM_CPU, now_ms, row);
        }
        /* a cgroup target lives with its cgroup: no member is a row of zeros, not a gap */
        if (t->opts.fam[FAM_MEM] && (k.members || (target_is_cgroup(t) && t->state == TARGET_RUNNING))) {
            row = t->last[FAM_MEM];
            row[MEM_COL_RSS] = (double)k.rss;
            row[MEM_COL_VM] = (double)k.vm;
            append_row(t, FAM_MEM, now_ms, row);
        }
        if (t->opts.fam[FAM_NET]) {
            net_row(t->last[FAM_NET], &k.net, &t->net_prev);
            append_row(t, FAM_NET, now_ms, t->last[FAM_NET]);
        }
        if (t->opts.fam[FAM_SYSCALL]) {
            sys_row(t->last[FAM_SYSCALL], &k.sys, &t->sys_prev, dt / 1e9);
            append_row(t, FAM_SYSCALL, now_ms, t->last[FAM_SYSCALL]);
        }
        if (t->opts.fam[FAM_HEAP]) {
            heap_row(t->last[FAM_HEAP], &k, &t->heap_prev, dt / 1e9);
            append_row(t, FAM_HEAP, now_ms, t->last[FAM_HEAP]);
        }
        detect_target_tick(t, now_ms);
    }
    utrace_sample(t, now_ms, t->have_prev && k.mono_ns > t->prev_mono_ns);
    t->net_prev = k.net;
    t->sys_prev = k.sys;
    t->heap_prev = k.heap;
    if (!t->have_prev || k.total_ns >= t->prev_ns) {
        t->prev_ns = k.total_ns;
        t->prev_nvcsw = k.total_nvcsw;
        t->prev_nivcsw = k.total_nivcsw;
    }
    t->prev_mono_ns = k.mono_ns;
    t->have_prev = true;
    if (target_is_cgroup(t))
        k.root_alive = cgroup_exists(t->cgroup, t->cgroup_id);
    if (t->state == TARGET_RUNNING && !k.root_alive)
        mark_exited(t);
    if (t->state == TARGET_EXITED && !k.entries)
        target_stop_collecting(t);
}

/* A misuse is an instant alert: begun and ended at once, through the one alert path. */
void heap_on_event(void *arg, const struct heap_event *ev, const char *stack)
{
    struct daemon *d = arg;
    struct target *t = target_find_id(d, ev->target_id);
    struct anomaly x = { 0 };

    if (!t || !d->alerts)
        return; /* unwatched since: its events are moot */
    snprintf(x.kind, sizeof(x.kind), "%s", heapmon_kind_name(ev->kind));
    x.pid = t->pid; /* the target, as for every alert: subscriptions and queries select by it */
    memcpy(x.cgroup, t->cgroup, sizeof(x.cgroup));
    memcpy(x.unit, t->unit, sizeof(x.unit));
    x.tgid = (pid_t)ev->tgid;
    x.uid = t->uid;
    if (procfs_comm((pid_t)ev->tgid, (pid_t)ev->tgid, x.comm, sizeof(x.comm)))
        memcpy(x.comm, t->comm, sizeof(x.comm));
    snprintf(x.metrics, sizeof(x.metrics), "heap");
    snprintf(x.detector, sizeof(x.detector), "heap");
    x.start = x.end = now_epoch() - (double)(mono_ns() - (int64_t)ev->ts_ns) / 1e9;
    x.tid = (pid_t)ev->tid;
    x.addr = ev->addr;
    x.size = ev->size;
    x.stack_id = ev->stack_id;
    snprintf(x.stack, sizeof(x.stack), "%s", stack);
    log_warn("heap misuse %s in %s[%d] tid %d (target %s): address 0x%llx size %llu at %s", x.kind, x.comm, (int)x.tgid,
             (int)x.tid, t->label, (unsigned long long)x.addr, (unsigned long long)x.size, stack[0] ? stack : "?");
    alerts_begin(d->alerts, &x);
    alerts_end(d->alerts, &x);
}
