/* demo_workload.c - what tests/demo.sh watches: a quiet service with a little periodic
 * work, then a CPU burst, then a memory surge, then quiet again. Each phase is announced
 * on stderr so the anomalies osdetd reports can be matched to their cause. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spin(double seconds)
{
    double end = now() + seconds;
    volatile unsigned long x = 0;

    while (now() < end)
        x++;
}

/* ~5 % of a core: 2 ms of work every 40 ms, like a lightly loaded server */
static void quiet(double seconds)
{
    double end = now() + seconds;

    while (now() < end) {
        spin(0.002);
        usleep(38000);
    }
}

static void say(const char *what)
{
    time_t t = time(NULL);
    char buf[16];

    strftime(buf, sizeof(buf), "%H:%M:%S", localtime(&t));
    fprintf(stderr, "demo_workload %s: %s\n", buf, what);
}

int main(int argc, char **argv)
{
    double warm = argc > 1 ? atof(argv[1]) : 50;
    size_t surge = (size_t)256 << 20;
    char *p;

    alarm((unsigned)warm + 120); /* never outlive the demo */
    say("quiet phase (the detector calibrates on it)");
    quiet(warm);
    say("CPU burst: one core busy for 5 s");
    spin(5);
    say("quiet");
    quiet(12);
    say("memory surge: +256 MiB");
    p = malloc(surge);
    if (!p)
        return 1;
    /* touch every page through a volatile pointer: a memset before free() may be elided */
    for (size_t i = 0; i < surge; i += 4096)
        ((volatile char *)p)[i] = 1;
    quiet(12);
    free(p);
    say("done");
    return 0;
}
