/* rpc_select.h - how a request names a target: `pid` (a root process), `cgroup` (a
 * cgroup v2 path) or `unit` (a systemd unit name); exactly one of them. */
#ifndef OSD_RPC_SELECT_H
#define OSD_RPC_SELECT_H
#include <jansson.h>
#include <stdbool.h>

#include "alerts.h"
#include "cgroup.h"
#include "jsonrpc.h"

struct daemon;
struct rpc_conn;
struct target;

struct target_sel {
    pid_t pid;                    /* > 0 when named by pid */
    char cgroup[CGROUP_PATH_MAX]; /* normalised absolute path, when named by cgroup */
    char unit[CGROUP_UNIT_MAX];   /* when named by unit */
    const char *field;            /* "pid", "cgroup" or "unit"; NULL if none given */
};

/* Reads pid/cgroup/unit from params. More than one is -32602; none is -32602 when
 * required. Returns 0, or -1 with e filled. */
int rpc_sel_read(json_t *params, bool required, struct target_sel *sel, struct rpc_error *e);
/* The target named by params (pid, cgroup or unit), if the client may use it. */
struct target *rpc_get_target(struct daemon *d, struct rpc_conn *c, json_t *params, struct rpc_error *e);
/* The anomaly filter for a selection (all targets when nothing was named). */
void rpc_sel_filter(struct daemon *d, const struct target_sel *sel, struct anomaly_filter *f);
/* Sets "pid", "cgroup" and "unit" of a target on o (null when not a cgroup target). */
void rpc_target_keys(json_t *o, const struct target *t);
#endif
