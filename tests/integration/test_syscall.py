"""test_syscall.py - syscall collection: the `syscalls` workload, watched with syscall: true
before its loop, makes exactly N getppid() calls and N open() calls that fail with ENOENT; the
`syscalls` method must count exactly those, the `syscall` series must hold at least 2N calls
and N errors, and `osdctl trace PID --syscalls` must show a short run's syscalls in order
(each exit after its enter, times never going back, the errno of the failures), as JSON and
as text, without timing out while it waits. status.syscall reports trace drops. With the
default latency windows, a busy loop watched for a few seconds still gets latency
percentiles, the enter program is attached only part of the time, and all the time while
the target is traced."""
import json
import os
import re
import signal
import tempfile
import subprocess
import threading
import time

import osdtest
from osdtest import OsdTestCase, report, wait_until

INTERVAL_MS = 200
N = 5000
TRACE_N = 20
TRACE_FAILS = 3


class Trace:
    """osdctl trace PID --syscalls running in the background; its stdout lines collected."""

    def __init__(self, tc, d, pid, *extra):
        self.proc = subprocess.Popen([osdtest.OSDCTL_BIN, "--socket", d.socket, "--timeout", "1", "trace", str(pid),
                                      "--syscalls", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        tc.addCleanup(self.kill)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def stop(self):
        """SIGINT; returns (exit status, stderr)."""
        self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        return rc, self.proc.stderr.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class Syscall(OsdTestCase):
    def setUp(self):
        if not osdtest.OSDCTL_BIN or not os.access(osdtest.OSDCTL_BIN, os.X_OK):
            raise AssertionError(f"OSDCTL_BIN is not an executable: {osdtest.OSDCTL_BIN!r}")

    def osdctl(self, d, *args):
        return self.run_osdctl(d, *args).stdout

    def watch_before_start(self, d, *args):
        w = self.start_workload("syscalls", *args, "--start-delay-ms", 30000)
        w.wait_for("ready", timeout=10)
        target = d.call("watch", {"pid": w.pid, "syscall": True, "interval_ms": INTERVAL_MS})["target"]
        opts = target["options"]
        self.assertEqual((opts.get("cpu"), opts.get("mem"), opts.get("syscall")), (False, False, True),
                         f"watch with only syscall:true: expected (cpu, mem, syscall) = (False, False, True), "
                         f"got {opts}")
        self.assertEqual(w.find("start"), [], "the workload started before the watch")
        return w

    def test_counts(self):
        # windows off: the short loop's calls are timed whenever they run (test_latency_windows
        # covers the default windows)
        tmp = tempfile.TemporaryDirectory(prefix="osdit-conf-")
        self.addCleanup(tmp.cleanup)
        conf = os.path.join(tmp.name, "osdetd.conf")
        with open(conf, "w") as f:
            json.dump({"syscall_latency_window_ms": 0}, f)
        d = self.start_daemon(interval_ms=INTERVAL_MS, extra_args=["--config", conf])
        w = self.watch_before_start(d, "--getppid", N, "--fail-open", N, "--linger-ms", 3000)
        os.kill(w.pid, signal.SIGUSR1)
        done = w.wait_for("done", timeout=30)
        self.assertEqual((int(done[2]), int(done[3])), (N, N), f"the workload's own counts: {w.output()}")

        def by_name():
            return {s["name"]: s for s in d.call("syscalls", {"pid": w.pid})["syscalls"]}
        # The totals may trail the loop by an interval; the workload lingers meanwhile.
        wait_until(lambda: by_name().get("getppid", {}).get("count", 0) >= N, 10, f"{N} getppid calls counted")
        res = d.call("syscalls", {"pid": w.pid})
        calls = res["syscalls"]
        names = by_name()
        g = names["getppid"]
        report("syscall_counts", getppid=g["count"], getppid_p50_ns=g["p50_ns"], getppid_p99_ns=g["p99_ns"])
        self.assertEqual(g["count"], N, f"getppid count: expected exactly {N}, got {g}")
        self.assertEqual(g["errors"], 0, f"getppid never fails: {g}")
        failed_opens = sum(names.get(n, {}).get("errors", 0) for n in ("open", "openat"))
        self.assertEqual(failed_opens, N, f"open/openat errors: expected exactly {N}, got "
                         f"{[names.get(n) for n in ('open', 'openat')]}")
        for s in calls:
            for k in ("nr", "name", "count", "errors", "total_ns", "avg_ns", "p50_ns", "p99_ns"):
                self.assertIn(k, s, f"syscalls entry lacks {k}: {s}")
            self.assertLessEqual(s["errors"], s["count"], f"more errors than calls: {s}")
            self.assertLessEqual(s["p50_ns"], s["p99_ns"], f"p50 above p99: {s}")
        self.assertGreater(g["total_ns"], 0, f"getppid took no time: {g}")
        self.assertAlmostEqual(g["avg_ns"], g["total_ns"] / g["count"], delta=1 + g["avg_ns"] * 1e-6,
                               msg=f"avg_ns is total_ns / count: {g}")
        self.assertEqual([s["count"] for s in calls], sorted((s["count"] for s in calls), reverse=True),
                         "syscalls are sorted by count by default")
        by_time = d.call("syscalls", {"pid": w.pid, "sort": "time", "limit": 2})["syscalls"]
        self.assertEqual(len(by_time), 2, "limit 2")
        self.assertGreaterEqual(by_time[0]["total_ns"], by_time[1]["total_ns"], "sort time: most total time first")

        out = self.osdctl(d, "syscalls", w.pid, "--limit", 3)
        self.assertTrue(out.startswith("NAME "), f"osdctl syscalls table header: {out}")
        row = [x.split() for x in out.splitlines() if x.split()[:1] == ["getppid"]]
        self.assertTrue(row and row[0][1] == str(N) and row[0][2] == "0",
                        f"osdctl syscalls: expected 'getppid {N} 0 ...', got:\n{out}")
        js = json.loads(self.osdctl(d, "syscalls", w.pid, "--json"))
        self.assertEqual(js["syscalls"], calls, "osdctl syscalls --json is the daemon's reply")

        self.assertEqual(w.wait_exit(timeout=15), 0, f"syscalls workload failed: {w.output()}")
        wait_until(lambda: [t for t in d.call("list")["targets"] if t["pid"] == w.pid and t["state"] == "exited"],
                   10, "the target to be reported exited")
        pts = d.series(w.pid, "syscall")
        self.assertTrue(pts, "no syscall points")
        self.assertEqual(list(pts[0].keys()), ["time", "rate", "error_rate", "p50_ns", "p99_ns", "calls", "errors"],
                         "syscall series columns")
        total_calls = sum(p["calls"] for p in pts)
        total_errors = sum(p["errors"] for p in pts)
        report("syscall_series", calls=total_calls, errors=total_errors, points=len(pts))
        self.assertGreaterEqual(total_calls, 2 * N, f"the syscall series counts {total_calls} calls, fewer than the "
                                f"{2 * N} the loop made")
        self.assertGreaterEqual(total_errors, N, f"the syscall series counts {total_errors} errors, fewer than the "
                                f"{N} failed opens")
        busiest = max(pts, key=lambda p: p["calls"])
        self.assertAlmostEqual(busiest["rate"], busiest["calls"] * 1000 / INTERVAL_MS,
                               delta=0.2 * busiest["rate"] + 1,
                               msg=f"rate is calls per second of the interval: {busiest}")

    def enter_links(self, d, seconds):
        """How many BPF links the daemon holds, probed every few ms for seconds: the enter
        program's link comes and goes with the latency windows."""
        seen = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            seen.append(len(osdtest.bpf_fds_of(d.pid)[1]))
            time.sleep(0.002)
        return seen

    def test_latency_windows(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        cfg = d.call("config.get")["config"]
        self.assertEqual((cfg.get("syscall_latency_window_ms"), cfg.get("syscall_latency_period_ms")), (50, 1000),
                         f"default latency windows: expected 50 ms every 1000 ms, got {cfg}")
        w = self.start_workload("syscalls", "--getppid", 10 ** 10, "--fail-open", 0, "--max-s", 30)
        w.wait_for("start", timeout=10)
        d.call("watch", {"pid": w.pid, "syscall": True, "interval_ms": INTERVAL_MS, "detector": "none"})
        seen = self.enter_links(d, 3.2)
        lo, hi = min(seen), max(seen)
        in_window = sum(x == hi for x in seen) / len(seen)
        report("syscall_latency_windows", probes=len(seen), enter_attached_pct=round(100 * in_window, 1))
        self.assertEqual(hi - lo, 1, f"the enter link should come and go with the windows: link counts seen "
                         f"{sorted(set(seen))}")
        self.assertLess(in_window, 0.5, f"windows of 50 ms every 1000 ms: the enter link was attached in "
                        f"{100 * in_window:.0f} % of {len(seen)} probes, expected about 5 %")
        g = {s["name"]: s for s in d.call("syscalls", {"pid": w.pid})["syscalls"]}.get("getppid", {})
        report("syscall_windowed_latency", count=g.get("count"), p50_ns=g.get("p50_ns"), p99_ns=g.get("p99_ns"),
               avg_ns=g.get("avg_ns"))
        self.assertGreater(g.get("count", 0), 100000, f"a busy getppid loop for 3 s: {g}")
        self.assertGreater(g["p50_ns"], 0, f"p50_ns of a busy loop watched 3 s with latency windows: {g}")
        self.assertGreaterEqual(g["p99_ns"], g["p50_ns"], f"p99 below p50: {g}")
        self.assertTrue(0 < g["avg_ns"] < 1e6, f"avg_ns (sampled mean) of getppid: expected in (0, 1 ms), got {g}")
        pts = d.series(w.pid, "syscall")
        timed = [p for p in pts if p["p50_ns"] > 0]
        report("syscall_windowed_series", points=len(pts), with_latency=len(timed))
        self.assertGreaterEqual(len(timed), 2, f"3 s of windows every 1 s: expected at least 2 series points "
                                f"with p50_ns > 0, got {len(timed)} of {len(pts)}: {pts}")

        # a trace needs every enter: the link stays while any target is traced (a quiet one
        # here: a client cannot keep up with the busy loop's stream and is dropped)
        q = self.start_workload("syscalls", "--getppid", 1, "--fail-open", 0, "--start-delay-ms", 30000)
        q.wait_for("ready", timeout=10)
        d.call("watch", {"pid": q.pid, "syscall": True, "interval_ms": INTERVAL_MS, "detector": "none"})
        tr = Trace(self, d, q.pid, "--json")
        wait_until(lambda: d.call("status").get("syscall", {}).get("tracing", 0) >= 1, 10,
                   "status.syscall.tracing to count the trace")
        wait_until(lambda: len(osdtest.bpf_fds_of(d.pid)[1]) == hi, 5, "the enter link attached for the trace")
        traced = self.enter_links(d, 1.5)
        self.assertEqual(set(traced), {hi}, f"while tracing the enter link must stay attached: link counts "
                         f"{sorted(set(traced))}, expected only {hi}")
        rc, err = tr.stop()
        self.assertEqual(rc, 0, f"osdctl trace after SIGINT: expected exit 0, got {rc}; stderr:\n{err}")

    def test_trace_order(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.watch_before_start(d, "--getppid", TRACE_N, "--fail-open", TRACE_FAILS, "--linger-ms", 200)
        tr = Trace(self, d, w.pid, "--json")
        wait_until(lambda: d.call("status").get("syscall", {}).get("tracing", 0) >= 1, 10,
                   "status.syscall.tracing to count the trace")
        time.sleep(1.5)  # longer than osdctl's --timeout 1: waiting for events must not time out
        self.assertIsNone(tr.proc.poll(), f"osdctl trace exited while waiting for events: "
                          f"{tr.proc.poll()} {tr.snapshot()}")
        os.kill(w.pid, signal.SIGUSR1)
        self.assertEqual(w.wait_exit(timeout=15), 0, f"syscalls workload failed: {w.output()}")

        def parsed():
            return [json.loads(x) for x in tr.snapshot()]

        def fail_exits():
            return [e for e in parsed() if e.get("event") == "exit" and e.get("name") in ("open", "openat")
                    and e.get("ret") == -2]
        wait_until(lambda: len(fail_exits()) >= TRACE_FAILS, 10, f"{TRACE_FAILS} failed openat exits traced")
        rc, err = tr.stop()
        self.assertEqual(rc, 0, f"osdctl trace after SIGINT: expected exit 0, got {rc}; stderr:\n{err}")
        events = [e for e in parsed() if "event" in e]
        self.assertTrue(all(e["pid"] == w.pid for e in events), "every event names the target")
        times = [e["time"] for e in events]
        self.assertEqual(times, sorted(times), "trace events must come in time order")
        gp = [e for e in events if e.get("name") == "getppid"]
        kinds = [e["event"] for e in gp]
        self.assertEqual(kinds, ["enter", "exit"] * TRACE_N,
                         f"expected {TRACE_N} getppid enters, each followed by its exit; got {kinds}")
        for enter, leave in zip(gp[0::2], gp[1::2]):
            self.assertEqual(enter["tid"], leave["tid"], "enter and exit on one thread")
            self.assertLessEqual(enter["time"], leave["time"], "an exit after its enter")
            self.assertEqual(leave["ret"], os.getpid(), "getppid returns the test's pid (the workload's parent)")
            self.assertEqual(len(enter["args"]), 6, "six raw arguments")
        opens = [e for e in events if e.get("name") in ("open", "openat")]
        fails = [e for e in opens if e["event"] == "exit" and e["ret"] == -2]
        self.assertEqual(len(fails), TRACE_FAILS, f"failed opens traced: {opens}")
        self.assertLess(gp[-1]["time"], fails[0]["time"], "the getppid loop comes before the failed opens")
        status = d.call("status")["syscall"]
        self.assertIsInstance(status.get("trace_dropped"), int, f"status.syscall.trace_dropped: {status}")
        report("syscall_trace", events=len(events), trace_dropped=status["trace_dropped"])
        wait_until(lambda: d.call("status")["syscall"]["tracing"] == 0, 10,
                   "tracing to stop when osdctl's connection closed")

        # Text: the same kind of run, one line per event.
        w2 = self.watch_before_start(d, "--getppid", 3, "--fail-open", 1, "--linger-ms", 200)
        tr2 = Trace(self, d, w2.pid)
        wait_until(lambda: d.call("status")["syscall"]["tracing"] >= 1, 10, "the text trace to start")
        os.kill(w2.pid, signal.SIGUSR1)
        self.assertEqual(w2.wait_exit(timeout=15), 0, f"syscalls workload failed: {w2.output()}")
        wait_until(lambda: [x for x in tr2.snapshot() if re.search(r" (open|openat) = -2 ENOENT$", x)], 10,
                   "a failed openat line")
        rc, err = tr2.stop()
        self.assertEqual(rc, 0, f"osdctl trace (text) after SIGINT: exit {rc}; stderr:\n{err}")
        lines = tr2.snapshot()
        enter_re = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} (\d+) getppid\((-?\d+|0x[0-9a-f]+)(, (-?\d+|0x[0-9a-f]+)){5}\)$")
        exit_re = re.compile(rf"^\d\d:\d\d:\d\d\.\d{{6}} (\d+) getppid = {os.getpid()}$")
        self.assertEqual(len([x for x in lines if enter_re.match(x)]), 3, f"3 getppid enter lines:\n" +
                         "\n".join(lines))
        self.assertEqual(len([x for x in lines if exit_re.match(x)]), 3, "3 getppid exit lines:\n" + "\n".join(lines))
        # AT_FDCWD is an int: the raw register holds -100 sign-extended or only in its low 32 bits.
        self.assertTrue(any(re.match(r"^\d\d:\d\d:\d\d\.\d{6} \d+ (open|openat)\((-100|0xffffff9c), 0x[0-9a-f]+, ", x)
                            for x in lines),
                        "an openat enter with AT_FDCWD (-100) and a pointer:\n" + "\n".join(lines))


if __name__ == "__main__":
    osdtest.main()
