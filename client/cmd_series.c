/* cmd_series.c - "osdctl series PID": stored samples of a target as text, CSV or JSON, once
 * or followed live. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "cmds.h"
#include "family.h"
#include "fetch.h"
#include "follow.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"

enum { S_METRIC = 1, S_FUNCTION, S_SINCE, S_UNTIL, S_LIMIT, S_CSV, S_JSON, S_FOLLOW, S_HELP };

static const struct opt_def series_defs[] = {
    { "metric", 0, 1, S_METRIC }, { "function", 0, 1, S_FUNCTION }, { "since", 0, 1, S_SINCE }, { "until", 0, 1, S_UNTIL },
    { "limit", 0, 1, S_LIMIT },   { "csv", 0, 0, S_CSV },     { "json", 0, 0, S_JSON },
    { "follow", 0, 0, S_FOLLOW }, { "help", 'h', 0, S_HELP }, { NULL, 0, 0, 0 },
};

int series_parse(int argc, char **argv, struct series_opts *o, char *why, size_t whylen)
{
    const char *pid_word = NULL;
    int csv = 0, json = 0, key;
    struct opts op;

    memset(o, 0, sizeof(*o));
    o->metric = OSD_METRIC_CPU;
    o->since_s = -1;
    o->until_s = -1;
    opts_init(&op, argc, argv, 1, series_defs);
    while ((key = opts_next(&op)) != OPTS_END) {
        switch (key) {
        case OPTS_ERR:
            snprintf(why, whylen, "series: %s", op.err);
            return -EINVAL;
        case OPTS_POS:
            if (pid_word) {
                snprintf(why, whylen, "series: unexpected argument '%s'", op.arg);
                return -EINVAL;
            }
            pid_word = op.arg;
            break;
        case S_METRIC:
            if (!strcmp(op.arg, METRIC_ALL)) {
                o->metric = METRIC_ALL;
            } else if (!strcmp(op.arg, METRIC_FUNC)) {
                o->metric = METRIC_FUNC;
            } else if (family_lookup(op.arg)) {
                o->metric = family_lookup(op.arg);
            } else {
                snprintf(why, whylen, "series: --metric must be cpu, mem, net, syscall, heap, func or all, got '%s'", op.arg);
                return -EINVAL;
            }
            break;
        case S_FUNCTION:
            o->function = op.arg;
            break;
        case S_SINCE:
            if (cmd_parse_ago("series", "--since", op.arg, &o->since_s, why, whylen))
                return -EINVAL;
            break;
        case S_UNTIL:
            if (cmd_parse_ago("series", "--until", op.arg, &o->until_s, why, whylen))
                return -EINVAL;
            break;
        case S_LIMIT:
            if (args_parse_int(op.arg, 1, INT_MAX, &o->limit)) {
                snprintf(why, whylen, "series: --limit must be a whole number from 1 to %d, got '%s'", INT_MAX, op.arg);
                return -EINVAL;
            }
            break;
        case S_CSV:
            csv = 1;
            break;
        case S_JSON:
            json = 1;
            break;
        case S_FOLLOW:
            o->follow = 1;
            break;
        case S_HELP:
            o->help = 1;
            break;
        }
    }
    if (o->help)
        return 0;
    if (csv && json) {
        snprintf(why, whylen, "series: choose one of --csv and --json");
        return -EINVAL;
    }
    o->fmt = csv ? OUT_CSV : json ? OUT_JSON : OUT_HUMAN;
    if (o->function && strcmp(o->metric, METRIC_FUNC)) {
        snprintf(why, whylen, "series: --function goes with --metric func");
        return -EINVAL;
    }
    if (!o->function && !strcmp(o->metric, METRIC_FUNC)) {
        snprintf(why, whylen, "series: --metric func needs --function BINARY:FUNCTION");
        return -EINVAL;
    }
    if (o->since_s >= 0 && o->until_s > o->since_s) {
        snprintf(why, whylen, "series: --until (%lld s ago) is before --since (%lld s ago)",
                 (long long)o->until_s, (long long)o->since_s);
        return -EINVAL;
    }
    if (o->follow && o->until_s >= 0) {
        snprintf(why, whylen, "series: --follow cannot be combined with --until");
        return -EINVAL;
    }
    if (!pid_word) {
        snprintf(why, whylen, "series: missing PID");
        return -EINVAL;
    }
    if (target_arg_parse(pid_word, &o->tgt)) {
        snprintf(why, whylen, "%s: '%s' is not a process id, unit name or cgroup path (a number from 1, NAME.service, /sys/fs/cgroup/...)", "series", pid_word);
        return -EINVAL;
    }
    o->pid = o->tgt.pid;
    return 0;
}

/* The families to ask for: one, or for "all" those the target collects (per its options). */
static int series_families(struct cli *cli, const struct series_opts *o, const char **fam, size_t *n)
{
    json_t *target;
    int ret;

    *n = 0;
    if (strcmp(o->metric, METRIC_ALL)) {
        fam[(*n)++] = o->metric;
        return 0;
    }
    ret = fetch_target(cli, &o->tgt, &target);
    if (ret)
        return ret;
    *n = family_collected(target, fam);
    /* Not a target (or no options): ask for cpu so the daemon's own error is shown. */
    if (!*n)
        fam[(*n)++] = OSD_METRIC_CPU;
    json_decref(target);
    return 0;
}

