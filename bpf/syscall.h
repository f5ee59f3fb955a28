/* syscall.h - structs shared by syscall.bpf.c and daemon/collect_syscall.c. */
#ifndef OSD_SYSCALL_H
#define OSD_SYSCALL_H
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define OSD_SYS_SLOTS 64    /* counter slots; slot 0 means "not counted": 63 syscall targets */
#define OSD_SYS_NR 512      /* syscall numbers counted apart per slot (x86_64 has < 512) */
#define OSD_SYS_OTHER (OSD_SYS_NR - 1) /* bucket of any number >= OSD_SYS_OTHER or negative */
#define OSD_SYS_MAX (OSD_SYS_SLOTS * OSD_SYS_NR) /* (slot, syscall) cells */
#define OSD_SYS_SAMPLE_MAX 1024 /* latency measured for 1 call in N, N at most this */
#define OSD_SYS_SAMPLE_DEFAULT 16 /* default N (config syscall_latency_sample) */
#define OSD_SYS_WINDOW_DEFAULT_MS 50   /* latency timed in windows this long (config) */
#define OSD_SYS_PERIOD_DEFAULT_MS 1000 /* one window starting every this often */
#define OSD_SYS_PERIOD_MIN_MS 100
#define OSD_SYS_PERIOD_MAX_MS 60000
#define OSD_SYS_SAMPLE_DROP 32  /* from this N on, a sample's task storage is deleted at exit */
#define OSD_SYS_THREADS_MAX 65536 /* (target, thread, syscall) triples of OSD_W_THREADS targets */
#define OSD_SYS_HIST 32     /* log2 latency buckets: bucket b holds [2^b, 2^(b+1)) ns */
#define OSD_SYS_RINGBUF (4 << 20)

/* `sys_info[slot]`: which target a slot counts for, and how (OSD_W_SYSCALL set while the
 * slot is in use; OSD_W_TRACE, OSD_W_THREADS as the target asks). */
struct sys_info {
    __u32 target_id;
    __u32 flags;
};

/* `sys_cnt[slot * OSD_SYS_NR + nr]`, per CPU: exact, counted at every exit. */
struct sys_cnt {
    __u64 count;
    __u64 errors;
};

/* `sys_lat[slot * OSD_SYS_NR + nr]`, shared (atomic adds): from the sampled calls only;
 * total_ns is their summed latency (user space scales it to all calls, sysmon_total_est). */
struct sys_lat {
    __u64 total_ns;
    __u64 hist[OSD_SYS_HIST];
};

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
    OSD_SYS_CNT_FULL = 1,     /* unused since counters are arrays (kept: index is ABI of status) */
    OSD_SYS_CNT_THREADS_FULL = 2, /* counted for the target, not per thread: `sys_threads` full */
    OSD_SYS_CNT_BIGPID = 3,   /* exits of members whose tgid is beyond `sys_slot` (pid_max
                               * raised after start): found through `watched` instead */
    OSD_SYS_CNT_MAX = 4,
};
#endif
