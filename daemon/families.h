/* families.h - the metric families a target can collect: their names (the `watch`
 * options and `series` metric names) and the columns of their series. */
#ifndef OSD_FAMILIES_H
#define OSD_FAMILIES_H
#include <stdbool.h>
#include <stddef.h>

enum family { FAM_CPU, FAM_MEM, FAM_NET, FAM_SYSCALL, FAM_HEAP, FAM_MAX };

/* Columns, after the time column (see proto/osd-rpc.md). */
enum { CPU_COL_PCT, CPU_COL_NVCSW, CPU_COL_NIVCSW, CPU_NCOLS };
enum { MEM_COL_RSS, MEM_COL_VM, MEM_NCOLS };
enum {
    NET_COL_TX_BYTES, NET_COL_RX_BYTES, NET_COL_TX_CALLS, NET_COL_RX_CALLS,
    NET_COL_TCP_TX, NET_COL_TCP_RX, NET_COL_UDP_TX, NET_COL_UDP_RX, NET_NCOLS
};
enum { SYS_COL_RATE, SYS_COL_ERR_RATE, SYS_COL_P50, SYS_COL_P99, SYS_COL_CALLS, SYS_COL_ERRORS, SYS_NCOLS };
enum {
    HEAP_COL_LIVE, HEAP_COL_OUTSTANDING, HEAP_COL_ALLOC_RATE, HEAP_COL_FREE_RATE, HEAP_COL_ALLOC_BYTES,
    HEAP_COL_MISUSE, HEAP_NCOLS
};
#define FAM_MAX_COLS NET_NCOLS

struct family_desc {
    const char *name;
    const char *const *cols; /* ncols names, the time column not included */
    size_t ncols;
    const int *detect_cols; /* the columns fed to the anomaly detector */
    size_t ndetect;
    bool needs_bpf;         /* no /proc fallback */
};

const struct family_desc *family_desc(enum family f);
int family_find(const char *name); /* enum family, or -1 */
#endif
