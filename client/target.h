/* target.h - how a command names a target: a PID, a systemd unit name (NAME.service,
 * .scope, .slice: any word with a '.' and no '/') or a cgroup path (starting with '/'). */
#ifndef OSDCTL_TARGET_H
#define OSDCTL_TARGET_H
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct target_arg {
    pid_t pid;          /* > 0: the root process of a target */
    const char *cgroup; /* else a cgroup path (points into argv) */
    const char *unit;   /* else a unit name (points into argv) */
    char label[24];     /* the pid as text, for messages */
};

/* Parses a PID, unit name or cgroup path. 0, or -EINVAL (none of them) / -ERANGE
 * (a number that is not a pid). */
int target_arg_parse(const char *s, struct target_arg *t);
static inline void target_arg_pid(struct target_arg *t, pid_t pid)
{
    *t = (struct target_arg){ .pid = pid };
    snprintf(t->label, sizeof(t->label), "%d", (int)pid);
}
/* Sets "pid", "cgroup" or "unit" in params; 0 or -ENOMEM. */
int target_arg_params(json_t *params, const struct target_arg *t);
/* A new params object naming the target (NULL on out of memory). */
json_t *target_arg_pack(const struct target_arg *t);
/* Does a target object of "list" match? */
bool target_arg_match(const json_t *target, const struct target_arg *t);
/* The target as the user wrote it ("1234", "nginx.service", "/sys/fs/cgroup/..."). */
const char *target_arg_str(const struct target_arg *t);
/* How a target object of the daemon is shown: its unit, else its cgroup, else its pid. */
const char *target_json_name(const json_t *target, char *buf, size_t len);
#endif
