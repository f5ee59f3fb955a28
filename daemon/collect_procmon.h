/* collect_procmon.h - owns the procmon BPF skeleton: tree membership (`watched`) and
 * per-process CPU counters (`cpu`). A sweep copies both maps in batches, sorted by
 * target, so every target's tick reads its slice without another syscall. */
#ifndef OSD_COLLECT_PROCMON_H
#define OSD_COLLECT_PROCMON_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procmon.h"

/* user-space-only flag stored in watched_val.flags: seen dead once, reap next sweep */
#define OSD_W_REAP (1u << 8)

struct procmon_member {
    uint32_t tgid;
    struct watched_val w;
};

struct procmon_cpu {
    struct cpu_key k;
    struct cpu_val v;
};

struct procmon_sweep {
    int64_t mono_ns;              /* CLOCK_MONOTONIC when read */
    struct procmon_member *members; /* sorted by (target_id, tgid) */
    size_t nmembers;
    struct procmon_cpu *cpu;      /* sorted by (target_id, tgid, tid) */
    size_t ncpu;
};

struct procmon;

int procmon_open(struct procmon **pm);  /* load + attach; negative errno on failure */
void procmon_close(struct procmon *pm); /* detaches every program, frees maps */
/* Adds tgid to the target. -EEXIST if it already belongs to a target (*owner set). */
int procmon_add(struct procmon *pm, pid_t tgid, uint32_t target_id, uint32_t flags, uint32_t *owner);
/* Processes entering cgroup_id (or a cgroup below it) join target_id from now on.
 * -EEXIST if that cgroup is watched already, -ENOSPC map full. */
int procmon_cgroup_add(struct procmon *pm, uint64_t cgroup_id, uint32_t target_id, uint32_t flags);
void procmon_cgroup_del(struct procmon *pm, uint64_t cgroup_id);
int procmon_set_flags(struct procmon *pm, pid_t tgid, const struct watched_val *w);
/* Deletes the watched and cpu entries of one process (tgid). */
void procmon_forget(struct procmon *pm, pid_t tgid);
void procmon_forget_cpu(struct procmon *pm, const struct cpu_key *k);
int procmon_watched_fd(const struct procmon *pm); /* shared with the other BPF objects */
/* Sets and clears flags on every member of a target (children inherit them at fork). */
void procmon_target_flags(struct procmon *pm, uint32_t target_id, uint32_t set, uint32_t clear);
/* Deletes every entry of a target. */
void procmon_remove_target(struct procmon *pm, uint32_t target_id);
/* Forces the next procmon_sweep() to re-read the maps (after this side changed them). */
void procmon_invalidate(struct procmon *pm);
/* Returns the latest sweep, re-reading the maps if it is older than max_age_ns. */
const struct procmon_sweep *procmon_sweep(struct procmon *pm, int64_t max_age_ns, int *err);
/* Slices of a sweep belonging to one target. */
void procmon_target_members(const struct procmon_sweep *sw, uint32_t target_id, size_t *first, size_t *n);
void procmon_target_cpu(const struct procmon_sweep *sw, uint32_t target_id, size_t *first, size_t *n);

struct procmon_stats {
    size_t watched_entries, cpu_entries;
    uint64_t counters[OSD_CNT_MAX];
};
void procmon_stats(struct procmon *pm, struct procmon_stats *st);
const char *const *procmon_programs(size_t *n);
int64_t mono_ns(void);
#endif
