// SPDX-License-Identifier: GPL-2.0
/* procmon.bpf.c - process-tree membership and per-process CPU accounting.
 *
 * `watched` (tgid -> target) is the filter every program checks first; fork adds children
 * of members, exit marks processes dead. CPU time is summed from sched_stat_runtime, which
 * the scheduler fires at every tick and at every switch-out with the exact runtime it
 * adds to sum_exec_runtime: a CPU-bound task alone on a core may not be switched out for
 * seconds, so counting only at sched_switch would bunch its time into one interval.
 * sched_switch counts voluntary and involuntary context switches. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#include "watched.bpf.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, OSD_CPU_MAX);
    __type(key, struct cpu_key);
    __type(value, struct cpu_val);
} cpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, OSD_CNT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
    __u64 *v = bpf_map_lookup_elem(&counters, &idx);

    if (v)
        (*v)++;
}

static __always_inline struct cpu_val *cpu_slot(struct task_struct *p, struct watched_val *w)
{
    struct cpu_key key = {
        .tgid = BPF_CORE_READ(p, tgid),
        .tid = (w->flags & OSD_W_THREADS) ? BPF_CORE_READ(p, pid) : 0,
    };
    struct cpu_val *v = bpf_map_lookup_elem(&cpu, &key);

    if (v)
        return v;
    struct cpu_val zero = { .target_id = w->target_id };
    /* NOEXIST: another CPU may have created the slot meanwhile; either way look it up. */
    bpf_map_update_elem(&cpu, &key, &zero, BPF_NOEXIST);
    v = bpf_map_lookup_elem(&cpu, &key);
    if (!v)
        count(OSD_CNT_CPU_FULL);
    return v;
}

SEC("tp_btf/sched_stat_runtime")
int BPF_PROG(handle_runtime, struct task_struct *p, u64 runtime)
{
    __u32 tgid = BPF_CORE_READ(p, tgid);
    struct watched_val *w = bpf_map_lookup_elem(&watched, &tgid);
    struct cpu_val *v;

    if (!w)
        return 0;
    v = cpu_slot(p, w);
    if (v)
        __sync_fetch_and_add(&v->oncpu_ns, runtime);
    return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
             unsigned int prev_state)
{
    __u32 tgid = BPF_CORE_READ(prev, tgid);
    struct watched_val *w = bpf_map_lookup_elem(&watched, &tgid);
    struct cpu_val *v;

    if (!w)
        return 0;
    v = cpu_slot(prev, w);
    if (!v)
        return 0;
    /* A task leaving the CPU while still runnable (state 0) was preempted. */
    if (prev_state & 0xff)
        __sync_fetch_and_add(&v->nvcsw, 1);
    else
        __sync_fetch_and_add(&v->nivcsw, 1);
    return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
    __u32 ptgid = BPF_CORE_READ(parent, tgid);
    __u32 ctgid = BPF_CORE_READ(child, tgid);
    struct watched_val *w;
    struct watched_val nw;

    if (ptgid == ctgid) /* a new thread, already covered by its tgid */
        return 0;
    w = bpf_map_lookup_elem(&watched, &ptgid);
    if (!w || !(w->flags & OSD_W_CHILDREN))
        return 0;
    nw.target_id = w->target_id;
    nw.flags = w->flags & ~OSD_W_DEAD;
    if (bpf_map_update_elem(&watched, &ctgid, &nw, BPF_ANY))
        count(OSD_CNT_WATCHED_FULL);
    else
        count(OSD_CNT_FORKS);
    return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
    __u32 tgid = BPF_CORE_READ(p, tgid);
    struct watched_val *w = bpf_map_lookup_elem(&watched, &tgid);

    if (!w)
        return 0;
    /* do_exit() drops signal->live before this tracepoint; 0 means the last thread left.
     * The entry stays (flagged) so user space can take the final CPU figures first. */
    if (BPF_CORE_READ(p, signal, live.counter) == 0) {
        w->flags |= OSD_W_DEAD;
        count(OSD_CNT_EXITS);
    }
    return 0;
}
