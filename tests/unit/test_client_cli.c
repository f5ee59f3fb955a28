/* test_client_cli.c - the osdctl binary (argv[1]) against a fake osdetd: every command's text
 * and JSON output, the request it sends, daemon errors (exit 1), an unreachable or silent
 * daemon (exit 3), watch --exec (the command is stopped while the watch is sent, its exit
 * status is passed on, it is killed when the watch fails), series --follow (incremental
 * requests, no duplicates, stops when the target exits, SIGINT exits 0), watch's detection
 * params, anomalies and anomalies --follow (subscription before the history, notifications
 * interleaved with the reply, no timeout while waiting, SIGINT exits 0, hang-up exits 3),
 * config get/reload, and analyze (runs offline: no connection at all). End-to-end tests
 * with the real osdetd are in tests/integration. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "osd_proto.h"
#include "test_client_fake.h"


struct scen {
    int silent_status;     /* "status" gets no reply */
    int watch_error;       /* "watch" answers -32004 */
    int silent_watch;      /* "watch" gets no reply */
    int bad_series;        /* "series" answers without columns */
    int exit_after;        /* > 0: the target reports "exited" from this list call on */
    int exec_exit;         /* the target is exited once the watched pid is a zombie or gone */
    int mem_lag;           /* until exited, mem has one point fewer than cpu */
    int step;              /* list calls so far */
    pid_t watched;         /* pid of the last watch */
    char state_at_watch;   /* its /proc state when the watch arrived */
    int marker_at_watch;   /* the marker file existed when the watch arrived */
    char marker[160];
    int no_anomalies;      /* "anomalies" answers an empty list */
    int interleave;        /* "anomalies" is preceded by an "end" notification of anomaly 7 */
    int reload_error;      /* "config.reload" answers -32007 */
    int no_path;           /* "config.get" has no file */
    unsigned fams;         /* families of target 1234 and of watch replies (FAM_*); 0: cpu and mem */
    int trace_early;       /* "trace": an event is sent before the reply */
    int no_syscalls;       /* "syscalls" answers an empty list */
    int not_syscall;       /* "syscalls" and "trace" answer -32602 (not watched with syscall) */
};

enum { FAM_CPU = 1, FAM_MEM = 2, FAM_NET = 4, FAM_SYSCALL = 8, FAM_ALL = 15 };

static const char *osdctl;
static double BASE; /* time of the first fake point: a whole second just before the test */
static struct fake fk;
static struct scen sc;

static char proc_state(pid_t pid)
{
    char path[64], buf[512], *p;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

static double now_real(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Target 5678 has detection off (detect: null); the others the daemon's spot defaults. The
 * families of the others are sc.fams (cpu and mem when 0). */
static json_t *target_obj(pid_t pid, const char *state)
{
    static const char *const names[] = { "cpu", "mem", "net", "syscall" };
    unsigned fams = pid == 5678 || !sc.fams ? FAM_CPU | FAM_MEM : sc.fams;
    json_t *t;
    size_t i;

    json_t *det = pid == 5678 ? json_null()
                              : json_pack("{s:s, s:i, s:f, s:i, s:i}", "detector", "spot", "stride", 10, "q", 1e-4,
                                          "calib", 300, "window", 128);

    t = json_pack("{s:i, s:s, s:s, s:f, s:n, s:i, s:i, s:{s:b, s:b, s:b, s:b, s:i, s:o}, s:{s:f, s:f, s:I, s:I}}",
                  "pid", (int)pid, "comm", "nginx", "state", state, "watched_at", now_real() - 65, "exited_at",
                  "members", 3, "samples", 120, "options", "cpu", 1, "mem", 1, "children", 1, "threads", 0,
                  "interval_ms", 100, "detect", det, "last", "time", BASE, "cpu_pct", 12.5, "rss_bytes",
                  (json_int_t)10485760, "vm_bytes", (json_int_t)52428800);
    for (i = 0; t && i < 4; i++)
        json_object_set_new(json_object_get(t, "options"), names[i], json_boolean(fams & (1u << i)));
    return t;
}

static json_t *anomaly_obj(int id, const char *comm, const char *metrics, const char *det, double start, double end,
                           double peak, double thr, const char *state)
{
    return json_pack("{s:i, s:s, s:i, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:[{s:s, s:f}], s:s}", "id", id, "kind",
                     "anomaly", "pid", 1234, "comm", comm, "metrics", metrics, "detector", det, "start", start, "end",
                     end, "peak_score", peak, "threshold", thr, "top", "metric", metrics, "contribution", peak,
                     "state", state);
}

/* The history: 7 closed (3.7 s, cpu), 8 open (rss, "infinitely unlikely" peak). */
static json_t *history_7(void)
{
    return anomaly_obj(7, "nginx", "cpu_pct", "spot", BASE - 100, BASE - 96.3, 41.7, 9.3, "closed");
}

static json_t *history_8(void)
{
    return anomaly_obj(8, "nginx", "rss_bytes", "cs", BASE - 5, BASE - 4, 1.7976931348623157e308, 2.5, "open");
}

static json_t *notice(const char *event, json_t *anomaly)
{
    return fake_notification("anomaly", json_pack("{s:s, s:o}", "event", event, "anomaly", anomaly));
}

static json_t *config_obj(void)
{
    return json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:i, s:f}", "socket", "/run/osdetd/osdetd.sock", "state_dir",
                     "/var/lib/osdetd", "interval_ms", 1000, "max_targets", 1024, "log_level", "info", "detector",
                     "spot", "detect_stride", 10, "detect_q", 1e-4);
}

static int target_exited(void)
{
    char st;

    if (sc.exec_exit) {
        st = proc_state(sc.watched);
        return st == 0 || st == 'Z';
    }
    return sc.exit_after > 0 && sc.step >= sc.exit_after;
}

/* Points of a family: up to 2 per list call so far, all 6 once exited; since/limit applied. */
static json_t *series_obj(json_t *params)
{
    const char *metric = json_string_value(json_object_get(params, "metric"));
    double since = json_number_value(json_object_get(params, "since"));
    json_int_t limit = json_integer_value(json_object_get(params, "limit"));
    int mem = metric && !strcmp(metric, "mem"), exited = target_exited();
    int n = exited || sc.step * 2 > 6 ? 6 : sc.step * 2, k;
    json_t *pts = json_array();

    if (mem && sc.mem_lag && !exited && n > 0)
        n--;
    if (!sc.exit_after && !sc.exec_exit)
        n = 6;
    for (k = 0; k < n; k++) {
        double t = BASE + k * 0.1;

        /* As osdetd does (rpc_methods.c): since is floored to the millisecond, so the last
         * point a client printed comes back and the client must drop it. */
        if (llround(t * 1000) < (long long)floor(since * 1000))
            continue;
        if (mem)
            json_array_append_new(pts, json_pack("[f, I, I]", t, (json_int_t)(1048576 * (k + 1)), (json_int_t)2097152));
        else if (metric && !strcmp(metric, "net"))
            json_array_append_new(pts, json_pack("[f, I, I, i, i, I, I, i, i]", t, (json_int_t)(1048576 * (k + 1)),
                                                 (json_int_t)(512 * k), 16, k, (json_int_t)(1048576 * (k + 1)),
                                                 (json_int_t)(512 * k), 0, 0));
        else if (metric && !strcmp(metric, "syscall"))
            json_array_append_new(pts, json_pack("[f, f, f, i, i, i, i]", t, 1000.0 * k + 0.5, 10.0 * k, 362, 1448,
                                                 100 * k, k));
        else
            json_array_append_new(pts, json_pack("[f, f, i, i]", t, 10.0 * k + 0.5, k, 2 * k));
    }
    while (limit > 0 && (json_int_t)json_array_size(pts) > limit)
        json_array_remove(pts, 0);
    if (metric && !strcmp(metric, "net"))
        return json_pack("{s:i, s:s, s:i, s:[s, s, s, s, s, s, s, s, s], s:o}", "pid", 1234, "metric", "net",
                         "interval_ms", 100, "columns", "time", "tx_bytes", "rx_bytes", "tx_calls", "rx_calls",
                         "tcp_tx_bytes", "tcp_rx_bytes", "udp_tx_bytes", "udp_rx_bytes", "points", pts);
    if (metric && !strcmp(metric, "syscall"))
        return json_pack("{s:i, s:s, s:i, s:[s, s, s, s, s, s, s], s:o}", "pid", 1234, "metric", "syscall",
                         "interval_ms", 100, "columns", "time", "rate", "error_rate", "p50_ns", "p99_ns", "calls",
                         "errors", "points", pts);
    if (mem)
        return json_pack("{s:i, s:s, s:i, s:[s, s, s], s:o}", "pid", 1234, "metric", "mem", "interval_ms", 100,
                         "columns", "time", "rss_bytes", "vm_bytes", "points", pts);
    return json_pack("{s:i, s:s, s:i, s:[s, s, s, s], s:o}", "pid", 1234, "metric", "cpu", "interval_ms", 100,
                     "columns", "time", "cpu_pct", "ctx_voluntary", "ctx_involuntary", "points", pts);
}

