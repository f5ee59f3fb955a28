/* wl.h - helpers shared by the test workloads: timestamps, flushed output lines,
 * option parsing, CPU burning and the safety nets that keep a workload from outliving
 * the test that started it. Header-only so each workload stays one .c file. */
#ifndef OSD_WL_H
#define OSD_WL_H
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Every line is "<event> [words] <epoch seconds> [values]": tests align the workload's
 * phases with the daemon's points by CLOCK_REALTIME, which both sides read. */
static inline double wl_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double wl_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Each line is written whole by one call (threads must not interleave) and flushed at
 * once: the test reads it through a pipe while we run. */
__attribute__((format(printf, 1, 2))) static inline void wl_emit(const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    flockfile(stdout);
    fputs(line, stdout);
    putchar_unlocked('\n');
    fflush_unlocked(stdout);
    funlockfile(stdout);
}

static inline void wl_die_usage(const char *prog, const char *usage)
{
    fprintf(stderr, "usage: %s %s\n", prog, usage);
    exit(2);
}

/* Parses "--name VALUE" as a non-negative integer; returns 1 if argv[*i] was it. */
static inline int wl_opt_long(int argc, char **argv, int *i, const char *name, long *out)
{
    char *end;

    if (strcmp(argv[*i], name))
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", argv[0], name);
        exit(2);
    }
    errno = 0;
    *out = strtol(argv[*i + 1], &end, 10);
    if (errno || *end || *out < 0) {
        fprintf(stderr, "%s: %s must be a non-negative integer, got '%s'\n", argv[0], name, argv[*i + 1]);
        exit(2);
    }
    (*i)++;
    return 1;
}

static inline void wl_sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* Spins on the wall clock, not on CPU time: a phase lasts what it says even when the
 * machine is busy, so the printed timestamps bound it exactly. */
static inline void wl_spin_ms(long ms)
{
    double end = wl_mono() + (double)ms / 1000.0;
    volatile unsigned long x = 0;

    while (wl_mono() < end)
        for (int k = 0; k < 1000; k++)
            x += (unsigned long)k;
    (void)x;
}

static inline double wl_tv_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static inline double wl_self_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Raises our priority for $OSD_WL_NICE (a nice value): on a shared machine a test may
 * ask for it so that other tenants cannot blur a busy phase. With autogroup scheduling
 * (kernel.sched_autogroup_enabled=1) nice only ranks tasks within one session, and
 * every other session gets an equal share, so we start a session of our own and give
 * its autogroup the nice value too. Children and threads inherit both. */
static inline void wl_apply_nice(void)
{
    const char *env = getenv("OSD_WL_NICE");
    FILE *f;
    int nice;

    if (!env || !*env)
        return;
    nice = atoi(env);
    if (setsid() < 0 && errno != EPERM) /* EPERM: already a group leader; keep going */
        perror("setsid");
    f = fopen("/proc/self/autogroup", "we");
    if (f) {
        fprintf(f, "%d", nice);
        if (fclose(f))
            perror("write /proc/self/autogroup");
    }
    if (setpriority(PRIO_PROCESS, 0, nice))
        perror("setpriority(OSD_WL_NICE)");
}

/* Safety nets: SIGALRM (default action: terminate) after max_s whatever happens, and
 * SIGKILL when the process that started us dies, so a crashed test leaves no orphans.
 * Also applies $OSD_WL_NICE (see wl_apply_nice). Call it before creating threads or
 * children. */
static inline void wl_safety(unsigned max_s)
{
    pid_t parent = getppid();

    wl_apply_nice();
    alarm(max_s);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before prctl took effect */
        _exit(1);
}
#endif
