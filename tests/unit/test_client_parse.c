/* test_client_parse.c - option parsing of every osdctl command and of the global options,
 * and that each usage error makes osdctl exit 2 with a message and a hint (run in-process
 * through cli_run(); no daemon is involved). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "cmds.h"
#include "osd_proto.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })

static int argc_of(char **argv)
{
    int n = 0;

    while (argv[n])
        n++;
    return n;
}

struct captured {
    int rc;
    char *out, *err;
    size_t out_len, err_len;
};

/* Runs cli_run() on argv (NULL-terminated) with stdout/stderr captured. */
static struct captured cli(char **argv)
{
    struct captured c = { 0 };
    FILE *out = open_memstream(&c.out, &c.out_len);
    FILE *err = open_memstream(&c.err, &c.err_len);
    c.rc = cli_run(argc_of(argv), argv, out, err);
    fclose(out);
    fclose(err);
    return c;
}

static void captured_free(struct captured *c)
{
    free(c->out);
    free(c->err);
}

/* Expects exit 2, a message containing want, and a hint naming the help to read. */
static void usage_error(char **argv, const char *want, const char *hint)
{
    struct captured c = cli(argv);

    CHECK(c.rc == OSD_EXIT_USAGE, "argv[1]='%s' argv[2]='%s': expected exit 2, got %d", argv[1],
          argv[1] ? argv[2] : "", c.rc);
    CHECK(strstr(c.err, want), "expected stderr to contain \"%s\", got \"%s\"", want, c.err);
    CHECK(strstr(c.err, hint), "expected hint \"%s\", got \"%s\"", hint, c.err);
    CHECK(c.out_len == 0, "expected nothing on stdout, got \"%s\"", c.out);
    captured_free(&c);
}

static void test_global(void)
{
    struct cli_global g;
    char why[256];
    char **a = ARGV("osdctl", "--socket", "/tmp/s", "--json", "--timeout=2.5", "list", "--timeout", "x");
    int err = cli_parse_global(argc_of(a), a, &g, why, sizeof(why));

    CHECK_INT(err, 0);
    CHECK_STR(g.socket, "/tmp/s");
    CHECK_INT(g.json, 1);
    CHECK(g.timeout_s == 2.5, "expected timeout 2.5, got %g", g.timeout_s);
    CHECK_INT(g.cmd_at, 5); /* options after the command are the command's */

    a = ARGV("osdctl");
    CHECK_INT(cli_parse_global(1, a, &g, why, sizeof(why)), 0);
    CHECK(g.timeout_s == 10, "expected default timeout 10, got %g", g.timeout_s);
    CHECK_INT(g.cmd_at, 1);
    CHECK(g.socket == NULL && !g.json && !g.help && !g.version, "expected no options set");

    usage_error(ARGV("osdctl"), "no command given", "osdctl --help");
    usage_error(ARGV("osdctl", "--json"), "no command given", "osdctl --help");
    usage_error(ARGV("osdctl", "frobnicate"), "unknown command 'frobnicate'", "osdctl --help");
    usage_error(ARGV("osdctl", "--bogus", "list"), "unknown option '--bogus'", "osdctl --help");
    usage_error(ARGV("osdctl", "--timeout", "-1", "list"), "--timeout '-1'", "osdctl --help");
    usage_error(ARGV("osdctl", "--timeout", "99999", "list"), "--timeout '99999'", "osdctl --help");
    usage_error(ARGV("osdctl", "--socket"), "option '--socket' needs a value", "osdctl --help");
    usage_error(ARGV("osdctl", "--socket="), "--socket needs a path", "osdctl --help");
    usage_error(ARGV("osdctl", "help", "nope"), "unknown command 'nope'", "osdctl --help");
}

