// SPDX-License-Identifier: GPL-2.0
/* heap.bpf.c - heap accounting and memory-misuse detection from uprobes on libc's
 * malloc, calloc, realloc, free, posix_memalign and aligned_alloc (+ uretprobes).
 *
 * Outstanding blocks live in a bounded hash {tgid, addr} -> size; recently freed ones in
 * an LRU hash, which is what makes a double free or a realloc of a freed pointer
 * recognisable. "Unknown block" kinds are reported only for processes whose every
 * allocation has been seen, i.e. watched since their exec (`heap_procs`); for the others
 * a block from before the watch is indistinguishable from a bad pointer.
 *
 * The arguments of a call wait for its return in task-local storage. glibc calls its own
 * entry points (realloc(NULL, n) is malloc, realloc(p, 0) frees p, an mmapped realloc may
 * malloc): only the outermost call of a thread is accounted, the nested ones only count
 * depth. `heap_gen` changes at every attach so a call entered under a previous attach
 * (its return never seen) does not pass for an outer call forever.
 *
 * Targets watched per thread (OSD_W_THREADS) also count per thread in `heap_threads`:
 * each block remembers the thread that allocated it, so whichever thread frees it, the
 * owner's live bytes go down. The others never touch that map. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "watched.bpf.h"
#include "heap.h"

/* BPF_KPROBE/BPF_KRETPROBE: libbpf 1.1 has no BPF_UPROBE spelling; the argument access is the same. */

char LICENSE[] SEC("license") = "GPL";

__u32 heap_gen; /* set by user space before each attach */

struct heap_call {
    __u64 size;
    __u64 ptr;     /* realloc: the old block; posix_memalign: where the result goes */
    __u32 gen;
    __u32 depth;   /* hooked calls in flight on this thread, outermost included */
    __u32 func;    /* enum osd_heap_func of the outermost call */
    __u32 target_id;
    __u32 threads; /* the target is watched per thread */
    __u32 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct heap_call);
} heap_calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, OSD_HEAP_BLOCKS);
    __type(key, struct heap_key);
    __type(value, struct heap_block);
} heap_blocks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, OSD_HEAP_THREADS);
    __type(key, struct thread_key);
    __type(value, struct heap_thread_val);
} heap_threads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, OSD_HEAP_FREED);
    __type(key, struct heap_key);
    __type(value, __u64); /* size of the freed block, 0 if it was never seen allocated */
} heap_freed SEC(".maps");

/* Per-CPU: each CPU adds to its own copy without atomics; user space sums them. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, OSD_HEAP_PROCS);
    __type(key, __u32); /* tgid */
    __type(value, struct heap_val);
} heap_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, OSD_HEAP_PROCS);
    __type(key, __u32); /* tgid */
    __type(value, __u32); /* OSD_HEAP_COMPLETE */
} heap_procs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, OSD_HEAP_STACKS);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, OSD_HEAP_STACK_DEPTH * sizeof(__u64));
} heap_stacks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, OSD_HEAP_RINGBUF);
} heap_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, OSD_HEAP_CNT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} heap_counters SEC(".maps");

/* Attachments whose probes count (key: the cookie). A probe being retired (the kernel
 * takes a while) may still fire beside its replacement: removed from here first, it is
 * ignored meanwhile, so no call counts twice. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, OSD_HEAP_ATTACHES);
    __type(key, __u32);
    __type(value, __u8);
} heap_live SEC(".maps");

/* Does this probe serve w's process? Live, and of the target's scope: probes on the shared
 * libc serve tree-scope targets, per-process probes the process-scope ones. */
static __always_inline bool probe_serves(void *ctx, const struct watched_val *w)
{
    __u32 id = (__u32)bpf_get_attach_cookie(ctx);
    bool tree = id & OSD_HEAP_ATT_TREE;

    if (!bpf_map_lookup_elem(&heap_live, &id))
        return false;
    return tree != !!(w->flags & OSD_W_HEAP_PROC);
}

static __always_inline void count(__u32 idx)
{
    __u64 *v = bpf_map_lookup_elem(&heap_counters, &idx);

    if (v)
        (*v)++;
}

