/* output.h - how osdctl prints: value formats, aligned text tables, JSON, and series rows as
 * text, CSV or JSON. Everything writes to a FILE * so tests can capture it. */
#ifndef OSDCTL_OUTPUT_H
#define OSDCTL_OUTPUT_H
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

enum out_fmt { OUT_HUMAN, OUT_CSV, OUT_JSON };

void fmt_bytes(char *buf, size_t n, double bytes);  /* "512 B", "10.0 MiB" */
void fmt_clock(char *buf, size_t n, double epoch);  /* local time "HH:MM:SS.mmm" */
void fmt_span(char *buf, size_t n, double secs);    /* "45s", "12m05s", "3h07m", "2d04h" */
void fmt_datetime(char *buf, size_t n, double epoch); /* local time "YYYY-MM-DD HH:MM:SS" */
void fmt_duration(char *buf, size_t n, double secs); /* "0.9s", "59.5s", then rounded as fmt_span */
void fmt_score(char *buf, size_t n, double v);      /* "41.7", "1.23e+05"; "inf" for the largest doubles */
void fmt_nanos(char *buf, size_t n, double ns);     /* "362 ns", "1.4 µs", "2.5 ms", "1.20 s" */
void fmt_rate(char *buf, size_t n, double per_s);   /* "12.5/s", "123.4k/s", "1.5M/s" */
void fmt_clock_us(char *buf, size_t n, double epoch); /* local time "HH:MM:SS.uuuuuu" */
/* A raw syscall argument: decimal when small (-4096..1048575), else hex "0x7ffd...". */
void fmt_sysarg(char *buf, size_t n, const json_t *v);
/* A syscall's return: "-2 ENOENT" for -4095..-1, decimal below 2^32, else hex. */
void fmt_sysret(char *buf, size_t n, const json_t *v);

/* Columns on screen of a UTF-8 string (one per character). */
int text_width(const char *s);
/* s padded with spaces to width columns, on the left when right-aligned. */
void output_padded(FILE *f, const char *s, int width, int right);

/* Prints v and a newline: indented, or on one line when compact (streams). -EIO on failure. */
int output_json(FILE *f, const json_t *v, int compact);

/* Series replies ({"columns": [...], "points": [[...], ...]}). Human and CSV print a header
 * once and then rows, so --follow can print more rows under the same header. */
void output_series_header(FILE *f, const json_t *columns, enum out_fmt fmt);
void output_series_rows(FILE *f, const json_t *columns, const json_t *points, enum out_fmt fmt);
/* A whole reply: header and rows, or the object itself on one line for OUT_JSON. */
void output_series(FILE *f, const json_t *reply, enum out_fmt fmt);

/* Anomaly records (proto/osd-rpc.md, anomalies) as aligned text lines, one per anomaly, so
 * --follow can print more lines under the same header: start (local), duration or
 * "ongoing" while open, pid, comm, metrics, peak score, threshold, detector and id. ended
 * prints the line of an "end" event: "ended <duration>" in the duration column. */
void output_anomaly_header(FILE *f);
void output_anomaly(FILE *f, const json_t *anomaly, int ended);

/* One "trace" notification's params (proto/osd-rpc.md, trace) as a line:
 * "HH:MM:SS.uuuuuu TID NAME(ARG, ...)" for an enter, "HH:MM:SS.uuuuuu TID NAME = RET" for
 * an exit; a syscall without a name is "syscall_NR". */
void output_trace(FILE *f, const json_t *ev);
/* One user-function trace event: "HH:MM:SS.uuuuuu TID BINARY:FUNCTION enter|return MESSAGE",
 * the binary by its base name. */
void output_utrace(FILE *f, const json_t *ev);

#define TABLE_MAX_COLS 32

/* A text table whose column widths fit the widest cell. align: one 'l' or 'r' per column. */
struct table {
    size_t ncols, nrows, cap;
    const char *align;
    char **cells;   /* (nrows + 1) * ncols strings, row 0 is the header */
};

/* 0, -EINVAL (no or too many columns, align of the wrong length) or -ENOMEM. */
int table_init(struct table *t, size_t ncols, const char *const *headers, const char *align);
int table_add(struct table *t, const char *const *cells);  /* copies cells; 0 or -ENOMEM */
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);
#endif
