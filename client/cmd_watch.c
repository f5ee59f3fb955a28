/* cmd_watch.c - "osdctl watch": watch a running pid, or start CMD stopped, watch it, then let
 * it run (--exec) so that none of its instructions runs unwatched. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "cmds.h"
#include "exec.h"
#include "family.h"
#include "follow.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"

enum {
    W_CPU = 1, W_MEM, W_NET, W_SYSCALL, W_HEAP, W_NO_CHILDREN, W_THREADS, W_INTERVAL, W_DETECTOR, W_NO_DETECT, W_STRIDE, W_Q, W_CALIB,
    W_WINDOW, W_EXEC, W_FOLLOW, W_UNIT, W_CGROUP, W_JSON, W_HELP, W_UPROBE, W_HEAP_SCOPE
};

static const struct opt_def watch_defs[] = {
    { "cpu", 0, 0, W_CPU },          { "mem", 0, 0, W_MEM },         { "net", 0, 0, W_NET },
    { "syscall", 0, 0, W_SYSCALL },  { "heap", 0, 0, W_HEAP },      { "no-children", 0, 0, W_NO_CHILDREN },
    { "threads", 0, 0, W_THREADS },  { "interval", 0, 1, W_INTERVAL }, { "detector", 0, 1, W_DETECTOR },
    { "no-detect", 0, 0, W_NO_DETECT }, { "stride", 0, 1, W_STRIDE }, { "q", 0, 1, W_Q },
    { "calib", 0, 1, W_CALIB },      { "window", 0, 1, W_WINDOW },   { "exec", 0, 0, W_EXEC },
    { "heap-scope", 0, 1, W_HEAP_SCOPE },
    { "follow", 0, 0, W_FOLLOW },    { "unit", 0, 1, W_UNIT },       { "cgroup", 0, 1, W_CGROUP },
    { "json", 0, 0, W_JSON },        { "help", 'h', 0, W_HELP },     { "uprobe", 0, 1, W_UPROBE },
    { NULL, 0, 0, 0 },
};

/* Bounds of the detection params (proto/osd-rpc.md, watch); the daemon may refuse more. */
#define WATCH_STRIDE_MAX 100000
#define WATCH_CALIB_MIN 20
#define WATCH_WINDOW_MIN 16
#define WATCH_Q_MAX 0.5

/* --detector and --no-detect: each may repeat, but they must agree. */
static int watch_set_detector(struct watch_opts *o, const char *name, const char *word, char *why, size_t whylen)
{
    static const char *const names[] = { "spot", "cs", "mad", "none" };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(name, names[i]))
            break;
    }
    if (i == sizeof(names) / sizeof(names[0])) {
        snprintf(why, whylen, "watch: --detector must be spot, cs, mad or none, got '%s'", name);
        return -EINVAL;
    }
    if (o->detector && strcmp(o->detector, names[i])) {
        snprintf(why, whylen, "watch: %s contradicts --detector %s given before", word, o->detector);
        return -EINVAL;
    }
    o->detector = names[i];
    return 0;
}

/* A whole-number option into *dst, or -EINVAL with why naming the bounds. */
static int watch_int(const char *opt, const char *s, long long min, long long max, int *dst, char *why, size_t whylen)
{
    long long v;

    if (args_parse_int(s, min, max, &v)) {
        snprintf(why, whylen, "watch: %s must be a whole number from %lld to %lld, got '%s'", opt, min, max, s);
        return -EINVAL;
    }
    *dst = (int)v;
    return 0;
}