static json_t *handler(struct fake *f, const char *method, json_t *params, void *arg)
{
    json_int_t pid = json_integer_value(json_object_get(params, "pid"));
    json_t *rep = NULL;

    (void)arg;
    pthread_mutex_lock(&f->lock);
    if (!strcmp(method, "list")) {
        sc.step++;
        rep = fake_result(json_pack("{s:[o, o]}", "targets",
                                    target_obj(sc.watched ? sc.watched : 1234, target_exited() ? "exited" : "running"),
                                    target_obj(5678, "exited")));
    } else if (!strcmp(method, "status")) {
        if (!sc.silent_status)
            rep = fake_result(json_pack("{s:s, s:i, s:f, s:s, s:i, s:i, s:i, s:i}", "version", "0.1.0", "pid", 4321,
                                        "uptime_s", 12.5, "socket", f->path, "targets", 2, "targets_running", 1,
                                        "targets_exited", 1, "clients", 1));
        if (rep && sc.fams) {
            json_t *res = json_object_get(rep, "result");

            json_object_set_new(res, "net", json_pack("{s:s, s:b, s:i, s:i}", "source",
                                                      "sock_send_length/sock_recv_length", "attached", 1, "targets", 1,
                                                      "map_full", 0));
            json_object_set_new(res, "syscall", json_pack("{s:b, s:i, s:i, s:i, s:i, s:i}", "attached", 1, "targets",
                                                          1, "tracing", 1, "entries", 12, "map_full", 0,
                                                          "trace_dropped", 17));
        }
    } else if (!strcmp(method, "watch")) {
        static const char *const names[] = { "cpu", "mem", "net", "syscall" };
        unsigned fams = 0;

        /* As the daemon: families named are on, the others off; none named: cpu and mem. */
        for (size_t i = 0; i < 4; i++)
            fams |= json_is_true(json_object_get(params, names[i])) ? 1u << i : 0;
        if (fams)
            sc.fams = fams;
        sc.watched = (pid_t)pid;
        sc.state_at_watch = proc_state((pid_t)pid);
        sc.marker_at_watch = sc.marker[0] && access(sc.marker, F_OK) == 0;
        if (sc.silent_watch)
            rep = NULL;
        else if (sc.watch_error)
            rep = fake_error(OSD_E_LIMIT, "too many targets (max_targets 1)");
        else
            rep = fake_result(json_pack("{s:o}", "target", target_obj((pid_t)pid, "running")));
    } else if (!strcmp(method, "unwatch")) {
        if (pid == 999)
            rep = fake_error(OSD_E_NOT_WATCHED, "pid 999 is not watched");
        else
            rep = fake_result(json_pack("{s:I, s:i}", "pid", pid, "samples", 120));
    } else if (!strcmp(method, "series")) {
        if (pid == 999)
            rep = fake_error(OSD_E_NOT_WATCHED, "pid 999 is not watched");
        else if (sc.bad_series)
            rep = fake_result(json_pack("{s:[]}", "points"));
        else
            rep = fake_result(series_obj(params));
    } else if (!strcmp(method, "anomalies")) {
        if (sc.interleave) {
            json_t *n = notice("end", history_7());

            fake_send(f, n);
            json_decref(n);
        }
        if (sc.no_anomalies)
            rep = fake_result(json_pack("{s:[]}", "anomalies"));
        else
            rep = fake_result(json_pack("{s:[o, o]}", "anomalies", history_7(), history_8()));
    } else if (!strcmp(method, "subscribe")) {
        rep = fake_result(json_pack("{s:b, s:I}", "subscribed", 1, "pid", pid));
    } else if (!strcmp(method, "config.get") || !strcmp(method, "config.reload")) {
        if (!strcmp(method, "config.reload") && sc.reload_error)
            rep = fake_error(OSD_E_CONFIG, "configuration refused, the current one stays: /etc/osdetd/osdetd.conf: "
                                           "key 'interval_ms' must be between 100 and 60000, got 5");
        else
            rep = fake_result(json_pack("{s:o, s:o}", "path",
                                        sc.no_path ? json_null() : json_string("/etc/osdetd/osdetd.conf"), "config",
                                        config_obj()));
    } else if (!strcmp(method, "syscalls")) {
        if (sc.not_syscall)
            rep = fake_error(OSD_E_INVALID_PARAMS, "target 1234 is not watched with syscall: true");
        else if (sc.no_syscalls)
            rep = fake_result(json_pack("{s:I, s:[]}", "pid", pid, "syscalls"));
        else
            rep = fake_result(json_pack("{s:I, s:[{s:i, s:s, s:i, s:i, s:I, s:f, s:i, s:i}, "
                                        "{s:i, s:s, s:i, s:i, s:I, s:f, s:i, s:i}, {s:i, s:n, s:i, s:i, s:I, s:f, "
                                        "s:i, s:i}]}",
                                        "pid", pid, "syscalls", "nr", 110, "name", "getppid", "count", 1000, "errors",
                                        0, "total_ns", (json_int_t)412345, "avg_ns", 412.3, "p50_ns", 362, "p99_ns",
                                        1448, "nr", 257, "name", "openat", "count", 20, "errors", 20, "total_ns",
                                        (json_int_t)25000000, "avg_ns", 1250000.0, "p50_ns", 1048576, "p99_ns",
                                        3145728, "nr", 999, "name", "count", 1, "errors", 0, "total_ns",
                                        (json_int_t)2000000000, "avg_ns", 2e9, "p50_ns", 1500000000, "p99_ns",
                                        1500000000));
    } else if (!strcmp(method, "trace")) {
        if (sc.not_syscall) {
            rep = fake_error(OSD_E_INVALID_PARAMS, "target 1234 is not watched with syscall: true");
        } else {
            if (sc.trace_early) {
                json_t *n = fake_notification("trace", json_pack("{s:I, s:i, s:f, s:s, s:i, s:s, s:[i, i, i, i, i, i]}",
                                                                 "pid", pid, "tid", 1235, "time", BASE + 0.000001,
                                                                 "event", "enter", "nr", 110, "name", "getppid", "args",
                                                                 0, 0, 0, 0, 0, 0));

                fake_send(f, n);
                json_decref(n);
            }
            rep = fake_result(json_pack("{s:b, s:I}", "tracing", 1, "pid", pid));
        }
    } else if (!strcmp(method, "threads")) {
        rep = fake_result(json_pack("{s:I, s:f, s:[{s:i, s:i, s:s, s:f, s:I, s:i, s:i}]}", "pid", pid, "time", BASE,
                                    "threads", "tid", 1235, "tgid", 1234, "comm", "worker", "cpu_pct", 50.1,
                                    "oncpu_ns", (json_int_t)123456789, "ctx_voluntary", 3, "ctx_involuntary", 9));
    } else {
        rep = fake_error(OSD_E_METHOD_NOT_FOUND, "unknown method");
    }
    pthread_mutex_unlock(&f->lock);
    return rep;
}

static pid_t sc_watched(void)
{
    pid_t p;

    pthread_mutex_lock(&fk.lock);
    p = sc.watched;
    pthread_mutex_unlock(&fk.lock);
    return p;
}

