/* config.h - daemon settings: embedded defaults, overlaid by a JSON file, then by
 * command-line options. Every key is validated; errors name the key. */
#ifndef OSD_CONFIG_H
#define OSD_CONFIG_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "detect_feed.h"

struct config {
    char socket[108];       /* sun_path size */
    char state_dir[256];
    int interval_ms;        /* default sampling interval of a new target */
    size_t ring_capacity;   /* points per metric per target */
    int retention_s;        /* exited targets are dropped after this; 0 = keep until unwatched */
    int max_targets;
    int max_clients;
    int log_level;          /* syslog priority */
    struct detect_opts detect; /* defaults of new targets */
    size_t anomaly_history;    /* anomalies kept in memory (the log keeps all) */
    int syscall_latency_sample; /* syscall latency measured for 1 call in N (1: every call) */
    int syscall_latency_window_ms; /* ... only in windows this long (0: at any moment) */
    int syscall_latency_period_ms; /* ... one window starting every this often */
    bool heap_process;         /* default heap_scope of new targets: "process" (else "tree") */
};

void config_defaults(struct config *c);
json_t *config_json(const struct config *c); /* every key, as the file would spell it */
/* Overlays the JSON object in `path` on c. On error returns -EINVAL/-ENOENT... and
 * writes a message naming the file, the key and the problem into err. */
int config_load(struct config *c, const char *path, char *err, size_t errlen);
/* Same, from a JSON text (used by config_load and the tests). */
int config_parse(struct config *c, const char *text, char *err, size_t errlen);
#endif
