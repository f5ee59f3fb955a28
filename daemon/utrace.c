/* utrace.c - see utrace.h. Probes are indexed by their slot; a probe belongs to one
 * target and one function and lives while some connection traces it or `watch` counts it.
 * Each tracing connection keeps its own formats; the slot captures the union of the
 * strings they show. */
#include "utrace.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect_procmon.h"
#include "collect_syscall.h"
#include "collect_uprobe.h"
#include "daemon.h"
#include "log.h"
#include "osd_proto.h"
#include "rpc.h"
#include "targets.h"
#include "uprobe_elf.h"

_Static_assert(OSD_UP_HIST == OSD_SYS_HIST, "latency histograms share sysmon_quantile()");
_Static_assert(UFMT_RETVAL == OSD_UP_RET_STR, "the retval string bit is the same on both sides");

#define MSG_MAX 1024

struct uprobe_probe;

struct utracer {
    struct utracer *next;
    struct rpc_conn *c;
    struct uprobe_probe *p; /* NULL once the probe is gone (target unwatched) */
    struct ufmt enter, ret;
};

struct uprobe_probe {
    bool used;
    uint32_t gen;
    uint32_t target_id;
    pid_t pid;
    char name[UTRACE_NAME_MAX];
    int holders; /* `watch` counting it */
    int ntracers;
    struct utracer *tracers;
};

struct utrace {
    struct daemon *d;
    struct uprobe_probe probes[OSD_UP_SLOTS];
    uv_timer_t timer; /* reports ring-buffer drops once a second */
    uint64_t dropped_reported;
};

static const char *const cols[UF_NCOLS] = { "calls", "avg_ns", "p50_ns", "p99_ns" };

const char *const *utrace_cols(void)
{
    return cols;
}

/* A mapped file of pid whose base name is base (or its executable). */
static int find_mapped(pid_t pid, const char *base, char *out, size_t len)
{
    char path[64], line[768];
    int err = -ENOENT;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -errno;
    while (err && fgets(line, sizeof(line), f)) {
        char *p = strchr(line, '/'), *b;

        if (!p)
            continue;
        p[strcspn(p, "\n")] = '\0';
        b = strrchr(p, '/') + 1;
        if (!strcmp(b, base) && strlen(p) < len) {
            snprintf(out, len, "%s", p);
            err = 0;
        }
    }
    fclose(f);
    return err;
}

int utrace_resolve(pid_t pid, const char *spec, bool check_elf, struct uprobe_spec *out, char *why, size_t whylen)
{
    const char *colon = strrchr(spec, ':');
    char bin[256], real[PATH_MAX];
    size_t blen;
    int err;

    memset(out, 0, sizeof(*out));
    if (!colon || colon == spec || !colon[1]) {
        snprintf(why, whylen, "'%s' is not BINARY:FUNCTION (e.g. /usr/bin/app:main)", spec);
        return -EINVAL;
    }
    blen = (size_t)(colon - spec);
    if (blen >= sizeof(bin) || strlen(colon + 1) >= sizeof(out->func)) {
        snprintf(why, whylen, "the binary path or function name in '%.64s...' is too long", spec);
        return -EINVAL;
    }
    for (const char *p = colon + 1; *p; p++) {
        if (*p <= ' ' || *p == '/' || *p == 0x7f) {
            snprintf(why, whylen, "'%s' is not a function name", colon + 1);
            return -EINVAL;
        }
    }
    memcpy(bin, spec, blen);
    bin[blen] = '\0';
    snprintf(out->func, sizeof(out->func), "%s", colon + 1);
    if (bin[0] == '/') {
        if (!realpath(bin, real)) {
            err = -errno;
            snprintf(why, whylen, "no such binary: %s: %s", bin, strerror(errno));
            return err;
        }
    } else if (strchr(bin, '/')) {
        snprintf(why, whylen, "the binary '%s' must be an absolute path, or the name of a file the target maps", bin);
        return -EINVAL;
    } else if (pid <= 0) {
        snprintf(why, whylen, "give the binary '%s' by its absolute path: a cgroup target has no root process to "
                 "find it in", bin);
        return -EINVAL;
    } else if (find_mapped(pid, bin, real, sizeof(real))) {
        snprintf(why, whylen, "pid %d maps no file named '%s'; give the binary's absolute path", (int)pid, bin);
        return -ENOENT;
    }
    if (strlen(real) >= sizeof(out->path)) {
        snprintf(why, whylen, "the binary path %s is too long", real);
        return -EINVAL;
    }
    snprintf(out->path, sizeof(out->path), "%s", real);
    snprintf(out->name, sizeof(out->name), "%s:%s", out->path, out->func);
    if (check_elf)
        return uprobe_elf_resolve(out->path, out->func, &out->offset, why, whylen);
    return 0;
}

