/* target.c - see target.h. */
#include "target.h"

#include <errno.h>
#include <string.h>

#include "args.h"

int target_arg_parse(const char *s, struct target_arg *t)
{
    pid_t pid;
    int err;

    memset(t, 0, sizeof(*t));
    if (s[0] == '/') {
        t->cgroup = s;
        return 0;
    }
    if (strchr(s, '.') && !strchr(s, '/') && s[0] != '.') {
        t->unit = s;
        return 0;
    }
    err = args_parse_pid(s, &pid);
    if (err)
        return err;
    target_arg_pid(t, pid);
    return 0;
}

int target_arg_params(json_t *p, const struct target_arg *t)
{
    if (t->pid)
        return json_object_set_new(p, "pid", json_integer(t->pid)) ? -ENOMEM : 0;
    if (t->cgroup)
        return json_object_set_new(p, "cgroup", json_string(t->cgroup)) ? -ENOMEM : 0;
    if (t->unit)
        return json_object_set_new(p, "unit", json_string(t->unit)) ? -ENOMEM : 0;
    return 0;
}

json_t *target_arg_pack(const struct target_arg *t)
{
    json_t *p = json_object();

    if (p && target_arg_params(p, t)) {
        json_decref(p);
        return NULL;
    }
    return p;
}

/* Equal paths but for trailing slashes. */
static bool same_path(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);

    while (na > 1 && a[na - 1] == '/')
        na--;
    while (nb > 1 && b[nb - 1] == '/')
        nb--;
    return na == nb && !strncmp(a, b, na);
}

bool target_arg_match(const json_t *target, const struct target_arg *t)
{
    const char *cg = json_string_value(json_object_get(target, "cgroup"));
    const char *unit = json_string_value(json_object_get(target, "unit"));
    const char *base;

    if (t->pid)
        return json_integer_value(json_object_get(target, "pid")) == t->pid;
    if (!cg)
        return false;
    if (t->cgroup)
        return same_path(cg, t->cgroup);
    if (unit)
        return !strcmp(unit, t->unit);
    base = strrchr(cg, '/'); /* watched by path: the unit is the directory's name */
    return base && !strcmp(base + 1, t->unit);
}

const char *target_arg_str(const struct target_arg *t)
{
    return t->cgroup ? t->cgroup : t->unit ? t->unit : t->label;
}

const char *target_json_name(const json_t *target, char *buf, size_t len)
{
    const char *unit = json_string_value(json_object_get(target, "unit"));
    const char *cg = json_string_value(json_object_get(target, "cgroup"));

    if (unit)
        return unit;
    if (cg)
        return cg;
    snprintf(buf, len, "%lld", (long long)json_integer_value(json_object_get(target, "pid")));
    return buf;
}
