/* test_client_fake.c - see test_client_fake.h. */
#include "test_client_fake.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

json_t *fake_result(json_t *result)
{
    return json_pack("{s:o}", "result", result);
}

json_t *fake_error(int code, const char *message)
{
    return json_pack("{s:{s:i, s:s}}", "error", "code", code, "message", message);
}

json_t *fake_notification(const char *method, json_t *params)
{
    return json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method, "params", params);
}

static void write_all(int fd, const char *s, size_t n)
{
    size_t off = 0;

    while (off < n) {
        ssize_t w = write(fd, s + off, n - off);

        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

void fake_send(struct fake *f, const json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);

    if (s && f->cur_fd >= 0) {
        write_all(f->cur_fd, s, strlen(s));
        write_all(f->cur_fd, "\n", 1);
    }
    free(s);
}

void fake_push(struct fake *f, const json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);

    /* One write per line, smaller than PIPE_BUF in these tests, so lines never mix. */
    if (s) {
        size_t n = strlen(s);

        s[n] = '\n';
        write_all(f->push[1], s, n + 1);
    }
    free(s);
}

void fake_hangup(struct fake *f)
{
    write_all(f->push[1], "\n", 1);
}

static void fake_record(struct fake *f, const char *method, json_t *params)
{
    char *p = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    size_t len;

    pthread_mutex_lock(&f->lock);
    len = strlen(f->log);
    snprintf(f->log + len, sizeof(f->log) - len, "%s %s\n", method, p ? p : "-");
    f->nreq++;
    pthread_mutex_unlock(&f->lock);
    free(p);
}

/* Answers one request line. */
static void fake_answer(struct fake *f, int fd, const char *line)
{
    json_t *req = json_loads(line, 0, NULL), *rep;
    const char *method = json_string_value(json_object_get(req, "method"));
    char *s;

    if (!method) {
        json_decref(req);
        return;
    }
    fake_record(f, method, json_object_get(req, "params"));
    rep = f->handler(f, method, json_object_get(req, "params"), f->arg);
    if (rep) {
        json_object_set_new(rep, "jsonrpc", json_string("2.0"));
        json_object_set(rep, "id", json_object_get(req, "id"));
        s = json_dumps(rep, JSON_COMPACT);
        if (s) {
            size_t n = strlen(s);

            s[n] = '\n'; /* the NUL becomes the line end; s is written, not printed */
            write_all(fd, s, n + 1);
            free(s);
        }
        json_decref(rep);
    }
    json_decref(req);
}

/* Forwards pushed lines to the client; returns -1 on a hang-up request. */
static int fake_forward(struct fake *f, int fd, char *pbuf, size_t *plen, size_t cap)
{
    ssize_t r = read(f->push[0], pbuf + *plen, cap - *plen);
    char *nl;

    if (r <= 0)
        return 0;
    *plen += (size_t)r;
    while ((nl = memchr(pbuf, '\n', *plen))) {
        size_t n = (size_t)(nl + 1 - pbuf);

        if (n == 1)
            return -1;
        write_all(fd, pbuf, n);
        *plen -= n;
        memmove(pbuf, nl + 1, *plen);
    }
    return 0;
}

static void fake_serve(struct fake *f, int fd)
{
    char buf[65536], pbuf[16384];
    size_t len = 0, plen = 0;

    for (;;) {
        struct pollfd p[3] = { { .fd = fd, .events = POLLIN }, { .fd = f->stop[0], .events = POLLIN },
                               { .fd = f->push[0], .events = POLLIN } };
        char *nl;
        ssize_t r;

        if (poll(p, 3, -1) < 0 || p[1].revents)
            return;
        if (p[2].revents) {
            if (fake_forward(f, fd, pbuf, &plen, sizeof(pbuf)))
                return;
            if (!p[0].revents)
                continue;
        }
        r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r <= 0)
            return;
        len += (size_t)r;
        while ((nl = memchr(buf, '\n', len))) {
            *nl = '\0';
            fake_answer(f, fd, buf);
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len);
        }
    }
}

