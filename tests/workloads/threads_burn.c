/* threads_burn.c - N threads, each busy a known fraction of every 100 ms period, for
 * --burn-ms; the main thread only waits. The busy slots follow each other within the
 * period (thread i starts where thread i-1 stops), so threads whose duties sum to at
 * most 100 % never compete for a core and each gets exactly its duty. Default duties: thread i (0-based) is busy
 * 80/(i+1) % (80, 40, 26, ...), so their sum stays under one core on a small machine;
 * --duty a,b,c sets them. Prints "thread <ts> <index> <tid> <duty %>" per thread once it
 * runs, then "done <ts> <index> <tid> <thread cpu s>" per thread and "exit <ts>". */
#include <pthread.h>

#include "wl.h"

#define PERIOD_MS 100
#define MAX_THREADS 64

struct worker {
    pthread_t th;
    int index;
    pid_t tid;
    long duty_pct, burn_ms;
    long offset_ms; /* start of its busy slot within the period */
    double cpu_s;
};

static double thread_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec epoch_start; /* period 0 starts here, for every thread */

static void sleep_until(const struct timespec *base, long ms)
{
    struct timespec t = *base;

    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_nsec -= 1000000000L;
        t.tv_sec++;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    long periods = w->burn_ms / PERIOD_MS;

    w->tid = gettid();
    wl_emit("thread %.3f %d %d %ld", wl_now(), w->index, (int)w->tid, w->duty_pct);
    for (long k = 0; k < periods; k++) {
        /* absolute deadlines: a late period does not shift all later ones */
        sleep_until(&epoch_start, k * PERIOD_MS + w->offset_ms);
        wl_spin_ms(PERIOD_MS * w->duty_pct / 100);
    }
    w->cpu_s = thread_cpu_s();
    return NULL;
}

int main(int argc, char **argv)
{
    static const char usage[] = "--threads N --burn-ms N [--duty P1,P2,...]";
    static struct worker w[MAX_THREADS];
    long nthreads = -1, burn = -1;
    const char *duty = NULL;

    for (int i = 1; i < argc; i++) {
        if (wl_opt_long(argc, argv, &i, "--threads", &nthreads) || wl_opt_long(argc, argv, &i, "--burn-ms", &burn))
            continue;
        if (!strcmp(argv[i], "--duty") && i + 1 < argc) {
            duty = argv[++i];
            continue;
        }
        wl_die_usage(argv[0], usage);
    }
    if (nthreads < 1 || nthreads > MAX_THREADS || burn < PERIOD_MS)
        wl_die_usage(argv[0], usage);
    for (int i = 0; i < nthreads; i++) {
        w[i].index = i;
        w[i].burn_ms = burn;
        w[i].duty_pct = 80 / (i + 1);
    }
    if (duty) {
        const char *p = duty;
        for (int i = 0; i < nthreads; i++) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v > 100 || (*end && *end != ',')) {
                fprintf(stderr, "%s: --duty wants %ld comma-separated percentages, got '%s'\n", argv[0],
                        nthreads, duty);
                return 2;
            }
            w[i].duty_pct = v;
            if (!*end && i + 1 < nthreads) {
                fprintf(stderr, "%s: --duty has fewer than %ld values\n", argv[0], nthreads);
                return 2;
            }
            p = *end ? end + 1 : end;
        }
    }
    for (int i = 1; i < nthreads; i++)
        w[i].offset_ms = (w[i - 1].offset_ms + PERIOD_MS * w[i - 1].duty_pct / 100) % PERIOD_MS;
    wl_safety((unsigned)(burn / 1000) + 60);
    /* start one period from now: every thread is running by then */
    clock_gettime(CLOCK_MONOTONIC, &epoch_start);
    epoch_start.tv_nsec += PERIOD_MS * 1000000L;
    if (epoch_start.tv_nsec >= 1000000000L) {
        epoch_start.tv_nsec -= 1000000000L;
        epoch_start.tv_sec++;
    }

    for (int i = 0; i < nthreads; i++) {
        int err = pthread_create(&w[i].th, NULL, worker_run, &w[i]);
        if (err) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            return 1;
        }
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(w[i].th, NULL);
        wl_emit("done %.3f %d %d %.6f", wl_now(), w[i].index, (int)w[i].tid, w[i].cpu_s);
    }
    wl_emit("exit %.3f", wl_now());
    return 0;
}
