/* rpc.c - see rpc.h. One client = one uv_pipe_t; replies are queued with uv_write and a
 * client whose unread replies pile up is paused, then dropped, so it cannot hold memory
 * or stall anyone else. */
#include "rpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <uv.h>

#include "daemon.h"
#include "linebuf.h"
#include "log.h"
#include "osd_proto.h"
#include "utrace.h"

#define PAUSE_QUEUE_BYTES (8u << 20)   /* stop reading a client with this much unsent */
#define RESUME_QUEUE_BYTES (1u << 20)
#define DROP_QUEUE_BYTES (64u << 20)   /* then give up on it */
#define LINES_PER_TURN 16              /* requests served per client per loop turn */

struct rpc_conn {
    uv_pipe_t pipe; /* first: the handle pointer is the client pointer */
    struct rpc_server *srv;
    struct rpc_conn *prev, *next;
    struct linebuf lb;
    int paused, closing;
    int draining; /* a fatal error reply is being flushed; read nothing more */
    int reading;  /* uv_read_start is in effect */
    int eof;      /* the peer finished sending: serve what is buffered, then close */
    int backlog;  /* complete requests may be buffered: served from the idle handle */
    int subscribed;
    struct anomaly_filter sub; /* empty: every target */
    uid_t uid;     /* peer credentials, read once at accept */
    uint32_t trace_id; /* target whose syscalls stream to this connection; 0: none */
    struct utracer *utracer; /* the user function this connection traces; NULL: none */
};

struct rpc_server {
    struct daemon *d;
    uv_pipe_t listener;
    uv_idle_t idle;   /* serves client backlogs a slice per loop turn */
    size_t nbacklog;  /* clients with backlog set */
    char path[108];
    int activated; /* socket came from systemd: not ours to unlink */
    struct rpc_conn *clients;
    size_t nclients;
};

struct write_req {
    uv_write_t req;
    struct rpc_conn *c;
    char *data;
};

static void set_backlog(struct rpc_conn *c, int on);
static void on_idle(uv_idle_t *h);

size_t rpc_server_clients(const struct rpc_server *s)
{
    return s ? s->nclients : 0;
}

const char *rpc_server_path(const struct rpc_server *s)
{
    return s->path;
}

static void on_client_closed(uv_handle_t *h)
{
    struct rpc_conn *c = (struct rpc_conn *)h;

    linebuf_free(&c->lb);
    free(c);
}

static void client_close(struct rpc_conn *c)
{
    struct rpc_server *s = c->srv;

    if (c->closing)
        return;
    c->closing = 1;
    set_backlog(c, 0);
    if (c->trace_id)
        target_trace_release(s->d, c->trace_id);
    if (c->utracer)
        utrace_release(s->d, c->utracer);
    c->utracer = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nclients--;
    uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void client_resume(struct rpc_conn *c);
static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct rpc_conn *c = w->c;

    free(w->data);
    free(w);
    if (c->closing)
        return;
    if (status < 0) {
        client_close(c);
        return;
    }
    if (c->paused && !c->draining && uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < RESUME_QUEUE_BYTES) {
        c->paused = 0;
        client_resume(c);
    }
}

static void client_send(struct rpc_conn *c, json_t *msg)
{
    struct write_req *w;
    size_t qsize;
    char *text;
    uv_buf_t b;

    if (!msg)
        return;
    text = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
    json_decref(msg);
    if (!text || c->closing) {
        free(text);
        return;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        free(text);
        client_close(c);
        return;
    }
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        free(w);
        client_close(c);
        return;
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    w->c = c;
    w->data = line;
    b = uv_buf_init(line, (unsigned)len + 1);
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written)) {
        free(line);
        free(w);
        client_close(c);
        return;
    }
    qsize = uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
    if (qsize > DROP_QUEUE_BYTES) {
        log_warn("dropping a client that does not read its replies (%zu bytes queued)", qsize);
        client_close(c);
    } else if (qsize > PAUSE_QUEUE_BYTES && !c->paused) {
        c->paused = 1; /* stops serving and reading until the replies drain */
    }
}

static void serve_line(struct rpc_conn *c, char *line, size_t len)
{
    struct daemon *d = c->srv->d;
    struct rpc_request req;
    struct rpc_error e = { 0 };
    json_t *result;

    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (!len)
        return; /* blank lines are keep-alives */
    if (jsonrpc_parse(line, len, &req, &e)) {
        client_send(c, jsonrpc_error(req.id, &e));
        jsonrpc_request_free(&req);
        return;
    }
    result = rpc_dispatch(d, c, &req, &e);
    if (req.id)
        client_send(c, result ? jsonrpc_result(req.id, result) : jsonrpc_error(req.id, &e));
    else
        json_decref(result);
    jsonrpc_request_free(&req);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct rpc_conn *c = (struct rpc_conn *)req->handle;

    (void)status;
    free(req);
    client_close(c);
}

