/* collect_heap.c - see collect_heap.h. */
#include "collect_heap.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap.skel.h"
#include "heap_sym.h"
#include "log.h"
#include "procmon.h"

#define MAX_LIBS 8

/* Functions probed; the uretprobe program is shared by all but free. */
static const char *const funcs[OSD_HEAP_F_MAX] = {
    [OSD_HEAP_F_MALLOC] = "malloc",
    [OSD_HEAP_F_CALLOC] = "calloc",
    [OSD_HEAP_F_REALLOC] = "realloc",
    [OSD_HEAP_F_FREE] = "free",
    [OSD_HEAP_F_POSIX_MEMALIGN] = "posix_memalign",
    [OSD_HEAP_F_ALIGNED_ALLOC] = "aligned_alloc",
};
#define NLINKS (2 * OSD_HEAP_F_MAX - 1)

struct lib {
    char path[256];
    int users;
    uint32_t att_id;
    struct bpf_link *links[NLINKS];
};

/* Probes attached to one process only (heap_scope "process"). */
struct proc_att {
    uint32_t tgid, target_id, att_id;
    char path[256];
    struct bpf_link *links[NLINKS];
};

struct heapmon {
    struct heap_bpf *skel;
    int stats_fd, procs_fd, blocks_fd, stacks_fd, cnt_fd, live_fd;
    uint32_t next_att;          /* attachment ids: the probes' cookies (heap.h) */
    int retiring;               /* attachments a worker thread is still detaching */
    bool closed;                /* closed while retiring: the last job frees it */
    int ncpu;
    struct lib libs[MAX_LIBS];
    int attached;               /* libs with users */
    struct proc_att *procs;     /* per-process attachments */
    size_t nprocs, procs_cap;
    int exec_users;             /* libs and processes attached: the exec tracepoint's users */
    struct bpf_link *exec_link;
    struct ring_buffer *rb;
    uv_poll_t poll;
    heapmon_event_cb cb;
    void *cb_arg;
    struct heap_sym *sym;
    uint64_t events;
    struct bpf_sweep threads;
};

const char *heapmon_kind_name(uint32_t kind)
{
    switch (kind) {
    case OSD_HEAP_FREE_UNKNOWN: return "free-unknown";
    case OSD_HEAP_DOUBLE_FREE: return "double-free";
    case OSD_HEAP_REALLOC_UNKNOWN: return "realloc-unknown";
    case OSD_HEAP_REALLOC_FREED: return "realloc-freed";
    case OSD_HEAP_ZERO_SIZE: return "zero-size";
    default: return "heap-misuse";
    }
}

static int on_event(void *ctx, void *data, size_t len)
{
    struct heapmon *hm = ctx;
    const struct heap_event *ev = data;
    uint64_t frames[OSD_HEAP_STACK_DEPTH] = { 0 }, ips[OSD_HEAP_STACK_DEPTH + 1] = { 0 };
    char stack[384] = "";
    size_t n = 0;

    if (len < sizeof(*ev))
        return 0;
    hm->events++;
    if (ev->stack_id >= 0) {
        uint32_t id = (uint32_t)ev->stack_id;
        if (bpf_map_lookup_elem(hm->stacks_fd, &id, frames))
            memset(frames, 0, sizeof(frames));
    }
    /* an entry probe's frame-pointer chain lacks the immediate caller: put it back */
    if (frames[0])
        ips[n++] = frames[0];
    if (ev->caller && ev->caller != frames[1])
        ips[n++] = ev->caller;
    for (int i = 1; i < OSD_HEAP_STACK_DEPTH && frames[i] && n < OSD_HEAP_STACK_DEPTH; i++)
        ips[n++] = frames[i];
    if (n)
        heap_sym_stack(hm->sym, (pid_t)ev->tgid, ips, n, stack, sizeof(stack));
    hm->cb(hm->cb_arg, ev, stack);
    return 0;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    struct heapmon *hm = h->data;

    (void)events;
    if (status == 0)
        ring_buffer__consume(hm->rb);
}

