/* heap_loop.c - times N malloc(64)+free pairs after SIGUSR1 and prints
 * "ns_per_pair <value>"; bench_heap.py compares it unwatched and watched with `heap`. */
#include <signal.h>
#include <stdlib.h>

#include "wl.h"

static void *(*volatile do_malloc)(size_t) = malloc; /* no malloc/free pair elision */
static void (*volatile do_free)(void *) = free;

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    sigset_t set;
    double t0;
    int sig;

    wl_safety(600);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    wl_emit("ready");
    sigwait(&set, &sig);
    t0 = wl_mono();
    for (long i = 0; i < n; i++)
        do_free(do_malloc(64));
    wl_emit("ns_per_pair %.1f", (wl_mono() - t0) * 1e9 / (double)n);
    return 0;
}
