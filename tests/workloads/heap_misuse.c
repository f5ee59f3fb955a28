/* heap_misuse.c - commits one memory misuse of the kind named, once, in a way glibc does
 * not abort on, then holds still so its stack can be symbolised. Waits for SIGUSR1 first;
 * with --exec it then re-executes itself, so a watcher has seen its heap from exec on
 * (needed for the "unknown" kinds). Prints "done <ts> <addr> <size>".
 *
 * double-free: the tcache of the size is filled first so the block goes to a fastbin,
 *   whose check only compares with the bin's top: free(a), free(b), free(a) passes.
 * realloc-freed: a freed block still in the tcache is resized to its own size: glibc
 *   hands it back in place.
 * free-unknown / realloc-unknown: a fake mmapped chunk header at the start of a page of
 *   our own mmap: glibc's checks (page-aligned block and size, power-of-two offset) pass
 *   and it munmaps / mremaps it; malloc never returned that pointer.
 * zero-size: malloc(0), then a proper free. */
#pragma GCC optimize("no-omit-frame-pointer") /* the kernel walks user stacks by frame pointer */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "wl.h"

/* Called through volatile pointers: the compiler must not pair and elide a malloc with
 * its free, nor reason about a freed pointer. */
static void *(*volatile do_malloc)(size_t) = malloc;
static void (*volatile do_free)(void *) = free;
static void *(*volatile do_realloc)(void *, size_t) = realloc;

static void *fake_mmapped_chunk(void)
{
    uint64_t *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (m == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    m[0] = 0;            /* prev_size: the chunk starts the mapping */
    m[1] = 8192 | 2;     /* size | IS_MMAPPED */
    return m + 2;
}

__attribute__((noinline)) static void misuse(const char *kind)
{
    void *p = NULL, *keep[7];
    size_t size = 0;

    if (!strcmp(kind, "double-free")) {
        void *b;
        size = 40;
        for (int i = 0; i < 7; i++)
            keep[i] = do_malloc(size);
        p = do_malloc(size);
        b = do_malloc(size);
        for (int i = 0; i < 7; i++)
            do_free(keep[i]);
        do_free(p);
        do_free(b);
        do_free(p);
    } else if (!strcmp(kind, "realloc-freed")) {
        size = 40;
        p = do_malloc(size);
        do_free(p);
        if (do_realloc(p, size) != p)
            wl_emit("note realloc moved the block");
    } else if (!strcmp(kind, "free-unknown")) {
        p = fake_mmapped_chunk();
        do_free(p);
    } else if (!strcmp(kind, "realloc-unknown")) {
        p = fake_mmapped_chunk();
        size = 100;
        if (!do_realloc(p, size))
            wl_emit("note realloc failed");
    } else if (!strcmp(kind, "zero-size")) {
        p = do_malloc(0);
        do_free(p);
    } else {
        fprintf(stderr, "unknown kind %s\n", kind);
        exit(2);
    }
    wl_emit("done %.6f 0x%lx %zu", wl_now(), (unsigned long)(uintptr_t)p, size);
}

int main(int argc, char **argv)
{
    long hold_ms = 3000;
    const char *kind = NULL;
    int run = 0, exec = 0;
    sigset_t set;
    int sig;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--run"))
            run = 1;
        else if (!strcmp(argv[i], "--exec"))
            exec = 1;
        else if (wl_opt_long(argc, argv, &i, "--hold-ms", &hold_ms))
            ;
        else if (!kind && argv[i][0] != '-')
            kind = argv[i];
        else
            wl_die_usage(argv[0], "KIND [--exec] [--hold-ms MS]");
    }
    if (!kind)
        wl_die_usage(argv[0], "KIND [--exec] [--hold-ms MS]");
    wl_safety(60);
    if (!run) {
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        wl_emit("ready %.6f", wl_now());
        sigwait(&set, &sig);
        if (exec) {
            char h[32];
            snprintf(h, sizeof(h), "%ld", hold_ms);
            execl("/proc/self/exe", argv[0], kind, "--run", "--hold-ms", h, (char *)NULL);
            perror("exec");
            return 1;
        }
    }
    misuse(kind);
    wl_sleep_ms(hold_ms);
    _exit(0); /* the heap may be inconsistent now: no exit handlers */
}
