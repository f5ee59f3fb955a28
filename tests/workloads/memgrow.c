/* memgrow.c - a known RSS step: waits --delay-ms, maps and touches --mb MiB, holds them
 * --hold-ms, exits. Prints "start <ts> <rss bytes>", "alloc <ts>" (about to map),
 * "grown <ts> <bytes touched> <rss bytes>", "done <ts>". Anonymous mmap, not malloc, so the step is exactly the
 * pages we touch whatever the allocator does. */
#include <sys/mman.h>

#include "wl.h"

static const char usage[] = "--mb N [--delay-ms N] [--hold-ms N]";

static long self_rss_bytes(void)
{
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "re");

    if (f) {
        if (fscanf(f, "%*d %ld", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return pages * sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv)
{
    long mb = -1, delay = 1000, hold = 2000;
    long page = sysconf(_SC_PAGESIZE);
    size_t bytes;
    char *p;

    for (int i = 1; i < argc; i++) {
        if (wl_opt_long(argc, argv, &i, "--mb", &mb) || wl_opt_long(argc, argv, &i, "--delay-ms", &delay) ||
            wl_opt_long(argc, argv, &i, "--hold-ms", &hold))
            continue;
        wl_die_usage(argv[0], usage);
    }
    if (mb < 1)
        wl_die_usage(argv[0], usage);
    wl_safety((unsigned)((delay + hold) / 1000) + 60);

    wl_emit("start %.3f %ld", wl_now(), self_rss_bytes());
    wl_sleep_ms(delay);
    bytes = (size_t)mb << 20;
    wl_emit("alloc %.3f", wl_now());
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* one write per page makes every page resident; memset of each page as asked */
    for (size_t off = 0; off < bytes; off += (size_t)page)
        memset(p + off, 0xa5, (size_t)page);
    wl_emit("grown %.3f %zu %ld", wl_now(), bytes, self_rss_bytes());
    wl_sleep_ms(hold);
    wl_emit("done %.3f", wl_now());
    munmap(p, bytes);
    return 0;
}