static void stats_add(struct up_stats *to, const struct up_stats *v)
{
    to->calls += v->calls;
    to->returns += v->returns;
    to->total_ns += v->total_ns;
    for (int b = 0; b < OSD_UP_HIST; b++)
        to->hist[b] += v->hist[b];
}

struct ufunc *utrace_find(struct target *t, const char *name)
{
    for (size_t i = 0; i < t->nufuncs; i++)
        if (!strcmp(t->ufuncs[i].name, name))
            return &t->ufuncs[i];
    return NULL;
}

static void on_drop_timer(uv_timer_t *h);

static void on_event(void *arg, const struct up_event *ev);

/* The uprobe object is loaded when a first function is traced. */
static int utrace_load(struct daemon *d)
{
    struct utrace *ut;
    int err;

    if (d->ut)
        return 0;
    if (!d->pm) {
        snprintf(d->up_error, sizeof(d->up_error), "%s", d->bpf_error);
        return -ENOTSUP;
    }
    ut = calloc(1, sizeof(*ut));
    if (!ut)
        return -ENOMEM;
    err = upmon_open(d->loop, procmon_watched_fd(d->pm), on_event, d, &d->up);
    if (err) {
        snprintf(d->up_error, sizeof(d->up_error), "%s", strerror(-err));
        log_warn("cannot load the uprobe programs: %s", strerror(-err));
        d->up = NULL;
        free(ut);
        return -ENOTSUP;
    }
    ut->d = d;
    uv_timer_init(d->loop, &ut->timer);
    ut->timer.data = ut;
    uv_timer_start(&ut->timer, on_drop_timer, 1000, 1000);
    d->ut = ut;
    d->up_error[0] = '\0';
    return 0;
}

static void probe_configure(struct daemon *d, int slot)
{
    struct uprobe_probe *p = &d->ut->probes[slot];
    uint32_t mask = 0;

    for (struct utracer *u = p->tracers; u; u = u->next)
        mask |= (u->enter.str_mask & ((1u << OSD_UP_NARGS) - 1)) | (u->ret.str_mask & (1u << OSD_UP_RET_STR));
    if (upmon_configure(d->up, slot, mask, p->ntracers > 0))
        log_warn("uprobe %s: cannot update the probe's configuration", p->name);
}

/* The probe of s on t, attached if it is not yet. Returns its slot or a negative errno. */
static int probe_get(struct target *t, const struct uprobe_spec *s, bool stream)
{
    struct daemon *d = t->d;
    struct ufunc *f;
    uint32_t gen;
    bool fresh = false;
    int slot, err;

    if ((err = utrace_load(d)))
        return err;
    for (slot = 0; slot < OSD_UP_SLOTS; slot++) {
        struct uprobe_probe *p = &d->ut->probes[slot];
        if (p->used && p->target_id == t->id && !strcmp(p->name, s->name))
            return slot;
    }
    f = utrace_find(t, s->name);
    if (!f) {
        struct ufunc *nf;

        if (t->nufuncs >= UTRACE_FUNCS_PER_TARGET)
            return -ENOSPC;
        nf = realloc(t->ufuncs, (t->nufuncs + 1) * sizeof(*nf));
        if (!nf)
            return -ENOMEM;
        t->ufuncs = nf;
        f = &t->ufuncs[t->nufuncs];
        memset(f, 0, sizeof(*f));
        if ((err = series_init(&f->s, d->cfg.ring_capacity, UF_NCOLS)))
            return err;
        snprintf(f->name, sizeof(f->name), "%s", s->name);
        f->slot = -1;
        t->nufuncs++;
        fresh = true;
    }
    slot = upmon_attach(d->up, s->path, s->offset, t->id, 0, stream, &gen);
    if (slot < 0) {
        if (slot != -EMFILE)
            log_warn("uprobe %s: cannot attach: %s", s->name, strerror(-slot));
        if (fresh) {
            series_free(&f->s);
            t->nufuncs--;
        }
        return slot;
    }
    f->slot = slot;
    d->ut->probes[slot] = (struct uprobe_probe){ .used = true, .gen = gen, .target_id = t->id, .pid = t->pid };
    snprintf(d->ut->probes[slot].name, sizeof(d->ut->probes[slot].name), "%s", s->name);
    log_info("uprobe %s attached for target %d (slot %d)", s->name, (int)t->pid, slot);
    return slot;
}

