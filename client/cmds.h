/* cmds.h - the osdctl commands. Each has a parse function (argv[0] is the command word;
 * 0 or -EINVAL with a message in why) that tests call directly, and a run function that
 * cli_run() dispatches to and that returns the exit status. */
#ifndef OSDCTL_CMDS_H
#define OSDCTL_CMDS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "output.h"

struct cli;

struct watch_opts {
    pid_t pid;              /* 0 with --exec */
    int cpu, mem, net, syscall, heap; /* families named; none: the daemon's default (cpu and mem) */
    int no_children, threads;
    const char *heap_scope; /* "tree" or "process"; NULL: the daemon's default */
    int interval_ms;        /* 0: not given, the daemon's default */
    const char *detector;   /* "spot", "cs", "mad", "none" (--no-detect); NULL: the daemon's default */
    int stride, calib, window;  /* 0: not given */
    double q;               /* 0: not given */
    int exec, follow, json, help;
    char **cmd;             /* --exec: CMD and its arguments, NULL-terminated (points into argv) */
};

struct pid_opts {           /* unwatch, threads */
    pid_t pid;
    int json, help;
};

struct plain_opts {         /* list, status */
    int json, help;
};

#define METRIC_ALL "all"

struct series_opts {
    pid_t pid;
    const char *metric;        /* a name of family_names[], or METRIC_ALL (default "cpu") */
    int64_t since_s, until_s;  /* durations back from now; -1: not given */
    long long limit;           /* 0: not given */
    enum out_fmt fmt;
    int follow, help;
};

struct anomalies_opts {
    int64_t since_s, until_s;  /* durations back from now; -1: not given */
    pid_t pid;                 /* 0: every target */
    const char *metric;        /* NULL: any */
    long long limit;           /* 0: not given */
    int follow, json, help;
};

struct syscalls_opts {
    pid_t pid;
    const char *sort;          /* "count" or "time"; NULL: the daemon's default (count) */
    long long limit;           /* 0: not given */
    int json, help;
};

struct trace_opts {
    pid_t pid;
    int syscalls;              /* --syscalls: the only kind of trace for now, required */
    int json, help;
};

struct export_opts {
    pid_t pid;
    const char *dir;
    int64_t since_s;           /* duration back from now; -1: not given */
    int force, json, help;
};

struct config_opts {
    int reload;                /* "config reload"; else "config [get]" */
    int json, help;
};

int watch_parse(int argc, char **argv, struct watch_opts *o, char *why, size_t whylen);
int anomalies_parse(int argc, char **argv, struct anomalies_opts *o, char *why, size_t whylen);
int config_parse(int argc, char **argv, struct config_opts *o, char *why, size_t whylen);
int pid_parse(int argc, char **argv, struct pid_opts *o, char *why, size_t whylen);
int plain_parse(int argc, char **argv, struct plain_opts *o, char *why, size_t whylen);
int series_parse(int argc, char **argv, struct series_opts *o, char *why, size_t whylen);
int syscalls_parse(int argc, char **argv, struct syscalls_opts *o, char *why, size_t whylen);
int trace_parse(int argc, char **argv, struct trace_opts *o, char *why, size_t whylen);
int export_parse(int argc, char **argv, struct export_opts *o, char *why, size_t whylen);

/* Shared by the commands (cmd_common.c). */
#include <jansson.h>
/* Number at a dotted path ("last.cpu_pct"), or NAN when absent or not a number. */
double json_path_num(const json_t *obj, const char *path);
/* String at a dotted path, or fallback. */
const char *json_path_str(const json_t *obj, const char *path, const char *fallback);
/* A duration option ("--since 10m") of command cmd into seconds; 0, or -EINVAL with why. */
int cmd_parse_ago(const char *cmd, const char *opt, const char *s, int64_t *secs, char *why, size_t whylen);
/* Prints rows (a JSON array) as a table, add() turning each into cells; 0 or the exit
 * status of running out of memory (message printed). */
struct table;
int cmd_print_rows(struct cli *cli, size_t ncols, const char *const *headers, const char *align, const json_t *rows,
                   int (*add)(struct table *t, const json_t *row, void *arg), void *arg);
/* "Ago" to epoch seconds; clamped so that a huge duration means "since the epoch". */
double cmd_ago_to_epoch(int64_t ago);

int cmd_watch(struct cli *cli, int argc, char **argv);
int cmd_unwatch(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_series(struct cli *cli, int argc, char **argv);
int cmd_threads(struct cli *cli, int argc, char **argv);
int cmd_anomalies(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_syscalls(struct cli *cli, int argc, char **argv);
int cmd_trace(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
#endif
