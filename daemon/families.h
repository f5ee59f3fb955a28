/* families.h - the metric families a target can collect: their names (the `watch`
 * options and `series` metric names) and the columns of their series. */
#ifndef OSD_FAMILIES_H
#define OSD_FAMILIES_H
#include <stddef.h>

enum family { FAM_CPU, FAM_MEM, FAM_MAX };

/* Columns, after the time column (see proto/osd-rpc.md). */
enum { CPU_COL_PCT, CPU_COL_NVCSW, CPU_COL_NIVCSW, CPU_NCOLS };
enum { MEM_COL_RSS, MEM_COL_VM, MEM_NCOLS };
#define FAM_MAX_COLS CPU_NCOLS

struct family_desc {
    const char *name;
    const char *const *cols; /* ncols names, the time column not included */
    size_t ncols;
    const int *detect_cols; /* the columns fed to the anomaly detector */
    size_t ndetect;
};

const struct family_desc *family_desc(enum family f);
int family_find(const char *name); /* enum family, or -1 */
#endif
