/* collect_procmon.c - see collect_procmon.h. */
#include "collect_procmon.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf_sweep.h"
#include "log.h"
#include "procmon.skel.h"

struct procmon {
    struct procmon_bpf *skel;
    int watched_fd, cpu_fd, counters_fd, cgroups_fd;
    uint32_t ncgroups; /* entries in watched_cgroups, mirrored to the kernel's gate */
    struct procmon_sweep sw;
    size_t members_cap, cpu_cap;
    int swept; /* sw holds a reading */
    /* batch-read scratch, sized to max_entries */
    uint32_t *wkeys;
    struct watched_val *wvals;
    struct cpu_key *ckeys;
    struct cpu_val *cvals;
};

static void procmon_free_buffers(struct procmon *pm)
{
    free(pm->sw.members);
    free(pm->sw.cpu);
    free(pm->wkeys);
    free(pm->wvals);
    free(pm->ckeys);
    free(pm->cvals);
}

static const char *const prog_names[] = { "handle_runtime", "handle_switch", "handle_fork",
                                          "handle_exit",    "handle_exec",   "handle_cgroup_attach" };

const char *const *procmon_programs(size_t *n)
{
    *n = sizeof(prog_names) / sizeof(prog_names[0]);
    return prog_names;
}

int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char buf[512];

    if (level == LIBBPF_DEBUG)
        return 0;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    log_msg(level == LIBBPF_WARN ? LOG_WARNING : LOG_INFO, "libbpf: %s", buf);
    return 0;
}

int procmon_open(struct procmon **out)
{
    struct procmon *pm = calloc(1, sizeof(*pm));
    int err;

    if (!pm)
        return -ENOMEM;
    libbpf_set_print(libbpf_log);
    pm->skel = procmon_bpf__open();
    if (!pm->skel) {
        err = -errno;
        goto err_free;
    }
    err = procmon_bpf__load(pm->skel);
    if (err)
        goto err_destroy;
    err = procmon_bpf__attach(pm->skel);
    if (err)
        goto err_destroy;
    pm->watched_fd = bpf_map__fd(pm->skel->maps.watched);
    pm->cpu_fd = bpf_map__fd(pm->skel->maps.cpu);
    pm->counters_fd = bpf_map__fd(pm->skel->maps.counters);
    pm->cgroups_fd = bpf_map__fd(pm->skel->maps.watched_cgroups);
    pm->members_cap = OSD_WATCHED_MAX;
    pm->cpu_cap = OSD_CPU_MAX;
    /* Full-size buffers: untouched pages of these never become resident. */
    pm->sw.members = calloc(pm->members_cap, sizeof(*pm->sw.members));
    pm->sw.cpu = calloc(pm->cpu_cap, sizeof(*pm->sw.cpu));
    pm->wkeys = calloc(pm->members_cap, sizeof(*pm->wkeys));
    pm->wvals = calloc(pm->members_cap, sizeof(*pm->wvals));
    pm->ckeys = calloc(pm->cpu_cap, sizeof(*pm->ckeys));
    pm->cvals = calloc(pm->cpu_cap, sizeof(*pm->cvals));
    if (!pm->sw.members || !pm->sw.cpu || !pm->wkeys || !pm->wvals || !pm->ckeys || !pm->cvals) {
        err = -ENOMEM;
        goto err_destroy;
    }
    *out = pm;
    return 0;
err_destroy:
    procmon_free_buffers(pm);
    procmon_bpf__destroy(pm->skel);
err_free:
    free(pm);
    return err;
}

void procmon_close(struct procmon *pm)
{
    if (!pm)
        return;
    procmon_bpf__destroy(pm->skel);
    procmon_free_buffers(pm);
    free(pm);
}

int procmon_add(struct procmon *pm, pid_t tgid, uint32_t target_id, uint32_t flags, uint32_t *owner)
{
    struct watched_val w = { .target_id = target_id, .flags = flags };
    uint32_t key = (uint32_t)tgid;

    if (bpf_map_update_elem(pm->watched_fd, &key, &w, BPF_NOEXIST) == 0)
        return 0;
    if (errno == EEXIST) {
        if (owner && bpf_map_lookup_elem(pm->watched_fd, &key, &w) == 0)
            *owner = w.target_id;
        return -EEXIST;
    }
    return -errno;
}

