/* syscall.h - structs shared by syscall.bpf.c and daemon/collect_syscall.c. */
#ifndef OSD_SYSCALL_H
#define OSD_SYSCALL_H
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define OSD_SYS_MAX 65536   /* (target, syscall) pairs */
#define OSD_SYS_THREADS_MAX 65536 /* (target, thread, syscall) triples of OSD_W_THREADS targets */
#define OSD_SYS_HIST 32     /* log2 latency buckets: bucket b holds [2^b, 2^(b+1)) ns */
#define OSD_SYS_RINGBUF (4 << 20)

struct sys_key {
    __u32 target_id;
    __u32 nr;
};

/* Key of `sys_threads`: per thread and syscall, beside the per-target `sys`. */
struct sys_thread_key {
    __u32 target_id;
    __u32 tid;
    __u32 nr;
    __u32 pad;
};

/* Cumulative per (target, syscall) since the target was watched; also the value of
 * `sys_threads` per (target, thread, syscall). */
struct sys_val {
    __u64 count;
    __u64 errors;   /* returned a negative errno */
    __u64 total_ns;
    __u64 hist[OSD_SYS_HIST];
};

enum osd_sys_event_type { OSD_SYS_ENTER = 0, OSD_SYS_EXIT = 1 };

/* One record of the ordered trace stream (ring buffer). */
struct sys_event {
    __u64 ts_ns;     /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
    __u32 tgid, tid;
    __u32 target_id;
    __s32 nr;
    __u32 type;      /* enum osd_sys_event_type */
    __u32 pad;
    __u64 args[6];   /* enter only */
    __s64 ret;       /* exit only */
};

/* Indices of the `sys_counters` array. */
enum osd_sys_counter {
    OSD_SYS_CNT_DROPS = 0,    /* trace events lost: ring buffer full */
    OSD_SYS_CNT_FULL = 1,     /* syscalls not counted: `sys` map full */
    OSD_SYS_CNT_THREADS_FULL = 2, /* counted for the target, not per thread: `sys_threads` full */
    OSD_SYS_CNT_MAX = 3,
};
#endif
