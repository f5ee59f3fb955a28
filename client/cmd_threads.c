/* cmd_threads.c - "osdctl threads PID": per-thread CPU of the last interval, busiest first. */
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "cmds.h"
#include "help.h"
#include "osd_proto.h"

static int threads_add(struct table *t, const json_t *th, void *arg)
{
    (void)arg;
    char tid[24], cpu[24], oncpu[32], vol[24], invol[24];
    const char *cells[6] = { tid, json_path_str(th, "comm", "?"), cpu, oncpu, vol, invol };
    double v;

    snprintf(tid, sizeof(tid), "%.0f", json_path_num(th, "tid"));
    v = json_path_num(th, "cpu_pct");
    if (isnan(v))
        snprintf(cpu, sizeof(cpu), "-");
    else
        snprintf(cpu, sizeof(cpu), "%.1f%%", v);
    v = json_path_num(th, "oncpu_ns");
    if (isnan(v))
        snprintf(oncpu, sizeof(oncpu), "-");
    else
        snprintf(oncpu, sizeof(oncpu), "%.1f ms", v / 1e6);
    snprintf(vol, sizeof(vol), "%.0f", json_path_num(th, "ctx_voluntary"));
    snprintf(invol, sizeof(invol), "%.0f", json_path_num(th, "ctx_involuntary"));
    return table_add(t, cells);
}

int cmd_threads(struct cli *cli, int argc, char **argv)
{
    static const char *const headers[] = { "TID", "COMM", "CPU", "ONCPU", "CTXSW-VOL", "CTXSW-INVOL" };
    struct pid_opts o;
    json_t *params, *res, *threads;
    char why[256], clock[32];
    int ret;

    if (pid_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "threads", "%s", why);
    if (o.help) {
        fputs(help_text("threads"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    params = target_arg_pack(&o.tgt);
    if (!params)
        return cli_oom(cli);
    ret = cli_call_array(cli, OSD_M_THREADS, params, "threads", &res, &threads);
    json_decref(params);
    if (ret)
        return ret;
    if (cli->json) {
        output_json(cli->out, res, 0);
        goto out;
    }
    fmt_clock(clock, sizeof(clock), json_path_num(res, "time"));
    fprintf(cli->out, "threads of %s over the interval ending %s\n", target_arg_str(&o.tgt), clock);
    ret = cmd_print_rows(cli, 6, headers, "rlrrrr", threads, threads_add, NULL);
out:
    json_decref(res);
    return ret;
}
