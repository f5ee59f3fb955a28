/* daemon.h - the manager: owns the loop, config, BPF collector, targets and clients.
 * Everything here is touched only from the libuv loop thread. */
#ifndef OSD_DAEMON_H
#define OSD_DAEMON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"

struct procmon;
struct netmon;
struct sysmon;
struct heapmon;
struct upmon;
struct utrace;
struct target;
struct rpc_server;
struct detect_worker;
struct alerts;

/* Command-line settings, kept to be re-applied over the file on reload. */
struct daemon_cli {
    const char *socket, *config, *state_dir, *log_level;
    int interval_ms;
    int no_bpf;
};

struct daemon {
    uv_loop_t *loop;
    struct daemon_cli cli;
    struct config cfg;
    char config_path[256];
    struct procmon *pm;        /* NULL when BPF is unavailable: procfs fallback */
    char bpf_error[128];       /* why pm is NULL */
    struct netmon *net;        /* NULL: network counting unavailable (net_error says why) */
    struct sysmon *sys;        /* NULL: syscall counting unavailable */
    struct heapmon *heap;      /* NULL: heap collection unavailable (heap_error says why) */
    struct upmon *up;          /* NULL until a user function is traced (up_error says why if it failed) */
    struct utrace *ut;         /* the probes of traced user functions (utrace.c) */
    char net_error[200], sys_error[128], heap_error[128], up_error[128];
    struct target *targets;    /* list head, newest last (see targets.c) */
    int ntargets;
    uint32_t next_target_id;
    struct rpc_server *rpc;
    struct detect_worker *worker; /* NULL if it could not start: detection off */
    struct alerts *alerts;
    double started_at;         /* epoch seconds */
    int64_t started_mono_ns;
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t watchdog;
    uv_timer_t state_timer; /* coalesces saves of targets.json (state.c) */
    uv_timer_t drop_timer;  /* reports trace ring-buffer drops (trace.c) */
    int drop_timer_on;
    uint64_t trace_dropped_reported;
    int state_dirty;
    int watchdog_on;
    int stopping;
};

#define DEFAULT_CONFIG "/etc/osdetd/osdetd.conf"

double now_epoch(void); /* CLOCK_REALTIME seconds with sub-ms precision */
/* The configuration from defaults, file (cli->config or DEFAULT_CONFIG if present),
 * environment and options; path receives the file used ("" if none). */
int daemon_build_config(const struct daemon_cli *cli, struct config *c, char *path, size_t pathlen, char *err,
                        size_t errlen);
void daemon_notify_status(struct daemon *d);
/* Re-reads the configuration; an invalid one is refused (err says why) and nothing
 * changes. Targets are kept; new defaults apply to targets watched afterwards. */
int daemon_reload(struct daemon *d, char *err, size_t errlen);
/* Loads the BPF objects of the requested families (bool fam[FAM_MAX]) that are not
 * loaded yet; -ENOTSUP if one cannot be (its *_error says why). */
int daemon_load_families(struct daemon *d, const bool *fam);
#endif
