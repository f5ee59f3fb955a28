/* ufunc.c - user functions with known arguments and return values, for uprobe tracing.
 * Each SIGUSR1 runs one round r (1, 2, ...): search(n, name) is called exactly --calls
 * times with n = r*1000 + i and name "item-<n>", and returns n if n is even, -n if odd;
 * label(n) is called once per round and returns "even" or "odd". The round given by
 * --fork-round runs in a forked child (the parent waits for it). After --rounds rounds it
 * lingers --linger-ms, then exits. f00..f69 exist only to be probed (the slot limit test).
 * The build makes a stripped copy, ufunc_stripped (no .symtab; search is not exported).
 *
 * usage: ufunc --calls N --rounds R [--fork-round K] [--linger-ms N] [--max-s N]
 * lines: ready <ts> <pid>
 *        done <round> <ts> <pid that called> <calls> <sum of search's returns>
 */
#include <sys/wait.h>

#include "wl.h"

#define PROBED __attribute__((noinline, used))

PROBED int search(int n, const char *name)
{
    __asm__ volatile("" ::"r"(name) : "memory"); /* name is an argument the probe reads */
    return n % 2 ? -n : n;
}

PROBED const char *label(int n)
{
    return n % 2 ? "odd" : "even";
}

#define F(k) \
    PROBED int f##k(int x) { return x + 1; }
F(00) F(01) F(02) F(03) F(04) F(05) F(06) F(07) F(08) F(09)
F(10) F(11) F(12) F(13) F(14) F(15) F(16) F(17) F(18) F(19)
F(20) F(21) F(22) F(23) F(24) F(25) F(26) F(27) F(28) F(29)
F(30) F(31) F(32) F(33) F(34) F(35) F(36) F(37) F(38) F(39)
F(40) F(41) F(42) F(43) F(44) F(45) F(46) F(47) F(48) F(49)
F(50) F(51) F(52) F(53) F(54) F(55) F(56) F(57) F(58) F(59)
F(60) F(61) F(62) F(63) F(64) F(65) F(66) F(67) F(68) F(69)

static const char usage[] = "--calls N --rounds R [--fork-round K] [--linger-ms N] [--max-s N]";

static void run_round(long r, long calls)
{
    long long sum = 0;
    char name[32];

    for (long i = 0; i < calls; i++) {
        int n = (int)(r * 1000 + i);

        snprintf(name, sizeof(name), "item-%d", n);
        sum += search(n, name);
    }
    (void)label((int)r);
    wl_emit("done %ld %.6f %d %ld %lld", r, wl_now(), (int)getpid(), calls, sum);
}

int main(int argc, char **argv)
{
    long calls = -1, rounds = 1, fork_round = 0, linger_ms = 0, max_s = 60;
    sigset_t set;

    for (int a = 1; a < argc; a++) {
        if (!wl_opt_long(argc, argv, &a, "--calls", &calls) && !wl_opt_long(argc, argv, &a, "--rounds", &rounds) &&
            !wl_opt_long(argc, argv, &a, "--fork-round", &fork_round) &&
            !wl_opt_long(argc, argv, &a, "--linger-ms", &linger_ms) && !wl_opt_long(argc, argv, &a, "--max-s", &max_s))
            wl_die_usage(argv[0], usage);
    }
    if (calls < 0)
        wl_die_usage(argv[0], usage);
    wl_safety((unsigned)max_s);
    (void)f00(0); /* keep the set referenced */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    wl_emit("ready %.6f %d", wl_now(), (int)getpid());
    for (long r = 1; r <= rounds; r++) {
        int sig;

        while (sigwait(&set, &sig))
            ;
        if (r == fork_round) {
            pid_t child = fork();

            if (child < 0) {
                perror("fork");
                return 1;
            }
            if (child == 0) {
                run_round(r, calls);
                _exit(0);
            }
            if (waitpid(child, NULL, 0) < 0) {
                perror("waitpid");
                return 1;
            }
        } else {
            run_round(r, calls);
        }
    }
    wl_sleep_ms(linger_ms);
    return 0;
}
