/* sleeper.c - an idle watch target: prints "ready <ts> <pid>" and sleeps until killed,
 * or until --max-s seconds (default 300) have passed, then prints "timeout <ts>". */
#include "wl.h"

int main(int argc, char **argv)
{
    long max_s = 300;
    double end;

    for (int i = 1; i < argc; i++) {
        if (wl_opt_long(argc, argv, &i, "--max-s", &max_s))
            continue;
        wl_die_usage(argv[0], "[--max-s N]");
    }
    if (max_s < 1)
        wl_die_usage(argv[0], "[--max-s N]");
    wl_safety((unsigned)max_s + 5);
    wl_emit("ready %.3f %d", wl_now(), (int)getpid());
    end = wl_mono() + (double)max_s;
    while (wl_mono() < end)
        wl_sleep_ms(1000);
    wl_emit("timeout %.3f", wl_now());
    return 0;
}
