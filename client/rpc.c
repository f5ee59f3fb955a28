/* rpc.c - see rpc.h. A reply is trusted only after its shape and id are checked. */
#include "rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *rpc_request_encode(json_int_t id, const char *method, json_t *params)
{
    json_t *req = json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id", id, "method", method);
    char *line;

    if (!req)
        return NULL;
    if (params && json_object_set(req, "params", params)) {
        json_decref(req);
        return NULL;
    }
    /* JSON_COMPACT never emits a newline, which would end the request early. */
    line = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(req);
    return line;
}

int rpc_reply_decode(const char *line, size_t len, json_int_t id, json_t **result, json_t **error,
                     char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *rep = json_loadb(line, len, 0, &jerr);
    json_t *ver, *rid, *res, *e;
    int ret = -EPROTO;

    *result = NULL;
    *error = NULL;
    if (!rep) {
        snprintf(why, whylen, "reply is not JSON: %s at byte %d", jerr.text, jerr.position);
        return -EPROTO;
    }
    ver = json_object_get(rep, "jsonrpc");
    rid = json_object_get(rep, "id");
    res = json_object_get(rep, "result");
    e = json_object_get(rep, "error");
    if (!json_is_object(rep) || !json_is_string(ver) || strcmp(json_string_value(ver), "2.0")) {
        snprintf(why, whylen, "reply is not a JSON-RPC 2.0 object");
        goto out;
    }
    /* A null id answers a request the daemon could not parse; it is still our error. */
    if (!(json_is_null(rid) && e) && (!json_is_integer(rid) || json_integer_value(rid) != id)) {
        snprintf(why, whylen, "reply id does not match request id %lld", (long long)id);
        goto out;
    }
    if (!res == !e) {
        snprintf(why, whylen, "reply must have exactly one of 'result' and 'error'");
        goto out;
    }
    if (e) {
        if (!json_is_object(e)) {
            snprintf(why, whylen, "reply 'error' is not an object");
            goto out;
        }
        *error = json_incref(e);
        ret = RPC_DAEMON_ERROR;
        goto out;
    }
    *result = json_incref(res);
    ret = 0;
out:
    json_decref(rep);
    return ret;
}

int rpc_call(struct conn *c, json_int_t id, const char *method, json_t *params, json_t **result,
             json_t **error, char *why, size_t whylen)
{
    char *req = rpc_request_encode(id, method, params);
    char *line;
    size_t len;
    int err;

    *result = NULL;
    *error = NULL;
    if (!req)
        return -ENOMEM;
    err = conn_send_line(c, req, strlen(req));
    free(req);
    if (err)
        return err;
    err = conn_read_line(c, &line, &len);
    if (err)
        return err;
    return rpc_reply_decode(line, len, id, result, error, why, whylen);
}

int rpc_error_code(const json_t *error)
{
    json_t *code = json_object_get(error, "code");

    return json_is_integer(code) ? (int)json_integer_value(code) : 0;
}

const char *rpc_error_message(const json_t *error)
{
    json_t *msg = json_object_get(error, "message");

    return json_is_string(msg) ? json_string_value(msg) : "unknown error (no message in reply)";
}