/* Resets the scenario and the request log between cases. */
static void scen_reset(void)
{
    pthread_mutex_lock(&fk.lock);
    memset(&sc, 0, sizeof(sc));
    fk.log[0] = '\0';
    fk.nreq = 0;
    pthread_mutex_unlock(&fk.lock);
}

#define OSDCTL(...) ((char *[]){ (char *)osdctl, "--socket", fk.path, __VA_ARGS__, NULL })

static void expect(struct run *r, int status, const char *out_has, const char *err_has)
{
    CHECK(r->status == status, "expected exit %d, got %d (stderr: %s)", status, r->status, r->err);
    if (out_has)
        CHECK(strstr(r->out, out_has), "expected stdout to contain \"%s\", got \"%s\"", out_has, r->out);
    if (err_has)
        CHECK(strstr(r->err, err_has), "expected stderr to contain \"%s\", got \"%s\"", err_has, r->err);
}

static int log_has(const char *want)
{
    char *log = fake_log(&fk);
    int has = strstr(log, want) != NULL;

    free(log);
    return has;
}

static void expect_log(const char *want)
{
    char *log = fake_log(&fk);

    CHECK(strstr(log, want), "expected the daemon to receive \"%s\", it got:\n%s", want, log);
    free(log);
}

static void test_simple_commands(void)
{
    struct run r;
    json_t *j;

    scen_reset();
    run_cmd(&r, OSDCTL("list"), NULL);
    expect(&r, 0, "PID", NULL);
    CHECK(strstr(r.out, "METRICS  DETECTOR") && strstr(r.out, "cpu,mem  spot") && strstr(r.out, "cpu,mem  off"),
          "list must show the detector (spot for 1234, off for 5678): \"%s\"", r.out);
    CHECK(strstr(r.out, "1234") && strstr(r.out, "nginx") && strstr(r.out, "running") && strstr(r.out, "12.5%") &&
              strstr(r.out, "10.0 MiB") && strstr(r.out, "cpu,mem") && strstr(r.out, "1m05s"),
          "list table lacks a field: \"%s\"", r.out);
    run_free(&r);

    run_cmd(&r, OSDCTL("--json", "list"), NULL);
    expect(&r, 0, NULL, NULL);
    j = json_loads(r.out, 0, NULL);
    CHECK(json_array_size(json_object_get(j, "targets")) == 2, "--json list: expected 2 targets, got \"%s\"", r.out);
    json_decref(j);
    run_free(&r);

    /* The socket from the environment, and --json given after the command. */
    run_cmd(&r, ((char *[]){ (char *)osdctl, "status", NULL }), fk.path);
    expect(&r, 0, "osdetd 0.1.0, pid 4321, up 12s", NULL);
    CHECK(strstr(r.out, fk.path) && strstr(r.out, "targets:   2 (1 running, 1 exited)"), "status text: \"%s\"", r.out);
    CHECK(!strstr(r.out, "series 0 B of") && !strstr(r.out, "detection:"), "absent parts must be left out: \"%s\"",
          r.out);
    run_free(&r);
    run_cmd(&r, ((char *[]){ (char *)osdctl, "status", "--json", NULL }), fk.path);
    j = json_loads(r.out, 0, NULL);
    CHECK(j && json_integer_value(json_object_get(j, "pid")) == 4321, "status --json: got \"%s\"", r.out);
    json_decref(j);
    run_free(&r);

    scen_reset();
    run_cmd(&r, OSDCTL("watch", "1234", "--cpu", "--threads", "--no-children", "--interval", "250"), NULL);
    /* The families the daemon says are in force: only cpu was named. */
    expect(&r, 0, "watching 1234 (nginx): cpu, with children, every 100 ms, detector spot (stride 10, q 0.0001, "
                  "calib 300, window 128)\n", NULL);
    expect_log("watch {\"children\":false,\"cpu\":true,\"interval_ms\":250,\"pid\":1234,\"threads\":true}");
    run_free(&r);
    run_cmd(&r, OSDCTL("watch", "77"), NULL);
    expect_log("watch {\"pid\":77}\n"); /* defaults are the daemon's */
    run_free(&r);

    run_cmd(&r, OSDCTL("unwatch", "1234"), NULL);
    expect(&r, 0, "unwatched 1234 (120 samples discarded)", NULL);
    run_free(&r);

    run_cmd(&r, OSDCTL("threads", "1234"), NULL);
    expect(&r, 0, "TID", NULL);
    CHECK(strstr(r.out, "1235") && strstr(r.out, "worker") && strstr(r.out, "50.1%") && strstr(r.out, "123.5 ms"),
          "threads table: \"%s\"", r.out);
    run_free(&r);
}