static void test_help_version(void)
{
    static const char *cmds[] = { "watch",    "unwatch", "list",   "status",    "series", "threads",
                                  "syscalls", "trace",   "export", "anomalies", "config" };
    struct captured c;
    char want[64];
    size_t i;

    c = cli(ARGV("osdctl", "--version"));
    CHECK_INT(c.rc, 0);
    CHECK_STR(c.out, "osdctl " OSD_VERSION "\n");
    captured_free(&c);

    c = cli(ARGV("osdctl", "-h"));
    CHECK_INT(c.rc, 0);
    CHECK(strstr(c.out, "Usage: osdctl [GLOBAL OPTIONS] COMMAND"), "overall help expected, got \"%s\"", c.out);
    captured_free(&c);
    c = cli(ARGV("osdctl", "help"));
    CHECK(c.rc == 0 && strstr(c.out, "Usage: osdctl [GLOBAL OPTIONS] COMMAND"), "'osdctl help': got %d \"%s\"", c.rc,
          c.out);
    captured_free(&c);
    c = cli(ARGV("osdctl", "--help", "series"));
    CHECK(c.rc == 0 && !strncmp(c.out, "Usage: osdctl series PID", 24), "'--help series' shows series help, got \"%.40s\"",
          c.out);
    captured_free(&c);
    usage_error(ARGV("osdctl", "--help", "nope"), "unknown command 'nope'", "osdctl --help");

    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        struct captured a = cli(ARGV("osdctl", "help", (char *)cmds[i]));
        struct captured b = cli(ARGV("osdctl", (char *)cmds[i], "--help"));
        struct captured h = cli(ARGV("osdctl", "--socket", "/nonexistent", (char *)cmds[i], "-h"));

        snprintf(want, sizeof(want), "Usage: osdctl %s ", cmds[i]);
        CHECK(a.rc == 0 && b.rc == 0 && h.rc == 0, "%s help: expected exit 0, got %d/%d/%d", cmds[i], a.rc, b.rc, h.rc);
        CHECK(!strncmp(a.out, want, strlen(want)), "help %s: expected \"%s...\", got \"%.40s\"", cmds[i], want, a.out);
        CHECK(!strcmp(a.out, b.out) && !strcmp(a.out, h.out), "%s: 'help %s', '--help' and '-h' differ", cmds[i],
              cmds[i]);
        captured_free(&a);
        captured_free(&b);
        captured_free(&h);
    }
}

