/* fetch.h - requests that several commands share: one target from "list", and a series of
 * one or more families, checked and joined. */
#ifndef OSDCTL_FETCH_H
#define OSDCTL_FETCH_H
#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "target.h"

struct cli;

/* The target object named by tgt (new reference), or NULL in *target when it is not a
 * target. Returns 0 or an exit status / CLI_INTERRUPTED as cli_call(). */
int fetch_target(struct cli *cli, const struct target_arg *tgt, json_t **target);

struct fetch_range {
    double since;      /* epoch s, inclusive; <= 0: from the oldest point */
    double until;      /* epoch s, inclusive; <= 0: to the newest point */
    long long limit;   /* > 0: only the newest limit points */
    const char *function; /* metric "func": which function (BINARY:FUNCTION) */
};

/* The points of families[0..n) in range, joined on time when n > 1 (series_merge()).
 * *complete is the time up to which every family has answered (the oldest of their newest
 * points; +INFINITY when n == 1): rows after it may still gain values. Returns 0 with
 * *reply (new reference), or an exit status / CLI_INTERRUPTED as cli_call(). */
int fetch_series(struct cli *cli, const struct target_arg *tgt, const char *const *families, size_t n, const struct fetch_range *r,
                 json_t **reply, double *complete);
#endif
