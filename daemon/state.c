/* state.c - see state.h. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "procfs.h"
#include "targets.h"

#define STATE_VERSION 1

static json_t *target_state(const struct target *t)
{
    json_t *fam = json_object(), *o;

    for (int f = 0; f < FAM_MAX; f++)
        json_object_set_new(fam, family_desc(f)->name, json_boolean(t->opts.fam[f]));
    o = json_pack("{s:i, s:I, s:I, s:s, s:f, s:o, s:b, s:b, s:i, s:{s:b, s:s, s:I, s:f, s:I, s:I}}", "pid",
                     (int)t->pid, "start_ticks", (json_int_t)t->start_ticks, "uid", (json_int_t)t->uid, "comm",
                     t->comm, "watched_at", t->watched_at, "families", fam, "children", t->opts.children, "threads",
                     t->opts.threads, "interval_ms", t->opts.interval_ms, "detect", "on", t->opts.detect.on,
                     "detector", det_kind_name(t->opts.detect.kind), "stride", (json_int_t)t->opts.detect.stride, "q",
                     t->opts.detect.q, "calib", (json_int_t)t->opts.detect.calib, "window",
                     (json_int_t)t->opts.detect.window);
    if (o && t->opts.heap_process) /* absent in older files: "tree" */
        json_object_set_new(o, "heap_scope", json_string("process"));
    /* cgroup targets (pid 0) add these two; files without them are pid targets */
    if (o && target_is_cgroup(t)) {
        json_object_set_new(o, "cgroup", json_string(t->cgroup));
        json_object_set_new(o, "unit", t->unit[0] ? json_string(t->unit) : json_null());
    }
    return o;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void on_save_timer(uv_timer_t *h)
{
    state_flush(h->data);
}

void state_init(struct daemon *d)
{
    uv_timer_init(d->loop, &d->state_timer);
    d->state_timer.data = d;
}

void state_changed(struct daemon *d)
{
    if (d->stopping || d->state_dirty)
        return; /* shutting down keeps the targets for the next start */
    d->state_dirty = 1;
    uv_timer_start(&d->state_timer, on_save_timer, STATE_SAVE_DELAY_MS, 0);
}

int state_flush(struct daemon *d)
{
    if (!d->state_dirty)
        return 0;
    d->state_dirty = 0;
    uv_timer_stop(&d->state_timer);
    return state_save_targets(d);
}

void state_close(struct daemon *d)
{
    state_flush(d);
    uv_close((uv_handle_t *)&d->state_timer, NULL);
}

