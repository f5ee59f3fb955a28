/* linebuf.c - see linebuf.h. */
#include "linebuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void linebuf_init(struct linebuf *lb, size_t max_line)
{
    memset(lb, 0, sizeof(*lb));
    lb->max = max_line;
}

void linebuf_free(struct linebuf *lb)
{
    free(lb->buf);
    lb->buf = NULL;
    lb->start = lb->len = lb->cap = lb->scan = 0;
}

static int reserve(struct linebuf *lb, size_t need)
{
    size_t cap = lb->cap ? lb->cap : 4096;
    char *nb;

    if (lb->start && (need > lb->cap || lb->start > lb->cap / 2)) {
        /* drop the taken prefix before growing */
        memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
        lb->len -= lb->start;
        need -= lb->start;
        lb->start = 0;
    }
    if (need <= lb->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    nb = realloc(lb->buf, cap);
    if (!nb)
        return -ENOMEM;
    lb->buf = nb;
    lb->cap = cap;
    return 0;
}

/* Length of the unfinished line at the end of the buffer. */
static size_t tail_len(const struct linebuf *lb)
{
    const char *p = lb->buf + lb->start, *end = lb->buf + lb->len;
    const char *nl = NULL;

    for (const char *q = end; q > p; q--)
        if (q[-1] == '\n') {
            nl = q;
            break;
        }
    return (size_t)(end - (nl ? nl : p));
}

int linebuf_append(struct linebuf *lb, const char *data, size_t n)
{
    size_t run = lb->buf ? tail_len(lb) : 0; /* length of the line being built */
    const char *p = data, *end = data + n, *nl;
    int err;

    /* every line this data completes, and the one it leaves open, must fit */
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
        if (run + (size_t)(nl - p) > lb->max)
            return -E2BIG;
        run = 0;
        p = nl + 1;
    }
    if (run + (size_t)(end - p) > lb->max)
        return -E2BIG;
    if ((err = reserve(lb, lb->len + n + 1)))
        return err;
    memcpy(lb->buf + lb->len, data, n);
    lb->len += n;
    return 0;
}

int linebuf_take(struct linebuf *lb, char **line, size_t *len)
{
    char *p, *nl;

    if (!lb->buf || lb->start + lb->scan >= lb->len)
        return 0;
    p = lb->buf + lb->start;
    nl = memchr(p + lb->scan, '\n', lb->len - lb->start - lb->scan);
    if (!nl) {
        lb->scan = lb->len - lb->start;
        return 0;
    }
    *nl = '\0';
    *line = p;
    *len = (size_t)(nl - p);
    lb->start += *len + 1;
    lb->scan = 0;
    if (lb->start == lb->len) /* nothing left: reuse from the beginning */
        lb->start = lb->len = 0;
    return 1;
}

void linebuf_trim(struct linebuf *lb)
{
    if (lb->start == lb->len && lb->cap > 65536)
        linebuf_free(lb);
}

int linebuf_feed(struct linebuf *lb, const char *data, size_t n, int (*fn)(char *line, size_t len, void *arg),
                 void *arg)
{
    char *line;
    size_t len;
    int err = linebuf_append(lb, data, n);

    while (!err && linebuf_take(lb, &line, &len))
        err = fn(line, len, arg);
    return err;
}
