/* procfs.c - see procfs.h. */
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = read(fd, buf, len - 1);
    if (n < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    close(fd);
    buf[n] = '\0';
    return (int)n;
}

/* ESRCH from reading a /proc file of a zombie-being-reaped means gone too. */
static int gone(int err)
{
    return err == -ESRCH ? -ENOENT : err;
}

int procfs_stat(pid_t pid, struct proc_stat *st)
{
    char path[64], buf[1024];
    char *open_paren, *close_paren, *p;
    unsigned long long ut, stt, start;
    int n, ppid;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    n = read_file(path, buf, sizeof(buf));
    if (n < 0)
        return gone(n);
    /* comm may contain spaces and parentheses: it ends at the last ')'. */
    open_paren = strchr(buf, '(');
    close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren)
        return -EINVAL;
    memset(st, 0, sizeof(*st));
    n = (int)(close_paren - open_paren - 1);
    if (n > (int)sizeof(st->comm) - 1)
        n = sizeof(st->comm) - 1;
    memcpy(st->comm, open_paren + 1, n);
    p = close_paren + 2;
    /* fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime cutime cstime priority nice num_threads itrealvalue starttime */
    if (sscanf(p, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
               &st->state, &ppid, &ut, &stt, &start) != 5)
        return -EINVAL;
    st->ppid = ppid;
    st->utime_ticks = ut;
    st->stime_ticks = stt;
    st->start_ticks = start;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    n = read_file(path, buf, sizeof(buf));
    if (n < 0)
        return gone(n);
    p = strstr(buf, "\nTgid:");
    st->tgid = p ? (pid_t)atoi(p + 6) : pid;
    p = strstr(buf, "\nUid:");
    st->uid = p ? (uid_t)strtoul(p + 5, NULL, 10) : (uid_t)-1;
    return 0;
}

int procfs_statm(pid_t pid, uint64_t *rss_bytes, uint64_t *vm_bytes)
{
    char path[64], buf[256];
    unsigned long long size, rss;
    long page = sysconf(_SC_PAGESIZE);
    int n;

    snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
    n = read_file(path, buf, sizeof(buf));
    if (n < 0)
        return gone(n);
    if (sscanf(buf, "%llu %llu", &size, &rss) != 2)
        return -EINVAL;
    *rss_bytes = rss * (uint64_t)page;
    *vm_bytes = size * (uint64_t)page;
    return 0;
}

int procfs_children(pid_t pid, int (*fn)(pid_t child, void *arg), void *arg)
{
    enum { CHILDREN_BUF = 1 << 18 }; /* room for ~30,000 child pids per thread */
    char path[64], *buf;
    struct dirent *de;
    DIR *dir;
    int ret = 0;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    dir = opendir(path);
    if (!dir)
        return gone(-errno);
    buf = malloc(CHILDREN_BUF);
    if (!buf) {
        closedir(dir);
        return -ENOMEM;
    }
    while (!ret && (de = readdir(dir))) {
        char cpath[352], *p, *end;
        if (de->d_name[0] == '.')
            continue;
        snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)pid, de->d_name);
        if (read_file(cpath, buf, CHILDREN_BUF) < 0)
            continue; /* thread exited meanwhile */
        for (p = buf; !ret; p = end) {
            long c = strtol(p, &end, 10);
            if (end == p)
                break;
            ret = fn((pid_t)c, arg);
        }
    }
    free(buf);
    closedir(dir);
    return ret;
}

int procfs_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
    char path[80];
    int n;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
    n = read_file(path, buf, len);
    if (n < 0)
        return gone(n);
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return 0;
}

long procfs_clk_tck(void)
{
    static long tck;

    if (!tck)
        tck = sysconf(_SC_CLK_TCK);
    return tck;
}
