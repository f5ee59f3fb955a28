"""bench_heap.py - what `heap: true` adds per malloc+free pair: the same loop timed
unwatched with no heap probes anywhere, unwatched while another process is watched with
`heap` (the probes are attached to the shared libc for every process, filtered in the
kernel), and watched with `heap`; the modes alternate in one run; prints the median ns
per pair of each and the differences.

usage (as root): OSDETD_BIN=build/daemon/osdetd python3 tests/bench/bench_heap.py \\
                     --loop build/tests/workloads/heap_loop [--pairs 1000000] [--rounds 5]"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import unittest
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from osdtest import Daemon  # noqa: E402


def wait_detached(d):
    """Probes are released when the target's handles close, just after the unwatch reply:
    the next loop must not start while they are still attached."""
    deadline = time.monotonic() + 10
    while d.call("status")["heap"]["attached"]:
        if time.monotonic() > deadline:
            raise AssertionError("heap probes still attached 10 s after the last unwatch")
        time.sleep(0.02)


def run_once(d, loop, pairs, mode, bystander):
    p = subprocess.Popen([loop, str(pairs)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    if mode == "other_watched":
        d.call("watch", {"pid": bystander.pid, "heap": True, "cpu": False, "detector": "none"})
    if mode == "watched":
        d.call("watch", {"pid": p.pid, "heap": True, "cpu": False, "detector": "none"})
    os.kill(p.pid, signal.SIGUSR1)
    ns = float(p.stdout.readline().split()[1])
    p.wait()
    if mode == "watched":
        d.call("unwatch", {"pid": p.pid})
    if mode == "other_watched":
        d.call("unwatch", {"pid": bystander.pid})
    wait_detached(d)
    return ns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", required=True)
    ap.add_argument("--pairs", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    d = Daemon()
    bystander = subprocess.Popen(["sleep", "3600"])
    try:
        res = {m: [] for m in ("unwatched", "other_watched", "watched")}
        for _ in range(a.rounds):
            for m in res:
                res[m].append(run_once(d, a.loop, a.pairs, m, bystander))
        st = d.call("status")["heap"]
    finally:
        bystander.kill()
        bystander.wait()
        d.stop(unittest.TestCase())  # Daemon.stop() asserts through a TestCase
        d.cleanup()
    med = {m: statistics.median(v) for m, v in res.items()}
    for m, v in res.items():
        print(f"{m}: median {med[m]:.1f} ns/pair (runs: {', '.join(f'{x:.0f}' for x in v)})")
    print(f"added_when_watched: {med['watched'] - med['unwatched']:.1f} ns per malloc+free pair")
    print(f"added_to_unwatched_processes: {med['other_watched'] - med['unwatched']:.1f} ns per pair")
    print(f"events_dropped: {st['events_dropped']} map_full: {st['map_full']}")


if __name__ == "__main__":
    main()
