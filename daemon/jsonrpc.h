/* jsonrpc.h - JSON-RPC 2.0 request parsing, reply building and typed param access.
 * Errors carry a message that names the offending member. */
#ifndef OSD_JSONRPC_H
#define OSD_JSONRPC_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct rpc_error {
    int code;            /* OSD_E_* */
    char msg[256];
    const char *field;   /* param name, or NULL */
};

struct rpc_request {
    json_t *root;        /* owns everything below */
    json_t *id;          /* NULL for a notification */
    const char *method;
    json_t *params;      /* object, never NULL after a successful parse */
};

/* Parses one line. On error fills e (and req->id when it could be read) and returns -1. */
int jsonrpc_parse(const char *line, size_t len, struct rpc_request *req, struct rpc_error *e);
void jsonrpc_request_free(struct rpc_request *req);
json_t *jsonrpc_result(json_t *id, json_t *result);        /* steals result */
json_t *jsonrpc_error(json_t *id, const struct rpc_error *e);
int rpc_fail(struct rpc_error *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Param access: each returns 0, or -1 with e filled. A missing optional param leaves
 * *out untouched. `allowed` is a NULL-terminated list; other members are refused. */
int params_only(json_t *params, const char *const *allowed, struct rpc_error *e);
int param_int(json_t *params, const char *name, bool required, long long lo, long long hi, long long *out,
              bool *present, struct rpc_error *e);
int param_bool(json_t *params, const char *name, bool *out, bool *present, struct rpc_error *e);
int param_number(json_t *params, const char *name, double *out, bool *present, struct rpc_error *e);
int param_string(json_t *params, const char *name, bool required, const char **out, struct rpc_error *e);
#endif
