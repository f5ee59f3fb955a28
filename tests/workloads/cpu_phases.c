/* cpu_phases.c - a known CPU pattern: idle, then busy/idle cycles, then idle again.
 * Prints "phase <busy|idle|end> <ts>" at each phase start and, last,
 * "cpu <ts> <process cpu seconds> <utime s> <stime s>". After each busy phase it prints
 * "stall <ts> <seconds>" for every stretch of more than 1 ms in which it was not running
 * (preempted by another tenant of the machine), so a test can tell a point that shows
 * less than a full core because we did not get one from a measurement error. */
#include "wl.h"

#define STALL_MIN_S 0.001
#define MAX_STALLS 4096

static struct {
    double at, len;
} stalls[MAX_STALLS];
static size_t nstalls, stalls_dropped;

/* Spins ms of wall time, noting the gaps between two clock reads: we were off the CPU. */
static void spin_watching(long ms)
{
    double prev = wl_mono(), end = prev + (double)ms / 1000.0;
    double offset = wl_now() - prev; /* realtime - monotonic, to timestamp the gaps */

    while (prev < end) {
        double t = wl_mono();

        if (t - prev > STALL_MIN_S) {
            if (nstalls < MAX_STALLS) {
                stalls[nstalls].at = prev + offset;
                stalls[nstalls].len = t - prev;
                nstalls++;
            } else {
                stalls_dropped++;
            }
        }
        prev = t;
    }
}

static void print_stalls(void)
{
    for (size_t i = 0; i < nstalls; i++)
        wl_emit("stall %.3f %.6f", stalls[i].at, stalls[i].len);
    if (stalls_dropped)
        wl_emit("stalls_dropped %.3f %zu", wl_now(), stalls_dropped);
    nstalls = stalls_dropped = 0;
}

static const char usage[] = "--busy-ms N --idle-ms N --cycles N [--start-idle-ms N] [--end-idle-ms N]";

int main(int argc, char **argv)
{
    long busy = -1, idle = -1, cycles = -1, start_idle = -1, end_idle = -1;
    struct rusage ru;
    double total_s;

    for (int i = 1; i < argc; i++) {
        if (wl_opt_long(argc, argv, &i, "--busy-ms", &busy) || wl_opt_long(argc, argv, &i, "--idle-ms", &idle) ||
            wl_opt_long(argc, argv, &i, "--cycles", &cycles) ||
            wl_opt_long(argc, argv, &i, "--start-idle-ms", &start_idle) ||
            wl_opt_long(argc, argv, &i, "--end-idle-ms", &end_idle))
            continue;
        wl_die_usage(argv[0], usage);
    }
    if (busy < 0 || idle < 0 || cycles < 1)
        wl_die_usage(argv[0], usage);
    if (start_idle < 0)
        start_idle = idle;
    if (end_idle < 0)
        end_idle = idle;
    total_s = (double)(start_idle + cycles * (busy + idle) + end_idle) / 1000.0;
    wl_safety((unsigned)total_s + 60);

    wl_emit("phase idle %.3f", wl_now());
    wl_sleep_ms(start_idle);
    for (long c = 0; c < cycles; c++) {
        wl_emit("phase busy %.3f", wl_now());
        spin_watching(busy);
        wl_emit("phase idle %.3f", wl_now());
        print_stalls();
        /* the last idle phase is the end idle, so every run ends idle */
        wl_sleep_ms(c + 1 < cycles ? idle : end_idle);
    }
    wl_emit("phase end %.3f", wl_now());
    getrusage(RUSAGE_SELF, &ru);
    wl_emit("cpu %.3f %.6f %.6f %.6f", wl_now(), wl_self_cpu_s(), wl_tv_s(&ru.ru_utime), wl_tv_s(&ru.ru_stime));
    return 0;
}
