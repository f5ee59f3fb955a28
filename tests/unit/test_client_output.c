/* test_client_output.c - printing a series reply as CSV, JSON and text; value formats;
 * tables; the join of cpu + mem series used by "series --metric all"; anomaly lines. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "output.h"
#include "series.h"

static const char cpu_reply[] =
    "{\"pid\":1234,\"metric\":\"cpu\",\"interval_ms\":1000,"
    "\"columns\":[\"time\",\"cpu_pct\",\"ctx_voluntary\",\"ctx_involuntary\"],"
    "\"points\":[[1764072001.0,99.8,0,12],[1764072002.5,12.25,3,4]]}";

static json_t *load(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, 0, &e);

    CHECK(v != NULL, "test JSON does not parse: %s", e.text);
    return v;
}

/* Runs print(f, arg) into a string. */
static char *capture(void (*print)(FILE *, const json_t *, enum out_fmt), const json_t *v, enum out_fmt fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    print(f, v, fmt);
    fclose(f);
    return buf;
}

static void test_series_output(void)
{
    json_t *r = load(cpu_reply), *back;
    char *s;

    s = capture(output_series, r, OUT_CSV);
    CHECK_STR(s, "time,cpu_pct,ctx_voluntary,ctx_involuntary\n"
                 "1764072001.000,99.8,0,12\n"
                 "1764072002.500,12.25,3,4\n");
    free(s);

    s = capture(output_series, r, OUT_JSON);
    CHECK_STR(s, "{\"pid\":1234,\"metric\":\"cpu\",\"interval_ms\":1000,"
                 "\"columns\":[\"time\",\"cpu_pct\",\"ctx_voluntary\",\"ctx_involuntary\"],"
                 "\"points\":[[1764072001.0,99.8,0,12],[1764072002.5,12.25,3,4]]}\n");
    back = json_loads(s, 0, NULL);
    CHECK(back && json_equal(back, r), "JSON output must read back as the reply it printed");
    json_decref(back);
    free(s);

    s = capture(output_series, r, OUT_HUMAN);
    CHECK_STR(s, "TIME                 CPU   CTXSW-VOL  CTXSW-INVOL\n"
                 "12:00:01.000       99.8%           0           12\n"
                 "12:00:02.500       12.2%           3            4\n");
    free(s);
    json_decref(r);

    /* Memory: bytes humanised in text, raw in CSV; a null value is "-" and an empty field. */
    r = load("{\"columns\":[\"time\",\"rss_bytes\",\"vm_bytes\"],"
             "\"points\":[[1000.0,10485760,52428800],[1000.25,1536,null]]}");
    s = capture(output_series, r, OUT_HUMAN);
    CHECK_STR(s, "TIME                 RSS          VM\n"
                 "00:16:40.000    10.0 MiB    50.0 MiB\n"
                 "00:16:40.250     1.5 KiB           -\n");
    free(s);
    s = capture(output_series, r, OUT_CSV);
    CHECK_STR(s, "time,rss_bytes,vm_bytes\n1000.000,10485760,52428800\n1000.250,1536,\n");
    free(s);
    json_decref(r);

    /* No points: CSV still has its header. */
    r = load("{\"columns\":[\"time\",\"cpu_pct\"],\"points\":[]}");
    s = capture(output_series, r, OUT_CSV);
    CHECK_STR(s, "time,cpu_pct\n");
    free(s);
    json_decref(r);
}

static void test_formats(void)
{
    static const struct {
        double v;
        const char *want;
    } bytes[] = {
        { 0, "0 B" },           { 1023, "1023 B" },        { 1024, "1.0 KiB" },     { 1536, "1.5 KiB" },
        { 1048575, "1.0 MiB" }, { 10485760, "10.0 MiB" },  { 5e12, "4.5 TiB" },     { 1023.0 * 1024, "1023.0 KiB" },
    };
    static const struct {
        double v;
        const char *want;
    } spans[] = {
        { 0, "0s" }, { 45, "45s" }, { 725, "12m05s" }, { 11220, "3h07m" }, { 187200, "2d04h" }, { -5, "0s" },
    };
    char buf[64];
    const char *got = buf; /* CHECK_STR tests its argument for NULL */
    size_t i;

    for (i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        fmt_bytes(buf, sizeof(buf), bytes[i].v);
        CHECK(!strcmp(buf, bytes[i].want), "fmt_bytes(%.0f): expected \"%s\", got \"%s\"", bytes[i].v, bytes[i].want, buf);
    }
    for (i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
        fmt_span(buf, sizeof(buf), spans[i].v);
        CHECK(!strcmp(buf, spans[i].want), "fmt_span(%g): expected \"%s\", got \"%s\"", spans[i].v, spans[i].want, buf);
    }
    fmt_clock(buf, sizeof(buf), 1764072001.9996); /* rounds up into the next second */
    CHECK_STR(got, "12:00:02.000");
    fmt_clock(buf, sizeof(buf), 1764072001.123);
    CHECK_STR(got, "12:00:01.123");
    fmt_clock(buf, sizeof(buf), NAN);
    CHECK_STR(got, "?");
}

