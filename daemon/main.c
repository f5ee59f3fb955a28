/* main.c - osdetd entry: options, config, BPF, socket, systemd notification, signals,
 * the loop, and an orderly shutdown that detaches every BPF program. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "collect_procmon.h"
#include "daemon.h"
#include "log.h"
#include "osd_proto.h"
#include "rpc.h"
#include "targets.h"

#define DEFAULT_CONFIG "/etc/osdetd/osdetd.conf"

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

struct cli {
    const char *socket, *config, *state_dir, *log_level;
    int interval_ms;
    int no_bpf;
};

/* Returns 0 to run, 1 to exit successfully (help/version), -1 on a usage error. */
static int parse_cli(int argc, char **argv, struct cli *cli)
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

/* Precedence: embedded defaults < config file < environment < command line. */
static int configure(struct daemon *d, const struct cli *cli)
{
    char err[512];
    const char *env = getenv(OSD_SOCKET_ENV);
    struct stat st;

    config_defaults(&d->cfg);
    if (cli->config || stat(DEFAULT_CONFIG, &st) == 0) {
        const char *path = cli->config ? cli->config : DEFAULT_CONFIG;
        if (config_load(&d->cfg, path, err, sizeof(err))) {
            fprintf(stderr, "osdetd: configuration error: %s\n", err);
            return -EINVAL;
        }
        snprintf(d->config_path, sizeof(d->config_path), "%s", path);
    }
    if (env && *env)
        snprintf(d->cfg.socket, sizeof(d->cfg.socket), "%s", env);
    if (cli->socket) {
        if (strlen(cli->socket) >= sizeof(d->cfg.socket)) {
            fprintf(stderr, "osdetd: --socket path longer than %zu bytes\n", sizeof(d->cfg.socket) - 1);
            return -EINVAL;
        }
        snprintf(d->cfg.socket, sizeof(d->cfg.socket), "%s", cli->socket);
    }
    if (cli->state_dir)
        snprintf(d->cfg.state_dir, sizeof(d->cfg.state_dir), "%s", cli->state_dir);
    if (cli->interval_ms)
        d->cfg.interval_ms = cli->interval_ms;
    if (cli->log_level) {
        int lvl = log_parse_level(cli->log_level);
        if (lvl < 0) {
            fprintf(stderr, "osdetd: unknown --log-level '%s'\n", cli->log_level);
            return -EINVAL;
        }
        d->cfg.log_level = lvl;
    }
    log_set_level(d->cfg.log_level);
    return 0;
}

static void daemon_stop(struct daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    sd_notify(0, "STOPPING=1");
    log_info("stopping");
    targets_unwatch_all(d);
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
        log_info("SIGHUP: configuration reload is not implemented yet; keeping the current settings");
        return;
    }
    daemon_stop(d);
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
    struct cli cli = { 0 };
    int ret, err;

    ret = parse_cli(argc, argv, &cli);
    if (ret)
        return ret > 0 ? 0 : 2;
    if (configure(&d, &cli))
        return 2;
    signal(SIGPIPE, SIG_IGN);
    d.loop = uv_default_loop();
    d.started_at = now_epoch();
    d.started_mono_ns = mono_ns();
    if (cli.no_bpf) {
        snprintf(d.bpf_error, sizeof(d.bpf_error), "disabled by --no-bpf");
    } else if ((err = procmon_open(&d.pm))) {
        snprintf(d.bpf_error, sizeof(d.bpf_error), "%s", strerror(-err));
        log_warn("cannot load BPF programs (%s): falling back to /proc sampling", strerror(-err));
        d.pm = NULL;
    }
    err = rpc_server_start(&d, &d.rpc);
    if (err) {
        uv_run(d.loop, UV_RUN_NOWAIT); /* let the listener close */
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
    log_info("ready on %s (cpu source: %s)", d.cfg.socket, d.pm ? "bpf" : "procfs");
    sd_notify(0, "READY=1");
    daemon_notify_status(&d);
    uv_run(d.loop, UV_RUN_DEFAULT);
    procmon_close(d.pm);
    uv_loop_close(d.loop);
    return 0;
}
