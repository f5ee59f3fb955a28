/* bursts.c - a quiet process (a little periodic work) that, at known times, bursts CPU
 * and then grows its memory: the end-to-end detection test checks that osdetd reports
 * each one. Prints "quiet <t>", "cpu_burst <t>", "cpu_end <t>", "mem_surge <t> <bytes>",
 * "mem_end <t>", "done <t>" with CLOCK_REALTIME timestamps.
 * usage: bursts --quiet-ms N --burst-ms N --gap-ms N --mem-mb N --tail-ms N */
#include "wl.h"

/* ~5 % of a core: 2 ms of work every 40 ms */
static void quiet(long ms)
{
    double end = wl_mono() + (double)ms / 1000.0;

    while (wl_mono() < end) {
        wl_spin_ms(2);
        wl_sleep_ms(38);
    }
}

int main(int argc, char **argv)
{
    long quiet_ms = 30000, burst_ms = 3000, gap_ms = 10000, mem_mb = 256, tail_ms = 8000;
    char *p;

    for (int i = 1; i < argc; i++) {
        if (wl_opt_long(argc, argv, &i, "--quiet-ms", &quiet_ms) || wl_opt_long(argc, argv, &i, "--burst-ms", &burst_ms) ||
            wl_opt_long(argc, argv, &i, "--gap-ms", &gap_ms) || wl_opt_long(argc, argv, &i, "--mem-mb", &mem_mb) ||
            wl_opt_long(argc, argv, &i, "--tail-ms", &tail_ms))
            continue;
        wl_die_usage(argv[0], "--quiet-ms N --burst-ms N --gap-ms N --mem-mb N --tail-ms N");
    }
    wl_safety((unsigned)((quiet_ms + burst_ms + 2 * gap_ms + tail_ms) / 1000 + 60));
    wl_emit("quiet %.3f", wl_now());
    quiet(quiet_ms);
    wl_emit("cpu_burst %.3f", wl_now());
    wl_spin_ms(burst_ms);
    wl_emit("cpu_end %.3f", wl_now());
    quiet(gap_ms);
    p = malloc((size_t)mem_mb << 20);
    if (!p)
        return 1;
    wl_emit("mem_surge %.3f %ld", wl_now(), mem_mb << 20);
    /* touch every page through a volatile pointer: a memset before free() may be elided */
    for (size_t i = 0; i < ((size_t)mem_mb << 20); i += 4096)
        ((volatile char *)p)[i] = 1;
    wl_emit("mem_end %.3f", wl_now());
    quiet(tail_ms);
    wl_emit("done %.3f", wl_now());
    free(p);
    return 0;
}
