/* targets.h - watched process trees: lifecycle (watch, sample timer, exit, unwatch)
 * and the series each one keeps. */
#ifndef OSD_TARGETS_H
#define OSD_TARGETS_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "cgroup.h"
#include "detect_feed.h"
#include "families.h"
#include "heap.h"
#include "net.h"
#include "syscall.h"
#include "series.h"

struct daemon;
struct ufunc;

struct watch_opts {
    bool fam[FAM_MAX]; /* families collected */
    bool children, threads;
    bool heap_process; /* heap_scope "process": probes per member process, not on the shared libc */
    int interval_ms;
    struct detect_opts detect;
    uid_t uid; /* the client asking; non-root may only watch its own processes */
};

enum target_state { TARGET_RUNNING, TARGET_EXITED };


struct thread_stat {
    uint32_t tid, tgid;
    uint64_t oncpu_ns, nvcsw, nivcsw;         /* cumulative */
    double cpu_pct;                           /* last interval */
    uint64_t d_nvcsw, d_nivcsw;               /* last interval */
    bool gone_once;                           /* thread missing from /proc at the last tick */
    /* the other families the target collects (thread_stats.c): cumulative since the watch */
    struct net_thread_val net;
    struct sys_val sys;                       /* summed over syscalls */
    struct heap_thread_val heap;
    /* ... and during the last interval */
    struct net_thread_val d_net;
    uint64_t d_sys_calls, d_sys_errors;
    double sys_p50_ns, sys_p99_ns;
    uint64_t d_heap_allocs, d_heap_frees, d_heap_alloc_bytes;
};

/* Last CPU reading of one process, for the procfs fallback. */
struct proc_seen {
    pid_t pid;
    uint64_t start_ticks;
    uint64_t ticks; /* utime+stime */
    bool seen;      /* alive at this tick */
};

struct target {
    struct target *prev, *next;
    struct daemon *d;
    uint32_t id;
    pid_t pid;       /* the root process; 0 for a cgroup target */
    /* cgroup targets: the cgroup (absolute path, "" for a pid target), the unit name it
     * was named by ("" if by path), its id, and whether watched_cgroups holds it now */
    char cgroup[CGROUP_PATH_MAX];
    char unit[CGROUP_UNIT_MAX];
    uint64_t cgroup_id;
    bool cgroup_registered;
    char label[CGROUP_PATH_MAX + 16]; /* "pid 1234", "unit x.service" or "cgroup /..." for logs */
    uint64_t start_ticks;
    uid_t uid;       /* the client uid that watched it: only it (and root) may see it */
    char comm[32];
    struct watch_opts opts;
    enum target_state state;
    double watched_at, exited_at;
    uv_timer_t timer;
    bool collecting; /* timer running: some member is alive */
    bool append_warned; /* a dropped point was logged; reset by the next stored one */

    struct series series[FAM_MAX]; /* initialised for collected families only */
    /* cumulative CPU figures of members that are gone, so totals never step back */
    uint64_t banked_ns, banked_nvcsw, banked_nivcsw;
    uint64_t prev_ns, prev_nvcsw, prev_nivcsw;
    int64_t prev_mono_ns;
    bool have_prev;
    size_t nmembers;

    struct thread_stat *threads;
    size_t nthreads;
    double threads_time;

    struct target_detect det;

    struct proc_seen *seen; /* procfs fallback only */
    size_t nseen, seen_cap;

    struct net_val net_prev;  /* cumulative counters at the previous tick */
    struct sys_val sys_prev;
    int tracers;              /* connections tracing this target's syscalls */
    uint32_t sys_slot;        /* syscall counter slot (collect_syscall.c), 0: none */
    struct sysmon_entry *sys_final; /* syscall totals kept when it stopped collecting */
    size_t sys_nfinal;
    char heap_libc[256];      /* the libc whose probes this target holds ("" if none) */
    struct heap_val heap_bank; /* counters of member processes that are gone */
    struct heap_val heap_prev; /* cumulative (bank included) at the previous tick */

    struct ufunc *ufuncs;     /* traced user functions and their series (utrace.c) */
    size_t nufuncs;

    bool have_last;
    double last_time;
    double last[FAM_MAX][FAM_MAX_COLS]; /* the newest row of each family */
};

/* Starts watching. Returns 0 and *out, or a negative errno: -ESRCH no such process,
 * -EEXIST already watched (*owner_pid set), -EINVAL pid is a thread
 * (*owner_pid = its process), -EMFILE too many targets, -ENOSPC map full, -EPERM not the client's process,
 * -ENOTSUP a family that needs BPF (net, syscall) while BPF is unavailable,
 * -EDOM detector parameters refused by the detector, -ENOEXEC `heap` on a process that maps
 * no libc, -EIO the heap probes could not be attached. */
int target_watch(struct daemon *d, pid_t pid, const struct watch_opts *o, struct target **out, pid_t *owner_pid);
/* Starts watching every process of a cgroup and of the cgroups below it, now and
 * later. Errors as target_watch(), plus -EEXIST (cgroup already watched; *owner the
 * target), -ENOSYS BPF unavailable (a cgroup is only seen through BPF). */
int target_watch_cgroup(struct daemon *d, const struct cgroup_ref *cg, const struct watch_opts *o, struct target **out,
                        struct target **owner);
static inline bool target_is_cgroup(const struct target *t)
{
    return t->cgroup[0] != '\0';
}
/* The target watching this cgroup path / named by this unit, if any. */
struct target *target_find_cgroup(struct daemon *d, const char *path);
struct target *target_find_unit(struct daemon *d, const char *unit);
/* May the client uid see or act on the target? */
static inline bool target_visible(const struct target *t, uid_t uid)
{
    return uid == 0 || uid == t->uid;
}
void target_unwatch(struct target *t); /* detaches and frees (asynchronously, via uv_close) */
struct target *target_find(struct daemon *d, pid_t pid);
struct target *target_find_id(struct daemon *d, uint32_t id);
size_t target_series_bytes(const struct target *t);     /* allocated now */
size_t target_series_cap_bytes(const struct target *t); /* the bound, at full rings */
size_t target_samples(const struct target *t); /* rows stored in its first family */
/* One sampling step; exposed for tests and the first baseline. */
void target_sample(struct target *t);
void targets_unwatch_all(struct daemon *d);
/* A connection starts tracing t's syscalls (sets OSD_W_TRACE on its members); -ENOTSUP
 * if t does not collect syscalls. Undone by target_trace_release() (rpc.h). */
int target_trace_start(struct target *t);
/* Called by sampling when no member is alive: stops the timer, arms retention. */
void target_stop_collecting(struct target *t);
/* A cgroup target's cgroup was removed: processes stop joining it. */
void target_cgroup_gone(struct target *t);
/* heapmon callback (arg: daemon): a memory misuse becomes an instant alert. */
void heap_on_event(void *arg, const struct heap_event *ev, const char *stack);
#endif
