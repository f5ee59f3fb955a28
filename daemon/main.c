/* main.c - osdetd entry: options, config, BPF, socket, systemd notification, signals,
 * the loop, and an orderly shutdown that detaches every BPF program. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "alerts.h"
#include "collect_heap.h"
#include "collect_net.h"
#include "collect_procmon.h"
#include "utrace.h"
#include "collect_syscall.h"
#include "daemon.h"
#include "detect.h"
#include "detect_feed.h"
#include "log.h"
#include "osd_proto.h"
#include "rpc.h"
#include "state.h"
#include "targets.h"
#include "trace.h"


static void usage(FILE *f)
{
    fprintf(f,
            "Usage: osdetd [OPTIONS]\n"
            "Per-process OS anomaly detector daemon: watches process trees with eBPF and\n"
            "serves JSON-RPC on a Unix socket (see osdctl(1), proto/osd-rpc.md).\n\n"
            "Options:\n"
            "  -s, --socket PATH     listen on PATH (default %s; env %s)\n"
            "  -c, --config FILE     JSON configuration (default %s if it exists)\n"
            "  -d, --state-dir DIR   state directory (default /var/lib/osdetd)\n"
            "  -i, --interval MS     default sampling interval, %d..%d ms (default %d)\n"
            "      --no-bpf          do not load BPF; sample /proc only (fallback mode)\n"
            "  -l, --log-level LVL   err, warning, notice, info (default) or debug\n"
            "  -h, --help            show this help\n"
            "  -V, --version         show the version\n",
            OSD_DEFAULT_SOCKET, OSD_SOCKET_ENV, DEFAULT_CONFIG, OSD_INTERVAL_MIN_MS, OSD_INTERVAL_MAX_MS,
            OSD_INTERVAL_DEFAULT_MS);
}

/* Returns 0 to run, 1 to exit successfully (help/version), -1 on a usage error. */
static int parse_cli(int argc, char **argv, struct daemon_cli *cli)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },    { "config", required_argument, NULL, 'c' },
        { "state-dir", required_argument, NULL, 'd' }, { "interval", required_argument, NULL, 'i' },
        { "log-level", required_argument, NULL, 'l' }, { "no-bpf", no_argument, NULL, 'B' },
        { "help", no_argument, NULL, 'h' },            { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "s:c:d:i:l:hV", opts, NULL)) != -1) {
        char *end;
        long v;
        switch (c) {
        case 's':
            cli->socket = optarg;
            break;
        case 'c':
            cli->config = optarg;
            break;
        case 'd':
            cli->state_dir = optarg;
            break;
        case 'l':
            cli->log_level = optarg;
            break;
        case 'B':
            cli->no_bpf = 1;
            break;
        case 'i':
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || v < OSD_INTERVAL_MIN_MS || v > OSD_INTERVAL_MAX_MS) {
                fprintf(stderr, "osdetd: --interval must be an integer between %d and %d ms, got '%s'\n",
                        OSD_INTERVAL_MIN_MS, OSD_INTERVAL_MAX_MS, optarg);
                return -1;
            }
            cli->interval_ms = (int)v;
            break;
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf("osdetd %s\n", OSD_VERSION);
            return 1;
        default:
            fprintf(stderr, "Try 'osdetd --help'.\n");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "osdetd: unexpected argument '%s'\nTry 'osdetd --help'.\n", argv[optind]);
        return -1;
    }
    return 0;
}

