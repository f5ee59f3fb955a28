/* output.c - see output.h. */
#include "output.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void fmt_bytes(char *buf, size_t n, double bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    size_t u = 0;
    double v = bytes;

    /* Move up a unit before "%.1f" would round to "1024.0". */
    while (u + 1 < sizeof(units) / sizeof(units[0]) && v >= (u ? 1023.95 : 1024)) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%.0f B", v);
    else
        snprintf(buf, n, "%.1f %s", v, units[u]);
}

void fmt_nanos(char *buf, size_t n, double ns)
{
    /* Each unit until "%.1f" would round to 1000.0 of it. */
    if (isnan(ns))
        snprintf(buf, n, "?");
    else if (ns < 999.5)
        snprintf(buf, n, "%.0f ns", ns > 0 ? ns : 0.0);
    else if (ns < 999950)
        snprintf(buf, n, "%.1f \u00b5s", ns / 1e3);
    else if (ns < 999950000)
        snprintf(buf, n, "%.1f ms", ns / 1e6);
    else
        snprintf(buf, n, "%.2f s", ns / 1e9);
}

void fmt_rate(char *buf, size_t n, double per_s)
{
    if (isnan(per_s))
        snprintf(buf, n, "?");
    else if (per_s < 99999.5)
        snprintf(buf, n, "%.1f/s", per_s > 0 ? per_s : 0.0);
    else if (per_s < 99999500)
        snprintf(buf, n, "%.1fk/s", per_s / 1e3);
    else
        snprintf(buf, n, "%.1fM/s", per_s / 1e6);
}

