/* cmd_trace.c - "osdctl trace PID --syscalls" or "--uprobe BINARY:FUNCTION": every syscall
 * entry and exit, or every call and return of a user function, of a target as the daemon
 * streams them (trace notifications), until Ctrl-C, --count, --duration or until osdetd
 * hangs up. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "args.h"
#include "cli.h"
#include "cmds.h"
#include "follow.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"

enum { T_SYSCALLS = 1, T_UPROBE, T_ENTER, T_RETURN, T_COUNT, T_DURATION, T_JSON, T_HELP };

static const struct opt_def trace_defs[] = {
    { "syscalls", 0, 0, T_SYSCALLS },
    { "uprobe", 0, 1, T_UPROBE },
    { "enter", 0, 1, T_ENTER },
    { "return", 0, 1, T_RETURN },
    { "count", 0, 1, T_COUNT },
    { "duration", 0, 1, T_DURATION },
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
        case T_UPROBE:
            if (!strchr(op.arg, ':') || op.arg[0] == ':' || op.arg[strlen(op.arg) - 1] == ':') {
                snprintf(why, whylen, "trace: --uprobe must be BINARY:FUNCTION, got '%s'", op.arg);
                return -EINVAL;
            }
            o->uprobe = op.arg;
            break;
        case T_ENTER:
            o->enter = op.arg;
            break;
        case T_RETURN:
            o->ret = op.arg;
            break;
        case T_COUNT:
            if (args_parse_int(op.arg, 1, LLONG_MAX, &o->count)) {
                snprintf(why, whylen, "trace: --count must be a whole number from 1, got '%s'", op.arg);
                return -EINVAL;
            }
            break;
        case T_DURATION:
            if (args_parse_seconds(op.arg, 1e7, &o->duration) || o->duration <= 0) {
                snprintf(why, whylen, "trace: --duration must be a number of seconds above 0, got '%s'", op.arg);
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
        snprintf(why, whylen, "trace: missing PID");
        return -EINVAL;
    }
    if (target_arg_parse(pid_word, &o->tgt)) {
        snprintf(why, whylen, "%s: '%s' is not a process id, unit name or cgroup path (a number from 1, NAME.service, /sys/fs/cgroup/...)", "trace", pid_word);
        return -EINVAL;
    }
    o->pid = o->tgt.pid;
    /* Which kind is never implied. */
    if (!o->syscalls && !o->uprobe) {
        snprintf(why, whylen, "trace: say what to trace: --syscalls or --uprobe BINARY:FUNCTION");
        return -EINVAL;
    }
    if (o->syscalls && o->uprobe) {
        snprintf(why, whylen, "trace: choose one of --syscalls and --uprobe");
        return -EINVAL;
    }
    if (!o->uprobe && (o->enter || o->ret)) {
        snprintf(why, whylen, "trace: %s goes with --uprobe", o->enter ? "--enter" : "--return");
        return -EINVAL;
    }
    return 0;
}

struct trace_state {
    struct cli *cli;
    double dropped;        /* the last total reported by trace.dropped */
    const char *kind;      /* "syscall" or "function" events, for the drop warning */
    long long left;        /* events still to print with --count; -1: no limit */
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
            fprintf(cli->err, "osdctl: warning: osdetd dropped %.0f %s events (ring buffer full; %.0f since "
                              "it started)\n", total - st->dropped, st->kind, total);
            st->dropped = total;
        }
        if (cli->json)
            output_json(cli->out, params, 1);
        fflush(cli->err);
    } else if (!strcmp(method, OSD_N_TRACE)) {
        if (st->left == 0)
            return; /* --count reached: the rest of a burst is not shown */
        if (!json_is_object(params))
            fputs("osdctl: ignoring a 'trace' notification without params\n", cli->err);
        else if (cli->json)
            output_json(cli->out, params, 1);
        else if (json_object_get(params, "function"))
            output_utrace(cli->out, params);
        else
            output_trace(cli->out, params);
        if (st->left > 0 && --st->left == 0) {
            fflush(cli->out);
            return;
        }
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
        if (st->left == 0)
            return OSD_EXIT_OK;
        ret = cli_wait_notification(cli, &msg);
        if (ret)
            break;
        trace_notified(st, json_string_value(json_object_get(msg, "method")), json_object_get(msg, "params"));
        json_decref(msg);
    }
    fflush(cli->out);
    return ret == CLI_INTERRUPTED ? OSD_EXIT_OK : ret;
}

static void on_alarm(int sig)
{
    (void)sig;
    follow_interrupted = 1; /* --duration is over: stop as Ctrl-C does */
}

static void duration_start(double s)
{
    struct sigaction sa;
    struct itimerval it = { { 0, 0 }, { (time_t)s, (suseconds_t)((s - floor(s)) * 1e6) } };

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_alarm; /* no SA_RESTART: the blocking read returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    if (!it.it_value.tv_sec && !it.it_value.tv_usec)
        it.it_value.tv_usec = 1;
    setitimer(ITIMER_REAL, &it, NULL);
}

/* The params of a uprobe trace; a relative binary path is made absolute here, where it
 * means something (the daemon has another working directory). */
static json_t *uprobe_params(const struct trace_opts *o)
{
    const char *colon = strrchr(o->uprobe, ':');
    char bin[PATH_MAX], real[PATH_MAX], spec[PATH_MAX + 256];
    size_t blen = (size_t)(colon - o->uprobe);
    json_t *p;

    snprintf(spec, sizeof(spec), "%s", o->uprobe);
    if (blen < sizeof(bin) && o->uprobe[0] != '/' && memchr(o->uprobe, '/', blen)) {
        memcpy(bin, o->uprobe, blen);
        bin[blen] = '\0';
        if (realpath(bin, real)) {
            int n = snprintf(spec, sizeof(spec), "%s%s", real, colon);

            if (n < 0 || (size_t)n >= sizeof(spec)) /* does not fit: the daemon explains */
                snprintf(spec, sizeof(spec), "%s", o->uprobe);
        }
    }
    p = target_arg_pack(&o->tgt);
    if (p && json_object_set_new(p, "uprobe", json_string(spec))) {
        json_decref(p);
        return NULL;
    }
    if (p && o->enter)
        json_object_set_new(p, "enter", json_string(o->enter));
    if (p && o->ret)
        json_object_set_new(p, "return", json_string(o->ret));
    return p;
}

int cmd_trace(struct cli *cli, int argc, char **argv)
{
    struct trace_opts o;
    struct trace_state st = { .cli = cli, .left = -1 };
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
    st.kind = o.uprobe ? "function" : "syscall";
    if (o.count)
        st.left = o.count;
    if (o.uprobe) {
        params = uprobe_params(&o);
    } else {
        params = target_arg_pack(&o.tgt);
        if (params && json_object_set_new(params, "syscalls", json_true())) {
            json_decref(params);
            params = NULL;
        }
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
    if (!cli->json && o.uprobe)
        fprintf(cli->err, "osdctl: tracing %s in %s; Ctrl-C stops\n",
                json_string_value(json_object_get(res, "function")) ?: o.uprobe, target_arg_str(&o.tgt));
    else if (!cli->json)
        fprintf(cli->err, "osdctl: tracing the syscalls of %s; Ctrl-C stops\n", target_arg_str(&o.tgt));
    fflush(cli->err);
    fflush(cli->out); /* events that came with the reply */
    if (o.duration > 0)
        duration_start(o.duration);
    ret = trace_follow(&st);
out:
    cli->conn.cancel = NULL;
    json_decref(res);
    return ret == CLI_INTERRUPTED ? OSD_EXIT_OK : ret;
}
