/* series.h - fixed-capacity ring of timestamped rows (one time column, ncols values).
 * Append is O(1) amortised: storage starts small and doubles up to the capacity, so a
 * thousand short-lived targets do not each reserve a day of points. A time range is
 * found by binary search since times only grow. */
#ifndef OSD_SERIES_H
#define OSD_SERIES_H
#include <stddef.h>
#include <stdint.h>

struct series {
    int64_t *t_ms;  /* epoch milliseconds, capacity entries */
    double *v;      /* capacity * ncols values, row-major */
    size_t cap;     /* the bound: rows kept at most */
    size_t alloc;   /* rows allocated now (<= cap); grows only before the first wrap */
    size_t ncols;
    size_t head;    /* index of the oldest row */
    size_t len;
};

int series_init(struct series *s, size_t cap, size_t ncols); /* 0 or -EINVAL/-ENOMEM */
void series_free(struct series *s);
/* Appends a row; the oldest row is overwritten when full. -EINVAL if t goes backwards,
 * -ENOMEM if growing failed (the row is dropped, the series intact). */
int series_append(struct series *s, int64_t t_ms, const double *vals);
/* Row i (0 = oldest); returns a pointer to its ncols values and sets *t_ms. */
const double *series_row(const struct series *s, size_t i, int64_t *t_ms);
/* Index range [*first, *last) of rows with since <= t <= until. */
void series_range(const struct series *s, int64_t since_ms, int64_t until_ms, size_t *first, size_t *last);
size_t series_bytes(const struct series *s);     /* heap bytes held now */
size_t series_cap_bytes(const struct series *s); /* heap bytes at full capacity */
#endif