int heapmon_open(uv_loop_t *loop, int watched_fd, heapmon_event_cb cb, void *arg, struct heapmon **out)
{
    struct heapmon *hm = calloc(1, sizeof(*hm));
    int err;

    if (!hm)
        return -ENOMEM;
    hm->cb = cb;
    hm->cb_arg = arg;
    hm->ncpu = libbpf_num_possible_cpus();
    if (hm->ncpu <= 0) {
        err = hm->ncpu ? hm->ncpu : -EINVAL;
        goto err_free;
    }
    err = heap_sym_open(&hm->sym);
    if (err)
        goto err_free;
    hm->skel = heap_bpf__open();
    if (!hm->skel) {
        err = -errno;
        goto err_sym;
    }
    err = bpf_map__reuse_fd(hm->skel->maps.watched, watched_fd);
    if (!err)
        err = heap_bpf__load(hm->skel);
    if (err)
        goto err_destroy;
    hm->stats_fd = bpf_map__fd(hm->skel->maps.heap_stats);
    hm->procs_fd = bpf_map__fd(hm->skel->maps.heap_procs);
    hm->blocks_fd = bpf_map__fd(hm->skel->maps.heap_blocks);
    hm->stacks_fd = bpf_map__fd(hm->skel->maps.heap_stacks);
    hm->cnt_fd = bpf_map__fd(hm->skel->maps.heap_counters);
    hm->live_fd = bpf_map__fd(hm->skel->maps.heap_live);
    bpf_sweep_init(&hm->threads, bpf_map__fd(hm->skel->maps.heap_threads), sizeof(struct thread_key),
                   sizeof(struct heap_thread_val), OSD_HEAP_THREADS);
    hm->rb = ring_buffer__new(bpf_map__fd(hm->skel->maps.heap_events), on_event, hm, NULL);
    if (!hm->rb) {
        err = -ENOMEM;
        goto err_destroy;
    }
    err = uv_poll_init(loop, &hm->poll, ring_buffer__epoll_fd(hm->rb));
    if (err)
        goto err_rb;
    hm->poll.data = hm;
    uv_poll_start(&hm->poll, UV_READABLE, on_readable);
    *out = hm;
    return 0;
err_rb:
    ring_buffer__free(hm->rb);
err_destroy:
    heap_bpf__destroy(hm->skel);
err_sym:
    heap_sym_close(hm->sym);
err_free:
    free(hm);
    return err;
}

static void links_destroy(struct bpf_link **links)
{
    for (int i = 0; i < NLINKS; i++) {
        bpf_link__destroy(links[i]);
        links[i] = NULL;
    }
}

static void lib_detach(struct lib *l)
{
    links_destroy(l->links);
}

static void on_poll_closed(uv_handle_t *h)
{
    struct heapmon *hm = h->data;

    ring_buffer__free(hm->rb);
    heap_bpf__destroy(hm->skel);
    heap_sym_close(hm->sym);
    bpf_sweep_free(&hm->threads);
    if (hm->retiring)
        hm->closed = true; /* links_job_done frees it after the last job */
    else
        free(hm);
}

void heapmon_close(struct heapmon *hm)
{
    if (!hm)
        return;
    for (int i = 0; i < MAX_LIBS; i++)
        lib_detach(&hm->libs[i]);
    for (size_t i = 0; i < hm->nprocs; i++)
        links_destroy(hm->procs[i].links);
    free(hm->procs);
    hm->procs = NULL;
    hm->nprocs = 0;
    bpf_link__destroy(hm->exec_link);
    hm->exec_link = NULL;
    uv_close((uv_handle_t *)&hm->poll, on_poll_closed);
}

int heapmon_find_libc(pid_t pid, char *libc, size_t len)
{
    char path[64], line[512];
    FILE *f;
    int err = -ENOENT;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? -ESRCH : -errno;
    while (fgets(line, sizeof(line), f)) {
        char *p = strchr(line, '/'), *base;

        if (!p)
            continue;
        p[strcspn(p, "\n")] = '\0';
        base = strrchr(p, '/') + 1;
        if (!strcmp(base, "libc.so.6") || (!strncmp(base, "libc-", 5) && strstr(base, ".so"))) {
            snprintf(libc, len, "%s", p);
            err = 0;
            break;
        }
    }
    fclose(f);
    return err;
}

static struct lib *lib_find(struct heapmon *hm, const char *libc)
{
    for (int i = 0; i < MAX_LIBS; i++)
        if (hm->libs[i].users && !strcmp(hm->libs[i].path, libc))
            return &hm->libs[i];
    return NULL;
}