static __always_inline struct heap_val *stats(__u32 tgid)
{
    struct heap_val *v = bpf_map_lookup_elem(&heap_stats, &tgid);

    if (v)
        return v;
    struct heap_val zero = {};
    bpf_map_update_elem(&heap_stats, &tgid, &zero, BPF_NOEXIST);
    v = bpf_map_lookup_elem(&heap_stats, &tgid);
    if (!v)
        count(OSD_HEAP_CNT_PROCS_FULL);
    return v;
}

static __always_inline bool complete(__u32 tgid)
{
    __u32 *f = bpf_map_lookup_elem(&heap_procs, &tgid);

    return f && (*f & OSD_HEAP_COMPLETE);
}

static __always_inline void misuse(void *ctx, struct heap_val *v, __u32 target_id, __u32 kind, __u32 func,
                                   __u64 addr, __u64 size, __u64 caller)
{
    struct heap_event *e;
    __u64 id = bpf_get_current_pid_tgid();

    if (v)
        v->misuse++;
    e = bpf_ringbuf_reserve(&heap_events, sizeof(*e), 0);
    if (!e) {
        count(OSD_HEAP_CNT_DROPS);
        return;
    }
    e->ts_ns = bpf_ktime_get_ns();
    e->addr = addr;
    e->size = size;
    e->caller = caller;
    e->tgid = id >> 32;
    e->tid = (__u32)id;
    e->target_id = target_id;
    e->kind = kind;
    e->func = func;
    e->stack_id = bpf_get_stackid(ctx, &heap_stacks, BPF_F_USER_STACK);
    bpf_ringbuf_submit(e, 0);
}

/* At a function's entry the return address is the word at the stack pointer: the frame
 * pointer chain does not have it yet, so the immediate caller would be missing. */
static __always_inline __u64 entry_caller(struct pt_regs *ctx)
{
    __u64 ra = 0;

    bpf_probe_read_user(&ra, sizeof(ra), (void *)PT_REGS_SP(ctx));
    return ra;
}

/* The owner thread of a released block: its slot may be gone with the thread. Atomics:
 * any thread of the process may free a block, and the owner may be allocating. */
static __always_inline void thread_release(const struct heap_block *b)
{
    struct thread_key tk = { .target_id = b->target_id, .tid = b->tid };
    struct heap_thread_val *tv;

    if (!b->tid || !(tv = bpf_map_lookup_elem(&heap_threads, &tk)))
        return;
    __sync_fetch_and_add(&tv->frees, 1);
    __sync_fetch_and_add(&tv->free_bytes, b->size);
}

/* The allocating thread's slot, for targets watched per thread (else NULL). */
static __always_inline struct heap_thread_val *thread_slot(__u32 target_id, __u32 tid)
{
    struct thread_key tk = { .target_id = target_id, .tid = tid };
    struct heap_thread_val *tv = bpf_map_lookup_elem(&heap_threads, &tk);

    if (tv)
        return tv;
    struct heap_thread_val zero = {};
    bpf_map_update_elem(&heap_threads, &tk, &zero, BPF_NOEXIST);
    tv = bpf_map_lookup_elem(&heap_threads, &tk);
    if (!tv)
        count(OSD_HEAP_CNT_THREADS_FULL);
    return tv;
}

/* A tracked block goes away: 1 if it was tracked (and is now remembered as freed). */
static __always_inline int release(__u32 tgid, __u64 addr, struct heap_val *v)
{
    struct heap_key k = { .tgid = tgid, .addr = addr };
    struct heap_block *p = bpf_map_lookup_elem(&heap_blocks, &k);
    struct heap_block b;

    if (!p)
        return 0;
    b = *p;
    if (bpf_map_delete_elem(&heap_blocks, &k))
        return 0; /* another thread released it first */
    if (v) {
        v->frees++;
        v->free_bytes += b.size;
    }
    thread_release(&b);
    bpf_map_update_elem(&heap_freed, &k, &b.size, BPF_ANY);
    return 1;
}

