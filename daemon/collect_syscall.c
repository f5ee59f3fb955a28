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
#include <sys/mman.h>

#include "collect_procmon.h"
#include "log.h"
#include "syscall.skel.h"

struct sysmon {
    struct syscall_bpf *skel;
    int cnt_fd, info_fd, cells_fd;
    int users;
    uint8_t *slot_bytes;   /* `sys_slot` mapped: one byte per tgid */
    size_t slot_len;       /* bytes mapped (tgids covered, rounded up to a page) */
    size_t slot_tgids;     /* tgids covered: 8 per array word */
    struct sys_lat *lat;   /* `sys_lat` mapped */
    size_t lat_len;
    uint32_t slot_target[OSD_SYS_SLOTS]; /* target of each slot, 0: free */
    uint32_t slot_flags[OSD_SYS_SLOTS];
    struct ring_buffer *rb;
    uv_poll_t poll;
    sysmon_event_cb cb;
    void *cb_arg;
    struct sysmon_sweep sw;
    int swept;
    uint32_t *keys;        /* batch scratch: one slot's keys */
    struct sys_cnt *vals;  /* ncpu values per key: the map is per-CPU */
    int ncpu;
    struct bpf_sweep threads;
    /* latency windows: handle_sys_enter attached win_ms every period_ms (win_ms 0: always) */
    uv_timer_t win_timer;
    uv_work_t win_req;
    struct bpf_link *enter_link; /* written by the worker while win_busy */
    uint32_t win_ms, period_ms;
    bool in_window;
    bool win_busy;         /* a worker is attaching or detaching handle_sys_enter */
    bool win_want;         /* what that worker was asked for */
    int win_err;           /* its result */
    bool closed;
    int pending;           /* closing handles and the worker: freed when 0 after close */
};

static void enter_sync(struct sysmon *sm);
static bool enter_wanted(const struct sysmon *sm);

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
    if (sm->slot_bytes)
        munmap(sm->slot_bytes, sm->slot_len);
    if (sm->lat)
        munmap(sm->lat, sm->lat_len);
    sm->slot_bytes = NULL;
    sm->lat = NULL;
    free(sm->sw.e);
    free(sm->keys);
    free(sm->vals);
    bpf_sweep_free(&sm->threads);
}

/* pid_max now, capped at the kernel's limit (PID_MAX_LIMIT on 64-bit). */
static size_t read_pid_max(void)
{
    FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
    unsigned long v = 0;

    if (f) {
        if (fscanf(f, "%lu", &v) != 1)
            v = 0;
        fclose(f);
    }
    if (!v)
        v = 32768;
    return v > 4194304 ? 4194304 : v;
}

static void *map_mmap(int fd, size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    return p == MAP_FAILED ? NULL : p;
}

