/* net_pair.c - a TCP sender/receiver pair on 127.0.0.1 in one process tree, with exact byte
 * counts. The parent listens and its child connects; on "go" (SIGUSR1 to the parent, or
 * --start-delay-ms) the parent sends --bytes N in --chunk pieces, the child reads them all
 * and sends --reply bytes back, which the parent reads; with --udp N the parent then sends N
 * bytes of datagrams to the child's UDP socket, which reads what arrives. Each side prints what
 * its send/recv calls returned, so a test can compare them with what osdetd counted.
 *
 * usage: net_pair --bytes N [--chunk N] [--reply N] [--udp N] [--start-delay-ms N]
 *                 [--linger-ms N] [--max-s N]
 * lines: ready <ts> <parent pid> <child pid> <tcp port>
 *        go <ts>
 *        child <ts> tcp_rx <n> tcp_tx <n> udp_rx <n>
 *        parent <ts> tcp_tx <n> tcp_rx <n> udp_tx <n>
 *        done <ts>                      (after --linger-ms, so a last sample sees it all)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "wl.h"

#define NP_UDP_DGRAM_MAX 8192
#define NP_UDP_IDLE_MS 300 /* after the TCP end: no datagram for this long means none will come */

static const char usage[] = "--bytes N [--chunk N] [--reply N] [--udp N] [--start-delay-ms N] [--linger-ms N] "
                            "[--max-s N]";

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* Sends n bytes of buf (repeated) in pieces of at most chunk; returns the bytes sent. */
static long np_send_all(int fd, const char *buf, long chunk, long n)
{
    long done = 0;

    while (done < n) {
        long want = n - done < chunk ? n - done : chunk;
        ssize_t w = send(fd, buf, (size_t)want, MSG_NOSIGNAL);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("send");
        }
        done += w;
    }
    return done;
}

/* Receives exactly n bytes (or until EOF); returns the bytes received. */
static long np_recv_all(int fd, char *buf, long chunk, long n)
{
    long done = 0;

    while (done < n) {
        long want = n - done < chunk ? n - done : chunk;
        ssize_t r = recv(fd, buf, (size_t)want, 0);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("recv");
        }
        if (r == 0)
            break;
        done += r;
    }
    return done;
}

static int np_socket(int type, struct sockaddr_in *addr)
{
    socklen_t len = sizeof(*addr);
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

    if (fd < 0)
        die("socket");
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) || getsockname(fd, (struct sockaddr *)addr, &len))
        die("bind");
    return fd;
}

/* The child: connect, read --bytes, send --reply, then read datagrams until udp bytes came or
 * the parent closed TCP and nothing more arrives. */
static int np_child(const struct sockaddr_in *tcp_addr, int udp_fd, long bytes, long chunk, long reply, long udp)
{
    char *buf = malloc((size_t)chunk);
    long tcp_rx, tcp_tx, udp_rx = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int eof = 0;

    if (!buf)
        die("malloc");
    memset(buf, 'r', (size_t)chunk);
    if (fd < 0 || connect(fd, (const struct sockaddr *)tcp_addr, sizeof(*tcp_addr)))
        die("connect");
    tcp_rx = np_recv_all(fd, buf, chunk, bytes);
    tcp_tx = np_send_all(fd, buf, chunk, reply);
    while (udp > 0 && udp_rx < udp) {
        struct pollfd p[2] = { { .fd = udp_fd, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
        int n = poll(p, eof ? 1 : 2, eof ? NP_UDP_IDLE_MS : -1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("poll");
        if (n == 0)
            break; /* datagrams were lost: udp_rx says how many bytes came */
        if (p[0].revents) {
            ssize_t r = recv(udp_fd, buf, (size_t)chunk, 0);

            if (r > 0)
                udp_rx += r;
        }
        if (!eof && p[1].revents) {
            char c;

            eof = recv(fd, &c, 1, 0) <= 0;
        }
    }
    wl_emit("child %.6f tcp_rx %ld tcp_tx %ld udp_rx %ld", wl_now(), tcp_rx, tcp_tx, udp_rx);
    close(fd);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    long bytes = -1, chunk = 65536, reply = 0, udp = 0, delay_ms = 30000, linger_ms = 0, max_s = 60;
    struct sockaddr_in tcp_addr, udp_addr;
    long tcp_tx, tcp_rx, udp_tx = 0;
    struct timespec ts;
    int lfd, ufd, fd, status;
    sigset_t set;
    char *buf;
    pid_t child;

    for (int i = 1; i < argc; i++) {
        if (!wl_opt_long(argc, argv, &i, "--bytes", &bytes) && !wl_opt_long(argc, argv, &i, "--chunk", &chunk) &&
            !wl_opt_long(argc, argv, &i, "--reply", &reply) && !wl_opt_long(argc, argv, &i, "--udp", &udp) &&
            !wl_opt_long(argc, argv, &i, "--start-delay-ms", &delay_ms) &&
            !wl_opt_long(argc, argv, &i, "--linger-ms", &linger_ms) && !wl_opt_long(argc, argv, &i, "--max-s", &max_s))
            wl_die_usage(argv[0], usage);
    }
    if (bytes < 0 || chunk < 1)
        wl_die_usage(argv[0], usage);
    wl_safety((unsigned)max_s);
    /* SIGUSR1 is the "go": blocked so that it waits as pending until sigtimedwait(). */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    lfd = np_socket(SOCK_STREAM, &tcp_addr);
    if (listen(lfd, 1))
        die("listen");
    ufd = np_socket(SOCK_DGRAM, &udp_addr);
    /* Enough room for every datagram if the child is slow (root may exceed rmem_max). */
    {
        int sz = 8 << 20;

        if (setsockopt(ufd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
            setsockopt(ufd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    }
    child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(lfd);
        exit(np_child(&tcp_addr, ufd, bytes, chunk, reply, udp));
    }
    close(ufd);
    fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        die("accept");
    close(lfd);
    wl_emit("ready %.6f %d %d %d", wl_now(), (int)getpid(), (int)child, (int)ntohs(tcp_addr.sin_port));

    ts.tv_sec = delay_ms / 1000;
    ts.tv_nsec = (delay_ms % 1000) * 1000000L;
    while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
        ;
    wl_emit("go %.6f", wl_now());

    buf = malloc((size_t)chunk);
    if (!buf)
        die("malloc");
    memset(buf, 'p', (size_t)chunk);
    tcp_tx = np_send_all(fd, buf, chunk, bytes);
    tcp_rx = np_recv_all(fd, buf, chunk, reply);
    if (udp > 0) {
        struct sockaddr_in me;
        int sfd = np_socket(SOCK_DGRAM, &me);
        long dgram = chunk < NP_UDP_DGRAM_MAX ? chunk : NP_UDP_DGRAM_MAX;

        while (udp_tx < udp) {
            long want = udp - udp_tx < dgram ? udp - udp_tx : dgram;
            ssize_t w = sendto(sfd, buf, (size_t)want, 0, (struct sockaddr *)&udp_addr, sizeof(udp_addr));

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                die("sendto");
            udp_tx += w;
        }
        close(sfd);
    }
    shutdown(fd, SHUT_WR); /* the child's end of the UDP phase */
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    wl_emit("parent %.6f tcp_tx %ld tcp_rx %ld udp_tx %ld", wl_now(), tcp_tx, tcp_rx, udp_tx);
    close(fd);
    free(buf);
    wl_sleep_ms(linger_ms);
    wl_emit("done %.6f", wl_now());
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
