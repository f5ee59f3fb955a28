/* cmd_status.c - "osdctl status": the daemon's state, memory, BPF maps and configuration. */
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "cmds.h"
#include "help.h"
#include "osd_proto.h"

/* A number at path as "%.0f" (bytes: "10.0 MiB"), or "?" when the daemon did not send it. */
static const char *num(char *buf, size_t n, const json_t *o, const char *path)
{
    return cmd_cell(buf, n, o, path, "?", NULL);
}

static const char *bytes(char *buf, size_t n, const json_t *o, const char *path)
{
    return cmd_cell(buf, n, o, path, "?", fmt_bytes);
}

static int has(const json_t *o, const char *path)
{
    return !isnan(json_path_num(o, path));
}

static const char *attached(const json_t *o)
{
    const json_t *a = json_object_get(o, "attached");

    return json_is_true(a) ? "attached" : json_is_false(a) ? "not attached" : "?";
}

/* "net:       attached (sock_send_length/sock_recv_length), 1 targets, map full 0" */
static void status_print_net(FILE *f, const json_t *net)
{
    char a[32], b[32];

    if (!json_is_object(net))
        return;
    fprintf(f, "net:       %s (%s), %s targets, map full %s", attached(net), json_path_str(net, "source", "?"),
            num(a, sizeof(a), net, "targets"), num(b, sizeof(b), net, "map_full"));
    if (json_path_str(net, "error", NULL))
        fprintf(f, ", error: %s", json_path_str(net, "error", ""));
    fputc('\n', f);
}

/* "syscall:   attached, 1 targets, 0 tracing, 12 entries, map full 0, trace dropped 0" */
static void status_print_syscall(FILE *f, const json_t *sc)
{
    char a[32], b[32], c[32], d[32], e[32];

    if (!json_is_object(sc))
        return;
    fprintf(f, "syscall:   %s, %s targets, %s tracing, %s entries, map full %s, trace dropped %s", attached(sc),
            num(a, sizeof(a), sc, "targets"), num(b, sizeof(b), sc, "tracing"), num(c, sizeof(c), sc, "entries"),
            num(d, sizeof(d), sc, "map_full"), num(e, sizeof(e), sc, "trace_dropped"));
    if (json_path_str(sc, "error", NULL))
        fprintf(f, ", error: %s", json_path_str(sc, "error", ""));
    fputc('\n', f);
}

/* Parts the daemon does not send are left out rather than shown as "?": the catalogue may
 * grow and an older or newer daemon may differ (proto/osd-rpc.md). */
static void status_print(FILE *f, const json_t *s)
{
    char a[32], b[32], c[32], d[32], e[32];
    const json_t *progs = json_object_get(json_object_get(s, "bpf"), "programs");
    const json_t *det = json_object_get(s, "detection");
    double up = json_path_num(s, "uptime_s");

    if (isnan(up))
        snprintf(e, sizeof(e), "?");
    else
        fmt_span(e, sizeof(e), up);
    fprintf(f, "osdetd %s, pid %s, up %s\n", json_path_str(s, "version", "?"), num(a, sizeof(a), s, "pid"), e);
    fprintf(f, "socket:    %s\n", json_path_str(s, "socket", "?"));
    fprintf(f, "targets:   %s (%s running, %s exited)\n", num(a, sizeof(a), s, "targets"),
            num(b, sizeof(b), s, "targets_running"), num(c, sizeof(c), s, "targets_exited"));
    fprintf(f, "clients:   %s\n", num(a, sizeof(a), s, "clients"));
    fprintf(f, "memory:    rss %s, series %s", bytes(a, sizeof(a), s, "memory.rss_bytes"),
            bytes(b, sizeof(b), s, "memory.series_bytes"));
    if (has(s, "memory.series_capacity_bytes"))
        fprintf(f, " of %s", bytes(a, sizeof(a), s, "memory.series_capacity_bytes"));
    fprintf(f, "\nbpf:       cpu from %s, %zu programs, watched %s/%s, cpu %s/%s",
            json_path_str(s, "bpf.cpu_source", "?"), json_array_size(progs), num(a, sizeof(a), s, "bpf.watched_entries"),
            num(b, sizeof(b), s, "bpf.watched_max"), num(c, sizeof(c), s, "bpf.cpu_entries"),
            num(d, sizeof(d), s, "bpf.cpu_max"));
    if (has(s, "bpf.map_full_errors"))
        fprintf(f, ", map-full errors %s", num(a, sizeof(a), s, "bpf.map_full_errors"));
    if (has(s, "bpf.watched_full") || has(s, "bpf.cpu_full"))
        fprintf(f, ", map full: watched %s, cpu %s", num(a, sizeof(a), s, "bpf.watched_full"),
                num(b, sizeof(b), s, "bpf.cpu_full"));
    fputc('\n', f);
    status_print_net(f, json_object_get(s, "net"));
    status_print_syscall(f, json_object_get(s, "syscall"));
    if (json_is_object(det))
        fprintf(f, "detection: %s, detector %s, %s anomalies, queue %s, %s subscribers\n",
                json_is_false(json_object_get(det, "worker")) ? "worker off" : "worker on",
                json_path_str(det, "default_detector", "?"), num(a, sizeof(a), det, "anomalies"),
                num(b, sizeof(b), det, "queue"), num(c, sizeof(c), det, "subscribers"));
    fprintf(f, "config:    interval %s ms, ring %s points, retention %s s, max %s targets, max %s clients\n",
            num(a, sizeof(a), s, "config.interval_ms"), num(b, sizeof(b), s, "config.ring_capacity"),
            num(c, sizeof(c), s, "config.retention_s"), num(d, sizeof(d), s, "config.max_targets"),
            num(e, sizeof(e), s, "config.max_clients"));
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
    struct plain_opts o;
    json_t *res;
    char why[256];
    int ret;

    if (plain_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "status", "%s", why);
    if (o.help) {
        fputs(help_text("status"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    ret = cli_call(cli, OSD_M_STATUS, NULL, &res);
    if (ret)
        return ret;
    if (!json_is_object(res))
        ret = cli_bad_reply(cli, "status reply is not an object");
    else if (cli->json)
        output_json(cli->out, res, 0);
    else
        status_print(cli->out, res);
    json_decref(res);
    return ret;
}