static size_t page_round(size_t n)
{
    size_t pg = 4096;

    return (n + pg - 1) / pg * pg;
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
    sm->slot_tgids = (read_pid_max() + 7) / 8 * 8;
    err = bpf_map__reuse_fd(sm->skel->maps.watched, watched_fd);
    if (!err)
        err = bpf_map__set_max_entries(sm->skel->maps.sys_slot, (__u32)(sm->slot_tgids / 8));
    bpf_program__set_autoattach(sm->skel->progs.handle_sys_enter, false);
    if (!err)
        err = syscall_bpf__load(sm->skel);
    if (err)
        goto err_destroy;
    sm->cnt_fd = bpf_map__fd(sm->skel->maps.sys_counters);
    sm->info_fd = bpf_map__fd(sm->skel->maps.sys_info);
    sm->cells_fd = bpf_map__fd(sm->skel->maps.sys_cnt);
    sm->slot_len = page_round(sm->slot_tgids);
    sm->lat_len = page_round((size_t)OSD_SYS_MAX * sizeof(struct sys_lat));
    sm->slot_bytes = map_mmap(bpf_map__fd(sm->skel->maps.sys_slot), sm->slot_len);
    sm->lat = map_mmap(bpf_map__fd(sm->skel->maps.sys_lat), sm->lat_len);
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
    sm->keys = calloc(OSD_SYS_NR, sizeof(*sm->keys));
    sm->vals = calloc((size_t)OSD_SYS_NR * (size_t)sm->ncpu, sizeof(*sm->vals));
    if (!sm->rb || !sm->sw.e || !sm->keys || !sm->vals || !sm->slot_bytes || !sm->lat) {
        err = -ENOMEM;
        goto err_buffers;
    }
    err = uv_poll_init(loop, &sm->poll, ring_buffer__epoll_fd(sm->rb));
    if (err)
        goto err_buffers;
    sm->poll.data = sm;
    uv_poll_start(&sm->poll, UV_READABLE, on_readable);
    uv_timer_init(loop, &sm->win_timer);
    sm->win_timer.data = sm;
    sm->win_req.data = sm;
    sm->skel->data->lat_window = 0;
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

/* The last of the closing handles and the worker frees everything. */
static void release(struct sysmon *sm)
{
    if (--sm->pending)
        return;
    bpf_link__destroy(sm->enter_link);
    ring_buffer__free(sm->rb);
    syscall_bpf__destroy(sm->skel);
    free_buffers(sm);
    free(sm);
}

static void on_handle_closed(uv_handle_t *h)
{
    release(h->data);
}

void sysmon_close(struct sysmon *sm)
{
    if (!sm)
        return;
    syscall_bpf__detach(sm->skel);
    sm->closed = true;
    sm->pending = 2 + sm->win_busy;
    uv_close((uv_handle_t *)&sm->poll, on_handle_closed);
    uv_close((uv_handle_t *)&sm->win_timer, on_handle_closed);
}

/* Attaching a tp_btf link sleeps ~13 ms in the kernel here (detaching ~0.1 ms; see
 * PERFORMANCE.md): a worker does both so the loop never waits (but for a trace start). */
static void enter_run(uv_work_t *req)
{
    struct sysmon *sm = req->data;

    sm->win_err = 0;
    if (sm->win_want && !sm->enter_link) {
        sm->enter_link = bpf_program__attach(sm->skel->progs.handle_sys_enter);
        if (!sm->enter_link)
            sm->win_err = -errno;
    } else if (!sm->win_want && sm->enter_link) {
        bpf_link__destroy(sm->enter_link);
        sm->enter_link = NULL;
    }
}

static void enter_done(uv_work_t *req, int status)
{
    struct sysmon *sm = req->data;

    (void)status;
    sm->win_busy = false;
    if (sm->closed) {
        release(sm);
        return;
    }
    if (sm->win_err)
        log_warn("syscalls: cannot attach the enter program: %s", strerror(-sm->win_err));
    sm->skel->data->lat_window = sm->enter_link != NULL;
    if (!sm->win_err)
        enter_sync(sm); /* wishes changed meanwhile */
}

static bool tracing(const struct sysmon *sm)
{
    for (uint32_t slot = 1; slot < OSD_SYS_SLOTS; slot++)
        if (sm->slot_target[slot] && (sm->slot_flags[slot] & OSD_W_TRACE))
            return true;
    return false;
}

/* handle_sys_enter is needed in a window, always while a target is traced (the stream
 * has every enter), with latency of every call asked, or with windows off. */
static bool enter_wanted(const struct sysmon *sm)
{
    return sm->users > 0 && (sm->in_window || !sm->win_ms || sm->skel->data->sample_every == 1 || tracing(sm));
}

static void enter_run_now(struct sysmon *sm)
{
    sm->win_want = enter_wanted(sm);
    enter_run(&sm->win_req);
    if (sm->win_err)
        log_warn("syscalls: cannot attach the enter program: %s", strerror(-sm->win_err));
    sm->skel->data->lat_window = sm->enter_link != NULL;
}

static void enter_sync(struct sysmon *sm)
{
    bool want = enter_wanted(sm);

    if (sm->win_busy || sm->closed || want == (sm->enter_link != NULL))
        return;
    if (want && tracing(sm)) {
        /* a trace starting between windows must see its first enters: attached on the
         * loop, once per trace start (~13 ms) */
        enter_run_now(sm);
        return;
    }
    if (!want)
        sm->skel->data->lat_window = 0; /* exits stop keeping storage before the detach */
    sm->win_want = want;
    if (uv_queue_work(sm->poll.loop, &sm->win_req, enter_run, enter_done)) {
        enter_run_now(sm); /* no worker: on the loop after all */
        return;
    }
    sm->win_busy = true;
}

static void on_window(uv_timer_t *h)
{
    struct sysmon *sm = h->data;

    sm->in_window = !sm->in_window;
    uv_timer_start(&sm->win_timer, on_window, sm->in_window ? sm->win_ms : sm->period_ms - sm->win_ms, 0);
    enter_sync(sm);
}

/* Windows run while some target counts and windows are on; the first opens at once. */
static void window_sync(struct sysmon *sm)
{
    bool run = sm->users > 0 && sm->win_ms;

    if (run && !uv_is_active((uv_handle_t *)&sm->win_timer)) {
        sm->in_window = true;
        uv_timer_start(&sm->win_timer, on_window, sm->win_ms, 0);
    } else if (!run) {
        uv_timer_stop(&sm->win_timer);
        sm->in_window = false;
    }
    enter_sync(sm);
}

void sysmon_set_window(struct sysmon *sm, uint32_t win_ms, uint32_t period_ms)
{
    if (win_ms >= period_ms)
        win_ms = 0;
    if (win_ms != sm->win_ms || period_ms != sm->period_ms)
        uv_timer_stop(&sm->win_timer); /* restarted with the new lengths */
    sm->win_ms = win_ms;
    sm->period_ms = period_ms;
    window_sync(sm);
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
    window_sync(sm);
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

/* One slot's per-CPU counts, keys slot * OSD_SYS_NR + [0, OSD_SYS_NR), into sm->vals. */
static int cells_read(struct sysmon *sm, uint32_t slot)
{
    uint32_t in_key = slot * OSD_SYS_NR - 1, out_key = 0; /* the batch starts after in_key */
    __u32 count = OSD_SYS_NR;
    DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err;

    err = bpf_map_lookup_batch(sm->cells_fd, &in_key, &out_key, sm->keys, sm->vals, &count, &opts);
    if (err && errno != ENOENT)
        return -errno;
    return count == OSD_SYS_NR ? 0 : -EIO;
}

static int sweep_read(struct sysmon *sm)
{
    size_t n = 0;
    int err;

    sm->sw.mono_ns = mono_ns();
    for (uint32_t slot = 1; slot < OSD_SYS_SLOTS; slot++) {
        if (!sm->slot_target[slot])
            continue;
        if ((err = cells_read(sm, slot)))
            return err;
        for (uint32_t nr = 0; nr < OSD_SYS_NR; nr++) {
            const struct sys_lat *l = &sm->lat[slot * OSD_SYS_NR + nr];
            struct sysmon_entry *e = &sm->sw.e[n];
            uint64_t count = 0, errors = 0;

            for (int c = 0; c < sm->ncpu; c++) {
                count += sm->vals[nr * (size_t)sm->ncpu + (size_t)c].count;
                errors += sm->vals[nr * (size_t)sm->ncpu + (size_t)c].errors;
            }
            if (!count)
                continue;
            e->k.target_id = sm->slot_target[slot];
            e->k.nr = nr;
            e->v.count = count;
            e->v.errors = errors;
            /* written by the kernel meanwhile: a torn pair of words is one sample off */
            for (int b = 0; b < OSD_SYS_HIST; b++)
                e->v.hist[b] = __atomic_load_n(&l->hist[b], __ATOMIC_RELAXED);
            e->v.total_ns = sysmon_total_est(__atomic_load_n(&l->total_ns, __ATOMIC_RELAXED), count, e->v.hist);
            n++;
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

/* Clears every member byte holding slot: stale ones of a released slot (a fork racing
 * the unwatch) must not count for the slot's next target. */
static void slot_clear_members(struct sysmon *sm, uint32_t slot)
{
    for (size_t i = 0; i < sm->slot_tgids; i++)
        if (sm->slot_bytes[i] == slot)
            __atomic_store_n(&sm->slot_bytes[i], 0, __ATOMIC_RELAXED);
}

static int slot_info_set(struct sysmon *sm, uint32_t slot)
{
    struct sys_info info = { .target_id = sm->slot_target[slot], .flags = sm->slot_flags[slot] };

    return bpf_map_update_elem(sm->info_fd, &slot, &info, BPF_ANY) ? -errno : 0;
}

/* Zeroes a slot's counters before a new target uses it. */
static int slot_zero(struct sysmon *sm, uint32_t slot)
{
    DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
    __u32 count = OSD_SYS_NR;

    for (uint32_t nr = 0; nr < OSD_SYS_NR; nr++)
        sm->keys[nr] = slot * OSD_SYS_NR + nr;
    memset(sm->vals, 0, (size_t)OSD_SYS_NR * (size_t)sm->ncpu * sizeof(*sm->vals));
    if (bpf_map_update_batch(sm->cells_fd, sm->keys, sm->vals, &count, &opts))
        return -errno;
    memset(&sm->lat[slot * OSD_SYS_NR], 0, OSD_SYS_NR * sizeof(*sm->lat));
    return 0;
}

int sysmon_slot_get(struct sysmon *sm, uint32_t target_id, uint32_t flags, uint32_t *slot_out)
{
    uint32_t slot;
    int err;

    for (slot = 1; slot < OSD_SYS_SLOTS && sm->slot_target[slot]; slot++)
        ;
    if (slot == OSD_SYS_SLOTS)
        return -EUSERS;
    slot_clear_members(sm, slot);
    if ((err = slot_zero(sm, slot)))
        return err;
    sm->slot_target[slot] = target_id;
    sm->slot_flags[slot] = (flags & (OSD_W_TRACE | OSD_W_THREADS)) | OSD_W_SYSCALL;
    if ((err = slot_info_set(sm, slot))) {
        sm->slot_target[slot] = 0;
        return err;
    }
    sm->swept = 0;
    *slot_out = slot;
    enter_sync(sm);
    return 0;
}

static uint32_t slot_find(const struct sysmon *sm, uint32_t target_id)
{
    for (uint32_t slot = 1; slot < OSD_SYS_SLOTS; slot++)
        if (sm->slot_target[slot] == target_id)
            return slot;
    return 0;
}

int sysmon_slot_flags(struct sysmon *sm, uint32_t target_id, uint32_t set, uint32_t clear)
{
    uint32_t slot = slot_find(sm, target_id);

    if (!slot)
        return -ENOENT;
    sm->slot_flags[slot] = (sm->slot_flags[slot] | set) & ~clear;
    enter_sync(sm);
    return slot_info_set(sm, slot);
}

void sysmon_member(struct sysmon *sm, pid_t tgid, uint32_t slot)
{
    if (tgid > 0 && (size_t)tgid < sm->slot_tgids)
        __atomic_store_n(&sm->slot_bytes[tgid], (uint8_t)slot, __ATOMIC_RELAXED);
}

void sysmon_member_gone(struct sysmon *sm, pid_t tgid, uint32_t slot)
{
    if (tgid > 0 && (size_t)tgid < sm->slot_tgids && sm->slot_bytes[tgid] == slot)
        __atomic_store_n(&sm->slot_bytes[tgid], 0, __ATOMIC_RELAXED);
}

size_t sysmon_slots_used(const struct sysmon *sm)
{
    size_t n = 0;

    for (uint32_t slot = 1; slot < OSD_SYS_SLOTS; slot++)
        n += sm->slot_target[slot] != 0;
    return n;
}

size_t sysmon_pid_cover(const struct sysmon *sm)
{
    return sm->slot_tgids;
}

void sysmon_set_sample(struct sysmon *sm, uint32_t every)
{
    sm->skel->data->sample_every = every ? every : 1;
    enter_sync(sm);
}

uint32_t sysmon_sample(const struct sysmon *sm)
{
    return sm->skel->data->sample_every;
}

void sysmon_slot_put(struct sysmon *sm, uint32_t target_id)
{
    uint32_t slot = slot_find(sm, target_id);

    if (!slot)
        return;
    /* the slot stops counting first, then its members let go of it */
    sm->slot_flags[slot] = 0;
    slot_info_set(sm, slot);
    slot_clear_members(sm, slot);
    sm->slot_target[slot] = 0;
    sm->swept = 0;
    enter_sync(sm);
}

int sysmon_copy(struct sysmon *sm, uint32_t target_id, struct sysmon_entry **out, size_t *n)
{
    const struct sysmon_sweep *sw;
    size_t first;
    int err;

    *out = NULL;
    *n = 0;
    if (!(sw = sysmon_sweep(sm, 0, &err)))
        return err;
    sysmon_target(sw, target_id, &first, n);
    if (!*n)
        return 0;
    *out = malloc(*n * sizeof(**out));
    if (!*out) {
        *n = 0;
        return -ENOMEM;
    }
    memcpy(*out, &sw->e[first], *n * sizeof(**out));
    return 0;
}

void sysmon_forget(struct sysmon *sm, uint32_t target_id)
{
    sysmon_slot_put(sm, target_id);
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

uint64_t sysmon_total_est(uint64_t sampled_ns, uint64_t count, const __u64 *hist)
{
    uint64_t n = 0;

    for (int b = 0; b < OSD_SYS_HIST; b++)
        n += hist[b];
    return n ? (uint64_t)((double)sampled_ns / (double)n * (double)count) : 0;
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

    if (nr == OSD_SYS_OTHER)
        return "other"; /* numbers the counters do not keep apart */
    if (nr < osd_syscall_names_len && osd_syscall_names[nr])
        return osd_syscall_names[nr];
    snprintf(buf, sizeof(buf), "syscall_%u", nr);
    return buf;
}
