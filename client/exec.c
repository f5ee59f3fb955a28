/* exec.c - see exec.h. The child stops itself rather than being traced: no ptrace, and the
 * parent only needs waitpid(WUNTRACED) to know that nothing of CMD has run yet. */
#include "exec.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t exec_child_pid;
volatile sig_atomic_t exec_cancelled;

void exec_kill(pid_t pid);

int exec_spawn_stopped(char *const *argv, pid_t *pid)
{
    pid_t p;
    int st;

    fflush(NULL); /* or buffered output would be written twice */
    p = fork();
    if (p < 0)
        return -errno;
    if (p == 0) {
        raise(SIGSTOP);
        execvp(argv[0], argv);
        fprintf(stderr, "osdctl: cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    while (waitpid(p, &st, WUNTRACED) < 0) {
        if (errno != EINTR) {
            int err = -errno;

            exec_kill(p);
            return err;
        }
    }
    if (!WIFSTOPPED(st)) {
        /* Only a signal can end it before exec; it is reaped already. */
        return -ECHILD;
    }
    *pid = p;
    return 0;
}

int exec_resume(pid_t pid)
{
    return kill(pid, SIGCONT) ? -errno : 0;
}

void exec_kill(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static void exec_on_cancel(int sig)
{
    exec_cancelled = sig;
}

void exec_signals_pending(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = exec_on_cancel; /* no SA_RESTART: a blocked poll() returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void exec_forward(int sig)
{
    if (exec_child_pid > 0)
        kill(exec_child_pid, sig);
}

static void exec_wake(int sig)
{
    (void)sig; /* only interrupts a sleep so the child is reaped at once */
}

void exec_signals_install(pid_t pid)
{
    struct sigaction sa;

    exec_child_pid = pid;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sa.sa_handler = exec_forward;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = exec_wake;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
}

int exec_reap(pid_t pid, int nohang, int *status)
{
    pid_t r;

    do {
        r = waitpid(pid, status, nohang ? WNOHANG : 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == pid)
        exec_child_pid = 0; /* the pid may be reused: forward nothing to it any more */
    return r == pid;
}

int exec_exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}