int procmon_cgroup_add(struct procmon *pm, uint64_t cgroup_id, uint32_t target_id, uint32_t flags)
{
    struct watched_val w = { .target_id = target_id, .flags = flags };

    if (bpf_map_update_elem(pm->cgroups_fd, &cgroup_id, &w, BPF_NOEXIST))
        return errno == E2BIG || errno == ENOMEM ? -ENOSPC : -errno;
    pm->skel->bss->cgroup_targets = ++pm->ncgroups;
    return 0;
}

void procmon_cgroup_del(struct procmon *pm, uint64_t cgroup_id)
{
    if (bpf_map_delete_elem(pm->cgroups_fd, &cgroup_id) == 0 && pm->ncgroups)
        pm->skel->bss->cgroup_targets = --pm->ncgroups;
}

int procmon_set_flags(struct procmon *pm, pid_t tgid, const struct watched_val *w)
{
    uint32_t key = (uint32_t)tgid;

    return bpf_map_update_elem(pm->watched_fd, &key, w, BPF_EXIST) ? -errno : 0;
}

void procmon_forget_cpu(struct procmon *pm, const struct cpu_key *k)
{
    bpf_map_delete_elem(pm->cpu_fd, k);
}

void procmon_forget(struct procmon *pm, pid_t tgid)
{
    uint32_t key = (uint32_t)tgid;
    struct cpu_key ck = { .tgid = key };

    bpf_map_delete_elem(pm->watched_fd, &key);
    /* The per-process slot; per-thread slots are deleted by the caller from its sweep
     * slice (it has their keys), which is cheaper than walking the map here. */
    bpf_map_delete_elem(pm->cpu_fd, &ck);
}

