/* test_cgroup.c - cgroup path normalisation and the errors of cgroup_resolve() that need no
 * test cgroup (integration.cgroup covers real ones). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "check.h"

static void test_normalize(const char *mnt)
{
    static const struct {
        const char *in, *want; /* want NULL: mnt + the suffix given in in (relative case) */
    } abs_cases[] = {
        { "/a/b", "/a/b" },       { "/a//b/", "/a/b" }, { "/a/./b/.", "/a/b" },
        { "///", "/" },           { "/x.service", "/x.service" },
    };
    char out[CGROUP_PATH_MAX], want[PATH_MAX + 64];

    for (size_t i = 0; i < sizeof(abs_cases) / sizeof(abs_cases[0]); i++) {
        int err = cgroup_normalize(abs_cases[i].in, out, sizeof(out));

        CHECK(err == 0, "normalize '%s': expected 0, got %d", abs_cases[i].in, err);
        if (!err)
            CHECK(!strcmp(out, abs_cases[i].want), "normalize '%s': expected '%s', got '%s'", abs_cases[i].in,
                  abs_cases[i].want, out);
    }
    CHECK_INT(cgroup_normalize("", out, sizeof(out)), -EINVAL);
    CHECK_INT(cgroup_normalize("/a/../b", out, sizeof(out)), -EINVAL);
    CHECK_INT(cgroup_normalize("..", out, sizeof(out)), -EINVAL);
    CHECK_INT(cgroup_normalize("/abcdef", out, 5), -ENAMETOOLONG);
    if (mnt) {
        snprintf(want, sizeof(want), "%s/system.slice/x.service", mnt);
        CHECK_INT(cgroup_normalize("system.slice//x.service/", out, sizeof(out)), 0);
        CHECK(!strcmp(out, want), "relative path: expected '%s', got '%s'", want, out);
    }
}

static void test_resolve_errors(const char *mnt)
{
    struct cgroup_ref r;
    char msg[512], path[PATH_MAX + 64];
    int err;

    err = cgroup_resolve("/etc", NULL, &r, msg, sizeof(msg));
    CHECK(err == -EINVAL && strstr(msg, "/etc"), "/etc: expected -EINVAL naming it, got %d '%s'", err, msg);
    err = cgroup_resolve(NULL, "a/b.service", &r, msg, sizeof(msg));
    CHECK(err == -EINVAL && strstr(msg, "invalid unit name"), "unit with '/': got %d '%s'", err, msg);
    err = cgroup_resolve(NULL, "", &r, msg, sizeof(msg));
    CHECK(err == -EINVAL, "empty unit: expected -EINVAL, got %d '%s'", err, msg);
    if (!mnt)
        return;
    snprintf(path, sizeof(path), "%s/osd-unit-test-no-such-%d", mnt, (int)getpid());
    err = cgroup_resolve(path, NULL, &r, msg, sizeof(msg));
    CHECK(err == -ENOENT && strstr(msg, "no such cgroup") && strstr(msg, path),
          "missing cgroup: expected -ENOENT naming it, got %d '%s'", err, msg);
    err = cgroup_resolve(mnt, NULL, &r, msg, sizeof(msg));
    CHECK(err == -EINVAL && strstr(msg, "root cgroup"), "the root: expected -EINVAL, got %d '%s'", err, msg);
    snprintf(path, sizeof(path), "%s/cgroup.procs", mnt);
    err = cgroup_resolve(path, NULL, &r, msg, sizeof(msg));
    CHECK(err == -EINVAL && strstr(msg, "is a file"), "a file: expected -EINVAL, got %d '%s'", err, msg);
    snprintf(path, sizeof(path), "osd-unit-test-no-such-%d.service", (int)getpid());
    err = cgroup_resolve(NULL, path, &r, msg, sizeof(msg));
    CHECK(err == -ENOENT && strstr(msg, "no such unit"), "unknown unit: expected -ENOENT, got %d '%s'", err, msg);
}

int main(void)
{
    char mnt[PATH_MAX];
    const char *m = cgroup_v2_mount(mnt, sizeof(mnt)) == 0 ? mnt : NULL;

    if (!m)
        fprintf(stderr, "no cgroup2 mount: the checks that need one are skipped\n");
    test_normalize(m);
    test_resolve_errors(m);
    CHECK_DONE();
}
