/* series.h - operations on "series" replies held as JSON: check, join families on time,
 * slice by time. No I/O here. */
#ifndef OSDCTL_SERIES_H
#define OSDCTL_SERIES_H
#include <jansson.h>
#include <stddef.h>

/* Checks the shape osdctl relies on: "columns" strings starting with "time", "points" rows of
 * that many numbers or nulls, a numeric time, times never going back. 0 or -EPROTO (why). */
int series_check(const json_t *reply, char *why, size_t whylen);
/* Time of the newest point, or -INFINITY when there are none. */
double series_last_time(const json_t *reply);
/* Joins checked replies of different families on time (to the millisecond): one row per
 * distinct time, oldest first; columns are "time" then each reply's other columns in order;
 * a family without a point at that time gives nulls. The result has "pid" and "interval_ms"
 * of the first reply and "metric": "all". NULL on ENOMEM or n == 0. */
json_t *series_merge(json_t *const *replies, size_t n);
/* A reply with the same members whose points are those with after < time <= upto. */
json_t *series_slice(const json_t *reply, double after, double upto);
/* Keeps only the newest keep points of reply, in place. 0 or -ENOMEM. */
int series_trim(json_t *reply, size_t keep);
#endif
