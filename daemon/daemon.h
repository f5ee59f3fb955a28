/* daemon.h - the manager: owns the loop, config, BPF collector, targets and clients.
 * Everything here is touched only from the libuv loop thread. */
#ifndef OSD_DAEMON_H
#define OSD_DAEMON_H
#include <stdint.h>
#include <uv.h>

#include "config.h"

struct procmon;
struct target;
struct rpc_server;

struct daemon {
    uv_loop_t *loop;
    struct config cfg;
    char config_path[256];
    struct procmon *pm;        /* NULL when BPF is unavailable: procfs fallback */
    char bpf_error[128];       /* why pm is NULL */
    struct target *targets;    /* list head, newest last (see targets.c) */
    int ntargets;
    uint32_t next_target_id;
    struct rpc_server *rpc;
    double started_at;         /* epoch seconds */
    int64_t started_mono_ns;
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t watchdog;
    int watchdog_on;
    int stopping;
};

double now_epoch(void); /* CLOCK_REALTIME seconds with sub-ms precision */
void daemon_notify_status(struct daemon *d);
#endif
