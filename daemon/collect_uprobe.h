/* collect_uprobe.h - owns the uprobe BPF object: probe slots (one entry + one return link
 * on a file offset, pid -1, filtered in the kernel by target), their config and counters,
 * and the event ring buffer polled on the loop. */
#ifndef OSD_COLLECT_UPROBE_H
#define OSD_COLLECT_UPROBE_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "uprobe.h"

struct upmon;

/* Called on the loop thread for each event of a streaming slot. */
typedef void (*upmon_event_cb)(void *arg, const struct up_event *ev);

int upmon_open(uv_loop_t *loop, int watched_fd, upmon_event_cb cb, void *arg, struct upmon **out);
void upmon_close(struct upmon *um); /* detaches everything; frees in the poll's close callback */
/* Attaches a slot to path at offset for target_id (counters zeroed); returns the slot
 * (>= 0) with *gen, -EMFILE when every slot is in use, or the attach's negative errno. */
int upmon_attach(struct upmon *um, const char *path, uint64_t offset, uint32_t target_id, uint32_t str_mask,
                 bool stream, uint32_t *gen);
/* Changes what a slot captures and whether it streams. */
int upmon_configure(struct upmon *um, int slot, uint32_t str_mask, bool stream);
/* Called on the loop thread when a detach has completed with the slot's final counters;
 * final is NULL when the daemon shut down first (free arg, nothing else). */
typedef void (*upmon_detached_cb)(void *arg, const struct up_stats *final);
/* Stops the slot counting at once (*now receives its counters at that point) and removes
 * its links in the background: the kernel waits a grace period per uprobe (~0.1 s), which
 * must not stall the loop. Returns 1 if cb(arg, ...) will run when the slot is free again
 * (final - now: calls that were already past the check), or 0 if it was detached on the
 * spot (no memory): *now is final and cb is not called. */
int upmon_detach(struct upmon *um, int slot, struct up_stats *now, upmon_detached_cb cb, void *arg);
/* A slot's counters summed over CPUs. */
int upmon_read(struct upmon *um, int slot, struct up_stats *out);
uint64_t upmon_counter(struct upmon *um, enum osd_up_counter idx);
int upmon_slots_used(const struct upmon *um);
uint64_t upmon_events(const struct upmon *um); /* events received */
#endif