/* A new block of the current thread; c says for which target and whether per thread. */
static __always_inline void track(__u32 tgid, __u64 addr, __u64 size, struct heap_val *v,
                                  const struct heap_call *c)
{
    struct heap_key k = { .tgid = tgid, .addr = addr };
    struct heap_block b = { .size = size, .target_id = c->target_id };
    struct heap_thread_val *tv = NULL;
    struct heap_block *old;

    if (c->threads) {
        b.tid = (__u32)bpf_get_current_pid_tgid();
        tv = thread_slot(c->target_id, b.tid);
        if (!tv)
            b.tid = 0; /* no slot to lower at its free */
    }
    bpf_map_delete_elem(&heap_freed, &k);
    if (bpf_map_update_elem(&heap_blocks, &k, &b, BPF_NOEXIST)) {
        /* Already there: the old block went away unseen (an allocator we do not hook, or
         * the image before an exec). Account it as freed, then track the new one. */
        old = bpf_map_lookup_elem(&heap_blocks, &k);
        if (old) {
            if (v) {
                v->frees++;
                v->free_bytes += old->size;
            }
            thread_release(old);
        }
        if (bpf_map_update_elem(&heap_blocks, &k, &b, BPF_ANY)) {
            __u32 none = 0;
            count(OSD_HEAP_CNT_BLOCKS_FULL);
            if (v)
                v->untracked++;
            /* a block we never saw makes "unknown" unsound for this process from now on */
            bpf_map_update_elem(&heap_procs, &tgid, &none, BPF_EXIST);
            return;
        }
    }
    if (v) {
        v->allocs++;
        v->alloc_bytes += size;
    }
    if (tv) {
        __sync_fetch_and_add(&tv->allocs, 1);
        __sync_fetch_and_add(&tv->alloc_bytes, size);
    }
}

/* The thread's call record if it is inside a hooked call of the current attach. */
static __always_inline struct heap_call *in_call(void)
{
    struct heap_call *c = bpf_task_storage_get(&heap_calls, bpf_get_current_task_btf(), 0, 0);

    return c && c->depth && c->gen == heap_gen ? c : 0;
}

static __always_inline int enter(struct pt_regs *ctx, __u32 func, __u64 size, __u64 ptr)
{
    struct watched_val *w = watched_current(OSD_W_HEAP);
    struct heap_call *c;

    if (!w || !probe_serves(ctx, w))
        return 0;
    c = bpf_task_storage_get(&heap_calls, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!c)
        return 0;
    if (c->depth && c->gen == heap_gen) {
        c->depth++; /* nested: the outer call accounts for it */
        return 0;
    }
    c->gen = heap_gen;
    c->depth = 1;
    c->func = func;
    c->size = size;
    c->ptr = ptr;
    c->target_id = w->target_id;
    c->threads = !!(w->flags & OSD_W_THREADS);
    if (func == OSD_HEAP_F_REALLOC && ptr) {
        __u32 tgid = bpf_get_current_pid_tgid() >> 32;
        struct heap_key k = { .tgid = tgid, .addr = ptr };

        if (!bpf_map_lookup_elem(&heap_blocks, &k)) {
            __u64 *fsz = bpf_map_lookup_elem(&heap_freed, &k);

            if (fsz)
                misuse(ctx, stats(tgid), w->target_id, OSD_HEAP_REALLOC_FREED, func, ptr, *fsz,
                       entry_caller(ctx));
            else if (complete(tgid))
                misuse(ctx, stats(tgid), w->target_id, OSD_HEAP_REALLOC_UNKNOWN, func, ptr, size,
                       entry_caller(ctx));
        }
    }
    return 0;
}

