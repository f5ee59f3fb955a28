/* heap_static.c - linked statically (workloads_heap.cmake): a process that maps no
 * libc.so.6, for the `heap` bad-input test. Prints "ready <ts>" and sleeps. */
#include "wl.h"

int main(void)
{
    wl_safety(60);
    wl_emit("ready %.6f", wl_now());
    wl_sleep_ms(30000);
    return 0;
}
