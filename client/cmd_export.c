/* cmd_export.c - "osdctl export PID --dir DIR": one CSV file per metric family the target
 * collects (cpu.csv, mem.csv, ...), in the input format of "osdctl analyze". */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "cmds.h"
#include "family.h"
#include "fetch.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"

enum { E_DIR = 1, E_SINCE, E_FORCE, E_JSON, E_HELP };

static const struct opt_def export_defs[] = {
    { "dir", 0, 1, E_DIR },   { "since", 0, 1, E_SINCE }, { "force", 0, 0, E_FORCE },
    { "json", 0, 0, E_JSON }, { "help", 'h', 0, E_HELP }, { NULL, 0, 0, 0 },
};

int export_parse(int argc, char **argv, struct export_opts *o, char *why, size_t whylen)
{
    const char *pid_word = NULL;
    struct opts op;
    int key;

    memset(o, 0, sizeof(*o));
    o->since_s = -1;
    opts_init(&op, argc, argv, 1, export_defs);
    while ((key = opts_next(&op)) != OPTS_END) {
        switch (key) {
        case OPTS_ERR:
            snprintf(why, whylen, "export: %s", op.err);
            return -EINVAL;
        case OPTS_POS:
            if (pid_word) {
                snprintf(why, whylen, "export: unexpected argument '%s'", op.arg);
                return -EINVAL;
            }
            pid_word = op.arg;
            break;
        case E_DIR:
            if (!*op.arg) {
                snprintf(why, whylen, "export: --dir needs a directory");
                return -EINVAL;
            }
            o->dir = op.arg;
            break;
        case E_SINCE:
            if (cmd_parse_ago("export", "--since", op.arg, &o->since_s, why, whylen))
                return -EINVAL;
            break;
        case E_FORCE:
            o->force = 1;
            break;
        case E_JSON:
            o->json = 1;
            break;
        case E_HELP:
            o->help = 1;
            break;
        }
    }
    if (o->help)
        return 0;
    if (!pid_word) {
        snprintf(why, whylen, "export: missing PID");
        return -EINVAL;
    }
    if (target_arg_parse(pid_word, &o->tgt)) {
        snprintf(why, whylen, "%s: '%s' is not a process id, unit name or cgroup path (a number from 1, NAME.service, /sys/fs/cgroup/...)", "export", pid_word);
        return -EINVAL;
    }
    o->pid = o->tgt.pid;
    if (!o->dir) {
        snprintf(why, whylen, "export: missing --dir DIR");
        return -EINVAL;
    }
    return 0;
}

/* mkdir -p: 0 or -errno; an existing directory is fine. */
static int export_mkdirs(const char *dir)
{
    char path[PATH_MAX], *p;
    struct stat st;

    if (strlen(dir) >= sizeof(path))
        return -ENAMETOOLONG;
    strcpy(path, dir);
    for (p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, 0755) && errno != EEXIST)
        return -errno;
    if (stat(path, &st))
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* The CSV: "timestamp" and the family's other columns, then one row per point (the time in
 * epoch seconds with 3 decimals, as series --csv prints it). 0 or -errno. */
static int export_write(FILE *f, const json_t *reply)
{
    const json_t *columns = json_object_get(reply, "columns");
    size_t i;

    fputs("timestamp", f);
    for (i = 1; i < json_array_size(columns); i++)
        fprintf(f, ",%s", json_string_value(json_array_get(columns, i)));
    fputc('\n', f);
    output_series_rows(f, columns, json_object_get(reply, "points"), OUT_CSV);
    if (fflush(f) || ferror(f))
        return -EIO;
    return fsync(fileno(f)) ? -errno : 0;
}

/* Writes path whole or not at all: a temporary file beside it, then renamed over it (force)
 * or linked to it, which fails if it appeared meanwhile. 0 or -errno. */
