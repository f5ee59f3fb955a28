/* forker.c - a parent that stays idle while its children use the CPU.
 *   --children N --burn-ms M [--concurrent K]: N children, at most K at a time, each
 *     spins M ms and exits; prints "child start <ts> <pid>", "child exit <ts> <pid> <cpu s>"
 *     and at the end "children <ts> <n> <total cpu s from wait4 rusage>".
 *   --many N: N children that exit at once, forked as fast as possible; prints
 *     "storm start <ts>", "storm end <ts> <n forked> <fork failures>".
 * Both modes wait --start-delay-ms first (default 1000, room to watch the parent), and
 * stay idle --linger-ms after the last child (default 1000) before printing
 * "self <ts> <own cpu s>" and "done <ts>" and exiting. */
#include <sys/wait.h>

#include "wl.h"

static const char usage[] =
    "(--children N --burn-ms N [--concurrent K] | --many N) [--start-delay-ms N] [--linger-ms N]";

static double children_cpu_s;
static long children_reaped;

/* Reaps one child; blocking or not. Returns its pid, 0 if none was ready, -1 if none left. */
static pid_t reap(int verbose, int block)
{
    struct rusage ru;
    int status;
    pid_t pid = wait4(-1, &status, block ? 0 : WNOHANG, &ru);

    if (pid <= 0)
        return pid;
    double cpu = wl_tv_s(&ru.ru_utime) + wl_tv_s(&ru.ru_stime);
    children_cpu_s += cpu;
    children_reaped++;
    if (verbose)
        wl_emit("child exit %.3f %d %.6f", wl_now(), (int)pid, cpu);
    return pid;
}

static void run_burners(long n, long burn_ms, long concurrent)
{
    long running = 0;

    for (long i = 0; i < n; i++) {
        pid_t pid;

        while (running >= concurrent && reap(1, 1) > 0)
            running--;
        pid = fork();
        if (pid < 0) {
            perror("fork");
            exit(1);
        }
        if (pid == 0) {
            wl_safety((unsigned)(burn_ms / 1000) + 60);
            wl_spin_ms(burn_ms);
            _exit(0);
        }
        running++;
        wl_emit("child start %.3f %d", wl_now(), (int)pid);
    }
    while (reap(1, 1) > 0)
        ;
    wl_emit("children %.3f %ld %.6f", wl_now(), children_reaped, children_cpu_s);
}

static void run_storm(long n)
{
    long forked = 0, failures = 0, live = 0;

    wl_emit("storm start %.3f", wl_now());
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();

        if (pid == 0)
            _exit(0);
        if (pid < 0) {
            /* EAGAIN under a pid limit: make room, count it, go on */
            failures++;
            if (reap(0, 1) > 0)
                live--;
            continue;
        }
        forked++;
        live++;
        while (reap(0, 0) > 0)
            live--;
        /* bound the zombies we hold so the storm never exhausts pids */
        while (live > 256 && reap(0, 1) > 0)
            live--;
    }
    while (reap(0, 1) > 0)
        ;
    wl_emit("storm end %.3f %ld %ld", wl_now(), forked, failures);
}

int main(int argc, char **argv)
{
    long children = -1, burn = -1, concurrent = 1, many = -1, start_delay = 1000, linger = 1000;
    unsigned max_s;

    for (int i = 1; i < argc; i++) {
        if (wl_opt_long(argc, argv, &i, "--children", &children) || wl_opt_long(argc, argv, &i, "--burn-ms", &burn) ||
            wl_opt_long(argc, argv, &i, "--concurrent", &concurrent) ||
            wl_opt_long(argc, argv, &i, "--many", &many) ||
            wl_opt_long(argc, argv, &i, "--start-delay-ms", &start_delay) ||
            wl_opt_long(argc, argv, &i, "--linger-ms", &linger))
            continue;
        wl_die_usage(argv[0], usage);
    }
    if ((many < 0) == (children < 0) || (children >= 0 && burn < 0) || concurrent < 1)
        wl_die_usage(argv[0], usage);
    max_s = (unsigned)((start_delay + linger) / 1000) + 120;
    if (children > 0)
        max_s += (unsigned)(children * burn / concurrent / 1000);
    wl_safety(max_s);

    wl_emit("start %.3f", wl_now());
    wl_sleep_ms(start_delay);
    if (many >= 0)
        run_storm(many);
    else
        run_burners(children, burn, concurrent);
    wl_sleep_ms(linger);
    wl_emit("self %.3f %.6f", wl_now(), wl_self_cpu_s());
    wl_emit("done %.3f", wl_now());
    return 0;
}
