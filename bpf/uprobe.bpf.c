// SPDX-License-Identifier: GPL-2.0
/* uprobe.bpf.c - user-function probes: one generic entry program and one generic return
 * program, attached per probed function (a "slot") with the slot number as BPF cookie.
 * The slot's config says which target it counts, which arguments are strings and whether
 * every enter/return is streamed (ring buffer; drops counted). Per slot: calls, and the
 * latency of the calls that returned, as a total and a log2 histogram.
 *
 * Entry times wait for the return on a small per-thread stack in task-local storage,
 * shared by all slots: uretprobes fire in LIFO order per thread, so a return matches the
 * topmost frame of its slot; frames above it are calls whose return was never seen
 * (longjmp, or a probe detached meanwhile) and are dropped. Recursion therefore times each
 * level on its own. Deeper than OSD_UP_DEPTH a call is counted but not timed. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "watched.bpf.h"
#include "log2.bpf.h"
#include "uprobe.h"

char LICENSE[] SEC("license") = "GPL";

struct up_frame {
    __u64 ts;
    __u32 slot;
    __u32 gen;
};

struct up_stack {
    __u32 depth;    /* frames in f[] */
    __u32 overflow; /* calls in flight beyond OSD_UP_DEPTH (untimed) */
    struct up_frame f[OSD_UP_DEPTH];
};

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct up_stack);
} up_stack SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, OSD_UP_SLOTS);
    __type(key, __u32);
    __type(value, struct up_cfg);
} up_cfg SEC(".maps");

/* Per-CPU: each CPU adds to its own copy without atomics; user space sums them. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, OSD_UP_SLOTS);
    __type(key, __u32);
    __type(value, struct up_stats);
} up_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, OSD_UP_RINGBUF);
} up_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, OSD_UP_CNT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} up_counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
    __u64 *v = bpf_map_lookup_elem(&up_counters, &idx);

    if (v)
        (*v)++;
}

static __always_inline struct up_event *event_new(__u32 slot, __u32 gen, __u32 type, __u64 now)
{
    struct up_event *e = bpf_ringbuf_reserve(&up_events, sizeof(*e), 0);
    __u64 id = bpf_get_current_pid_tgid();

    if (!e) {
        count(OSD_UP_CNT_DROPS);
        return 0;
    }
    e->ts_ns = now;
    e->tgid = id >> 32;
    e->tid = (__u32)id;
    e->slot = slot;
    e->gen = gen;
    e->type = type;
    e->str_bad = 0;
    return e;
}

/* A %s value: bounded copy from the traced process; a bad pointer is flagged, not fatal. */
static __always_inline void read_str(struct up_event *e, int i, __u64 addr)
{
    e->str[i][0] = 0;
    if (bpf_probe_read_user_str(e->str[i], OSD_UP_STR, (void *)addr) < 0) {
        e->str[i][0] = 0;
        e->str_bad |= 1u << i;
    }
}

SEC("uprobe")
int up_enter(struct pt_regs *ctx)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    struct watched_val *w = bpf_map_lookup_elem(&watched, &tgid);
    __u32 slot, gen, mask;
    struct up_stack *st;
    struct up_stats *s;
    struct up_cfg *c;
    struct up_event *e;
    __u64 now;

    if (!w)
        return 0;
    slot = (__u32)bpf_get_attach_cookie(ctx);
    c = bpf_map_lookup_elem(&up_cfg, &slot);
    if (!c || !(c->flags & OSD_UP_ACTIVE) || c->target_id != w->target_id)
        return 0;
    gen = c->gen;
    mask = c->str_mask;
    now = bpf_ktime_get_ns();
    s = bpf_map_lookup_elem(&up_stats, &slot);
    if (s)
        s->calls++;
    st = bpf_task_storage_get(&up_stack, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!st) {
        count(OSD_UP_CNT_NOSTORE);
    } else if (st->depth >= OSD_UP_DEPTH) {
        st->overflow++;
        count(OSD_UP_CNT_DEEP);
    } else {
        __u32 d = st->depth;

        if (d < OSD_UP_DEPTH) { /* the verifier wants the bound where the index is used */
            st->f[d].ts = now;
            st->f[d].slot = slot;
            st->f[d].gen = gen;
            st->depth = d + 1;
        }
    }
    if (!(c->flags & OSD_UP_STREAM))
        return 0;
    e = event_new(slot, gen, OSD_UP_ENTER, now);
    if (!e)
        return 0;
    e->args[0] = PT_REGS_PARM1(ctx);
    e->args[1] = PT_REGS_PARM2(ctx);
    e->args[2] = PT_REGS_PARM3(ctx);
    e->args[3] = PT_REGS_PARM4(ctx);
    e->args[4] = PT_REGS_PARM5(ctx);
    e->args[5] = ctx->r9; /* PT_REGS_PARM6 is missing from older bpf_tracing.h */
    e->ret = 0;
    e->lat_ns = 0;
#pragma unroll
    for (int i = 0; i < OSD_UP_NARGS; i++) {
        if (mask & (1u << i))
            read_str(e, i, e->args[i]);
        else
            e->str[i][0] = 0;
    }
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("uretprobe")
int up_return(struct pt_regs *ctx)
{
    __u32 slot = (__u32)bpf_get_attach_cookie(ctx);
    struct up_cfg *c = bpf_map_lookup_elem(&up_cfg, &slot);
    struct up_stack *st;
    struct up_stats *s;
    struct up_event *e;
    __u64 now, lat;
    __u32 gen, depth;
    int found = -1;

    if (!c || !(c->flags & OSD_UP_ACTIVE))
        return 0;
    /* no `watched` lookup: a frame of this slot exists only if the entry passed it */
    st = bpf_task_storage_get(&up_stack, bpf_get_current_task_btf(), 0, 0);
    if (!st)
        return 0;
    if (st->overflow) {
        st->overflow--; /* the innermost calls return first: this one was never timed */
        return 0;
    }
    now = bpf_ktime_get_ns();
    gen = c->gen;
    depth = st->depth;
    for (int i = OSD_UP_DEPTH - 1; i >= 0; i--) {
        if ((__u32)i < depth && st->f[i].slot == slot && st->f[i].gen == gen) {
            found = i;
            break;
        }
    }
    if (found < 0 || found >= OSD_UP_DEPTH)
        return 0; /* entered before this attach */
    lat = now - st->f[found].ts;
    st->depth = found;
    s = bpf_map_lookup_elem(&up_stats, &slot);
    if (s) {
        s->returns++;
        s->total_ns += lat;
        s->hist[log2_bucket(lat, OSD_UP_HIST)]++;
    }
    if (!(c->flags & OSD_UP_STREAM))
        return 0;
    e = event_new(slot, gen, OSD_UP_RETURN, now);
    if (!e)
        return 0;
    __builtin_memset(e->args, 0, sizeof(e->args));
    e->ret = PT_REGS_RC(ctx);
    e->lat_ns = lat;
    if (c->str_mask & (1u << OSD_UP_RET_STR))
        read_str(e, 0, e->ret);
    else
        e->str[0][0] = 0;
    bpf_ringbuf_submit(e, 0);
    return 0;
}
