/* collect_net.c - see collect_net.h. */
#include "collect_net.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "procmon.h"
#include "net.skel.h"

struct netmon {
    struct net_bpf *skel;
    int map_fd, full_fd;
    int users;
    bool fallback;
    struct bpf_sweep threads;
};

/* sock_send_length/sock_recv_length appeared in 6.3; look for their BTF types. */
static bool kernel_has_sock_length(void)
{
    struct btf *vm = btf__load_vmlinux_btf();
    bool ok;

    if (!vm)
        return false;
    ok = btf__find_by_name_kind(vm, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF) >= 0 &&
         btf__find_by_name_kind(vm, "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF) >= 0;
    btf__free(vm);
    return ok;
}

int netmon_env_check(char *why, size_t whylen)
{
    const char *force = getenv("OSDETD_NET_SOURCE");

    if (!force || !*force || !strcmp(force, "auto") || !strcmp(force, "sock") || !strcmp(force, "devqueue"))
        return 0;
    snprintf(why, whylen, "unknown OSDETD_NET_SOURCE '%.64s' (expected auto, sock or devqueue)", force);
    return -EINVAL;
}

/* OSDETD_NET_SOURCE: 0 and *fallback, or a negative errno with why[] filled. */
static int pick_source(bool *fallback, char *why, size_t whylen)
{
    const char *force = getenv("OSDETD_NET_SOURCE");
    bool have;
    int err = netmon_env_check(why, whylen);

    if (err)
        return err;
    have = kernel_has_sock_length();
    if (!force || !*force || !strcmp(force, "auto")) {
        *fallback = !have;
        return 0;
    }
    if (!strcmp(force, "devqueue")) {
        *fallback = true;
        return 0;
    }
    if (!have) { /* "sock" */
        snprintf(why, whylen, "OSDETD_NET_SOURCE=sock, but this kernel has no sock_send_length/"
                 "sock_recv_length tracepoints (6.3+); use devqueue or auto");
        return -ENOENT;
    }
    *fallback = false;
    return 0;
}

int netmon_open(int watched_fd, struct netmon **out, char *why, size_t whylen)
{
    struct netmon *nm = calloc(1, sizeof(*nm));
    int err;

    if (!nm)
        return -ENOMEM;
    why[0] = '\0';
    err = pick_source(&nm->fallback, why, whylen);
    if (err)
        goto err_free;
    nm->skel = net_bpf__open();
    if (!nm->skel) {
        err = -errno;
        goto err_free;
    }
    bpf_program__set_autoload(nm->skel->progs.handle_send, !nm->fallback);
    bpf_program__set_autoload(nm->skel->progs.handle_recv, !nm->fallback);
    bpf_program__set_autoload(nm->skel->progs.handle_dev_queue, nm->fallback);
    err = bpf_map__reuse_fd(nm->skel->maps.watched, watched_fd);
    if (!err)
        err = net_bpf__load(nm->skel);
    if (err)
        goto err_destroy;
    nm->map_fd = bpf_map__fd(nm->skel->maps.net);
    nm->full_fd = bpf_map__fd(nm->skel->maps.net_full);
    bpf_sweep_init(&nm->threads, bpf_map__fd(nm->skel->maps.net_threads), sizeof(struct thread_key),
                   sizeof(struct net_thread_val), OSD_NET_THREADS_MAX);
    if (nm->fallback)
        log_info("network: sock_*_length tracepoints not used; counting transmitted bytes at net_dev_queue");
    *out = nm;
    return 0;
err_destroy:
    net_bpf__destroy(nm->skel);
err_free:
    free(nm);
    return err;
}

void netmon_close(struct netmon *nm)
{
    if (!nm)
        return;
    net_bpf__destroy(nm->skel);
    bpf_sweep_free(&nm->threads);
    free(nm);
}

int netmon_use(struct netmon *nm, int delta)
{
    int err = 0;

    if (delta > 0 && nm->users++ == 0) {
        err = net_bpf__attach(nm->skel);
        if (err) {
            nm->users--;
            log_warn("network: cannot attach: %s", strerror(-err));
        }
    } else if (delta < 0 && nm->users > 0 && --nm->users == 0) {
        net_bpf__detach(nm->skel);
    }
    return err;
}

int netmon_read(struct netmon *nm, uint32_t target_id, struct net_val *out)
{
    if (bpf_map_lookup_elem(nm->map_fd, &target_id, out)) {
        memset(out, 0, sizeof(*out));
        return errno == ENOENT ? 0 : -errno;
    }
    return 0;
}

void netmon_forget(struct netmon *nm, uint32_t target_id)
{
    bpf_map_delete_elem(nm->map_fd, &target_id);
    bpf_sweep_delete(&nm->threads, target_id, NULL, 0);
}

struct bpf_sweep *netmon_threads(struct netmon *nm)
{
    return &nm->threads;
}

const char *netmon_source(const struct netmon *nm)
{
    return nm->fallback ? "net_dev_queue (transmit only)" : "sock_send_length/sock_recv_length";
}

int netmon_users(const struct netmon *nm)
{
    return nm->users;
}

uint64_t netmon_counter(struct netmon *nm, enum osd_net_counter idx)
{
    uint32_t k = idx;
    uint64_t v = 0;

    bpf_map_lookup_elem(nm->full_fd, &k, &v);
    return v;
}
