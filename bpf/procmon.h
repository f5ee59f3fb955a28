/* procmon.h - structs shared by procmon.bpf.c and daemon/collect_procmon.c. */
#ifndef OSD_PROCMON_H
#define OSD_PROCMON_H
#ifndef __VMLINUX_H__
#include <linux/types.h> /* user space; BPF code gets __u32 from vmlinux.h */
#endif

#define OSD_WATCHED_MAX 65536
#define OSD_CPU_MAX 65536
#define OSD_CGROUPS_MAX 1024 /* watched cgroups (cgroup targets) */
#define OSD_CG_DEPTH 16      /* cgroup levels walked up from a task's cgroup */

/* watched_val.flags */
#define OSD_W_CHILDREN (1u << 0) /* fork of a member adds the child */
#define OSD_W_THREADS (1u << 1)  /* account CPU per thread, not per process; other families
                                  * per thread too, beside the per-target totals */
#define OSD_W_DEAD (1u << 2)     /* every thread has exited; user space reaps it */
#define OSD_W_NET (1u << 3)      /* count network bytes (net.bpf.c) */
#define OSD_W_SYSCALL (1u << 4)  /* count syscalls (syscall.bpf.c) */
#define OSD_W_TRACE (1u << 5)    /* stream every syscall enter/exit (syscall.bpf.c) */
#define OSD_W_HEAP (1u << 6)     /* heap accounting and misuse alerts (heap.bpf.c) */
#define OSD_W_HEAP_PROC (1u << 7) /* heap_scope "process": only the member's own probes count */
/* Bits 24..31: the target's syscall counter slot (syscall.bpf.c), copied with the flags
 * to children and cgroup joiners like any other flag; 0 for targets without syscalls. */
#define OSD_W_SLOT_SHIFT 24
#define OSD_W_SLOT(flags) (((flags) >> OSD_W_SLOT_SHIFT) & 0xffu)

/* Value of the `watched` map, keyed by tgid. */
struct watched_val {
    __u32 target_id;
    __u32 flags;
};

/* `watched_cgroups` is keyed by the cgroup v2 id (the directory's inode number) and holds
 * a struct watched_val: the target and flags a process entering that cgroup (or one
 * below it) is added to `watched` with. */

/* Key of the `cpu` map: tid is 0 unless the target accounts per thread. */
struct cpu_key {
    __u32 tgid;
    __u32 tid;
};

/* Key of the per-thread maps of the other collectors (net, syscall, heap): slots exist
 * only for targets watched with OSD_W_THREADS, beside their per-target totals. */
struct thread_key {
    __u32 target_id;
    __u32 tid;
};

/* Cumulative counters since the key appeared; user space takes deltas. */
struct cpu_val {
    __u64 oncpu_ns;
    __u64 nvcsw; /* switched out while sleeping/blocking */
    __u64 nivcsw; /* preempted while runnable */
    __u32 target_id;
    __u32 pad;
};

/* Indices of the `counters` array: events the daemon must report, never hide. */
enum osd_counter {
    OSD_CNT_WATCHED_FULL = 0, /* fork could not add a child: watched map full */
    OSD_CNT_CPU_FULL = 1,     /* cpu map full: a task's time was not recorded */
    OSD_CNT_FORKS = 2,        /* children added by the fork tracepoint */
    OSD_CNT_EXITS = 3,        /* member processes that died */
    OSD_CNT_CGROUP_JOINS = 4, /* processes added because they entered a watched cgroup */
    OSD_CNT_MAX = 5,
};

#endif
