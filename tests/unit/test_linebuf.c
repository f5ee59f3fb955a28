/* test_linebuf.c - newline framing: split reads, several lines per read, CR, limits. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "linebuf.h"

struct got {
    char lines[8][64];
    int n;
    int stop_after;
};

static int collect(char *line, size_t len, void *arg)
{
    struct got *g = arg;

    CHECK_INT(strlen(line), len);
    if (g->n < 8)
        snprintf(g->lines[g->n], sizeof(g->lines[0]), "%s", line);
    g->n++;
    return g->stop_after && g->n == g->stop_after ? -EPIPE : 0;
}

static void test_split(void)
{
    struct linebuf lb;
    struct got g = { 0 };

    linebuf_init(&lb, 100);
    CHECK_INT(linebuf_feed(&lb, "ab", 2, collect, &g), 0);
    CHECK_INT(g.n, 0);
    CHECK_INT(linebuf_feed(&lb, "c\nde", 4, collect, &g), 0);
    CHECK_INT(g.n, 1);
    CHECK_STR(g.lines[0], "abc");
    CHECK_INT(linebuf_feed(&lb, "f\n\ng\r\n", 6, collect, &g), 0);
    CHECK_INT(g.n, 4);
    CHECK_STR(g.lines[1], "def");
    CHECK_STR(g.lines[2], "");
    CHECK_STR(g.lines[3], "g\r");
    linebuf_free(&lb);
}

static void test_limit(void)
{
    struct linebuf lb;
    struct got g = { 0 };
    char big[300];

    memset(big, 'x', sizeof(big));
    linebuf_init(&lb, 100);
    CHECK_INT(linebuf_feed(&lb, big, 100, collect, &g), 0); /* exactly max: still fine */
    CHECK_INT(linebuf_feed(&lb, "\n", 1, collect, &g), 0);
    CHECK_INT(g.n, 1);
    CHECK_INT(linebuf_feed(&lb, big, 60, collect, &g), 0);
    CHECK_INT(linebuf_feed(&lb, big, 60, collect, &g), -E2BIG); /* 120 > 100 across reads */
    linebuf_free(&lb);
    /* a line completed by the chunk that carries its newline counts its earlier part */
    linebuf_init(&lb, 100);
    CHECK_INT(linebuf_append(&lb, big, 90), 0);
    memcpy(big + 20, "\n", 1);
    CHECK_INT(linebuf_append(&lb, big, 30), -E2BIG); /* 90 + 20 before the newline */
    linebuf_free(&lb);
    /* a chunk holding a whole over-long line between two newlines */
    linebuf_init(&lb, 100);
    memset(big, 'x', sizeof(big));
    big[0] = '\n';
    big[250] = '\n';
    CHECK_INT(linebuf_append(&lb, big, 260), -E2BIG);
    linebuf_free(&lb);
}

static void test_callback_stop(void)
{
    struct linebuf lb;
    struct got g = { .stop_after = 1 };

    linebuf_init(&lb, 100);
    CHECK_INT(linebuf_feed(&lb, "a\nb\n", 4, collect, &g), -EPIPE);
    CHECK_INT(g.n, 1);
    linebuf_free(&lb);
}

static void test_byte_by_byte(void)
{
    const char *msg = "{\"a\":1}\n{\"b\":2}\n";
    struct linebuf lb;
    struct got g = { 0 };

    linebuf_init(&lb, 1 << 20);
    for (const char *p = msg; *p; p++)
        CHECK_INT(linebuf_feed(&lb, p, 1, collect, &g), 0);
    CHECK_INT(g.n, 2);
    CHECK_STR(g.lines[1], "{\"b\":2}");
    linebuf_free(&lb);
}

/* Lines left when the reader stops stay buffered and come out in order later. */
static void test_take_later(void)
{
    struct linebuf lb;
    char *line;
    size_t len;

    linebuf_init(&lb, 100);
    CHECK_INT(linebuf_append(&lb, "a\nbb\ncc", 7), 0);
    CHECK_INT(linebuf_take(&lb, &line, &len), 1);
    CHECK_STR(line, "a");
    CHECK_INT(linebuf_append(&lb, "c\n", 2), 0); /* append between takes */
    CHECK_INT(linebuf_take(&lb, &line, &len), 1);
    CHECK_STR(line, "bb");
    CHECK_INT(linebuf_take(&lb, &line, &len), 1);
    CHECK_STR(line, "ccc");
    CHECK_INT(len, 3);
    CHECK_INT(linebuf_take(&lb, &line, &len), 0);
    /* many complete lines may exceed max together; only one line is limited */
    for (int i = 0; i < 50; i++)
        CHECK_INT(linebuf_append(&lb, "0123456789\n", 11), 0);
    for (int i = 0; i < 50; i++)
        CHECK_INT(linebuf_take(&lb, &line, &len), 1);
    CHECK_INT(linebuf_take(&lb, &line, &len), 0);
    linebuf_free(&lb);
}

int main(void)
{
    test_take_later();
    test_split();
    test_limit();
    test_callback_stop();
    test_byte_by_byte();
    CHECK_DONE();
}