int state_save_targets(struct daemon *d)
{
    char path[300], tmp[310];
    json_t *root, *arr = json_array();
    char *text;
    int fd, err = 0;
    for (struct target *t = d->targets; t; t = t->next)
        if (t->state == TARGET_RUNNING)
            json_array_append_new(arr, target_state(t));
    root = json_pack("{s:i, s:o}", "version", STATE_VERSION, "targets", arr);
    text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
    json_decref(root);
    if (!text)
        return -ENOMEM;
    snprintf(path, sizeof(path), "%s/targets.json", d->cfg.state_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        err = -errno;
        goto out;
    }
    err = write_all(fd, text, strlen(text));
    if (!err && fsync(fd))
        err = -errno;
    close(fd);
    if (!err && rename(tmp, path))
        err = -errno;
    if (!err) { /* the rename itself must reach the disk */
        int dfd = open(d->cfg.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
out:
    if (err)
        log_warn("cannot save %s: %s", path, strerror(-err));
    free(text);
    return err;
}

static int restore_one(struct daemon *d, json_t *o)
{
    struct watch_opts w = { 0 };
    struct proc_stat st;
    struct target *t;
    json_t *fam = json_object_get(o, "families"), *det = json_object_get(o, "detect");
    pid_t pid = (pid_t)json_integer_value(json_object_get(o, "pid")), owner;
    uint64_t start = (uint64_t)json_integer_value(json_object_get(o, "start_ticks"));
    const char *detector = json_string_value(json_object_get(det, "detector"));
    const char *cgroup = json_string_value(json_object_get(o, "cgroup"));
    const char *unit = json_string_value(json_object_get(o, "unit"));
    struct cgroup_ref cg;
    char msg[CGROUP_PATH_MAX * 2 + 256];
    int err;

    if ((pid <= 0 && !cgroup) || !json_is_object(fam) || !json_is_object(det))
        return -EINVAL;
    if (cgroup) {
        err = cgroup_resolve(cgroup, NULL, &cg, msg, sizeof(msg));
        if (err) {
            log_info("not re-watching cgroup %s: %s", cgroup, msg);
            return 0;
        }
        if (unit)
            snprintf(cg.unit, sizeof(cg.unit), "%s", unit);
    } else if (procfs_stat(pid, &st) || st.start_ticks != start) {
        log_info("not re-watching pid %d (%s): the process is gone%s", (int)pid,
                 json_string_value(json_object_get(o, "comm")) ?: "?",
                 procfs_stat(pid, &st) ? "" : " (its pid now belongs to another process)");
        return 0;
    }
    for (int f = 0; f < FAM_MAX; f++)
        w.fam[f] = json_is_true(json_object_get(fam, family_desc(f)->name));
    w.children = json_is_true(json_object_get(o, "children"));
    w.threads = json_is_true(json_object_get(o, "threads"));
    w.heap_process = !strcmp(json_string_value(json_object_get(o, "heap_scope")) ?: "tree", "process");
    w.interval_ms = (int)json_integer_value(json_object_get(o, "interval_ms"));
    w.uid = (uid_t)json_integer_value(json_object_get(o, "uid"));
    w.detect = d->cfg.detect;
    w.detect.on = json_is_true(json_object_get(det, "on"));
    if (detector && det_kind_parse(detector, &w.detect.kind))
        return -EINVAL;
    w.detect.stride = (size_t)json_integer_value(json_object_get(det, "stride"));
    w.detect.q = json_number_value(json_object_get(det, "q"));
    w.detect.calib = (size_t)json_integer_value(json_object_get(det, "calib"));
    w.detect.window = (size_t)json_integer_value(json_object_get(det, "window"));
    if (w.interval_ms < 100 || w.interval_ms > 60000 || !w.detect.stride)
        return -EINVAL;
    if (cgroup) {
        struct target *other;
        err = target_watch_cgroup(d, &cg, &w, &t, &other);
    } else {
        err = target_watch(d, pid, &w, &t, &owner);
    }
    if (err && cgroup)
        log_warn("cannot re-watch cgroup %s: %s", cgroup, strerror(-err));
    else if (err)
        log_warn("cannot re-watch pid %d: %s", (int)pid, strerror(-err));
    else {
        t->watched_at = json_number_value(json_object_get(o, "watched_at")) ?: t->watched_at;
        log_info("re-watching %s (%s) from the saved state", t->label, t->comm);
    }
    return 0;
}

void state_restore_targets(struct daemon *d)
{
    char path[300];
    json_error_t jerr;
    json_t *root, *arr, *o;
    size_t i;

    snprintf(path, sizeof(path), "%s/targets.json", d->cfg.state_dir);
    root = json_load_file(path, 0, &jerr);
    if (!root) {
        if (access(path, F_OK) == 0)
            log_warn("%s: unreadable (%s at line %d); starting without saved targets", path, jerr.text, jerr.line);
        return;
    }
    arr = json_object_get(root, "targets");
    if (json_integer_value(json_object_get(root, "version")) != STATE_VERSION || !json_is_array(arr)) {
        log_warn("%s: not a version %d state file; ignored", path, STATE_VERSION);
        json_decref(root);
        return;
    }
    json_array_foreach(arr, i, o) {
        if (restore_one(d, o))
            log_warn("%s: target entry %zu is malformed; skipped", path, i);
    }
    json_decref(root);
    state_save_targets(d); /* forget the ones that are gone */
}
