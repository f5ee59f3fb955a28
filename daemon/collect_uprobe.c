/* collect_uprobe.c - see collect_uprobe.h. */
#include "collect_uprobe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "uprobe.skel.h"

struct upslot {
    bool used;       /* attached, or being detached */
    uint32_t gen;
    struct bpf_link *enter, *ret;
};

struct detach_work {
    uv_work_t req;
    struct upmon *um;
    int slot;
    struct bpf_link *enter, *ret;
    upmon_detached_cb cb;
    void *arg;
};

struct upmon {
    struct uprobe_bpf *skel;
    int cfg_fd, stats_fd, cnt_fd;
    int ncpu;
    struct upslot slots[OSD_UP_SLOTS];
    int used;
    uint32_t next_gen;
    struct ring_buffer *rb;
    uv_poll_t poll;
    uv_loop_t *loop;
    int pending;      /* detaches in the thread pool */
    bool closing, poll_closed;
    upmon_event_cb cb;
    void *cb_arg;
    uint64_t events;
};

static int on_event(void *ctx, void *data, size_t len)
{
    struct upmon *um = ctx;

    if (len < sizeof(struct up_event))
        return 0;
    um->events++;
    um->cb(um->cb_arg, data);
    return 0;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    struct upmon *um = h->data;

    (void)events;
    if (status == 0)
        ring_buffer__consume(um->rb);
}

int upmon_open(uv_loop_t *loop, int watched_fd, upmon_event_cb cb, void *arg, struct upmon **out)
{
    struct upmon *um = calloc(1, sizeof(*um));
    int err;

    if (!um)
        return -ENOMEM;
    um->cb = cb;
    um->cb_arg = arg;
    um->loop = loop;
    um->ncpu = libbpf_num_possible_cpus();
    if (um->ncpu <= 0) {
        err = um->ncpu ? um->ncpu : -EINVAL;
        goto err_free;
    }
    um->skel = uprobe_bpf__open();
    if (!um->skel) {
        err = -errno;
        goto err_free;
    }
    err = bpf_map__reuse_fd(um->skel->maps.watched, watched_fd);
    if (!err)
        err = uprobe_bpf__load(um->skel);
    if (err)
        goto err_destroy;
    um->cfg_fd = bpf_map__fd(um->skel->maps.up_cfg);
    um->stats_fd = bpf_map__fd(um->skel->maps.up_stats);
    um->cnt_fd = bpf_map__fd(um->skel->maps.up_counters);
    um->rb = ring_buffer__new(bpf_map__fd(um->skel->maps.up_events), on_event, um, NULL);
    if (!um->rb) {
        err = -ENOMEM;
        goto err_destroy;
    }
    err = uv_poll_init(loop, &um->poll, ring_buffer__epoll_fd(um->rb));
    if (err)
        goto err_rb;
    um->poll.data = um;
    uv_poll_start(&um->poll, UV_READABLE, on_readable);
    *out = um;
    return 0;
err_rb:
    ring_buffer__free(um->rb);
err_destroy:
    uprobe_bpf__destroy(um->skel);
err_free:
    free(um);
    return err;
}

static void slot_unlink(struct upslot *s)
{
    /* entry first: no new frame is pushed once its return can no longer be seen */
    bpf_link__destroy(s->enter);
    bpf_link__destroy(s->ret);
    s->enter = s->ret = NULL;
}

static void upmon_free(struct upmon *um)
{
    ring_buffer__free(um->rb);
    uprobe_bpf__destroy(um->skel);
    free(um);
}

static void on_poll_closed(uv_handle_t *h)
{
    struct upmon *um = h->data;

    um->poll_closed = true;
    if (!um->pending) /* else the last detach frees it */
        upmon_free(um);
}

void upmon_close(struct upmon *um)
{
    if (!um)
        return;
    um->closing = true;
    /* ~0.1 s per link: the kernel waits a grace period for each, one at a time */
    for (int i = 0; i < OSD_UP_SLOTS; i++)
        slot_unlink(&um->slots[i]);
    uv_close((uv_handle_t *)&um->poll, on_poll_closed);
}

static int write_cfg(struct upmon *um, int slot, const struct up_cfg *c)
{
    uint32_t k = (uint32_t)slot;

    return bpf_map_update_elem(um->cfg_fd, &k, c, BPF_ANY) ? -errno : 0;
}

static int zero_stats(struct upmon *um, int slot)
{
    struct up_stats *vals = calloc((size_t)um->ncpu, sizeof(*vals));
    uint32_t k = (uint32_t)slot;
    int err;

    if (!vals)
        return -ENOMEM;
    err = bpf_map_update_elem(um->stats_fd, &k, vals, BPF_ANY) ? -errno : 0;
    free(vals);
    return err;
}

