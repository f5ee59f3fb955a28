/* test_collect.c - the pure helpers of the collectors: latency quantiles from the log2
 * histogram and the syscall name table. */
#include <math.h>

#include "check.h"
#include "collect_syscall.h"

static void test_quantile(void)
{
    __u64 hist[OSD_SYS_HIST] = { 0 };

    CHECK(sysmon_quantile(hist, 0.5) == 0, "empty histogram gives 0");
    hist[8] = 99; /* 99 calls in [256, 512) ns */
    hist[20] = 1; /* 1 call in [1 Mi, 2 Mi) ns */
    CHECK(fabs(sysmon_quantile(hist, 0.5) - 256 * M_SQRT2) < 1e-9, "p50 is the middle of bucket 8: %g",
          sysmon_quantile(hist, 0.5));
    CHECK(fabs(sysmon_quantile(hist, 0.99) - 256 * M_SQRT2) < 1e-9, "99 of 100 are in bucket 8: %g",
          sysmon_quantile(hist, 0.99));
    CHECK(fabs(sysmon_quantile(hist, 1.0) - 1048576 * M_SQRT2) < 1e-3, "p100 is the top bucket: %g",
          sysmon_quantile(hist, 1.0));
}

static void test_names(void)
{
    CHECK_STR(syscall_name(0), "read");
    CHECK_STR(syscall_name(110), "getppid");
    CHECK_STR(syscall_name(231), "exit_group");
    CHECK_STR(syscall_name(100000), "syscall_100000");
}

int main(void)
{
    test_quantile();
    test_names();
    CHECK_DONE();
}
