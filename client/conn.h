/* conn.h - one stream connection to osdetd: connect, send a line, read a line of any length. */
#ifndef OSDCTL_CONN_H
#define OSDCTL_CONN_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* A reply larger than this is refused (-EMSGSIZE): a sanity bound, not a protocol limit. */
#define CONN_MAX_REPLY ((size_t)1 << 30)

struct conn {
    int fd;
    int timeout_ms;                       /* per send or receive of one line; <= 0 waits forever */
    const volatile sig_atomic_t *cancel;  /* if set and non-zero, EINTR aborts with -EINTR */
    char *buf;                            /* received bytes; the last returned line first */
    size_t len, cap;
    size_t used;                          /* bytes of the last returned line, dropped on next read */
    size_t scanned;                       /* bytes of buf already searched for '\n' */
    unsigned long reads;                  /* recv() calls that returned data (tests look at it) */
};

void conn_init(struct conn *c, int timeout_ms);
/* Connects to the Unix socket at path: 0, -ENAMETOOLONG, -ETIMEDOUT or the connect errno. */
int conn_open(struct conn *c, const char *path);
/* Takes ownership of an already connected stream socket (tests use socketpairs). */
void conn_adopt(struct conn *c, int fd);
/* Sends line and a '\n': 0, -ETIMEDOUT, -EPIPE, -EINTR or another -errno. */
int conn_send_line(struct conn *c, const char *line, size_t len);
/* Reads up to the next '\n' and returns the line NUL-terminated without it; valid until the
 * next call. 0, -ECONNRESET (EOF, even mid-line), -ETIMEDOUT, -EMSGSIZE, -ENOMEM, -EINTR. */
int conn_read_line(struct conn *c, char **line, size_t *len);
/* As conn_read_line(), but gives up at deadline (conn_now_ms() clock; < 0: waits forever)
 * instead of timeout_ms from now, so several lines can share one deadline. */
int conn_read_line_by(struct conn *c, int64_t deadline, char **line, size_t *len);
/* 1 when a whole line after the last returned one is already received (the next
 * conn_read_line() will not wait): a reader of a stream may flush its output less often. */
int conn_has_line(const struct conn *c);
/* The monotonic clock of deadlines, in ms. */
int64_t conn_now_ms(void);
/* now + timeout_ms, or -1 when the conn waits forever. */
int64_t conn_deadline(const struct conn *c);
void conn_close(struct conn *c);
#endif