/* A detach in progress: what was banked when it began. */
struct detaching {
    struct daemon *d;
    uint32_t target_id;
    char name[UTRACE_NAME_MAX];
    struct up_stats banked;
};

static void stats_sub(struct up_stats *a, const struct up_stats *b)
{
    a->calls -= b->calls;
    a->returns -= b->returns;
    a->total_ns -= b->total_ns;
    for (int i = 0; i < OSD_UP_HIST; i++)
        a->hist[i] -= b->hist[i];
}

/* The calls that were already past the slot's check when it stopped counting. */
static void on_detached(void *arg, const struct up_stats *final)
{
    struct detaching *x = arg;
    struct target *t;
    struct ufunc *f;

    if (final && (t = target_find_id(x->d, x->target_id)) && (f = utrace_find(t, x->name))) {
        struct up_stats extra = *final;

        stats_sub(&extra, &x->banked);
        stats_add(&f->bank, &extra);
    }
    free(x);
}

/* No memory to follow the detach: the few calls it may still count are lost. */
static void on_detached_lost(void *arg, const struct up_stats *final)
{
    (void)arg;
    (void)final;
}

/* Detaches a probe nobody uses; its counts go to the function's series bank. */
static void probe_put(struct daemon *d, int slot)
{
    struct uprobe_probe *p = &d->ut->probes[slot];
    struct target *t = target_find_id(d, p->target_id);
    struct detaching *x = calloc(1, sizeof(*x));
    struct up_stats now;
    struct ufunc *f;

    if (p->holders || p->tracers)
        return;
    if (x) {
        x->d = d;
        x->target_id = p->target_id;
        snprintf(x->name, sizeof(x->name), "%s", p->name);
    }
    if (!x)
        upmon_detach(d->up, slot, &now, on_detached_lost, NULL);
    else if (!upmon_detach(d->up, slot, &now, on_detached, x))
        free(x);
    else
        x->banked = now;
    if (t && (f = utrace_find(t, p->name)) && f->slot == slot) {
        stats_add(&f->bank, &now);
        f->slot = -1;
    }
    log_info("uprobe %s detached (slot %d)", p->name, slot);
    memset(p, 0, sizeof(*p));
}

int utrace_start(struct target *t, const struct uprobe_spec *s, const struct ufmt *enter, const struct ufmt *ret,
                 struct rpc_conn *c)
{
    struct utracer *u = calloc(1, sizeof(*u));
    struct uprobe_probe *p;
    int slot;

    if (!u)
        return -ENOMEM;
    slot = probe_get(t, s, true);
    if (slot < 0) {
        free(u);
        return slot;
    }
    p = &t->d->ut->probes[slot];
    u->c = c;
    u->p = p;
    u->enter = *enter;
    u->ret = *ret;
    u->next = p->tracers;
    p->tracers = u;
    p->ntracers++;
    probe_configure(t->d, slot);
    rpc_conn_set_utracer(c, u);
    return 0;
}

int utrace_hold(struct target *t, const struct uprobe_spec *s)
{
    int slot = probe_get(t, s, false);

    if (slot < 0)
        return slot;
    t->d->ut->probes[slot].holders = 1;
    return 0;
}