static void test_errors(void)
{
    struct run r;
    json_t *j;
    struct timespec a, b;
    double secs;

    scen_reset();
    run_cmd(&r, OSDCTL("unwatch", "999"), NULL);
    expect(&r, OSD_EXIT_DAEMON_ERROR, NULL, "osdctl: pid 999 is not watched (code -32002)");
    CHECK(r.out_len == 0, "a daemon error prints nothing on stdout without --json, got \"%s\"", r.out);
    run_free(&r);

    run_cmd(&r, OSDCTL("--json", "unwatch", "999"), NULL);
    expect(&r, OSD_EXIT_DAEMON_ERROR, NULL, "(code -32002)");
    j = json_loads(r.out, 0, NULL);
    CHECK(j && json_integer_value(json_object_get(j, "code")) == -32002 &&
              !strcmp(json_string_value(json_object_get(j, "message")), "pid 999 is not watched"),
          "--json: expected the error object on stdout, got \"%s\"", r.out);
    json_decref(j);
    run_free(&r);

    sc.bad_series = 1;
    run_cmd(&r, OSDCTL("series", "1234"), NULL);
    expect(&r, OSD_EXIT_DAEMON_ERROR, NULL, "bad reply from osdetd");
    run_free(&r);

    /* No socket: exit 3 naming the path and the errno text, from the binary itself. */
    run_cmd(&r, ((char *[]){ (char *)osdctl, "--socket", "/nonexistent/osdetd.sock", "list", NULL }), NULL);
    expect(&r, OSD_EXIT_UNREACHABLE, NULL, "/nonexistent/osdetd.sock: No such file or directory");
    CHECK(strstr(r.err, "osdetd running"), "expected a hint that osdetd must run, got \"%s\"", r.err);
    run_free(&r);

    /* A daemon that never answers: exit 3 after --timeout, not later. */
    scen_reset();
    sc.silent_status = 1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    run_cmd(&r, OSDCTL("--timeout", "0.3", "status"), NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    expect(&r, OSD_EXIT_UNREACHABLE, NULL, "no reply from osdetd");
    CHECK(secs < 3, "expected to give up after 0.3 s, took %.1f s", secs);
    run_free(&r);
}

static int count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_series(void)
{
    struct run r;
    char *log, *p, want[512];
    double since;

    scen_reset();
    run_cmd(&r, OSDCTL("series", "1234", "--csv", "--since", "10m", "--limit", "3"), NULL);
    snprintf(want, sizeof(want), "time,cpu_pct,ctx_voluntary,ctx_involuntary\n%.0f.300,30.5,3,6\n%.0f.400,40.5,4,8\n"
             "%.0f.500,50.5,5,10\n", BASE, BASE, BASE);
    expect(&r, 0, want, NULL);
    CHECK_INT(count_lines(r.out), 4);
    log = fake_log(&fk);
    p = strstr(log, "\"since\":");
    since = p ? strtod(p + 8, NULL) : 0;
    CHECK(fabs(since - (now_real() - 600)) < 10, "expected since = now - 600 s, got %f (%s)", since, log);
    CHECK(strstr(log, "\"limit\":3") && strstr(log, "\"metric\":\"cpu\""), "series request: %s", log);
    free(log);
    run_free(&r);

    /* --metric all: the families the target collects, joined on time. */
    scen_reset();
    run_cmd(&r, OSDCTL("series", "1234", "--metric", "all", "--csv", "--limit", "2"), NULL);
    snprintf(want, sizeof(want), "time,cpu_pct,ctx_voluntary,ctx_involuntary,rss_bytes,vm_bytes\n"
             "%.0f.400,40.5,4,8,5242880,2097152\n%.0f.500,50.5,5,10,6291456,2097152\n", BASE, BASE);
    expect(&r, 0, want, NULL);
    expect_log("\"metric\":\"mem\"");
    run_free(&r);

    run_cmd(&r, OSDCTL("--json", "series", "1234", "--metric", "mem"), NULL);
    expect(&r, 0, "\"columns\":[\"time\",\"rss_bytes\",\"vm_bytes\"]", NULL);
    CHECK_INT(count_lines(r.out), 1);
    run_free(&r);

    run_cmd(&r, OSDCTL("series", "1234", "--metric", "mem", "--until", "0s"), NULL);
    expect(&r, 0, "RSS", NULL);
    CHECK(strstr(r.out, "6.0 MiB") && strstr(r.out, "2.0 MiB"), "human mem series: \"%s\"", r.out);
    expect_log("\"until\":");
    run_free(&r);
}

/* Data rows of CSV output: count them and check the times only go up. */
static int csv_rows_increasing(const char *out, int *empty_fields)
{
    const char *p = strchr(out, '\n');
    double prev = -1;
    int n = 0;

    *empty_fields = 0;
    while (p && p[1]) {
        double t = strtod(p + 1, NULL);
        const char *e = strchr(p + 1, '\n');

        CHECK(t > prev, "row %d: time %.3f does not follow %.3f", n, t, prev);
        for (const char *q = p + 1; e && q < e; q++)
            *empty_fields += q[0] == ',' && (q[1] == ',' || q[1] == '\n');
        prev = t;
        n++;
        p = e;
    }
    return n;
}

static void test_follow(void)
{
    struct run r;
    char *log, *p, want[64];
    int rows, empty, nseries = 0;

    /* Points arrive two per poll; the target exits at the 4th list call. */
    scen_reset();
    sc.exit_after = 4;
    run_cmd(&r, OSDCTL("series", "1234", "--follow", "--csv"), NULL);
    expect(&r, 0, "time,cpu_pct", NULL);
    rows = csv_rows_increasing(r.out, &empty);
    CHECK(rows == 6, "expected 6 rows, each once, got %d:\n%s", rows, r.out);
    log = fake_log(&fk);
    for (p = log; (p = strstr(p, "series {")); p++)
        nseries++;
    CHECK(nseries == 4, "expected one series request per poll (4), got %d:\n%s", nseries, log);
    snprintf(want, sizeof(want), "\"since\":%.0f.10", BASE);
    CHECK(strstr(log, want), "later polls must ask only for newer points (%s...):\n%s", want, log);
    free(log);
    run_free(&r);

    /* All families, mem one point behind cpu until the end: rows wait until both are there. */
    scen_reset();
    sc.exit_after = 4;
    sc.mem_lag = 1;
    run_cmd(&r, OSDCTL("series", "1234", "--follow", "--csv", "--metric", "all"), NULL);
    expect(&r, 0, "rss_bytes", NULL);
    rows = csv_rows_increasing(r.out, &empty);
    CHECK(rows == 6 && empty == 0, "expected 6 complete rows, got %d rows with %d empty fields:\n%s", rows, empty, r.out);
    run_free(&r);

    /* JSON: one object per batch with new points, one per line. */
    scen_reset();
    sc.exit_after = 3;
    run_cmd(&r, OSDCTL("series", "1234", "--follow", "--json"), NULL);
    expect(&r, 0, "{\"pid\":1234", NULL);
    CHECK(count_lines(r.out) >= 2, "expected several JSON lines, got \"%s\"", r.out);
    run_free(&r);

    /* A target that never exits: SIGINT ends the follow with status 0. */
    scen_reset();
    run_start(&r, OSDCTL("series", "1234", "--follow"), NULL);
    CHECK(run_wait_output(&r, "TIME", 5000), "no header before SIGINT: \"%s\"", r.out);
    usleep(250000);
    kill(r.pid, SIGINT);
    run_finish(&r, 5000);
    expect(&r, 0, "CPU", NULL);
    run_free(&r);
}

static void test_exec(void)
{
    char dir[] = "/tmp/osdctl-exec-XXXXXX", script[400];
    struct run r;
    pid_t child;
    int i;

    CHECK(mkdtemp(dir) != NULL, "mkdtemp failed");

    /* CMD is stopped when the watch arrives, has not run, and its status is passed on. */
    scen_reset();
    snprintf(sc.marker, sizeof(sc.marker), "%s/ran", dir);
    snprintf(script, sizeof(script), "echo ran > %s; exit 7", sc.marker);
    run_cmd(&r, OSDCTL("watch", "--cpu", "--exec", "--", "sh", "-c", script), NULL);
    expect(&r, 7, "watching", NULL);
    CHECK(sc.state_at_watch == 'T', "expected CMD stopped ('T') during watch, /proc said '%c'", sc.state_at_watch);
    CHECK(!sc.marker_at_watch, "CMD ran before it was watched");
    CHECK(access(sc.marker, F_OK) == 0, "CMD did not run after the watch");
    CHECK(sc.watched > 0 && sc.watched != r.pid, "expected the child's pid to be watched, got %d", (int)sc.watched);
    expect_log("\"cpu\":true");
    unlink(sc.marker);
    run_free(&r);

    /* Killed by a signal: 128 + N. */
    scen_reset();
    run_cmd(&r, OSDCTL("watch", "--exec", "--", "sh", "-c", "kill -TERM $$"), NULL);
    expect(&r, 128 + SIGTERM, NULL, NULL);
    run_free(&r);

    /* CMD that cannot be executed: watched first, then 127 with a message. */
    scen_reset();
    run_cmd(&r, OSDCTL("watch", "--exec", "--", "/nonexistent/cmd"), NULL);
    expect(&r, 127, NULL, "cannot run '/nonexistent/cmd'");
    run_free(&r);

    /* The watch fails: the stopped child is killed and reaped, CMD never runs, exit 1. */
    scen_reset();
    sc.watch_error = 1;
    snprintf(sc.marker, sizeof(sc.marker), "%s/ran", dir);
    snprintf(script, sizeof(script), "echo ran > %s", sc.marker);
    run_cmd(&r, OSDCTL("watch", "--exec", "--", "sh", "-c", script), NULL);
    expect(&r, OSD_EXIT_DAEMON_ERROR, NULL, "too many targets (max_targets 1) (code -32004)");
    child = sc.watched;
    for (i = 0; i < 100 && child > 0 && kill(child, 0) == 0; i++)
        usleep(10000);
    CHECK(child > 0 && kill(child, 0) < 0 && errno == ESRCH, "the stopped child %d must be gone", (int)child);
    CHECK(access(sc.marker, F_OK) < 0, "CMD must not run when the watch failed");
    run_free(&r);

    /* SIGTERM while the watch is pending: the stopped child is killed, not orphaned. */
    scen_reset();
    sc.silent_watch = 1;
    snprintf(sc.marker, sizeof(sc.marker), "%s/ran", dir); /* the one the script writes */
    run_start(&r, OSDCTL("--timeout", "20", "watch", "--exec", "--", "sh", "-c", script), NULL);
    for (i = 0; i < 500 && !sc_watched(); i++)
        usleep(10000);
    child = sc_watched();
    CHECK(child > 0, "the watch request never arrived");
    kill(r.pid, SIGTERM);
    run_finish(&r, 5000);
    expect(&r, 128 + SIGTERM, NULL, NULL);
    for (i = 0; i < 100 && child > 0 && kill(child, 0) == 0; i++)
        usleep(10000);
    CHECK(child > 0 && kill(child, 0) < 0 && errno == ESRCH, "the stopped child %d must be gone after SIGTERM",
          (int)child);
    CHECK(access(sc.marker, F_OK) < 0, "CMD must not run when osdctl was stopped during the watch");
    run_free(&r);

    /* --json: the target object. */
    scen_reset();
    run_cmd(&r, OSDCTL("--json", "watch", "--exec", "--", "true"), NULL);
    expect(&r, 0, "\"comm\": \"nginx\"", NULL);
    run_free(&r);

    /* --follow: samples while CMD runs, then CMD's status. */
    scen_reset();
    sc.exec_exit = 1;
    run_cmd(&r, OSDCTL("watch", "--exec", "--follow", "--", "sh", "-c", "sleep 0.4; exit 3"), NULL);
    expect(&r, 3, "watching", NULL);
    CHECK(strstr(r.out, "TIME") && strstr(r.out, "CPU") && strstr(r.out, "RSS"), "expected a cpu+mem table: \"%s\"",
          r.out);
    CHECK(count_lines(r.out) >= 3, "expected samples after the summary and header: \"%s\"", r.out);
    run_free(&r);

    /* Unreachable daemon: nothing is started. */
    run_cmd(&r, ((char *[]){ (char *)osdctl, "--socket", "/nonexistent/s", "watch", "--exec", "--", "sh", "-c",
                             script, NULL }),
            NULL);
    expect(&r, OSD_EXIT_UNREACHABLE, NULL, "cannot connect");
    CHECK(access(sc.marker, F_OK) < 0, "CMD must not run when osdetd is unreachable");
    run_free(&r);
    rmdir(dir);
}

static int count_of(const char *s, const char *what)
{
    int n = 0;

    for (; (s = strstr(s, what)); s += strlen(what))
        n++;
    return n;
}

/* "HH:MM:SS" of t in UTC (the test runs with TZ=UTC). */
static void fmt_hms(char *buf, size_t n, double t)
{
    time_t s = (time_t)floor(t);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(buf, n, "%H:%M:%S", &tm);
}

static void utc(char *buf, size_t n, double t)
{
    time_t s = (time_t)floor(t);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static int fake_conns(void)
{
    int n;

    pthread_mutex_lock(&fk.lock);
    n = fk.nconn;
    pthread_mutex_unlock(&fk.lock);
    return n;
}

static void test_watch_detect(void)
{
    struct run r;

    scen_reset();
    run_cmd(&r, OSDCTL("watch", "1234", "--detector", "cs", "--stride", "8", "--q", "1e-3", "--calib", "64", "--window",
                       "32"),
            NULL);
    expect(&r, 0, "detector spot (stride 10", NULL); /* what the daemon says is in force */
    expect_log("watch {\"calib\":64,\"detector\":\"cs\",\"pid\":1234,\"q\":0.001,\"stride\":8,\"window\":32}\n");
    run_free(&r);
    run_cmd(&r, OSDCTL("watch", "77", "--no-detect"), NULL);
    expect_log("watch {\"detector\":\"none\",\"pid\":77}\n");
    run_free(&r);
    run_cmd(&r, OSDCTL("watch", "77", "--detector", "mad"), NULL);
    expect_log("watch {\"detector\":\"mad\",\"pid\":77}\n");
    run_free(&r);
    /* Detection off in the reply: said so. */
    run_cmd(&r, OSDCTL("watch", "5678"), NULL);
    expect(&r, 0, "every 100 ms, detection off\n", NULL);
    run_free(&r);
}

static void test_anomalies(void)
{
    char t7[32], t8[32], want[256], *log, *p;
    struct run r;
    json_t *j;
    double since, until;

    utc(t7, sizeof(t7), BASE - 100);
    utc(t8, sizeof(t8), BASE - 5);
    scen_reset();
    run_cmd(&r, OSDCTL("anomalies", "--since", "1h", "--until", "10m", "--pid", "1234", "--metric", "cpu", "--limit",
                       "5"),
            NULL);
    expect(&r, 0, "START                DURATION          PID  COMM", NULL);
    snprintf(want, sizeof(want), "%s  3.7s             1234  nginx            cpu_pct           41.7         9.3  spot"
             "      7\n", t7);
    expect(&r, 0, want, NULL);
    snprintf(want, sizeof(want), "%s  ongoing          1234  nginx            rss_bytes          inf         2.5  cs"
             "        8\n", t8);
    expect(&r, 0, want, NULL);
    CHECK_INT(count_lines(r.out), 3);
    log = fake_log(&fk);
    CHECK(strstr(log, "\"limit\":5") && strstr(log, "\"metric\":\"cpu\"") && strstr(log, "\"pid\":1234") &&
              !strstr(log, "subscribe"),
          "anomalies request: %s", log);
    p = strstr(log, "\"since\":");
    since = p ? strtod(p + 8, NULL) : 0;
    p = strstr(log, "\"until\":");
    until = p ? strtod(p + 8, NULL) : 0;
    CHECK(fabs(since - (now_real() - 3600)) < 10 && fabs(until - (now_real() - 600)) < 10,
          "expected since = now - 3600 and until = now - 600, got %f %f (%s)", since, until, log);
    free(log);
    run_free(&r);

    run_cmd(&r, OSDCTL("--json", "anomalies"), NULL);
    expect(&r, 0, NULL, NULL);
    j = json_loads(r.out, 0, NULL);
    CHECK(json_array_size(json_object_get(j, "anomalies")) == 2, "--json anomalies: expected 2, got \"%s\"", r.out);
    json_decref(j);
    expect_log("anomalies {}\n");
    run_free(&r);

    scen_reset();
    sc.no_anomalies = 1;
    run_cmd(&r, OSDCTL("anomalies"), NULL);
    expect(&r, 0, "no anomalies found\n", NULL);
    run_free(&r);
}

static void test_anomalies_follow(void)
{
    struct run r;
    json_t *n;
    char *line, *save = NULL;
    int lines = 0;

    /* Text; the "end" of 7 comes before the history's reply (already in it: not printed);
     * the wait for notifications outlasts --timeout; filtered and unknown ones are skipped. */
    scen_reset();
    sc.interleave = 1;
    run_start(&r, OSDCTL("--timeout", "0.3", "anomalies", "--follow", "--pid", "1234", "--metric", "cpu"), NULL);
    CHECK(run_wait_output(&r, "cs        8\n", 5000), "no history before the notifications: \"%s\" (stderr \"%s\")",
          r.out, r.err);
    expect_log("subscribe {\"pid\":1234}\nanomalies {\"metric\":\"cpu\",\"pid\":1234}\n");
    usleep(700000);
    n = notice("begin", anomaly_obj(9, "worker", "cpu_pct", "spot", BASE + 1, BASE + 1, 12, 9.3, "open"));
    fake_push(&fk, n);
    json_decref(n);
    n = notice("begin", anomaly_obj(10, "redis", "rss_bytes", "spot", BASE + 1, BASE + 1, 12, 9.3, "open"));
    fake_push(&fk, n);
    json_decref(n);
    n = fake_notification("alert", json_pack("{s:s}", "kind", "double_free"));
    fake_push(&fk, n);
    json_decref(n);
    n = notice("update", anomaly_obj(11, "updater", "cpu_pct", "spot", BASE + 1, BASE + 1, 12, 9.3, "open"));
    fake_push(&fk, n);
    json_decref(n);
    n = notice("end", anomaly_obj(9, "worker", "cpu_pct", "spot", BASE + 1, BASE + 3.5, 30, 9.3, "closed"));
    fake_push(&fk, n);
    json_decref(n);
    CHECK(run_wait_output(&r, "ended 2.5s", 5000), "no 'ended' line: \"%s\" (stderr \"%s\")", r.out, r.err);
    kill(r.pid, SIGINT);
    run_finish(&r, 5000);
    expect(&r, 0, NULL, NULL);
    CHECK(count_of(r.out, "ongoing") == 2 && count_of(r.out, "worker") == 2,
          "expected 8 (history) and 9 (live) ongoing, and 9 ended: \"%s\"", r.out);
    CHECK(strstr(r.out, "ongoing          1234  worker") < strstr(r.out, "ended 2.5s       1234  worker"),
          "begin must come before end: \"%s\"", r.out);
    CHECK(!strstr(r.out, "ended 3.7s"), "a notification read before the history's reply must not be printed: \"%s\"",
          r.out);
    CHECK(!strstr(r.out, "redis") && !strstr(r.out, "updater") && !strstr(r.out, "double_free"),
          "other metrics, events and methods must be skipped: \"%s\"", r.out);
    CHECK(r.err_len == 0, "expected nothing on stderr, got \"%s\"", r.err);
    run_free(&r);

    /* JSON: one object per line (records, then the notification's params); the daemon hangs
     * up: exit 3 with a message. */
    scen_reset();
    run_start(&r, OSDCTL("--json", "anomalies", "--follow"), NULL);
    CHECK(run_wait_output(&r, "\"id\":8", 5000), "no JSON history: \"%s\"", r.out);
    expect_log("subscribe -\nanomalies {}\n");
    n = notice("begin", anomaly_obj(9, "worker", "cpu_pct", "spot", BASE + 1, BASE + 1, 12, 9.3, "open"));
    fake_push(&fk, n);
    json_decref(n);
    CHECK(run_wait_output(&r, "\"id\":9", 5000), "no JSON notification: \"%s\"", r.out);
    fake_hangup(&fk);
    run_finish(&r, 5000);
    expect(&r, OSD_EXIT_UNREACHABLE, NULL, "closed the connection");
    for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        json_int_t id = json_integer_value(json_object_get(j, "id"));

        lines++;
        if (lines <= 2)
            CHECK(id == 6 + lines, "line %d: expected anomaly record %d, got \"%s\"", lines, 6 + lines, line);
        if (lines == 2)
            CHECK(json_real_value(json_object_get(j, "peak_score")) == DBL_MAX,
                  "the largest double must survive the JSON output: \"%s\"", line);
        if (lines > 2)
            CHECK(json_is_string(json_object_get(j, "event")) &&
                      !strcmp(json_string_value(json_object_get(j, "event")), "begin") &&
                      json_integer_value(json_object_get(json_object_get(j, "anomaly"), "id")) == 9,
                  "line %d: expected the begin of 9, got \"%s\"", lines, line);
        json_decref(j);
    }
    CHECK_INT(lines, 3);
    run_free(&r);
}

static void test_config(void)
{
    struct run r;
    json_t *j;

    scen_reset();
    run_cmd(&r, OSDCTL("config"), NULL);
    expect(&r, 0, "# file: /etc/osdetd/osdetd.conf\nsocket = /run/osdetd/osdetd.sock\nstate_dir = /var/lib/osdetd\n"
                  "interval_ms = 1000\nmax_targets = 1024\nlog_level = info\ndetector = spot\ndetect_stride = 10\n"
                  "detect_q = 0.0001\n",
           NULL);
    expect_log("config.get -\n");
    run_free(&r);
    run_cmd(&r, OSDCTL("config", "get", "--json"), NULL);
    j = json_loads(r.out, 0, NULL);
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "path")), "/etc/osdetd/osdetd.conf") &&
              json_integer_value(json_object_get(json_object_get(j, "config"), "interval_ms")) == 1000,
          "config --json: got \"%s\"", r.out);
    json_decref(j);
    run_free(&r);

    scen_reset();
    run_cmd(&r, OSDCTL("config", "reload"), NULL);
    expect(&r, 0, "# reloaded from /etc/osdetd/osdetd.conf\nsocket = ", NULL);
    expect_log("config.reload -\n");
    run_free(&r);

    sc.reload_error = 1;
    run_cmd(&r, OSDCTL("config", "reload"), NULL);
    expect(&r, OSD_EXIT_DAEMON_ERROR, NULL,
           "osdctl: configuration refused, the current one stays: /etc/osdetd/osdetd.conf: key 'interval_ms' must be "
           "between 100 and 60000, got 5 (code -32007)\n");
    CHECK(r.out_len == 0, "a refused reload prints nothing on stdout, got \"%s\"", r.out);
    run_free(&r);

    scen_reset();
    sc.no_path = 1;
    run_cmd(&r, OSDCTL("config"), NULL);
    expect(&r, 0, "# file: none (defaults and command-line options)\nsocket = ", NULL);
    run_free(&r);
}