/* Destroying a uprobe link waits for the kernel to retire the probe (~0.1-0.2 s each
 * here): a worker thread does it, so the loop never waits. The probes' attachment id left
 * `heap_live` first, so they count nothing meanwhile. */
struct links_job {
    uv_work_t req;
    struct heapmon *hm;
    struct bpf_link *links[NLINKS];
};

static void links_job_run(uv_work_t *req)
{
    links_destroy(((struct links_job *)req->data)->links);
}

static void links_job_done(uv_work_t *req, int status)
{
    struct links_job *j = req->data;

    (void)status;
    if (--j->hm->retiring == 0 && j->hm->closed)
        free(j->hm);
    free(j);
}

static void links_retire(struct heapmon *hm, uint32_t att_id, struct bpf_link **links)
{
    struct links_job *j = malloc(sizeof(*j));

    bpf_map_delete_elem(hm->live_fd, &att_id);
    if (j) {
        memcpy(j->links, links, sizeof(j->links));
        j->req.data = j;
        j->hm = hm;
        if (!uv_queue_work(hm->poll.loop, &j->req, links_job_run, links_job_done)) {
            memset(links, 0, sizeof(j->links));
            hm->retiring++;
            return;
        }
        free(j);
    }
    links_destroy(links); /* no memory or no worker: on the loop after all */
}

/* A fresh attachment id; tree: for probes on a shared libc. Made live in the kernel
 * before any probe carrying it is attached. */
static int att_new(struct heapmon *hm, bool tree, uint32_t *id)
{
    __u8 one = 1;

    hm->next_att = hm->next_att % (OSD_HEAP_ATT_TREE - 1) + 1;
    *id = hm->next_att | (tree ? OSD_HEAP_ATT_TREE : 0);
    return bpf_map_update_elem(hm->live_fd, id, &one, BPF_ANY) ? -errno : 0;
}

/* Attaches every probe to path for pid (-1: every process mapping it), each carrying the
 * attachment id as its cookie; all or none. */
static int links_attach(struct heapmon *hm, const char *path, pid_t pid, uint32_t att_id, struct bpf_link **links)
{
    struct bpf_program *entry[OSD_HEAP_F_MAX] = {
        hm->skel->progs.heap_malloc, hm->skel->progs.heap_calloc,        hm->skel->progs.heap_realloc,
        hm->skel->progs.heap_free,   hm->skel->progs.heap_posix_memalign, hm->skel->progs.heap_aligned_alloc,
    };
    int k = 0;

    for (int f = 0; f < OSD_HEAP_F_MAX; f++) {
        for (int ret = 0; ret < 2; ret++) {
            LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = funcs[f], .retprobe = ret, .bpf_cookie = att_id);
            struct bpf_program *prog = ret ? hm->skel->progs.heap_alloc_ret : entry[f];

            if (ret && f == OSD_HEAP_F_FREE)
                continue;
            links[k] = bpf_program__attach_uprobe_opts(prog, pid, path, 0, &o);
            if (!links[k]) {
                int err = -errno;
                log_warn("heap: cannot attach %s%s in %s (pid %d): %s", ret ? "uretprobe " : "uprobe ", funcs[f],
                         path, (int)pid, strerror(-err));
                links_destroy(links);
                return err ? err : -EINVAL;
            }
            k++;
        }
    }
    return 0;
}

/* The exec tracepoint runs while any probe is attached. */
static int exec_get(struct heapmon *hm)
{
    if (hm->exec_users++ > 0)
        return 0;
    /* calls entered under an earlier attach may never have returned through us */
    hm->skel->bss->heap_gen++;
    hm->exec_link = bpf_program__attach(hm->skel->progs.heap_exec);
    if (!hm->exec_link) {
        int err = -errno;
        hm->exec_users--;
        log_warn("heap: cannot attach the exec tracepoint: %s", strerror(-err));
        return err ? err : -EINVAL;
    }
    return 0;
}

static void exec_put(struct heapmon *hm)
{
    if (hm->exec_users > 0 && --hm->exec_users == 0) {
        bpf_link__destroy(hm->exec_link);
        hm->exec_link = NULL;
    }
}