int cmd_series(struct cli *cli, int argc, char **argv)
{
    struct series_opts o;
    struct fetch_range r = { 0 };
    static char fn_abs[PATH_MAX + 256];
    const char *fam[FAMILY_MAX];
    json_t *reply;
    double complete;
    char why[256];
    size_t n;
    int ret;

    if (series_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "series", "%s", why);
    if (o.help) {
        fputs(help_text("series"), cli->out);
        return OSD_EXIT_OK;
    }
    if (cli->json && o.fmt == OUT_CSV)
        return cli_usage(cli, "series", "series: choose one of --csv and --json");
    if (cli->json)
        o.fmt = OUT_JSON;
    cli->json = o.fmt == OUT_JSON;
    if (o.since_s >= 0)
        r.since = cmd_ago_to_epoch(o.since_s);
    if (o.until_s >= 0)
        r.until = cmd_ago_to_epoch(o.until_s);
    r.limit = o.limit;
    if (o.function) {
        /* a relative binary path means something here, not in the daemon */
        const char *colon = strrchr(o.function, ':');
        char bin[PATH_MAX], real[PATH_MAX];
        size_t blen = colon ? (size_t)(colon - o.function) : 0;

        if (colon && blen < sizeof(bin) && o.function[0] != '/' && memchr(o.function, '/', blen)) {
            memcpy(bin, o.function, blen);
            bin[blen] = '\0';
            if (realpath(bin, real)) {
                int n = snprintf(fn_abs, sizeof(fn_abs), "%s%s", real, colon);

                if (n > 0 && (size_t)n < sizeof(fn_abs))
                    o.function = fn_abs;
            }
        }
    }
    r.function = o.function;

    if (o.follow) {
        follow_sigint_install();
        cli->conn.cancel = &follow_interrupted;
    }
    ret = series_families(cli, &o, fam, &n);
    if (ret)
        return ret == CLI_INTERRUPTED ? OSD_EXIT_OK : ret;
    if (o.follow) {
        struct follow f = { .tgt = o.tgt, .fmt = o.fmt, .since = r.since, .limit = r.limit, .function = r.function };

        memcpy(f.families, fam, n * sizeof(fam[0]));
        f.nfamilies = n;
        return follow_run(cli, &f);
    }
    ret = fetch_series(cli, &o.tgt, fam, n, &r, &reply, &complete);
    if (ret)
        return ret;
    output_series(cli->out, reply, o.fmt);
    json_decref(reply);
    return OSD_EXIT_OK;
}
