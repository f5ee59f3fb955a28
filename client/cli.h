/* cli.h - osdctl's edge: global options, command dispatch, and the one place where errors
 * become messages and exit codes. */
#ifndef OSDCTL_CLI_H
#define OSDCTL_CLI_H
#include <jansson.h>
#include <stdio.h>

#include "conn.h"
#include "rpc.h"

#define CLI_INTERRUPTED (-1) /* cli_call() stopped by the conn's cancel flag (SIGINT) */

struct cli {
    const char *socket_path;
    int timeout_ms;          /* 0: wait forever */
    int json;                /* --json given globally or to the command */
    FILE *out, *err;
    struct conn conn;
    int connected;
    json_int_t next_id;
};

struct cli_global {
    const char *socket;      /* NULL: not given */
    double timeout_s;
    int json, help, version;
    int cmd_at;              /* argv index of the command word, argc if none */
};

/* Global options before the command. 0, or -EINVAL with a message in why. */
int cli_parse_global(int argc, char **argv, struct cli_global *g, char *why, size_t whylen);
/* osdctl: argv[argc] must be NULL (as in main). Returns the exit status. */
int cli_run(int argc, char **argv, FILE *out, FILE *err);

/* Prints "osdctl: <message>" and a hint to the command's help; returns OSD_EXIT_USAGE. */
int cli_usage(struct cli *cli, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Connects if not yet connected: 0 or OSD_EXIT_UNREACHABLE (message printed). */
int cli_connect(struct cli *cli);
/* One request: 0 with *result (caller decrefs), else the exit status after printing the
 * error (OSD_EXIT_DAEMON_ERROR, OSD_EXIT_UNREACHABLE), or CLI_INTERRUPTED. params may be
 * NULL and is not consumed. */
int cli_call(struct cli *cli, const char *method, json_t *params, json_t **result);
/* cli_call() whose result must hold an array `member`: 0 with *result (caller decrefs)
 * and *array (borrowed from it); a reply without it is a bad reply (nothing to decref). */
int cli_call_array(struct cli *cli, const char *method, json_t *params, const char *member, json_t **result,
                   json_t **array);
/* As cli_call(), on a subscribed connection: notifications read before the reply go to fn
 * (NULL: dropped). --timeout bounds the whole wait, however many notifications come. */
int cli_call_notify(struct cli *cli, const char *method, json_t *params, json_t **result, rpc_notify_fn fn,
                    void *arg);
/* Waits for the next notification with no deadline (--timeout is for replies): 0 with *msg
 * (caller decrefs), CLI_INTERRUPTED, or the exit status after printing why: OSD_EXIT_UNREACHABLE
 * when osdetd closed the connection, OSD_EXIT_DAEMON_ERROR for a line that is no notification. */
int cli_wait_notification(struct cli *cli, json_t **msg);
/* Prints "osdctl: bad reply from osdetd: why"; returns OSD_EXIT_DAEMON_ERROR. */
int cli_bad_reply(struct cli *cli, const char *why);
/* Prints "osdctl: out of memory"; returns OSD_EXIT_DAEMON_ERROR. */
int cli_oom(struct cli *cli);
void cli_close(struct cli *cli);
#endif