void utrace_release(struct daemon *d, struct utracer *u)
{
    struct uprobe_probe *p = u->p;

    if (p && d->ut) {
        int slot = (int)(p - d->ut->probes);

        for (struct utracer **pp = &p->tracers; *pp; pp = &(*pp)->next) {
            if (*pp == u) {
                *pp = u->next;
                p->ntracers--;
                break;
            }
        }
        if (p->tracers || p->holders)
            probe_configure(d, slot);
        else
            probe_put(d, slot);
    }
    free(u);
}

void utrace_target_gone(struct target *t)
{
    struct daemon *d = t->d;

    if (!d->ut)
        return;
    for (int slot = 0; slot < OSD_UP_SLOTS; slot++) {
        struct uprobe_probe *p = &d->ut->probes[slot];

        if (!p->used || p->target_id != t->id)
            continue;
        /* the connections stay open but stream nothing more */
        for (struct utracer *u = p->tracers; u; u = u->next)
            u->p = NULL;
        p->tracers = NULL;
        p->ntracers = 0;
        p->holders = 0;
        probe_put(d, slot);
    }
}

void utrace_target_free(struct target *t)
{
    for (size_t i = 0; i < t->nufuncs; i++)
        series_free(&t->ufuncs[i].s);
    free(t->ufuncs);
    t->ufuncs = NULL;
    t->nufuncs = 0;
}

static uint64_t delta(uint64_t now, uint64_t before)
{
    return now > before ? now - before : 0;
}

void utrace_sample(struct target *t, int64_t now_ms, bool emit)
{
    struct daemon *d = t->d;

    for (size_t i = 0; i < t->nufuncs; i++) {
        struct ufunc *f = &t->ufuncs[i];
        struct up_stats cum = f->bank, cur;
        __u64 hist[OSD_UP_HIST];
        double row[UF_NCOLS];
        uint64_t rets;

        if (f->slot >= 0 && d->up) {
            if (upmon_read(d->up, f->slot, &cur))
                continue; /* keep prev: the next readable tick has the whole delta */
            stats_add(&cum, &cur);
        }
        if (emit) {
            rets = delta(cum.returns, f->prev.returns);
            for (int b = 0; b < OSD_UP_HIST; b++)
                hist[b] = delta(cum.hist[b], f->prev.hist[b]);
            row[UF_COL_CALLS] = (double)delta(cum.calls, f->prev.calls);
            row[UF_COL_AVG] = rets ? (double)delta(cum.total_ns, f->prev.total_ns) / (double)rets : 0;
            row[UF_COL_P50] = sysmon_quantile(hist, 0.5);
            row[UF_COL_P99] = sysmon_quantile(hist, 0.99);
            if (series_append(&f->s, now_ms, row))
                continue; /* not stored: its counts stay for the next row */
        }
        f->prev = cum;
    }
}

json_t *utrace_functions_json(const struct target *t)
{
    json_t *a = json_array();

    for (size_t i = 0; i < t->nufuncs; i++)
        json_array_append_new(a, json_string(t->ufuncs[i].name));
    return a;
}

/* Strings from the traced process, made printable so that any message is valid JSON. */
static void clean_str(char *to, const char *from, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n && from[i]; i++)
        to[i] = from[i] >= ' ' && from[i] < 0x7f ? from[i] : '?';
    to[i] = '\0';
}

