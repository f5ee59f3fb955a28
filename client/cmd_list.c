/* cmd_list.c - "osdctl list": the watched targets as a table. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmds.h"
#include "family.h"
#include "help.h"
#include "osd_proto.h"

static double now_real(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "cpu,mem,net", and ",threads" when per-thread CPU is kept; "-" for none. */
static void list_metrics(char *buf, size_t n, const json_t *tg)
{
    size_t len;

    family_list(buf, n, tg, ",");
    len = strlen(buf);
    if (json_is_true(json_object_get(json_object_get(tg, "options"), "threads")))
        snprintf(buf + len, n - len, "%sthreads", len ? "," : "");
    if (!*buf)
        snprintf(buf, n, "-");
}

/* The detector name, "off" when detection is off (null), "-" when the daemon does not say. */
static const char *list_detector(const json_t *opt)
{
    const json_t *det = json_object_get(opt, "detect");

    if (json_is_null(det))
        return "off";
    return json_path_str(det, "detector", "-");
}

static int list_add(struct table *t, const json_t *tg, void *arg)
{
    double now = *(const double *)arg;

    char pid[24], procs[24], samples[24], metrics[64], cpu[24], rss[24], iv[24], age[24];
    const json_t *opt = json_object_get(tg, "options");
    /* the root pid, or for a cgroup target its unit or cgroup path */
    const char *cells[11] = { target_json_name(tg, pid, sizeof(pid)), json_path_str(tg, "comm", "?"),
                              json_path_str(tg, "state", "?"), procs, samples, metrics, list_detector(opt), cpu, rss,
                              iv, age };
    double v;

    snprintf(procs, sizeof(procs), "%.0f", json_path_num(tg, "members"));
    snprintf(samples, sizeof(samples), "%.0f", json_path_num(tg, "samples"));
    list_metrics(metrics, sizeof(metrics), tg);
    v = json_path_num(tg, "last.cpu_pct");
    if (isnan(v))
        snprintf(cpu, sizeof(cpu), "-");
    else
        snprintf(cpu, sizeof(cpu), "%.1f%%", v);
    cmd_cell(rss, sizeof(rss), tg, "last.rss_bytes", "-", fmt_bytes);
    v = json_path_num(tg, "options.interval_ms");
    if (isnan(v))
        snprintf(iv, sizeof(iv), "-");
    else
        snprintf(iv, sizeof(iv), "%.0fms", v);
    v = json_path_num(tg, "watched_at");
    if (isnan(v))
        snprintf(age, sizeof(age), "-");
    else
        fmt_span(age, sizeof(age), now - v);
    return table_add(t, cells);
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
    static const char *const headers[] = { "PID", "COMM", "STATE", "PROCS", "SAMPLES", "METRICS",
                                           "DETECTOR", "CPU", "RSS", "INTERVAL", "AGE" };
    struct plain_opts o;
    json_t *res, *targets;
    char why[256];
    double now;
    int ret;

    if (plain_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "list", "%s", why);
    if (o.help) {
        fputs(help_text("list"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    ret = cli_call_array(cli, OSD_M_LIST, NULL, "targets", &res, &targets);
    if (ret)
        return ret;
    if (cli->json) {
        output_json(cli->out, res, 0);
        goto out;
    }
    if (!json_array_size(targets)) {
        fputs("no targets are watched\n", cli->out);
        goto out;
    }
    now = now_real();
    ret = cmd_print_rows(cli, 11, headers, "lllrrllrrrr", targets, list_add, &now);
out:
    json_decref(res);
    return ret;
}
