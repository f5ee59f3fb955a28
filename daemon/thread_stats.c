/* thread_stats.c - see thread_stats.h. */
#include "thread_stats.h"

#include <stdlib.h>
#include <string.h>

#include "collect_heap.h"
#include "collect_net.h"
#include "collect_syscall.h"
#include "daemon.h"
#include "log.h"
#include "procmon.h"

static int cmp_tid(const void *a, const void *b)
{
    const struct thread_stat *x = a, *y = b;

    return (x->tid > y->tid) - (x->tid < y->tid);
}

const struct thread_stat *thread_stats_find(const struct thread_stat *arr, size_t n, uint32_t tid)
{
    struct thread_stat key = { .tid = tid };

    return arr && n ? bsearch(&key, arr, n, sizeof(key), cmp_tid) : NULL;
}

static struct thread_stat *find_mut(struct thread_stat *arr, size_t n, uint32_t tid)
{
    return (struct thread_stat *)thread_stats_find(arr, n, tid);
}

/* The target's slice of a per-thread map; NULL (after one warning) if it cannot be read. */
static struct bpf_sweep *slice(struct target *t, struct bpf_sweep *sw, const char *fam, int64_t max_age_ns,
                               size_t *first, size_t *n)
{
    int err = bpf_sweep_read(sw, max_age_ns);

    if (err) {
        log_warn("target %d: reading per-thread %s counters: %s", (int)t->pid, fam, strerror(-err));
        return NULL;
    }
    bpf_sweep_slice(sw, t->id, first, n);
    return sw;
}

static void fill_net(struct target *t, struct thread_stat *cur, size_t m, int64_t max_age_ns)
{
    size_t first, n;
    struct bpf_sweep *sw = slice(t, netmon_threads(t->d->net), "net", max_age_ns, &first, &n);

    for (size_t i = first; sw && i < first + n; i++) {
        const struct thread_key *k = bpf_sweep_key(sw, i);
        struct thread_stat *th = find_mut(cur, m, k->tid);

        if (th)
            th->net = *(const struct net_thread_val *)bpf_sweep_val(sw, i);
    }
}

static void fill_sys(struct target *t, struct thread_stat *cur, size_t m, int64_t max_age_ns)
{
    size_t first, n;
    struct bpf_sweep *sw = slice(t, sysmon_threads(t->d->sys), "syscall", max_age_ns, &first, &n);

    /* one entry per (thread, syscall): summed per thread */
    for (size_t i = first; sw && i < first + n; i++) {
        const struct sys_thread_key *k = bpf_sweep_key(sw, i);
        const struct sys_val *v = bpf_sweep_val(sw, i);
        struct thread_stat *th = find_mut(cur, m, k->tid);

        if (!th)
            continue;
        th->sys.count += v->count;
        th->sys.errors += v->errors;
        th->sys.total_ns += sysmon_total_est(v->total_ns, v->count, v->hist);
        for (int b = 0; b < OSD_SYS_HIST; b++)
            th->sys.hist[b] += v->hist[b];
    }
}

static void fill_heap(struct target *t, struct thread_stat *cur, size_t m, int64_t max_age_ns)
{
    size_t first, n;
    struct bpf_sweep *sw = slice(t, heapmon_threads(t->d->heap), "heap", max_age_ns, &first, &n);

    for (size_t i = first; sw && i < first + n; i++) {
        const struct thread_key *k = bpf_sweep_key(sw, i);
        struct thread_stat *th = find_mut(cur, m, k->tid);

        if (th)
            th->heap = *(const struct heap_thread_val *)bpf_sweep_val(sw, i);
    }
}

static uint64_t delta(uint64_t now, uint64_t before)
{
    return now > before ? now - before : 0;
}

void thread_stats_fill(struct target *t, struct thread_stat *cur, size_t n, int64_t max_age_ns)
{
    static const struct thread_stat none; /* a thread new this interval: all of it is new */
    bool net = t->opts.fam[FAM_NET] && t->d->net, sys = t->opts.fam[FAM_SYSCALL] && t->d->sys,
         heap = t->opts.fam[FAM_HEAP] && t->d->heap;

    if (net)
        fill_net(t, cur, n, max_age_ns);
    if (sys)
        fill_sys(t, cur, n, max_age_ns);
    if (heap)
        fill_heap(t, cur, n, max_age_ns);
    for (size_t i = 0; i < n; i++) {
        struct thread_stat *c = &cur[i];
        const struct thread_stat *p = thread_stats_find(t->threads, t->nthreads, c->tid);
        __u64 hist[OSD_SYS_HIST];

        if (!p)
            p = &none;
        c->d_net.tx_bytes = delta(c->net.tx_bytes, p->net.tx_bytes);
        c->d_net.rx_bytes = delta(c->net.rx_bytes, p->net.rx_bytes);
        c->d_net.tx_calls = delta(c->net.tx_calls, p->net.tx_calls);
        c->d_net.rx_calls = delta(c->net.rx_calls, p->net.rx_calls);
        c->d_sys_calls = delta(c->sys.count, p->sys.count);
        c->d_sys_errors = delta(c->sys.errors, p->sys.errors);
        for (int b = 0; b < OSD_SYS_HIST; b++)
            hist[b] = delta(c->sys.hist[b], p->sys.hist[b]);
        c->sys_p50_ns = sysmon_quantile(hist, 0.5);
        c->sys_p99_ns = sysmon_quantile(hist, 0.99);
        c->d_heap_allocs = delta(c->heap.allocs, p->heap.allocs);
        c->d_heap_frees = delta(c->heap.frees, p->heap.frees);
        c->d_heap_alloc_bytes = delta(c->heap.alloc_bytes, p->heap.alloc_bytes);
    }
}

void thread_stats_forget(struct target *t, const uint32_t *tids, size_t n)
{
    if (!n)
        return;
    if (t->opts.fam[FAM_NET] && t->d->net)
        bpf_sweep_delete(netmon_threads(t->d->net), t->id, tids, n);
    if (t->opts.fam[FAM_SYSCALL] && t->d->sys)
        bpf_sweep_delete(sysmon_threads(t->d->sys), t->id, tids, n);
    if (t->opts.fam[FAM_HEAP] && t->d->heap)
        bpf_sweep_delete(heapmon_threads(t->d->heap), t->id, tids, n);
}
