/* procfs.h - the few /proc readings the daemon needs: identity, CPU ticks, memory,
 * children. All return 0 or a negative errno (-ENOENT once the process is gone). */
#ifndef OSD_PROCFS_H
#define OSD_PROCFS_H
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
    char comm[32];
    char state;
    pid_t ppid;
    pid_t tgid;              /* from /proc/PID/status; differs from pid for a thread id */
    uid_t uid;               /* real uid, from /proc/PID/status */
    uint64_t utime_ticks;
    uint64_t stime_ticks;
    uint64_t start_ticks;    /* since boot; with the pid, identifies a process across pid reuse */
};

int procfs_stat(pid_t pid, struct proc_stat *st);
int procfs_statm(pid_t pid, uint64_t *rss_bytes, uint64_t *vm_bytes);
/* Calls fn for each direct child (any thread's children) of pid; stops on fn != 0. */
int procfs_children(pid_t pid, int (*fn)(pid_t child, void *arg), void *arg);
int procfs_comm(pid_t pid, pid_t tid, char *buf, size_t len); /* thread name */
long procfs_clk_tck(void);
#endif
