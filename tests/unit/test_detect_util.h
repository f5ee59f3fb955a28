/* test_detect_util.h - tiny assertion helpers shared by the detection tests. */
#ifndef TEST_DETECT_UTIL_H
#define TEST_DETECT_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int t_failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            t_failures++;                                                      \
        }                                                                      \
    } while (0)

static inline int t_done(const char *name)
{
    if (t_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, t_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

/* Deterministic test noise: splitmix64 + Box-Muller. */
static inline double t_unif(unsigned long long *s)
{
    unsigned long long z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static inline double t_norm(unsigned long long *s)
{
    double u = t_unif(s), v = t_unif(s);

    return sqrt(-2.0 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

#endif