static void test_watch(void)
{
    struct watch_opts o;
    char why[256];
    char **a;

    a = ARGV("watch", "1234");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 1234 && !o.cpu && !o.mem && !o.net && !o.syscall && !o.no_children && !o.threads &&
              !o.interval_ms && !o.exec,
          "watch 1234: expected pid 1234 and no options, got pid %d", (int)o.pid);

    a = ARGV("watch", "1234", "--net", "--syscall");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.net && o.syscall && !o.cpu && !o.mem, "watch --net --syscall: got cpu %d mem %d net %d syscall %d", o.cpu,
          o.mem, o.net, o.syscall);

    a = ARGV("watch", "1234", "--heap");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.heap && !o.net && !o.cpu, "watch --heap: got heap %d", o.heap);

    a = ARGV("watch", "--cpu", "42", "--mem", "--no-children", "--threads", "--interval", "250", "--json");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 42 && o.cpu && o.mem && o.no_children && o.threads && o.interval_ms == 250 && o.json,
          "watch with every option: got pid %d cpu %d mem %d nochildren %d threads %d interval %d json %d", (int)o.pid,
          o.cpu, o.mem, o.no_children, o.threads, o.interval_ms, o.json);

    a = ARGV("watch", "--cpu", "--exec", "--follow", "--", "sh", "-c", "exit 3");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.exec && o.follow && o.cpu && o.pid == 0, "watch --exec: expected exec, follow, cpu");
    CHECK(o.cmd && !strcmp(o.cmd[0], "sh") && !strcmp(o.cmd[1], "-c") && !strcmp(o.cmd[2], "exit 3") && !o.cmd[3],
          "watch --exec: CMD should be sh -c 'exit 3'");

    /* Without "--", the first word starts CMD and later options are CMD's. */
    a = ARGV("watch", "--exec", "ls", "-l", "--cpu");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.cmd && !strcmp(o.cmd[0], "ls") && !strcmp(o.cmd[1], "-l") && !strcmp(o.cmd[2], "--cpu") && !o.cpu,
          "watch --exec ls -l --cpu: --cpu belongs to ls");

    a = ARGV("watch", "--help", "--cpu");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK_INT(o.help, 1);

    usage_error(ARGV("osdctl", "watch"), "watch: missing PID", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "0"), "'0' is not a process id", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "abc"), "'abc' is not a process id", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "2"), "unexpected argument '2'", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--interval", "99"), "--interval must be whole milliseconds from 100 to 60000",
                "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--interval", "60001"), "got '60001'", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--interval", "1s"), "got '1s'", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--interval"), "option '--interval' needs a value", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--hep"), "unknown option '--hep'", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--net=yes"), "--net", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "--exec"), "--exec needs a command", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "--exec", "--"), "--exec needs a command", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--exec", "--", "true"), "either PID or --exec", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--follow"), "--follow needs --exec", "osdctl watch --help");

    /* Detection parameters. */
    a = ARGV("watch", "1234");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.detector == NULL && o.stride == 0 && o.q == 0 && o.calib == 0 && o.window == 0,
          "watch without detection options: nothing set");
    a = ARGV("watch", "7", "--detector", "cs", "--stride", "8", "--q", "1e-3", "--calib=64", "--window", "32");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.detector && !strcmp(o.detector, "cs") && o.stride == 8 && o.q == 1e-3 && o.calib == 64 && o.window == 32,
          "watch detection options: got %s stride %d q %g calib %d window %d", o.detector ? o.detector : "(null)",
          o.stride, o.q, o.calib, o.window);
    a = ARGV("watch", "7", "--no-detect");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.detector && !strcmp(o.detector, "none"), "--no-detect: expected detector none");
    a = ARGV("watch", "7", "--no-detect", "--detector", "none");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    a = ARGV("watch", "--detector", "mad", "--exec", "--", "true");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.exec && o.detector && !strcmp(o.detector, "mad"), "--detector with --exec: expected mad");
    a = ARGV("watch", "7", "--stride", "100000", "--q", "0.4999", "--calib", "20", "--window", "16");
    CHECK_INT(watch_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.stride == 100000 && o.calib == 20 && o.window == 16, "bounds must be accepted");

    usage_error(ARGV("osdctl", "watch", "1", "--detector", "lstm"), "--detector must be spot, cs, mad or none, got 'lstm'",
                "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--detector", "cs", "--no-detect"),
                "--no-detect contradicts --detector cs", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--detector", "cs", "--detector", "spot"),
                "--detector contradicts --detector cs", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--stride", "0"), "--stride must be a whole number from 1 to 100000, got '0'",
                "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--stride", "100001"), "got '100001'", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--calib", "19"), "--calib must be a whole number from 20", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--window", "15"), "--window must be a whole number from 16",
                "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--window", "1e3"), "got '1e3'", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--q", "0"), "--q must be a probability between 0 and 0.5", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--q", "0.5"), "got '0.5'", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--q", "-1e-4"), "got '-1e-4'", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--q", "nan"), "got 'nan'", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--q"), "option '--q' needs a value", "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--no-detect", "--q", "0.01"), "detection is off with --detector none",
                "osdctl watch --help");
    usage_error(ARGV("osdctl", "watch", "1", "--detector", "none", "--window", "64"), "tune a detector",
                "osdctl watch --help");
}

