/* fuzz_csv.c - libFuzzer target: the CSV reader on arbitrary bytes. An error names a line;
 * accepted rows have the header's field count, finite values and finite timestamps. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "detector.h"

/* Every error message reads "NAME: line N: ...". */
static void check_error(const struct csv_reader *r)
{
    const char *e = r ? csv_error(r) : NULL;
    const char *at = e ? strstr(e, ": line ") : NULL;

    if (!at || !isdigit((unsigned char)at[7]) || at[7] == '0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csv_reader *r = NULL;
    struct csv_rows rows = { 0 };
    size_t total = 0, n_dims, max;
    FILE *f;
    long got;
    int err;

    /* the chunk size comes from the input too, so chunk boundaries move around */
    max = size ? 1 + data[0] % 7 : 3;
    f = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
    if (!f)
        return 0;
    err = csv_open(f, "fuzz.csv", &r);
    if (err) {
        if (err != -EINVAL && err != -ENOMEM && err != -EIO)
            abort();
        if (err == -EINVAL)
            check_error(r);
        goto out;
    }
    n_dims = csv_n_dims(r);
    if (n_dims < 1 || n_dims > DET_MAX_DIMS || !csv_ts_name(r))
        abort();
    for (size_t k = 0; k < n_dims; k++)
        if (!csv_dim_name(r, k))
            abort();
    while ((got = csv_read(r, &rows, max)) > 0) {
        if ((size_t)got != rows.rows || rows.rows > max || rows.n_dims != n_dims)
            abort();
        if (rows.first_line < 2)
            abort(); /* line 1 is the header */
        for (size_t i = 0; i < rows.rows; i++) {
            if (!isfinite(rows.ts[i]) || !rows.ts_text[i] || !rows.ts_text[i][0])
                abort();
            for (size_t k = 0; k < n_dims; k++)
                if (!isfinite(rows.vals[i * n_dims + k]))
                    abort();
        }
        total += rows.rows;
    }
    if (got < 0) {
        if (got != -EINVAL && got != -ENOMEM && got != -EIO)
            abort();
        if (got == -EINVAL)
            check_error(r);
    } else if (total == 0 || csv_rows_read(r) != total) {
        /* a header without data rows is an error, not an empty success; at a clean end
         * every row read was handed out (a failing chunk is dropped whole) */
        abort();
    }
out:
    csv_rows_free(&rows);
    csv_close(r);
    fclose(f);
    return 0;
}
