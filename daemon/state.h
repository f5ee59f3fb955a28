/* state.h - durable daemon state besides the anomaly log: the watched targets, saved
 * atomically (write, fsync, rename, fsync dir) at every change, restored at start-up
 * for processes that still live with the same start time (a reused pid is skipped). */
#ifndef OSD_STATE_H
#define OSD_STATE_H

struct daemon;

int state_save_targets(struct daemon *d);    /* no-op while stopping */
void state_restore_targets(struct daemon *d); /* logs what it restored and skipped */
#endif