static void test_anomalies(void)
{
    struct anomalies_opts o;
    char why[256];
    char **a;

    a = ARGV("anomalies");
    CHECK_INT(anomalies_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.since_s == -1 && o.until_s == -1 && o.pid == 0 && o.metric == NULL && o.limit == 0 && !o.follow && !o.json,
          "anomalies: expected no filters, got since %lld until %lld pid %d limit %lld follow %d",
          (long long)o.since_s, (long long)o.until_s, (int)o.pid, o.limit, o.follow);
    a = ARGV("anomalies", "--since", "1h", "--until=10m", "--pid", "42", "--metric", "cpu", "--limit", "5", "--json");
    CHECK_INT(anomalies_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.since_s == 3600 && o.until_s == 600 && o.pid == 42 && o.metric && !strcmp(o.metric, "cpu") &&
              o.limit == 5 && o.json,
          "anomalies with filters: got since %lld until %lld pid %d metric %s limit %lld json %d", (long long)o.since_s,
          (long long)o.until_s, (int)o.pid, o.metric ? o.metric : "(null)", o.limit, o.json);
    a = ARGV("anomalies", "--follow", "--since", "30s");
    CHECK_INT(anomalies_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.follow && o.since_s == 30, "anomalies --follow --since 30s");

    usage_error(ARGV("osdctl", "anomalies", "1234"), "unexpected argument '1234' (to choose a target, use --pid PID)",
                "osdctl anomalies --help");
    usage_error(ARGV("osdctl", "anomalies", "--since", "soon"), "anomalies: --since 'soon' is not a duration",
                "osdctl anomalies --help");
    usage_error(ARGV("osdctl", "anomalies", "--since", "10m", "--until", "1h"), "--until (3600 s ago) is before --since",
                "osdctl anomalies --help");
    usage_error(ARGV("osdctl", "anomalies", "--pid", "0"), "--pid '0' is not a process id", "osdctl anomalies --help");
    usage_error(ARGV("osdctl", "anomalies", "--metric="), "--metric needs a name", "osdctl anomalies --help");
    usage_error(ARGV("osdctl", "anomalies", "--limit", "0"), "--limit must be a whole number from 1",
                "osdctl anomalies --help");
    usage_error(ARGV("osdctl", "anomalies", "--follow", "--until", "1m"), "--follow cannot be combined with --until",
                "osdctl anomalies --help");
    usage_error(ARGV("osdctl", "anomalies", "--csv"), "unknown option '--csv'", "osdctl anomalies --help");
}

static void test_config(void)
{
    struct config_opts o;
    char why[256];

    CHECK_INT(config_parse(1, ARGV("config"), &o, why, sizeof(why)), 0);
    CHECK(!o.reload && !o.json, "config: expected get");
    CHECK_INT(config_parse(3, ARGV("config", "get", "--json"), &o, why, sizeof(why)), 0);
    CHECK(!o.reload && o.json, "config get --json");
    CHECK_INT(config_parse(2, ARGV("config", "reload"), &o, why, sizeof(why)), 0);
    CHECK_INT(o.reload, 1);
    usage_error(ARGV("osdctl", "config", "set"), "config: unknown action 'set' (expected get or reload)",
                "osdctl config --help");
    usage_error(ARGV("osdctl", "config", "get", "reload"), "config: unexpected argument 'reload'",
                "osdctl config --help");
    usage_error(ARGV("osdctl", "config", "--path"), "config: unknown option '--path'", "osdctl config --help");
}

