/* cmd_anomalies.c - "osdctl anomalies": the anomalies found so far, and with --follow those
 * that begin and end from then on (a subscription on the same connection). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "cmds.h"
#include "follow.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"

enum { A_SINCE = 1, A_UNTIL, A_PID, A_UNIT, A_CGROUP, A_METRIC, A_LIMIT, A_FOLLOW, A_JSON, A_HELP };

static const struct opt_def anomalies_defs[] = {
    { "since", 0, 1, A_SINCE },   { "until", 0, 1, A_UNTIL }, { "pid", 0, 1, A_PID },
    { "metric", 0, 1, A_METRIC }, { "limit", 0, 1, A_LIMIT }, { "follow", 0, 0, A_FOLLOW },
    { "unit", 0, 1, A_UNIT },     { "cgroup", 0, 1, A_CGROUP },
    { "json", 0, 0, A_JSON },     { "help", 'h', 0, A_HELP }, { NULL, 0, 0, 0 },
};

int anomalies_parse(int argc, char **argv, struct anomalies_opts *o, char *why, size_t whylen)
{
    struct opts op;
    int key, ntargets = 0;

    memset(o, 0, sizeof(*o));
    o->since_s = -1;
    o->until_s = -1;
    opts_init(&op, argc, argv, 1, anomalies_defs);
    while ((key = opts_next(&op)) != OPTS_END) {
        switch (key) {
        case OPTS_ERR:
            snprintf(why, whylen, "anomalies: %s", op.err);
            return -EINVAL;
        case OPTS_POS:
            snprintf(why, whylen, "anomalies: unexpected argument '%s' (to choose a target, use --pid PID)", op.arg);
            return -EINVAL;
        case A_SINCE:
            if (cmd_parse_ago("anomalies", "--since", op.arg, &o->since_s, why, whylen))
                return -EINVAL;
            break;
        case A_UNTIL:
            if (cmd_parse_ago("anomalies", "--until", op.arg, &o->until_s, why, whylen))
                return -EINVAL;
            break;
        case A_PID:
            if (args_parse_pid(op.arg, &o->pid)) {
                snprintf(why, whylen, "anomalies: --pid '%s' is not a process id (a number from 1)", op.arg);
                return -EINVAL;
            }
            target_arg_pid(&o->tgt, o->pid);
            ntargets++;
            break;
        case A_UNIT:
            if (!*op.arg || strchr(op.arg, '/')) {
                snprintf(why, whylen, "anomalies: --unit '%s' is not a unit name (e.g. nginx.service)", op.arg);
                return -EINVAL;
            }
            memset(&o->tgt, 0, sizeof(o->tgt));
            o->tgt.unit = op.arg;
            o->pid = 0;
            ntargets++;
            break;
        case A_CGROUP:
            if (!*op.arg) {
                snprintf(why, whylen, "anomalies: --cgroup needs a path");
                return -EINVAL;
            }
            memset(&o->tgt, 0, sizeof(o->tgt));
            o->tgt.cgroup = op.arg;
            o->pid = 0;
            ntargets++;
            break;
        case A_METRIC:
            if (!*op.arg) {
                snprintf(why, whylen, "anomalies: --metric needs a name (e.g. cpu, rss_bytes)");
                return -EINVAL;
            }
            o->metric = op.arg;
            break;
        case A_LIMIT:
            if (args_parse_int(op.arg, 1, INT_MAX, &o->limit)) {
                snprintf(why, whylen, "anomalies: --limit must be a whole number from 1 to %d, got '%s'", INT_MAX,
                         op.arg);
                return -EINVAL;
            }
            break;
        case A_FOLLOW:
            o->follow = 1;
            break;
        case A_JSON:
            o->json = 1;
            break;
        case A_HELP:
            o->help = 1;
            break;
        }
    }
    if (o->help)
        return 0;
    if (ntargets > 1) {
        snprintf(why, whylen, "anomalies: choose the target with one of --pid, --unit and --cgroup");
        return -EINVAL;
    }
    if (o->since_s >= 0 && o->until_s > o->since_s) {
        snprintf(why, whylen, "anomalies: --until (%lld s ago) is before --since (%lld s ago)",
                 (long long)o->until_s, (long long)o->since_s);
        return -EINVAL;
    }
    if (o->follow && o->until_s >= 0) {
        snprintf(why, whylen, "anomalies: --follow cannot be combined with --until");
        return -EINVAL;
    }
    return 0;
}

static json_t *anomalies_params(const struct anomalies_opts *o)
{
    json_t *p = json_object();

    if (!p ||
        (o->since_s >= 0 && json_object_set_new(p, "since", json_real(cmd_ago_to_epoch(o->since_s)))) ||
        (o->until_s >= 0 && json_object_set_new(p, "until", json_real(cmd_ago_to_epoch(o->until_s)))) ||
        target_arg_params(p, &o->tgt) ||
        (o->metric && json_object_set_new(p, "metric", json_string(o->metric))) ||
        (o->limit && json_object_set_new(p, "limit", json_integer(o->limit)))) {
        json_decref(p);
        return NULL;
    }
    return p;
}

/* The history: as the reply (indented JSON) or a table, or for --follow one JSON object per
 * line / a header that the live lines continue. */
