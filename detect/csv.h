/* csv.h - streaming reader for the offline analysis CSV (timestamp + numeric columns). */
#ifndef OSD_CSV_H
#define OSD_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_LINE (1 << 20) /* bytes per line; longer lines are an error */

struct csv_reader;

/* A chunk of rows: vals is row-major rows x n_dims; ts_text[i] is the timestamp as written. */
struct csv_rows {
    size_t rows, cap, n_dims;
    double *vals;
    double *ts;      /* timestamp as epoch seconds (UTC) */
    char **ts_text;  /* pointers into ts_buf */
    char *ts_buf;
    size_t ts_buf_len, ts_buf_cap;
    size_t first_line; /* file line number of row 0 */
};

/* Read the header of f (name is used in messages); 0, -EINVAL (bad input, see csv_error)
 * or -ENOMEM. *out is set even on error so csv_error() can explain; csv_close() it. */
int csv_open(FILE *f, const char *name, struct csv_reader **out);
void csv_close(struct csv_reader *r);
/* Numeric columns (header minus the timestamp column). */
size_t csv_n_dims(const struct csv_reader *r);
/* Header name of numeric column i. */
const char *csv_dim_name(const struct csv_reader *r, size_t i);
/* Header name of the timestamp column. */
const char *csv_ts_name(const struct csv_reader *r);
/* Read up to max rows into rows (reset first); returns rows read (0 at end), or -EINVAL / -EIO / -ENOMEM. */
long csv_read(struct csv_reader *r, struct csv_rows *rows, size_t max);
/* Human message for the last error, naming the line (and column). */
const char *csv_error(const struct csv_reader *r);
/* Data rows read so far. */
size_t csv_rows_read(const struct csv_reader *r);
void csv_rows_free(struct csv_rows *rows);
/* Parse a timestamp cell: epoch seconds, "YYYY-MM-DD HH:MM:SS" (UTC) or ISO 8601; 0 or -EINVAL. */
int csv_parse_time(const char *s, double *epoch);

#endif
