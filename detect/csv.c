/* csv.c - streaming CSV reader: header, timestamp column, numeric cells, errors that name the line. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "detector.h"

struct csv_reader {
    FILE *f;
    char *name;
    char *line;
    size_t line_cap;
    size_t line_no;     /* number of the last line read */
    size_t blank_line;  /* first blank line seen, 0 if none: only legal at the end */
    size_t n_cols;
    char **col_names;
    char **fields;      /* scratch: pointers into line */
    size_t rows_read;
    int eof;
    char err[512];
};

static void csv_fail(struct csv_reader *r, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(r->err, sizeof(r->err), "%s: line %zu: ", r->name, r->line_no);

    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(r->err))
        vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
    va_end(ap);
}

const char *csv_error(const struct csv_reader *r)
{
    return r->err;
}

/* Read one line, strip the newline (and a CR); 1 on success, 0 at EOF, negative on error. */
static int read_line(struct csv_reader *r, size_t *len)
{
    ssize_t n;

    errno = 0;
    n = getline(&r->line, &r->line_cap, r->f);
    if (n < 0) {
        if (ferror(r->f)) {
            r->line_no++;
            csv_fail(r, "read error: %s", strerror(errno ? errno : EIO));
            return -EIO;
        }
        return 0;
    }
    r->line_no++;
    if ((size_t)n > CSV_MAX_LINE) {
        csv_fail(r, "line longer than %d bytes", CSV_MAX_LINE);
        return -EINVAL;
    }
    if (strlen(r->line) != (size_t)n) {
        csv_fail(r, "NUL byte in line");
        return -EINVAL;
    }
    if (n && r->line[n - 1] == '\n')
        r->line[--n] = 0;
    if (n && r->line[n - 1] == '\r')
        r->line[--n] = 0;
    *len = (size_t)n;
    return 1;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = 0;
    return s;
}

/*
 * Split line in place into at most max fields; RFC 4180 double quotes are honoured
 * (a quoted field may hold commas, "" is a quote). Returns the field count (which may
 * exceed max: extra fields are counted, not stored) or -EINVAL on a broken quote.
 */
static long split_fields(struct csv_reader *r, char *line, char **fields, size_t max)
{
    char *p = line, *out;
    size_t n = 0;

    for (;;) {
        char *start;

        while (*p == ' ' || *p == '\t')
            p++;
        start = out = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) {
                    csv_fail(r, "field %zu: unterminated quote", n + 1);
                    return -EINVAL;
                }
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p && *p != ',') {
                csv_fail(r, "field %zu: text after closing quote", n + 1);
                return -EINVAL;
            }
        } else {
            while (*p && *p != ',')
                p++;
            out = p;
        }
        {
            char sep = *p;

            *out = 0;
            if (n < max)
                fields[n] = start == out ? out : trim(start);
            n++;
            if (!sep)
                break;
            p++;
        }
    }
    return (long)n;
}

int csv_open(FILE *f, const char *name, struct csv_reader **out)
{
    struct csv_reader *r = calloc(1, sizeof(*r));
    size_t len;
    long n;
    int err;

    *out = NULL;
    if (!r)
        return -ENOMEM;
    r->f = f;
    r->name = strdup(name ? name : "-");
    if (!r->name) {
        free(r);
        return -ENOMEM;
    }
    *out = r;
    err = read_line(r, &len);
    if (err < 0)
        return err;
    if (err == 0) {
        r->line_no = 1;
        csv_fail(r, "empty file: expected a header row (timestamp,metric,...)");
        return -EINVAL;
    }
    /* tolerate a UTF-8 byte order mark */
    if (len >= 3 && memcmp(r->line, "\xef\xbb\xbf", 3) == 0)
        memmove(r->line, r->line + 3, len - 2);
    if (!*trim(r->line)) {
        csv_fail(r, "empty header row: expected timestamp,metric,...");
        return -EINVAL;
    }
    /* count on a copy first: the number of columns fixes every later row */
    {
        char *copy = strdup(r->line);

        if (!copy)
            return -ENOMEM;
        n = split_fields(r, copy, NULL, 0);
        free(copy);
    }
    if (n < 0)
        return -EINVAL;
    if (n < 2) {
        csv_fail(r, "header has %ld column: need a timestamp column and at least one metric column", n);
        return -EINVAL;
    }
    if ((size_t)n - 1 > DET_MAX_DIMS) {
        csv_fail(r, "header has %ld metric columns, at most %d are supported", n - 1, DET_MAX_DIMS);
        return -EINVAL;
    }
    r->n_cols = (size_t)n;
    r->col_names = calloc(r->n_cols, sizeof(char *));
    r->fields = calloc(r->n_cols, sizeof(char *));
    if (!r->col_names || !r->fields)
        return -ENOMEM;
    split_fields(r, r->line, r->fields, r->n_cols);
    for (size_t i = 0; i < r->n_cols; i++) {
        r->col_names[i] = strdup(r->fields[i]);
        if (!r->col_names[i])
            return -ENOMEM;
    }
    return 0;
}

