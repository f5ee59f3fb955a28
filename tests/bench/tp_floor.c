/* tp_floor.c - attaches empty programs to tp_btf/sys_enter and/or sys_exit (tpfloor.bpf.c),
 * prints "attached", and holds them until stdin closes: bench_syscall.py times its loop
 * meanwhile to measure the floor any syscall collector pays on this machine.
 * usage: tp_floor enter|exit|both */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tpfloor.skel.h"

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "both";
    bool enter = !strcmp(which, "enter") || !strcmp(which, "both");
    bool exit_ = !strcmp(which, "exit") || !strcmp(which, "both");
    struct tpfloor_bpf *s;
    char buf[64];
    int rc = 1;

    if (!enter && !exit_) {
        fprintf(stderr, "usage: tp_floor enter|exit|both\n");
        return 2;
    }
    s = tpfloor_bpf__open_and_load();
    if (!s) {
        perror("tp_floor: load");
        return 1;
    }
    if (enter && !bpf_program__attach(s->progs.floor_enter))
        goto out;
    if (exit_ && !bpf_program__attach(s->progs.floor_exit))
        goto out;
    printf("attached\n");
    fflush(stdout);
    while (read(0, buf, sizeof(buf)) > 0)
        ;
    rc = 0;
out:
    if (rc)
        perror("tp_floor: attach");
    tpfloor_bpf__destroy(s); /* links are not pinned: they go with the skeleton */
    return rc;
}
