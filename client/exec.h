/* exec.h - the child of "watch --exec": started stopped, resumed once watched, waited for. */
#ifndef OSDCTL_EXEC_H
#define OSDCTL_EXEC_H
#include <signal.h>
#include <sys/types.h>

/* Forks a child that stops itself (SIGSTOP) before execvp(argv[0], argv) and waits until it
 * has stopped. 0 with *pid, or -errno. If exec fails later, the child exits 127 (not found)
 * or 126 after saying why on stderr. */
int exec_spawn_stopped(char *const *argv, pid_t *pid);
/* Lets the stopped child run. 0 or -errno. */
int exec_resume(pid_t pid);
/* Kills and reaps the child (a stopped one too). */
void exec_kill(pid_t pid);
/* Set to the signal number by SIGINT, SIGTERM or SIGHUP once exec_signals_pending() ran. */
extern volatile sig_atomic_t exec_cancelled;
/* Before the child runs (install before forking): those signals set exec_cancelled instead of
 * killing osdctl, so a pending watch is abandoned and the stopped child killed, not orphaned.
 * The child inherits the handler only until it executes CMD. */
void exec_signals_pending(void);
/* While the child runs: osdctl ignores SIGINT and SIGQUIT (the terminal sends them to the
 * child as well), forwards SIGTERM and SIGHUP to it, and a SIGCHLD interrupts sleeps. */
void exec_signals_install(pid_t pid);
/* Reaps the child: 1 with *status when it has ended, 0 if it still runs (nohang), -errno. */
int exec_reap(pid_t pid, int nohang, int *status);
/* The exit status osdctl passes on: the child's, or 128 + the signal that killed it. */
int exec_exit_code(int status);
#endif
