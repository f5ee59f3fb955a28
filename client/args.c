/* args.c - see args.h. Strict: no sign, no spaces, no trailing junk, overflow detected. */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Reads one run of decimal digits at *p into *v; -EINVAL if none, -ERANGE on overflow. */
static int read_digits(const char **p, int64_t *v)
{
    const char *s = *p;
    int64_t n = 0;

    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, *s - '0', &n))
            return -ERANGE;
    }
    *p = s;
    *v = n;
    return 0;
}

static int64_t unit_secs(char u)
{
    switch (u) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return 0;
    }
}

int args_parse_duration(const char *s, int64_t *secs)
{
    const char *p = s;
    int64_t total = 0, n, unit, part;
    char last_unit = 0;
    int err;

    if (!s || !*s)
        return -EINVAL;
    while (*p) {
        err = read_digits(&p, &n);
        if (err)
            return err;
        if (!*p) {
            /* A bare number is seconds, but only on its own: "1h30" is ambiguous. */
            if (last_unit)
                return -EINVAL;
            *secs = n;
            return 0;
        }
        unit = unit_secs(*p);
        /* Units must appear once each, largest first: "1h30m", not "30m1h" or "1m1m". */
        if (!unit || (last_unit && unit >= unit_secs(last_unit)))
            return -EINVAL;
        last_unit = *p++;
        if (__builtin_mul_overflow(n, unit, &part) || __builtin_add_overflow(total, part, &total))
            return -ERANGE;
    }
    *secs = total;
    return 0;
}

int args_parse_int(const char *s, long long min, long long max, long long *v)
{
    const char *p = s;
    int64_t n;
    int neg = 0, err;

    if (!s)
        return -EINVAL;
    if (*p == '-' && min < 0) {
        neg = 1;
        p++;
    }
    err = read_digits(&p, &n);
    if (err)
        return err;
    if (*p)
        return -EINVAL;
    if (neg)
        n = -n;
    if (n < min || n > max)
        return -ERANGE;
    *v = n;
    return 0;
}

int args_parse_pid(const char *s, pid_t *pid)
{
    long long v;
    int err = args_parse_int(s, 1, INT32_MAX, &v);

    /* "0" is a number but never a pid: call it out of range, "abc" is not a number. */
    if (err)
        return err;
    *pid = (pid_t)v;
    return 0;
}

int args_parse_seconds(const char *s, double max, double *v)
{
    char *end;
    double d;

    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    d = strtod(s, &end);
    /* strtod also takes hex, "inf" and exponents; only plain decimals are seconds here. */
    if (*end || strpbrk(s, "xXeEpPiInN"))
        return -EINVAL;
    if (errno == ERANGE || !isfinite(d) || d > max)
        return -ERANGE;
    *v = d;
    return 0;
}

int args_parse_real(const char *s, double *v)
{
    char *end;
    double d;

    if (!s || !(isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))))
        return -EINVAL;
    errno = 0;
    d = strtod(s, &end);
    /* strtod also takes hex, "inf" and "nan"; an exponent is fine here ("1e-4"). */
    if (*end || strpbrk(s, "xXpPiInN"))
        return -EINVAL;
    if (errno == ERANGE || !isfinite(d))
        return -ERANGE;
    *v = d;
    return 0;
}
