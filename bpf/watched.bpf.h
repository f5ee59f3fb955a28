/* watched.bpf.h - the `watched` map (tgid -> target) shared by every BPF object: defined
 * here, created by procmon, and reused by the other objects' skeletons through
 * bpf_map__reuse_fd() so all of them filter on one membership table. */
#ifndef OSD_WATCHED_BPF_H
#define OSD_WATCHED_BPF_H
#include "procmon.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, OSD_WATCHED_MAX);
    __type(key, __u32);
    __type(value, struct watched_val);
} watched SEC(".maps");

/* The membership of the current process, if it is watched with `flag`. */
static __always_inline struct watched_val *watched_current(__u32 flag)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    struct watched_val *w = bpf_map_lookup_elem(&watched, &tgid);

    return w && (w->flags & flag) ? w : 0;
}
#endif
