/* collect_heap.h - owns the heap BPF object: uprobes on the libc of watched processes
 * (attached once per distinct libc path while some target uses it, or per process), per-process heap
 * counters, and misuse events (ring buffer polled on the loop) with symbolised stacks. */
#ifndef OSD_COLLECT_HEAP_H
#define OSD_COLLECT_HEAP_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "bpf_sweep.h"
#include "heap.h"

struct heapmon;

/* Called on the loop thread for each misuse; stack: "module!sym+0xoff;..." innermost first. */
typedef void (*heapmon_event_cb)(void *arg, const struct heap_event *ev, const char *stack);

int heapmon_open(uv_loop_t *loop, int watched_fd, heapmon_event_cb cb, void *arg, struct heapmon **out);
void heapmon_close(struct heapmon *hm); /* closes its poll handle; frees in the close callback */
/* The libc mapped by pid (path into libc, len bytes): 0, or -ENOENT if it maps none. */
int heapmon_find_libc(pid_t pid, char *libc, size_t len);
/* Attaches the probes to that libc on its first user; negative errno on failure. */
int heapmon_use(struct heapmon *hm, const char *libc);
void heapmon_release(struct heapmon *hm, const char *libc);
/* heap_scope "process": the probes in one process only (its own libc), so no other process
 * traps; 0 if already attached, -ENOENT if it maps no libc, -ESRCH if it is gone. Children
 * are not covered by the kernel: the caller attaches them as they become members. */
int heapmon_attach_pid(struct heapmon *hm, uint32_t tgid, uint32_t target_id);
void heapmon_detach_pid(struct heapmon *hm, uint32_t tgid);
void heapmon_detach_target(struct heapmon *hm, uint32_t target_id); /* every process it attached */
/* A process's cumulative counters summed over CPUs (zeros if it has none). */
int heapmon_read(struct heapmon *hm, uint32_t tgid, struct heap_val *out);
/* Drops what the kernel keeps for a process that is gone or no longer watched. */
void heapmon_forget(struct heapmon *hm, uint32_t tgid, int had_blocks);
/* `heap_threads`: keys struct thread_key, values struct heap_thread_val. */
struct bpf_sweep *heapmon_threads(struct heapmon *hm);
void heapmon_forget_threads(struct heapmon *hm, uint32_t target_id);
uint64_t heapmon_counter(struct heapmon *hm, enum osd_heap_counter idx);
json_t *heapmon_status(struct heapmon *hm); /* attached libcs, map fill, drops */
const char *heapmon_kind_name(uint32_t kind);
#endif