int heapmon_use(struct heapmon *hm, const char *libc)
{
    struct lib *l = lib_find(hm, libc);
    int err;

    if (l) {
        l->users++;
        return 0;
    }
    for (int i = 0; i < MAX_LIBS && !l; i++)
        if (!hm->libs[i].users)
            l = &hm->libs[i];
    if (!l)
        return -EMFILE;
    if ((err = exec_get(hm)))
        return err;
    snprintf(l->path, sizeof(l->path), "%s", libc);
    /* pid -1: every process mapping this libc; `watched` filters in the kernel, so forked
     * children of a target are covered without re-attaching */
    err = att_new(hm, true, &l->att_id);
    if (!err)
        err = links_attach(hm, l->path, -1, l->att_id, l->links);
    if (err) {
        bpf_map_delete_elem(hm->live_fd, &l->att_id);
        exec_put(hm);
        return err;
    }
    l->users = 1;
    hm->attached++;
    /* the probes are on the shared file: every process using it pays the traps */
    log_warn("heap: probes attached to %s: while any target collects `heap`, every process on this machine "
             "that uses this libc pays ~4 us per malloc/free (see docs/PERFORMANCE.md)", libc);
    return 0;
}

void heapmon_release(struct heapmon *hm, const char *libc)
{
    struct lib *l = lib_find(hm, libc);

    if (!l || --l->users > 0)
        return;
    links_retire(hm, l->att_id, l->links);
    log_info("heap: probes detached from %s", l->path);
    l->path[0] = '\0';
    hm->attached--;
    exec_put(hm);
}

static struct proc_att *proc_find(struct heapmon *hm, uint32_t tgid)
{
    for (size_t i = 0; i < hm->nprocs; i++)
        if (hm->procs[i].tgid == tgid)
            return &hm->procs[i];
    return NULL;
}

int heapmon_attach_pid(struct heapmon *hm, uint32_t tgid, uint32_t target_id)
{
    struct proc_att *p;
    char libc[256];
    int err;

    if (proc_find(hm, tgid))
        return 0;
    if ((err = heapmon_find_libc((pid_t)tgid, libc, sizeof(libc))))
        return err;
    if (hm->nprocs == hm->procs_cap) {
        size_t nc = hm->procs_cap ? hm->procs_cap * 2 : 16;
        struct proc_att *np = realloc(hm->procs, nc * sizeof(*np));
        if (!np)
            return -ENOMEM;
        hm->procs = np;
        hm->procs_cap = nc;
    }
    p = &hm->procs[hm->nprocs];
    memset(p, 0, sizeof(*p));
    p->tgid = tgid;
    p->target_id = target_id;
    snprintf(p->path, sizeof(p->path), "%s", libc);
    if ((err = exec_get(hm)))
        return err;
    /* the kernel plants the breakpoints in this process's memory only: others never trap */
    err = att_new(hm, false, &p->att_id);
    if (!err)
        err = links_attach(hm, p->path, (pid_t)tgid, p->att_id, p->links);
    if (err) {
        bpf_map_delete_elem(hm->live_fd, &p->att_id);
        exec_put(hm);
        return err;
    }
    hm->nprocs++;
    return 0;
}

void heapmon_detach_pid(struct heapmon *hm, uint32_t tgid)
{
    struct proc_att *p = proc_find(hm, tgid);

    if (!p)
        return;
    links_retire(hm, p->att_id, p->links);
    *p = hm->procs[--hm->nprocs];
    exec_put(hm);
}

void heapmon_detach_target(struct heapmon *hm, uint32_t target_id)
{
    for (size_t i = hm->nprocs; i-- > 0;)
        if (hm->procs[i].target_id == target_id)
            heapmon_detach_pid(hm, hm->procs[i].tgid);
}

int heapmon_read(struct heapmon *hm, uint32_t tgid, struct heap_val *out)
{
    struct heap_val vals[hm->ncpu];

    memset(out, 0, sizeof(*out));
    if (bpf_map_lookup_elem(hm->stats_fd, &tgid, vals))
        return errno == ENOENT ? 0 : -errno;
    for (int c = 0; c < hm->ncpu; c++) {
        out->allocs += vals[c].allocs;
        out->frees += vals[c].frees;
        out->alloc_bytes += vals[c].alloc_bytes;
        out->free_bytes += vals[c].free_bytes;
        out->calls += vals[c].calls;
        out->misuse += vals[c].misuse;
        out->untracked += vals[c].untracked;
    }
    return 0;
}

