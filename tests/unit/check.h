/* check.h - minimal assertions for unit tests: print what was expected and what came,
 * count failures, exit non-zero at the end. */
#ifndef OSD_CHECK_H
#define OSD_CHECK_H
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            check_failures++;                                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                                  \
            fputc('\n', stderr);                                                                           \
        }                                                                                                  \
    } while (0)
#define CHECK_INT(got, want) CHECK((long long)(got) == (long long)(want), "expected %lld, got %lld", (long long)(want), (long long)(got))
#define CHECK_STR(got, want) CHECK((got) && !strcmp((got), (want)), "expected \"%s\", got \"%s\"", (want), (got) ? (got) : "(null)")
#define CHECK_DONE()                                                                                       \
    do {                                                                                                   \
        if (check_failures)                                                                                \
            fprintf(stderr, "%d check(s) failed\n", check_failures);                                       \
        return check_failures ? 1 : 0;                                                                     \
    } while (0)
#endif