int upmon_attach(struct upmon *um, const char *path, uint64_t offset, uint32_t target_id, uint32_t str_mask,
                 bool stream, uint32_t *gen)
{
    struct up_cfg c = { .target_id = target_id, .str_mask = str_mask };
    struct upslot *s = NULL;
    int slot, err;

    for (slot = 0; slot < OSD_UP_SLOTS && !s; slot++)
        if (!um->slots[slot].used)
            s = &um->slots[slot];
    if (!s)
        return -EMFILE;
    slot--;
    c.gen = ++um->next_gen;
    c.flags = OSD_UP_ACTIVE | (stream ? OSD_UP_STREAM : 0);
    if ((err = zero_stats(um, slot)) || (err = write_cfg(um, slot, &c)))
        return err;
    {
        /* return first: every entry counted from here on has its return seen */
        LIBBPF_OPTS(bpf_uprobe_opts, ro, .bpf_cookie = (uint64_t)slot, .retprobe = true);
        LIBBPF_OPTS(bpf_uprobe_opts, eo, .bpf_cookie = (uint64_t)slot);

        /* pid -1: every process running this file; the slot's target filters in the
         * kernel, so children forked by the target are covered without re-attaching */
        s->ret = bpf_program__attach_uprobe_opts(um->skel->progs.up_return, -1, path, (size_t)offset, &ro);
        if (!s->ret) {
            err = -errno;
            goto err_cfg;
        }
        s->enter = bpf_program__attach_uprobe_opts(um->skel->progs.up_enter, -1, path, (size_t)offset, &eo);
        if (!s->enter) {
            err = -errno;
            goto err_cfg;
        }
    }
    s->used = true;
    s->gen = c.gen;
    um->used++;
    *gen = c.gen;
    return slot;
err_cfg:
    slot_unlink(s);
    memset(&c, 0, sizeof(c));
    write_cfg(um, slot, &c);
    return err ? err : -EINVAL;
}

int upmon_configure(struct upmon *um, int slot, uint32_t str_mask, bool stream)
{
    struct up_cfg c;
    uint32_t k = (uint32_t)slot;

    if (slot < 0 || slot >= OSD_UP_SLOTS || !um->slots[slot].used)
        return -EINVAL;
    if (bpf_map_lookup_elem(um->cfg_fd, &k, &c))
        return -errno;
    c.str_mask = str_mask;
    c.flags = OSD_UP_ACTIVE | (stream ? OSD_UP_STREAM : 0);
    return write_cfg(um, slot, &c);
}

int upmon_read(struct upmon *um, int slot, struct up_stats *out)
{
    struct up_stats *vals;
    uint32_t k = (uint32_t)slot;
    int err = 0;

    memset(out, 0, sizeof(*out));
    if (slot < 0 || slot >= OSD_UP_SLOTS)
        return -EINVAL;
    vals = calloc((size_t)um->ncpu, sizeof(*vals));
    if (!vals)
        return -ENOMEM;
    if (bpf_map_lookup_elem(um->stats_fd, &k, vals)) {
        err = -errno;
        goto out;
    }
    for (int c = 0; c < um->ncpu; c++) {
        out->calls += vals[c].calls;
        out->returns += vals[c].returns;
        out->total_ns += vals[c].total_ns;
        for (int b = 0; b < OSD_UP_HIST; b++)
            out->hist[b] += vals[c].hist[b];
    }
out:
    free(vals);
    return err;
}

/* In the thread pool: the kernel waits a grace period per uprobe link (~0.1 s, serialised
 * by perf's event mutex), which the loop must not. */
static void detach_run(uv_work_t *req)
{
    struct detach_work *w = (struct detach_work *)req;

    /* entry first: no new frame is pushed once its return can no longer be seen */
    bpf_link__destroy(w->enter);
    bpf_link__destroy(w->ret);
}

static void detach_done(uv_work_t *req, int status)
{
    struct detach_work *w = (struct detach_work *)req;
    struct upmon *um = w->um;
    struct up_cfg c = { 0 };
    struct up_stats final;

    (void)status;
    um->pending--;
    if (um->closing) {
        w->cb(w->arg, NULL);
        if (um->poll_closed && !um->pending)
            upmon_free(um);
    } else {
        /* the links are gone and the programs they ran have finished: these are final */
        upmon_read(um, w->slot, &final);
        write_cfg(um, w->slot, &c);
        um->slots[w->slot].used = false;
        um->used--;
        w->cb(w->arg, &final);
    }
    free(w);
}

int upmon_detach(struct upmon *um, int slot, struct up_stats *now, upmon_detached_cb cb, void *arg)
{
    struct up_cfg c, zero = { 0 };
    struct detach_work *w;
    struct upslot *s;
    uint32_t k = (uint32_t)slot;

    memset(now, 0, sizeof(*now));
    if (slot < 0 || slot >= OSD_UP_SLOTS || !um->slots[slot].used || !um->slots[slot].enter)
        return 0;
    s = &um->slots[slot];
    if (!bpf_map_lookup_elem(um->cfg_fd, &k, &c)) {
        c.flags = 0; /* counts nothing more from now on */
        write_cfg(um, slot, &c);
    }
    upmon_read(um, slot, now);
    w = calloc(1, sizeof(*w));
    if (w) {
        *w = (struct detach_work){ .um = um, .slot = slot, .enter = s->enter, .ret = s->ret, .cb = cb, .arg = arg };
        if (!uv_queue_work(um->loop, &w->req, detach_run, detach_done)) {
            s->enter = s->ret = NULL;
            um->pending++;
            return 1;
        }
        free(w);
    }
    /* no memory for the job: detach here, the loop waits */
    slot_unlink(s);
    upmon_read(um, slot, now);
    write_cfg(um, slot, &zero);
    s->used = false;
    um->used--;
    return 0;
}

uint64_t upmon_counter(struct upmon *um, enum osd_up_counter idx)
{
    uint64_t vals[um->ncpu], sum = 0;
    uint32_t k = idx;

    if (!bpf_map_lookup_elem(um->cnt_fd, &k, vals))
        for (int c = 0; c < um->ncpu; c++)
            sum += vals[c];
    return sum;
}

int upmon_slots_used(const struct upmon *um)
{
    return um ? um->used : 0;
}

uint64_t upmon_events(const struct upmon *um)
{
    return um ? um->events : 0;
}
