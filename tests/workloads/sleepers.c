/* sleepers.c - many idle processes to watch at once: forks N children that sleep until
 * the parent dies (PR_SET_PDEATHSIG) or the safety alarm fires, prints "child <pid>" for
 * each, then "ready <t>", and sleeps until it is killed (its children die with it).
 * usage: sleepers --count N [--max-s N] */
#include "wl.h"

int main(int argc, char **argv)
{
    long count = 100, max_s = 600;

    for (int i = 1; i < argc; i++) {
        if (wl_opt_long(argc, argv, &i, "--count", &count) || wl_opt_long(argc, argv, &i, "--max-s", &max_s))
            continue;
        wl_die_usage(argv[0], "--count N [--max-s N]");
    }
    wl_safety((unsigned)max_s);
    for (long i = 0; i < count; i++) {
        pid_t pid = fork();

        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            alarm((unsigned)max_s);
            for (;;)
                pause();
        }
        wl_emit("child %d", (int)pid);
    }
    wl_emit("ready %.3f", wl_now());
    for (;;)
        pause();
}