static int export_file(const char *dir, const char *path, const json_t *reply, int force)
{
    char tmp[PATH_MAX];
    FILE *f;
    int fd, err;

    if (snprintf(tmp, sizeof(tmp), "%s/.osdctl-export-XXXXXX", dir) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    fd = mkstemp(tmp);
    if (fd < 0)
        return -errno;
    fchmod(fd, 0644);
    f = fdopen(fd, "w");
    if (!f) {
        err = -errno;
        close(fd);
        goto out;
    }
    err = export_write(f, reply);
    if (fclose(f) && !err)
        err = -errno;
    if (err)
        goto out;
    if (force ? rename(tmp, path) : link(tmp, path))
        err = -errno;
out:
    unlink(tmp); /* after rename() it is gone already */
    return err;
}

static int export_report(struct cli *cli, const struct export_opts *o, const char *const *fam, json_t *const *reply,
                         size_t n)
{
    json_t *files = json_array(), *res;
    char path[PATH_MAX];
    size_t i;

    for (i = 0; i < n; i++) {
        size_t rows = json_array_size(json_object_get(reply[i], "points"));

        snprintf(path, sizeof(path), "%s/%s.csv", o->dir, fam[i]);
        if (!cli->json)
            fprintf(cli->out, "wrote %s: %zu rows of %s\n", path, rows, fam[i]);
        else if (!files || json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:O}", "family", fam[i], "path",
                                                                  path, "rows", (json_int_t)rows, "columns",
                                                                  json_object_get(reply[i], "columns"))))
            goto oom;
    }
    if (cli->json) {
        res = json_pack("{s:i, s:s, s:o}", "pid", (int)o->pid, "dir", o->dir, "files", files);
        if (res && (o->tgt.cgroup || o->tgt.unit))
            json_object_set_new(res, o->tgt.cgroup ? "cgroup" : "unit", json_string(target_arg_str(&o->tgt)));
        files = NULL;
        if (!res)
            goto oom;
        output_json(cli->out, res, 0);
        json_decref(res);
    }
    json_decref(files);
    return OSD_EXIT_OK;
oom:
    json_decref(files);
    return cli_oom(cli);
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
    struct export_opts o;
    struct fetch_range r = { 0 };
    const char *fam[FAMILY_MAX];
    json_t *target = NULL, *reply[FAMILY_MAX] = { NULL };
    char why[256], path[PATH_MAX];
    double complete;
    size_t i, n = 0;
    int ret, err, exists = 0;

    if (export_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "export", "%s", why);
    if (o.help) {
        fputs(help_text("export"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    if (o.since_s >= 0)
        r.since = cmd_ago_to_epoch(o.since_s);
    ret = fetch_target(cli, &o.tgt, &target);
    if (ret)
        return ret;
    n = family_collected(target, fam);
    /* Not a target: ask for cpu so that the daemon's own error is shown. */
    if (!target)
        fam[n++] = OSD_METRIC_CPU;
    if (!n) {
        fprintf(cli->err, "osdctl: target %s collects no metric family osdctl knows\n", target_arg_str(&o.tgt));
        ret = OSD_EXIT_DAEMON_ERROR;
        goto out;
    }
    /* Everything is fetched before anything is written: an error leaves no partial export. */
    for (i = 0; i < n; i++) {
        ret = fetch_series(cli, &o.tgt, &fam[i], 1, &r, &reply[i], &complete);
        if (ret)
            goto out;
    }
    err = export_mkdirs(o.dir);
    if (err) {
        fprintf(cli->err, "osdctl: cannot create directory %s: %s\n", o.dir, strerror(-err));
        ret = OSD_EXIT_DAEMON_ERROR;
        goto out;
    }
    for (i = 0; i < n && !o.force; i++) {
        snprintf(path, sizeof(path), "%s/%s.csv", o.dir, fam[i]);
        if (!access(path, F_OK)) {
            fprintf(cli->err, "osdctl: %s exists; not overwritten (use --force)\n", path);
            exists++;
        }
    }
    if (exists) {
        ret = OSD_EXIT_DAEMON_ERROR;
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (snprintf(path, sizeof(path), "%s/%s.csv", o.dir, fam[i]) >= (int)sizeof(path))
            err = -ENAMETOOLONG;
        else
            err = export_file(o.dir, path, reply[i], o.force);
        if (err) {
            fprintf(cli->err, "osdctl: cannot write %s: %s%s\n", path, strerror(-err),
                    err == -EEXIST ? " (use --force)" : "");
            ret = OSD_EXIT_DAEMON_ERROR;
            goto out;
        }
    }
    ret = export_report(cli, &o, fam, reply, n);
out:
    for (i = 0; i < FAMILY_MAX; i++)
        json_decref(reply[i]);
    json_decref(target);
    return ret;
}
