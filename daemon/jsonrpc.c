/* jsonrpc.c - see jsonrpc.h. */
#include "jsonrpc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "osd_proto.h"

int rpc_fail(struct rpc_error *e, int code, const char *field, const char *fmt, ...)
{
    va_list ap;

    e->code = code;
    e->field = field;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

void jsonrpc_request_free(struct rpc_request *req)
{
    json_decref(req->root);
    memset(req, 0, sizeof(*req));
}

int jsonrpc_parse(const char *line, size_t len, struct rpc_request *req, struct rpc_error *e)
{
    json_error_t jerr;
    json_t *v;

    memset(req, 0, sizeof(*req));
    req->root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!req->root)
        return rpc_fail(e, OSD_E_PARSE, NULL, "parse error at column %d: %s", jerr.column, jerr.text);
    if (json_is_array(req->root))
        return rpc_fail(e, OSD_E_INVALID_REQUEST, NULL, "batch requests are not supported; send one object per line");
    if (!json_is_object(req->root))
        return rpc_fail(e, OSD_E_INVALID_REQUEST, NULL, "a request must be a JSON object");
    v = json_object_get(req->root, "id");
    if (v && !json_is_null(v) && !json_is_string(v) && !json_is_integer(v))
        return rpc_fail(e, OSD_E_INVALID_REQUEST, "id", "'id' must be a string, an integer or null");
    req->id = v;
    v = json_object_get(req->root, "jsonrpc");
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0"))
        return rpc_fail(e, OSD_E_INVALID_REQUEST, "jsonrpc", "member 'jsonrpc' must be \"2.0\"");
    v = json_object_get(req->root, "method");
    if (!json_is_string(v))
        return rpc_fail(e, OSD_E_INVALID_REQUEST, "method", "member 'method' must be a string");
    req->method = json_string_value(v);
    v = json_object_get(req->root, "params");
    if (v && !json_is_object(v) && !json_is_null(v))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, "params", "'params' must be an object (by-name parameters)");
    if (!v || json_is_null(v)) {
        v = json_object();
        if (!v || json_object_set_new(req->root, "params", v))
            return rpc_fail(e, OSD_E_INTERNAL, NULL, "out of memory");
    }
    req->params = v;
    return 0;
}

json_t *jsonrpc_result(json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result",
                     result ? result : json_null());
}

json_t *jsonrpc_error(json_t *id, const struct rpc_error *e)
{
    json_t *err = json_pack("{s:i, s:s}", "code", e->code, "message", e->msg);

    if (err && e->field)
        json_object_set_new(err, "data", json_pack("{s:s}", "field", e->field));
    return json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", err);
}

int params_only(json_t *params, const char *const *allowed, struct rpc_error *e)
{
    const char *key;
    json_t *v;

    json_object_foreach(params, key, v) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key))
            a++;
        if (!*a)
            return rpc_fail(e, OSD_E_INVALID_PARAMS, NULL, "unknown param '%s'", key);
    }
    return 0;
}

int param_int(json_t *params, const char *name, bool required, long long lo, long long hi, long long *out,
              bool *present, struct rpc_error *e)
{
    json_t *v = json_object_get(params, name);
    long long x;

    if (present)
        *present = v != NULL;
    if (!v) {
        if (required)
            return rpc_fail(e, OSD_E_INVALID_PARAMS, name, "missing param '%s'", name);
        return 0;
    }
    if (!json_is_integer(v))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, name, "param '%s' must be an integer", name);
    x = json_integer_value(v);
    if (x < lo || x > hi)
        return rpc_fail(e, OSD_E_INVALID_PARAMS, name, "param '%s' must be between %lld and %lld, got %lld", name,
                        lo, hi, x);
    *out = x;
    return 0;
}

int param_bool(json_t *params, const char *name, bool *out, bool *present, struct rpc_error *e)
{
    json_t *v = json_object_get(params, name);

    if (present)
        *present = v != NULL;
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, name, "param '%s' must be true or false", name);
    *out = json_is_true(v);
    return 0;
}

int param_number(json_t *params, const char *name, double *out, bool *present, struct rpc_error *e)
{
    json_t *v = json_object_get(params, name);

    if (present)
        *present = v != NULL;
    if (!v)
        return 0;
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, name, "param '%s' must be a number", name);
    *out = json_number_value(v);
    return 0;
}

int param_string(json_t *params, const char *name, bool required, const char **out, struct rpc_error *e)
{
    json_t *v = json_object_get(params, name);

    if (!v) {
        if (required)
            return rpc_fail(e, OSD_E_INVALID_PARAMS, name, "missing param '%s'", name);
        return 0;
    }
    if (!json_is_string(v))
        return rpc_fail(e, OSD_E_INVALID_PARAMS, name, "param '%s' must be a string", name);
    *out = json_string_value(v);
    return 0;
}
