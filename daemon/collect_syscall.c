/* collect_syscall.c - see collect_syscall.h. */
#include "collect_syscall.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect_procmon.h"
#include "log.h"
#include "syscall.skel.h"

struct sysmon {
    struct syscall_bpf *skel;
    int sys_fd, cnt_fd;
    int users;
    struct ring_buffer *rb;
    uv_poll_t poll;
    sysmon_event_cb cb;
    void *cb_arg;
    struct sysmon_sweep sw;
    int swept;
    struct sys_key *keys; /* batch-read scratch */
    struct sys_val *vals; /* ncpu values per key: the map is per-CPU */
    int ncpu;
    struct bpf_sweep threads;
};

static int on_event(void *ctx, void *data, size_t len)
{
    struct sysmon *sm = ctx;

    if (len >= sizeof(struct sys_event))
        sm->cb(sm->cb_arg, data);
    return 0;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    struct sysmon *sm = h->data;

    (void)events;
    if (status == 0)
        ring_buffer__consume(sm->rb);
}

static void free_buffers(struct sysmon *sm)
{
    free(sm->sw.e);
    free(sm->keys);
    free(sm->vals);
    bpf_sweep_free(&sm->threads);
}

int sysmon_open(uv_loop_t *loop, int watched_fd, sysmon_event_cb cb, void *arg, struct sysmon **out)
{
    struct sysmon *sm = calloc(1, sizeof(*sm));
    int err;

    if (!sm)
        return -ENOMEM;
    sm->cb = cb;
    sm->cb_arg = arg;
    sm->skel = syscall_bpf__open();
    if (!sm->skel) {
        err = -errno;
        goto err_free;
    }
    err = bpf_map__reuse_fd(sm->skel->maps.watched, watched_fd);
    if (!err)
        err = syscall_bpf__load(sm->skel);
    if (err)
        goto err_destroy;
    sm->sys_fd = bpf_map__fd(sm->skel->maps.sys);
    sm->cnt_fd = bpf_map__fd(sm->skel->maps.sys_counters);
    bpf_sweep_init(&sm->threads, bpf_map__fd(sm->skel->maps.sys_threads), sizeof(struct sys_thread_key),
                   sizeof(struct sys_val), OSD_SYS_THREADS_MAX);
    sm->rb = ring_buffer__new(bpf_map__fd(sm->skel->maps.sys_events), on_event, sm, NULL);
    sm->ncpu = libbpf_num_possible_cpus();
    if (sm->ncpu <= 0) {
        err = sm->ncpu ? sm->ncpu : -EINVAL;
        goto err_buffers;
    }
    /* full size, untouched pages never become resident */
    sm->sw.e = calloc(OSD_SYS_MAX, sizeof(*sm->sw.e));
    sm->keys = calloc(OSD_SYS_MAX, sizeof(*sm->keys));
    sm->vals = calloc((size_t)OSD_SYS_MAX * (size_t)sm->ncpu, sizeof(*sm->vals));
    if (!sm->rb || !sm->sw.e || !sm->keys || !sm->vals) {
        err = -ENOMEM;
        goto err_buffers;
    }
    err = uv_poll_init(loop, &sm->poll, ring_buffer__epoll_fd(sm->rb));
    if (err)
        goto err_buffers;
    sm->poll.data = sm;
    uv_poll_start(&sm->poll, UV_READABLE, on_readable);
    *out = sm;
    return 0;
err_buffers:
    ring_buffer__free(sm->rb);
    free_buffers(sm);
err_destroy:
    syscall_bpf__destroy(sm->skel);
err_free:
    free(sm);
    return err;
}

static void on_poll_closed(uv_handle_t *h)
{
    struct sysmon *sm = h->data;

    ring_buffer__free(sm->rb);
    syscall_bpf__destroy(sm->skel);
    free_buffers(sm);
    free(sm);
}

void sysmon_close(struct sysmon *sm)
{
    if (!sm)
        return;
    syscall_bpf__detach(sm->skel);
    uv_close((uv_handle_t *)&sm->poll, on_poll_closed);
}

int sysmon_use(struct sysmon *sm, int delta)
{
    int err = 0;

    if (delta > 0 && sm->users++ == 0) {
        err = syscall_bpf__attach(sm->skel);
        if (err) {
            sm->users--;
            log_warn("syscalls: cannot attach: %s", strerror(-err));
        }
    } else if (delta < 0 && sm->users > 0 && --sm->users == 0) {
        syscall_bpf__detach(sm->skel);
    }
    return err;
}

int sysmon_users(const struct sysmon *sm)
{
    return sm->users;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct sysmon_entry *x = a, *y = b;

    if (x->k.target_id != y->k.target_id)
        return x->k.target_id < y->k.target_id ? -1 : 1;
    return (x->k.nr > y->k.nr) - (x->k.nr < y->k.nr);
}