static void test_analyze(void)
{
    char dir[] = "/tmp/osdctl-analyze-XXXXXX", csv[128], out[128];
    struct run r, h1, h2;
    FILE *f;
    json_t *j;
    int i, conns;

    CHECK(mkdtemp(dir) != NULL, "mkdtemp failed");
    snprintf(csv, sizeof(csv), "%s/in.csv", dir);
    snprintf(out, sizeof(out), "%s/out.csv", dir);
    f = fopen(csv, "w");
    fputs("timestamp,cpu_pct,rss_bytes\n", f);
    for (i = 0; i < 300; i++)
        fprintf(f, "%d,%.3f,%d\n", 1764072000 + i, i == 250 ? 95.0 : 5 + (i * 7 % 11) / 10.0, 1000000 + i % 3);
    fclose(f);

    scen_reset();
    conns = fake_conns();
    run_cmd(&r, OSDCTL("analyze", csv, "--detector", "mad"), NULL);
    expect(&r, 0, NULL, NULL);
    CHECK(!strncmp(r.out, "timestamp,score,threshold,anomaly\n1764072000,", 41), "analyze CSV: got \"%.80s\"", r.out);
    CHECK_INT(count_lines(r.out), 301);
    run_free(&r);

    /* The global --json is the analyzer's --json. */
    run_cmd(&r, OSDCTL("--json", "analyze", csv, "--detector", "mad", "--window", "20"), NULL);
    expect(&r, 0, "{\"detector\":\"mad\"", NULL);
    j = json_loads(r.out, 0, NULL);
    CHECK(json_array_size(json_object_get(j, "rows")) == 300, "analyze --json: expected 300 rows, got \"%.200s\"",
          r.out);
    json_decref(j);
    run_free(&r);

    run_cmd(&r, OSDCTL("analyze", csv, "-o", out), NULL);
    expect(&r, 0, NULL, NULL);
    CHECK(r.out_len == 0 && access(out, F_OK) == 0, "analyze -o: expected %s and nothing on stdout", out);
    run_free(&r);

    /* No daemon needed at all. */
    run_cmd(&r, ((char *[]){ (char *)osdctl, "--socket", "/nonexistent/s", "analyze", csv, NULL }), NULL);
    expect(&r, 0, "timestamp,score,threshold,anomaly\n", NULL);
    run_free(&r);

    run_cmd(&r, OSDCTL("analyze"), NULL);
    expect(&r, OSD_EXIT_USAGE, NULL, "missing FILE.csv");
    run_free(&r);

    run_cmd(&r, OSDCTL("analyze", "--help"), NULL);
    run_cmd(&h1, OSDCTL("help", "analyze"), NULL);
    run_cmd(&h2, OSDCTL("--help", "analyze"), NULL);
    expect(&r, 0, "Usage: osdctl analyze FILE.csv", NULL);
    CHECK(h1.status == 0 && h2.status == 0 && !strcmp(r.out, h1.out) && !strcmp(r.out, h2.out),
          "'analyze --help', 'help analyze' and '--help analyze' must show the same text (%d %d)", h1.status, h2.status);
    run_free(&r);
    run_free(&h1);
    run_free(&h2);
    CHECK(fake_conns() == conns, "analyze must not connect to osdetd: %d connection(s)", fake_conns() - conns);
    CHECK(fk.nreq == 0, "analyze must send nothing, the daemon got %d requests", fk.nreq);

    run_cmd(&r, OSDCTL("help"), NULL);
    CHECK(strstr(r.out, "  analyze FILE.csv ") && strstr(r.out, "  anomalies ") && strstr(r.out, "  config reload "),
          "the overall help must list the new commands: \"%s\"", r.out);
    run_free(&r);
    unlink(out);
    unlink(csv);
    rmdir(dir);
}

