/* heap_clean.c - a correct program making N mixed heap calls (malloc, calloc, realloc,
 * free, posix_memalign, aligned_alloc) over a pool of slots, keeping its own count of
 * live bytes. Waits for SIGUSR1, then re-executes itself (so a watcher sees its heap from
 * exec on), works, prints "quiet <ts> <live_bytes> <outstanding>", holds still, frees
 * everything and prints "done <ts> <calls>". */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#include "wl.h"

#define SLOTS 20000

static void *slot[SLOTS];
static size_t slot_size[SLOTS];

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void wait_usr1(void)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    wl_emit("ready %.6f", wl_now());
    sigwait(&set, &sig);
}

int main(int argc, char **argv)
{
    long calls = 1000000, hold_ms = 3000;
    size_t live = 0, outstanding = 0;
    int run = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--run"))
            run = 1;
        else if (!wl_opt_long(argc, argv, &i, "--calls", &calls) && !wl_opt_long(argc, argv, &i, "--hold-ms", &hold_ms))
            wl_die_usage(argv[0], "[--calls N] [--hold-ms MS]");
    }
    wl_safety(120);
    if (!run) {
        char n[32], h[32];
        wait_usr1();
        snprintf(n, sizeof(n), "%ld", calls);
        snprintf(h, sizeof(h), "%ld", hold_ms);
        execl("/proc/self/exe", argv[0], "--run", "--calls", n, "--hold-ms", h, (char *)NULL);
        perror("exec");
        return 1;
    }
    wl_emit("start %.6f", wl_now());
    for (long c = 0; c < calls; c++) {
        uint64_t r = next();
        size_t i = (size_t)(r % SLOTS), size = 1 + (size_t)((r >> 20) % 4096);
        void *p = NULL;

        if (slot[i]) {
            if ((r >> 40) % 3 == 0) { /* grow or shrink in place or elsewhere */
                p = realloc(slot[i], size);
                if (!p)
                    return 1;
                live += size - slot_size[i];
                slot[i] = p;
                slot_size[i] = size;
            } else {
                free(slot[i]);
                live -= slot_size[i];
                outstanding--;
                slot[i] = NULL;
            }
            continue;
        }
        switch ((r >> 44) % 5) {
        case 0: p = malloc(size); break;
        case 1: p = calloc(1 + size % 7, size / (1 + size % 7) + 1); size = (1 + size % 7) * (size / (1 + size % 7) + 1); break;
        case 2: p = realloc(NULL, size); break;
        case 3: if (posix_memalign(&p, 64, size)) p = NULL; break;
        default: size = (size + 31) & ~(size_t)31; p = aligned_alloc(32, size); break;
        }
        if (!p)
            return 1;
        slot[i] = p;
        slot_size[i] = size;
        live += size;
        outstanding++;
    }
    wl_emit("quiet %.6f %zu %zu", wl_now(), live, outstanding);
    wl_sleep_ms(hold_ms);
    for (size_t i = 0; i < SLOTS; i++)
        free(slot[i]);
    wl_emit("done %.6f %ld", wl_now(), calls);
    wl_sleep_ms(500);
    return 0;
}
