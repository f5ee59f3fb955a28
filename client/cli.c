/* cli.c - see cli.h. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "args.h"
#include "cmds.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"
#include "output.h"
#include "rpc.h"

enum { G_SOCKET = 1, G_JSON, G_TIMEOUT, G_HELP, G_VERSION };

static const struct opt_def global_opts[] = {
    { "socket", 0, 1, G_SOCKET }, { "json", 0, 0, G_JSON },       { "timeout", 0, 1, G_TIMEOUT },
    { "help", 'h', 0, G_HELP },   { "version", 0, 0, G_VERSION }, { NULL, 0, 0, 0 },
};

static const struct command {
    const char *name;
    int (*run)(struct cli *cli, int argc, char **argv);
} commands[] = {
    { "watch", cmd_watch },         { "unwatch", cmd_unwatch }, { "list", cmd_list },
    { "status", cmd_status },       { "series", cmd_series },   { "threads", cmd_threads },
    { "anomalies", cmd_anomalies }, { "config", cmd_config },   { "syscalls", cmd_syscalls },
    { "trace", cmd_trace },         { "export", cmd_export },
};

int cli_parse_global(int argc, char **argv, struct cli_global *g, char *why, size_t whylen)
{
    struct opts o;
    int key, err;

    memset(g, 0, sizeof(*g));
    g->timeout_s = 10;
    g->cmd_at = argc;
    opts_init(&o, argc, argv, 1, global_opts);
    while ((key = opts_next(&o)) != OPTS_END) {
        switch (key) {
        case OPTS_POS:
            g->cmd_at = o.i - 1;
            return 0;
        case OPTS_ERR:
            snprintf(why, whylen, "%s", o.err);
            return -EINVAL;
        case G_SOCKET:
            if (!*o.arg) {
                snprintf(why, whylen, "--socket needs a path");
                return -EINVAL;
            }
            g->socket = o.arg;
            break;
        case G_TIMEOUT:
            err = args_parse_seconds(o.arg, 86400, &g->timeout_s);
            if (err) {
                snprintf(why, whylen, "--timeout '%s' is not a number of seconds from 0 to 86400", o.arg);
                return -EINVAL;
            }
            break;
        case G_JSON:
            g->json = 1;
            break;
        case G_HELP:
            g->help = 1;
            break;
        case G_VERSION:
            g->version = 1;
            break;
        }
    }
    return 0;
}

int cli_usage(struct cli *cli, const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("osdctl: ", cli->err);
    va_start(ap, fmt);
    vfprintf(cli->err, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(cli->err, "\nTry 'osdctl %s --help' for more information.\n", cmd);
    else
        fputs("\nTry 'osdctl --help' for more information.\n", cli->err);
    return OSD_EXIT_USAGE;
}

int cli_connect(struct cli *cli)
{
    int err;

    if (cli->connected)
        return 0;
    err = conn_open(&cli->conn, cli->socket_path);
    if (err) {
        fprintf(cli->err, "osdctl: cannot connect to osdetd at %s: %s\n", cli->socket_path, strerror(-err));
        fprintf(cli->err, "osdctl: is osdetd running? Start it, or give its socket with --socket PATH or %s.\n",
                OSD_SOCKET_ENV);
        return OSD_EXIT_UNREACHABLE;
    }
    cli->connected = 1;
    return 0;
}

int cli_call_array(struct cli *cli, const char *method, json_t *params, const char *member, json_t **result,
                   json_t **array)
{
    char why[128];
    int ret = cli_call(cli, method, params, result);

    if (ret)
        return ret;
    *array = json_object_get(*result, member);
    if (json_is_array(*array))
        return 0;
    json_decref(*result);
    *result = NULL;
    snprintf(why, sizeof(why), "%s reply has no '%s' array", method, member);
    return cli_bad_reply(cli, why);
}

int cli_bad_reply(struct cli *cli, const char *why)
{
    fprintf(cli->err, "osdctl: bad reply from osdetd: %s\n", why);
    return OSD_EXIT_DAEMON_ERROR;
}

/* Turns the outcome of a request into a message and an exit status. */
static int cli_report(struct cli *cli, const char *method, int ret, json_t *error, const char *why)
{
    switch (ret) {
    case 0:
        return 0;
    case RPC_DAEMON_ERROR:
        fprintf(cli->err, "osdctl: %s (code %d)\n", rpc_error_message(error), rpc_error_code(error));
        if (cli->json)
            output_json(cli->out, error, 0);
        return OSD_EXIT_DAEMON_ERROR;
    case -EINTR:
        return CLI_INTERRUPTED;
    case -EPROTO:
        return cli_bad_reply(cli, why);
    case -ETIMEDOUT:
        fprintf(cli->err, "osdctl: no reply from osdetd at %s within %g s (see --timeout)\n", cli->socket_path,
                cli->timeout_ms / 1000.0);
        return OSD_EXIT_UNREACHABLE;
    case -ECONNRESET:
    case -EPIPE:
        fprintf(cli->err, "osdctl: osdetd at %s closed the connection before replying to '%s'\n",
                cli->socket_path, method);
        return OSD_EXIT_UNREACHABLE;
    case -EMSGSIZE:
        fprintf(cli->err, "osdctl: reply to '%s' is larger than %zu bytes\n", method, (size_t)CONN_MAX_REPLY);
        return OSD_EXIT_DAEMON_ERROR;
    default:
        fprintf(cli->err, "osdctl: '%s' request to osdetd at %s failed: %s\n", method, cli->socket_path,
                strerror(-ret));
        return ret == -ENOMEM ? OSD_EXIT_DAEMON_ERROR : OSD_EXIT_UNREACHABLE;
    }
}

