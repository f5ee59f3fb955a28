/* alerts.h - where anomalies go: an in-memory history (bounded), a durable append-only
 * log in the state directory (fsync'd before anyone is told), journald entries with
 * structured fields, and a hook that pushes them to subscribed clients. */
#ifndef OSD_ALERTS_H
#define OSD_ALERTS_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

#define ALERT_TOP 3

struct anomaly {
    uint64_t id;
    char kind[24];        /* "anomaly" (detector) or a memory-misuse kind ("double-free", ...) */
    pid_t pid;            /* the target's root; 0 for a cgroup target */
    char cgroup[CGROUP_PATH_MAX]; /* a cgroup target's cgroup, else "" */
    char unit[CGROUP_UNIT_MAX];   /* the unit it was named by, else "" */
    uid_t uid;            /* owner of the target: who may see it */
    char comm[32];
    char metrics[96];     /* comma-separated metric columns, most contributing first */
    char detector[8];
    double start, end;    /* epoch s; end == start while open */
    double peak_score, threshold;
    int ntop;
    char top_name[ALERT_TOP][24];
    double top_val[ALERT_TOP];
    bool open;
    /* memory misuse only (tid != 0): the process and thread that misused the heap, the
     * address and size involved, and its user stack, symbolised ("mod!sym+0xoff;...") */
    pid_t tgid, tid;
    uint64_t addr, size;
    int32_t stack_id;
    char stack[384];
};

struct alerts;
typedef void (*alerts_hook)(void *arg, const char *event, json_t *record, const struct anomaly *x);

/* Loads <state_dir>/anomalies.jsonl (creating the directory and file). */
int alerts_open(const char *state_dir, size_t keep, struct alerts **out);
void alerts_close(struct alerts *a);
void alerts_set_hook(struct alerts *a, alerts_hook hook, void *arg);
/* Records a new anomaly (assigns a->id) and tells log, journal, hook. */
int alerts_begin(struct alerts *a, struct anomaly *x);
/* Updates an open anomaly in memory (end, peak) without logging. */
void alerts_update(struct alerts *a, const struct anomaly *x);
/* Updates an open anomaly with its final end and peak; logs the end. */
int alerts_end(struct alerts *a, const struct anomaly *x);
/* Selects the anomalies of one target by pid, cgroup path or unit name; every field
 * empty (0, "") selects all targets. */
struct anomaly_filter {
    pid_t pid;
    char cgroup[CGROUP_PATH_MAX];
    char unit[CGROUP_UNIT_MAX];
};
bool anomaly_filter_match(const struct anomaly_filter *f, const struct anomaly *x);
/* Matching records visible to uid (0 = all), oldest first. metric NULL = any. */
json_t *alerts_query(struct alerts *a, double since, double until, const struct anomaly_filter *f, const char *metric,
                     size_t limit, uid_t uid);
json_t *anomaly_json(const struct anomaly *x);
size_t alerts_count(const struct alerts *a);
uint64_t alerts_log_errors(const struct alerts *a); /* corrupt lines skipped at load + failed writes */
const char *alerts_path(const struct alerts *a);
#endif