static void test_pid_commands(void)
{
    static const char *cmds[] = { "unwatch", "threads" };
    struct pid_opts o;
    char why[256], want[64], hint[64];
    size_t i;

    for (i = 0; i < 2; i++) {
        char **a = ARGV((char *)cmds[i], "--json", "77");

        CHECK_INT(pid_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
        CHECK(o.pid == 77 && o.json, "%s --json 77: expected pid 77 json 1, got %d %d", cmds[i], (int)o.pid, o.json);
        snprintf(hint, sizeof(hint), "osdctl %s --help", cmds[i]);
        snprintf(want, sizeof(want), "%s: missing PID", cmds[i]);
        usage_error(ARGV("osdctl", (char *)cmds[i]), want, hint);
        usage_error(ARGV("osdctl", (char *)cmds[i], "-5"), "unknown option '-5'", hint);
        usage_error(ARGV("osdctl", (char *)cmds[i], "x5"), "'x5' is not a process id", hint);
        usage_error(ARGV("osdctl", (char *)cmds[i], "5", "6"), "unexpected argument '6'", hint);
        usage_error(ARGV("osdctl", (char *)cmds[i], "5", "--cpu"), "unknown option '--cpu'", hint);
    }
}

static void test_plain_commands(void)
{
    struct plain_opts o;
    char why[256];

    CHECK_INT(plain_parse(2, ARGV("list", "--json"), &o, why, sizeof(why)), 0);
    CHECK_INT(o.json, 1);
    CHECK_INT(plain_parse(1, ARGV("status"), &o, why, sizeof(why)), 0);
    CHECK_INT(o.json, 0);
    usage_error(ARGV("osdctl", "list", "12"), "list: unexpected argument '12'", "osdctl list --help");
    usage_error(ARGV("osdctl", "status", "--all"), "status: unknown option '--all'", "osdctl status --help");
}

static void test_series(void)
{
    struct series_opts o;
    char why[256];
    char **a;

    a = ARGV("series", "9");
    CHECK_INT(series_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 9 && !strcmp(o.metric, "cpu") && o.since_s == -1 && o.until_s == -1 && o.limit == 0 &&
              o.fmt == OUT_HUMAN && !o.follow,
          "series 9: expected defaults (cpu, no range, human), got metric %s since %lld until %lld limit %lld fmt %d",
          o.metric, (long long)o.since_s, (long long)o.until_s, o.limit, o.fmt);

    a = ARGV("series", "9", "--metric", "net");
    CHECK_INT(series_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK_STR(o.metric, "net");
    a = ARGV("series", "9", "--metric=syscall");
    CHECK_INT(series_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK_STR(o.metric, "syscall");

    a = ARGV("series", "--metric", "all", "9", "--since", "1h", "--until=10m", "--limit", "50", "--csv");
    CHECK_INT(series_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(!strcmp(o.metric, METRIC_ALL) && o.since_s == 3600 && o.until_s == 600 && o.limit == 50 && o.fmt == OUT_CSV,
          "series with options: got metric %s since %lld until %lld limit %lld fmt %d", o.metric, (long long)o.since_s,
          (long long)o.until_s, o.limit, o.fmt);

    a = ARGV("series", "9", "--metric", "mem", "--json", "--follow", "--since", "90");
    CHECK_INT(series_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(!strcmp(o.metric, "mem") && o.fmt == OUT_JSON && o.follow && o.since_s == 90,
          "series mem json follow: got metric %s fmt %d follow %d since %lld", o.metric, o.fmt, o.follow,
          (long long)o.since_s);

    usage_error(ARGV("osdctl", "series"), "series: missing PID", "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--metric", "disk"),
                "--metric must be cpu, mem, net, syscall, heap, func or all, got 'disk'", "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--metric", "hep"), "got 'hep'", "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--since", "10x"), "--since '10x' is not a duration",
                "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--since", "99999999999999999999"), "is too large",
                "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--until", "yesterday"), "--until 'yesterday'", "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--since", "10m", "--until", "1h"), "--until (3600 s ago) is before --since",
                "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--limit", "0"), "--limit must be a whole number", "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--limit", "-3"), "--limit must be", "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--csv", "--json"), "choose one of --csv and --json",
                "osdctl series --help");
    usage_error(ARGV("osdctl", "--json", "series", "9", "--csv"), "choose one of --csv and --json",
                "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "--follow", "--until", "1m"), "--follow cannot be combined with --until",
                "osdctl series --help");
    usage_error(ARGV("osdctl", "series", "9", "10"), "unexpected argument '10'", "osdctl series --help");
}