static int sweep_read(struct sysmon *sm)
{
    uint64_t in_tok = 0, out_tok = 0;
    size_t n = 0;
    int first = 1;

    sm->sw.mono_ns = mono_ns();
    while (n < OSD_SYS_MAX) {
        __u32 count = (__u32)(OSD_SYS_MAX - n);
        DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
        int err = bpf_map_lookup_batch(sm->sys_fd, first ? NULL : &in_tok, &out_tok, sm->keys + n,
                                       sm->vals + n * (size_t)sm->ncpu, &count, &opts);

        if (err && errno != ENOENT)
            return -errno;
        n += count;
        if (err)
            break;
        in_tok = out_tok;
        first = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct sys_val *sum = &sm->sw.e[i].v;

        sm->sw.e[i].k = sm->keys[i];
        *sum = sm->vals[i * (size_t)sm->ncpu];
        for (int c = 1; c < sm->ncpu; c++) {
            const struct sys_val *v = &sm->vals[i * (size_t)sm->ncpu + (size_t)c];
            sum->count += v->count;
            sum->errors += v->errors;
            sum->total_ns += v->total_ns;
            for (int b = 0; b < OSD_SYS_HIST; b++)
                sum->hist[b] += v->hist[b];
        }
    }
    sm->sw.n = n;
    qsort(sm->sw.e, n, sizeof(*sm->sw.e), cmp_entry);
    sm->swept = 1;
    return 0;
}

const struct sysmon_sweep *sysmon_sweep(struct sysmon *sm, int64_t max_age_ns, int *err)
{
    *err = 0;
    if (!sm->swept || mono_ns() - sm->sw.mono_ns > max_age_ns)
        *err = sweep_read(sm);
    return *err ? NULL : &sm->sw;
}

void sysmon_target(const struct sysmon_sweep *sw, uint32_t target_id, size_t *first, size_t *n)
{
    size_t lo = 0, hi = sw->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sw->e[mid].k.target_id < target_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (hi < sw->n && sw->e[hi].k.target_id == target_id)
        hi++;
    *n = hi - lo;
}

void sysmon_total(const struct sysmon_sweep *sw, uint32_t target_id, struct sys_val *out)
{
    size_t first, n;

    memset(out, 0, sizeof(*out));
    sysmon_target(sw, target_id, &first, &n);
    for (size_t i = first; i < first + n; i++) {
        const struct sys_val *v = &sw->e[i].v;
        out->count += v->count;
        out->errors += v->errors;
        out->total_ns += v->total_ns;
        for (int b = 0; b < OSD_SYS_HIST; b++)
            out->hist[b] += v->hist[b];
    }
}

void sysmon_forget(struct sysmon *sm, uint32_t target_id)
{
    const struct sysmon_sweep *sw;
    size_t first, n;
    int err;

    sw = sysmon_sweep(sm, 0, &err);
    if (!sw)
        return;
    sysmon_target(sw, target_id, &first, &n);
    for (size_t i = first; i < first + n; i++)
        bpf_map_delete_elem(sm->sys_fd, &sw->e[i].k);
    sm->swept = 0;
    bpf_sweep_delete(&sm->threads, target_id, NULL, 0);
}

struct bpf_sweep *sysmon_threads(struct sysmon *sm)
{
    return &sm->threads;
}

uint64_t sysmon_counter(struct sysmon *sm, enum osd_sys_counter idx)
{
    int ncpu = libbpf_num_possible_cpus();
    uint32_t k = idx;
    uint64_t sum = 0, *vals;

    if (ncpu <= 0 || !(vals = calloc((size_t)ncpu, sizeof(*vals))))
        return 0;
    if (!bpf_map_lookup_elem(sm->cnt_fd, &k, vals))
        for (int c = 0; c < ncpu; c++)
            sum += vals[c];
    free(vals);
    return sum;
}

double sysmon_quantile(const __u64 *hist, double q)
{
    uint64_t total = 0, cum = 0;

    for (int b = 0; b < OSD_SYS_HIST; b++)
        total += hist[b];
    if (!total)
        return 0;
    for (int b = 0; b < OSD_SYS_HIST; b++) {
        cum += hist[b];
        if ((double)cum >= q * (double)total)
            return ldexp(M_SQRT2, b); /* [2^b, 2^(b+1)): geometric middle */
    }
    return ldexp(M_SQRT2, OSD_SYS_HIST - 1);
}

extern const char *const osd_syscall_names[];
extern const size_t osd_syscall_names_len;

const char *syscall_name(uint32_t nr)
{
    static char buf[24];

    if (nr < osd_syscall_names_len && osd_syscall_names[nr])
        return osd_syscall_names[nr];
    snprintf(buf, sizeof(buf), "syscall_%u", nr);
    return buf;
}
