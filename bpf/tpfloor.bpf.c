// SPDX-License-Identifier: GPL-2.0
/* tpfloor.bpf.c - empty programs on the syscall tracepoints, for tests/bench/tp_floor: what
 * any syscall collector pays before doing any work (the kernel's syscall-tracepoint slow
 * path and the BPF dispatch), measured beside the real collector in the same run. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_enter, struct pt_regs *regs, long id)
{
    return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
    return 0;
}