int watch_parse(int argc, char **argv, struct watch_opts *o, char *why, size_t whylen)
{
    const char *pid_word = NULL, *unit = NULL, *cgroup = NULL;
    struct opts op;
    long long v;
    int key;

    memset(o, 0, sizeof(*o));
    opts_init(&op, argc, argv, 1, watch_defs);
    while ((key = opts_next(&op)) != OPTS_END) {
        switch (key) {
        case OPTS_ERR:
            snprintf(why, whylen, "watch: %s", op.err);
            return -EINVAL;
        case OPTS_POS:
            if (o->heap_scope && !o->heap) {
        snprintf(why, whylen, "watch: --heap-scope needs --heap");
        return -EINVAL;
    }
    if (o->exec) {
                /* Everything from CMD on belongs to CMD, options included. */
                o->cmd = &argv[op.i - 1];
                goto done;
            }
            if (pid_word) {
                snprintf(why, whylen, "watch: unexpected argument '%s' (to run a command, use --exec -- CMD)", op.arg);
                return -EINVAL;
            }
            pid_word = op.arg;
            break;
        case W_CPU:
            o->cpu = 1;
            break;
        case W_MEM:
            o->mem = 1;
            break;
        case W_HEAP:
            o->heap = 1;
            break;
        case W_UPROBE:
            if (!strchr(op.arg, ':') || op.arg[0] == ':' || op.arg[strlen(op.arg) - 1] == ':') {
                snprintf(why, whylen, "watch: --uprobe must be BINARY:FUNCTION, got '%s'", op.arg);
                return -EINVAL;
            }
            if (o->nuprobes == WATCH_MAX_UPROBES) {
                snprintf(why, whylen, "watch: at most %d --uprobe options", WATCH_MAX_UPROBES);
                return -EINVAL;
            }
            o->uprobes[o->nuprobes++] = op.arg;
            break;
        case W_NET:
            o->net = 1;
            break;
        case W_SYSCALL:
            o->syscall = 1;
            break;
        case W_HEAP_SCOPE:
            if (strcmp(op.arg, "tree") && strcmp(op.arg, "process")) {
                snprintf(why, whylen, "watch: --heap-scope must be tree or process, got '%s'", op.arg);
                return -EINVAL;
            }
            o->heap_scope = op.arg;
            break;
        case W_NO_CHILDREN:
            o->no_children = 1;
            break;
        case W_THREADS:
            o->threads = 1;
            break;
        case W_INTERVAL:
            if (args_parse_int(op.arg, OSD_INTERVAL_MIN_MS, OSD_INTERVAL_MAX_MS, &v)) {
                snprintf(why, whylen, "watch: --interval must be whole milliseconds from %d to %d, got '%s'",
                         OSD_INTERVAL_MIN_MS, OSD_INTERVAL_MAX_MS, op.arg);
                return -EINVAL;
            }
            o->interval_ms = (int)v;
            break;
        case W_DETECTOR:
            if (watch_set_detector(o, op.arg, "--detector", why, whylen))
                return -EINVAL;
            break;
        case W_NO_DETECT:
            if (watch_set_detector(o, "none", "--no-detect", why, whylen))
                return -EINVAL;
            break;
        case W_STRIDE:
            if (watch_int("--stride", op.arg, 1, WATCH_STRIDE_MAX, &o->stride, why, whylen))
                return -EINVAL;
            break;
        case W_CALIB:
            if (watch_int("--calib", op.arg, WATCH_CALIB_MIN, INT_MAX, &o->calib, why, whylen))
                return -EINVAL;
            break;
        case W_WINDOW:
            if (watch_int("--window", op.arg, WATCH_WINDOW_MIN, INT_MAX, &o->window, why, whylen))
                return -EINVAL;
            break;
        case W_Q:
            if (args_parse_real(op.arg, &o->q) || !(o->q > 0 && o->q < WATCH_Q_MAX)) {
                snprintf(why, whylen, "watch: --q must be a probability between 0 and 0.5 (e.g. 1e-4), got '%s'",
                         op.arg);
                return -EINVAL;
            }
            break;
        case W_EXEC:
            o->exec = 1;
            break;
        case W_FOLLOW:
            o->follow = 1;
            break;
        case W_UNIT:
            if (!*op.arg || strchr(op.arg, '/')) {
                snprintf(why, whylen, "watch: --unit '%s' is not a unit name (e.g. nginx.service)", op.arg);
                return -EINVAL;
            }
            unit = op.arg;
            break;
        case W_CGROUP:
            if (!*op.arg) {
                snprintf(why, whylen, "watch: --cgroup needs a path (e.g. /sys/fs/cgroup/system.slice/x.service)");
                return -EINVAL;
            }
            cgroup = op.arg;
            break;
        case W_JSON:
            o->json = 1;
            break;
        case W_HELP:
            o->help = 1;
            break;
        }
    }
done:
    if (o->help)
        return 0;
    if (o->detector && !strcmp(o->detector, "none") && (o->stride || o->q > 0 || o->calib || o->window)) {
        snprintf(why, whylen, "watch: --stride, --q, --calib and --window tune a detector; detection is off "
                              "with --detector none / --no-detect");
        return -EINVAL;
    }
    if (pid_word && o->exec) {
        snprintf(why, whylen, "watch: give either PID or --exec -- CMD, not both");
        return -EINVAL;
    }
    if (!!pid_word + !!unit + !!cgroup + !!o->exec > 1) {
        snprintf(why, whylen, "watch: give only one of PID, --unit NAME, --cgroup PATH and --exec -- CMD");
        return -EINVAL;
    }
    if (unit || cgroup) {
        if (o->follow) {
            snprintf(why, whylen, "watch: --follow needs --exec (to follow a unit use 'osdctl series NAME --follow')");
            return -EINVAL;
        }
        o->tgt.unit = unit;
        o->tgt.cgroup = cgroup;
        return 0;
    }
    if (o->exec) {
        if (!o->cmd) {
            snprintf(why, whylen, "watch: --exec needs a command after --");
            return -EINVAL;
        }
        return 0;
    }
    if (o->follow) {
        snprintf(why, whylen, "watch: --follow needs --exec (for a running process use 'osdctl series PID --follow')");
        return -EINVAL;
    }
    if (!pid_word) {
        snprintf(why, whylen, "watch: missing PID (or --unit NAME, --cgroup PATH, --exec -- CMD)");
        return -EINVAL;
    }
    if (target_arg_parse(pid_word, &o->tgt)) {
        snprintf(why, whylen,
                 "watch: '%s' is not a process id, unit name or cgroup path (a number from 1, NAME.service, "
                 "/sys/fs/cgroup/...)", pid_word);
        return -EINVAL;
    }
    o->pid = o->tgt.pid;
    return 0;
}

