/* state.h - durable daemon state besides the anomaly log: the watched targets, saved
 * atomically (write, fsync, rename, fsync dir) shortly after every change (changes
 * within STATE_SAVE_DELAY_MS are coalesced, so watching 1,000 targets is not 1,000
 * fsyncs), restored at start-up for processes that still live with the same start time
 * (a reused pid is skipped). */
#ifndef OSD_STATE_H
#define OSD_STATE_H

struct daemon;

#define STATE_SAVE_DELAY_MS 200

void state_init(struct daemon *d);           /* the save timer */
void state_changed(struct daemon *d);        /* schedules a save; no-op while stopping */
int state_flush(struct daemon *d);           /* saves now if a save is pending */
void state_close(struct daemon *d);          /* flushes, closes the timer */
int state_save_targets(struct daemon *d);
void state_restore_targets(struct daemon *d); /* logs what it restored and skipped */
#endif
