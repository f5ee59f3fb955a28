/* collect_syscall.h - owns the syscall BPF object: per-(target, syscall) counts, errors
 * and log2 latency histograms, and the ordered enter/exit stream of traced targets (ring
 * buffer polled on the loop). Programs are attached only while some target collects
 * `syscall`. */
#ifndef OSD_COLLECT_SYSCALL_H
#define OSD_COLLECT_SYSCALL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "bpf_sweep.h"
#include "syscall.h"

struct sysmon;

struct sysmon_entry {
    struct sys_key k;
    struct sys_val v;
};

struct sysmon_sweep {
    int64_t mono_ns;
    struct sysmon_entry *e; /* sorted by (target_id, nr) */
    size_t n;
};

/* Called on the loop thread for each trace event. */
typedef void (*sysmon_event_cb)(void *arg, const struct sys_event *ev);

int sysmon_open(uv_loop_t *loop, int watched_fd, sysmon_event_cb cb, void *arg, struct sysmon **out);
void sysmon_close(struct sysmon *sm); /* closes its poll handle; frees in the close callback */
int sysmon_use(struct sysmon *sm, int delta);
int sysmon_users(const struct sysmon *sm);
const struct sysmon_sweep *sysmon_sweep(struct sysmon *sm, int64_t max_age_ns, int *err);
void sysmon_target(const struct sysmon_sweep *sw, uint32_t target_id, size_t *first, size_t *n);
/* A counter slot for a new syscall target (flags: OSD_W_TRACE, OSD_W_THREADS), zeroed;
 * -EUSERS when all OSD_SYS_SLOTS - 1 are in use. Its members carry it in their watched
 * flags (OSD_W_SLOT) and in the `sys_slot` byte set by sysmon_member(). */
int sysmon_slot_get(struct sysmon *sm, uint32_t target_id, uint32_t flags, uint32_t *slot);
/* Sets/clears OSD_W_TRACE or OSD_W_THREADS of a target's slot. */
int sysmon_slot_flags(struct sysmon *sm, uint32_t target_id, uint32_t set, uint32_t clear);
/* Process tgid counts into slot (0: into none) from its next syscall on. */
void sysmon_member(struct sysmon *sm, pid_t tgid, uint32_t slot);
/* Process tgid, reaped, leaves slot (if it still holds it). */
void sysmon_member_gone(struct sysmon *sm, pid_t tgid, uint32_t slot);
size_t sysmon_slots_used(const struct sysmon *sm);
size_t sysmon_pid_cover(const struct sysmon *sm); /* tgids below this have a slot byte */
void sysmon_set_sample(struct sysmon *sm, uint32_t every); /* latency of 1 call in every */
uint32_t sysmon_sample(const struct sysmon *sm);
/* Latency windows: the enter program (timestamps) attached win_ms every period_ms, unless
 * a target is traced or every call is sampled; win_ms 0 (or >= period_ms): always. */
void sysmon_set_window(struct sysmon *sm, uint32_t win_ms, uint32_t period_ms);
/* Estimated time of all count calls from the summed latency of the sampled ones (hist). */
uint64_t sysmon_total_est(uint64_t sampled_ns, uint64_t count, const __u64 *hist);
/* Releases a target's slot: its members stop counting, its counters go with the slot. */
void sysmon_slot_put(struct sysmon *sm, uint32_t target_id);
/* A copy (malloc'd, sorted by nr) of a target's entries now: kept by a target that
 * stopped collecting, so its slot can serve another. */
int sysmon_copy(struct sysmon *sm, uint32_t target_id, struct sysmon_entry **out, size_t *n);
/* sysmon_slot_put() and deletes the target's per-thread counters. */
void sysmon_forget(struct sysmon *sm, uint32_t target_id);
/* `sys_threads`: keys struct sys_thread_key, values struct sys_val. */
struct bpf_sweep *sysmon_threads(struct sysmon *sm);
uint64_t sysmon_counter(struct sysmon *sm, enum osd_sys_counter idx);
/* Sum of a target's entries: count, errors, total_ns and histogram. */
void sysmon_total(const struct sysmon_sweep *sw, uint32_t target_id, struct sys_val *out);
/* The histogram's q-quantile (0..1) in ns: the geometric middle of its bucket; 0 if empty. */
double sysmon_quantile(const __u64 *hist, double q);
const char *syscall_name(uint32_t nr); /* "syscall_NNN" style when unknown: static buffer */
#endif
