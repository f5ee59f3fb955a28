/* test_client_conn.c - the transport and JSON-RPC framing: a reply line of several MiB split
 * across many reads, two replies in one read, EOF mid-line, timeouts, connect errors, the
 * checks on a reply (id, version, result xor error), notifications interleaved with replies,
 * one deadline over many lines, and cancellation by a flag set before the wait. */
#include <errno.h>
#include <float.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "conn.h"
#include "rpc.h"

#define BIG (5 * 1024 * 1024 + 123) /* > 4 MiB, not a multiple of any chunk size */

struct writer {
    int fd;
    const char *data;
    size_t len;
    int close_after;
};

/* Writes in small uneven pieces with pauses, so the reader sees many partial reads. */
static void *writer_run(void *arg)
{
    struct writer *w = arg;
    size_t off = 0, piece = 1000;
    int n = 0;

    while (off < w->len) {
        size_t k = piece < w->len - off ? piece : w->len - off;
        ssize_t r = write(w->fd, w->data + off, k);

        if (r <= 0)
            break;
        off += (size_t)r;
        piece = 1000 + (piece * 7919) % 60000;
        if (++n % 16 == 0) {
            struct timespec ts = { 0, 200000 };

            nanosleep(&ts, NULL);
        }
    }
    if (w->close_after)
        shutdown(w->fd, SHUT_WR);
    return NULL;
}

