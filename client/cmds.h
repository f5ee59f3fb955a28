/* cmds.h - the osdctl commands. Each has a parse function (argv[0] is the command word;
 * 0 or -EINVAL with a message in why) that tests call directly, and a run function that
 * cli_run() dispatches to and that returns the exit status. */
#ifndef OSDCTL_CMDS_H
#define OSDCTL_CMDS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "output.h"
#include "target.h"

struct cli;

#define WATCH_MAX_UPROBES 16

struct watch_opts {
    pid_t pid;              /* 0 with --exec, --unit or --cgroup */
    struct target_arg tgt;  /* the target: pid, unit (--unit or NAME.service) or cgroup (--cgroup or /PATH) */
    int cpu, mem, net, syscall, heap; /* families named; none: the daemon's default (cpu and mem) */
    int no_children, threads;
    const char *heap_scope; /* "tree" or "process"; NULL: the daemon's default */
    int interval_ms;        /* 0: not given, the daemon's default */
    const char *detector;   /* "spot", "cs", "mad", "none" (--no-detect); NULL: the daemon's default */
    int stride, calib, window;  /* 0: not given */
    double q;               /* 0: not given */
    int exec, follow, json, help;
    const char *uprobes[WATCH_MAX_UPROBES]; /* --uprobe BINARY:FUNCTION, repeatable */
    int nuprobes;
    char **cmd;             /* --exec: CMD and its arguments, NULL-terminated (points into argv) */
};

struct pid_opts {           /* unwatch */
    pid_t pid;                 /* 0 when named by unit or cgroup */
    struct target_arg tgt;
    int json, help;
};

struct plain_opts {         /* list, status */
    int json, help;
};

#define METRIC_ALL "all"
#define METRIC_FUNC "func" /* a traced user function's series */

struct series_opts {
    pid_t pid;
    struct target_arg tgt;
    const char *metric;        /* a name of family_names[], METRIC_ALL (default "cpu") or METRIC_FUNC */
    const char *function;      /* --function BINARY:FUNCTION, with METRIC_FUNC */
    int64_t since_s, until_s;  /* durations back from now; -1: not given */
    long long limit;           /* 0: not given */
    enum out_fmt fmt;
    int follow, help;
};

struct anomalies_opts {
    int64_t since_s, until_s;  /* durations back from now; -1: not given */
    pid_t pid;                 /* 0: every target (or named by unit/cgroup) */
    struct target_arg tgt;     /* --pid PID, --unit NAME or --cgroup PATH */
    const char *metric;        /* NULL: any */
    long long limit;           /* 0: not given */
    int follow, json, help;
};

struct syscalls_opts {
    pid_t pid;
    struct target_arg tgt;
    const char *sort;          /* "count" or "time"; NULL: the daemon's default (count) */
    long long limit;           /* 0: not given */
    int json, help;
};

struct threads_opts {
    pid_t pid;                 /* 0 when named by unit or cgroup */
    struct target_arg tgt;
    const char *sort;          /* "cpu", "net", "syscall" or "heap"; NULL: the daemon's default (cpu) */
    int json, help;
};

struct trace_opts {
    pid_t pid;
    struct target_arg tgt;
    int syscalls;              /* --syscalls; exactly one of it and --uprobe */
    const char *uprobe;        /* --uprobe BINARY:FUNCTION */
    const char *enter, *ret;   /* --enter / --return formats (with --uprobe); NULL: the daemon's */
    long long count;           /* --count N: stop after N events; 0: no limit */
    double duration;           /* --duration S: stop after S seconds; 0: no limit */
    int json, help;
};

struct export_opts {
    pid_t pid;
    struct target_arg tgt;
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
int threads_parse(int argc, char **argv, struct threads_opts *o, char *why, size_t whylen);
int trace_parse(int argc, char **argv, struct trace_opts *o, char *why, size_t whylen);
int export_parse(int argc, char **argv, struct export_opts *o, char *why, size_t whylen);

/* Shared by the commands (cmd_common.c). */
#include <jansson.h>
/* Number at a dotted path ("last.cpu_pct"), or NAN when absent or not a number. */
double json_path_num(const json_t *obj, const char *path);
/* The number at a dotted path formatted by fmt (NULL: a whole number, "%.0f") into buf, or
 * absent when the daemon did not send it; returns buf. */
const char *cmd_cell(char *buf, size_t n, const json_t *obj, const char *path, const char *absent,
                     void (*fmt)(char *, size_t, double));
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