static void test_new_formats(void)
{
    static const struct {
        double v;
        const char *want;
    } nanos[] = {
        { 0, "0 ns" },          { 362, "362 ns" },      { 999.4, "999 ns" },     { 999.6, "1.0 \u00b5s" },
        { 1448, "1.4 \u00b5s" }, { 999949, "999.9 \u00b5s" }, { 999951, "1.0 ms" }, { 2.5e6, "2.5 ms" },
        { 1.2e9, "1.20 s" },    { -3, "0 ns" },
    }, rates[] = {
        { 0, "0.0/s" }, { 12.5, "12.5/s" }, { 99999.4, "99999.4/s" }, { 123456, "123.5k/s" }, { 1.5e8, "150.0M/s" },
    };
    char buf[64];
    const char *got = buf;
    size_t i;

    for (i = 0; i < sizeof(nanos) / sizeof(nanos[0]); i++) {
        fmt_nanos(buf, sizeof(buf), nanos[i].v);
        CHECK(!strcmp(buf, nanos[i].want), "fmt_nanos(%g): expected \"%s\", got \"%s\"", nanos[i].v, nanos[i].want, buf);
    }
    for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        fmt_rate(buf, sizeof(buf), rates[i].v);
        CHECK(!strcmp(buf, rates[i].want), "fmt_rate(%g): expected \"%s\", got \"%s\"", rates[i].v, rates[i].want, buf);
    }
    fmt_clock_us(buf, sizeof(buf), 1764072001.1234565);
    CHECK_STR(got, "12:00:01.123457");
    fmt_clock_us(buf, sizeof(buf), 1764072001.9999996); /* rounds up into the next second */
    CHECK_STR(got, "12:00:02.000000");
    fmt_clock_us(buf, sizeof(buf), NAN);
    CHECK_STR(got, "?");
    CHECK_INT(text_width("1.4 \u00b5s"), 6);
    CHECK_INT(text_width(""), 0);
}

/* Series of the net and syscall families as text: bytes humanised, rates with units,
 * latencies with theirs, columns aligned even with a two-byte "µ". */
static void test_family_output(void)
{
    json_t *r = load("{\"columns\":[\"time\",\"tx_bytes\",\"rx_bytes\",\"tx_calls\",\"tcp_tx_bytes\","
                     "\"udp_rx_bytes\",\"rate\",\"error_rate\",\"p50_ns\",\"p99_ns\",\"calls\",\"errors\"],"
                     "\"points\":[[1764072001.0,1048576,512,16,1048576,0,1234.5,2.0,362,1448,1235,2],"
                     "[1764072002.0,0,0,0,0,0,0,0,null,null,0,0]]}");
    char *s = capture(output_series, r, OUT_HUMAN), *save = NULL, *line;
    int w0 = -1, lines = 0;

    CHECK(s && strstr(s, "TX") && strstr(s, "RX") && strstr(s, "TX-CALLS") && strstr(s, "TCP-TX") &&
              strstr(s, "UDP-RX") && strstr(s, "CALLS/S") && strstr(s, "ERRORS/S") && strstr(s, "P50") &&
              strstr(s, "P99") && strstr(s, "  CALLS") && strstr(s, "  ERRORS\n"),
          "net/syscall titles: \"%s\"", s ? s : "(null)");
    CHECK(s && strstr(s, "1.0 MiB") && strstr(s, "512 B") && strstr(s, "1234.5/s") && strstr(s, "2.0/s") &&
              strstr(s, "362 ns") && strstr(s, "1.4 \u00b5s") && strstr(s, "1235"),
          "net/syscall values: \"%s\"", s ? s : "(null)");
    /* Every line has the same width on screen. */
    for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
        if (w0 < 0)
            w0 = text_width(line);
        CHECK(text_width(line) == w0, "line %d is %d columns wide, the header %d: \"%s\"", lines, text_width(line), w0,
              line);
    }
    CHECK_INT(lines, 3);
    free(s);
    s = capture(output_series, r, OUT_CSV);
    CHECK(s && strstr(s, "\n1764072002.000,0,0,0,0,0,0,0,,,0,0\n"), "CSV keeps raw values, nulls empty: \"%s\"", s ? s : "(null)");
    free(s);
    json_decref(r);
}

