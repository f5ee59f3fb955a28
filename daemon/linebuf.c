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
    lb->len = lb->cap = 0;
}

static int reserve(struct linebuf *lb, size_t need)
{
    size_t cap = lb->cap ? lb->cap : 4096;
    char *nb;

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

int linebuf_feed(struct linebuf *lb, const char *data, size_t n, int (*fn)(char *line, size_t len, void *arg),
                 void *arg)
{
    while (n) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        int err;

        if (lb->len + take > lb->max)
            return -E2BIG;
        if ((err = reserve(lb, lb->len + take + 1)))
            return err;
        memcpy(lb->buf + lb->len, data, take);
        lb->len += take;
        data += take;
        n -= take;
        if (!nl)
            break;
        data++; /* the newline */
        n--;
        lb->buf[lb->len] = '\0';
        size_t len = lb->len;
        lb->len = 0;
        if ((err = fn(lb->buf, len, arg)))
            return err;
    }
    /* Give back memory after a huge line so idle clients stay small. */
    if (!lb->len && lb->cap > 65536)
        linebuf_free(lb);
    return 0;
}