static json_t *watch_params(const struct watch_opts *o)
{
    json_t *p = target_arg_pack(&o->tgt); /* empty with --exec: the pid comes later */

    /* Only what the user chose is sent: the daemon owns the defaults (proto/osd-rpc.md). */
    if (p && o->cpu && json_object_set_new(p, "cpu", json_true()))
        goto err;
    if (p && o->mem && json_object_set_new(p, "mem", json_true()))
        goto err;
    if (p && o->net && json_object_set_new(p, "net", json_true()))
        goto err;
    if (p && o->syscall && json_object_set_new(p, "syscall", json_true()))
        goto err;
    if (p && o->heap && json_object_set_new(p, "heap", json_true()))
        goto err;
    if (p && o->heap_scope && json_object_set_new(p, "heap_scope", json_string(o->heap_scope)))
        goto err;
    if (p && o->no_children && json_object_set_new(p, "children", json_false()))
        goto err;
    if (p && o->threads && json_object_set_new(p, "threads", json_true()))
        goto err;
    if (p && o->interval_ms && json_object_set_new(p, "interval_ms", json_integer(o->interval_ms)))
        goto err;
    if (p && o->detector && json_object_set_new(p, "detector", json_string(o->detector)))
        goto err;
    if (p && o->stride && json_object_set_new(p, "stride", json_integer(o->stride)))
        goto err;
    if (p && o->q > 0 && json_object_set_new(p, "q", json_real(o->q)))
        goto err;
    if (p && o->calib && json_object_set_new(p, "calib", json_integer(o->calib)))
        goto err;
    if (p && o->window && json_object_set_new(p, "window", json_integer(o->window)))
        goto err;
    if (p && o->nuprobes) {
        json_t *a = json_array();

        if (json_object_set_new(p, "uprobes", a))
            goto err;
        for (int i = 0; i < o->nuprobes; i++) {
            /* a relative binary path means something here, not in the daemon */
            const char *spec = o->uprobes[i], *colon = strrchr(spec, ':');
            char bin[PATH_MAX], real[PATH_MAX], abs_spec[PATH_MAX + 256];
            size_t blen = (size_t)(colon - spec);

            if (spec[0] != '/' && blen < sizeof(bin) && memchr(spec, '/', blen)) {
                memcpy(bin, spec, blen);
                bin[blen] = '\0';
                if (realpath(bin, real)) {
                    int n = snprintf(abs_spec, sizeof(abs_spec), "%s%s", real, colon);

                    if (n > 0 && (size_t)n < sizeof(abs_spec))
                        spec = abs_spec;
                }
            }
            if (json_array_append_new(a, json_string(spec)))
                goto err;
        }
    }
    return p;
err:
    json_decref(p);
    return NULL;
}

/* ", detector spot (stride 10, q 0.0001, calib 300, window 128)"; ", detection off" for null;
 * nothing when the daemon does not say (an older one). */
static void watch_print_detect(FILE *f, const json_t *det)
{
    static const char *const params[] = { "stride", "q", "calib", "window" };
    const char *sep = " (";
    size_t i;

    if (json_is_null(det)) {
        fputs(", detection off", f);
        return;
    }
    if (!json_is_object(det))
        return;
    fprintf(f, ", detector %s", json_path_str(det, "detector", "?"));
    for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        double v = json_path_num(det, params[i]);

        if (isnan(v))
            continue;
        fprintf(f, "%s%s %g", sep, params[i], v);
        sep = ", ";
    }
    if (strcmp(sep, " ("))
        fputc(')', f);
}