int cli_call_notify(struct cli *cli, const char *method, json_t *params, json_t **result, rpc_notify_fn fn,
                    void *arg)
{
    json_int_t id = ++cli->next_id;
    json_t *error = NULL;
    char why[256] = "";
    int ret;

    *result = NULL;
    ret = cli_connect(cli);
    if (ret)
        return ret;
    ret = rpc_send(&cli->conn, id, method, params);
    if (!ret)
        ret = rpc_recv_reply(&cli->conn, id, conn_deadline(&cli->conn), fn, arg, result, &error, why, sizeof(why));
    ret = cli_report(cli, method, ret, error, why);
    json_decref(error);
    return ret;
}

int cli_call(struct cli *cli, const char *method, json_t *params, json_t **result)
{
    return cli_call_notify(cli, method, params, result, NULL, NULL);
}

int cli_wait_notification(struct cli *cli, json_t **msg)
{
    char why[256] = "";
    int ret;

    ret = rpc_recv_notification(&cli->conn, msg, why, sizeof(why));
    switch (ret) {
    case 0:
        return 0;
    case -EINTR:
        return CLI_INTERRUPTED;
    case -EPROTO:
        return cli_bad_reply(cli, why);
    case -ECONNRESET:
        fprintf(cli->err, "osdctl: osdetd at %s closed the connection\n", cli->socket_path);
        return OSD_EXIT_UNREACHABLE;
    case -EMSGSIZE:
        fprintf(cli->err, "osdctl: a notification is larger than %zu bytes\n", (size_t)CONN_MAX_REPLY);
        return OSD_EXIT_DAEMON_ERROR;
    default:
        fprintf(cli->err, "osdctl: reading from osdetd at %s failed: %s\n", cli->socket_path, strerror(-ret));
        return ret == -ENOMEM ? OSD_EXIT_DAEMON_ERROR : OSD_EXIT_UNREACHABLE;
    }
}

int cli_oom(struct cli *cli)
{
    fputs("osdctl: out of memory\n", cli->err);
    return OSD_EXIT_DAEMON_ERROR;
}

void cli_close(struct cli *cli)
{
    conn_close(&cli->conn);
    cli->connected = 0;
}

/* "osdctl analyze ...": the offline analyzer of the detection library, run in-process without
 * a daemon. argv[0] is "analyze"; json passes the global --json on. It writes to the
 * process's stdout and stderr, not to cli->out/err. */
static int cli_analyze(struct cli *cli, int argc, char **argv, int json)
{
    char **av = calloc((size_t)argc + 2, sizeof(*av));
    int i, n = 0, ret;

    if (!av)
        return cli_oom(cli);
    av[n++] = "analyze";
    if (json)
        av[n++] = "--json";
    for (i = 1; i < argc; i++)
        av[n++] = argv[i];
    fflush(cli->out);
    ret = analyze_main(n, av);
    fflush(stdout);
    free(av);
    return ret;
}

/* The help of cmd (NULL: overall) on cli->out; analyze's comes from the analyzer itself. */
static int cli_show_help(struct cli *cli, const char *cmd)
{
    const char *text;

    if (cmd && !strcmp(cmd, "analyze"))
        return cli_analyze(cli, 2, (char *[]){ "analyze", "--help", NULL }, 0);
    text = help_text(cmd);
    if (!text)
        return cli_usage(cli, NULL, "unknown command '%s'", cmd);
    fputs(text, cli->out);
    return OSD_EXIT_OK;
}

static int cli_help(struct cli *cli, int argc, char **argv)
{
    if (argc > 2)
        return cli_usage(cli, "help", "help takes at most one command, got '%s'", argv[2]);
    return cli_show_help(cli, argc > 1 ? argv[1] : NULL);
}

int cli_run(int argc, char **argv, FILE *out, FILE *err)
{
    struct cli cli = { .out = out, .err = err };
    struct cli_global g;
    const char *env;
    char why[256];
    size_t i;
    int ret = 0, found = 0;

    if (cli_parse_global(argc, argv, &g, why, sizeof(why)))
        return cli_usage(&cli, NULL, "%s", why);
    /* "osdctl --help watch" means the help of watch. */
    if (g.help)
        return cli_show_help(&cli, g.cmd_at < argc ? argv[g.cmd_at] : NULL);
    if (g.version) {
        fprintf(out, "osdctl %s\n", OSD_VERSION);
        return OSD_EXIT_OK;
    }
    if (g.cmd_at >= argc)
        return cli_usage(&cli, NULL, "no command given");
    /* Offline: --socket and --timeout do not matter, and nothing connects. */
    if (!strcmp(argv[g.cmd_at], "analyze"))
        return cli_analyze(&cli, argc - g.cmd_at, argv + g.cmd_at, g.json);

    env = getenv(OSD_SOCKET_ENV);
    cli.socket_path = g.socket ? g.socket : (env && *env ? env : OSD_DEFAULT_SOCKET);
    cli.json = g.json;
    cli.timeout_ms = (int)(g.timeout_s * 1000 + 0.5);
    if (g.timeout_s > 0 && cli.timeout_ms == 0)
        cli.timeout_ms = 1;
    conn_init(&cli.conn, cli.timeout_ms);

    argc -= g.cmd_at;
    argv += g.cmd_at;
    if (!strcmp(argv[0], "help"))
        return cli_help(&cli, argc, argv);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(argv[0], commands[i].name)) {
            ret = commands[i].run(&cli, argc, argv);
            found = 1;
            break;
        }
    }
    if (!found)
        ret = cli_usage(&cli, NULL, "unknown command '%s'", argv[0]);
    fflush(out);
    cli_close(&cli);
    return ret;
}
