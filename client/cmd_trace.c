/* cmd_trace.c - "osdctl trace PID --syscalls": every syscall entry and exit of a target as
 * the daemon streams them (trace notifications), until Ctrl-C or until osdetd hangs up. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "cmds.h"
#include "follow.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"

enum { T_SYSCALLS = 1, T_JSON, T_HELP };

static const struct opt_def trace_defs[] = {
    { "syscalls", 0, 0, T_SYSCALLS },
    { "json", 0, 0, T_JSON },
    { "help", 'h', 0, T_HELP },
    { NULL, 0, 0, 0 },
};

int trace_parse(int argc, char **argv, struct trace_opts *o, char *why, size_t whylen)
{
    const char *pid_word = NULL;
    struct opts op;
    int key;

    memset(o, 0, sizeof(*o));
    opts_init(&op, argc, argv, 1, trace_defs);
    while ((key = opts_next(&op)) != OPTS_END) {
        switch (key) {
        case OPTS_ERR:
            snprintf(why, whylen, "trace: %s", op.err);
            return -EINVAL;
        case OPTS_POS:
            if (pid_word) {
                snprintf(why, whylen, "trace: unexpected argument '%s'", op.arg);
                return -EINVAL;
            }
            pid_word = op.arg;
            break;
        case T_SYSCALLS:
            o->syscalls = 1;
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
        snprintf(why, whylen, "trace: missing PID");
        return -EINVAL;
    }
    if (target_arg_parse(pid_word, &o->tgt)) {
        snprintf(why, whylen, "%s: '%s' is not a process id, unit name or cgroup path (a number from 1, NAME.service, /sys/fs/cgroup/...)", "trace", pid_word);
        return -EINVAL;
    }
    o->pid = o->tgt.pid;
    /* The daemon may trace more kinds later; which one is never implied. */
    if (!o->syscalls) {
        snprintf(why, whylen, "trace: say what to trace: --syscalls");
        return -EINVAL;
    }
    return 0;
}

struct trace_state {
    struct cli *cli;
    double dropped;        /* the last total reported by trace.dropped */
};

/* One notification: a trace event as a line (or its params as JSON), a drop count as a
 * warning; other methods (the catalogue may grow) are skipped. */
static void trace_notified(void *arg, const char *method, json_t *params)
{
    struct trace_state *st = arg;
    struct cli *cli = st->cli;

    if (!strcmp(method, OSD_N_TRACE_DROPPED)) {
        double total = json_path_num(params, "dropped");

        if (!isnan(total) && total > st->dropped) {
            fprintf(cli->err, "osdctl: warning: osdetd dropped %.0f syscall events (ring buffer full; %.0f since "
                              "it started)\n", total - st->dropped, total);
            st->dropped = total;
        }
        if (cli->json)
            output_json(cli->out, params, 1);
        fflush(cli->err);
    } else if (!strcmp(method, OSD_N_TRACE)) {
        if (!json_is_object(params))
            fputs("osdctl: ignoring a 'trace' notification without params\n", cli->err);
        else if (cli->json)
            output_json(cli->out, params, 1);
        else
            output_trace(cli->out, params);
    } else {
        return;
    }
    /* A burst is written at once; the last line of it is flushed before waiting again. */
    if (!conn_has_line(&cli->conn))
        fflush(cli->out);
}

static int trace_follow(struct trace_state *st)
{
    struct cli *cli = st->cli;
    json_t *msg;
    int ret;

    for (;;) {
        ret = cli_wait_notification(cli, &msg);
        if (ret)
            break;
        trace_notified(st, json_string_value(json_object_get(msg, "method")), json_object_get(msg, "params"));
        json_decref(msg);
    }
    fflush(cli->out);
    return ret == CLI_INTERRUPTED ? OSD_EXIT_OK : ret;
}

int cmd_trace(struct cli *cli, int argc, char **argv)
{
    struct trace_opts o;
    struct trace_state st = { .cli = cli };
    json_t *params, *res = NULL;
    char why[256];
    int ret;

    if (trace_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "trace", "%s", why);
    if (o.help) {
        fputs(help_text("trace"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    params = target_arg_pack(&o.tgt);
    if (params && json_object_set_new(params, "syscalls", json_true())) {
        json_decref(params);
        params = NULL;
    }
    if (!params)
        return cli_oom(cli);
    follow_sigint_install();
    cli->conn.cancel = &follow_interrupted;
    /* Events may come before the reply: they are printed, not dropped. */
    ret = cli_call_notify(cli, OSD_M_TRACE, params, &res, trace_notified, &st);
    json_decref(params);
    if (ret)
        goto out;
    if (!json_is_true(json_object_get(res, "tracing"))) {
        ret = cli_bad_reply(cli, "trace reply does not say 'tracing': true");
        goto out;
    }
    if (!cli->json)
        fprintf(cli->err, "osdctl: tracing the syscalls of %s; Ctrl-C stops\n", target_arg_str(&o.tgt));
    fflush(cli->err);
    fflush(cli->out); /* events that came with the reply */
    ret = trace_follow(&st);
out:
    cli->conn.cancel = NULL;
    json_decref(res);
    return ret == CLI_INTERRUPTED ? OSD_EXIT_OK : ret;
}
