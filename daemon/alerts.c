/* alerts.c - see alerts.h. */
#include "alerts.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

/* journalctl MESSAGE_ID=... finds every osdetd anomaly */
#define ANOMALY_MESSAGE_ID "4f5d0e6c8b2a4f7e9c1d3b5a7e9f1c2d"

struct alerts {
    char path[300];
    int fd;
    struct anomaly *ring; /* history, oldest first from head */
    size_t cap, head, len;
    uint64_t next_id;
    uint64_t log_errors;
    alerts_hook hook;
    void *hook_arg;
};

size_t alerts_count(const struct alerts *a)
{
    return a->len;
}

uint64_t alerts_log_errors(const struct alerts *a)
{
    return a->log_errors;
}

const char *alerts_path(const struct alerts *a)
{
    return a->path;
}

void alerts_set_hook(struct alerts *a, alerts_hook hook, void *arg)
{
    a->hook = hook;
    a->hook_arg = arg;
}

static struct anomaly *at(struct alerts *a, size_t i)
{
    return &a->ring[(a->head + i) % a->cap];
}

static struct anomaly *find(struct alerts *a, uint64_t id)
{
    for (size_t i = a->len; i-- > 0;)
        if (at(a, i)->id == id)
            return at(a, i);
    return NULL;
}

static void push(struct alerts *a, const struct anomaly *x)
{
    if (a->len == a->cap) {
        a->ring[a->head] = *x;
        a->head = (a->head + 1) % a->cap;
    } else {
        *at(a, a->len++) = *x;
    }
    if (x->id >= a->next_id)
        a->next_id = x->id + 1;
}

/* JSON has no infinity: a detector's "infinitely unlikely" becomes 1e300, which stays
 * finite after a round trip through 15 printed digits (DBL_MAX would not). */
#define SCORE_INF 1e300

static double finite_or_max(double v)
{
    if (isnan(v))
        return 0;
    if (v > SCORE_INF || v < -SCORE_INF)
        return v > 0 ? SCORE_INF : -SCORE_INF;
    return v;
}

static bool is_misuse(const struct anomaly *x)
{
    return x->tid != 0;
}

json_t *anomaly_json(const struct anomaly *x)
{
    json_t *top = json_array(), *o;

    for (int i = 0; i < x->ntop; i++)
        json_array_append_new(top, json_pack("{s:s, s:f}", "metric", x->top_name[i], "contribution", finite_or_max(x->top_val[i])));
    o = json_pack("{s:I, s:s, s:i, s:I, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:o, s:s}", "id", (json_int_t)x->id,
                     "kind", x->kind, "pid", (int)x->pid, "uid", (json_int_t)x->uid, "comm", x->comm, "metrics", x->metrics, "detector", x->detector,
                     "start", x->start, "end", x->end, "peak_score", finite_or_max(x->peak_score), "threshold",
                     finite_or_max(x->threshold), "top",
                     top, "state", x->open ? "open" : "closed");
    if (o) {
        json_object_set_new(o, "cgroup", x->cgroup[0] ? json_string(x->cgroup) : json_null());
        json_object_set_new(o, "unit", x->unit[0] ? json_string(x->unit) : json_null());
    }
    if (o && is_misuse(x)) {
        char addr[24];

        snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)x->addr);
        json_object_set_new(o, "tgid", json_integer(x->tgid));
        json_object_set_new(o, "tid", json_integer(x->tid));
        json_object_set_new(o, "addr", json_string(addr));
        json_object_set_new(o, "size", json_integer((json_int_t)x->size));
        json_object_set_new(o, "stack_id", json_integer(x->stack_id));
        json_object_set_new(o, "stack", json_string(x->stack));
    }
    return o;
}

static void str_field(json_t *o, const char *key, char *dst, size_t len)
{
    const char *s = json_string_value(json_object_get(o, key));

    snprintf(dst, len, "%s", s ? s : "");
}

static void top_from_json(struct anomaly *x, json_t *top)
{
    size_t i;
    json_t *v;

    x->ntop = 0;
    json_array_foreach(top, i, v) {
        if (x->ntop == ALERT_TOP)
            break;
        str_field(v, "metric", x->top_name[x->ntop], sizeof(x->top_name[0]));
        x->top_val[x->ntop++] = json_number_value(json_object_get(v, "contribution"));
    }
}

