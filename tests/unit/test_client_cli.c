/* test_client_cli.c - the osdctl binary (argv[1]) against a fake osdetd: every command's text
 * and JSON output, the request it sends, daemon errors (exit 1), an unreachable or silent
 * daemon (exit 3), watch --exec (the command is stopped while the watch is sent, its exit
 * status is passed on, it is killed when the watch fails), and series --follow (incremental
 * requests, no duplicates, stops when the target exits, SIGINT exits 0). End-to-end tests
 * with the real osdetd are in tests/integration. */
#include <errno.h>
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
};

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

static json_t *target_obj(pid_t pid, const char *state)
{
    return json_pack("{s:i, s:s, s:s, s:f, s:n, s:i, s:i, s:{s:b, s:b, s:b, s:b, s:i}, s:{s:f, s:f, s:I, s:I}}",
                     "pid", (int)pid, "comm", "nginx", "state", state, "watched_at", now_real() - 65, "exited_at",
                     "members", 3, "samples", 120, "options", "cpu", 1, "mem", 1, "children", 1, "threads", 0,
                     "interval_ms", 100, "last", "time", BASE, "cpu_pct", 12.5, "rss_bytes", (json_int_t)10485760,
                     "vm_bytes", (json_int_t)52428800);
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
        else
            json_array_append_new(pts, json_pack("[f, f, i, i]", t, 10.0 * k + 0.5, k, 2 * k));
    }
    while (limit > 0 && (json_int_t)json_array_size(pts) > limit)
        json_array_remove(pts, 0);
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
    } else if (!strcmp(method, "watch")) {
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
        if (sc.bad_series)
            rep = fake_result(json_pack("{s:[]}", "points"));
        else
            rep = fake_result(series_obj(params));
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
    expect(&r, 0, "watching 1234 (nginx): cpu mem, with children, every 100 ms", NULL);
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
    fake_stop(&fk);
    CHECK_DONE();
}
