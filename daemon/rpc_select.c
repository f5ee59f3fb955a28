/* rpc_select.c - see rpc_select.h. */
#include "rpc_select.h"

#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "osd_proto.h"
#include "rpc.h"
#include "targets.h"

int rpc_sel_read(json_t *p, bool required, struct target_sel *sel, struct rpc_error *e)
{
    const char *path = NULL, *unit = NULL;
    long long pid = 0;
    int n, err;

    memset(sel, 0, sizeof(*sel));
    if (param_int(p, "pid", false, 1, 0x7fffffff, &pid, NULL, e) || param_string(p, "cgroup", false, &path, e) ||
        param_string(p, "unit", false, &unit, e))
        return -1;
    n = (pid > 0) + (path != NULL) + (unit != NULL);
    if (n > 1)
        return rpc_fail(e, OSD_E_INVALID_PARAMS, pid > 0 ? "pid" : "cgroup",
                        "name the target by only one of 'pid', 'cgroup' and 'unit'");
    if (n == 0) {
        if (required)
            return rpc_fail(e, OSD_E_INVALID_PARAMS, "pid", "missing param 'pid' (or 'cgroup' or 'unit')");
        return 0;
    }
    if (pid > 0) {
        sel->pid = (pid_t)pid;
        sel->field = "pid";
    } else if (path) {
        sel->field = "cgroup";
        err = cgroup_normalize(path, sel->cgroup, sizeof(sel->cgroup));
        if (err == -ENOENT)
            return rpc_fail(e, OSD_E_INVALID_PARAMS, "cgroup", "cgroup '%s': no cgroup2 filesystem is mounted", path);
        if (err)
            return rpc_fail(e, OSD_E_INVALID_PARAMS, "cgroup", "invalid cgroup path '%s' (%s)", path,
                            err == -EINVAL ? "empty, or contains '..'" : "too long");
    } else {
        sel->field = "unit";
        if (!unit[0] || strchr(unit, '/') || strlen(unit) >= sizeof(sel->unit))
            return rpc_fail(e, OSD_E_INVALID_PARAMS, "unit",
                            "invalid unit name '%s' (a name like nginx.service, without '/', at most %zu bytes)", unit,
                            sizeof(sel->unit) - 1);
        memcpy(sel->unit, unit, strlen(unit) + 1);
    }
    return 0;
}

/* A unit names the target watched by that name, or the one watching its cgroup. */
static struct target *find_unit(struct daemon *d, const char *unit)
{
    struct target *t = target_find_unit(d, unit);
    struct cgroup_ref cg;
    char msg[256];

    if (!t && cgroup_resolve(NULL, unit, &cg, msg, sizeof(msg)) == 0)
        t = target_find_cgroup(d, cg.path);
    return t;
}

struct target *rpc_get_target(struct daemon *d, struct rpc_conn *c, json_t *params, struct rpc_error *e)
{
    struct target_sel sel;
    struct target *t;
    char who[CGROUP_PATH_MAX + 16];

    if (rpc_sel_read(params, true, &sel, e))
        return NULL;
    if (sel.pid) {
        t = target_find(d, sel.pid);
        snprintf(who, sizeof(who), "pid %d", (int)sel.pid);
    } else if (sel.cgroup[0]) {
        t = target_find_cgroup(d, sel.cgroup);
        snprintf(who, sizeof(who), "cgroup %s", sel.cgroup);
    } else {
        t = find_unit(d, sel.unit);
        snprintf(who, sizeof(who), "unit %s", sel.unit);
    }
    if (!t) {
        rpc_fail(e, OSD_E_NOT_WATCHED, sel.field, "%s is not watched (see 'list')", who);
        return NULL;
    }
    if (!target_visible(t, rpc_conn_uid(c))) {
        rpc_fail(e, OSD_E_PERMISSION, sel.field, "permission denied: %s is watched by another user", who);
        return NULL;
    }
    return t;
}

void rpc_sel_filter(struct daemon *d, const struct target_sel *sel, struct anomaly_filter *f)
{
    struct target *t;

    memset(f, 0, sizeof(*f));
    f->pid = sel->pid;
    memcpy(f->cgroup, sel->cgroup, sizeof(f->cgroup));
    if (!sel->unit[0])
        return;
    /* a unit being watched: all of its cgroup's anomalies, however it was named */
    if ((t = find_unit(d, sel->unit)))
        memcpy(f->cgroup, t->cgroup, sizeof(f->cgroup));
    else
        memcpy(f->unit, sel->unit, sizeof(f->unit));
}

void rpc_target_keys(json_t *o, const struct target *t)
{
    json_object_set_new(o, "pid", json_integer(t->pid));
    json_object_set_new(o, "cgroup", target_is_cgroup(t) ? json_string(t->cgroup) : json_null());
    json_object_set_new(o, "unit", t->unit[0] ? json_string(t->unit) : json_null());
}