static void daemon_stop(struct daemon *d)
{
    if (d->stopping)
        return;
    state_close(d); /* what was watched is saved before the targets are torn down */
    d->stopping = 1;
    sd_notify(0, "STOPPING=1");
    log_info("stopping");
    targets_unwatch_all(d);
    trace_stop_drop_reports(d);
    sysmon_close(d->sys); /* its poll handle closes with the loop */
    d->sys = NULL;
    heapmon_close(d->heap);
    d->heap = NULL;
    utrace_close(d); /* after the targets: their probes are detached by then */
    detect_stop(d->worker);
    d->worker = NULL;
    rpc_server_stop(d->rpc);
    d->rpc = NULL;
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    if (d->watchdog_on)
        uv_close((uv_handle_t *)&d->watchdog, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    if (signum == SIGHUP) {
        char err[512];
        daemon_reload(d, err, sizeof(err));
        daemon_notify_status(d);
        return;
    }
    daemon_stop(d);
}

/* Anomalies and their ends go to subscribed clients as notifications. */
static void on_alert(void *arg, const char *event, json_t *record, const struct anomaly *x)
{
    struct daemon *d = arg;
    json_t *params = json_pack("{s:s, s:O}", "event", event, "anomaly", record);

    rpc_server_notify(d->rpc, OSD_N_ANOMALY, params, x);
    json_decref(params);
}

static void on_watchdog(uv_timer_t *h)
{
    (void)h;
    sd_notify(0, "WATCHDOG=1");
}

static void start_watchdog(struct daemon *d)
{
    uint64_t usec = 0;

    if (sd_watchdog_enabled(0, &usec) <= 0 || !usec)
        return;
    uv_timer_init(d->loop, &d->watchdog);
    uv_timer_start(&d->watchdog, on_watchdog, 0, usec / 2000 ? usec / 2000 : 1);
    d->watchdog_on = 1;
}

int main(int argc, char **argv)
{
    struct daemon d = { 0 };
    char err_msg[512];
    int ret, err;

    ret = parse_cli(argc, argv, &d.cli);
    if (ret)
        return ret > 0 ? 0 : 2;
    if (daemon_build_config(&d.cli, &d.cfg, d.config_path, sizeof(d.config_path), err_msg, sizeof(err_msg))) {
        fprintf(stderr, "osdetd: configuration error: %s\n", err_msg);
        return 2;
    }
    log_set_level(d.cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    d.loop = uv_default_loop();
    d.started_at = now_epoch();
    d.started_mono_ns = mono_ns();
    if (d.cli.no_bpf) {
        snprintf(d.bpf_error, sizeof(d.bpf_error), "disabled by --no-bpf");
    } else if ((err = procmon_open(&d.pm))) {
        snprintf(d.bpf_error, sizeof(d.bpf_error), "%s", strerror(-err));
        log_warn("cannot load BPF programs (%s): falling back to /proc sampling", strerror(-err));
        d.pm = NULL;
    }
    malloc_trim(0); /* libbpf's copy of the kernel BTF is freed; give the pages back */
    {
        char why[160];

        /* the network object loads at the first `net` watch: say now, not only then */
        if (netmon_env_check(why, sizeof(why)))
            log_warn("%s: watching with 'net' will fail until it is fixed", why);
    }
    err = alerts_open(d.cfg.state_dir, d.cfg.anomaly_history, &d.alerts);
    if (err) {
        heapmon_close(d.heap);
        uv_run(d.loop, UV_RUN_NOWAIT);
        procmon_close(d.pm);
        return 1;
    }
    alerts_set_hook(d.alerts, on_alert, &d);
    err = detect_start(d.loop, detect_on_done, &d, &d.worker);
    if (err) {
        log_warn("cannot start the detection worker (%s): detection is off", uv_strerror(err));
        d.worker = NULL;
    }
    err = rpc_server_start(&d, &d.rpc);
    if (err) {
        detect_stop(d.worker);
        trace_stop_drop_reports(&d);
        sysmon_close(d.sys);
        heapmon_close(d.heap);
        uv_run(d.loop, UV_RUN_NOWAIT); /* let the handles close */
        alerts_close(d.alerts);
        netmon_close(d.net);
        procmon_close(d.pm);
        return 1;
    }
    uv_signal_init(d.loop, &d.sigint);
    uv_signal_init(d.loop, &d.sigterm);
    uv_signal_init(d.loop, &d.sighup);
    d.sigint.data = d.sigterm.data = d.sighup.data = &d;
    uv_signal_start(&d.sigint, on_signal, SIGINT);
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sighup, on_signal, SIGHUP);
    start_watchdog(&d);
    state_init(&d);
    state_restore_targets(&d);
    log_info("ready on %s (cpu source: %s)", d.cfg.socket, d.pm ? "bpf" : "procfs");
    sd_notify(0, "READY=1");
    daemon_notify_status(&d);
    uv_run(d.loop, UV_RUN_DEFAULT);
    alerts_close(d.alerts);
    netmon_close(d.net);
    procmon_close(d.pm);
    uv_loop_close(d.loop);
    return 0;
}