static void *fake_thread(void *arg)
{
    struct fake *f = arg;

    for (;;) {
        struct pollfd p[2] = { { .fd = f->lfd, .events = POLLIN }, { .fd = f->stop[0], .events = POLLIN } };
        int fd;

        if (poll(p, 2, -1) < 0 || p[1].revents)
            return NULL;
        fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&f->lock);
        f->nconn++;
        pthread_mutex_unlock(&f->lock);
        f->cur_fd = fd;
        fake_serve(f, fd);
        f->cur_fd = -1;
        close(fd);
    }
}

int fake_start(struct fake *f, fake_handler h, void *arg)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    memset(f, 0, sizeof(*f));
    f->cur_fd = -1;
    f->handler = h;
    f->arg = arg;
    pthread_mutex_init(&f->lock, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/osdctl-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -errno;
    snprintf(f->path, sizeof(f->path), "%s/osdetd.sock", f->dir);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
    f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(f->lfd, 8))
        return -errno;
    if (pipe2(f->stop, O_CLOEXEC) || pipe2(f->push, O_CLOEXEC | O_NONBLOCK))
        return -errno;
    return -pthread_create(&f->thread, NULL, fake_thread, f);
}

void fake_stop(struct fake *f)
{
    close(f->stop[1]);
    pthread_join(f->thread, NULL);
    close(f->stop[0]);
    close(f->push[0]);
    close(f->push[1]);
    close(f->lfd);
    unlink(f->path);
    rmdir(f->dir);
    pthread_mutex_destroy(&f->lock);
}

char *fake_log(struct fake *f)
{
    char *s;

    pthread_mutex_lock(&f->lock);
    s = strdup(f->log);
    pthread_mutex_unlock(&f->lock);
    return s;
}

/* Runner ---------------------------------------------------------------------------------- */

int run_start(struct run *r, char *const *argv, const char *env_socket)
{
    int out[2], err[2];

    memset(r, 0, sizeof(*r));
    r->out = calloc(1, 1);
    r->err = calloc(1, 1);
    if (!r->out || !r->err || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
        return -errno;
    r->pid = fork();
    if (r->pid < 0)
        return -errno;
    if (r->pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (env_socket)
            setenv("OSDETD_SOCKET", env_socket, 1);
        else
            unsetenv("OSDETD_SOCKET");
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    r->out_fd = out[0];
    r->err_fd = err[0];
    return 0;
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int run_read(int *fd, char **buf, size_t *len)
{
    char tmp[4096];
    ssize_t n = read(*fd, tmp, sizeof(tmp));
    char *p;

    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return 0;
    }
    p = realloc(*buf, *len + (size_t)n + 1);
    if (!p)
        return -ENOMEM;
    memcpy(p + *len, tmp, (size_t)n);
    *len += (size_t)n;
    p[*len] = '\0';
    *buf = p;
    return 0;
}

int run_wait_output(struct run *r, const char *want, int timeout_ms)
{
    long long end = mono_ms() + timeout_ms;

    while (r->out_fd >= 0 || r->err_fd >= 0) {
        struct pollfd p[2] = { { .fd = r->out_fd, .events = POLLIN }, { .fd = r->err_fd, .events = POLLIN } };
        long long left = end - mono_ms();

        if (want && strstr(r->out, want))
            return 1;
        if (left <= 0 || poll(p, 2, (int)left) <= 0)
            return 0;
        if (p[0].revents)
            run_read(&r->out_fd, &r->out, &r->out_len);
        if (p[1].revents)
            run_read(&r->err_fd, &r->err, &r->err_len);
    }
    return want ? strstr(r->out, want) != NULL : 1;
}

int run_finish(struct run *r, int timeout_ms)
{
    int st;

    if (!run_wait_output(r, NULL, timeout_ms))
        kill(r->pid, SIGKILL);
    while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
        ;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r->status;
}

void run_free(struct run *r)
{
    if (r->out_fd >= 0)
        close(r->out_fd);
    if (r->err_fd >= 0)
        close(r->err_fd);
    free(r->out);
    free(r->err);
}

int run_cmd(struct run *r, char *const *argv, const char *env_socket)
{
    int err = run_start(r, argv, env_socket);

    if (err)
        return err;
    return run_finish(r, 10000);
}