/* watch --net/--syscall, the families in list, series and status. */
static void test_families(void)
{
    struct run r;
    char *log, *p;
    int n = 0;

    scen_reset();
    run_cmd(&r, OSDCTL("watch", "1234", "--net", "--syscall"), NULL);
    expect(&r, 0, "watching 1234 (nginx): net syscall, with children, every 100 ms", NULL);
    expect_log("watch {\"net\":true,\"pid\":1234,\"syscall\":true}\n");
    run_free(&r);
    run_cmd(&r, OSDCTL("list"), NULL);
    expect(&r, 0, "net,syscall  spot", NULL);
    run_free(&r);

    scen_reset();
    sc.fams = FAM_ALL;
    run_cmd(&r, OSDCTL("list"), NULL);
    expect(&r, 0, "cpu,mem,net,syscall  spot", NULL);
    run_free(&r);
    run_cmd(&r, OSDCTL("series", "1234", "--metric", "all", "--csv", "--limit", "1"), NULL);
    expect(&r, 0, "time,cpu_pct,ctx_voluntary,ctx_involuntary,rss_bytes,vm_bytes,tx_bytes,rx_bytes,tx_calls,rx_calls,"
                  "tcp_tx_bytes,tcp_rx_bytes,udp_tx_bytes,udp_rx_bytes,rate,error_rate,p50_ns,p99_ns,calls,errors\n",
           NULL);
    expect(&r, 0, ".500,50.5,5,10,6291456,2097152,6291456,2560,16,5,6291456,2560,0,0,5000.5,50,362,1448,500,5\n", NULL);
    log = fake_log(&fk);
    for (p = log; (p = strstr(p, "series {")); p++)
        n++;
    CHECK(n == 4 && strstr(log, "\"metric\":\"net\"") && strstr(log, "\"metric\":\"syscall\""),
          "--metric all must ask for the 4 families the target collects:\n%s", log);
    free(log);
    run_free(&r);

    run_cmd(&r, OSDCTL("series", "1234", "--metric", "net", "--csv", "--limit", "1"), NULL);
    expect(&r, 0, "time,tx_bytes,rx_bytes,tx_calls,rx_calls,tcp_tx_bytes,tcp_rx_bytes,udp_tx_bytes,udp_rx_bytes\n", NULL);
    expect_log("\"metric\":\"net\"");
    run_free(&r);
    run_cmd(&r, OSDCTL("series", "1234", "--metric", "net"), NULL);
    expect(&r, 0, "TX", NULL);
    CHECK(strstr(r.out, "6.0 MiB") && strstr(r.out, "2.5 KiB") && strstr(r.out, "TCP-TX"), "human net series: \"%s\"",
          r.out);
    run_free(&r);
    run_cmd(&r, OSDCTL("series", "1234", "--metric", "syscall"), NULL);
    expect(&r, 0, "CALLS/S", NULL);
    CHECK(strstr(r.out, "5000.5/s") && strstr(r.out, "362 ns") && strstr(r.out, "1.4 \u00b5s") &&
              strstr(r.out, "ERRORS/S"),
          "human syscall series: \"%s\"", r.out);
    run_free(&r);

    run_cmd(&r, OSDCTL("status"), NULL);
    expect(&r, 0, "\nnet:       attached (sock_send_length/sock_recv_length), 1 targets, map full 0\n"
                  "syscall:   attached, 1 targets, 1 tracing, 12 entries, map full 0, trace dropped 17\n", NULL);
    run_free(&r);
    scen_reset();
    run_cmd(&r, OSDCTL("status"), NULL);
    CHECK(r.status == 0 && !strstr(r.out, "net:") && !strstr(r.out, "syscall:"),
          "status without net/syscall blocks must not show them: \"%s\"", r.out);
    run_free(&r);
}

