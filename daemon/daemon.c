/* daemon.c - the manager's shared helpers: clock, systemd status, building and
 * reloading the configuration (defaults < file < environment < command line). */
#include "daemon.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "collect_heap.h"
#include "collect_net.h"
#include "collect_procmon.h"
#include "collect_syscall.h"
#include "log.h"
#include "osd_proto.h"
#include "rpc.h"
#include "targets.h"
#include "trace.h"

double now_epoch(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void daemon_notify_status(struct daemon *d)
{
    int running = 0;

    for (struct target *t = d->targets; t; t = t->next)
        running += t->state == TARGET_RUNNING;
    sd_notifyf(0, "STATUS=%d targets (%d running), %zu clients%s", d->ntargets, running,
               rpc_server_clients(d->rpc), d->pm ? "" : ", BPF unavailable: procfs fallback");
}

/* Precedence: embedded defaults < config file < environment < command line. */
int daemon_build_config(const struct daemon_cli *cli, struct config *c, char *path, size_t pathlen, char *err,
                        size_t errlen)
{
    const char *env = getenv(OSD_SOCKET_ENV);
    struct stat st;

    config_defaults(c);
    path[0] = '\0';
    if (cli->config || stat(DEFAULT_CONFIG, &st) == 0) {
        snprintf(path, pathlen, "%s", cli->config ? cli->config : DEFAULT_CONFIG);
        if (config_load(c, path, err, errlen))
            return -EINVAL;
    }
    if (env && *env)
        snprintf(c->socket, sizeof(c->socket), "%s", env);
    if (cli->socket) {
        if (strlen(cli->socket) >= sizeof(c->socket)) {
            snprintf(err, errlen, "--socket path longer than %zu bytes", sizeof(c->socket) - 1);
            return -EINVAL;
        }
        snprintf(c->socket, sizeof(c->socket), "%s", cli->socket);
    }
    if (cli->state_dir)
        snprintf(c->state_dir, sizeof(c->state_dir), "%s", cli->state_dir);
    if (cli->interval_ms)
        c->interval_ms = cli->interval_ms;
    if (cli->log_level) {
        int lvl = log_parse_level(cli->log_level);
        if (lvl < 0) {
            snprintf(err, errlen, "unknown --log-level '%s'", cli->log_level);
            return -EINVAL;
        }
        c->log_level = lvl;
    }
    return 0;
}

int daemon_reload(struct daemon *d, char *err, size_t errlen)
{
    struct config n;
    char path[256];

    if (daemon_build_config(&d->cli, &n, path, sizeof(path), err, errlen)) {
        log_warn("configuration reload refused, keeping the current one: %s", err);
        return -EINVAL;
    }
    /* These shape resources made at start-up; they change at the next start. */
    if (strcmp(n.socket, d->cfg.socket) || strcmp(n.state_dir, d->cfg.state_dir) ||
        n.anomaly_history != d->cfg.anomaly_history)
        log_warn("socket, state_dir and anomaly_history changes take effect at the next start");
    snprintf(n.socket, sizeof(n.socket), "%s", d->cfg.socket);
    snprintf(n.state_dir, sizeof(n.state_dir), "%s", d->cfg.state_dir);
    n.anomaly_history = d->cfg.anomaly_history;
    d->cfg = n;
    snprintf(d->config_path, sizeof(d->config_path), "%s", path);
    log_set_level(d->cfg.log_level);
    if (d->sys) {
        sysmon_set_sample(d->sys, (uint32_t)d->cfg.syscall_latency_sample);
        sysmon_set_window(d->sys, (uint32_t)d->cfg.syscall_latency_window_ms,
                          (uint32_t)d->cfg.syscall_latency_period_ms);
    }
    log_info("configuration reloaded%s%s; %d targets kept", path[0] ? " from " : " (embedded defaults)", path,
             d->ntargets);
    return 0;
}


/* The net, syscall and heap BPF objects are loaded when a target first asks for their
 * family: a daemon that never collects them pays neither their start-up (libbpf parses
 * the kernel's BTF for each object) nor their memory. A failed load is tried again at the
 * next request; the error is kept for replies and status. */
int daemon_load_families(struct daemon *d, const bool *fam)
{
    int err, ret = 0, loaded = 0;

    if ((fam[FAM_NET] || fam[FAM_SYSCALL] || fam[FAM_HEAP]) && !d->pm) {
        snprintf(d->net_error, sizeof(d->net_error), "%s", d->bpf_error);
        snprintf(d->sys_error, sizeof(d->sys_error), "%s", d->bpf_error);
        snprintf(d->heap_error, sizeof(d->heap_error), "%s", d->bpf_error);
        return -ENOTSUP;
    }
    if (fam[FAM_NET] && !d->net) {
        char why[200];

        if ((err = netmon_open(procmon_watched_fd(d->pm), &d->net, why, sizeof(why)))) {
            /* why: a complete sentence about OSDETD_NET_SOURCE, else empty */
            snprintf(d->net_error, sizeof(d->net_error), "%s", why[0] ? why : strerror(-err));
            log_warn("cannot load the network programs: %s", d->net_error);
            d->net = NULL;
            ret = -ENOTSUP;
        } else {
            loaded = 1;
        }
    }
    if (fam[FAM_SYSCALL] && !d->sys) {
        if ((err = sysmon_open(d->loop, procmon_watched_fd(d->pm), trace_on_event, d, &d->sys))) {
            snprintf(d->sys_error, sizeof(d->sys_error), "%s", strerror(-err));
            log_warn("cannot load the syscall programs: %s", strerror(-err));
            d->sys = NULL;
            ret = -ENOTSUP;
        } else {
            sysmon_set_sample(d->sys, (uint32_t)d->cfg.syscall_latency_sample);
            sysmon_set_window(d->sys, (uint32_t)d->cfg.syscall_latency_window_ms,
                              (uint32_t)d->cfg.syscall_latency_period_ms);
            trace_start_drop_reports(d);
            loaded = 1;
        }
    }
    if (fam[FAM_HEAP] && !d->heap) {
        if ((err = heapmon_open(d->loop, procmon_watched_fd(d->pm), heap_on_event, d, &d->heap))) {
            snprintf(d->heap_error, sizeof(d->heap_error), "%s", strerror(-err));
            log_warn("cannot load the heap programs: %s", strerror(-err));
            d->heap = NULL;
            ret = -ENOTSUP;
        } else {
            loaded = 1;
        }
    }
    if (loaded)
        malloc_trim(0); /* libbpf's copy of the kernel BTF is freed; give the pages back */
    return ret;
}
