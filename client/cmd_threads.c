/* cmd_threads.c - "osdctl threads PID": per-thread CPU of the last interval, plus the
 * network, syscall and heap figures of the families the target collects; busiest first. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "cmds.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"
#include "output.h"

enum { T_SORT = 1, T_JSON, T_HELP };

static const struct opt_def threads_defs[] = {
    { "sort", 0, 1, T_SORT }, { "json", 0, 0, T_JSON }, { "help", 'h', 0, T_HELP }, { NULL, 0, 0, 0 },
};

int threads_parse(int argc, char **argv, struct threads_opts *o, char *why, size_t whylen)
{
    static const char *const sorts[] = { "cpu", "net", "syscall", "heap" };
    const char *pid_word = NULL;
    struct opts op;
    int key;

    memset(o, 0, sizeof(*o));
    opts_init(&op, argc, argv, 1, threads_defs);
    while ((key = opts_next(&op)) != OPTS_END) {
        switch (key) {
        case OPTS_ERR:
            snprintf(why, whylen, "threads: %s", op.err);
            return -EINVAL;
        case OPTS_POS:
            if (pid_word) {
                snprintf(why, whylen, "threads: unexpected argument '%s'", op.arg);
                return -EINVAL;
            }
            pid_word = op.arg;
            break;
        case T_SORT:
            for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
                if (!strcmp(op.arg, sorts[i]))
                    o->sort = sorts[i];
            if (!o->sort) {
                snprintf(why, whylen, "threads: --sort must be cpu, net, syscall or heap, got '%s'", op.arg);
                return -EINVAL;
            }
            break;
        case T_JSON:
            o->json = 1;
            break;
        case T_HELP:
            o->help = 1;
            break;
        }
    }
    if (o->help)
        return 0;
    if (!pid_word) {
        snprintf(why, whylen, "threads: missing PID");
        return -EINVAL;
    }
    if (target_arg_parse(pid_word, &o->tgt)) {
        snprintf(why, whylen, "threads: '%s' is not a process id, unit name or cgroup path (a number from 1, "
                 "NAME.service, /sys/fs/cgroup/...)", pid_word);
        return -EINVAL;
    }
    o->pid = o->tgt.pid;
    return 0;
}

/* Which families the answer carries: columns are shown for those only. */
struct fams {
    int net, sys, heap;
};

#define MAX_COLS 14

static int threads_add(struct table *t, const json_t *th, void *arg)
{
    const struct fams *f = arg;
    char cells[MAX_COLS][32];
    const char *ptr[MAX_COLS];
    size_t k = 0;
    double v;

    cmd_cell(cells[k++], sizeof(cells[0]), th, "tid", "-", NULL);
    snprintf(cells[k++], sizeof(cells[0]), "%s", json_path_str(th, "comm", "?"));
    v = json_path_num(th, "cpu_pct");
    snprintf(cells[k++], sizeof(cells[0]), isnan(v) ? "-" : "%.1f%%", v);
    v = json_path_num(th, "oncpu_ns");
    snprintf(cells[k++], sizeof(cells[0]), isnan(v) ? "-" : "%.1f ms", v / 1e6);
    cmd_cell(cells[k++], sizeof(cells[0]), th, "ctx_voluntary", "-", NULL);
    cmd_cell(cells[k++], sizeof(cells[0]), th, "ctx_involuntary", "-", NULL);
    if (f->net) {
        cmd_cell(cells[k++], sizeof(cells[0]), th, "net.tx_bytes", "-", fmt_bytes);
        cmd_cell(cells[k++], sizeof(cells[0]), th, "net.rx_bytes", "-", fmt_bytes);
    }
    if (f->sys) {
        cmd_cell(cells[k++], sizeof(cells[0]), th, "syscall.calls", "-", NULL);
        cmd_cell(cells[k++], sizeof(cells[0]), th, "syscall.errors", "-", NULL);
        v = json_path_num(th, "syscall.p99_ns");
        /* no call in the interval: no latency to show */
        snprintf(cells[k++], sizeof(cells[0]), isnan(v) || !(json_path_num(th, "syscall.calls") > 0) ? "-" : "%.0f ns",
                 v);
    }
    if (f->heap) {
        cmd_cell(cells[k++], sizeof(cells[0]), th, "heap.live_bytes", "-", fmt_bytes);
        cmd_cell(cells[k++], sizeof(cells[0]), th, "heap.allocs", "-", NULL);
        cmd_cell(cells[k++], sizeof(cells[0]), th, "heap.frees", "-", NULL);
    }
    for (size_t i = 0; i < k; i++)
        ptr[i] = cells[i];
    return table_add(t, ptr);
}

int cmd_threads(struct cli *cli, int argc, char **argv)
{
    const char *headers[MAX_COLS] = { "TID", "COMM", "CPU", "ONCPU", "CTXSW-VOL", "CTXSW-INVOL" };
    char align[MAX_COLS + 1] = "rlrrrr";
    struct threads_opts o;
    struct fams f = { 0 };
    json_t *params, *res, *threads, *first;
    char why[256], clock[32];
    size_t ncols = 6;
    int ret;

    if (threads_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "threads", "%s", why);
    if (o.help) {
        fputs(help_text("threads"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    params = target_arg_pack(&o.tgt);
    if (params && o.sort && json_object_set_new(params, "sort", json_string(o.sort))) {
        json_decref(params);
        params = NULL;
    }
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
    first = json_array_get(threads, 0);
    f.net = json_object_get(first, "net") != NULL;
    f.sys = json_object_get(first, "syscall") != NULL;
    f.heap = json_object_get(first, "heap") != NULL;
    if (f.net) {
        headers[ncols++] = "NET-TX";
        headers[ncols++] = "NET-RX";
        strcat(align, "rr");
    }
    if (f.sys) {
        headers[ncols++] = "SYSCALLS";
        headers[ncols++] = "ERRORS";
        headers[ncols++] = "P99";
        strcat(align, "rrr");
    }
    if (f.heap) {
        headers[ncols++] = "HEAP-LIVE";
        headers[ncols++] = "ALLOCS";
        headers[ncols++] = "FREES";
        strcat(align, "rrr");
    }
    fmt_clock(clock, sizeof(clock), json_path_num(res, "time"));
    fprintf(cli->out, "threads of %s over the interval ending %s, by %s\n", target_arg_str(&o.tgt), clock,
            json_path_str(res, "sort", "cpu"));
    ret = cmd_print_rows(cli, ncols, headers, align, threads, threads_add, &f);
out:
    json_decref(res);
    return ret;
}
