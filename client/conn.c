/* conn.c - see conn.h. Deadlines use poll() so a silent or stuck daemon cannot hang osdctl. */
#include "conn.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONN_CHUNK (64 * 1024)

int64_t conn_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t conn_deadline(const struct conn *c)
{
    return c->timeout_ms > 0 ? conn_now_ms() + c->timeout_ms : -1;
}

void conn_init(struct conn *c, int timeout_ms)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->timeout_ms = timeout_ms;
}

void conn_adopt(struct conn *c, int fd)
{
    c->fd = fd;
}

int conn_open(struct conn *c, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd, err;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* A Unix connect() only blocks when the listen backlog is full; SO_SNDTIMEO bounds it. */
    if (c->timeout_ms > 0) {
        struct timeval tv = { c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000 };

        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        err = (errno == EAGAIN || errno == EINPROGRESS) ? -ETIMEDOUT : -errno;
        close(fd);
        return err;
    }
    c->fd = fd;
    return 0;
}

/* Waits for events on the socket until deadline (< 0: none). 0, -ETIMEDOUT, -EINTR. */
static int conn_wait(struct conn *c, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { .fd = c->fd, .events = events };
        int left = -1, n;

        /* A SIGINT that came before poll() would otherwise only be seen at the next one. */
        if (c->cancel && *c->cancel)
            return -EINTR;
        if (deadline >= 0) {
            int64_t d = deadline - conn_now_ms();

            if (d <= 0)
                return -ETIMEDOUT;
            left = d > INT32_MAX ? INT32_MAX : (int)d;
        }
        n = poll(&p, 1, left);
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
        if (c->cancel && *c->cancel)
            return -EINTR;
    }
}

int conn_send_line(struct conn *c, const char *line, size_t len)
{
    int64_t deadline = conn_deadline(c);
    size_t off = 0;
    int err;

    /* The line and its newline go out as two pieces; the daemon reassembles them. */
    while (off < len + 1) {
        const char *p = off < len ? line + off : "\n";
        size_t n = off < len ? len - off : 1;
        ssize_t w = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (w >= 0) {
            off += (size_t)w;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        err = conn_wait(c, POLLOUT, deadline);
        if (err)
            return err;
    }
    return 0;
}

static int conn_grow(struct conn *c)
{
    size_t cap = c->cap ? c->cap : CONN_CHUNK;
    char *p;

    while (cap - c->len < CONN_CHUNK)
        cap *= 2;
    if (cap == c->cap)
        return 0;
    if (cap > CONN_MAX_REPLY + CONN_CHUNK)
        return -EMSGSIZE;
    p = realloc(c->buf, cap);
    if (!p)
        return -ENOMEM;
    c->buf = p;
    c->cap = cap;
    return 0;
}

int conn_read_line(struct conn *c, char **line, size_t *len)
{
    return conn_read_line_by(c, conn_deadline(c), line, len);
}

int conn_read_line_by(struct conn *c, int64_t deadline, char **line, size_t *len)
{
    int err;

    /* Drop the line handed out last time; keep bytes of the next reply already received. */
    if (c->used) {
        memmove(c->buf, c->buf + c->used, c->len - c->used);
        c->len -= c->used;
        c->used = 0;
        c->scanned = 0;
    }
    for (;;) {
        /* Only new bytes are searched, so a reply of n bytes costs O(n), not O(n^2). */
        char *nl = c->len > c->scanned ? memchr(c->buf + c->scanned, '\n', c->len - c->scanned) : NULL;
        ssize_t r;

        if (nl) {
            *nl = '\0';
            *line = c->buf;
            *len = (size_t)(nl - c->buf);
            c->used = *len + 1;
            return 0;
        }
        c->scanned = c->len;
        if (c->len > CONN_MAX_REPLY)
            return -EMSGSIZE;
        err = conn_grow(c);
        if (err)
            return err;
        r = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
        if (r > 0) {
            c->len += (size_t)r;
            c->reads++;
            continue;
        }
        if (r == 0)
            return -ECONNRESET;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        err = conn_wait(c, POLLIN, deadline);
        if (err)
            return err;
    }
}

int conn_has_line(const struct conn *c)
{
    return c->len > c->used && memchr(c->buf + c->used, '\n', c->len - c->used) != NULL;
}

void conn_close(struct conn *c)
{
    int timeout_ms = c->timeout_ms;
    const volatile sig_atomic_t *cancel = c->cancel;

    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    conn_init(c, timeout_ms);
    c->cancel = cancel;
}
