/* syscalls.c - a known syscall mix: exactly N getppid() calls (raw syscall(2), which libc
 * cannot cache or elide) and N open() calls of a path that does not exist (each fails with
 * ENOENT; glibc issues openat), after --start-delay-ms or SIGUSR1, whichever comes first, so
 * that a test can watch before the loop starts.
 *
 * With --fork, a child forked at the start makes the calls and exits; the parent only
 * waits for it (no getppid, no open of its own) and reports the child's counts.
 *
 * usage: syscalls --getppid N --fail-open N [--fork] [--start-delay-ms N] [--linger-ms N] [--max-s N]
 * lines: ready <ts> <pid>
 *        start <ts>
 *        child <ts> <pid>                           (--fork)
 *        done <ts> <getppid calls> <failed opens>   (then --linger-ms before exiting)
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

static const char usage[] = "--getppid N --fail-open N [--fork] [--start-delay-ms N] [--linger-ms N] [--max-s N]";

int main(int argc, char **argv)
{
    long n_getppid = -1, n_open = -1, delay_ms = 0, linger_ms = 0, max_s = 60, i;
    long fails = 0, calls = 0;
    int fork_child = 0;
    pid_t child = 0;
    char path[64];
    struct timespec ts;
    sigset_t set;

    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--fork")) {
            fork_child = 1;
            continue;
        }
        if (!wl_opt_long(argc, argv, &a, "--getppid", &n_getppid) &&
            !wl_opt_long(argc, argv, &a, "--fail-open", &n_open) &&
            !wl_opt_long(argc, argv, &a, "--start-delay-ms", &delay_ms) &&
            !wl_opt_long(argc, argv, &a, "--linger-ms", &linger_ms) && !wl_opt_long(argc, argv, &a, "--max-s", &max_s))
            wl_die_usage(argv[0], usage);
    }
    if (n_getppid < 0 || n_open < 0)
        wl_die_usage(argv[0], usage);
    wl_safety((unsigned)max_s);
    snprintf(path, sizeof(path), "/nonexistent-osdet-%d/missing", (int)getpid());
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    wl_emit("ready %.6f %d", wl_now(), (int)getpid());

    ts.tv_sec = delay_ms / 1000;
    ts.tv_nsec = (delay_ms % 1000) * 1000000L;
    while (delay_ms > 0 && sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
        ;
    wl_emit("start %.6f", wl_now());
    if (fork_child) {
        int status;

        child = fork();
        if (child < 0) {
            perror("fork");
            return 1;
        }
        if (child > 0) {
            wl_emit("child %.6f %d", wl_now(), (int)child);
            if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
                fprintf(stderr, "%s: child %d failed\n", argv[0], (int)child);
                return 1;
            }
            wl_emit("done %.6f %ld %ld", wl_now(), n_getppid, n_open);
            wl_sleep_ms(linger_ms);
            return 0;
        }
    }
    for (i = 0; i < n_getppid; i++) {
        if (syscall(SYS_getppid) > 0)
            calls++;
    }
    for (i = 0; i < n_open; i++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
            close(fd);
            fprintf(stderr, "%s: %s exists\n", argv[0], path);
            return 1;
        }
        if (errno != ENOENT) {
            perror(path);
            return 1;
        }
        fails++;
    }
    if (fork_child) /* the child: its counts must be the asked ones, the parent reports them */
        _exit(calls == n_getppid && fails == n_open ? 0 : 1);
    wl_emit("done %.6f %ld %ld", wl_now(), calls, fails);
    wl_sleep_ms(linger_ms);
    return 0;
}
