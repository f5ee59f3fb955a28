/* fetch.c - see fetch.h. */
#include "fetch.h"

#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "osd_proto.h"
#include "series.h"

int fetch_target(struct cli *cli, const struct target_arg *tgt, json_t **target)
{
    json_t *res, *targets;
    size_t i;
    int ret;

    *target = NULL;
    ret = cli_call_array(cli, OSD_M_LIST, NULL, "targets", &res, &targets);
    if (ret)
        return ret;
    for (i = 0; i < json_array_size(targets); i++) {
        json_t *t = json_array_get(targets, i);

        if (target_arg_match(t, tgt)) {
            *target = json_incref(t);
            break;
        }
    }
    json_decref(res);
    return 0;
}

int fetch_series(struct cli *cli, const struct target_arg *tgt, const char *const *families, size_t n, const struct fetch_range *r,
                 json_t **reply, double *complete)
{
    json_t *parts[8] = { NULL };
    char why[256];
    size_t i;
    int ret = 0;

    *reply = NULL;
    *complete = INFINITY;
    if (!n || n > sizeof(parts) / sizeof(parts[0]))
        return cli_bad_reply(cli, "internal: bad number of metric families");
    for (i = 0; i < n; i++) {
        json_t *params = target_arg_pack(tgt);

        if (!params || json_object_set_new(params, "metric", json_string(families[i])) ||
            (r->since > 0 && json_object_set_new(params, "since", json_real(r->since))) ||
            (r->until > 0 && json_object_set_new(params, "until", json_real(r->until))) ||
            (r->limit > 0 && json_object_set_new(params, "limit", json_integer(r->limit))) ||
            (r->function && json_object_set_new(params, "function", json_string(r->function)))) {
            json_decref(params);
            ret = cli_oom(cli);
            goto out;
        }
        ret = cli_call(cli, OSD_M_SERIES, params, &parts[i]);
        json_decref(params);
        if (ret)
            goto out;
        if (series_check(parts[i], why, sizeof(why))) {
            ret = cli_bad_reply(cli, why);
            goto out;
        }
        if (n > 1 && series_last_time(parts[i]) < *complete)
            *complete = series_last_time(parts[i]);
    }
    if (n == 1) {
        *reply = json_incref(parts[0]);
        goto out;
    }
    *reply = series_merge(parts, n);
    if (!*reply) {
        ret = cli_oom(cli);
        goto out;
    }
    /* Each family kept its newest limit points; the joined rows may be more. */
    if (r->limit > 0 && series_trim(*reply, (size_t)r->limit)) {
        json_decref(*reply);
        *reply = NULL;
        ret = cli_oom(cli);
    }
out:
    for (i = 0; i < n && i < sizeof(parts) / sizeof(parts[0]); i++)
        json_decref(parts[i]);
    return ret;
}
