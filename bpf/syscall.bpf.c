// SPDX-License-Identifier: GPL-2.0
/* syscall.bpf.c - per-target syscall counts, errors and log2 latency histograms
 * aggregated in the kernel from raw_syscalls sys_enter/sys_exit, and, for targets being
 * traced, every enter and exit in order through a ring buffer (drops are counted).
 *
 * The hot path makes no hash lookup: membership is one byte per tgid in the array
 * `sys_slot` (the target's slot, 0 = not counted), counts and errors go to the per-CPU
 * array `sys_cnt[slot][nr]` at every exit (exact). Latency needs the enter time: it is
 * taken for 1 call in `sample_every` per CPU (task-local storage created for that call
 * only) while handle_sys_enter is attached (user space attaches it in short windows), into
 * the shared `sys_lat[slot][nr]` (histogram and summed latency of the sampled calls). An
 * exit whose enter was not seen is counted without latency. The slot byte of a new process is set at fork, exec and cgroup
 * attach from `watched` (procmon's program on the same tracepoint runs first: it was
 * attached first), whose flags carry the slot (OSD_W_SLOT); user space sets it for the
 * members it adds. A tgid beyond the array (pid_max raised after start) is looked up in
 * `watched` instead. Targets watched per thread (OSD_W_THREADS) also count into
 * `sys_threads` per (target, tid, syscall); the others never touch it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "watched.bpf.h"
#include "log2.bpf.h"
#include "syscall.h"

char LICENSE[] SEC("license") = "GPL";

/* The enter time of a sampled call, until its exit. */
struct sys_start {
    __u64 ts;
    __s64 nr; /* -1: no sampled syscall in flight */
};

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct sys_start);
} sys_start SEC(".maps");

/* Byte tgid % 8 of word tgid / 8: the slot of process tgid. Mapped by user space, which
 * writes single bytes (no read-modify-write of a word the kernel may be writing). The
 * size is set at open from pid_max. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} sys_slot SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, OSD_SYS_SLOTS);
    __type(key, __u32);
    __type(value, struct sys_info);
} sys_info SEC(".maps");

/* Per-CPU: each CPU adds to its own copy without atomics; user space sums them. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, OSD_SYS_MAX);
    __type(key, __u32);
    __type(value, struct sys_cnt);
} sys_cnt SEC(".maps");

/* Shared, mapped by user space: only sampled calls write here, with atomic adds. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, OSD_SYS_MAX);
    __type(key, __u32);
    __type(value, struct sys_lat);
} sys_lat SEC(".maps");

/* Calls since the last sample, per CPU. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} sys_tick SEC(".maps");

/* Latency of 1 call in sample_every (1: every call), set by user space at any time. */
volatile __u32 sample_every = 1;
/* 1 while handle_sys_enter is attached (user space attaches it only in short windows
 * unless every call must be seen): 0 makes exits drop the storage of their last sample,
 * so between windows a task's exits skip the storage lookup. */
volatile __u32 lat_window = 1;

/* Not per-CPU: a slot is only ever written by its own thread, at its syscall exits, so
 * plain increments are exact and the value is 1/ncpu the size. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, OSD_SYS_THREADS_MAX);
    __type(key, struct sys_thread_key);
    __type(value, struct sys_val);
} sys_threads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, OSD_SYS_RINGBUF);
} sys_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, OSD_SYS_CNT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} sys_counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
    __u64 *v = bpf_map_lookup_elem(&sys_counters, &idx);

    if (v)
        (*v)++;
}

static __always_inline int trace(__u32 flags, __u32 target_id, __u32 type, long nr, struct pt_regs *regs, long ret)
{
    struct sys_event *e;
    __u64 id;

    if (!(flags & OSD_W_TRACE))
        return 0;
    e = bpf_ringbuf_reserve(&sys_events, sizeof(*e), 0);
    if (!e) {
        count(OSD_SYS_CNT_DROPS);
        return 0;
    }
    id = bpf_get_current_pid_tgid();
    e->ts_ns = bpf_ktime_get_ns();
    e->tgid = id >> 32;
    e->tid = (__u32)id;
    e->target_id = target_id;
    e->nr = nr;
    e->type = type;
    e->pad = 0;
    e->ret = ret;
    if (type == OSD_SYS_ENTER) {
        e->args[0] = BPF_CORE_READ(regs, di);
        e->args[1] = BPF_CORE_READ(regs, si);
        e->args[2] = BPF_CORE_READ(regs, dx);
        e->args[3] = BPF_CORE_READ(regs, r10);
        e->args[4] = BPF_CORE_READ(regs, r8);
        e->args[5] = BPF_CORE_READ(regs, r9);
    } else {
        __builtin_memset(e->args, 0, sizeof(e->args));
    }
    bpf_ringbuf_submit(e, 0);
    return 0;
}

/* The current tgid read from the task (bpf_get_current_task_btf() is inlined by the JIT,
 * bpf_get_current_pid_tgid() is a helper call: ~25 ns on the VM of PERFORMANCE.md). */
static __always_inline __u32 current_tgid(void)
{
    return bpf_get_current_task_btf()->tgid;
}

/* The slot of process tgid, 0 if it is not counted. */
static __always_inline __u32 slot_of(__u32 tgid)
{
    __u32 word = tgid >> 3;
    __u64 *v = bpf_map_lookup_elem(&sys_slot, &word);
    struct watched_val *w;

    if (v)
        return ((__u8 *)v)[tgid & 7];
    w = bpf_map_lookup_elem(&watched, &tgid);
    if (!w || !(w->flags & OSD_W_SYSCALL) || (w->flags & OSD_W_DEAD))
        return 0;
    count(OSD_SYS_CNT_BIGPID);
    return OSD_W_SLOT(w->flags);
}

