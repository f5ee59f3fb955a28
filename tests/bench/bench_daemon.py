"""bench_daemon.py - figures of the running daemon for docs/PERFORMANCE.md: time from
start to an answered `status` (BPF loaded and attached, socket listening), the daemon's RSS
idle / with one target / with 1,000 targets, its own CPU use while sampling them, and the
error of the BPF CPU figure against /proc/PID/stat over the same span.

usage (as root, from the build tree's environment):
  OSDETD_BIN=build/daemon/osdetd OSD_WORKLOADS=build/tests/workloads \\
      python3 tests/bench/bench_daemon.py [--runs 5]
Prints one "name: value" line per figure."""
import argparse
import os
import statistics
import sys
import unittest
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import osdtest  # noqa: E402
from osdtest import Daemon, Workload, cpu_seconds, proc_cpu_s, wait_until  # noqa: E402


def rss_mib(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_s(pid):
    return proc_cpu_s(pid)


def startup(runs):
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        d = Daemon()
        times.append(time.monotonic() - t0)
        d.stop(unittest.TestCase())  # Daemon.stop() asserts through a TestCase
        d.cleanup()
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    t = startup(args.runs)
    print(f"start_to_ready_ms: median {statistics.median(t) * 1e3:.0f} (min {min(t) * 1e3:.0f}, "
          f"max {max(t) * 1e3:.0f}, {args.runs} runs)")

    d = Daemon()
    try:
        time.sleep(1)
        print(f"rss_idle_mib: {rss_mib(d.pid):.1f}")
        # one target, sampled every second for 30 s
        w = Workload("cpu_phases", "--busy-ms", 3000, "--idle-ms", 2000, "--cycles", 3, "--start-idle-ms", 2000,
                     nice=osdtest.BUSY_NICE)
        w.wait_for("phase", "idle", timeout=10)
        time.sleep(0.5)
        t_proc0 = proc_cpu_s(w.pid)
        t0 = time.time()
        d.call("watch", {"pid": w.pid, "interval_ms": 200})
        c0 = cpu_s(d.pid)
        w.wait_for("phase", "idle", count=4, timeout=60)  # the final idle phase
        time.sleep(1.0)
        t_proc1 = proc_cpu_s(w.pid)
        t1 = time.time()
        c1 = cpu_s(d.pid)
        pts = d.series(w.pid, "cpu")
        bpf = cpu_seconds(pts, t0, t1)
        proc = t_proc1 - t_proc0
        print(f"rss_one_target_mib: {rss_mib(d.pid):.1f} (after {len(pts)} points at 200 ms)")
        print(f"cpu_crosscheck: bpf {bpf:.3f} s vs /proc {proc:.3f} s, error {abs(bpf - proc) / proc * 100:.2f} %")
        print(f"daemon_cpu_one_target_200ms: {(c1 - c0) / (t1 - t0) * 100:.2f} % of one core")
        w.wait_exit(timeout=30)
        w.kill()

        sl = Workload("sleepers", "--count", 1000)
        sl.wait_for("ready", timeout=60)
        pids = [int(x[1]) for x in sl.find("child")]
        t0 = time.monotonic()
        for pid in pids:
            d.call("watch", {"pid": pid, "children": False})
        print(f"watch_1000_s: {time.monotonic() - t0:.2f}")
        time.sleep(5)
        c0, t0 = cpu_s(d.pid), time.monotonic()
        time.sleep(20)
        c1, t1 = cpu_s(d.pid), time.monotonic()
        st = d.call("status")
        print(f"daemon_cpu_1000_targets_1s: {(c1 - c0) / (t1 - t0) * 100:.2f} % of one core")
        print(f"rss_1000_targets_mib: {rss_mib(d.pid):.1f} (series allocated {st['memory']['series_bytes'] / 2**20:.1f} "
              f"MiB, bound {st['memory']['series_capacity_bytes'] / 2**20:.0f} MiB)")
        sl.kill()
    finally:
        d.stop(unittest.TestCase())  # Daemon.stop() asserts through a TestCase
        d.cleanup()


if __name__ == "__main__":
    main()
