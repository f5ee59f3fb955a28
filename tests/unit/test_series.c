/* test_series.c - ring wrap, order, range queries and bounds of daemon/series.c. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "series.h"

static void test_append_and_wrap(void)
{
    struct series s;
    double v[2];
    int64_t t;

    CHECK_INT(series_init(&s, 4, 2), 0);
    for (int i = 0; i < 10; i++) {
        v[0] = i;
        v[1] = -i;
        CHECK_INT(series_append(&s, 1000 + i * 10, v), 0);
        CHECK_INT(s.len, i + 1 < 4 ? i + 1 : 4);
    }
    /* rows 6..9 survive, oldest first */
    for (size_t i = 0; i < s.len; i++) {
        const double *r = series_row(&s, i, &t);
        CHECK_INT(t, 1000 + (6 + (int)i) * 10);
        CHECK_INT(r[0], 6 + (int)i);
        CHECK_INT(r[1], -(6 + (int)i));
    }
    CHECK_INT(series_bytes(&s), 4 * (8 + 2 * 8));
    series_free(&s);
}

static void test_time_goes_back(void)
{
    struct series s;
    double v = 1;

    CHECK_INT(series_init(&s, 8, 1), 0);
    CHECK_INT(series_append(&s, 100, &v), 0);
    CHECK_INT(series_append(&s, 100, &v), 0); /* equal times are allowed */
    CHECK_INT(series_append(&s, 99, &v), -EINVAL);
    CHECK_INT(s.len, 2);
    series_free(&s);
}

static void test_range(void)
{
    struct series s;
    size_t first, last;
    double v = 0;

    CHECK_INT(series_init(&s, 5, 1), 0);
    series_range(&s, 0, 1000, &first, &last);
    CHECK_INT(last - first, 0);
    for (int i = 0; i < 8; i++) /* times 0,10,...,70; kept: 30..70 */
        series_append(&s, i * 10, &v);
    series_range(&s, 0, INT64_MAX, &first, &last);
    CHECK_INT(first, 0);
    CHECK_INT(last, 5);
    series_range(&s, 40, 60, &first, &last); /* inclusive both ends */
    CHECK_INT(first, 1);
    CHECK_INT(last, 4);
    series_range(&s, 41, 59, &first, &last);
    CHECK_INT(first, 2);
    CHECK_INT(last, 3);
    series_range(&s, 71, 100, &first, &last);
    CHECK_INT(last - first, 0);
    series_range(&s, 60, 40, &first, &last); /* reversed range is empty */
    CHECK_INT(last - first, 0);
    series_free(&s);
}

static void test_bad_init(void)
{
    struct series s;

    CHECK_INT(series_init(&s, 0, 1), -EINVAL);
    CHECK_INT(series_init(&s, 1, 0), -EINVAL);
    CHECK_INT(series_init(&s, SIZE_MAX / 2, 4), -EINVAL);
}

/* A full day at 1 s, appended and queried in O(1)/O(log n): a smoke check of scale. */
static void test_large(void)
{
    struct series s;
    size_t first, last;
    double v[3] = { 1, 2, 3 };

    CHECK_INT(series_init(&s, 86400, 3), 0);
    for (int64_t i = 0; i < 200000; i++)
        series_append(&s, i * 1000, v);
    CHECK_INT(s.len, 86400);
    series_range(&s, (200000 - 600) * 1000LL, INT64_MAX, &first, &last);
    CHECK_INT(last - first, 600);
    series_free(&s);
}

/* Storage starts small, doubles up to the capacity, and wraps correctly after growing. */
static void test_growth(void)
{
    struct series s;
    double v;
    int64_t t;

    CHECK_INT(series_init(&s, 100, 1), 0);
    CHECK_INT(series_bytes(&s), 64 * 16);
    CHECK_INT(series_cap_bytes(&s), 100 * 16);
    for (int i = 0; i < 65; i++) {
        v = i;
        CHECK_INT(series_append(&s, i, &v), 0);
    }
    CHECK_INT(series_bytes(&s), 100 * 16); /* doubled, clamped to the capacity */
    for (int i = 65; i < 250; i++) {
        v = i;
        series_append(&s, i, &v);
    }
    CHECK_INT(s.len, 100);
    for (size_t i = 0; i < s.len; i++) {
        const double *r = series_row(&s, i, &t);
        CHECK_INT(t, 150 + (int)i);
        CHECK_INT(r[0], 150 + (int)i);
    }
    series_free(&s);
}

int main(void)
{
    test_growth();
    test_append_and_wrap();
    test_time_goes_back();
    test_range();
    test_bad_init();
    test_large();
    CHECK_DONE();
}