static void test_long_line(void)
{
    char *data = malloc(BIG + 32), *line;
    struct writer w;
    struct conn c;
    pthread_t t;
    size_t i, len = 0;
    int sv[2], err;

    if (!data) {
        CHECK(0, "out of memory");
        return;
    }
    for (i = 0; i < BIG; i++)
        data[i] = (char)('a' + i % 26);
    data[BIG] = '\n';
    memcpy(data + BIG + 1, "second\n", 7);
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* A small send buffer bounds what one read can get, so the line arrives in pieces. */
    {
        int sz = 8192;

        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    w = (struct writer){ .fd = sv[1], .data = data, .len = BIG + 8, .close_after = 1 };
    conn_init(&c, 5000);
    conn_adopt(&c, sv[0]);
    pthread_create(&t, NULL, writer_run, &w);

    err = conn_read_line(&c, &line, &len);
    CHECK_INT(err, 0);
    CHECK(len == BIG, "expected a line of %d bytes, got %zu", BIG, len);
    CHECK(len == BIG && !memcmp(line, data, BIG), "the long line's bytes differ from what was sent");
    CHECK(line[len] == '\0', "the line must be NUL-terminated");
    CHECK(c.reads > 100, "expected the line to arrive in many reads, got %lu", c.reads);

    err = conn_read_line(&c, &line, &len);
    CHECK_INT(err, 0);
    CHECK_STR(line, "second");
    err = conn_read_line(&c, &line, &len);
    CHECK_INT(err, -ECONNRESET);

    pthread_join(t, NULL);
    conn_close(&c);
    close(sv[1]);
    free(data);
}

static void test_framing(void)
{
    struct conn c;
    char *line;
    size_t len;
    int sv[2];

    /* Two replies and the start of a third in one write; then EOF in the middle of it. */
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn_init(&c, 1000);
    conn_adopt(&c, sv[0]);
    CHECK_INT(write(sv[1], "one\n\ntwo\nthr", 12), 12);
    shutdown(sv[1], SHUT_WR);
    CHECK_INT(conn_read_line(&c, &line, &len), 0);
    CHECK_STR(line, "one");
    CHECK_INT(conn_read_line(&c, &line, &len), 0);
    CHECK(len == 0 && line[0] == '\0', "expected an empty line, got \"%s\"", line);
    CHECK_INT(conn_read_line(&c, &line, &len), 0);
    CHECK_STR(line, "two");
    CHECK_INT(conn_read_line(&c, &line, &len), -ECONNRESET);
    conn_close(&c);
    close(sv[1]);

    /* A silent peer: the read gives up after the timeout, not before, not much after. */
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn_init(&c, 200);
    conn_adopt(&c, sv[0]);
    {
        struct timespec a, b;
        double ms;

        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK_INT(conn_read_line(&c, &line, &len), -ETIMEDOUT);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
        CHECK(ms >= 190 && ms < 2000, "expected a timeout after ~200 ms, took %.0f ms", ms);
    }
    /* Sending to a peer that has gone away is -EPIPE, not a SIGPIPE death. */
    close(sv[1]);
    CHECK_INT(conn_send_line(&c, "x", 1), -EPIPE);
    conn_close(&c);
}

static void test_connect(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char dir[] = "/tmp/osdctl-conn-XXXXXX", path[64], longp[200];
    struct conn c;
    int fd;

    conn_init(&c, 1000);
    CHECK_INT(conn_open(&c, "/nonexistent/dir/osdetd.sock"), -ENOENT);
    memset(longp, 'x', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    CHECK_INT(conn_open(&c, longp), -ENAMETOOLONG);

    /* A socket file nobody listens on (a daemon that died) is refused. */
    CHECK(mkdtemp(dir) != NULL, "mkdtemp failed");
    snprintf(path, sizeof(path), "%s/stale.sock", dir);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_INT(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    CHECK_INT(conn_open(&c, path), -ECONNREFUSED);

    /* A listening socket accepts even before anyone calls accept(). */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(path);
    CHECK_INT(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_INT(listen(fd, 4), 0);
    CHECK_INT(conn_open(&c, path), 0);
    CHECK(c.fd >= 0, "expected a connected fd");
    conn_close(&c);
    close(fd);
    unlink(path);
    rmdir(dir);
}

static void decode(const char *line, json_int_t id, int want, const char *why_part)
{
    json_t *res = NULL, *err = NULL;
    char why[256] = "";
    int got = rpc_reply_decode(line, strlen(line), id, &res, &err, why, sizeof(why));

    CHECK(got == want, "reply %s: expected %d, got %d (%s)", line, want, got, why);
    if (why_part)
        CHECK(strstr(why, why_part), "reply %s: expected reason containing \"%s\", got \"%s\"", line, why_part, why);
    CHECK((want == 0) == (res != NULL), "reply %s: result expected only on success", line);
    CHECK((want == RPC_DAEMON_ERROR) == (err != NULL), "reply %s: error object expected only on daemon error", line);
    json_decref(res);
    json_decref(err);
}

static void test_rpc(void)
{
    json_t *p = json_pack("{s:i, s:s}", "pid", 12, "metric", "cpu"), *res, *err;
    char why[128], *req;
    struct conn c;
    int sv[2];

    /* Params are borrowed, and their member order is kept. */
    req = rpc_request_encode(7, "series", p);
    CHECK(p->refcount == 1, "params must not be consumed, refcount %zu", p->refcount);
    json_decref(p);
    CHECK_STR(req, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"series\",\"params\":{\"pid\":12,\"metric\":\"cpu\"}}");
    free(req);
    req = rpc_request_encode(8, "list", NULL);
    CHECK_STR(req, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"list\"}");
    free(req);

    decode("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"a\":1}}", 3, 0, NULL);
    decode("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32002,\"message\":\"not watched\"}}", 3,
           RPC_DAEMON_ERROR, NULL);
    decode("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"parse error\"}}", 3,
           RPC_DAEMON_ERROR, NULL);
    decode("{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}", 3, -EPROTO, "id does not match");
    decode("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", 3, -EPROTO, "id does not match");
    decode("{\"jsonrpc\":\"1.0\",\"id\":3,\"result\":{}}", 3, -EPROTO, "not a JSON-RPC 2.0");
    decode("{\"id\":3,\"result\":{}}", 3, -EPROTO, "not a JSON-RPC 2.0");
    decode("{\"jsonrpc\":\"2.0\",\"id\":3}", 3, -EPROTO, "exactly one");
    decode("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":1,\"error\":{}}", 3, -EPROTO, "exactly one");
    decode("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":\"bad\"}", 3, -EPROTO, "not an object");
    decode("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}", 3, -EPROTO, "not JSON");
    decode("[1,2]", 3, -EPROTO, "not a JSON-RPC 2.0");
    decode("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"a\":1e999,\"b\":[1,2}}", 3, -EPROTO, "not JSON");

    /* A daemon that prints the largest double with 15 digits sends a number out of range: it is
     * read as the largest double, and nothing else in the reply changes. */
    {
        static const char huge[] = "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"peak\":1.79769313486232e308,"
                                   "\"low\":-2e400,\"s\":\"1e999 \\\" 2e999\",\"t\":1764072001.25,\"n\":[-1,0.5e-3]}}";

        CHECK_INT(rpc_reply_decode(huge, strlen(huge), 3, &res, &err, why, sizeof(why)), 0);
        CHECK(json_real_value(json_object_get(res, "peak")) == DBL_MAX &&
                  json_real_value(json_object_get(res, "low")) == -DBL_MAX,
              "expected +/- the largest double, got %g %g", json_real_value(json_object_get(res, "peak")),
              json_real_value(json_object_get(res, "low")));
        CHECK_STR(json_string_value(json_object_get(res, "s")), "1e999 \" 2e999");
        CHECK(json_real_value(json_object_get(res, "t")) == 1764072001.25 &&
                  json_integer_value(json_array_get(json_object_get(res, "n"), 0)) == -1 &&
                  json_real_value(json_array_get(json_object_get(res, "n"), 1)) == 0.5e-3,
              "other numbers must be read as sent");
        json_decref(res);
    }

    /* Raw 64-bit registers (trace arguments) printed unsigned: read as the int64 with the same
     * bits, so "0x%llx" of the value gives them back; integers beyond 64 bits stay refused. */
    {
        static const char regs[] = "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"args\":[18446744073709551516,"
                                   "9223372036854775808,9223372036854775807,-9223372036854775808,3],\"t\":1e999}}";
        const json_t *args;

        CHECK_INT(rpc_reply_decode(regs, strlen(regs), 3, &res, &err, why, sizeof(why)), 0);
        args = json_object_get(res, "args");
        CHECK((unsigned long long)json_integer_value(json_array_get(args, 0)) == 18446744073709551516ULL &&
                  (unsigned long long)json_integer_value(json_array_get(args, 1)) == 9223372036854775808ULL &&
                  json_integer_value(json_array_get(args, 2)) == 9223372036854775807LL &&
                  json_integer_value(json_array_get(args, 3)) == (json_int_t)(-9223372036854775807LL - 1) &&
                  json_integer_value(json_array_get(args, 4)) == 3 &&
                  json_real_value(json_object_get(res, "t")) == DBL_MAX,
              "u64 registers must keep their bits: got %lld %lld", (long long)json_integer_value(json_array_get(args, 0)),
              (long long)json_integer_value(json_array_get(args, 1)));
        json_decref(res);
    }
    decode("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"a\":18446744073709551616}}", 3, -EPROTO, "not JSON");
    decode("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"a\":-9223372036854775809}}", 3, -EPROTO, "not JSON");

    err = json_pack("{s:i, s:s}", "code", -32002, "message", "pid 5 is not watched");
    CHECK_INT(rpc_error_code(err), -32002);
    CHECK_STR(rpc_error_message(err), "pid 5 is not watched");
    json_decref(err);
    err = json_object();
    CHECK_INT(rpc_error_code(err), 0);
    CHECK(strstr(rpc_error_message(err), "no message"), "a message-less error needs a fallback text");
    json_decref(err);

    /* A whole call over a socketpair: the request goes out as one line, the reply comes back. */
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn_init(&c, 1000);
    conn_adopt(&c, sv[0]);
    {
        const char *rep = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"targets\":[]}}\n";
        char buf[256] = "";
        ssize_t n;

        CHECK_INT(write(sv[1], rep, strlen(rep)), (long long)strlen(rep));
        CHECK_INT(rpc_call(&c, 1, "list", NULL, &res, &err, why, sizeof(why)), 0);
        CHECK(json_is_array(json_object_get(res, "targets")), "expected the result object with 'targets'");
        json_decref(res);
        n = read(sv[1], buf, sizeof(buf) - 1);
        CHECK(n > 0 && buf[n - 1] == '\n' && !memchr(buf, '\n', (size_t)n - 1),
              "expected exactly one request line, got \"%s\"", buf);
    }
    conn_close(&c);
    close(sv[1]);
}

struct notes {
    int n;
    char methods[256];
    json_int_t last_id;     /* params.anomaly.id of the last notification */
};

static void note(void *arg, const char *method, json_t *params)
{
    struct notes *ns = arg;
    size_t len = strlen(ns->methods);

    ns->n++;
    snprintf(ns->methods + len, sizeof(ns->methods) - len, "%s;", method);
    ns->last_id = json_integer_value(json_object_get(json_object_get(params, "anomaly"), "id"));
}

struct ticker {
    int fd, count, period_ms, delay_ms;
};

/* Writes a notification every period_ms, count times: a daemon busy with a subscription. */
static void *ticker_run(void *arg)
{
    struct ticker *t = arg;
    static const char n[] = "{\"jsonrpc\":\"2.0\",\"method\":\"anomaly\",\"params\":{\"event\":\"begin\"}}\n";
    struct timespec d = { 0, t->delay_ms * 1000000L };
    int i;

    nanosleep(&d, NULL);
    for (i = 0; i < t->count; i++) {
        struct timespec ts = { 0, t->period_ms * 1000000L };

        if (write(t->fd, n, sizeof(n) - 1) < 0)
            break;
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void test_notifications(void)
{
    static const char lines[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"anomaly\",\"params\":{\"event\":\"begin\",\"anomaly\":{\"id\":4}}}\n"
        "{\"jsonrpc\":\"2.0\",\"method\":\"other\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"anomalies\":[]}}\n"
        "{\"jsonrpc\":\"2.0\",\"method\":\"anomaly\",\"params\":{\"event\":\"end\",\"anomaly\":{\"id\":4}}}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}\n";
    struct notes ns = { 0 };
    volatile sig_atomic_t cancel = 0;
    json_t *res, *err, *msg;
    struct ticker tk;
    struct conn c;
    pthread_t t;
    char why[128] = "";
    int sv[2];
    int64_t t0;

    msg = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", "x");
    CHECK(rpc_is_notification(msg) == 1, "a method without id is a notification");
    json_decref(msg);
    msg = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", "x", "id", 1);
    CHECK(!rpc_is_notification(msg), "a request with an id is not a notification");
    json_decref(msg);
    msg = json_pack("{s:s, s:n}", "jsonrpc", "2.0", "method");
    CHECK(!rpc_is_notification(msg), "a method that is not a string is not a notification");
    json_decref(msg);

    /* Notifications before the reply go to the callback; the reply is found by id; the one
     * after it stays for the next read. */
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn_init(&c, 1000);
    conn_adopt(&c, sv[0]);
    CHECK_INT(write(sv[1], lines, sizeof(lines) - 1), (long long)sizeof(lines) - 1);
    CHECK_INT(rpc_recv_reply(&c, 5, conn_deadline(&c), note, &ns, &res, &err, why, sizeof(why)), 0);
    CHECK(ns.n == 2 && !strcmp(ns.methods, "anomaly;other;") && ns.last_id == 0,
          "expected 2 notifications (anomaly, other) before the reply, got %d (%s)", ns.n, ns.methods);
    CHECK(json_is_array(json_object_get(res, "anomalies")), "expected the reply to id 5");
    json_decref(res);
    CHECK_INT(rpc_recv_notification(&c, &msg, why, sizeof(why)), 0);
    CHECK(msg && !strcmp(json_string_value(json_object_get(json_object_get(msg, "params"), "event")), "end"),
          "expected the 'end' notification after the reply");
    json_decref(msg);
    /* A reply where only notifications may come is a protocol error naming the id. */
    CHECK_INT(rpc_recv_notification(&c, &msg, why, sizeof(why)), -EPROTO);
    CHECK(msg == NULL && strstr(why, "unexpected reply with id 6"), "expected the stray reply named, got \"%s\"", why);
    /* Without a callback, notifications are dropped and the reply still found. */
    {
        static const char two[] = "{\"jsonrpc\":\"2.0\",\"method\":\"anomaly\"}\n"
                                  "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":1}\n";

        CHECK_INT(write(sv[1], two, sizeof(two) - 1), (long long)sizeof(two) - 1);
        CHECK_INT(rpc_recv_reply(&c, 7, conn_deadline(&c), NULL, NULL, &res, &err, why, sizeof(why)), 0);
        CHECK(json_integer_value(res) == 1, "expected result 1 for id 7");
        json_decref(res);
    }

    /* One deadline covers every line: notifications every 50 ms do not stretch a 300 ms wait. */
    tk = (struct ticker){ .fd = sv[1], .count = 12, .period_ms = 50 };
    pthread_create(&t, NULL, ticker_run, &tk);
    ns.n = 0;
    t0 = conn_now_ms();
    CHECK_INT(rpc_recv_reply(&c, 8, t0 + 300, note, &ns, &res, &err, why, sizeof(why)), -ETIMEDOUT);
    CHECK(conn_now_ms() - t0 < 900, "expected to give up after 300 ms, took %lld ms", (long long)(conn_now_ms() - t0));
    CHECK(ns.n >= 2, "expected notifications while waiting, got %d", ns.n);
    pthread_join(t, NULL);

    /* Waiting for notifications has no deadline, even with a 50 ms timeout_ms. */
    conn_close(&c);
    close(sv[1]);
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn_init(&c, 50);
    conn_adopt(&c, sv[0]);
    tk = (struct ticker){ .fd = sv[1], .count = 1, .delay_ms = 400 };
    t0 = conn_now_ms();
    pthread_create(&t, NULL, ticker_run, &tk);
    CHECK_INT(rpc_recv_notification(&c, &msg, why, sizeof(why)), 0);
    CHECK(conn_now_ms() - t0 >= 350, "expected to wait for the late notification, returned after %lld ms",
          (long long)(conn_now_ms() - t0));
    json_decref(msg);
    pthread_join(t, NULL);

    /* A cancel flag raised before the wait stops it at once (SIGINT before poll()). */
    cancel = 1;
    c.cancel = &cancel;
    t0 = conn_now_ms();
    CHECK_INT(rpc_recv_notification(&c, &msg, why, sizeof(why)), -EINTR);
    CHECK(conn_now_ms() - t0 < 200, "expected -EINTR at once, took %lld ms", (long long)(conn_now_ms() - t0));
    c.cancel = NULL;

    /* EOF while waiting for notifications: -ECONNRESET. */
    close(sv[1]);
    CHECK_INT(rpc_recv_notification(&c, &msg, why, sizeof(why)), -ECONNRESET);
    conn_close(&c);
}

int main(void)
{
    test_long_line();
    test_framing();
    test_connect();
    test_rpc();
    test_notifications();
    CHECK_DONE();
}
