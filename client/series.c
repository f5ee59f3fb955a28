/* series.c - see series.h. */
#include "series.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static double point_time(const json_t *row)
{
    return json_number_value(json_array_get(row, 0));
}

/* Times carry milliseconds; comparing rounded keys avoids float equality surprises. */
static int64_t time_key(double t)
{
    return llround(t * 1000);
}

int series_check(const json_t *reply, char *why, size_t whylen)
{
    const json_t *columns = json_object_get(reply, "columns");
    const json_t *points = json_object_get(reply, "points");
    size_t i, j, ncols = json_array_size(columns);
    double prev = -INFINITY;

    if (!json_is_array(columns) || !ncols || !json_is_array(points)) {
        snprintf(why, whylen, "series reply needs arrays 'columns' and 'points'");
        return -EPROTO;
    }
    for (i = 0; i < ncols; i++) {
        if (!json_is_string(json_array_get(columns, i))) {
            snprintf(why, whylen, "series column %zu is not a string", i);
            return -EPROTO;
        }
    }
    if (strcmp(json_string_value(json_array_get(columns, 0)), "time")) {
        snprintf(why, whylen, "series first column is not 'time'");
        return -EPROTO;
    }
    for (i = 0; i < json_array_size(points); i++) {
        const json_t *row = json_array_get(points, i);

        if (!json_is_array(row) || json_array_size(row) != ncols || !json_is_number(json_array_get(row, 0))) {
            snprintf(why, whylen, "series point %zu is not an array of %zu values starting with a time", i, ncols);
            return -EPROTO;
        }
        for (j = 1; j < ncols; j++) {
            const json_t *v = json_array_get(row, j);

            if (!json_is_number(v) && !json_is_null(v)) {
                snprintf(why, whylen, "series point %zu value %zu is not a number", i, j);
                return -EPROTO;
            }
        }
        if (point_time(row) < prev) {
            snprintf(why, whylen, "series point %zu goes back in time", i);
            return -EPROTO;
        }
        prev = point_time(row);
    }
    return 0;
}

double series_last_time(const json_t *reply)
{
    const json_t *points = json_object_get(reply, "points");
    size_t n = json_array_size(points);

    return n ? point_time(json_array_get(points, n - 1)) : -INFINITY;
}

/* Appends the values (all but time) of row, or ncols - 1 nulls when row is NULL. */
static int row_append_values(json_t *out, const json_t *row, size_t ncols)
{
    size_t j;

    for (j = 1; j < ncols; j++) {
        if (json_array_append(out, row ? json_array_get(row, j) : json_null()))
            return -ENOMEM;
    }
    return 0;
}

json_t *series_merge(json_t *const *replies, size_t n)
{
    json_t *out, *columns, *points, *row = NULL;
    size_t pos[16] = { 0 }, i, j;

    if (!n || n > sizeof(pos) / sizeof(pos[0]))
        return NULL;
    out = json_pack("{s:O?, s:s, s:O?, s:[s], s:[]}", "pid", json_object_get(replies[0], "pid"),
                    "metric", "all", "interval_ms", json_object_get(replies[0], "interval_ms"),
                    "columns", "time", "points");
    if (!out)
        return NULL;
    columns = json_object_get(out, "columns");
    points = json_object_get(out, "points");
    for (i = 0; i < n; i++) {
        const json_t *cols = json_object_get(replies[i], "columns");

        for (j = 1; j < json_array_size(cols); j++) {
            if (json_array_append(columns, json_array_get(cols, j)))
                goto err;
        }
    }
    /* An n-way merge of time-sorted point lists. */
    for (;;) {
        int64_t key = INT64_MAX;
        json_t *time = NULL;

        for (i = 0; i < n; i++) {
            const json_t *p = json_object_get(replies[i], "points");

            if (pos[i] < json_array_size(p) && time_key(point_time(json_array_get(p, pos[i]))) < key) {
                key = time_key(point_time(json_array_get(p, pos[i])));
                time = json_array_get(json_array_get(p, pos[i]), 0);
            }
        }
        if (!time)
            break;
        row = json_array();
        if (!row || json_array_append(row, time))
            goto err;
        for (i = 0; i < n; i++) {
            const json_t *p = json_object_get(replies[i], "points");
            const json_t *r = json_array_get(p, pos[i]);
            size_t ncols = json_array_size(json_object_get(replies[i], "columns"));
            int here = r && time_key(point_time(r)) == key;

            if (row_append_values(row, here ? r : NULL, ncols))
                goto err;
            pos[i] += here;
        }
        if (json_array_append_new(points, row)) {
            row = NULL;
            goto err;
        }
        row = NULL;
    }
    return out;
err:
    json_decref(row);
    json_decref(out);
    return NULL;
}

json_t *series_slice(const json_t *reply, double after, double upto)
{
    const json_t *points = json_object_get(reply, "points");
    json_t *out = json_copy((json_t *)reply), *sel = json_array();
    size_t i;

    if (!out || !sel)
        goto err;
    for (i = 0; i < json_array_size(points); i++) {
        json_t *row = json_array_get(points, i);
        double t = point_time(row);

        if (t > after && t <= upto && json_array_append(sel, row))
            goto err;
    }
    if (json_object_set_new(out, "points", sel)) {
        sel = NULL;
        goto err;
    }
    return out;
err:
    json_decref(sel);
    json_decref(out);
    return NULL;
}

int series_trim(json_t *reply, size_t keep)
{
    const json_t *points = json_object_get(reply, "points");
    size_t i, n = json_array_size(points);
    json_t *sel;

    if (n <= keep)
        return 0;
    sel = json_array();
    if (!sel)
        return -ENOMEM;
    for (i = n - keep; i < n; i++) {
        if (json_array_append(sel, json_array_get(points, i))) {
            json_decref(sel);
            return -ENOMEM;
        }
    }
    return json_object_set_new(reply, "points", sel) ? -ENOMEM : 0;
}
