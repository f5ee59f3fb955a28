/* syscall_loop.c - times N getppid() syscalls (through syscall(2), so libc cannot cache
 * them) after waiting for SIGUSR1 (or --no-wait) and prints "ns_per_call <value>".
 * Used by bench_syscall.py to measure what watching adds per syscall. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    sigset_t set;
    int sig;
    double t0;

    if (argc < 3 || strcmp(argv[2], "--no-wait")) {
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        printf("ready\n");
        fflush(stdout);
        sigwait(&set, &sig);
    }
    t0 = now();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    printf("ns_per_call %.1f\n", (now() - t0) / (double)n);
    return 0;
}
