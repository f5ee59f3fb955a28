/* test_heap_sym.c - the stack symboliser on this very process: functions of this binary
 * and of libc resolve to module!symbol+offset, unknown addresses fall back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "heap_sym.h"

__attribute__((noinline, used)) void osd_test_marker_fn(void)
{
    __asm__ volatile("");
}

int main(void)
{
    struct heap_sym *s;
    char buf[512], want[128];
    uint64_t ips[4];
    pid_t (*volatile fp)(void) = getppid; /* not intercepted by ASan, unlike malloc */
    int n;

    CHECK(heap_sym_open(&s) == 0, "heap_sym_open failed");
    ips[0] = (uint64_t)(uintptr_t)osd_test_marker_fn + 3; /* inside the function */
    ips[1] = (uint64_t)(uintptr_t)fp;                      /* libc's getppid itself */
    ips[2] = 0x10;                                         /* nothing is mapped there */
    ips[3] = 0;
    n = heap_sym_stack(s, getpid(), ips, 4, buf, sizeof(buf));
    printf("stack: %s\n", buf);
    CHECK(n == 3, "expected 3 frames (stops at 0), got %d: %s", n, buf);
    snprintf(want, sizeof(want), "test_heap_sym!osd_test_marker_fn+0x3;");
    CHECK(!strncmp(buf, want, strlen(want)), "expected the first frame %s, got %s", want, buf);
    CHECK(strstr(buf, ";libc.so.6!getppid+0x0;") != NULL, "expected libc.so.6!getppid+0x0, got %s",
              buf);
    CHECK(!strcmp(buf + strlen(buf) - 5, ";0x10"), "an unmapped address prints as hex, got %s", buf);
    /* a buffer too small keeps whole frames only, NUL-terminated */
    n = heap_sym_stack(s, getpid(), ips, 4, buf, 40);
    CHECK(n == 1 && strchr(buf, ';') == NULL, "40 bytes hold the first frame only: n=%d '%s'", n, buf);
    /* the cache serves the second lookup; a gone process is an error, not a crash */
    CHECK(heap_sym_stack(s, 0x7ffffff0, ips, 1, buf, sizeof(buf)) < 0 && buf[0] == '\0',
              "a pid that does not exist: expected a negative errno and an empty string");
    heap_sym_close(s);
    CHECK_DONE();
}
