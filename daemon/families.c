/* families.c - see families.h. */
#include "families.h"

#include <string.h>

static const char *const cpu_cols[] = { "cpu_pct", "ctx_voluntary", "ctx_involuntary" };
static const char *const mem_cols[] = { "rss_bytes", "vm_bytes" };
static const char *const net_cols[] = { "tx_bytes",     "rx_bytes",     "tx_calls",     "rx_calls",
                                        "tcp_tx_bytes", "tcp_rx_bytes", "udp_tx_bytes", "udp_rx_bytes" };
static const char *const sys_cols[] = { "rate", "error_rate", "p50_ns", "p99_ns", "calls", "errors" };
static const char *const heap_cols[] = { "live_bytes", "outstanding", "alloc_rate",
                                         "free_rate",  "alloc_bytes", "misuse" };

/* Context switches and VmSize are shown but not judged: they follow cpu_pct and RSS
 * and would only add false alarms. */
static const int cpu_detect[] = { CPU_COL_PCT };
static const int mem_detect[] = { MEM_COL_RSS };
static const int net_detect[] = { NET_COL_TX_BYTES, NET_COL_RX_BYTES };
static const int sys_detect[] = { SYS_COL_RATE, SYS_COL_ERR_RATE };
/* misuse has its own alerts; outstanding follows live_bytes */
static const int heap_detect[] = { HEAP_COL_LIVE, HEAP_COL_ALLOC_RATE };

static const struct family_desc families[FAM_MAX] = {
    [FAM_CPU] = { "cpu", cpu_cols, CPU_NCOLS, cpu_detect, 1, false },
    [FAM_MEM] = { "mem", mem_cols, MEM_NCOLS, mem_detect, 1, false },
    [FAM_NET] = { "net", net_cols, NET_NCOLS, net_detect, 2, true },
    [FAM_SYSCALL] = { "syscall", sys_cols, SYS_NCOLS, sys_detect, 2, true },
    [FAM_HEAP] = { "heap", heap_cols, HEAP_NCOLS, heap_detect, 2, true },
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