static int from_json(json_t *o, struct anomaly *x)
{
    memset(x, 0, sizeof(*x));
    if (!json_is_integer(json_object_get(o, "id")))
        return -EINVAL;
    x->id = (uint64_t)json_integer_value(json_object_get(o, "id"));
    str_field(o, "kind", x->kind, sizeof(x->kind));
    x->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
    x->uid = json_is_integer(json_object_get(o, "uid")) ? (uid_t)json_integer_value(json_object_get(o, "uid")) : 0;
    str_field(o, "comm", x->comm, sizeof(x->comm));
    str_field(o, "cgroup", x->cgroup, sizeof(x->cgroup)); /* absent in older logs: "" */
    str_field(o, "unit", x->unit, sizeof(x->unit));
    str_field(o, "metrics", x->metrics, sizeof(x->metrics));
    str_field(o, "detector", x->detector, sizeof(x->detector));
    x->start = json_number_value(json_object_get(o, "start"));
    x->end = json_number_value(json_object_get(o, "end"));
    x->peak_score = json_number_value(json_object_get(o, "peak_score"));
    x->threshold = json_number_value(json_object_get(o, "threshold"));
    top_from_json(x, json_object_get(o, "top"));
    x->open = !strcmp(json_string_value(json_object_get(o, "state")) ?: "", "open");
    if (json_is_integer(json_object_get(o, "tid"))) {
        const char *addr = json_string_value(json_object_get(o, "addr"));

        x->tgid = (pid_t)json_integer_value(json_object_get(o, "tgid"));
        x->tid = (pid_t)json_integer_value(json_object_get(o, "tid"));
        x->addr = addr ? strtoull(addr, NULL, 16) : 0;
        x->size = (uint64_t)json_integer_value(json_object_get(o, "size"));
        x->stack_id = (int32_t)json_integer_value(json_object_get(o, "stack_id"));
        str_field(o, "stack", x->stack, sizeof(x->stack));
    }
    return 0;
}

/* Replays the log. A line that does not parse (a write torn by a crash) is skipped
 * and counted; everything before and after it is kept. */