/* Closes after the queued replies are written (uv_shutdown waits for them). */
static void client_finish(struct rpc_conn *c)
{
    uv_shutdown_t *sd;

    if (c->closing || c->draining)
        return;
    c->draining = 1;
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = 0;
    }
    sd = calloc(1, sizeof(*sd));
    if (!sd || uv_shutdown(sd, (uv_stream_t *)&c->pipe, on_shutdown)) {
        free(sd);
        client_close(c);
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void set_backlog(struct rpc_conn *c, int on)
{
    struct rpc_server *s = c->srv;

    if (c->backlog == on)
        return;
    c->backlog = on;
    if (on && !s->nbacklog++)
        uv_idle_start(&s->idle, on_idle);
    else if (!on && !--s->nbacklog)
        uv_idle_stop(&s->idle);
}

/* Serves up to LINES_PER_TURN buffered requests. While requests remain (or replies pile
 * up) the client is not read, so the kernel's socket buffer pushes back on it and every
 * other client gets its turn; nothing it sent is dropped. */
static void client_serve(struct rpc_conn *c)
{
    char *line;
    size_t len;
    int n = 0;

    while (!c->closing && !c->draining && !c->paused && n < LINES_PER_TURN && linebuf_take(&c->lb, &line, &len)) {
        serve_line(c, line, len);
        n++;
    }
    if (c->closing || c->draining)
        return;
    if (c->paused || n == LINES_PER_TURN) {
        /* more may be buffered: stop reading, come back on the next loop turn */
        if (c->reading) {
            uv_read_stop((uv_stream_t *)&c->pipe);
            c->reading = 0;
        }
        set_backlog(c, !c->paused);
        return;
    }
    set_backlog(c, 0);
    linebuf_trim(&c->lb);
    if (c->eof) {
        client_finish(c);
    } else if (!c->reading) {
        uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
        c->reading = 1;
    }
}

static void client_resume(struct rpc_conn *c)
{
    client_serve(c);
}

static void on_idle(uv_idle_t *h)
{
    struct rpc_server *s = h->data;
    struct rpc_conn *c, *next;

    for (c = s->clients; c; c = next) {
        next = c->next; /* serving may close c */
        if (c->backlog)
            client_serve(c);
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct rpc_conn *c = (struct rpc_conn *)stream;
    int err;

    if (nread < 0) {
        /* EOF: requests already complete are still served and answered; a partial last
         * line is dropped with the connection. Errors close at once. */
        free(buf->base);
        uv_read_stop(stream);
        c->reading = 0;
        if (nread != UV_EOF) {
            client_close(c);
            return;
        }
        c->eof = 1;
        client_serve(c);
        return;
    }
    err = linebuf_append(&c->lb, buf->base, (size_t)nread);
    free(buf->base);
    if (err == -E2BIG) {
        struct rpc_error e;
        /* the requests before the oversized one are answered first */
        client_serve(c);
        rpc_fail(&e, OSD_E_TOO_LARGE, NULL, "message larger than %d bytes; closing the connection", OSD_MAX_MSG);
        client_send(c, jsonrpc_error(NULL, &e));
        client_finish(c);
        return;
    }
    if (err) {
        client_close(c);
        return;
    }
    client_serve(c);
}

static uid_t peer_uid(uv_pipe_t *p)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    uv_os_fd_t fd;

    if (uv_fileno((uv_handle_t *)p, &fd) || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
        return (uid_t)-1;
    return cred.uid;
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct rpc_server *s = listener->data;
    struct rpc_conn *c;

    if (status < 0) {
        log_warn("accept: %s", uv_strerror(status));
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->srv = s;
    linebuf_init(&c->lb, OSD_MAX_MSG);
    uv_pipe_init(s->d->loop, &c->pipe, 0);
    if (uv_accept(listener, (uv_stream_t *)&c->pipe)) {
        uv_close((uv_handle_t *)&c->pipe, on_client_closed);
        return;
    }
    c->uid = peer_uid(&c->pipe);
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->nclients++;
    if (s->nclients > (size_t)s->d->cfg.max_clients) {
        struct rpc_error e;
        rpc_fail(&e, OSD_E_LIMIT, NULL, "too many clients (max_clients=%d)", s->d->cfg.max_clients);
        client_send(c, jsonrpc_error(NULL, &e));
        client_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    c->reading = 1;
}

/* A NULL connection is the daemon itself (tests, fuzzing): root, cannot subscribe. */
uid_t rpc_conn_uid(const struct rpc_conn *c)
{
    return c ? c->uid : 0;
}

void rpc_conn_subscribe(struct rpc_conn *c, const struct anomaly_filter *f)
{
    if (!c)
        return;
    c->subscribed = 1;
    c->sub = *f;
}

size_t rpc_server_subscribers(const struct rpc_server *s)
{
    size_t n = 0;

    for (const struct rpc_conn *c = s ? s->clients : NULL; c; c = c->next)
        n += c->subscribed;
    return n;
}

int rpc_conn_trace(struct rpc_conn *c, uint32_t target_id)
{
    if (!c)
        return -EINVAL;
    if (c->trace_id || c->utracer)
        return -EBUSY;
    c->trace_id = target_id;
    return 0;
}

bool rpc_conn_tracing(const struct rpc_conn *c)
{
    return c && (c->trace_id || c->utracer);
}

void rpc_conn_set_utracer(struct rpc_conn *c, struct utracer *u)
{
    c->utracer = u;
}

void rpc_conn_notify(struct rpc_conn *c, const char *method, json_t *params)
{
    if (!c->closing)
        client_send(c, json_pack("{s:s, s:s, s:O}", "jsonrpc", "2.0", "method", method, "params", params));
}

void rpc_server_notify_trace(struct rpc_server *s, const char *method, json_t *params, uint32_t target_id)
{
    struct rpc_conn *c, *next;

    for (c = s ? s->clients : NULL; c; c = next) {
        next = c->next;
        if (c->trace_id == target_id && !c->closing)
            client_send(c, json_pack("{s:s, s:s, s:O}", "jsonrpc", "2.0", "method", method, "params", params));
    }
}

void rpc_server_notify(struct rpc_server *s, const char *method, json_t *params, const struct anomaly *x)
{
    struct rpc_conn *c, *next;

    for (c = s ? s->clients : NULL; c; c = next) {
        next = c->next; /* client_send may drop c */
        if (!c->subscribed || c->closing || !anomaly_filter_match(&c->sub, x) || (c->uid != 0 && c->uid != x->uid))
            continue;
        client_send(c, json_pack("{s:s, s:s, s:O}", "jsonrpc", "2.0", "method", method, "params", params));
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    free(h->data);
}

static int mkdir_parent(const char *path)
{
    char dir[108];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(dir, 0755) && errno != EEXIST)
        return -errno;
    return 0;
}

/* A socket file left by a crashed daemon is removed; a live one means another daemon. */
static int remove_stale(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int fd, live;

    if (lstat(path, &st))
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    if (live)
        return -EADDRINUSE;
    return unlink(path) ? -errno : 0;
}

int rpc_server_start(struct daemon *d, struct rpc_server **out)
{
    struct rpc_server *s = calloc(1, sizeof(*s));
    int err, n;

    if (!s)
        return -ENOMEM;
    s->d = d;
    snprintf(s->path, sizeof(s->path), "%s", d->cfg.socket);
    uv_idle_init(d->loop, &s->idle);
    s->idle.data = s;
    uv_pipe_init(d->loop, &s->listener, 0);
    s->listener.data = s;
    n = sd_listen_fds(1);
    if (n > 1) {
        log_err("socket activation passed %d sockets; expected one", n);
        err = -EINVAL;
        goto err_close;
    }
    if (n == 1) {
        s->activated = 1;
        err = uv_pipe_open(&s->listener, SD_LISTEN_FDS_START);
        if (err)
            goto err_close;
        log_info("using the socket passed by systemd");
    } else {
        if ((err = mkdir_parent(s->path)) || (err = remove_stale(s->path))) {
            log_err("socket %s: %s", s->path,
                    err == -EADDRINUSE ? "another osdetd is listening there"
                    : err == -EEXIST   ? "exists and is not a socket"
                                       : strerror(-err));
            goto err_close;
        }
        err = uv_pipe_bind(&s->listener, s->path);
        if (err) {
            log_err("bind %s: %s", s->path, uv_strerror(err));
            goto err_close;
        }
        chmod(s->path, 0660);
    }
    err = uv_listen((uv_stream_t *)&s->listener, SOMAXCONN, on_connection); /* bursts of clients queue, not fail */
    if (err) {
        log_err("listen %s: %s", s->path, uv_strerror(err));
        goto err_close;
    }
    *out = s;
    return 0;
err_close:
    /* the handles must still be closed through the loop; s is freed in the last callback */
    uv_close((uv_handle_t *)&s->idle, NULL);
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    return err;
}

void rpc_server_stop(struct rpc_server *s)
{
    if (!s)
        return;
    while (s->clients)
        client_close(s->clients);
    if (!s->activated)
        unlink(s->path);
    uv_close((uv_handle_t *)&s->idle, NULL);
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}