static char *trace_line(const char *json)
{
    json_t *ev = load(json);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    output_trace(f, ev);
    fclose(f);
    json_decref(ev);
    return buf;
}

static void test_trace_output(void)
{
    char *s;

    s = trace_line("{\"pid\":1234,\"tgid\":1234,\"tid\":1235,\"time\":1764072001.123456,\"event\":\"enter\",\"nr\":0,"
                   "\"name\":\"read\",\"args\":[3,140737488346112,4096,0,-100,-4097]}");
    CHECK_STR(s, "12:00:01.123456 1235 read(3, 0x7fffffffdc00, 4096, 0, -100, 0xffffffffffffefff)\n");
    free(s);
    s = trace_line("{\"pid\":1234,\"tid\":1235,\"time\":1764072001.12347,\"event\":\"exit\",\"nr\":0,\"name\":\"read\","
                   "\"ret\":4096}");
    CHECK_STR(s, "12:00:01.123470 1235 read = 4096\n");
    free(s);
    s = trace_line("{\"pid\":1,\"tid\":7,\"time\":1764072001.5,\"event\":\"exit\",\"nr\":257,\"name\":\"openat\","
                   "\"ret\":-2}");
    CHECK_STR(s, "12:00:01.500000 7 openat = -2 ENOENT\n");
    free(s);
    s = trace_line("{\"tid\":7,\"time\":1764072001.5,\"event\":\"exit\",\"nr\":9,\"name\":\"mmap\","
                   "\"ret\":140737351876608}");
    CHECK_STR(s, "12:00:01.500000 7 mmap = 0x7ffff7dd8000\n");
    free(s);
    s = trace_line("{\"tid\":7,\"time\":1764072001.5,\"event\":\"exit\",\"nr\":1,\"name\":\"write\","
                   "\"ret\":1048576}");
    CHECK_STR(s, "12:00:01.500000 7 write = 1048576\n");
    free(s);
    /* No name (a syscall newer than the daemon's headers), no args. */
    s = trace_line("{\"tid\":7,\"time\":1764072001.5,\"event\":\"enter\",\"nr\":999,\"name\":null,\"args\":[]}");
    CHECK_STR(s, "12:00:01.500000 7 syscall_999()\n");
    free(s);
    s = trace_line("{\"tid\":7,\"time\":1764072001.5,\"event\":\"exit\",\"nr\":999,\"ret\":-4095}");
    CHECK(s && !strncmp(s, "12:00:01.500000 7 syscall_999 = -4095 ", 38), "an unknown errno still gets a name: \"%s\"",
          s ? s : "(null)");
    free(s);
}

/* output_json() keeps reals short, except where 15 digits would not read back. */
static void test_json_reals(void)
{
    json_t *v = json_pack("{s:f, s:[f]}", "cpu", 12.3, "a", DBL_MAX), *small = json_pack("{s:f}", "cpu", 12.3), *back;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    CHECK_INT(output_json(f, small, 1), 0);
    fclose(f);
    json_decref(small);
    CHECK_STR(buf, "{\"cpu\":12.3}\n");
    free(buf);
    f = open_memstream(&buf, &len);
    CHECK_INT(output_json(f, v, 1), 0);
    fclose(f);
    back = json_loads(buf, 0, NULL);
    CHECK(back && json_real_value(json_array_get(json_object_get(back, "a"), 0)) == DBL_MAX,
          "the largest double must read back from \"%s\"", buf);
    json_decref(back);
    free(buf);
    json_decref(v);
}

static void test_anomaly_formats(void)
{
    char buf[64];
    const char *got = buf;

    fmt_datetime(buf, sizeof(buf), 1764072001.9996); /* seconds are truncated, not rounded */
    CHECK_STR(got, "2025-11-25 12:00:01");
    fmt_datetime(buf, sizeof(buf), NAN);
    CHECK_STR(got, "?");
    fmt_duration(buf, sizeof(buf), 3.7);
    CHECK_STR(got, "3.7s");
    fmt_duration(buf, sizeof(buf), 0);
    CHECK_STR(got, "0.0s");
    fmt_duration(buf, sizeof(buf), 59.94);
    CHECK_STR(got, "59.9s");
    fmt_duration(buf, sizeof(buf), 59.96); /* would print "60.0s": a minute is spelled as one */
    CHECK_STR(got, "1m00s");
    fmt_duration(buf, sizeof(buf), 725);
    CHECK_STR(got, "12m05s");
    fmt_duration(buf, sizeof(buf), NAN);
    CHECK_STR(got, "?");
    fmt_score(buf, sizeof(buf), 41.7);
    CHECK_STR(got, "41.7");
    fmt_score(buf, sizeof(buf), 123456.0);
    CHECK_STR(got, "1.235e+05");
    fmt_score(buf, sizeof(buf), 1.7976931348623157e308); /* the daemon's "infinitely unlikely" */
    CHECK_STR(got, "inf");
    fmt_score(buf, sizeof(buf), NAN);
    CHECK_STR(got, "?");
}

