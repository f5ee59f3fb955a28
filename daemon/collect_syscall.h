/* collect_syscall.h - owns the syscall BPF object: per-(target, syscall) counts, errors
 * and log2 latency histograms, and the ordered enter/exit stream of traced targets (ring
 * buffer polled on the loop). Programs are attached only while some target collects
 * `syscall`. */
#ifndef OSD_COLLECT_SYSCALL_H
#define OSD_COLLECT_SYSCALL_H
#include <stddef.h>
#include <stdint.h>
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
/* Deletes a target's counters, its per-thread ones included. */
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