static void test_syscalls(void)
{
    struct syscalls_opts o;
    char why[256];
    char **a;

    a = ARGV("syscalls", "42");
    CHECK_INT(syscalls_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 42 && !o.sort && !o.limit && !o.json, "syscalls 42: expected defaults, got pid %d sort %s limit %lld",
          (int)o.pid, o.sort ? o.sort : "(null)", o.limit);
    a = ARGV("syscalls", "--sort", "time", "42", "--limit=5", "--json");
    CHECK_INT(syscalls_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 42 && o.sort && !strcmp(o.sort, "time") && o.limit == 5 && o.json,
          "syscalls with options: got pid %d sort %s limit %lld json %d", (int)o.pid, o.sort ? o.sort : "(null)",
          o.limit, o.json);
    usage_error(ARGV("osdctl", "syscalls"), "syscalls: missing PID", "osdctl syscalls --help");
    usage_error(ARGV("osdctl", "syscalls", "1", "--sort", "name"), "--sort must be count or time, got 'name'",
                "osdctl syscalls --help");
    usage_error(ARGV("osdctl", "syscalls", "1", "--limit", "0"), "--limit must be a whole number from 1",
                "osdctl syscalls --help");
    usage_error(ARGV("osdctl", "syscalls", "x"), "'x' is not a process id", "osdctl syscalls --help");
    usage_error(ARGV("osdctl", "syscalls", "1", "2"), "unexpected argument '2'", "osdctl syscalls --help");
}

static void test_threads(void)
{
    struct threads_opts o;
    char why[256];
    char **a;

    a = ARGV("threads", "42");
    CHECK_INT(threads_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 42 && !o.sort && !o.json, "threads 42: expected defaults, got pid %d sort %s json %d", (int)o.pid,
          o.sort ? o.sort : "(null)", o.json);
    a = ARGV("threads", "--sort", "heap", "42", "--json");
    CHECK_INT(threads_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 42 && o.sort && !strcmp(o.sort, "heap") && o.json, "threads with options: got pid %d sort %s json %d",
          (int)o.pid, o.sort ? o.sort : "(null)", o.json);
    a = ARGV("threads", "--sort=syscall", "7");
    CHECK_INT(threads_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 7 && o.sort && !strcmp(o.sort, "syscall"), "threads --sort=syscall 7: got sort %s",
          o.sort ? o.sort : "(null)");
    usage_error(ARGV("osdctl", "threads", "1", "--sort", "disk"), "--sort must be cpu, net, syscall or heap, got 'disk'",
                "osdctl threads --help");
    usage_error(ARGV("osdctl", "threads", "1", "--sort"), "--sort", "osdctl threads --help");
}

static void test_trace(void)
{
    struct trace_opts o;
    char why[256];
    char **a;

    a = ARGV("trace", "42", "--syscalls");
    CHECK_INT(trace_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 42 && o.syscalls && !o.json, "trace 42 --syscalls: got pid %d syscalls %d", (int)o.pid, o.syscalls);
    a = ARGV("trace", "--json", "--syscalls", "7");
    CHECK_INT(trace_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 7 && o.syscalls && o.json, "trace --json --syscalls 7");
    usage_error(ARGV("osdctl", "trace", "42"), "trace: say what to trace: --syscalls or --uprobe BINARY:FUNCTION", "osdctl trace --help");
    usage_error(ARGV("osdctl", "trace", "--syscalls"), "trace: missing PID", "osdctl trace --help");
    usage_error(ARGV("osdctl", "trace", "0", "--syscalls"), "'0' is not a process id", "osdctl trace --help");
    usage_error(ARGV("osdctl", "trace", "1", "--syscalls", "--uprobe"), "option '--uprobe' needs a value",
                "osdctl trace --help");
    a = ARGV("trace", "42", "--uprobe", "/bin/app:search", "--enter", "n=%d arg1", "--return", "r=%d retval",
             "--count", "10", "--duration", "2.5");
    CHECK_INT(trace_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.uprobe && !strcmp(o.uprobe, "/bin/app:search") && !o.syscalls && o.count == 10 && o.duration == 2.5 &&
              o.enter && !strcmp(o.enter, "n=%d arg1") && o.ret && !strcmp(o.ret, "r=%d retval"),
          "trace --uprobe with formats, count and duration: got uprobe %s count %lld duration %g", o.uprobe,
          o.count, o.duration);
    usage_error(ARGV("osdctl", "trace", "1", "--syscalls", "--uprobe", "/bin/app:f"),
                "choose one of --syscalls and --uprobe", "osdctl trace --help");
    usage_error(ARGV("osdctl", "trace", "1", "--uprobe", "search"), "--uprobe must be BINARY:FUNCTION",
                "osdctl trace --help");
    usage_error(ARGV("osdctl", "trace", "1", "--syscalls", "--enter", "x"), "--enter goes with --uprobe",
                "osdctl trace --help");
    usage_error(ARGV("osdctl", "trace", "1", "--uprobe", "/a:b", "--count", "0"), "--count must be",
                "osdctl trace --help");
}

