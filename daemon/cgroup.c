/* cgroup.c - see cgroup.h. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "procmon.h"

#define CGROUP2_MAGIC 0x63677270
#define UNIT_SEARCH_MAX_DIRS 100000 /* a bound on the tree walk of a unit lookup */

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
    char *w = s;

    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
            *w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

/* Finds the mount of type fstype whose mount point is the longest prefix of path (any
 * mount of that type when path is NULL); opts receives its super options. */
static int find_mount(const char *fstype, const char *path, char *mnt, size_t len, char *opts, size_t optlen)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096];
    size_t best = 0;
    int found = 0;

    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        char *sep = strstr(line, " - "), *fields[5], *save = NULL, type[64], super[512];
        size_t n;
        int i;

        if (!sep)
            continue;
        *sep = '\0';
        fields[0] = strtok_r(line, " ", &save);
        for (i = 1; i < 5 && fields[i - 1]; i++)
            fields[i] = strtok_r(NULL, " ", &save);
        if (i < 5 || !fields[4] || sscanf(sep + 3, "%63s %*s %511s", type, super) != 2 || strcmp(type, fstype))
            continue;
        unescape(fields[4]);
        n = strlen(fields[4]);
        if (path && !(strncmp(path, fields[4], n) == 0 && (path[n] == '/' || path[n] == '\0' || n == 1)))
            continue;
        if (found && n <= best)
            continue;
        found = 1;
        best = n;
        snprintf(mnt, len, "%s", fields[4]);
        if (opts)
            snprintf(opts, optlen, "%s", super);
        if (!path)
            break;
    }
    fclose(f);
    return found ? 0 : -ENOENT;
}

int cgroup_v2_mount(char *buf, size_t len)
{
    return find_mount("cgroup2", NULL, buf, len, NULL, 0);
}

int cgroup_normalize(const char *in, char *out, size_t len)
{
    char mnt[PATH_MAX], tmp[PATH_MAX * 2];
    const char *p;
    size_t o = 0;
    int err;

    if (!in[0])
        return -EINVAL;
    if (in[0] == '/') {
        snprintf(tmp, sizeof(tmp), "%s", in);
    } else {
        if ((err = cgroup_v2_mount(mnt, sizeof(mnt))))
            return err;
        snprintf(tmp, sizeof(tmp), "%s/%s", mnt, in);
    }
    /* component by component: drop "" and ".", refuse ".." (no escaping the mount) */
    for (p = tmp; *p;) {
        size_t n;

        while (*p == '/')
            p++;
        n = strcspn(p, "/");
        if (!n)
            break;
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return -EINVAL;
        if (!(n == 1 && p[0] == '.')) {
            if (o + 1 + n + 1 > len)
                return -ENAMETOOLONG;
            out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    if (!o) {
        if (len < 2)
            return -ENAMETOOLONG;
        out[o++] = '/';
    }
    out[o] = '\0';
    return 0;
}

/* Checks that path is a cgroup v2 directory below the mount and fills r. */
static int check_dir(const char *path, struct cgroup_ref *r, char *msg, size_t len)
{
    char mnt[PATH_MAX], real[PATH_MAX], opts[512];
    struct statfs sf;
    struct stat st;
    size_t n;

    if (cgroup_v2_mount(mnt, sizeof(mnt))) {
        snprintf(msg, len, "cannot watch cgroup %s: no cgroup2 filesystem is mounted (cgroup v1 cannot be watched)",
                 path);
        return -EINVAL;
    }
    if (realpath(path, real) == NULL)
        snprintf(real, sizeof(real), "%s", path); /* checked below: it does not exist */
    n = strlen(mnt);
    if (strncmp(real, mnt, n) || (real[n] != '/' && real[n] != '\0')) {
        if (find_mount("cgroup", real, mnt, sizeof(mnt), opts, sizeof(opts)) == 0)
            snprintf(msg, len,
                     "'%s' is on a cgroup v1 hierarchy (%s): only cgroup v2 can be filtered by id; name a cgroup "
                     "under the cgroup2 mount", path, opts);
        else
            snprintf(msg, len, "'%s' is not a cgroup: it is not under the cgroup2 mount", path);
        return -EINVAL;
    }
    if (stat(real, &st)) {
        if (errno == ENOENT || errno == ENOTDIR) {
            snprintf(msg, len, "no such cgroup: %s", path);
            return -ENOENT;
        }
        snprintf(msg, len, "cannot read cgroup %s: %s", path, strerror(errno));
        return -EINVAL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(msg, len, "'%s' is a file, not a cgroup directory", path);
        return -EINVAL;
    }
    if (statfs(real, &sf) || sf.f_type != CGROUP2_MAGIC) {
        snprintf(msg, len, "'%s' is not a cgroup v2 directory", path);
        return -EINVAL;
    }
    if (real[n] == '\0') {
        snprintf(msg, len, "'%s' is the root cgroup, which holds every process; name a cgroup below it", path);
        return -EINVAL;
    }
    if (strlen(real) >= sizeof(r->path)) {
        snprintf(msg, len, "cgroup path too long (%zu bytes, at most %zu): %s", strlen(real), sizeof(r->path) - 1, path);
        return -ENAMETOOLONG;
    }
    snprintf(r->path, sizeof(r->path), "%s", real);
    r->id = (uint64_t)st.st_ino;
    r->uid = st.st_uid;
    return 0;
}

struct unit_search {
    const char *name;
    char first[PATH_MAX], second[PATH_MAX];
    int found, dirs;
};

static void search_unit(struct unit_search *s, const char *dir, int depth)
{
    DIR *d;
    struct dirent *e;

    if (depth >= OSD_CG_DEPTH || !(d = opendir(dir)))
        return;
    while ((e = readdir(d)) && s->dirs < UNIT_SEARCH_MAX_DIRS) {
        char sub[PATH_MAX];

        if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= sizeof(sub))
            continue;
        s->dirs++;
        if (!strcmp(e->d_name, s->name)) {
            snprintf(s->found ? s->second : s->first, PATH_MAX, "%s", sub);
            s->found++;
        }
        search_unit(s, sub, depth + 1);
    }
    closedir(d);
}

/* A unit's cgroup: <mount>/system.slice/NAME if it exists, else the only directory of
 * that name anywhere in the tree. */
static int find_unit(const char *unit, char *out, size_t outlen, char *msg, size_t len)
{
    struct unit_search *s;
    char mnt[PATH_MAX], path[PATH_MAX];
    struct stat st;
    int err = 0;

    if (!unit[0] || strchr(unit, '/') || !strcmp(unit, ".") || !strcmp(unit, "..") || strlen(unit) >= CGROUP_UNIT_MAX) {
        snprintf(msg, len, "invalid unit name '%s' (a name like nginx.service, without '/', at most %d bytes)", unit,
                 CGROUP_UNIT_MAX - 1);
        return -EINVAL;
    }
    if (cgroup_v2_mount(mnt, sizeof(mnt))) {
        snprintf(msg, len, "cannot find unit %s: no cgroup2 filesystem is mounted", unit);
        return -EINVAL;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/system.slice/%s", mnt, unit) < sizeof(path) &&
        stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (size_t)snprintf(out, outlen, "%s", path) < outlen)
        return 0;
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(msg, len, "out of memory");
        return -ENOMEM;
    }
    s->name = unit;
    search_unit(s, mnt, 0);
    if (!s->found) {
        snprintf(msg, len, "no such unit: no cgroup named '%s' under %s (is it running?)", unit, mnt);
        err = -ENOENT;
    } else if (s->found > 1) {
        snprintf(msg, len, "unit '%s' is ambiguous: %d cgroups have that name (%s, %s%s); watch one by its path", unit,
                 s->found, s->first, s->second, s->found > 2 ? ", ..." : "");
        err = -ENOTUNIQ;
    } else {
        snprintf(out, outlen, "%s", s->first);
    }
    free(s);
    return err;
}

