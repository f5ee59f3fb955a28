/* families.c - see families.h. */
#include "families.h"

#include <string.h>

static const char *const cpu_cols[] = { "cpu_pct", "ctx_voluntary", "ctx_involuntary" };
static const char *const mem_cols[] = { "rss_bytes", "vm_bytes" };

/* Context switches and VmSize are shown but not judged: they follow cpu_pct and RSS
 * and would only add false alarms. */
static const int cpu_detect[] = { CPU_COL_PCT };
static const int mem_detect[] = { MEM_COL_RSS };

static const struct family_desc families[FAM_MAX] = {
    [FAM_CPU] = { "cpu", cpu_cols, CPU_NCOLS, cpu_detect, 1 },
    [FAM_MEM] = { "mem", mem_cols, MEM_NCOLS, mem_detect, 1 },
};

const struct family_desc *family_desc(enum family f)
{
    return &families[f];
}

int family_find(const char *name)
{
    for (int f = 0; f < FAM_MAX; f++)
        if (!strcmp(families[f].name, name))
            return f;
    return -1;
}
