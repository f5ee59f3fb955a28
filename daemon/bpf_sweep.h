/* bpf_sweep.h - a sorted copy of a whole BPF hash map, read in batches: the per-thread
 * maps of the collectors are read once per tick for every target, each target then takes
 * its slice (keys begin with the target id). */
#ifndef OSD_BPF_SWEEP_H
#define OSD_BPF_SWEEP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_sweep {
    int fd;
    size_t ksz, vsz, cap;  /* key and value sizes (keys: whole u32 words), max_entries */
    unsigned char *recs;   /* n records: key then value, sorted by key words */
    unsigned char *keys, *vals; /* batch-read scratch */
    size_t n;
    int64_t mono_ns;       /* CLOCK_MONOTONIC of the reading */
    bool valid;
};

/* Reads a whole hash map with BPF_MAP_LOOKUP_BATCH: one syscall per few thousand
 * entries instead of two per entry. *n entries land in keys/vals (cap of each). */
int bpf_batch_read(int fd, void *keys, size_t ksz, void *vals, size_t vsz, size_t cap, size_t *n);

/* Buffers are allocated at the first read, so a map never read costs nothing. */
void bpf_sweep_init(struct bpf_sweep *s, int fd, size_t ksz, size_t vsz, size_t cap);
void bpf_sweep_free(struct bpf_sweep *s);
/* Re-reads the map if the copy is older than max_age_ns (0: always); negative errno. */
int bpf_sweep_read(struct bpf_sweep *s, int64_t max_age_ns);
void bpf_sweep_invalidate(struct bpf_sweep *s);
/* The records whose first key word is target_id. */
void bpf_sweep_slice(const struct bpf_sweep *s, uint32_t target_id, size_t *first, size_t *n);
static inline const void *bpf_sweep_key(const struct bpf_sweep *s, size_t i)
{
    return s->recs + i * (s->ksz + s->vsz);
}
static inline const void *bpf_sweep_val(const struct bpf_sweep *s, size_t i)
{
    return s->recs + i * (s->ksz + s->vsz) + s->ksz;
}
/* Deletes every entry of a target (from a fresh reading) and of the given second key
 * words (tids) of it, if tids is not NULL. */
void bpf_sweep_delete(struct bpf_sweep *s, uint32_t target_id, const uint32_t *tids, size_t ntids);
#endif