/* Lines of s all as wide on screen (UTF-8 characters) as the first; returns the count. */
static int same_width_lines(const char *s)
{
    int w0 = -1, n = 0;

    while (*s) {
        size_t len = strcspn(s, "\n");
        int w = 0;

        for (size_t i = 0; i < len; i++)
            w += ((unsigned char)s[i] & 0xc0) != 0x80;
        if (w0 < 0)
            w0 = w;
        CHECK(w == w0, "line %d is %d columns wide, the first %d: \"%.*s\"", n, w, w0, (int)len, s);
        n++;
        s += len + (s[len] == '\n');
    }
    return n;
}

static void test_syscalls_cmd(void)
{
    struct run r;
    json_t *j;

    scen_reset();
    run_cmd(&r, OSDCTL("syscalls", "1234", "--sort", "time", "--limit", "3"), NULL);
    expect_log("syscalls {\"limit\":3,\"pid\":1234,\"sort\":\"time\"}\n");
    expect(&r, 0, "NAME         COUNT  ERRORS     TOTAL     AVG     P50     P99\n"
                  "getppid       1000       0  412.3 \u00b5s  412 ns  362 ns  1.4 \u00b5s\n", NULL);
    CHECK(strstr(r.out, "\nopenat          20      20   25.0 ms  1.") && strstr(r.out, " ms  1.0 ms  3.1 ms\n") &&
              strstr(r.out, "\nsyscall_999      1       0    2.00 s  2.00 s  1.50 s  1.50 s\n"),
          "syscalls table: \"%s\"", r.out);
    CHECK_INT(same_width_lines(r.out), 4);
    run_free(&r);

    run_cmd(&r, OSDCTL("syscalls", "1234", "--json"), NULL);
    expect_log("syscalls {\"pid\":1234}\n");
    j = json_loads(r.out, 0, NULL);
    CHECK(json_array_size(json_object_get(j, "syscalls")) == 3, "syscalls --json: got \"%s\"", r.out);
    json_decref(j);
    run_free(&r);

    sc.no_syscalls = 1;
    run_cmd(&r, OSDCTL("syscalls", "1234"), NULL);
    expect(&r, 0, "no syscalls recorded for 1234 yet\n", NULL);
    run_free(&r);
    sc.not_syscall = 1;
    run_cmd(&r, OSDCTL("syscalls", "1234"), NULL);
    expect(&r, OSD_EXIT_DAEMON_ERROR, NULL, "not watched with syscall: true (code -32602)");
    run_free(&r);
}

static json_t *trace_ev(const char *event, int tid, double t, int nr, const char *name, json_t *args_or_ret)
{
    json_t *p = json_pack("{s:i, s:i, s:i, s:f, s:s, s:i, s:s}", "pid", 1234, "tgid", 1234, "tid", tid, "time", t,
                          "event", event, "nr", nr, "name", name);

    json_object_set_new(p, !strcmp(event, "enter") ? "args" : "ret", args_or_ret);
    return fake_notification("trace", p);
}

static void push(json_t *n)
{
    fake_push(&fk, n);
    json_decref(n);
}