static __always_inline int leave(struct pt_regs *ctx, __u64 ret)
{
    struct heap_call *c = bpf_task_storage_get(&heap_calls, bpf_get_current_task_btf(), 0, 0);
    struct watched_val *w = watched_current(OSD_W_HEAP);
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    struct heap_val *v;
    __u64 addr = ret;

    /* (unwatched meanwhile: the call still ends here, so depth never goes stale) */
    if (!c || !c->depth || (w && !probe_serves(ctx, w)))
        return 0;
    if (c->gen != heap_gen) {
        c->depth = 0;
        return 0;
    }
    if (--c->depth)
        return 0;
    v = stats(tgid);
    if (v)
        v->calls++;
    if (c->func == OSD_HEAP_F_POSIX_MEMALIGN) {
        addr = 0;
        if (ret == 0 && c->ptr)
            bpf_probe_read_user(&addr, sizeof(addr), (void *)c->ptr);
    }
    if (c->func == OSD_HEAP_F_REALLOC && c->ptr && (addr || c->size == 0)) {
        /* moved or shrunk to nothing: the old block is gone (unless it stayed in place) */
        if (addr != c->ptr)
            release(tgid, c->ptr, v);
    }
    if (addr) {
        if (c->func == OSD_HEAP_F_REALLOC && addr == c->ptr)
            release(tgid, addr, v); /* resized in place: re-tracked with its new size below */
        track(tgid, addr, c->size, v, c);
    }
    if (c->size == 0)
        misuse(ctx, v, c->target_id, OSD_HEAP_ZERO_SIZE, c->func, addr ? addr : c->ptr, 0, 0);
    return 0;
}

SEC("uprobe")
int BPF_KPROBE(heap_malloc, __u64 size)
{
    return enter(ctx, OSD_HEAP_F_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(heap_calloc, __u64 n, __u64 m)
{
    return enter(ctx, OSD_HEAP_F_CALLOC, n * m, 0);
}

SEC("uprobe")
int BPF_KPROBE(heap_realloc, __u64 ptr, __u64 size)
{
    return enter(ctx, OSD_HEAP_F_REALLOC, size, ptr);
}

SEC("uprobe")
int BPF_KPROBE(heap_posix_memalign, __u64 memptr, __u64 align, __u64 size)
{
    return enter(ctx, OSD_HEAP_F_POSIX_MEMALIGN, size, memptr);
}

SEC("uprobe")
int BPF_KPROBE(heap_aligned_alloc, __u64 align, __u64 size)
{
    return enter(ctx, OSD_HEAP_F_ALIGNED_ALLOC, size, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(heap_alloc_ret, __u64 ret)
{
    return leave(ctx, ret);
}

/* free needs no return probe: its bookkeeping is done at entry, before another thread
 * can be handed the same address. */
SEC("uprobe")
int BPF_KPROBE(heap_free, __u64 ptr)
{
    struct watched_val *w = watched_current(OSD_W_HEAP);
    __u32 tgid;
    struct heap_val *v;
    struct heap_key k;
    __u64 *fsz, zero = 0;

    if (!w || !probe_serves(ctx, w) || in_call())
        return 0;
    tgid = bpf_get_current_pid_tgid() >> 32;
    v = stats(tgid);
    if (v)
        v->calls++;
    if (!ptr || release(tgid, ptr, v))
        return 0;
    k.tgid = tgid;
    k.pad = 0;
    k.addr = ptr;
    fsz = bpf_map_lookup_elem(&heap_freed, &k);
    if (fsz) {
        misuse(ctx, v, w->target_id, OSD_HEAP_DOUBLE_FREE, OSD_HEAP_F_FREE, ptr, *fsz, entry_caller(ctx));
        return 0;
    }
    if (complete(tgid))
        misuse(ctx, v, w->target_id, OSD_HEAP_FREE_UNKNOWN, OSD_HEAP_F_FREE, ptr, 0, entry_caller(ctx));
    /* a block from before the watch: its second free is then a double free */
    bpf_map_update_elem(&heap_freed, &k, &zero, BPF_ANY);
    return 0;
}

/* A watched process starting a new image: from here on every allocation is seen. The old
 * image's counters go (its heap is gone). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(heap_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    __u32 tgid = BPF_CORE_READ(p, tgid);
    struct watched_val *w = bpf_map_lookup_elem(&watched, &tgid);
    __u32 full = OSD_HEAP_COMPLETE;

    if (!w || !(w->flags & OSD_W_HEAP))
        return 0;
    bpf_map_delete_elem(&heap_stats, &tgid);
    bpf_map_update_elem(&heap_procs, &tgid, &full, BPF_ANY);
    return 0;
}