static char *anomaly_line(const char *json, int ended)
{
    json_t *a = load(json);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    output_anomaly(f, a, ended);
    fclose(f);
    json_decref(a);
    return buf;
}

static void test_anomaly_output(void)
{
    static const char closed[] = "{\"id\":7,\"kind\":\"anomaly\",\"pid\":1234,\"comm\":\"nginx\",\"metrics\":\"cpu_pct\","
                                 "\"detector\":\"spot\",\"start\":1764072001.2,\"end\":1764072004.9,"
                                 "\"peak_score\":41.7,\"threshold\":9.3,\"top\":[],\"state\":\"closed\"}";
    static const char open_[] = "{\"id\":8,\"pid\":99,\"comm\":\"redis-server\",\"metrics\":\"rss_bytes\","
                                "\"detector\":\"cs\",\"start\":1764072100.0,\"end\":1764072101.5,"
                                "\"peak_score\":1.7976931348623157e308,\"threshold\":2.5,\"state\":\"open\"}";
    char *buf = NULL, *line;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    output_anomaly_header(f);
    fclose(f);
    CHECK_STR(buf, "START                DURATION          PID  COMM             METRICS          SCORE   THRESHOLD"
                   "  DETECTOR  ID\n");
    line = anomaly_line(closed, 0);
    CHECK_STR(line, "2025-11-25 12:00:01  3.7s             1234  nginx            cpu_pct           41.7         9.3"
                    "  spot      7\n");
    /* The header's columns and the line's start at the same offsets. */
    CHECK(strstr(buf, "SCORE") - buf + 5 == strstr(line, "41.7") - line + 4, "SCORE and the score must end in one "
          "column:\n%s%s", buf, line);
    free(line);
    line = anomaly_line(open_, 0);
    CHECK_STR(line, "2025-11-25 12:01:40  ongoing            99  redis-server     rss_bytes          inf         2.5"
                    "  cs        8\n");
    free(line);
    /* An "end" event: the duration, marked as ended, even if the record still said open. */
    line = anomaly_line(open_, 1);
    CHECK(strstr(line, "  ended 1.5s         99  redis-server"), "end event line: \"%s\"", line);
    free(line);
    /* Missing members do not crash and show as "?". */
    line = anomaly_line("{\"state\":\"closed\"}", 0);
    CHECK_STR(line, "?                    ?                   ?  ?                ?                    ?           ?"
                    "  ?         ?\n");
    free(line);
    free(buf);
}

static void test_table(void)
{
    static const char *const head[] = { "PID", "COMM", "CPU" };
    static const char *const r1[] = { "1", "nginx-worker", "5.0%" };
    static const char *const r2[] = { "12345", "sh", NULL };
    struct table t;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    CHECK_INT(table_init(&t, 3, head, "rlr"), 0);
    CHECK_INT(table_add(&t, r1), 0);
    CHECK_INT(table_add(&t, r2), 0);
    f = open_memstream(&buf, &len);
    table_print(&t, f);
    fclose(f);
    CHECK_STR(buf, "  PID  COMM           CPU\n"
                   "    1  nginx-worker  5.0%\n"
                   "12345  sh               -\n");
    free(buf);
    table_free(&t);
    CHECK_INT(table_init(&t, 3, head, "rl"), -EINVAL);
    table_free(&t);
}