static void test_trace_cmd(void)
{
    char want[512], hms[16], *line, *save = NULL;
    struct run r;
    int lines = 0;

    /* Text: the event sent before the reply is printed too; waiting for events outlasts
     * --timeout; a drop total is a warning once per increase; other methods are skipped. */
    scen_reset();
    sc.trace_early = 1;
    run_start(&r, OSDCTL("--timeout", "0.3", "trace", "1234", "--syscalls"), NULL);
    CHECK(run_wait_output(&r, "getppid(0, 0, 0, 0, 0, 0)\n", 5000), "the early event was not printed: \"%s\" (%s)",
          r.out, r.err);
    expect_log("trace {\"pid\":1234,\"syscalls\":true}\n");
    usleep(700000);
    push(trace_ev("exit", 1235, BASE + 0.000002, 110, "getppid", json_integer(4321)));
    push(trace_ev("enter", 1236, BASE + 0.25, 257, "openat",
                  json_pack("[i, I, i, i, i, i]", -100, (json_int_t)140737488346112LL, 0, 0, 0, 0)));
    push(fake_notification("trace.dropped", json_pack("{s:i, s:i}", "pid", 1234, "dropped", 17)));
    push(fake_notification("trace.dropped", json_pack("{s:i, s:i}", "pid", 1234, "dropped", 17)));
    push(fake_notification("anomaly", json_pack("{s:s}", "event", "begin")));
    push(trace_ev("exit", 1236, BASE + 0.250011, 257, "openat", json_integer(-2)));
    CHECK(run_wait_output(&r, "openat = -2 ENOENT\n", 5000), "no openat exit: \"%s\" (stderr \"%s\")", r.out, r.err);
    kill(r.pid, SIGINT);
    run_finish(&r, 5000);
    expect(&r, 0, NULL, "osdetd dropped 17 syscall events");
    fmt_hms(hms, sizeof(hms), BASE);
    snprintf(want, sizeof(want),
             "%s.000001 1235 getppid(0, 0, 0, 0, 0, 0)\n%s.000002 1235 getppid = 4321\n%s.250000 1236 "
             "openat(-100, 0x7fffffffdc00, 0, 0, 0, 0)\n%s.250011 1236 openat = -2 ENOENT\n",
             hms, hms, hms, hms);
    CHECK(!strcmp(r.out, want), "expected exactly:\n%s\ngot:\n%s", want, r.out);
    CHECK_INT(count_of(r.err, "dropped"), 1);
    CHECK(!strstr(r.out, "anomaly") && !strstr(r.out, "begin"), "other notifications must be skipped: \"%s\"", r.out);
    run_free(&r);

    /* JSON: each notification's params on a line (drops too); a hang-up exits 3. */
    scen_reset();
    run_start(&r, OSDCTL("--json", "trace", "1234", "--syscalls"), NULL);
    for (int i = 0; i < 500 && !log_has("trace {"); i++)
        usleep(10000);
    push(trace_ev("enter", 1235, BASE + 1, 39, "getpid", json_pack("[i, i, i, i, i, i]", 0, 0, 0, 0, 0, 0)));
    push(fake_notification("trace.dropped", json_pack("{s:i, s:i}", "pid", 1234, "dropped", 3)));
    push(trace_ev("exit", 1235, BASE + 1.5, 39, "getpid", json_integer(1234)));
    CHECK(run_wait_output(&r, "\"ret\":1234", 5000), "no JSON exit event: \"%s\" (%s)", r.out, r.err);
    fake_hangup(&fk);
    run_finish(&r, 5000);
    expect(&r, OSD_EXIT_UNREACHABLE, NULL, "closed the connection");
    for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);

        lines++;
        CHECK(json_is_object(j) && json_integer_value(json_object_get(j, "pid")) == 1234,
              "line %d is not a params object: \"%s\"", lines, line);
        if (lines == 2)
            CHECK(json_integer_value(json_object_get(j, "dropped")) == 3, "line 2: expected the drop count: %s", line);
        json_decref(j);
    }
    CHECK_INT(lines, 3);
    run_free(&r);

    /* A target not watched with syscall: the daemon's error, exit 1. */
    scen_reset();
    sc.not_syscall = 1;
    run_cmd(&r, OSDCTL("trace", "1234", "--syscalls"), NULL);
    expect(&r, OSD_EXIT_DAEMON_ERROR, NULL, "not watched with syscall: true (code -32602)");
    run_free(&r);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n;

    if (!f)
        return NULL;
    buf = calloc(1, 65536);
    n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_export_cmd(void)
{
    static const char *const fams[] = { "cpu", "mem", "net", "syscall" };
    char top[] = "/tmp/osdctl-export-XXXXXX", dir[128], path[192], want[256], *txt;
    struct run r;
    json_t *j;
    FILE *f;
    size_t i;

    CHECK(mkdtemp(top) != NULL, "mkdtemp failed");
    snprintf(dir, sizeof(dir), "%s/a/b", top); /* created with its parent */

    scen_reset();
    sc.fams = FAM_ALL;
    run_cmd(&r, OSDCTL("export", "1234", "--dir", dir), NULL);
    expect(&r, 0, NULL, NULL);
    for (i = 0; i < 4; i++) {
        snprintf(want, sizeof(want), "wrote %s/%s.csv: 6 rows of %s\n", dir, fams[i], fams[i]);
        CHECK(strstr(r.out, want), "expected \"%s\" in \"%s\"", want, r.out);
    }
    snprintf(path, sizeof(path), "%s/cpu.csv", dir);
    txt = slurp(path);
    snprintf(want, sizeof(want), "timestamp,cpu_pct,ctx_voluntary,ctx_involuntary\n%.0f.000,0.5,0,0\n%.0f.100,10.5,1,2\n",
             BASE, BASE);
    CHECK(txt && !strncmp(txt, want, strlen(want)) && count_lines(txt) == 7, "cpu.csv: expected \"%s...\" (7 lines), "
          "got \"%s\"", want, txt ? txt : "(none)");
    free(txt);
    snprintf(path, sizeof(path), "%s/net.csv", dir);
    txt = slurp(path);
    CHECK(txt && !strncmp(txt, "timestamp,tx_bytes,rx_bytes,tx_calls,rx_calls,tcp_tx_bytes,tcp_rx_bytes,udp_tx_bytes,"
                               "udp_rx_bytes\n", 93),
          "net.csv header: \"%s\"", txt ? txt : "(none)");
    free(txt);
    snprintf(path, sizeof(path), "%s/syscall.csv", dir);
    txt = slurp(path);
    CHECK(txt && strstr(txt, "timestamp,rate,error_rate,p50_ns,p99_ns,calls,errors\n") &&
              strstr(txt, ".500,5000.5,50,362,1448,500,5\n"),
          "syscall.csv: \"%s\"", txt ? txt : "(none)");
    free(txt);
    run_free(&r);

    /* The exported file is input for analyze, offline. */
    snprintf(path, sizeof(path), "%s/mem.csv", dir);
    run_cmd(&r, OSDCTL("analyze", path, "--detector", "mad"), NULL);
    expect(&r, 0, "timestamp,score,threshold,anomaly\n", NULL);
    CHECK_INT(count_lines(r.out), 7);
    run_free(&r);

    /* Existing files: nothing is written without --force, the message names the file. */
    f = fopen(path, "w");
    fputs("marker\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/cpu.csv", dir);
    unlink(path);
    run_cmd(&r, OSDCTL("export", "1234", "--dir", dir, "--since", "10m"), NULL);
    snprintf(want, sizeof(want), "%s/mem.csv exists; not overwritten (use --force)", dir);
    expect(&r, OSD_EXIT_DAEMON_ERROR, NULL, want);
    CHECK(access(path, F_OK) < 0, "cpu.csv must not be written when another file exists");
    expect_log("\"since\":");
    run_free(&r);
    snprintf(path, sizeof(path), "%s/mem.csv", dir);
    txt = slurp(path);
    CHECK(txt && !strcmp(txt, "marker\n"), "mem.csv must be left alone: \"%s\"", txt ? txt : "(none)");
    free(txt);

    run_cmd(&r, OSDCTL("--json", "export", "1234", "--dir", dir, "--force"), NULL);
    expect(&r, 0, NULL, NULL);
    j = json_loads(r.out, 0, NULL);
    CHECK(j && json_array_size(json_object_get(j, "files")) == 4 &&
              json_integer_value(json_object_get(json_array_get(json_object_get(j, "files"), 1), "rows")) == 6,
          "export --json: \"%s\"", r.out);
    json_decref(j);
    txt = slurp(path);
    CHECK(txt && !strncmp(txt, "timestamp,rss_bytes,vm_bytes\n", 29), "--force must replace mem.csv: \"%s\"",
          txt ? txt : "(none)");
    free(txt);
    run_free(&r);
    for (i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s.csv", dir, fams[i]);
        CHECK(unlink(path) == 0, "%s must exist after export --force", path);
    }
    CHECK(rmdir(dir) == 0, "export must leave no temporary file in %s", dir);

    /* Not a target: the daemon's error, nothing created. */
    snprintf(dir, sizeof(dir), "%s/c", top);
    run_cmd(&r, OSDCTL("export", "999", "--dir", dir), NULL);
    expect(&r, OSD_EXIT_DAEMON_ERROR, NULL, "pid 999 is not watched (code -32002)");
    CHECK(access(dir, F_OK) < 0, "no directory for a failed export");
    run_free(&r);
    snprintf(dir, sizeof(dir), "%s/a", top);
    rmdir(dir);
    rmdir(top);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-osdctl\n", argv[0]);
        return 2;
    }
    osdctl = argv[1];
    BASE = floor(now_real()) - 1;
    setenv("TZ", "UTC", 1);
    CHECK_INT(fake_start(&fk, handler, NULL), 0);
    test_simple_commands();
    test_errors();
    test_series();
    test_follow();
    test_exec();
    test_watch_detect();
    test_anomalies();
    test_anomalies_follow();
    test_config();
    test_analyze();
    test_families();
    test_syscalls_cmd();
    test_trace_cmd();
    test_export_cmd();
    fake_stop(&fk);
    CHECK_DONE();
}
