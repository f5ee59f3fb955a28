/* linebuf.h - newline framing of a byte stream with a maximum line length. */
#ifndef OSD_LINEBUF_H
#define OSD_LINEBUF_H
#include <stddef.h>

struct linebuf {
    char *buf;
    size_t len, cap, max;
};

void linebuf_init(struct linebuf *lb, size_t max_line);
void linebuf_free(struct linebuf *lb);
/* Appends data and calls fn(line, len, arg) for every complete line (newline stripped,
 * NUL-terminated; a trailing '\r' is kept). Returns 0, -E2BIG when a line grows past
 * max (the stream cannot be resynchronised), -ENOMEM, or fn's nonzero return. */
int linebuf_feed(struct linebuf *lb, const char *data, size_t n, int (*fn)(char *line, size_t len, void *arg),
                 void *arg);
#endif
