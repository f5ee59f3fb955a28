/* cgroup.h - cgroup v2 targets on the user side: finding the cgroup2 mount, turning a
 * path or a systemd unit name into a checked cgroup directory and its id, and listing
 * the processes of a cgroup and its descendants. */
#ifndef OSD_CGROUP_H
#define OSD_CGROUP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROUP_PATH_MAX 256 /* absolute path, NUL included */
#define CGROUP_UNIT_MAX 128

/* A cgroup v2 directory that may be watched. */
struct cgroup_ref {
    char path[CGROUP_PATH_MAX]; /* absolute, normalised */
    char unit[CGROUP_UNIT_MAX]; /* the unit name it was found by, "" if named by path */
    uint64_t id;                /* kernfs id = the directory's inode number */
    uid_t uid;                  /* owner of the directory (delegation) */
};

/* The cgroup2 mount point (from /proc/self/mountinfo); -ENOENT if there is none. */
int cgroup_v2_mount(char *buf, size_t len);
/* `in` (absolute, or relative to the cgroup2 mount) as an absolute path without "//",
 * "." or a trailing "/", without touching the filesystem. -EINVAL for "" or "..",
 * -ENAMETOOLONG, -ENOENT without a cgroup2 mount. */
int cgroup_normalize(const char *in, char *out, size_t len);
/* Resolves params `cgroup` (path) or `unit` (name; path NULL) to a checked cgroup v2
 * directory. On error msg says what was wrong, naming the path or unit:
 * -ENOENT no such cgroup / unit; -EINVAL not a cgroup v2 directory (v1 hierarchy, a
 * file, outside the cgroup2 mount, the root cgroup, a bad name); -ENOTUNIQ several
 * directories carry that unit name; -ENAMETOOLONG. */
int cgroup_resolve(const char *path, const char *unit, struct cgroup_ref *out, char *msg, size_t len);
/* Calls fn for each pid in cgroup.procs of path and its descendants (OSD_CG_DEPTH - 1
 * levels down, as far as the kernel side looks up); stops when fn returns non-zero. */
int cgroup_procs(const char *path, int (*fn)(pid_t pid, void *arg), void *arg);
/* Does the directory still exist as the same cgroup (a re-created one has a new id)? */
bool cgroup_exists(const char *path, uint64_t id);
#endif
