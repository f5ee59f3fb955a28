/* trace.h - turns syscall trace events from the ring buffer into `trace` notifications
 * for the connections tracing their target, and reports ring-buffer drops to them. */
#ifndef OSD_TRACE_H
#define OSD_TRACE_H
#include "syscall.h"

struct daemon;

void trace_on_event(void *arg, const struct sys_event *ev); /* sysmon callback; arg: daemon */
void trace_start_drop_reports(struct daemon *d);            /* once a second */
void trace_stop_drop_reports(struct daemon *d);
#endif