/* The slot's target, if the slot is in use. */
static __always_inline struct sys_info *info_of(__u32 slot)
{
    struct sys_info *info;

    if (!slot)
        return 0;
    info = bpf_map_lookup_elem(&sys_info, &slot);
    return info && (info->flags & OSD_W_SYSCALL) ? info : 0;
}

/* Whether this call's latency is measured: every sample_every-th call on this CPU. */
static __always_inline int sample_now(void)
{
    __u32 zero = 0, *n = bpf_map_lookup_elem(&sys_tick, &zero);

    if (!n || ++*n < sample_every)
        return 0;
    *n = 0;
    return 1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long id)
{
    struct sys_info *info = info_of(slot_of(current_tgid()));
    struct sys_start *s;

    if (!info)
        return 0;
    if (sample_now()) {
        s = bpf_task_storage_get(&sys_start, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
        if (s) {
            s->nr = id;
            s->ts = bpf_ktime_get_ns();
        }
    }
    return trace(info->flags, info->target_id, OSD_SYS_ENTER, id, regs, 0);
}

static __always_inline void add(struct sys_val *v, long ret, __u64 lat, int sampled)
{
    v->count++;
    if (ret < 0 && ret > -4096)
        v->errors++;
    if (sampled) {
        v->total_ns += lat; /* sampled calls only: user space scales it to count */
        v->hist[log2_bucket(lat, OSD_SYS_HIST)]++;
    }
}

static __always_inline void thread_exit(__u32 target_id, __u32 nr, long ret, __u64 lat, int sampled)
{
    struct sys_thread_key k = { .target_id = target_id, .tid = (__u32)bpf_get_current_pid_tgid(), .nr = nr };
    struct sys_val *v = bpf_map_lookup_elem(&sys_threads, &k);

    if (!v) {
        struct sys_val zero = {};
        bpf_map_update_elem(&sys_threads, &k, &zero, BPF_NOEXIST);
        v = bpf_map_lookup_elem(&sys_threads, &k);
        if (!v) {
            count(OSD_SYS_CNT_THREADS_FULL);
            return;
        }
    }
    add(v, ret, lat, sampled);
}

/* The latency of the current call if it was sampled at its enter. A task without any
 * local storage (the common case when sampling) is told by one pointer test. */
static __always_inline int sampled_lat(long nr, __u64 *lat)
{
    struct task_struct *task = bpf_get_current_task_btf();
    struct sys_start *s;
    int ok = 0;

    if (!task->bpf_storage)
        return 0;
    s = bpf_task_storage_get(&sys_start, task, 0, 0);
    if (!s)
        return 0;
    if (s->nr == nr) {
        *lat = bpf_ktime_get_ns() - s->ts;
        ok = 1;
    }
    /* sparse sampling or no window: drop the storage so the next exits of this task skip
     * the lookup (create + delete cost ~1 us together: worth it only when samples are rare) */
    if (sample_every >= OSD_SYS_SAMPLE_DROP || !lat_window)
        bpf_task_storage_delete(&sys_start, task);
    else
        s->nr = -1;
    return ok;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
    __u32 slot = slot_of(current_tgid());
    struct sys_info *info = info_of(slot);
    struct sys_cnt *c;
    struct sys_lat *l;
    __u64 lat = 0;
    long nr;
    __u32 idx;
    int sampled;

    if (!info)
        return 0;
    nr = regs->orig_ax;
    sampled = sampled_lat(nr, &lat);
    trace(info->flags, info->target_id, OSD_SYS_EXIT, nr, regs, ret);
    idx = slot * OSD_SYS_NR + (nr >= 0 && nr < OSD_SYS_OTHER ? (__u32)nr : OSD_SYS_OTHER);
    c = bpf_map_lookup_elem(&sys_cnt, &idx);
    if (c) {
        c->count++;
        if (ret < 0 && ret > -4096)
            c->errors++;
    }
    if (sampled && (l = bpf_map_lookup_elem(&sys_lat, &idx))) {
        __sync_fetch_and_add(&l->total_ns, lat);
        __sync_fetch_and_add(&l->hist[log2_bucket(lat, OSD_SYS_HIST)], 1);
    }
    if (info->flags & OSD_W_THREADS)
        thread_exit(info->target_id, (__u32)nr, ret, lat, sampled);
    return 0;
}

/* The slot byte of process tgid, from its `watched` entry (procmon's program on the same
 * tracepoint has run: it was attached first). Every new process passes here at its fork,
 * so a recycled pid never inherits the slot of the process that had it before. */
static __always_inline void slot_sync(__u32 tgid)
{
    __u32 word = tgid >> 3;
    __u64 *v = bpf_map_lookup_elem(&sys_slot, &word);
    struct watched_val *w;
    __u8 slot = 0;

    if (!v)
        return; /* beyond the array: slot_of() asks `watched` */
    w = bpf_map_lookup_elem(&watched, &tgid);
    if (w && (w->flags & OSD_W_SYSCALL) && !(w->flags & OSD_W_DEAD))
        slot = OSD_W_SLOT(w->flags);
    ((__u8 *)v)[tgid & 7] = slot;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sys_fork, struct task_struct *parent, struct task_struct *child)
{
    __u32 ctgid = BPF_CORE_READ(child, tgid);

    if (BPF_CORE_READ(parent, tgid) != ctgid) /* a new thread shares its process's byte */
        slot_sync(ctgid);
    return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sys_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    slot_sync(BPF_CORE_READ(p, tgid)); /* may have joined a watched cgroup at exec */
    return 0;
}

SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(sys_cgroup_attach, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
    slot_sync(BPF_CORE_READ(task, tgid));
    return 0;
}
