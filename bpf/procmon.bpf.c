// SPDX-License-Identifier: GPL-2.0
/* procmon.bpf.c - process-tree membership and per-process CPU accounting.
 *
 * `watched` (tgid -> target) is the filter every program checks first; fork adds children
 * of members, exit marks processes dead. CPU time is summed from sched_stat_runtime, which
 * the scheduler fires at every tick and at every switch-out with the exact runtime it
 * adds to sum_exec_runtime: a CPU-bound task alone on a core may not be switched out for
 * seconds, so counting only at sched_switch would bunch its time into one interval.
 * sched_switch counts voluntary and involuntary context switches.
 *
 * Cgroup targets: `watched_cgroups` (cgroup v2 id -> target) is checked wherever a
 * process can enter a cgroup: at fork (the child's own cgroup, so CLONE_INTO_CGROUP is
 * covered), at exec, and when it is migrated (cgroup_attach_task). A process found in a
 * watched cgroup, or up to OSD_CG_DEPTH levels below one, joins that target unless it
 * already belongs to a target: the first owner keeps it. */
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

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, OSD_CGROUPS_MAX);
    __type(key, __u64);
    __type(value, struct watched_val);
} watched_cgroups SEC(".maps");

/* Entries in watched_cgroups, set by user space: 0 spares every fork the cgroup walk. */
__u32 cgroup_targets = 0;

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

/* The innermost watched cgroup holding p (its default-hierarchy cgroup or an ancestor). */
static __always_inline struct watched_val *cgroup_owner(struct task_struct *p)
{
    struct cgroup *cg = BPF_CORE_READ(p, cgroups, dfl_cgrp);

    for (int i = 0; i < OSD_CG_DEPTH && cg; i++) {
        __u64 id = BPF_CORE_READ(cg, kn, id);
        struct watched_val *w = bpf_map_lookup_elem(&watched_cgroups, &id);

        if (w)
            return w;
        cg = BPF_CORE_READ(cg, self.parent, cgroup); /* NULL above the root */
    }
    return 0;
}

/* Adds process tgid to the target of the watched cgroup it is in, if it has no owner. */
static __always_inline void cgroup_claim(struct task_struct *p, __u32 tgid)
{
    struct watched_val *cw, nw;
    int err;

    if (!cgroup_targets || bpf_map_lookup_elem(&watched, &tgid))
        return;
    cw = cgroup_owner(p);
    if (!cw)
        return;
    nw.target_id = cw->target_id;
    nw.flags = cw->flags & ~OSD_W_DEAD;
    err = bpf_map_update_elem(&watched, &tgid, &nw, BPF_NOEXIST);
    if (!err)
        count(OSD_CNT_CGROUP_JOINS);
    else if (err != -17) /* -EEXIST: claimed meanwhile by another CPU */
        count(OSD_CNT_WATCHED_FULL);
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
    if (!w || !(w->flags & OSD_W_CHILDREN)) {
        cgroup_claim(child, ctgid);
        return 0;
    }
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

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    cgroup_claim(p, BPF_CORE_READ(p, tgid));
    return 0;
}

/* Fired for the migrated process (its leader when the whole process moves) after the
 * move, on any hierarchy: the default-hierarchy cgroup is read from the task itself. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(handle_cgroup_attach, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
    cgroup_claim(task, BPF_CORE_READ(task, tgid));
    return 0;
}
