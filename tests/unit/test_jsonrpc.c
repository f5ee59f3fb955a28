/* test_jsonrpc.c - request parsing, error objects, typed params of daemon/jsonrpc.c. */
#include <stdbool.h>

#include "check.h"
#include "jsonrpc.h"
#include "osd_proto.h"

static int parse(const char *line, struct rpc_request *req, struct rpc_error *e)
{
    memset(e, 0, sizeof(*e));
    return jsonrpc_parse(line, strlen(line), req, e);
}

static void expect_error(const char *line, int code, const char *needle)
{
    struct rpc_request req;
    struct rpc_error e;

    CHECK_INT(parse(line, &req, &e), -1);
    CHECK(e.code == code, "%s: expected code %d, got %d (%s)", line, code, e.code, e.msg);
    CHECK(strstr(e.msg, needle), "%s: message \"%s\" should mention \"%s\"", line, e.msg, needle);
    jsonrpc_request_free(&req);
}

static void test_parse_ok(void)
{
    struct rpc_request req;
    struct rpc_error e;

    CHECK_INT(parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"list\"}", &req, &e), 0);
    CHECK_STR(req.method, "list");
    CHECK(json_is_object(req.params), "params defaults to an empty object");
    CHECK_INT(json_integer_value(req.id), 7);
    jsonrpc_request_free(&req);
    CHECK_INT(parse("{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"params\":null}", &req, &e), 0);
    CHECK(req.id == NULL, "no id means a notification");
    jsonrpc_request_free(&req);
}

static void test_parse_errors(void)
{
    expect_error("{nope", OSD_E_PARSE, "parse error");
    expect_error("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"list\"}]", OSD_E_INVALID_REQUEST, "batch");
    expect_error("42", OSD_E_INVALID_REQUEST, "object");
    expect_error("{\"id\":1,\"method\":\"list\"}", OSD_E_INVALID_REQUEST, "jsonrpc");
    expect_error("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"list\"}", OSD_E_INVALID_REQUEST, "jsonrpc");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", OSD_E_INVALID_REQUEST, "method");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":1}", OSD_E_INVALID_REQUEST, "method");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"list\"}", OSD_E_INVALID_REQUEST, "id");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[1]}", OSD_E_INVALID_PARAMS, "params");
    expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"x\"}", OSD_E_PARSE, "duplicate");
}

static void test_params(void)
{
    json_t *p = json_loads("{\"pid\":12,\"cpu\":true,\"s\":\"x\",\"n\":1.5,\"bad\":\"12\"}", 0, NULL);
    const char *const allowed[] = { "pid", "cpu", "s", "n", NULL };
    const char *const all[] = { "pid", "cpu", "s", "n", "bad", NULL };
    struct rpc_error e = { 0 };
    long long v = -1;
    bool b = false, present = true;
    double d = 0;
    const char *s = NULL;

    CHECK_INT(params_only(p, all, &e), 0);
    CHECK_INT(params_only(p, allowed, &e), -1);
    CHECK(strstr(e.msg, "'bad'"), "unknown param named: %s", e.msg);
    CHECK_INT(param_int(p, "pid", true, 1, 100, &v, NULL, &e), 0);
    CHECK_INT(v, 12);
    CHECK_INT(param_int(p, "pid", true, 13, 100, &v, NULL, &e), -1);
    CHECK(e.code == OSD_E_INVALID_PARAMS && strstr(e.msg, "between 13 and 100"), "range message: %s", e.msg);
    CHECK_INT(param_int(p, "bad", true, 0, 100, &v, NULL, &e), -1);
    CHECK(strstr(e.msg, "'bad' must be an integer"), "type message: %s", e.msg);
    CHECK_STR(e.field, "bad");
    CHECK_INT(param_int(p, "missing", true, 0, 1, &v, NULL, &e), -1);
    CHECK(strstr(e.msg, "missing param 'missing'"), "missing message: %s", e.msg);
    v = 5;
    CHECK_INT(param_int(p, "missing", false, 0, 1, &v, &present, &e), 0);
    CHECK(!present && v == 5, "optional param left untouched");
    CHECK_INT(param_bool(p, "cpu", &b, &present, &e), 0);
    CHECK(b && present, "bool read");
    CHECK_INT(param_bool(p, "pid", &b, NULL, &e), -1);
    CHECK_INT(param_number(p, "n", &d, NULL, &e), 0);
    CHECK(d == 1.5, "number read");
    CHECK_INT(param_number(p, "pid", &d, NULL, &e), 0); /* integers are numbers too */
    CHECK_INT(param_number(p, "s", &d, NULL, &e), -1);
    CHECK_INT(param_string(p, "s", true, &s, &e), 0);
    CHECK_STR(s, "x");
    CHECK_INT(param_string(p, "pid", true, &s, &e), -1);
    json_decref(p);
}

static void test_replies(void)
{
    struct rpc_error e;
    json_t *id = json_integer(3), *r;
    char *text;

    rpc_fail(&e, OSD_E_NOT_WATCHED, "pid", "pid %d is not watched", 9);
    r = jsonrpc_error(id, &e);
    text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(text, "{\"error\":{\"code\":-32002,\"data\":{\"field\":\"pid\"},\"message\":\"pid 9 is not watched\"},"
                    "\"id\":3,\"jsonrpc\":\"2.0\"}");
    free(text);
    json_decref(r);
    r = jsonrpc_result(NULL, json_pack("{s:i}", "a", 1));
    text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(text, "{\"id\":null,\"jsonrpc\":\"2.0\",\"result\":{\"a\":1}}");
    free(text);
    json_decref(r);
    json_decref(id);
}

int main(void)
{
    test_parse_ok();
    test_parse_errors();
    test_params();
    test_replies();
    CHECK_DONE();
}
