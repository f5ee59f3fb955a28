/* linebuf.h - newline framing of a byte stream with a maximum line length. Data is
 * appended as it arrives and complete lines are taken one at a time, so a reader can
 * stop between lines (back-pressure, fairness) without losing what it was sent. */
#ifndef OSD_LINEBUF_H
#define OSD_LINEBUF_H
#include <stddef.h>

struct linebuf {
    char *buf;
    size_t start; /* first byte not yet taken */
    size_t len;   /* bytes held, from 0 */
    size_t cap, max;
    size_t scan;  /* bytes from start already known to hold no newline */
};

void linebuf_init(struct linebuf *lb, size_t max_line);
void linebuf_free(struct linebuf *lb);
/* Appends data. -E2BIG when the unfinished line grows past max (the stream cannot be
 * resynchronised), -ENOMEM. */
int linebuf_append(struct linebuf *lb, const char *data, size_t n);
/* Takes the next complete line: returns 1 and sets *line (newline stripped, NUL-
 * terminated, valid until the next call; a trailing '\r' is kept) and *len; 0 if no
 * complete line is buffered. */
int linebuf_take(struct linebuf *lb, char **line, size_t *len);
/* Returns memory after a huge line once nothing is buffered (idle clients stay small). */
void linebuf_trim(struct linebuf *lb);
/* append + take every line, calling fn for each; stops at fn's nonzero return (the
 * lines after it stay buffered). */
int linebuf_feed(struct linebuf *lb, const char *data, size_t n, int (*fn)(char *line, size_t len, void *arg),
                 void *arg);
#endif
