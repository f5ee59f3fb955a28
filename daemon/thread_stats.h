/* thread_stats.h - the per-thread view of the net, syscall and heap families of a target
 * watched with `threads: true`: read from the collectors' per-thread maps each tick,
 * deltas against the previous tick, and the slots of threads that are gone deleted. */
#ifndef OSD_THREAD_STATS_H
#define OSD_THREAD_STATS_H
#include <stddef.h>
#include <stdint.h>

#include "targets.h"

/* Fills the family fields of cur[] (n threads sorted by tid, CPU fields already set)
 * from maps at most max_age_ns old; t->threads still holds the previous tick. */
void thread_stats_fill(struct target *t, struct thread_stat *cur, size_t n, int64_t max_age_ns);
/* Deletes the per-thread slots of gone threads (tids sorted): their counts stay in the
 * target totals, which the kernel keeps apart. */
void thread_stats_forget(struct target *t, const uint32_t *tids, size_t n);
/* The thread tid in arr (sorted by tid), or NULL. */
const struct thread_stat *thread_stats_find(const struct thread_stat *arr, size_t n, uint32_t tid);
#endif
