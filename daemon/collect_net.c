/* collect_net.c - see collect_net.h. */
#include "collect_net.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net.skel.h"

struct netmon {
    struct net_bpf *skel;
    int map_fd, full_fd;
    int users;
    bool fallback;
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

int netmon_open(int watched_fd, struct netmon **out)
{
    struct netmon *nm = calloc(1, sizeof(*nm));
    const char *force = getenv("OSDETD_NET_SOURCE");
    int err;

    if (!nm)
        return -ENOMEM;
    nm->skel = net_bpf__open();
    if (!nm->skel) {
        err = -errno;
        goto err_free;
    }
    nm->fallback = (force && !strcmp(force, "devqueue")) || !kernel_has_sock_length();
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
}

const char *netmon_source(const struct netmon *nm)
{
    return nm->fallback ? "net_dev_queue (transmit only)" : "sock_send_length/sock_recv_length";
}

int netmon_users(const struct netmon *nm)
{
    return nm->users;
}

uint64_t netmon_full(struct netmon *nm)
{
    uint32_t k = 0;
    uint64_t v = 0;

    bpf_map_lookup_elem(nm->full_fd, &k, &v);
    return v;
}