static void load(struct alerts *a)
{
    FILE *f = fopen(a->path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;

    if (!f)
        return;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *o = json_loadb(line, (size_t)n, 0, NULL);
        const char *ev = json_string_value(json_object_get(o, "event"));
        struct anomaly x, *old;

        lineno++;
        if (!o || !ev || !json_is_object(json_object_get(o, "anomaly")) ||
            from_json(json_object_get(o, "anomaly"), &x)) {
            log_warn("%s:%u: skipping an unreadable record", a->path, lineno);
            a->log_errors++;
        } else if (!strcmp(ev, "begin")) {
            push(a, &x);
        } else if ((old = find(a, x.id))) {
            *old = x;
        } else {
            push(a, &x); /* its begin was rotated away: keep what we know */
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
}

static int mkdirs(const char *dir)
{
    char p[300];

    snprintf(p, sizeof(p), "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, 0755) && errno != EEXIST)
        return -errno;
    return 0;
}

int alerts_open(const char *state_dir, size_t keep, struct alerts **out)
{
    struct alerts *a = calloc(1, sizeof(*a));
    int err;

    if (!a)
        return -ENOMEM;
    a->cap = keep ? keep : 1;
    a->ring = calloc(a->cap, sizeof(*a->ring));
    a->next_id = 1;
    if (!a->ring) {
        free(a);
        return -ENOMEM;
    }
    snprintf(a->path, sizeof(a->path), "%s/anomalies.jsonl", state_dir);
    err = mkdirs(state_dir);
    if (err) {
        log_err("state directory %s: %s", state_dir, strerror(-err));
        goto err_free;
    }
    load(a);
    a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (a->fd < 0) {
        err = -errno;
        log_err("%s: %s", a->path, strerror(-err));
        goto err_free;
    }
    *out = a;
    return 0;
err_free:
    free(a->ring);
    free(a);
    return err;
}

void alerts_close(struct alerts *a)
{
    if (!a)
        return;
    if (a->fd >= 0)
        close(a->fd);
    free(a->ring);
    free(a);
}

/* One line per event, written whole and fdatasync'd before anyone hears of it. */
static void log_event(struct alerts *a, const char *event, json_t *rec)
{
    json_t *line = json_pack("{s:s, s:O}", "event", event, "anomaly", rec);
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    size_t len;

    json_decref(line);
    if (!text) {
        a->log_errors++;
        return;
    }
    len = strlen(text);
    text[len] = '\n'; /* json_dumps' NUL becomes the newline; written by length */
    if (write(a->fd, text, len + 1) != (ssize_t)(len + 1) || fdatasync(a->fd)) {
        a->log_errors++;
        log_warn("%s: cannot append: %s", a->path, strerror(errno));
    }
    free(text);
}

/* A misuse is one journal entry (warning) with the fields that locate it; its "end"
 * (it is instant) goes to the log and subscribers only. */
static void journal_misuse(const struct anomaly *x, const char *event)
{
    if (strcmp(event, "begin"))
        return;
    sd_journal_send("MESSAGE=Memory misuse %s in %s[%d] tid %d: address 0x%llx size %llu at %s", x->kind, x->comm,
                    (int)x->tgid, (int)x->tid, (unsigned long long)x->addr, (unsigned long long)x->size,
                    x->stack[0] ? x->stack : "?", "MESSAGE_ID=" ANOMALY_MESSAGE_ID, "PRIORITY=4",
                    "SYSLOG_IDENTIFIER=osdetd", "OSD_EVENT=%s", event, "OSD_ANOMALY_ID=%llu",
                    (unsigned long long)x->id, "OSD_KIND=%s", x->kind, "OSD_PID=%d", (int)x->pid, "OSD_COMM=%s",
                    x->comm, "OSD_METRIC=%s", x->metrics, "OSD_DETECTOR=%s", x->detector, "OSD_START=%.3f",
                    x->start, "OSD_TGID=%d", (int)x->tgid, "OSD_TID=%d", (int)x->tid, "OSD_ADDR=0x%llx",
                    (unsigned long long)x->addr, "OSD_SIZE=%llu", (unsigned long long)x->size, "OSD_STACK_ID=%d",
                    (int)x->stack_id, "OSD_STACK=%s", x->stack, x->cgroup[0] ? "OSD_CGROUP=%s" : NULL, x->cgroup,
                    x->unit[0] ? "OSD_UNIT=%s" : NULL, x->unit, NULL);
}

static void journal(const struct anomaly *x, const char *event)
{
    if (is_misuse(x)) {
        journal_misuse(x, event);
        return;
    }
    char who[CGROUP_PATH_MAX + 48];

    if (x->unit[0])
        snprintf(who, sizeof(who), "unit %s", x->unit);
    else if (x->cgroup[0])
        snprintf(who, sizeof(who), "cgroup %s", x->cgroup);
    else
        snprintf(who, sizeof(who), "%s[%d]", x->comm, (int)x->pid);
    /* OSD_CGROUP and OSD_UNIT come last: when absent, their NULL ends the list */
    sd_journal_send("MESSAGE=%s %s in %s: %s score %.4g over threshold %.4g (%s)",
                    !strcmp(event, "begin") ? "Anomaly" : "End of anomaly", x->kind, who, x->metrics, x->peak_score, x->threshold, x->detector,
                    "MESSAGE_ID=" ANOMALY_MESSAGE_ID, "PRIORITY=%d", !strcmp(event, "begin") ? 4 : 5,
                    "SYSLOG_IDENTIFIER=osdetd", "OSD_EVENT=%s", event, "OSD_ANOMALY_ID=%llu",
                    (unsigned long long)x->id, "OSD_KIND=%s", x->kind, "OSD_PID=%d", (int)x->pid, "OSD_COMM=%s",
                    x->comm, "OSD_METRIC=%s", x->metrics, "OSD_SCORE=%.6g", x->peak_score, "OSD_THRESHOLD=%.6g",
                    x->threshold, "OSD_DETECTOR=%s", x->detector, "OSD_START=%.3f", x->start, "OSD_END=%.3f",
                    x->end, x->cgroup[0] ? "OSD_CGROUP=%s" : NULL, x->cgroup, x->unit[0] ? "OSD_UNIT=%s" : NULL,
                    x->unit, NULL);
}

static void announce(struct alerts *a, const char *event, const struct anomaly *x)
{
    json_t *rec = anomaly_json(x);

    log_event(a, event, rec);
    journal(x, event);
    if (a->hook)
        a->hook(a->hook_arg, event, rec, x);
    json_decref(rec);
}

int alerts_begin(struct alerts *a, struct anomaly *x)
{
    x->id = a->next_id++;
    x->open = true;
    push(a, x);
    announce(a, "begin", x);
    return 0;
}

void alerts_update(struct alerts *a, const struct anomaly *x)
{
    struct anomaly *old = find(a, x->id);

    if (old)
        *old = *x;
}

int alerts_end(struct alerts *a, const struct anomaly *x)
{
    struct anomaly *old = find(a, x->id);

    if (old) {
        *old = *x;
        old->open = false;
    }
    struct anomaly fin = *x;
    fin.open = false;
    announce(a, "end", &fin);
    return 0;
}

bool anomaly_filter_match(const struct anomaly_filter *f, const struct anomaly *x)
{
    if (f->pid)
        return x->pid == f->pid;
    if (f->unit[0])
        return !strcmp(x->unit, f->unit);
    if (f->cgroup[0])
        return !strcmp(x->cgroup, f->cgroup);
    return true;
}

static bool matches(const struct anomaly *x, double since, double until, const struct anomaly_filter *f,
                    const char *metric, uid_t uid)
{
    return !(x->end < since || x->start > until || !anomaly_filter_match(f, x) ||
             (metric && !strstr(x->metrics, metric)) || (uid != 0 && x->uid != uid));
}

json_t *alerts_query(struct alerts *a, double since, double until, const struct anomaly_filter *f, const char *metric,
                     size_t limit, uid_t uid)
{
    json_t *arr = json_array();
    size_t first = 0, n = 0;

    /* newest `limit` matches: count from the end first */
    for (size_t i = a->len; i-- > 0;) {
        if (!matches(at(a, i), since, until, f, metric, uid))
            continue;
        n++;
        first = i;
        if (limit && n == limit)
            break;
    }
    for (size_t i = first; n && i < a->len; i++) {
        if (matches(at(a, i), since, until, f, metric, uid))
            json_array_append_new(arr, anomaly_json(at(a, i)));
    }
    return arr;
}
