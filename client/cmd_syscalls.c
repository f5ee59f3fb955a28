/* cmd_syscalls.c - "osdctl syscalls PID": per-syscall totals of a target watched with
 * --syscall, since the watch began, as a table. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "cmds.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"

enum { Y_SORT = 1, Y_LIMIT, Y_JSON, Y_HELP };

static const struct opt_def syscalls_defs[] = {
    { "sort", 0, 1, Y_SORT }, { "limit", 0, 1, Y_LIMIT }, { "json", 0, 0, Y_JSON },
    { "help", 'h', 0, Y_HELP }, { NULL, 0, 0, 0 },
};

int syscalls_parse(int argc, char **argv, struct syscalls_opts *o, char *why, size_t whylen)
{
    const char *pid_word = NULL;
    struct opts op;
    int key;

    memset(o, 0, sizeof(*o));
    opts_init(&op, argc, argv, 1, syscalls_defs);
    while ((key = opts_next(&op)) != OPTS_END) {
        switch (key) {
        case OPTS_ERR:
            snprintf(why, whylen, "syscalls: %s", op.err);
            return -EINVAL;
        case OPTS_POS:
            if (pid_word) {
                snprintf(why, whylen, "syscalls: unexpected argument '%s'", op.arg);
                return -EINVAL;
            }
            pid_word = op.arg;
            break;
        case Y_SORT:
            if (strcmp(op.arg, "count") && strcmp(op.arg, "time")) {
                snprintf(why, whylen, "syscalls: --sort must be count or time, got '%s'", op.arg);
                return -EINVAL;
            }
            o->sort = !strcmp(op.arg, "count") ? "count" : "time";
            break;
        case Y_LIMIT:
            if (args_parse_int(op.arg, 1, INT_MAX, &o->limit)) {
                snprintf(why, whylen, "syscalls: --limit must be a whole number from 1 to %d, got '%s'", INT_MAX,
                         op.arg);
                return -EINVAL;
            }
            break;
        case Y_JSON:
            o->json = 1;
            break;
        case Y_HELP:
            o->help = 1;
            break;
        }
    }
    if (o->help)
        return 0;
    if (!pid_word) {
        snprintf(why, whylen, "syscalls: missing PID");
        return -EINVAL;
    }
    if (target_arg_parse(pid_word, &o->tgt)) {
        snprintf(why, whylen, "%s: '%s' is not a process id, unit name or cgroup path (a number from 1, NAME.service, /sys/fs/cgroup/...)", "syscalls", pid_word);
        return -EINVAL;
    }
    o->pid = o->tgt.pid;
    return 0;
}

static int syscalls_add(struct table *t, const json_t *s, void *arg)
{
    (void)arg;
    char nm[48], count[24], errs[24], total[24], avg[24], p50[24], p99[24];
    const char *name = json_path_str(s, "name", NULL);
    const char *cells[7] = { nm, count, errs, total, avg, p50, p99 };
    double nr = json_path_num(s, "nr");

    if (name && *name)
        snprintf(nm, sizeof(nm), "%s", name);
    else if (!isnan(nr))
        snprintf(nm, sizeof(nm), "syscall_%.0f", nr);
    else
        snprintf(nm, sizeof(nm), "?");
    cmd_cell(count, sizeof(count), s, "count", "-", NULL);
    cmd_cell(errs, sizeof(errs), s, "errors", "-", NULL);
    cmd_cell(total, sizeof(total), s, "total_ns", "-", fmt_nanos);
    cmd_cell(avg, sizeof(avg), s, "avg_ns", "-", fmt_nanos);
    cmd_cell(p50, sizeof(p50), s, "p50_ns", "-", fmt_nanos);
    cmd_cell(p99, sizeof(p99), s, "p99_ns", "-", fmt_nanos);
    return table_add(t, cells);
}

static json_t *syscalls_params(const struct syscalls_opts *o)
{
    json_t *p = target_arg_pack(&o->tgt);

    if (p && ((o->sort && json_object_set_new(p, "sort", json_string(o->sort))) ||
              (o->limit && json_object_set_new(p, "limit", json_integer(o->limit))))) {
        json_decref(p);
        return NULL;
    }
    return p;
}

int cmd_syscalls(struct cli *cli, int argc, char **argv)
{
    static const char *const headers[] = { "NAME", "COUNT", "ERRORS", "TOTAL", "AVG", "P50", "P99" };
    struct syscalls_opts o;
    json_t *params, *res, *list;
    char why[256];
    int ret;

    if (syscalls_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "syscalls", "%s", why);
    if (o.help) {
        fputs(help_text("syscalls"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    params = syscalls_params(&o);
    if (!params)
        return cli_oom(cli);
    ret = cli_call_array(cli, OSD_M_SYSCALLS, params, "syscalls", &res, &list);
    json_decref(params);
    if (ret)
        return ret;
    if (cli->json) {
        output_json(cli->out, res, 0);
        goto out;
    }
    if (!json_array_size(list)) {
        fprintf(cli->out, "no syscalls recorded for %s yet\n", target_arg_str(&o.tgt));
        goto out;
    }
    ret = cmd_print_rows(cli, 7, headers, "lrrrrrr", list, syscalls_add, NULL);
out:
    json_decref(res);
    return ret;
}
