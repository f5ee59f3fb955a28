// SPDX-License-Identifier: GPL-2.0
/* net.bpf.c - bytes and calls sent and received per target, by protocol, counted in the
 * sending/receiving process's own context (sock_send_length / sock_recv_length, kernel
 * 6.3+), not in softirq where the current task is whoever was interrupted. Older kernels:
 * net_dev_queue counts transmitted bytes only (user space picks which programs load).
 * Targets watched per thread (OSD_W_THREADS) also count into `net_threads`, keyed by
 * {target, tid}; the others never touch it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "watched.bpf.h"
#include "net.h"

char LICENSE[] SEC("license") = "GPL";

#define MSG_PEEK_FLAG 2 /* peeked bytes will be read again: not counted twice */

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, OSD_NET_MAX);
    __type(key, __u32); /* target id */
    __type(value, struct net_val);
} net SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, OSD_NET_THREADS_MAX);
    __type(key, struct thread_key);
    __type(value, struct net_thread_val);
} net_threads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, OSD_NET_CNT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} net_full SEC(".maps"); /* events lost because a map was full (enum osd_net_counter) */

static __always_inline void count_full(__u32 idx)
{
    __u64 *full = bpf_map_lookup_elem(&net_full, &idx);

    if (full)
        __sync_fetch_and_add(full, 1);
}

static __always_inline struct net_val *slot(__u32 target)
{
    struct net_val *v = bpf_map_lookup_elem(&net, &target);

    if (v)
        return v;
    struct net_val zero = {};
    bpf_map_update_elem(&net, &target, &zero, BPF_NOEXIST);
    v = bpf_map_lookup_elem(&net, &target);
    if (!v)
        count_full(OSD_NET_CNT_FULL);
    return v;
}

/* The current thread's slot; only for targets watched per thread. */
static __always_inline struct net_thread_val *thread_slot(__u32 target)
{
    struct thread_key k = { .target_id = target, .tid = (__u32)bpf_get_current_pid_tgid() };
    struct net_thread_val *v = bpf_map_lookup_elem(&net_threads, &k);

    if (v)
        return v;
    struct net_thread_val zero = {};
    bpf_map_update_elem(&net_threads, &k, &zero, BPF_NOEXIST);
    v = bpf_map_lookup_elem(&net_threads, &k);
    if (!v)
        count_full(OSD_NET_CNT_THREADS_FULL);
    return v;
}

static __always_inline __u32 proto_of(struct sock *sk)
{
    __u16 p = BPF_CORE_READ(sk, sk_protocol);

    return p == IPPROTO_TCP ? OSD_NET_TCP : p == IPPROTO_UDP ? OSD_NET_UDP : OSD_NET_OTHER;
}

static __always_inline void account(struct sock *sk, int ret, int flags, int rx)
{
    struct watched_val *w;
    struct net_thread_val *tv;
    struct net_val *v;
    __u32 p;

    if (ret <= 0 || (rx && (flags & MSG_PEEK_FLAG)))
        return;
    w = watched_current(OSD_W_NET);
    if (!w || !(v = slot(w->target_id)))
        return;
    p = proto_of(sk);
    if (p >= OSD_NET_NPROTO)
        return;
    if (rx) {
        __sync_fetch_and_add(&v->rx_bytes[p], ret);
        __sync_fetch_and_add(&v->rx_calls[p], 1);
    } else {
        __sync_fetch_and_add(&v->tx_bytes[p], ret);
        __sync_fetch_and_add(&v->tx_calls[p], 1);
    }
    if (!(w->flags & OSD_W_THREADS) || !(tv = thread_slot(w->target_id)))
        return;
    /* atomics: the fallback runs in softirq too, which may interrupt the thread's own update */
    if (rx) {
        __sync_fetch_and_add(&tv->rx_bytes, ret);
        __sync_fetch_and_add(&tv->rx_calls, 1);
    } else {
        __sync_fetch_and_add(&tv->tx_bytes, ret);
        __sync_fetch_and_add(&tv->tx_calls, 1);
    }
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(handle_send, struct sock *sk, int ret, int flags)
{
    account(sk, ret, flags, 0);
    return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(handle_recv, struct sock *sk, int ret, int flags)
{
    account(sk, ret, flags, 1);
    return 0;
}

/* Fallback: transmitted bytes as they reach a device queue. Not loaded when the
 * sock_*_length tracepoints exist. */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(handle_dev_queue, struct sk_buff *skb)
{
    struct sock *sk = BPF_CORE_READ(skb, sk);

    if (!sk)
        return 0;
    account(sk, BPF_CORE_READ(skb, len), 0, 0);
    return 0;
}
