/* uprobe.h - structs shared by uprobe.bpf.c and daemon/collect_uprobe.c. */
#ifndef OSD_UPROBE_H
#define OSD_UPROBE_H
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define OSD_UP_SLOTS 64          /* probed functions daemon-wide (one entry + one return link each) */
#define OSD_UP_NARGS 6           /* arg1..arg6: the integer argument registers */
#define OSD_UP_STR 64            /* bytes of a %s argument kept, NUL included */
#define OSD_UP_HIST 32           /* log2 latency buckets: bucket b holds [2^b, 2^(b+1)) ns */
#define OSD_UP_DEPTH 16          /* nested calls of probed functions per thread timed */
#define OSD_UP_RINGBUF (2 << 20)

/* up_cfg.flags */
#define OSD_UP_ACTIVE (1u << 0)  /* the slot counts calls */
#define OSD_UP_STREAM (1u << 1)  /* and sends each enter/return through the ring buffer */
/* up_cfg.str_mask: bit i (0..5) arg i+1 is a string; bit OSD_UP_RET_STR the return value */
#define OSD_UP_RET_STR 6

/* One probe slot, indexed by the BPF cookie of its two links. */
struct up_cfg {
    __u32 target_id; /* only members of this target are counted */
    __u32 gen;       /* changes at every attach of the slot: stale frames and events are told apart */
    __u32 flags;
    __u32 str_mask;
};

/* Cumulative per slot since it was attached; per-CPU, summed by user space. */
struct up_stats {
    __u64 calls;     /* entries */
    __u64 returns;   /* returns timed (their entry was seen) */
    __u64 total_ns;  /* latency of those returns */
    __u64 hist[OSD_UP_HIST];
};

enum osd_up_event_type { OSD_UP_ENTER = 0, OSD_UP_RETURN = 1 };

/* One enter or return of a streaming slot (ring buffer). */
struct up_event {
    __u64 ts_ns;    /* CLOCK_MONOTONIC */
    __u32 tgid, tid;
    __u32 slot, gen;
    __u32 type;     /* enum osd_up_event_type */
    __u32 str_bad;  /* bit i: str[i] could not be read */
    __u64 args[OSD_UP_NARGS]; /* enter: the argument registers */
    __u64 ret;      /* return: the return-value register */
    __u64 lat_ns;   /* return: time since its entry */
    char str[OSD_UP_NARGS][OSD_UP_STR]; /* enter: strings of %s arguments; return: str[0] of a %s retval */
};

/* Indices of the `up_counters` array. */
enum osd_up_counter {
    OSD_UP_CNT_DROPS = 0,   /* events lost: ring buffer full */
    OSD_UP_CNT_NOSTORE = 1, /* calls not timed: no task storage for the thread (memory) */
    OSD_UP_CNT_DEEP = 2,    /* calls not timed: nested deeper than OSD_UP_DEPTH */
    OSD_UP_CNT_MAX = 3,
};
#endif