static void test_merge(void)
{
    json_t *cpu = load("{\"pid\":7,\"metric\":\"cpu\",\"interval_ms\":500,"
                       "\"columns\":[\"time\",\"cpu_pct\",\"ctx_voluntary\",\"ctx_involuntary\"],"
                       "\"points\":[[1000.0,50.0,1,2],[1001.0,60.5,3,4],[1002.0,70.0,5,6]]}");
    json_t *mem = load("{\"pid\":7,\"metric\":\"mem\",\"interval_ms\":500,"
                       "\"columns\":[\"time\",\"rss_bytes\",\"vm_bytes\"],"
                       "\"points\":[[1001.0004,100,200],[1002.0006,110,210],[1003.0,120,220]]}");
    json_t *parts[2] = { cpu, mem }, *m, *want, *s;
    char *txt, why[128];

    CHECK_INT(series_check(cpu, why, sizeof(why)), 0);
    CHECK_INT(series_check(mem, why, sizeof(why)), 0);
    m = series_merge(parts, 2);
    CHECK(m != NULL, "merge failed");
    if (!m)
        return;
    /* 1001.0004 is 1001.000 to the millisecond: one row; 1002.0006 is 1002.001: its own row. */
    want = load("{\"pid\":7,\"metric\":\"all\",\"interval_ms\":500,"
                "\"columns\":[\"time\",\"cpu_pct\",\"ctx_voluntary\",\"ctx_involuntary\",\"rss_bytes\",\"vm_bytes\"],"
                "\"points\":[[1000.0,50.0,1,2,null,null],[1001.0,60.5,3,4,100,200],[1002.0,70.0,5,6,null,null],"
                "[1002.0006,null,null,null,110,210],[1003.0,null,null,null,120,220]]}");
    txt = json_dumps(m, JSON_COMPACT);
    CHECK(json_equal(m, want), "merged series differs: got %s", txt);
    free(txt);
    CHECK_INT(series_check(m, why, sizeof(why)), 0);
    CHECK(series_last_time(m) == 1003.0, "expected last time 1003, got %f", series_last_time(m));

    txt = capture(output_series, m, OUT_CSV);
    CHECK_STR(txt, "time,cpu_pct,ctx_voluntary,ctx_involuntary,rss_bytes,vm_bytes\n"
                   "1000.000,50,1,2,,\n"
                   "1001.000,60.5,3,4,100,200\n"
                   "1002.000,70,5,6,,\n"
                   "1002.001,,,,110,210\n"
                   "1003.000,,,,120,220\n");
    free(txt);

    /* Slices select after < t <= upto; trim keeps the newest. */
    s = series_slice(m, 1000.0, 1002.0);
    CHECK_INT(json_array_size(json_object_get(s, "points")), 2);
    CHECK(series_last_time(s) == 1002.0, "slice should end at 1002, got %f", series_last_time(s));
    CHECK_INT(json_array_size(json_object_get(m, "points")), 5); /* the source is untouched */
    json_decref(s);
    s = series_slice(m, 1003.0, INFINITY);
    CHECK_INT(json_array_size(json_object_get(s, "points")), 0);
    CHECK(series_last_time(s) == -INFINITY, "an empty series has no last time");
    json_decref(s);
    CHECK_INT(series_trim(m, 2), 0);
    CHECK_INT(json_array_size(json_object_get(m, "points")), 2);
    CHECK(json_number_value(json_array_get(json_array_get(json_object_get(m, "points"), 0), 0)) == 1002.0006,
          "trim must keep the newest points");

    /* One family merges to itself, re-labelled. */
    json_decref(m);
    m = series_merge(parts, 1);
    CHECK(m && json_equal(json_object_get(m, "points"), json_object_get(cpu, "points")),
          "a one-family merge keeps the points");
    json_decref(m);
    CHECK(series_merge(parts, 0) == NULL, "merging nothing gives NULL");

    json_decref(want);
    json_decref(cpu);
    json_decref(mem);
}

static void test_check(void)
{
    static const char *bad[] = {
        "{\"points\":[]}",
        "{\"columns\":[],\"points\":[]}",
        "{\"columns\":[\"cpu_pct\",\"time\"],\"points\":[]}",
        "{\"columns\":[\"time\",5],\"points\":[]}",
        "{\"columns\":[\"time\",\"a\"],\"points\":[[1.0]]}",
        "{\"columns\":[\"time\",\"a\"],\"points\":[[null,1]]}",
        "{\"columns\":[\"time\",\"a\"],\"points\":[[1.0,\"x\"]]}",
        "{\"columns\":[\"time\",\"a\"],\"points\":[[2.0,1],[1.0,1]]}",
        "{\"columns\":[\"time\",\"a\"],\"points\":{}}",
    };
    char why[128];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *r = load(bad[i]);

        why[0] = '\0';
        CHECK(series_check(r, why, sizeof(why)) == -EPROTO && why[0], "expected -EPROTO with a reason for %s", bad[i]);
        json_decref(r);
    }
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    test_series_output();
    test_formats();
    test_new_formats();
    test_family_output();
    test_trace_output();
    test_json_reals();
    test_anomaly_formats();
    test_anomaly_output();
    test_table();
    test_merge();
    test_check();
    CHECK_DONE();
}
