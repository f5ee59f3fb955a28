/* test_detect_csv.c - the CSV reader: timestamp formats, chunking, and every bad-input kind. */
#include <errno.h>
#include <string.h>

#include "csv.h"
#include "test_detect_util.h"

static FILE *mem(const char *text)
{
    return fmemopen((void *)text, strlen(text), "r");
}

/* Read all rows; returns rows or the negative error, message in msg. */
static long read_all(const char *text, size_t chunk, char *msg, size_t msglen, double *first_val)
{
    FILE *f = strlen(text) ? mem(text) : fopen("/dev/null", "r");
    struct csv_reader *r = NULL;
    struct csv_rows rows = { 0 };
    long total = 0, got;
    int err;

    msg[0] = 0;
    err = csv_open(f, "t.csv", &r);
    if (err) {
        snprintf(msg, msglen, "%s", r ? csv_error(r) : "");
        total = err;
        goto out;
    }
    while ((got = csv_read(r, &rows, chunk)) > 0) {
        if (total == 0 && first_val)
            *first_val = rows.vals[0];
        total += got;
    }
    if (got < 0) {
        snprintf(msg, msglen, "%s", csv_error(r));
        total = got;
    }
out:
    csv_rows_free(&rows);
    csv_close(r);
    fclose(f);
    return total;
}

static void test_bad_inputs(void)
{
    static const struct {
        const char *what, *text, *want;
    } bad[] = {
        { "empty file", "", "line 1" },
        { "header only", "ts,a,b\n", "line 2" },
        { "header without metric", "ts\n1,2\n", "line 1" },
        { "non-numeric cell", "ts,a,b\n1,2,3\n2,4,abc\n", "line 3: column 3" },
        { "ragged short row", "ts,a,b\n1,2,3\n2,4\n", "line 3" },
        { "ragged long row", "ts,a,b\n1,2,3\n2,4,5,6\n", "line 3" },
        { "NaN", "ts,a\n1,2\n2,nan\n3,4\n", "line 3" },
        { "inf", "ts,a\n1,2\n2,3\n3,-inf\n", "line 4" },
        { "empty cell", "ts,a,b\n1,,3\n", "line 2" },
        { "bad timestamp", "ts,a\n1,2\n2024-13-01 00:00:00,3\n", "line 3" },
        { "garbage timestamp", "ts,a\nyesterday,2\n", "line 2" },
        { "blank line inside", "ts,a\n1,2\n\n3,4\n", "line 3" },
        { "unterminated quote", "ts,a\n\"1,2\n", "line 2" },
        { "trailing junk in number", "ts,a\n1,2x\n", "line 2" },
    };
    char msg[512];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long got = read_all(bad[i].text, 2, msg, sizeof(msg), NULL);

        CHECK(got == -EINVAL, "%s: expected -EINVAL, got %ld", bad[i].what, got);
        CHECK(strstr(msg, bad[i].want) != NULL, "%s: message should name '%s', got '%s'",
              bad[i].what, bad[i].want, msg);
        CHECK(strstr(msg, "t.csv") != NULL, "%s: message should name the file, got '%s'",
              bad[i].what, msg);
    }
}

static void test_good_inputs(void)
{
    char msg[512];
    double v = 0;
    long got;

    /* chunk boundaries, CRLF, quoted header, trailing blank lines, spaces around cells */
    got = read_all("\"time, utc\",\"cpu\",mem\r\n1,1.5,2\r\n2, 2.5 ,3\r\n3,3.5,4\r\n4,4.5,5\r\n"
                   "5,5.5,6\r\n\r\n\n",
                   2, msg, sizeof(msg), &v);
    CHECK(got == 5, "good file: expected 5 rows, got %ld (%s)", got, msg);
    CHECK(v == 1.5, "first value: expected 1.5, got %g", v);
}

static void test_header_names(void)
{
    const char *text = "\"time, utc\",\"cpu \"\"user\"\"\",mem\n1,2,3\n";
    FILE *f = mem(text);
    struct csv_reader *r = NULL;

    CHECK(csv_open(f, "h.csv", &r) == 0, "open");
    CHECK(csv_n_dims(r) == 2, "dims: expected 2, got %zu", csv_n_dims(r));
    CHECK(!strcmp(csv_ts_name(r), "time, utc"), "ts name: got '%s'", csv_ts_name(r));
    CHECK(!strcmp(csv_dim_name(r, 0), "cpu \"user\""), "dim 0 name: got '%s'", csv_dim_name(r, 0));
    CHECK(!strcmp(csv_dim_name(r, 1), "mem"), "dim 1 name: got '%s'", csv_dim_name(r, 1));
    csv_close(r);
    fclose(f);
}

static void test_timestamps(void)
{
    static const struct {
        const char *s;
        double want;
    } ok[] = {
        { "1704067200", 1704067200.0 },
        { "1704067200.25", 1704067200.25 },
        { "2024-01-01 00:00:00", 1704067200.0 },
        { "2024-01-02T03:04:05Z", 1704067200.0 + 86400 + 3 * 3600 + 4 * 60 + 5 },
        { "2024-01-02T03:04:05.5Z", 1704067200.0 + 86400 + 11045.5 },
        { "2024-01-02T03:04:05+02:00", 1704067200.0 + 86400 + 11045 - 7200 },
        { "2024-01-02T03:04:05-0130", 1704067200.0 + 86400 + 11045 + 5400 },
        { "2024-02-29 12:00:00", 1709208000.0 },
        { "1969-12-31 23:59:59", -1.0 },
    };
    static const char *const bad[] = { "", "2023-02-29 00:00:00", "2024-01-01", "2024-01-01 25:00:00",
                                       "2024-01-01T00:00:00+", "nan", "inf", "2024/01/01 00:00:00",
                                       "2024-01-01 00:00:00 UTC" };
    double e;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int err = csv_parse_time(ok[i].s, &e);

        CHECK(err == 0 && fabs(e - ok[i].want) < 1e-6, "'%s': expected %.3f, got %d/%.3f",
              ok[i].s, ok[i].want, err, e);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(csv_parse_time(bad[i], &e) == -EINVAL, "'%s' must be rejected", bad[i]);
}

int main(void)
{
    test_bad_inputs();
    test_good_inputs();
    test_header_names();
    test_timestamps();
    return t_done("test_detect_csv");
}