static void test_export(void)
{
    struct export_opts o;
    char why[256];
    char **a;

    a = ARGV("export", "42", "--dir", "/tmp/x");
    CHECK_INT(export_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 42 && o.dir && !strcmp(o.dir, "/tmp/x") && o.since_s == -1 && !o.force && !o.json,
          "export 42 --dir /tmp/x: got pid %d dir %s since %lld force %d", (int)o.pid, o.dir ? o.dir : "(null)",
          (long long)o.since_s, o.force);
    a = ARGV("export", "--dir=out", "--since", "10m", "--force", "42", "--json");
    CHECK_INT(export_parse(argc_of(a), a, &o, why, sizeof(why)), 0);
    CHECK(o.pid == 42 && o.dir && !strcmp(o.dir, "out") && o.since_s == 600 && o.force && o.json,
          "export with options: got pid %d dir %s since %lld force %d json %d", (int)o.pid, o.dir ? o.dir : "(null)",
          (long long)o.since_s, o.force, o.json);
    usage_error(ARGV("osdctl", "export", "42"), "export: missing --dir DIR", "osdctl export --help");
    usage_error(ARGV("osdctl", "export", "--dir", "d"), "export: missing PID", "osdctl export --help");
    usage_error(ARGV("osdctl", "export", "42", "--dir="), "--dir needs a directory", "osdctl export --help");
    usage_error(ARGV("osdctl", "export", "42", "--dir", "d", "--since", "later"), "--since 'later' is not a duration",
                "osdctl export --help");
    usage_error(ARGV("osdctl", "export", "42", "--dir", "d", "--until", "1m"), "unknown option '--until'",
                "osdctl export --help");
}

static void test_unreachable(void)
{
    struct captured c;

    /* In-process; the binary is checked the same way in test_client_cli. */
    unsetenv(OSD_SOCKET_ENV);
    c = cli(ARGV("osdctl", "--socket", "/nonexistent/osdetd.sock", "list"));
    CHECK_INT(c.rc, OSD_EXIT_UNREACHABLE);
    CHECK(strstr(c.err, "/nonexistent/osdetd.sock") && strstr(c.err, "No such file or directory") &&
              strstr(c.err, "osdetd running"),
          "expected the path, the errno text and a hint, got \"%s\"", c.err);
    captured_free(&c);

    setenv(OSD_SOCKET_ENV, "/nonexistent/env.sock", 1);
    c = cli(ARGV("osdctl", "status"));
    CHECK_INT(c.rc, OSD_EXIT_UNREACHABLE);
    CHECK(strstr(c.err, "/nonexistent/env.sock"), "expected OSDETD_SOCKET to be used, got \"%s\"", c.err);
    captured_free(&c);

    c = cli(ARGV("osdctl", "--socket", "/nonexistent/opt.sock", "status"));
    CHECK(strstr(c.err, "/nonexistent/opt.sock"), "expected --socket to win over OSDETD_SOCKET, got \"%s\"", c.err);
    captured_free(&c);
    unsetenv(OSD_SOCKET_ENV);
}

int main(void)
{
    test_global();
    test_help_version();
    test_watch();
    test_pid_commands();
    test_plain_commands();
    test_series();
    test_anomalies();
    test_config();
    test_syscalls();
    test_threads();
    test_trace();
    test_export();
    test_unreachable();
    CHECK_DONE();
}