void csv_close(struct csv_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->col_names && i < r->n_cols; i++)
        free(r->col_names[i]);
    free(r->col_names);
    free(r->fields);
    free(r->line);
    free(r->name);
    free(r);
}

size_t csv_n_dims(const struct csv_reader *r)
{
    return r->n_cols - 1;
}

const char *csv_dim_name(const struct csv_reader *r, size_t i)
{
    return r->col_names[i + 1];
}

const char *csv_ts_name(const struct csv_reader *r)
{
    return r->col_names[0];
}

size_t csv_rows_read(const struct csv_reader *r)
{
    return r->rows_read;
}

void csv_rows_free(struct csv_rows *rows)
{
    free(rows->vals);
    free(rows->ts);
    free(rows->ts_text);
    free(rows->ts_buf);
    memset(rows, 0, sizeof(*rows));
}

static int rows_reserve(struct csv_rows *rows, size_t n_dims, size_t max)
{
    if (rows->cap >= max && rows->n_dims == n_dims)
        return 0;
    csv_rows_free(rows);
    rows->vals = malloc(max * n_dims * sizeof(double));
    rows->ts = malloc(max * sizeof(double));
    rows->ts_text = malloc(max * sizeof(char *));
    if (!rows->vals || !rows->ts || !rows->ts_text) {
        csv_rows_free(rows);
        return -ENOMEM;
    }
    rows->cap = max;
    rows->n_dims = n_dims;
    return 0;
}

static int rows_add_text(struct csv_rows *rows, const char *s, size_t *off)
{
    size_t len = strlen(s) + 1;

    if (rows->ts_buf_len + len > rows->ts_buf_cap) {
        size_t ncap = rows->ts_buf_cap ? rows->ts_buf_cap : 4096;
        char *nb;

        while (ncap < rows->ts_buf_len + len)
            ncap *= 2;
        nb = realloc(rows->ts_buf, ncap);
        if (!nb)
            return -ENOMEM;
        rows->ts_buf = nb;
        rows->ts_buf_cap = ncap;
    }
    memcpy(rows->ts_buf + rows->ts_buf_len, s, len);
    *off = rows->ts_buf_len;
    rows->ts_buf_len += len;
    return 0;
}

static int parse_number(const char *s, double *v)
{
    char *end;

    if (!*s)
        return -ENODATA;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || *end)
        return -EINVAL;
    if (!isfinite(*v))
        return -ERANGE;
    return 0;
}

