"""test_threads.py - per-thread CPU: a target watched with threads:true lists each
thread of threads_burn with roughly the duty cycle it burns at."""
import time

import osdtest
from osdtest import OsdTestCase, report

INTERVAL_MS = 500
DUTIES = [60, 30, 10]  # sum to one core: they never compete for one (see threads_burn.c)


class Threads(OsdTestCase):
    def test_per_thread_cpu(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.start_workload("threads_burn", "--threads", len(DUTIES), "--burn-ms", 7000,
                                "--duty", ",".join(map(str, DUTIES)), nice=osdtest.BUSY_NICE)
        lines = [w.wait_for("thread", count=i + 1, timeout=10) for i in range(len(DUTIES))]
        duty_of = {int(t[3]): int(t[4]) for t in lines}  # tid -> duty %
        d.call("watch", {"pid": w.pid, "threads": True, "interval_ms": INTERVAL_MS})

        # one "threads" answer per interval: average each thread over several intervals
        samples, times = {tid: [] for tid in duty_of}, set()
        first = None
        deadline = time.monotonic() + 15
        while len(times) < 6 and time.monotonic() < deadline:
            r = d.call("threads", {"pid": w.pid})
            if r["threads"] and r["time"] not in times:
                if first is None:
                    first = r  # its interval may start before the watch: skip it
                    times.add(r["time"])
                    continue
                times.add(r["time"])
                if len(times) > 2:  # the second interval is the first with a full baseline
                    for th in r["threads"]:
                        if th["tid"] in samples:
                            samples[th["tid"]].append(th["cpu_pct"])
                    order = [th["cpu_pct"] for th in r["threads"]]
                    self.assertEqual(order, sorted(order, reverse=True), f"threads must be busiest first: {r}")
            time.sleep(INTERVAL_MS / 5000)
        self.assertGreaterEqual(len(times), 6, f"expected 6 distinct 'threads' intervals, got {sorted(times)}")

        self.assertEqual({th["tgid"] for th in first["threads"]}, {w.pid}, f"every tgid is the target's: {first}")
        listed = {th["tid"] for th in first["threads"]}
        self.assertTrue(set(duty_of) <= listed, f"worker tids {sorted(duty_of)} should all be listed; got "
                        f"{sorted(listed)}")
        for th in first["threads"]:
            self.assertIsInstance(th["comm"], str)
            for k in ("oncpu_ns", "ctx_voluntary", "ctx_involuntary"):
                self.assertIsInstance(th[k], int, f"{k} of {th}")
        means = {tid: sum(v) / len(v) for tid, v in samples.items() if v}
        report("threads", **{f"duty{duty_of[tid]}_got": means.get(tid, -1.0) for tid in duty_of})
        for tid, duty in duty_of.items():
            self.assertIn(tid, means, f"thread {tid} missing from the 'threads' answers")
            self.assertLessEqual(abs(means[tid] - duty), max(5.0, 0.15 * duty),
                                 f"thread {tid} burns {duty} % of a core; its mean cpu_pct over "
                                 f"{len(samples[tid])} intervals was {means[tid]:.1f} (tolerance "
                                 f"{max(5.0, 0.15 * duty):.1f} points); samples {samples[tid]}")
        # the whole-process series agrees: the duties sum to one core
        series = d.series(w.pid, "cpu", limit=4)
        total = sum(p["cpu_pct"] for p in series) / len(series)
        report("threads_total", cpu_pct=total)
        self.assertLessEqual(abs(total - sum(DUTIES)), 10, f"process cpu_pct should be ~{sum(DUTIES)}, got "
                             f"{total:.1f} (last points {series})")
        self.assertEqual(w.wait_exit(timeout=20), 0, w.output())


if __name__ == "__main__":
    osdtest.main()
