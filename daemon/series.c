/* series.c - see series.h. */
#include "series.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SERIES_FIRST_ALLOC 64

static int grow(struct series *s, size_t alloc)
{
    int64_t *t = realloc(s->t_ms, alloc * sizeof(*t));
    double *v;

    if (!t)
        return -ENOMEM;
    s->t_ms = t;
    v = realloc(s->v, alloc * s->ncols * sizeof(*v));
    if (!v)
        return -ENOMEM;
    s->v = v;
    s->alloc = alloc;
    return 0;
}

int series_init(struct series *s, size_t cap, size_t ncols)
{
    memset(s, 0, sizeof(*s));
    if (!cap || !ncols || cap > SIZE_MAX / sizeof(double) / (ncols + 1))
        return -EINVAL;
    s->cap = cap;
    s->ncols = ncols;
    if (grow(s, cap < SERIES_FIRST_ALLOC ? cap : SERIES_FIRST_ALLOC)) {
        series_free(s);
        return -ENOMEM;
    }
    return 0;
}

void series_free(struct series *s)
{
    free(s->t_ms);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Wrapping starts only once alloc == cap, so the modulus is always the capacity. */
static size_t slot(const struct series *s, size_t i)
{
    size_t k = s->head + i;

    return k >= s->cap ? k - s->cap : k;
}

int series_append(struct series *s, int64_t t_ms, const double *vals)
{
    size_t k;

    if (s->len && t_ms < s->t_ms[slot(s, s->len - 1)])
        return -EINVAL;
    if (s->len == s->cap) {
        k = s->head;
        s->head = slot(s, 1);
    } else {
        if (s->len == s->alloc) { /* head is 0 until the first wrap: realloc keeps order */
            size_t n = s->alloc * 2 < s->cap ? s->alloc * 2 : s->cap;
            if (grow(s, n))
                return -ENOMEM;
        }
        k = s->len++;
    }
    s->t_ms[k] = t_ms;
    memcpy(s->v + k * s->ncols, vals, s->ncols * sizeof(*vals));
    return 0;
}

const double *series_row(const struct series *s, size_t i, int64_t *t_ms)
{
    size_t k = slot(s, i);

    if (t_ms)
        *t_ms = s->t_ms[k];
    return s->v + k * s->ncols;
}

/* First logical index whose time is >= t (strict: > t). */
static size_t lower_bound(const struct series *s, int64_t t, int strict)
{
    size_t lo = 0, hi = s->len;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t tm = s->t_ms[slot(s, mid)];

        if (strict ? tm <= t : tm < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void series_range(const struct series *s, int64_t since_ms, int64_t until_ms, size_t *first, size_t *last)
{
    *first = lower_bound(s, since_ms, 0);
    *last = lower_bound(s, until_ms, 1);
    if (*last < *first)
        *last = *first;
}

size_t series_bytes(const struct series *s)
{
    return s->alloc * (sizeof(*s->t_ms) + s->ncols * sizeof(*s->v));
}

size_t series_cap_bytes(const struct series *s)
{
    return s->cap * (sizeof(*s->t_ms) + s->ncols * sizeof(*s->v));
}
