/* bpf_sweep.c - see bpf_sweep.h. */
#include "bpf_sweep.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collect_procmon.h"

int bpf_batch_read(int fd, void *keys, size_t ksz, void *vals, size_t vsz, size_t cap, size_t *n)
{
    uint64_t in_tok = 0, out_tok = 0;
    int first = 1;

    *n = 0;
    while (*n < cap) {
        __u32 count = (__u32)(cap - *n);
        DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
        int err = bpf_map_lookup_batch(fd, first ? NULL : &in_tok, &out_tok, (char *)keys + *n * ksz,
                                       (char *)vals + *n * vsz, &count, &opts);

        if (err && errno != ENOENT)
            return -errno;
        *n += count;
        if (err) /* ENOENT: the walk is complete */
            return 0;
        in_tok = out_tok;
        first = 0;
    }
    return 0;
}

void bpf_sweep_init(struct bpf_sweep *s, int fd, size_t ksz, size_t vsz, size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->ksz = ksz;
    s->vsz = vsz;
    s->cap = cap;
}

void bpf_sweep_free(struct bpf_sweep *s)
{
    free(s->recs);
    free(s->keys);
    free(s->vals);
    s->recs = s->keys = s->vals = NULL;
    s->valid = false;
}

/* Keys compare word by word: {target_id, tid[, nr]} sort by target, then thread. */
static int cmp_key(const void *a, const void *b, void *arg)
{
    size_t words = *(const size_t *)arg;
    const uint32_t *x = a, *y = b;

    for (size_t i = 0; i < words; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

int bpf_sweep_read(struct bpf_sweep *s, int64_t max_age_ns)
{
    size_t rsz = s->ksz + s->vsz, words = s->ksz / 4, n;
    int err;

    if (s->valid && max_age_ns > 0 && mono_ns() - s->mono_ns <= max_age_ns)
        return 0;
    if (!s->recs) {
        /* full size: pages never touched never become resident */
        s->recs = calloc(s->cap, rsz);
        s->keys = calloc(s->cap, s->ksz);
        s->vals = calloc(s->cap, s->vsz);
        if (!s->recs || !s->keys || !s->vals) {
            bpf_sweep_free(s);
            return -ENOMEM;
        }
    }
    s->valid = false;
    s->mono_ns = mono_ns();
    err = bpf_batch_read(s->fd, s->keys, s->ksz, s->vals, s->vsz, s->cap, &n);
    if (err)
        return err;
    for (size_t i = 0; i < n; i++) {
        memcpy(s->recs + i * rsz, s->keys + i * s->ksz, s->ksz);
        memcpy(s->recs + i * rsz + s->ksz, s->vals + i * s->vsz, s->vsz);
    }
    qsort_r(s->recs, n, rsz, cmp_key, &words);
    s->n = n;
    s->valid = true;
    return 0;
}

void bpf_sweep_invalidate(struct bpf_sweep *s)
{
    s->valid = false;
}

void bpf_sweep_slice(const struct bpf_sweep *s, uint32_t target_id, size_t *first, size_t *n)
{
    size_t lo = 0, hi = s->valid ? s->n : 0;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (*(const uint32_t *)bpf_sweep_key(s, mid) < target_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (s->valid && hi < s->n && *(const uint32_t *)bpf_sweep_key(s, hi) == target_id)
        hi++;
    *n = hi - lo;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

void bpf_sweep_delete(struct bpf_sweep *s, uint32_t target_id, const uint32_t *tids, size_t ntids)
{
    size_t first, n;

    /* a target's own entries: a fresh reading. Dead threads' entries: the copy this
     * tick made will do, nothing adds entries for a thread that is gone */
    if ((!tids || !s->valid) && bpf_sweep_read(s, 0))
        return;
    bpf_sweep_slice(s, target_id, &first, &n);
    for (size_t i = first; i < first + n; i++) {
        const uint32_t *k = bpf_sweep_key(s, i);

        /* tids sorted by the caller */
        if (!tids || bsearch(&k[1], tids, ntids, sizeof(*tids), cmp_u32))
            bpf_map_delete_elem(s->fd, k);
    }
    s->valid = false;
}