static void on_event(void *arg, const struct up_event *ev)
{
    struct daemon *d = arg;
    struct uprobe_probe *p;
    struct ufmt_vals v = { 0 };
    char strs[OSD_UP_NARGS][OSD_UP_STR], msg[MSG_MAX];
    bool enter = ev->type == OSD_UP_ENTER;
    struct utracer *u, *next;
    double when;

    if (!d->ut || ev->slot >= OSD_UP_SLOTS)
        return;
    p = &d->ut->probes[ev->slot];
    if (!p->used || p->gen != ev->gen || !p->tracers)
        return; /* detached or re-used since: the event is moot */
    if (enter) {
        for (int i = 0; i < OSD_UP_NARGS; i++) {
            v.v[i] = ev->args[i];
            clean_str(strs[i], ev->str[i], sizeof(strs[i]));
            v.s[i] = ev->str_bad & (1u << i) ? NULL : strs[i];
        }
    } else {
        v.v[UFMT_RETVAL] = ev->ret;
        clean_str(strs[0], ev->str[0], sizeof(strs[0]));
        v.s[UFMT_RETVAL] = ev->str_bad & 1u ? NULL : strs[0];
    }
    /* the kernel stamps CLOCK_MONOTONIC; shift it onto the epoch */
    when = now_epoch() - (double)(mono_ns() - (int64_t)ev->ts_ns) / 1e9;
    for (u = p->tracers; u; u = next) {
        json_t *vals = json_array(), *params;

        next = u->next; /* notifying may close u's connection, which frees u */
        ufmt_render(enter ? &u->enter : &u->ret, &v, msg, sizeof(msg), vals);
        params = json_pack("{s:i, s:i, s:i, s:f, s:s, s:s, s:s, s:o}", "pid", (int)p->pid, "tgid", (int)ev->tgid,
                           "tid", (int)ev->tid, "time", when, "event", enter ? "enter" : "return", "function",
                           p->name, "message", msg, "args", vals);
        if (!params)
            continue;
        if (!enter) {
            json_object_set_new(params, "retval", json_integer((json_int_t)ev->ret));
            json_object_set_new(params, "latency_ns", json_integer((json_int_t)ev->lat_ns));
        }
        rpc_conn_notify(u->c, OSD_N_TRACE, params);
        json_decref(params);
    }
}

static void on_drop_timer(uv_timer_t *h)
{
    struct utrace *ut = h->data;
    uint64_t dropped = upmon_counter(ut->d->up, OSD_UP_CNT_DROPS);

    if (dropped == ut->dropped_reported)
        return;
    ut->dropped_reported = dropped;
    for (int slot = 0; slot < OSD_UP_SLOTS; slot++) {
        struct uprobe_probe *p = &ut->probes[slot];
        struct utracer *u, *next;

        for (u = p->used ? p->tracers : NULL; u; u = next) {
            json_t *params = json_pack("{s:i, s:s, s:I}", "pid", (int)p->pid, "function", p->name, "dropped",
                                       (json_int_t)dropped);

            next = u->next;
            if (params)
                rpc_conn_notify(u->c, OSD_N_TRACE_DROPPED, params);
            json_decref(params);
        }
    }
}

json_t *utrace_status(struct daemon *d)
{
    json_t *probes, *r;
    int live = 0;

    if (!d->ut)
        return json_pack("{s:b, s:i, s:i, s:i, s:s}", "loaded", 0, "attached", 0, "slots_used", 0, "slots_max",
                         OSD_UP_SLOTS, "error",
                         d->up_error[0] ? d->up_error : "not loaded: no function has been traced yet");
    probes = json_array();
    for (int slot = 0; slot < OSD_UP_SLOTS; slot++) {
        struct uprobe_probe *p = &d->ut->probes[slot];
        struct up_stats st;

        if (!p->used)
            continue;
        live++;
        upmon_read(d->up, slot, &st);
        json_array_append_new(probes, json_pack("{s:s, s:i, s:i, s:b, s:I}", "function", p->name, "pid", (int)p->pid,
                                                "tracers", p->ntracers, "counting", p->holders > 0, "calls",
                                                (json_int_t)st.calls));
    }
    /* a slot being detached is still in use until the kernel lets it go */
    r = json_pack("{s:b, s:i, s:i, s:i, s:i, s:o, s:I, s:I, s:I, s:I}", "loaded", 1, "attached", live,
                  "detaching", upmon_slots_used(d->up) - live, "slots_used", upmon_slots_used(d->up), "slots_max",
                  OSD_UP_SLOTS,
                  "probes", probes, "events", (json_int_t)upmon_events(d->up), "events_dropped",
                  (json_int_t)upmon_counter(d->up, OSD_UP_CNT_DROPS), "map_full",
                  (json_int_t)upmon_counter(d->up, OSD_UP_CNT_NOSTORE), "too_deep",
                  (json_int_t)upmon_counter(d->up, OSD_UP_CNT_DEEP));
    return r;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void utrace_close(struct daemon *d)
{
    if (!d->ut)
        return;
    /* every target is gone, so no probe is left; the links go with the object */
    upmon_close(d->up);
    d->up = NULL;
    uv_close((uv_handle_t *)&d->ut->timer, on_timer_closed);
    d->ut = NULL;
}
