/* output.c - see output.h. */
#include "output.h"

#include <errno.h>
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

int output_json(FILE *f, const json_t *v, int compact)
{
    /* 15 significant digits keep epoch milliseconds and print 12.3 rather than 12.300000000000001. */
    size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) | (compact ? JSON_COMPACT : JSON_INDENT(2));

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
            fprintf(f, i ? "  %*s" : "%-*s", column_width(name), column_title(name, buf, sizeof(buf)));
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
                fprintf(f, i ? "  %*s" : "%-*s", column_width(name), buf);
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
            int len = (int)strlen(t->cells[r * t->ncols + c]);

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
            if (t->align[c] == 'r')
                fprintf(f, "%*s", w[c], s);
            else
                fprintf(f, "%-*s", last ? 0 : w[c], s);
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