static void watch_print(struct cli *cli, const json_t *target, int compact)
{
    const json_t *opt = json_object_get(target, "options");
    double iv = json_path_num(opt, "interval_ms");
    char fams[64], name[32];
    double members = json_path_num(target, "members");

    if (cli->json) {
        output_json(cli->out, target, compact);
        return;
    }
    family_list(fams, sizeof(fams), target, " ");
    if (json_is_string(json_object_get(target, "cgroup")))
        fprintf(cli->out, "watching %s (cgroup %s, %.0f processes):%s%s", target_json_name(target, name, sizeof(name)),
                json_path_str(target, "cgroup", "?"), isnan(members) ? 0 : members, *fams ? " " : "", fams);
    else
        fprintf(cli->out, "watching %.0f (%s):%s%s", json_path_num(target, "pid"), json_path_str(target, "comm", "?"),
                *fams ? " " : "", fams);
    if (json_is_true(json_object_get(opt, "threads")))
        fputs(" threads", cli->out);
    fputs(json_is_false(json_object_get(opt, "children")) ? ", root only" : ", with children", cli->out);
    if (!isnan(iv))
        fprintf(cli->out, ", every %.0f ms", iv);
    watch_print_detect(cli->out, json_object_get(opt, "detect"));
    fputc('\n', cli->out);
}

/* The "target" object of a watch reply, or NULL after reporting a bad reply. */
static const json_t *watch_target(struct cli *cli, const json_t *res)
{
    const json_t *t = json_object_get(res, "target");

    if (!json_is_object(t)) {
        cli_bad_reply(cli, "watch reply has no 'target' object");
        return NULL;
    }
    return t;
}

static int watch_exec(struct cli *cli, const struct watch_opts *o, json_t *params)
{
    const json_t *target;
    struct follow f = { .fmt = cli->json ? OUT_JSON : OUT_HUMAN };
    json_t *res = NULL;
    pid_t pid;
    int ret, err, status = 0;

    /* Unreachable daemon: say so before starting anything. */
    ret = cli_connect(cli);
    if (ret)
        return ret;
    /* Ctrl-C or a SIGTERM while the watch is pending must not leave a stopped orphan behind. */
    exec_signals_pending();
    err = exec_spawn_stopped(o->cmd, &pid);
    if (err) {
        fprintf(cli->err, "osdctl: cannot start '%s': %s\n", o->cmd[0], strerror(-err));
        return OSD_EXIT_DAEMON_ERROR;
    }
    json_object_set_new(params, "pid", json_integer(pid));
    cli->conn.cancel = &exec_cancelled;
    ret = exec_cancelled ? CLI_INTERRUPTED : cli_call(cli, OSD_M_WATCH, params, &res);
    cli->conn.cancel = NULL;
    target = ret ? NULL : watch_target(cli, res);
    if (!target || exec_cancelled) {
        exec_kill(pid);
        json_decref(res);
        if (ret == CLI_INTERRUPTED || exec_cancelled)
            return 128 + (exec_cancelled ? exec_cancelled : SIGINT);
        return ret ? ret : OSD_EXIT_DAEMON_ERROR;
    }
    exec_signals_install(pid);
    err = exec_resume(pid);
    if (err) {
        fprintf(cli->err, "osdctl: cannot resume '%s' (pid %d): %s\n", o->cmd[0], (int)pid, strerror(-err));
        exec_kill(pid);
        json_decref(res);
        return OSD_EXIT_DAEMON_ERROR;
    }
    watch_print(cli, target, o->follow);
    fflush(cli->out);

    if (o->follow) {
        target_arg_pid(&f.tgt, pid);
        f.child = pid;
        f.nfamilies = family_collected(target, f.families);
        if (!f.nfamilies)
            f.families[f.nfamilies++] = "cpu";
        /* A failed poll is reported but CMD keeps running: its status is still ours to pass on. */
        follow_run(cli, &f);
        status = f.child_status;
    }
    json_decref(res);
    if (!f.child_done && exec_reap(pid, 0, &status) != 1) {
        fprintf(cli->err, "osdctl: lost track of '%s' (pid %d)\n", o->cmd[0], (int)pid);
        return OSD_EXIT_DAEMON_ERROR;
    }
    return exec_exit_code(status);
}

int cmd_watch(struct cli *cli, int argc, char **argv)
{
    struct watch_opts o;
    json_t *params, *res;
    char why[256];
    int ret;

    if (watch_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "watch", "%s", why);
    if (o.help) {
        fputs(help_text("watch"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    params = watch_params(&o);
    if (!params) {
        return cli_oom(cli);
    }
    if (o.exec) {
        ret = watch_exec(cli, &o, params);
        json_decref(params);
        return ret;
    }
    ret = cli_call(cli, OSD_M_WATCH, params, &res);
    json_decref(params);
    if (ret)
        return ret;
    if (watch_target(cli, res))
        watch_print(cli, json_object_get(res, "target"), 0);
    else
        ret = OSD_EXIT_DAEMON_ERROR;
    json_decref(res);
    return ret;
}
