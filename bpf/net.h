/* net.h - structs shared by net.bpf.c and daemon/collect_net.c. */
#ifndef OSD_NET_H
#define OSD_NET_H
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define OSD_NET_MAX 4096          /* targets with network counting */
#define OSD_NET_THREADS_MAX 16384 /* threads of targets watched with OSD_W_THREADS */

enum osd_net_proto { OSD_NET_TCP, OSD_NET_UDP, OSD_NET_OTHER, OSD_NET_NPROTO };

/* Cumulative per target since it was watched; user space takes deltas. */
struct net_val {
    __u64 tx_bytes[OSD_NET_NPROTO];
    __u64 rx_bytes[OSD_NET_NPROTO];
    __u64 tx_calls[OSD_NET_NPROTO];
    __u64 rx_calls[OSD_NET_NPROTO];
};

/* Per thread (key: struct thread_key), all protocols together; cumulative. */
struct net_thread_val {
    __u64 tx_bytes, rx_bytes;
    __u64 tx_calls, rx_calls;
};

/* Indices of the `net_full` array: events lost because a map was full. */
enum osd_net_counter {
    OSD_NET_CNT_FULL = 0,         /* `net` (per target) full: not counted at all */
    OSD_NET_CNT_THREADS_FULL = 1, /* `net_threads` full: in the target total, not per thread */
    OSD_NET_CNT_MAX = 2,
};
#endif
