"""bench_syscall.py - what osdetd adds per syscall: the same getppid() loop timed unwatched,
watched with `syscall: true` (counting mode), and watched while a client traces it (trace
mode: every enter/exit through the ring buffer), alternating the three several times in one
run; prints the median ns per call of each and the differences. With --floor, also with empty
programs attached (tp_floor: on sys_exit only, and on both sys_enter and sys_exit): the
floor that any syscall-tracepoint collector pays on this machine before doing any work.
With --threads, two more modes: counting with `cpu: true` (which `threads` needs), and the
same with `threads: true` (per-thread syscall slots beside the per-target ones); their
difference is what the per-thread view adds per syscall. With --sample N,M..., counting
once more per N with the daemon's `syscall_latency_sample` set to N (latency measured for 1
call in N) through its configuration file and `config.reload`; with --window W:P,...,
counting once more per W:P with `syscall_latency_window_ms` W and `syscall_latency_period_ms`
P (W 0: latency timed at any moment, the enter program always attached); the other modes
run with the defaults.

usage (as root): OSDETD_BIN=build/daemon/osdetd python3 tests/bench/bench_syscall.py \\
                     --loop build/tests/bench/syscall_loop [--floor build/tests/bench/tp_floor] \\
                     [--calls 2000000] [--rounds 5] [--threads] [--sample 1,16] [--window 0:1000]"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import unittest
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from osdtest import Daemon  # noqa: E402


def set_config(d, conf, mode):
    """Latency sampling or windows of the daemon for the next run (defaults unless mode says)."""
    c = {}
    if mode.startswith("count_s"):
        c["syscall_latency_sample"] = int(mode[len("count_s"):])
    elif mode.startswith("count_w"):
        w, p = mode[len("count_w"):].split("_")
        c = {"syscall_latency_window_ms": int(w), "syscall_latency_period_ms": int(p)}
    with open(conf, "w") as f:
        json.dump(c, f)
    d.call("config.reload")


def run_once(d, loop, calls, mode, floor):
    p = subprocess.Popen([loop, str(calls)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    tracer = None
    if mode.startswith("floor_"):
        return run_floor(p, floor, mode[len("floor_"):])
    if mode != "unwatched":
        d.call("watch", {"pid": p.pid, "syscall": True, "cpu": mode in ("count_cpu", "count_threads"),
                         "threads": mode == "count_threads", "detector": "none"})
    if mode == "trace":
        tracer = socket.socket(socket.AF_UNIX)
        tracer.connect(d.socket)
        tracer.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "trace",
                                   "params": {"pid": p.pid, "syscalls": True}}).encode() + b"\n")
        f = tracer.makefile("rb")
        assert "result" in json.loads(f.readline())
        # drain the stream as a real client would
        threading.Thread(target=lambda: [None for _ in f], daemon=True).start()
    os.kill(p.pid, signal.SIGUSR1)
    ns = float(p.stdout.readline().split()[1])
    p.wait()
    if mode != "unwatched":
        d.call("unwatch", {"pid": p.pid})
    if tracer:
        tracer.close()
    return ns


def run_floor(p, floor, which):
    """Times the waiting loop p while tp_floor holds empty programs (which: exit|both)."""
    f = subprocess.Popen([floor, which], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert f.stdout.readline().strip() == "attached", "tp_floor could not attach"
        os.kill(p.pid, signal.SIGUSR1)
        ns = float(p.stdout.readline().split()[1])
        p.wait()
    finally:
        f.stdin.close()
        f.wait()
    return ns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", required=True)
    ap.add_argument("--floor", help="tp_floor binary: also time empty programs")
    ap.add_argument("--calls", type=int, default=2000000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", action="store_true", help="also time counting with cpu, and with threads: true")
    ap.add_argument("--sample", help="comma-separated N: also count with latency of 1 call in N")
    ap.add_argument("--window", help="comma-separated W:P: also count with latency windows of W ms every P ms")
    a = ap.parse_args()
    samples = [int(x) for x in a.sample.split(",")] if a.sample else []
    windows = [x.replace(":", "_") for x in a.window.split(",")] if a.window else []
    conf = os.path.join(tempfile.mkdtemp(prefix="osdbench-"), "osdetd.conf")
    with open(conf, "w") as f:
        f.write("{}")
    d = Daemon(extra_args=("--config", conf))
    try:
        # trace last: the daemon drains its backlog of events while the next run starts
        modes = ["unwatched", "count"] + [f"count_s{n}" for n in samples] + [f"count_w{w}" for w in windows]
        modes += ["count_cpu", "count_threads"] if a.threads else []
        if a.floor:
            modes += ["floor_exit", "floor_both"]
        modes.append("trace")
        res = {m: [] for m in modes}
        for _ in range(a.rounds):
            for m in res:
                if samples or windows:
                    set_config(d, conf, m)
                res[m].append(run_once(d, a.loop, a.calls, "count" if m.startswith("count_") and m[6] in "sw"
                                       else m, a.floor))
        st = d.call("status")["syscall"]
    finally:
        d.stop(unittest.TestCase())  # Daemon.stop() asserts through a TestCase
        d.cleanup()
    med = {m: statistics.median(v) for m, v in res.items()}
    for m, v in res.items():
        print(f"{m}: median {med[m]:.1f} ns/call (runs: {', '.join(f'{x:.0f}' for x in v)})")
    print(f"added_by_counting: {med['count'] - med['unwatched']:.1f} ns/call")
    for n in samples:
        print(f"added_by_counting_sample_{n}: {med[f'count_s{n}'] - med['unwatched']:.1f} ns/call")
    for w in windows:
        print(f"added_by_counting_window_{w}: {med[f'count_w{w}'] - med['unwatched']:.1f} ns/call")
    print(f"added_by_tracing: {med['trace'] - med['unwatched']:.1f} ns/call")
    for m in ("floor_exit", "floor_both"):
        if m in med:
            print(f"added_by_{m}: {med[m] - med['unwatched']:.1f} ns/call")
    # on a shared machine the least disturbed run of each mode is the steadier figure
    mins = {m: min(v) for m, v in res.items()}
    print("added_by_minima: " + ", ".join(f"{m} {mins[m] - mins['unwatched']:.0f}" for m in res if m != "unwatched")
          + f" ns/call (unwatched minimum {mins['unwatched']:.0f})")
    if a.threads:
        # the two run back to back in each round: the per-round difference cancels slow drifts
        pairs = [t - c for t, c in zip(res["count_threads"], res["count_cpu"])]
        print(f"added_by_threads: {med['count_threads'] - med['count_cpu']:.1f} ns/call "
              f"(count_threads - count_cpu); per-round differences: median {statistics.median(pairs):.1f} "
              f"({', '.join(f'{x:.0f}' for x in pairs)}); minima: count_cpu {min(res['count_cpu']):.0f}, "
              f"count_threads {min(res['count_threads']):.0f}")
    print(f"trace_events_dropped: {st['trace_dropped']}")


if __name__ == "__main__":
    main()
