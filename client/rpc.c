/* rpc.c - see rpc.h. A reply is trusted only after its shape and id are checked. */
#include "rpc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
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

/* Checks a parsed reply (borrowed) to request id; see rpc_reply_decode(). */
static int reply_check(const json_t *rep, json_int_t id, json_t **result, json_t **error, char *why,
                       size_t whylen)
{
    json_t *ver = json_object_get(rep, "jsonrpc");
    json_t *rid = json_object_get(rep, "id");
    json_t *res = json_object_get(rep, "result");
    json_t *e = json_object_get(rep, "error");

    *result = NULL;
    *error = NULL;
    if (!json_is_object(rep) || !json_is_string(ver) || strcmp(json_string_value(ver), "2.0")) {
        snprintf(why, whylen, "reply is not a JSON-RPC 2.0 object");
        return -EPROTO;
    }
    /* A null id answers a request the daemon could not parse; it is still our error. */
    if (!(json_is_null(rid) && e) && (!json_is_integer(rid) || json_integer_value(rid) != id)) {
        snprintf(why, whylen, "reply id does not match request id %lld", (long long)id);
        return -EPROTO;
    }
    if (!res == !e) {
        snprintf(why, whylen, "reply must have exactly one of 'result' and 'error'");
        return -EPROTO;
    }
    if (e) {
        if (!json_is_object(e)) {
            snprintf(why, whylen, "reply 'error' is not an object");
            return -EPROTO;
        }
        *error = json_incref(e);
        return RPC_DAEMON_ERROR;
    }
    *result = json_incref(res);
    return 0;
}

/* A copy of line in which every number too large for a double is the largest double, and
 * every integer from 2^63 to 2^64 - 1 is the int64 with the same bits. A daemon that prints
 * the largest double with 15 digits sends 1.79769313486232e308, which is out of range, and
 * raw 64-bit registers (trace arguments) may come unsigned; jansson refuses both, and one
 * such number would make a whole reply unreadable. NULL on ENOMEM. */
static char *clamp_huge_numbers(const char *line, size_t len, size_t *outlen)
{
    char *out = NULL, num[512];
    FILE *f = open_memstream(&out, outlen);
    size_t i = 0;
    int in_str = 0;

    if (!f)
        return NULL;
    while (i < len) {
        size_t start = i, n;
        double v;

        if (in_str || !(line[i] == '-' || isdigit((unsigned char)line[i]))) {
            if (in_str && line[i] == '\\' && i + 1 < len)
                fputc(line[i++], f);
            else if (line[i] == '"')
                in_str = !in_str;
            fputc(line[i++], f);
            continue;
        }
        while (i < len && strchr("0123456789+-.eE", line[i]))
            i++;
        n = i - start;
        v = 0;
        if (n < sizeof(num)) {
            memcpy(num, line + start, n);
            num[n] = '\0';
            errno = 0;
            v = strtod(num, NULL);
        }
        if (errno == ERANGE && isinf(v)) {
            fputs(v < 0 ? "-1.7976931348623157e308" : "1.7976931348623157e308", f);
        } else if (n < sizeof(num) && num[0] != '-' && !strpbrk(num, ".eE") && v >= 9223372036854775808.0) {
            unsigned long long u;

            errno = 0;
            u = strtoull(num, NULL, 10);
            if (errno == ERANGE)
                fwrite(line + start, 1, n, f);
            else
                fprintf(f, "%lld", (long long)u);
        } else {
            fwrite(line + start, 1, n, f);
        }
    }
    if (fclose(f)) {
        free(out);
        return NULL;
    }
    return out;
}

static json_t *line_parse(const char *line, size_t len, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *msg = json_loadb(line, len, 0, &jerr);

    if (!msg && (strstr(jerr.text, "overflow") || strstr(jerr.text, "too big integer"))) {
        size_t n;
        char *fixed = clamp_huge_numbers(line, len, &n);

        msg = fixed ? json_loadb(fixed, n, 0, &jerr) : NULL;
        free(fixed);
    }
    if (!msg)
        snprintf(why, whylen, "reply is not JSON: %s at byte %d", jerr.text, jerr.position);
    return msg;
}

int rpc_reply_decode(const char *line, size_t len, json_int_t id, json_t **result, json_t **error,
                     char *why, size_t whylen)
{
    json_t *rep = line_parse(line, len, why, whylen);
    int ret;

    *result = NULL;
    *error = NULL;
    if (!rep)
        return -EPROTO;
    ret = reply_check(rep, id, result, error, why, whylen);
    json_decref(rep);
    return ret;
}

int rpc_is_notification(const json_t *msg)
{
    const json_t *ver = json_object_get(msg, "jsonrpc");

    return json_is_object(msg) && json_is_string(ver) && !strcmp(json_string_value(ver), "2.0") &&
           json_is_string(json_object_get(msg, "method")) && !json_object_get(msg, "id");
}

int rpc_send(struct conn *c, json_int_t id, const char *method, json_t *params)
{
    char *req = rpc_request_encode(id, method, params);
    int err;

    if (!req)
        return -ENOMEM;
    err = conn_send_line(c, req, strlen(req));
    free(req);
    return err;
}

int rpc_recv_reply(struct conn *c, json_int_t id, int64_t deadline, rpc_notify_fn fn, void *arg,
                   json_t **result, json_t **error, char *why, size_t whylen)
{
    char *line;
    size_t len;
    int err;

    *result = NULL;
    *error = NULL;
    for (;;) {
        json_t *msg;

        err = conn_read_line_by(c, deadline, &line, &len);
        if (err)
            return err;
        msg = line_parse(line, len, why, whylen);
        if (!msg)
            return -EPROTO;
        if (!rpc_is_notification(msg)) {
            err = reply_check(msg, id, result, error, why, whylen);
            json_decref(msg);
            return err;
        }
        if (fn)
            fn(arg, json_string_value(json_object_get(msg, "method")), json_object_get(msg, "params"));
        json_decref(msg);
    }
}

int rpc_recv_notification(struct conn *c, json_t **msg, char *why, size_t whylen)
{
    char *line;
    size_t len;
    int err;

    *msg = NULL;
    err = conn_read_line_by(c, -1, &line, &len);
    if (err)
        return err;
    *msg = line_parse(line, len, why, whylen);
    if (!*msg)
        return -EPROTO;
    if (!rpc_is_notification(*msg)) {
        json_t *id = json_object_get(*msg, "id");

        if (json_is_integer(id))
            snprintf(why, whylen, "unexpected reply with id %lld while waiting for notifications",
                     (long long)json_integer_value(id));
        else
            snprintf(why, whylen, "expected a JSON-RPC 2.0 notification");
        json_decref(*msg);
        *msg = NULL;
        return -EPROTO;
    }
    return 0;
}

int rpc_call(struct conn *c, json_int_t id, const char *method, json_t *params, json_t **result,
             json_t **error, char *why, size_t whylen)
{
    int err;

    *result = NULL;
    *error = NULL;
    err = rpc_send(c, id, method, params);
    if (err)
        return err;
    return rpc_recv_reply(c, id, conn_deadline(c), NULL, NULL, result, error, why, whylen);
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
