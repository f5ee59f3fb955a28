/* collect_net.h - owns the net BPF object: per-target socket bytes/calls by protocol.
 * Its programs are attached only while some target collects `net`. */
#ifndef OSD_COLLECT_NET_H
#define OSD_COLLECT_NET_H
#include <stdint.h>

#include "net.h"

struct netmon;

/* Loads the programs on the shared `watched` map. OSDETD_NET_SOURCE=devqueue forces the
 * pre-6.3 fallback (for tests); otherwise it is chosen by what the kernel has. */
int netmon_open(int watched_fd, struct netmon **out);
void netmon_close(struct netmon *nm);
int netmon_use(struct netmon *nm, int delta); /* attach on first user, detach after last */
/* Cumulative counters of a target (zeros if it has sent/received nothing yet). */
int netmon_read(struct netmon *nm, uint32_t target_id, struct net_val *out);
void netmon_forget(struct netmon *nm, uint32_t target_id);
const char *netmon_source(const struct netmon *nm);
int netmon_users(const struct netmon *nm);
uint64_t netmon_full(struct netmon *nm); /* events lost: map full */
#endif
