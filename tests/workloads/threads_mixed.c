/* threads_mixed.c - threads that each do one known thing, for per-thread attribution: on
 * "go" (SIGUSR1, or --start-delay-ms) the "send" thread sends --bytes N over a loopback TCP
 * connection that the "recv" thread reads to the end, the "sys" thread makes exactly
 * --getppid M getppid() calls, and the "alloc" thread mallocs --blocks K blocks of
 * --block-size S bytes and keeps them. The main thread only waits. Every buffer is made
 * before "ready", so after it only those calls touch the network and the heap. After its
 * work each thread waits (blocked in a futex) until the main thread, --linger-ms after
 * the last one is done, lets them all end; the main thread then lingers as long again
 * alone (the blocks stay allocated), so a test can see the threads' slots reaped.
 *
 * usage: threads_mixed --bytes N --getppid M --blocks K --block-size S [--chunk N]
 *                      [--start-delay-ms N] [--linger-ms N] [--max-s N]
 * lines: thread <ts> <role> <tid>                 (one per worker, before ready)
 *        ready <ts> <pid>
 *        go <ts>
 *        done <ts> <role> <tid> <amount>          (bytes sent/received, calls, bytes kept)
 *        alldone <ts>                             (then --linger-ms)
 *        joined <ts>                              (the workers have exited; then --linger-ms)
 *        exit <ts>
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "wl.h"

#define NWORKERS 4

static const char usage[] = "--bytes N --getppid M --blocks K --block-size S [--chunk N] [--start-delay-ms N] "
                            "[--linger-ms N] [--max-s N]";

static long bytes = -1, calls = -1, blocks = -1, block_size = -1, chunk = 65536;
static int listen_fd;
static struct sockaddr_in addr;
static char *sbuf, *rbuf;
static void **kept;
static pthread_barrier_t started, go, done, end;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void *run_send(void *arg)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    long sent = 0;

    (void)arg;
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
        die("connect");
    wl_emit("thread %.6f send %d", wl_now(), (int)gettid());
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&go);
    while (sent < bytes) {
        long want = bytes - sent < chunk ? bytes - sent : chunk;
        ssize_t w = send(fd, sbuf, (size_t)want, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            die("send");
        sent += w;
    }
    shutdown(fd, SHUT_WR);
    wl_emit("done %.6f send %d %ld", wl_now(), (int)gettid(), sent);
    pthread_barrier_wait(&done);
    pthread_barrier_wait(&end);
    close(fd);
    return NULL;
}

static void *run_recv(void *arg)
{
    int fd;
    long got = 0;

    (void)arg;
    wl_emit("thread %.6f recv %d", wl_now(), (int)gettid());
    fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC); /* the sender connects before "started" */
    if (fd < 0)
        die("accept");
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&go);
    for (;;) {
        ssize_t r = recv(fd, rbuf, (size_t)chunk, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("recv");
        if (r == 0)
            break;
        got += r;
    }
    wl_emit("done %.6f recv %d %ld", wl_now(), (int)gettid(), got);
    pthread_barrier_wait(&done);
    pthread_barrier_wait(&end);
    close(fd);
    return NULL;
}

static void *run_sys(void *arg)
{
    long n = 0;

    (void)arg;
    wl_emit("thread %.6f sys %d", wl_now(), (int)gettid());
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&go);
    for (long i = 0; i < calls; i++)
        if (syscall(SYS_getppid) > 0) /* raw: libc cannot cache or elide it */
            n++;
    wl_emit("done %.6f sys %d %ld", wl_now(), (int)gettid(), n);
    pthread_barrier_wait(&done);
    pthread_barrier_wait(&end);
    return NULL;
}

static void *run_alloc(void *arg)
{
    long kept_bytes = 0;

    (void)arg;
    wl_emit("thread %.6f alloc %d", wl_now(), (int)gettid());
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&go);
    for (long i = 0; i < blocks; i++) {
        kept[i] = malloc((size_t)block_size);
        if (!kept[i])
            die("malloc");
        memset(kept[i], 'k', (size_t)block_size);
        kept_bytes += block_size;
    }
    wl_emit("done %.6f alloc %d %ld", wl_now(), (int)gettid(), kept_bytes);
    pthread_barrier_wait(&done);
    pthread_barrier_wait(&end);
    return NULL;
}

int main(int argc, char **argv)
{
    void *(*const roles[NWORKERS])(void *) = { run_send, run_recv, run_sys, run_alloc };
    long delay_ms = 30000, linger_ms = 0, max_s = 60;
    socklen_t alen = sizeof(addr);
    pthread_t th[NWORKERS];
    struct timespec ts;
    sigset_t set;

    for (int i = 1; i < argc; i++) {
        if (!wl_opt_long(argc, argv, &i, "--bytes", &bytes) && !wl_opt_long(argc, argv, &i, "--getppid", &calls) &&
            !wl_opt_long(argc, argv, &i, "--blocks", &blocks) &&
            !wl_opt_long(argc, argv, &i, "--block-size", &block_size) &&
            !wl_opt_long(argc, argv, &i, "--chunk", &chunk) &&
            !wl_opt_long(argc, argv, &i, "--start-delay-ms", &delay_ms) &&
            !wl_opt_long(argc, argv, &i, "--linger-ms", &linger_ms) && !wl_opt_long(argc, argv, &i, "--max-s", &max_s))
            wl_die_usage(argv[0], usage);
    }
    if (bytes < 0 || calls < 0 || blocks < 0 || block_size < 1 || chunk < 1)
        wl_die_usage(argv[0], usage);
    wl_safety((unsigned)max_s);
    /* SIGUSR1 is the "go": blocked in every thread, taken by sigtimedwait() below */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    sbuf = malloc((size_t)chunk);
    rbuf = malloc((size_t)chunk);
    kept = calloc((size_t)blocks + 1, sizeof(*kept));
    if (!sbuf || !rbuf || !kept)
        die("malloc");
    memset(sbuf, 's', (size_t)chunk);
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
        getsockname(listen_fd, (struct sockaddr *)&addr, &alen) || listen(listen_fd, 1))
        die("listen");
    if (pthread_barrier_init(&started, NULL, NWORKERS + 1) || pthread_barrier_init(&go, NULL, NWORKERS + 1) ||
        pthread_barrier_init(&done, NULL, NWORKERS + 1) || pthread_barrier_init(&end, NULL, NWORKERS + 1))
        die("pthread_barrier_init");
    for (int i = 0; i < NWORKERS; i++) {
        int err = pthread_create(&th[i], NULL, roles[i], NULL);
        if (err) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            return 1;
        }
    }
    pthread_barrier_wait(&started);
    wl_emit("ready %.6f %d", wl_now(), (int)getpid());

    ts.tv_sec = delay_ms / 1000;
    ts.tv_nsec = (delay_ms % 1000) * 1000000L;
    while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
        ;
    wl_emit("go %.6f", wl_now());
    pthread_barrier_wait(&go);
    pthread_barrier_wait(&done);
    wl_emit("alldone %.6f", wl_now());
    wl_sleep_ms(linger_ms);
    pthread_barrier_wait(&end);
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(th[i], NULL);
    wl_emit("joined %.6f", wl_now());
    wl_sleep_ms(linger_ms);
    wl_emit("exit %.6f", wl_now());
    return 0; /* the kept blocks go with the process */
}
