/* collect_net.h - owns the net BPF object: per-target socket bytes/calls by protocol.
 * Its programs are attached only while some target collects `net`. */
#ifndef OSD_COLLECT_NET_H
#define OSD_COLLECT_NET_H
#include <stddef.h>
#include <stdint.h>

#include "bpf_sweep.h"
#include "net.h"

struct netmon;

/* Loads the programs on the shared `watched` map. OSDETD_NET_SOURCE picks the source:
 * "devqueue" forces the pre-6.3 fallback (for tests), "sock" requires the 6.3
 * tracepoints, unset/""/"auto" chooses by what the kernel has. Another value is -EINVAL
 * with why[] saying so (as does "sock" on a kernel without them: -ENOENT). */
int netmon_open(int watched_fd, struct netmon **out, char *why, size_t whylen);
/* Only the spelling of OSDETD_NET_SOURCE (no BTF parsing): for a warning at start-up. */
int netmon_env_check(char *why, size_t whylen);
void netmon_close(struct netmon *nm);
int netmon_use(struct netmon *nm, int delta); /* attach on first user, detach after last */
/* Cumulative counters of a target (zeros if it has sent/received nothing yet). */
int netmon_read(struct netmon *nm, uint32_t target_id, struct net_val *out);
/* Deletes a target's counters, its per-thread ones included. */
void netmon_forget(struct netmon *nm, uint32_t target_id);
const char *netmon_source(const struct netmon *nm);
int netmon_users(const struct netmon *nm);
uint64_t netmon_counter(struct netmon *nm, enum osd_net_counter idx); /* events lost: map full */
/* `net_threads`: keys struct thread_key, values struct net_thread_val. */
struct bpf_sweep *netmon_threads(struct netmon *nm);
#endif