static void anomalies_print(struct cli *cli, const json_t *res, const json_t *list, int follow)
{
    size_t i;

    if (cli->json && !follow) {
        output_json(cli->out, res, 0);
        return;
    }
    if (cli->json) {
        for (i = 0; i < json_array_size(list); i++)
            output_json(cli->out, json_array_get(list, i), 1);
        return;
    }
    if (!json_array_size(list) && !follow) {
        fputs("no anomalies found\n", cli->out);
        return;
    }
    output_anomaly_header(cli->out);
    for (i = 0; i < json_array_size(list); i++)
        output_anomaly(cli->out, json_array_get(list, i), 0);
}

/* One "anomaly" notification: begin as a new line, end as an "ended" line; other methods and
 * events (the catalogue may grow) are skipped. */
static void anomalies_notified(struct cli *cli, const struct anomalies_opts *o, const json_t *msg)
{
    const json_t *params = json_object_get(msg, "params");
    const json_t *a = json_object_get(params, "anomaly");
    const char *event = json_path_str(params, "event", NULL);
    const char *metrics = json_path_str(a, "metrics", "");

    if (strcmp(json_path_str(msg, "method", ""), OSD_N_ANOMALY))
        return;
    if (!event || !json_is_object(a)) {
        fputs("osdctl: ignoring an 'anomaly' notification without 'event' and 'anomaly'\n", cli->err);
        return;
    }
    if (strcmp(event, "begin") && strcmp(event, "end"))
        return;
    /* The daemon filters by pid; the metric filter of the history applies here too. */
    if (o->metric && !strstr(metrics, o->metric))
        return;
    if (cli->json)
        output_json(cli->out, params, 1);
    else
        output_anomaly(cli->out, a, !strcmp(event, "end"));
    fflush(cli->out);
}

static int anomalies_follow(struct cli *cli, const struct anomalies_opts *o)
{
    json_t *msg;
    int ret;

    for (;;) {
        ret = cli_wait_notification(cli, &msg);
        if (ret)
            break;
        anomalies_notified(cli, o, msg);
        json_decref(msg);
    }
    return ret == CLI_INTERRUPTED ? OSD_EXIT_OK : ret;
}

/* Subscribes for --follow, before the history is asked for: the daemon serves a connection in
 * order, so a notification read before the history's reply is already in that history (and
 * dropped), and every one after it is news. Nothing that begins in between is lost. */
static int anomalies_subscribe(struct cli *cli, const struct anomalies_opts *o)
{
    bool named = o->tgt.pid || o->tgt.unit || o->tgt.cgroup;
    json_t *params = named ? target_arg_pack(&o->tgt) : NULL;
    json_t *res;
    int ret;

    if (named && !params)
        return cli_oom(cli);
    ret = cli_call(cli, OSD_M_SUBSCRIBE, params, &res);
    json_decref(params);
    if (ret)
        return ret;
    if (!json_is_true(json_object_get(res, "subscribed")))
        ret = cli_bad_reply(cli, "subscribe reply does not say 'subscribed': true");
    json_decref(res);
    return ret;
}

int cmd_anomalies(struct cli *cli, int argc, char **argv)
{
    struct anomalies_opts o;
    json_t *params, *res = NULL, *list;
    char why[256];
    int ret;

    if (anomalies_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "anomalies", "%s", why);
    if (o.help) {
        fputs(help_text("anomalies"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    params = anomalies_params(&o);
    if (!params)
        return cli_oom(cli);
    if (o.follow) {
        follow_sigint_install();
        cli->conn.cancel = &follow_interrupted;
        ret = anomalies_subscribe(cli, &o);
        if (ret)
            goto out;
    }
    ret = cli_call_array(cli, OSD_M_ANOMALIES, params, "anomalies", &res, &list);
    if (ret)
        goto out;
    anomalies_print(cli, res, list, o.follow);
    fflush(cli->out);
    if (o.follow)
        ret = anomalies_follow(cli, &o);
out:
    cli->conn.cancel = NULL;
    json_decref(res);
    json_decref(params);
    return ret == CLI_INTERRUPTED ? OSD_EXIT_OK : ret;
}
