/* net.h - structs shared by net.bpf.c and daemon/collect_net.c. */
#ifndef OSD_NET_H
#define OSD_NET_H
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define OSD_NET_MAX 4096 /* targets with network counting */

enum osd_net_proto { OSD_NET_TCP, OSD_NET_UDP, OSD_NET_OTHER, OSD_NET_NPROTO };

/* Cumulative per target since it was watched; user space takes deltas. */
struct net_val {
    __u64 tx_bytes[OSD_NET_NPROTO];
    __u64 rx_bytes[OSD_NET_NPROTO];
    __u64 tx_calls[OSD_NET_NPROTO];
    __u64 rx_calls[OSD_NET_NPROTO];
};
#endif
