/* heap.h - structs shared by heap.bpf.c and daemon/collect_heap.c. */
#ifndef OSD_HEAP_H
#define OSD_HEAP_H
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define OSD_HEAP_BLOCKS (1 << 18)   /* outstanding blocks tracked, all processes together */
#define OSD_HEAP_FREED 65536        /* recently freed blocks remembered (LRU) */
#define OSD_HEAP_PROCS 16384        /* processes with heap counters */
#define OSD_HEAP_THREADS 16384      /* threads of targets watched with OSD_W_THREADS */
#define OSD_HEAP_STACKS 4096        /* distinct misuse stacks */
#define OSD_HEAP_STACK_DEPTH 32
#define OSD_HEAP_RINGBUF (256 << 10)
#define OSD_HEAP_ATTACHES 4096      /* live attachments (one per libc, or per process) */
/* The BPF cookie of every heap probe: the id of its attachment, with this bit for probes on
 * a shared libc (heap_scope "tree"); the kernel ignores probes whose id is not live. */
#define OSD_HEAP_ATT_TREE (1u << 31)

struct heap_key {
    __u32 tgid;
    __u32 pad;
    __u64 addr;
};

/* Value of `heap_blocks`: the size asked for and, for targets watched per thread, the
 * thread that allocated the block (tid 0: not kept per thread), so a free by any thread
 * lowers its owner's live bytes. */
struct heap_block {
    __u64 size;
    __u32 tid;
    __u32 target_id;
};

/* Per thread (key: struct thread_key), cumulative: blocks the thread allocated, and of
 * those the ones released since (by whichever thread). */
struct heap_thread_val {
    __u64 allocs;
    __u64 frees;
    __u64 alloc_bytes;
    __u64 free_bytes;
};

/* Cumulative per process (tgid) since it was first seen; per-CPU, summed by user space.
 * live bytes = alloc_bytes - free_bytes over blocks allocated while watched. */
struct heap_val {
    __u64 allocs;      /* blocks returned by an allocator (realloc: the new block) */
    __u64 frees;       /* tracked blocks released (free, realloc moving or to size 0) */
    __u64 alloc_bytes;
    __u64 free_bytes;
    __u64 calls;       /* allocator calls seen, nested ones not counted */
    __u64 misuse;      /* misuse events, sent or dropped */
    __u64 untracked;   /* blocks not tracked: `heap_blocks` full */
};

/* heap_procs value: what the kernel knows of a process's heap */
#define OSD_HEAP_COMPLETE 1u /* every allocation since exec has been seen: "unknown" is sound */

enum osd_heap_kind {
    OSD_HEAP_FREE_UNKNOWN = 1,
    OSD_HEAP_DOUBLE_FREE = 2,
    OSD_HEAP_REALLOC_UNKNOWN = 3,
    OSD_HEAP_REALLOC_FREED = 4,
    OSD_HEAP_ZERO_SIZE = 5,
};

/* One misuse, through the ring buffer. */
struct heap_event {
    __u64 ts_ns;      /* CLOCK_MONOTONIC */
    __u64 addr;       /* the pointer passed (free/realloc) or returned (zero-size) */
    __u64 size;       /* the size asked for; for a double free, the block's size if known */
    __u64 caller;     /* the return address at a probe on function entry, else 0 */
    __u32 tgid, tid;
    __u32 target_id;
    __u32 kind;       /* enum osd_heap_kind */
    __s32 stack_id;   /* user stack in `heap_stacks`, negative if it could not be taken */
    __u32 func;       /* enum osd_heap_func */
};

enum osd_heap_func {
    OSD_HEAP_F_MALLOC = 0,
    OSD_HEAP_F_CALLOC = 1,
    OSD_HEAP_F_REALLOC = 2,
    OSD_HEAP_F_FREE = 3,
    OSD_HEAP_F_POSIX_MEMALIGN = 4,
    OSD_HEAP_F_ALIGNED_ALLOC = 5,
    OSD_HEAP_F_MAX = 6,
};

/* Indices of the `heap_counters` array. */
enum osd_heap_counter {
    OSD_HEAP_CNT_DROPS = 0,       /* misuse events lost: ring buffer full */
    OSD_HEAP_CNT_BLOCKS_FULL = 1, /* allocations not tracked: `heap_blocks` full */
    OSD_HEAP_CNT_PROCS_FULL = 2,  /* calls not counted: `heap_stats` full */
    OSD_HEAP_CNT_THREADS_FULL = 3, /* blocks counted for the process, not per thread: `heap_threads` full */
    OSD_HEAP_CNT_MAX = 4,
};
#endif