/* Deletes every outstanding block of tgid: one pass over the map in batches. */
static void forget_blocks(struct heapmon *hm, uint32_t tgid)
{
    const size_t chunk = 4096;
    struct heap_key *keys = calloc(chunk, sizeof(*keys)), *del = NULL;
    struct heap_block *vals = calloc(chunk, sizeof(*vals));
    uint64_t in_tok = 0, out_tok = 0;
    size_t ndel = 0, cap = 0;
    int first = 1;

    if (!keys || !vals)
        goto out;
    for (;;) {
        __u32 count = (__u32)chunk;
        DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
        int err = bpf_map_lookup_batch(hm->blocks_fd, first ? NULL : &in_tok, &out_tok, keys, vals, &count, &opts);

        if (err && errno != ENOENT)
            break;
        for (__u32 i = 0; i < count; i++) {
            if (keys[i].tgid != tgid)
                continue;
            if (ndel == cap) {
                size_t nc = cap ? cap * 2 : 1024;
                struct heap_key *nd = realloc(del, nc * sizeof(*nd));
                if (!nd)
                    goto out;
                del = nd;
                cap = nc;
            }
            del[ndel++] = keys[i];
        }
        if (err)
            break;
        in_tok = out_tok;
        first = 0;
    }
    for (size_t i = 0; i < ndel; i++)
        bpf_map_delete_elem(hm->blocks_fd, &del[i]);
out:
    free(del);
    free(keys);
    free(vals);
}

void heapmon_forget(struct heapmon *hm, uint32_t tgid, int had_blocks)
{
    bpf_map_delete_elem(hm->stats_fd, &tgid);
    bpf_map_delete_elem(hm->procs_fd, &tgid);
    if (had_blocks)
        forget_blocks(hm, tgid);
}

struct bpf_sweep *heapmon_threads(struct heapmon *hm)
{
    return &hm->threads;
}

void heapmon_forget_threads(struct heapmon *hm, uint32_t target_id)
{
    bpf_sweep_delete(&hm->threads, target_id, NULL, 0);
}

uint64_t heapmon_counter(struct heapmon *hm, enum osd_heap_counter idx)
{
    uint64_t vals[hm->ncpu], sum = 0;
    uint32_t k = idx;

    if (!bpf_map_lookup_elem(hm->cnt_fd, &k, vals))
        for (int c = 0; c < hm->ncpu; c++)
            sum += vals[c];
    return sum;
}

static size_t map_entries(int fd, size_t key_size)
{
    char key[32], next[32];
    size_t n = 0;
    void *prev = NULL;

    /* a walk over keys only: status is rare, and this keeps no scratch buffer */
    while (key_size <= sizeof(key) && !bpf_map_get_next_key(fd, prev, next)) {
        memcpy(key, next, key_size);
        prev = key;
        n++;
    }
    return n;
}

json_t *heapmon_status(struct heapmon *hm)
{
    json_t *libs = json_array();

    for (int i = 0; i < MAX_LIBS; i++)
        if (hm->libs[i].users)
            json_array_append_new(libs, json_pack("{s:s, s:i}", "path", hm->libs[i].path, "targets",
                                                  hm->libs[i].users));
    return json_pack("{s:b, s:o, s:I, s:I, s:I, s:i, s:I, s:I, s:I, s:I}", "attached", hm->exec_users > 0, "libc", libs,
                     "processes", (json_int_t)hm->nprocs, "retiring", (json_int_t)hm->retiring,
                     "outstanding", (json_int_t)map_entries(hm->blocks_fd, sizeof(struct heap_key)),
                     "outstanding_max", OSD_HEAP_BLOCKS, "map_full",
                     (json_int_t)heapmon_counter(hm, OSD_HEAP_CNT_BLOCKS_FULL), "procs_full",
                     (json_int_t)heapmon_counter(hm, OSD_HEAP_CNT_PROCS_FULL), "events",
                     (json_int_t)hm->events, "events_dropped", (json_int_t)heapmon_counter(hm, OSD_HEAP_CNT_DROPS));
}