int cgroup_resolve(const char *path, const char *unit, struct cgroup_ref *out, char *msg, size_t len)
{
    char norm[PATH_MAX];
    int err;

    memset(out, 0, sizeof(*out));
    if (unit) {
        if ((err = find_unit(unit, norm, sizeof(norm), msg, len)))
            return err;
        snprintf(out->unit, sizeof(out->unit), "%s", unit);
    } else {
        err = cgroup_normalize(path, norm, sizeof(norm));
        if (err == -EINVAL) {
            snprintf(msg, len, "invalid cgroup path '%s' (empty, or contains '..')", path);
            return err;
        }
        if (err == -ENOENT) {
            snprintf(msg, len, "cannot watch cgroup %s: no cgroup2 filesystem is mounted", path);
            return -EINVAL;
        }
        if (err) {
            snprintf(msg, len, "cgroup path too long: %s", path);
            return -ENAMETOOLONG;
        }
    }
    return check_dir(norm, out, msg, len);
}

static int read_procs(const char *dir, int (*fn)(pid_t pid, void *arg), void *arg)
{
    char path[PATH_MAX];
    FILE *f;
    long pid;
    int stop = 0;

    if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path))
        return 0;
    f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : -errno; /* removed meanwhile: nothing in it */
    while (!stop && fscanf(f, "%ld", &pid) == 1)
        if (pid > 0)
            stop = fn((pid_t)pid, arg);
    fclose(f);
    return stop;
}

static int walk_procs(const char *dir, int depth, int (*fn)(pid_t pid, void *arg), void *arg)
{
    struct dirent *e;
    DIR *d;
    int rc = read_procs(dir, fn, arg);

    if (rc || depth + 1 >= OSD_CG_DEPTH || !(d = opendir(dir)))
        return rc < 0 ? rc : 0;
    while (!rc && (e = readdir(d))) {
        char sub[PATH_MAX];

        if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < sizeof(sub))
            rc = walk_procs(sub, depth + 1, fn, arg);
    }
    closedir(d);
    return rc < 0 ? rc : 0;
}

int cgroup_procs(const char *path, int (*fn)(pid_t pid, void *arg), void *arg)
{
    return walk_procs(path, 0, fn, arg);
}

bool cgroup_exists(const char *path, uint64_t id)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (uint64_t)st.st_ino == id;
}
