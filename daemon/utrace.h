/* utrace.h - user-function tracing: probes "BINARY:FUNCTION" for a target (a slot of
 * collect_uprobe.c), shared by the connections tracing it (each with its own message
 * formats) and by `watch` counting; turns the slot's events into `trace` notifications
 * and its counters into the target's per-function series (kept until unwatch). */
#ifndef OSD_UTRACE_H
#define OSD_UTRACE_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "series.h"
#include "ufmt.h"
#include "uprobe.h"

struct daemon;
struct target;
struct rpc_conn;
struct utracer;

#define UTRACE_NAME_MAX 400   /* "/path/bin:func" */
#define UTRACE_FUNC_MAX 128
#define UTRACE_FUNCS_PER_TARGET (2 * OSD_UP_SLOTS) /* series kept, probed or not */

/* Columns of a function's series, after the time column. */
enum { UF_COL_CALLS, UF_COL_AVG, UF_COL_P50, UF_COL_P99, UF_NCOLS };

/* One traced function of a target: its series outlives the probe. */
struct ufunc {
    char name[UTRACE_NAME_MAX];
    int slot;              /* attached slot, -1 when no longer probed */
    struct up_stats bank;  /* totals of the attachments that ended */
    struct up_stats prev;  /* cumulative totals at the previous tick */
    struct series s;
};

/* A parsed and located "BINARY:FUNCTION". */
struct uprobe_spec {
    char path[256];
    char func[UTRACE_FUNC_MAX];
    char name[UTRACE_NAME_MAX]; /* path:func, the canonical name */
    uint64_t offset;
};

/* Splits spec, finds the binary (an absolute path, or a file name mapped by pid) and, if
 * check_elf, the function in it. 0, or a negative errno with why: -EINVAL malformed,
 * -ENOENT no such file, -ESRCH no such function, others from uprobe_elf_resolve(). */
int utrace_resolve(pid_t pid, const char *spec, bool check_elf, struct uprobe_spec *out, char *why, size_t whylen);
/* Connection c starts tracing s on target t with these formats. 0, or -ENOTSUP (no BPF;
 * d->up_error says why), -EMFILE (every slot in use), -ENOSPC (the target has too many
 * traced functions), another negative errno if attaching failed. */
int utrace_start(struct target *t, const struct uprobe_spec *s, const struct ufmt *enter, const struct ufmt *ret,
                 struct rpc_conn *c);
/* `watch` counting of s for the target's whole life (no stream); errors as utrace_start. */
int utrace_hold(struct target *t, const struct uprobe_spec *s);
void utrace_release(struct daemon *d, struct utracer *u); /* the tracing connection closed */
void utrace_target_gone(struct target *t); /* unwatch: detaches its probes */
void utrace_target_free(struct target *t); /* frees its function series */
/* One tick of t: appends a row to each function series when emit (counters read always). */
void utrace_sample(struct target *t, int64_t now_ms, bool emit);
struct ufunc *utrace_find(struct target *t, const char *name);
const char *const *utrace_cols(void); /* UF_NCOLS column names */
json_t *utrace_functions_json(const struct target *t); /* ["bin:func", ...] */
json_t *utrace_status(struct daemon *d);
void utrace_close(struct daemon *d); /* at shutdown, after every target is gone */
#endif
