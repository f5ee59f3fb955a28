/* cmd_common.c - option parsing of the commands that take only a pid or nothing, and JSON
 * getters shared by the commands. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "cmds.h"
#include "output.h"
#include "opts.h"

enum { K_JSON = 1, K_HELP };

static const struct opt_def common_opts[] = {
    { "json", 0, 0, K_JSON },
    { "help", 'h', 0, K_HELP },
    { NULL, 0, 0, 0 },
};

/* Parses --json/--help and at most max_pos positionals into pos[]. */
static int common_parse(int argc, char **argv, int *json, int *help, const char **pos, int max_pos, int *npos,
                        char *why, size_t whylen)
{
    struct opts o;
    int key;

    *npos = 0;
    opts_init(&o, argc, argv, 1, common_opts);
    while ((key = opts_next(&o)) != OPTS_END) {
        switch (key) {
        case OPTS_ERR:
            snprintf(why, whylen, "%s: %s", argv[0], o.err);
            return -EINVAL;
        case OPTS_POS:
            if (*npos >= max_pos) {
                snprintf(why, whylen, "%s: unexpected argument '%s'", argv[0], o.arg);
                return -EINVAL;
            }
            pos[(*npos)++] = o.arg;
            break;
        case K_JSON:
            *json = 1;
            break;
        case K_HELP:
            *help = 1;
            break;
        }
    }
    return 0;
}

int pid_parse(int argc, char **argv, struct pid_opts *o, char *why, size_t whylen)
{
    const char *pos[1];
    int n, err;

    memset(o, 0, sizeof(*o));
    err = common_parse(argc, argv, &o->json, &o->help, pos, 1, &n, why, whylen);
    if (err || o->help)
        return err;
    if (!n) {
        snprintf(why, whylen, "%s: missing PID", argv[0]);
        return -EINVAL;
    }
    if (target_arg_parse(pos[0], &o->tgt)) {
        snprintf(why, whylen, "%s: '%s' is not a process id, unit name or cgroup path (a number from 1, NAME.service, /sys/fs/cgroup/...)", argv[0], pos[0]);
        return -EINVAL;
    }
    o->pid = o->tgt.pid;
    return 0;
}

int plain_parse(int argc, char **argv, struct plain_opts *o, char *why, size_t whylen)
{
    int n;

    memset(o, 0, sizeof(*o));
    return common_parse(argc, argv, &o->json, &o->help, NULL, 0, &n, why, whylen);
}

static const json_t *json_path(const json_t *obj, const char *path)
{
    char key[64];

    while (obj && *path) {
        size_t len = strcspn(path, ".");

        if (len >= sizeof(key))
            return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        obj = json_object_get(obj, key);
        path += len + (path[len] == '.');
    }
    return obj;
}

double json_path_num(const json_t *obj, const char *path)
{
    const json_t *v = json_path(obj, path);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *cmd_cell(char *buf, size_t n, const json_t *obj, const char *path, const char *absent,
                     void (*fmt)(char *, size_t, double))
{
    double v = json_path_num(obj, path);

    if (isnan(v))
        snprintf(buf, n, "%s", absent);
    else if (fmt)
        fmt(buf, n, v);
    else
        snprintf(buf, n, "%.0f", v);
    return buf;
}

const char *json_path_str(const json_t *obj, const char *path, const char *fallback)
{
    const json_t *v = json_path(obj, path);

    return json_is_string(v) ? json_string_value(v) : fallback;
}

int cmd_print_rows(struct cli *cli, size_t ncols, const char *const *headers, const char *align, const json_t *rows,
                   int (*add)(struct table *t, const json_t *row, void *arg), void *arg)
{
    struct table t;
    int ret = 0;

    if (table_init(&t, ncols, headers, align))
        return cli_oom(cli);
    for (size_t i = 0; i < json_array_size(rows) && !ret; i++)
        if (add(&t, json_array_get(rows, i), arg))
            ret = cli_oom(cli);
    if (!ret)
        table_print(&t, cli->out);
    table_free(&t);
    return ret;
}

int cmd_parse_ago(const char *cmd, const char *opt, const char *s, int64_t *secs, char *why, size_t whylen)
{
    int err = args_parse_duration(s, secs);

    if (err == -ERANGE)
        snprintf(why, whylen, "%s: %s '%s' is too large", cmd, opt, s);
    else if (err)
        snprintf(why, whylen, "%s: %s '%s' is not a duration (e.g. 30s, 10m, 1h, 2d, 1h30m or seconds)", cmd, opt, s);
    return err ? -EINVAL : 0;
}

double cmd_ago_to_epoch(int64_t ago)
{
    struct timespec ts;
    double t;

    clock_gettime(CLOCK_REALTIME, &ts);
    t = ts.tv_sec + ts.tv_nsec / 1e9 - (double)ago;
    return t > 0.001 ? t : 0.001;
}