void fmt_clock_us(char *buf, size_t n, double epoch)
{
    int64_t us = llround(epoch * 1e6);
    time_t s = (time_t)(us / 1000000);
    struct tm tm;

    if (!isfinite(epoch) || epoch < 0 || !localtime_r(&s, &tm)) {
        snprintf(buf, n, "?");
        return;
    }
    snprintf(buf, n, "%02d:%02d:%02d.%06d", tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
}

int text_width(const char *s)
{
    int w = 0;

    /* UTF-8: every byte but the continuation bytes (10xxxxxx) starts a character. */
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

void output_padded(FILE *f, const char *s, int width, int right)
{
    int pad = width - text_width(s);

    if (right)
        fprintf(f, "%*s%s", pad > 0 ? pad : 0, "", s);
    else
        fprintf(f, "%s%*s", s, pad > 0 ? pad : 0, "");
}

void fmt_clock(char *buf, size_t n, double epoch)
{
    int64_t ms = llround(epoch * 1000);
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    if (!isfinite(epoch) || !localtime_r(&s, &tm)) {
        snprintf(buf, n, "?");
        return;
    }
    snprintf(buf, n, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void fmt_span(char *buf, size_t n, double secs)
{
    long long s = secs > 0 ? (long long)secs : 0; /* like uptime: 59.9 s is not yet a minute */

    if (s < 60)
        snprintf(buf, n, "%llds", s);
    else if (s < 3600)
        snprintf(buf, n, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, n, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

void fmt_datetime(char *buf, size_t n, double epoch)
{
    time_t s = (time_t)floor(epoch);
    struct tm tm;

    if (!isfinite(epoch) || !localtime_r(&s, &tm)) {
        snprintf(buf, n, "?");
        return;
    }
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

void fmt_duration(char *buf, size_t n, double secs)
{
    if (isnan(secs))
        snprintf(buf, n, "?");
    else if (secs < 59.95)
        snprintf(buf, n, "%.1fs", secs > 0 ? secs : 0.0);
    else
        fmt_span(buf, n, floor(secs + 0.5)); /* 59.96 is "1m00s", not "59s" after "59.9s" */
}

void fmt_score(char *buf, size_t n, double v)
{
    /* The daemon sends "infinitely unlikely" as the largest double (JSON has no infinity). */
    if (isnan(v))
        snprintf(buf, n, "?");
    else if (fabs(v) >= DBL_MAX / 2 || isinf(v))
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, n, "%.4g", v);
}

/* 1 if v holds a real that 15 significant digits would round beyond the largest double. */
static int json_has_huge(const json_t *v)
{
    const char *key;
    json_t *m;
    size_t i;

    if (json_is_real(v))
        return fabs(json_real_value(v)) > 1.79769313486231e308;
    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            if (json_has_huge(json_array_get(v, i)))
                return 1;
        }
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, m) {
            if (json_has_huge(m))
                return 1;
        }
    }
    return 0;
}

int output_json(FILE *f, const json_t *v, int compact)
{
    /* 15 significant digits keep epoch milliseconds and print 12.3 rather than 12.300000000000001,
     * but print the largest double (an "infinitely unlikely" score) as 1.79769313486232e308,
     * which no JSON reader can take back: such a document gets all 17. */
    size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(json_has_huge(v) ? 17 : 15) |
                   (compact ? JSON_COMPACT : JSON_INDENT(2));

    if (json_dumpf(v, f, flags) || fputc('\n', f) == EOF)
        return -EIO;
    return 0;
}

/* Series columns -------------------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && !strcmp(s + a - b, suffix);
}

static const char *column_title(const char *name, char *buf, size_t n)
{
    static const char *const titles[][2] = {
        { "time", "TIME" },          { "cpu_pct", "CPU" },    { "ctx_voluntary", "CTXSW-VOL" },
        { "ctx_involuntary", "CTXSW-INVOL" }, { "rss_bytes", "RSS" }, { "vm_bytes", "VM" },
        { "tx_bytes", "TX" },        { "rx_bytes", "RX" },    { "tx_calls", "TX-CALLS" },
        { "rx_calls", "RX-CALLS" },  { "tcp_tx_bytes", "TCP-TX" }, { "tcp_rx_bytes", "TCP-RX" },
        { "udp_tx_bytes", "UDP-TX" }, { "udp_rx_bytes", "UDP-RX" }, { "rate", "CALLS/S" },
        { "error_rate", "ERRORS/S" }, { "p50_ns", "P50" },    { "p99_ns", "P99" },
        { "calls", "CALLS" },        { "errors", "ERRORS" },
    };
    size_t i;

    for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
        if (!strcmp(name, titles[i][0]))
            return titles[i][1];
    }
    for (i = 0; name[i] && i + 1 < n; i++)
        buf[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
    buf[i] = '\0';
    return buf;
}

static const char *column_name(const json_t *columns, size_t i)
{
    const char *s = json_string_value(json_array_get(columns, i));

    return s ? s : "?";
}

static int column_width(const char *name)
{
    char buf[64];
    int w = (int)strlen(column_title(name, buf, sizeof(buf)));

    if (!strcmp(name, "time"))
        return 12; /* HH:MM:SS.mmm */
    return w > 10 ? w : 10;
}

static void format_number(char *buf, size_t n, const json_t *v)
{
    if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%.15g", json_real_value(v));
    else
        buf[0] = '\0';
}

static void format_human(char *buf, size_t n, const char *name, const json_t *v)
{
    if (!json_is_number(v))
        snprintf(buf, n, "-");
    else if (!strcmp(name, "time"))
        fmt_clock(buf, n, json_number_value(v));
    else if (ends_with(name, "_pct"))
        snprintf(buf, n, "%.1f%%", json_number_value(v));
    else if (ends_with(name, "_bytes"))
        fmt_bytes(buf, n, json_number_value(v));
    else if (ends_with(name, "_ns"))
        fmt_nanos(buf, n, json_number_value(v));
    else if (!strcmp(name, "rate") || ends_with(name, "_rate"))
        fmt_rate(buf, n, json_number_value(v));
    else
        format_number(buf, n, v);
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void output_series_header(FILE *f, const json_t *columns, enum out_fmt fmt)
{
    size_t i, n = json_array_size(columns);
    char buf[64];

    for (i = 0; i < n; i++) {
        const char *name = column_name(columns, i);

        if (fmt == OUT_CSV) {
            if (i)
                fputc(',', f);
            csv_field(f, name);
        } else if (fmt == OUT_HUMAN) {
            if (i)
                fputs("  ", f);
            output_padded(f, column_title(name, buf, sizeof(buf)), column_width(name), i > 0);
        }
    }
    if (fmt != OUT_JSON)
        fputc('\n', f);
}

void output_series_rows(FILE *f, const json_t *columns, const json_t *points, enum out_fmt fmt)
{
    size_t r, i, ncols = json_array_size(columns);
    char buf[64];

    for (r = 0; r < json_array_size(points); r++) {
        const json_t *row = json_array_get(points, r);

        for (i = 0; i < ncols; i++) {
            const char *name = column_name(columns, i);
            const json_t *v = json_array_get(row, i);

            if (fmt == OUT_CSV) {
                if (i)
                    fputc(',', f);
                if (!strcmp(name, "time") && json_is_number(v)) {
                    fprintf(f, "%.3f", json_number_value(v));
                } else {
                    format_number(buf, sizeof(buf), v);
                    fputs(buf, f);
                }
            } else {
                format_human(buf, sizeof(buf), name, v);
                if (i)
                    fputs("  ", f);
                output_padded(f, buf, column_width(name), i > 0);
            }
        }
        fputc('\n', f);
    }
}

void output_series(FILE *f, const json_t *reply, enum out_fmt fmt)
{
    const json_t *columns = json_object_get(reply, "columns");

    if (fmt == OUT_JSON) {
        output_json(f, reply, 1); /* one line: indenting would put every number on its own */
        return;
    }
    output_series_header(f, columns, fmt);
    output_series_rows(f, columns, json_object_get(reply, "points"), fmt);
}

/* Anomalies ------------------------------------------------------------------------------- */

#define ANOMALY_LINE "%-19s  %-12s  %7s  %-15s  %-10s  %10s  %10s  %-8s  %s\n"

void output_anomaly_header(FILE *f)
{
    fprintf(f, ANOMALY_LINE, "START", "DURATION", "PID", "COMM", "METRICS", "SCORE", "THRESHOLD", "DETECTOR", "ID");
}

static double anomaly_num(const json_t *a, const char *key)
{
    const json_t *v = json_object_get(a, key);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *anomaly_str(const json_t *a, const char *key)
{
    const char *s = json_string_value(json_object_get(a, key));

    return s && *s ? s : "?";
}

void output_anomaly(FILE *f, const json_t *a, int ended)
{
    char start[32], dur[40], pid[24], score[32], thr[32], id[24];
    const char *state = anomaly_str(a, "state");
    double v;

    fmt_datetime(start, sizeof(start), anomaly_num(a, "start"));
    if (ended) {
        memcpy(dur, "ended ", 6);
        fmt_duration(dur + 6, sizeof(dur) - 6, anomaly_num(a, "end") - anomaly_num(a, "start"));
    } else {
        fmt_duration(dur, sizeof(dur), anomaly_num(a, "end") - anomaly_num(a, "start"));
    }
    if (!ended && !strcmp(state, "open")) {
        snprintf(dur, sizeof(dur), "ongoing");
    }
    v = anomaly_num(a, "pid");
    if (isnan(v))
        snprintf(pid, sizeof(pid), "?");
    else if (v == 0 && json_is_string(json_object_get(a, "cgroup"))) /* a cgroup target: comm names it */
        snprintf(pid, sizeof(pid), "-");
    else
        snprintf(pid, sizeof(pid), "%.0f", v);
    fmt_score(score, sizeof(score), anomaly_num(a, "peak_score"));
    fmt_score(thr, sizeof(thr), anomaly_num(a, "threshold"));
    v = anomaly_num(a, "id");
    if (isnan(v))
        snprintf(id, sizeof(id), "?");
    else
        snprintf(id, sizeof(id), "%.0f", v);
    fprintf(f, ANOMALY_LINE, start, dur, pid, anomaly_str(a, "comm"), anomaly_str(a, "metrics"), score, thr,
            anomaly_str(a, "detector"), id);
}

/* Syscall traces ------------------------------------------------------------------------ */

/* Raw values that look like counts, sizes, fds or small negative numbers (AT_FDCWD) are
 * clearer in decimal; addresses and flags words in hex. */
#define TRACE_DEC_MIN (-4096)
#define TRACE_DEC_MAX 0xfffff

static void fmt_sysval(char *buf, size_t n, const json_t *v, long long dec_max)
{
    long long x;

    if (json_is_real(v)) {
        snprintf(buf, n, "%.0f", json_real_value(v));
        return;
    }
    if (!json_is_integer(v)) {
        snprintf(buf, n, "?");
        return;
    }
    x = (long long)json_integer_value(v);
    if (x >= TRACE_DEC_MIN && x <= dec_max)
        snprintf(buf, n, "%lld", x);
    else
        snprintf(buf, n, "0x%llx", (unsigned long long)x);
}

void fmt_sysarg(char *buf, size_t n, const json_t *v)
{
    fmt_sysval(buf, n, v, TRACE_DEC_MAX);
}

void fmt_sysret(char *buf, size_t n, const json_t *v)
{
    long long x = json_is_integer(v) ? (long long)json_integer_value(v) : 0;
    const char *name;

    /* -4095..-1 is a failed call's -errno (as the daemon counts errors). */
    if (json_is_integer(v) && x >= -4095 && x <= -1) {
        name = strerrorname_np((int)-x);
        snprintf(buf, n, "%lld %s", x, name ? name : "E?");
        return;
    }
    fmt_sysval(buf, n, v, 0xffffffffLL);
}

void output_trace(FILE *f, const json_t *ev)
{
    const json_t *args = json_object_get(ev, "args");
    const char *name = json_string_value(json_object_get(ev, "name"));
    const char *event = json_string_value(json_object_get(ev, "event"));
    const json_t *tid = json_object_get(ev, "tid");
    char clock[32], nm[48], val[48];
    size_t i;

    fmt_clock_us(clock, sizeof(clock), anomaly_num(ev, "time"));
    if (!name || !*name) {
        const json_t *nr = json_object_get(ev, "nr");

        if (json_is_integer(nr))
            snprintf(nm, sizeof(nm), "syscall_%lld", (long long)json_integer_value(nr));
        else
            snprintf(nm, sizeof(nm), "syscall_?");
        name = nm;
    }
    fprintf(f, "%s ", clock);
    if (json_is_integer(tid))
        fprintf(f, "%lld ", (long long)json_integer_value(tid));
    else
        fputs("? ", f);
    if (event && !strcmp(event, "exit")) {
        fmt_sysret(val, sizeof(val), json_object_get(ev, "ret"));
        fprintf(f, "%s = %s\n", name, val);
        return;
    }
    fprintf(f, "%s(", name);
    for (i = 0; i < json_array_size(args); i++) {
        fmt_sysarg(val, sizeof(val), json_array_get(args, i));
        fprintf(f, "%s%s", i ? ", " : "", val);
    }
    fputs(")\n", f);
}

void output_utrace(FILE *f, const json_t *ev)
{
    const char *fn = json_string_value(json_object_get(ev, "function"));
    const char *event = json_string_value(json_object_get(ev, "event"));
    const char *msg = json_string_value(json_object_get(ev, "message"));
    const json_t *tid = json_object_get(ev, "tid");
    const char *colon, *base;
    char clock[32];

    fmt_clock_us(clock, sizeof(clock), anomaly_num(ev, "time"));
    fn = fn ? fn : "?";
    colon = strrchr(fn, ':');
    base = fn;
    for (const char *p = fn; colon && p < colon; p++) /* the binary's base name, then :FUNCTION */
        if (*p == '/')
            base = p + 1;
    fprintf(f, "%s ", clock);
    if (json_is_integer(tid))
        fprintf(f, "%lld ", (long long)json_integer_value(tid));
    else
        fputs("? ", f);
    fprintf(f, "%s %s %s\n", base, event ? event : "?", msg ? msg : "");
}

/* Tables ---------------------------------------------------------------------------------- */

int table_init(struct table *t, size_t ncols, const char *const *headers, const char *align)
{
    memset(t, 0, sizeof(*t));
    if (!ncols || ncols > TABLE_MAX_COLS || strlen(align) != ncols)
        return -EINVAL;
    t->ncols = ncols;
    t->align = align;
    t->nrows = (size_t)-1; /* table_add() of the header makes it 0 data rows */
    return table_add(t, headers);
}

int table_add(struct table *t, const char *const *cells)
{
    size_t i, base = (t->nrows + 1) * t->ncols;

    if (base + t->ncols > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16 * t->ncols;
        char **p = realloc(t->cells, cap * sizeof(*p));

        if (!p)
            return -ENOMEM;
        t->cells = p;
        t->cap = cap;
    }
    for (i = 0; i < t->ncols; i++) {
        t->cells[base + i] = strdup(cells[i] ? cells[i] : "-");
        if (!t->cells[base + i]) {
            while (i--)
                free(t->cells[base + i]);
            return -ENOMEM;
        }
    }
    t->nrows++;
    return 0;
}

void table_print(const struct table *t, FILE *f)
{
    size_t r, c;
    int w[TABLE_MAX_COLS] = { 0 };

    for (r = 0; r <= t->nrows; r++) {
        for (c = 0; c < t->ncols; c++) {
            int len = text_width(t->cells[r * t->ncols + c]);

            if (len > w[c])
                w[c] = len;
        }
    }
    for (r = 0; r <= t->nrows; r++) {
        for (c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            int last = c + 1 == t->ncols;

            if (c)
                fputs("  ", f);
            output_padded(f, s, t->align[c] != 'r' && last ? 0 : w[c], t->align[c] == 'r');
        }
        fputc('\n', f);
    }
}

void table_free(struct table *t)
{
    size_t i;

    for (i = 0; t->cells && i < (t->nrows + 1) * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}