long csv_read(struct csv_reader *r, struct csv_rows *rows, size_t max)
{
    size_t n_dims = r->n_cols - 1;
    size_t *offs = NULL;
    long got = 0;
    int err;

    if (max == 0)
        return -EINVAL;
    err = rows_reserve(rows, n_dims, max);
    if (err)
        return err;
    rows->rows = 0;
    rows->ts_buf_len = 0;
    rows->first_line = 0;
    if (r->eof)
        return 0;
    offs = malloc(max * sizeof(size_t));
    if (!offs)
        return -ENOMEM;
    while ((size_t)got < max) {
        double *vals = rows->vals + (size_t)got * n_dims;
        size_t len;
        long nf;

        err = read_line(r, &len);
        if (err < 0)
            goto out;
        if (err == 0) {
            r->eof = 1;
            if (r->rows_read == 0) {
                r->line_no++;
                csv_fail(r, "no data rows after the header");
                err = -EINVAL;
                goto out;
            }
            break;
        }
        if (!*trim(r->line)) {
            if (!r->blank_line)
                r->blank_line = r->line_no;
            continue;
        }
        if (r->blank_line) {
            size_t here = r->line_no;

            r->line_no = r->blank_line;
            csv_fail(r, "empty line inside the data (next data at line %zu)", here);
            r->line_no = here;
            err = -EINVAL;
            goto out;
        }
        nf = split_fields(r, r->line, r->fields, r->n_cols);
        if (nf < 0) {
            err = -EINVAL;
            goto out;
        }
        if ((size_t)nf != r->n_cols) {
            csv_fail(r, "expected %zu fields like the header, got %ld", r->n_cols, nf);
            err = -EINVAL;
            goto out;
        }
        if (csv_parse_time(r->fields[0], &rows->ts[got]) < 0) {
            csv_fail(r, "column 1 (%s): bad timestamp '%.64s' (want epoch seconds, "
                        "YYYY-MM-DD HH:MM:SS or ISO 8601)", r->col_names[0], r->fields[0]);
            err = -EINVAL;
            goto out;
        }
        for (size_t k = 0; k < n_dims; k++) {
            int e = parse_number(r->fields[k + 1], &vals[k]);

            if (e == 0)
                continue;
            if (e == -ENODATA)
                csv_fail(r, "column %zu (%s): empty cell", k + 2, r->col_names[k + 1]);
            else if (e == -ERANGE)
                csv_fail(r, "column %zu (%s): non-finite value '%.64s' (NaN/inf rejected)",
                         k + 2, r->col_names[k + 1], r->fields[k + 1]);
            else
                csv_fail(r, "column %zu (%s): '%.64s' is not a number", k + 2,
                         r->col_names[k + 1], r->fields[k + 1]);
            err = -EINVAL;
            goto out;
        }
        err = rows_add_text(rows, r->fields[0], &offs[got]);
        if (err)
            goto out;
        if (got == 0)
            rows->first_line = r->line_no;
        got++;
        r->rows_read++;
    }
    /* the text buffer may have moved while growing: resolve pointers at the end */
    for (long i = 0; i < got; i++)
        rows->ts_text[i] = rows->ts_buf + offs[i];
    rows->rows = (size_t)got;
    err = 0;
out:
    free(offs);
    return err ? err : got;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long days_from_civil(long y, long m, long d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, long *v)
{
    long acc = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -EINVAL;
        acc = acc * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = acc;
    return 0;
}

int csv_parse_time(const char *s, double *epoch)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    long y, mo, d, h, mi, sec, oh = 0, om = 0;
    double frac = 0;
    const char *p = s;
    char *end;
    int sign = 0;

    if (!*s)
        return -EINVAL;
    /* epoch seconds, int or float */
    errno = 0;
    *epoch = strtod(s, &end);
    if (end != s && !*end) {
        if (!isfinite(*epoch))
            return -EINVAL;
        return 0;
    }
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        return -EINVAL;
    if (*p != ' ' && *p != 'T' && *p != 't')
        return -EINVAL;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
        digits(&p, 2, &sec))
        return -EINVAL;
    if (*p == '.' || *p == ',') {
        double scale = 0.1;

        p++;
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        while (isdigit((unsigned char)*p)) {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        p++;
        if (digits(&p, 2, &oh))
            return -EINVAL;
        if (*p == ':')
            p++;
        if (*p && digits(&p, 2, &om))
            return -EINVAL;
        if (oh > 23 || om > 59)
            return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return -EINVAL;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -EINVAL;
    *epoch = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + sec + frac -
             sign * (oh * 3600.0 + om * 60.0);
    return 0;
}