static int cmp_member(const void *a, const void *b)
{
    const struct procmon_member *x = a, *y = b;

    if (x->w.target_id != y->w.target_id)
        return x->w.target_id < y->w.target_id ? -1 : 1;
    return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

static int cmp_cpu(const void *a, const void *b)
{
    const struct procmon_cpu *x = a, *y = b;

    if (x->v.target_id != y->v.target_id)
        return x->v.target_id < y->v.target_id ? -1 : 1;
    if (x->k.tgid != y->k.tgid)
        return x->k.tgid < y->k.tgid ? -1 : 1;
    return (x->k.tid > y->k.tid) - (x->k.tid < y->k.tid);
}

static int sweep_read(struct procmon *pm)
{
    uint32_t *wkeys = pm->wkeys;
    struct watched_val *wvals = pm->wvals;
    struct cpu_key *ckeys = pm->ckeys;
    struct cpu_val *cvals = pm->cvals;
    size_t n, i;
    int err;

    pm->sw.mono_ns = mono_ns();
    err = bpf_batch_read(pm->watched_fd, wkeys, sizeof(*wkeys), wvals, sizeof(*wvals), pm->members_cap, &n);
    if (err)
        return err;
    for (i = 0; i < n; i++) {
        pm->sw.members[i].tgid = wkeys[i];
        pm->sw.members[i].w = wvals[i];
    }
    pm->sw.nmembers = n;
    err = bpf_batch_read(pm->cpu_fd, ckeys, sizeof(*ckeys), cvals, sizeof(*cvals), pm->cpu_cap, &n);
    if (err)
        return err;
    for (i = 0; i < n; i++) {
        pm->sw.cpu[i].k = ckeys[i];
        pm->sw.cpu[i].v = cvals[i];
    }
    pm->sw.ncpu = n;
    qsort(pm->sw.members, pm->sw.nmembers, sizeof(*pm->sw.members), cmp_member);
    qsort(pm->sw.cpu, pm->sw.ncpu, sizeof(*pm->sw.cpu), cmp_cpu);
    pm->swept = 1;
    return 0;
}

const struct procmon_sweep *procmon_sweep(struct procmon *pm, int64_t max_age_ns, int *err)
{
    *err = 0;
    if (!pm->swept || mono_ns() - pm->sw.mono_ns > max_age_ns)
        *err = sweep_read(pm);
    return *err ? NULL : &pm->sw;
}

void procmon_invalidate(struct procmon *pm)
{
    pm->swept = 0;
}

/* Binary search of the first element with target_id >= id in an array sorted by it. */
#define SLICE(arr, n, field, id, first, cnt)                                                    \
    do {                                                                                        \
        size_t lo = 0, hi = (n);                                                                \
        while (lo < hi) {                                                                       \
            size_t mid = lo + (hi - lo) / 2;                                                    \
            if ((arr)[mid].field < (id))                                                        \
                lo = mid + 1;                                                                   \
            else                                                                                \
                hi = mid;                                                                       \
        }                                                                                       \
        *(first) = lo;                                                                          \
        while (hi < (n) && (arr)[hi].field == (id))                                             \
            hi++;                                                                               \
        *(cnt) = hi - lo;                                                                       \
    } while (0)

void procmon_target_members(const struct procmon_sweep *sw, uint32_t target_id, size_t *first, size_t *n)
{
    SLICE(sw->members, sw->nmembers, w.target_id, target_id, first, n);
}

void procmon_target_cpu(const struct procmon_sweep *sw, uint32_t target_id, size_t *first, size_t *n)
{
    SLICE(sw->cpu, sw->ncpu, v.target_id, target_id, first, n);
}

int procmon_watched_fd(const struct procmon *pm)
{
    return pm->watched_fd;
}

void procmon_target_flags(struct procmon *pm, uint32_t target_id, uint32_t set, uint32_t clear)
{
    const struct procmon_sweep *sw;
    size_t first, n;
    int err;

    sw = procmon_sweep(pm, 0, &err);
    if (!sw)
        return;
    procmon_target_members(sw, target_id, &first, &n);
    for (size_t i = first; i < first + n; i++) {
        struct watched_val w = sw->members[i].w;
        w.flags = (w.flags | set) & ~clear;
        bpf_map_update_elem(pm->watched_fd, &sw->members[i].tgid, &w, BPF_EXIST);
    }
    pm->swept = 0;
}

void procmon_remove_target(struct procmon *pm, uint32_t target_id)
{
    const struct procmon_sweep *sw;
    size_t first, n, i;
    int err;

    sw = procmon_sweep(pm, 0, &err);
    if (!sw) {
        log_warn("cannot read BPF maps to remove target %u: %s", target_id, strerror(-err));
        return;
    }
    procmon_target_members(sw, target_id, &first, &n);
    for (i = first; i < first + n; i++)
        bpf_map_delete_elem(pm->watched_fd, &sw->members[i].tgid);
    procmon_target_cpu(sw, target_id, &first, &n);
    for (i = first; i < first + n; i++)
        bpf_map_delete_elem(pm->cpu_fd, &sw->cpu[i].k);
    pm->swept = 0;
}

void procmon_stats(struct procmon *pm, struct procmon_stats *st)
{
    int ncpu = libbpf_num_possible_cpus();
    uint64_t *vals;
    int err;

    memset(st, 0, sizeof(*st));
    /* a recent sweep will do: status polled by many clients must not re-read the maps */
    if (procmon_sweep(pm, 200 * 1000 * 1000LL, &err)) {
        st->watched_entries = pm->sw.nmembers;
        st->cpu_entries = pm->sw.ncpu;
    }
    if (ncpu <= 0)
        return;
    vals = calloc((size_t)ncpu, sizeof(*vals));
    if (!vals)
        return;
    for (uint32_t idx = 0; idx < OSD_CNT_MAX; idx++) {
        if (bpf_map_lookup_elem(pm->counters_fd, &idx, vals))
            continue;
        for (int c = 0; c < ncpu; c++)
            st->counters[idx] += vals[c];
    }
    free(vals);
}
