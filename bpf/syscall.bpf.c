// SPDX-License-Identifier: GPL-2.0
/* syscall.bpf.c - per-target syscall counts, errors and log2 latency histograms
 * aggregated in the kernel from raw_syscalls sys_enter/sys_exit, and, for targets being
 * traced, every enter and exit in order through a ring buffer (drops are counted). The
 * enter time lives in task-local storage: no map insert/delete per syscall. Targets
 * watched per thread (OSD_W_THREADS) also count into `sys_threads` per (target, tid,
 * syscall); the others never touch it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "watched.bpf.h"
#include "log2.bpf.h"
#include "syscall.h"

char LICENSE[] SEC("license") = "GPL";

/* Remembered from the enter to its exit, so the exit needs no `watched` lookup: an
 * unwatched task has no storage at all, and that check is the cheapest there is. */
struct sys_start {
    __u64 ts;
    __s64 nr; /* -1: no syscall in flight */
    __u32 target_id;
    __u32 flags;
};

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct sys_start);
} sys_start SEC(".maps");

/* Per-CPU: each CPU adds to its own copy without atomics; user space sums them. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, OSD_SYS_MAX);
    __type(key, struct sys_key);
    __type(value, struct sys_val);
} sys SEC(".maps");

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

SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long id)
{
    struct watched_val *w = watched_current(OSD_W_SYSCALL);
    struct sys_start *s;

    if (!w)
        return 0;
    s = bpf_task_storage_get(&sys_start, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (s) {
        s->nr = id;
        s->target_id = w->target_id;
        s->flags = w->flags;
        s->ts = bpf_ktime_get_ns();
    }
    return trace(w->flags, w->target_id, OSD_SYS_ENTER, id, regs, 0);
}

static __always_inline void add(struct sys_val *v, long ret, __u64 lat)
{
    v->count++;
    if (ret < 0 && ret > -4096)
        v->errors++;
    v->total_ns += lat;
    v->hist[log2_bucket(lat, OSD_SYS_HIST)]++;
}

static __always_inline void thread_exit(__u32 target_id, __u32 nr, long ret, __u64 lat)
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
    add(v, ret, lat);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
    struct sys_start *s;
    struct sys_key key;
    struct sys_val *v;
    __u64 lat;

    s = bpf_task_storage_get(&sys_start, bpf_get_current_task_btf(), 0, 0);
    if (!s || s->nr < 0)
        return 0; /* never watched, or entered before the watch began */
    lat = bpf_ktime_get_ns() - s->ts;
    key.target_id = s->target_id;
    key.nr = (__u32)s->nr;
    s->nr = -1;
    trace(s->flags, key.target_id, OSD_SYS_EXIT, key.nr, regs, ret);
    v = bpf_map_lookup_elem(&sys, &key);
    if (!v) {
        /* first call of this syscall: only for a target still watched (it may have been
         * unwatched while the call was in flight; its slots are gone) */
        if (!watched_current(OSD_W_SYSCALL))
            return 0;
        struct sys_val zero = {};
        bpf_map_update_elem(&sys, &key, &zero, BPF_NOEXIST);
        v = bpf_map_lookup_elem(&sys, &key);
        if (!v) {
            count(OSD_SYS_CNT_FULL);
            return 0;
        }
    }
    add(v, ret, lat);
    if (s->flags & OSD_W_THREADS)
        thread_exit(key.target_id, key.nr, ret, lat);
    return 0;
}
