"""test_cpu.py - the CPU series follows a known busy/idle pattern, and its total agrees
with the kernel's own accounting in /proc/PID/stat (the BPF source cross-checked)."""
import time

import osdtest
from osdtest import OsdTestCase, cpu_seconds, proc_cpu_s, report

INTERVAL_MS = 200
BUSY_MS, IDLE_MS, CYCLES = 2000, 2000, 3


def phase_spans(w):
    """[(kind, start, end)] from the workload's "phase <kind> <ts>" lines."""
    marks = [(t[1], float(t[2])) for t in w.find("phase")]
    return [(k, s, marks[i + 1][1]) for i, (k, s) in enumerate(marks[:-1])]


class CpuPhases(OsdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = cls.start_daemon_cls(interval_ms=INTERVAL_MS)
        cls.w = cls.start_workload_cls("cpu_phases", "--busy-ms", BUSY_MS, "--idle-ms", IDLE_MS,
                                       "--cycles", CYCLES, nice=osdtest.BUSY_NICE)
        cls.w.wait_for("phase", "idle", timeout=10)
        cls.target = cls.d.call("watch", {"pid": cls.w.pid, "interval_ms": INTERVAL_MS})["target"]
        # T0: some way into the first idle phase, after the daemon's baseline
        time.sleep(0.5)
        cls.t0 = time.time()
        cls.cpu0 = proc_cpu_s(cls.w.pid)
        # T1: half a second into the final idle phase (the idle after the last busy)
        last_idle = cls.w.wait_for("phase", "idle", count=CYCLES + 1, timeout=CYCLES * 6 + 10)
        time.sleep(max(0.0, float(last_idle[2]) + 0.5 - time.time()))
        cls.t1 = time.time()
        cls.cpu1 = proc_cpu_s(cls.w.pid)
        cls.w.wait_for("cpu", timeout=10)
        cls.w.wait_exit(timeout=10)
        # the daemon's tick after the exit has been taken by now
        time.sleep(3 * INTERVAL_MS / 1000)
        cls.points = cls.d.series(cls.w.pid, "cpu")

    def test_watch_result(self):
        self.assertEqual(self.target["pid"], self.w.pid)
        self.assertEqual(self.target["options"]["interval_ms"], INTERVAL_MS)
        self.assertTrue(self.target["options"]["cpu"] and self.target["options"]["mem"],
                        f"watch without cpu/mem should collect both, got options {self.target['options']}")

    def test_phases(self):
        spans = phase_spans(self.w)
        busy_spans = [s for s in spans if s[0] == "busy"]
        self.assertEqual(len(busy_spans), CYCLES, f"workload phases: {spans}")
        self.assertLess(self.t0, busy_spans[0][1], "T0 was meant to be taken before the first busy phase")
        self.assertEqual(self.w.find("stalls_dropped"), [], "the workload lost count of its stalls")
        stalls = [(float(t[1]), float(t[1]) + float(t[2])) for t in self.w.find("stall")]
        margin = INTERVAL_MS / 1000  # skip the points at each boundary
        busy, idle, prev = [], [], None
        for p in self.points:
            if prev is not None:
                start, end = prev, p["time"]
                for kind, s, e in spans:
                    if start >= s + margin and end <= e - margin:
                        stolen = sum(max(0.0, min(end, b) - max(start, a)) for a, b in stalls)
                        ran_pct = 100.0 * (1.0 - stolen / (end - start))
                        (busy if kind == "busy" else idle).append((end, p["cpu_pct"], ran_pct))
            prev = p["time"]
        # A point the workload spent partly preempted by other tenants of the machine (it
        # saw itself off the CPU) cannot show a full core; it must show what it got.
        full = [(t, v) for t, v, ran in busy if ran >= 95.0]
        starved = [(t, v, ran) for t, v, ran in busy if ran < 95.0]
        report("cpu_phases", points=len(self.points), busy_points=len(busy), busy_starved=len(starved),
               idle_points=len(idle), busy_min=min(v for _, v in full) if full else -1.0,
               busy_mean=sum(v for _, v in full) / max(1, len(full)),
               idle_max=max(v for _, v, _ in idle) if idle else -1.0)
        # 2 s phases at 200 ms: about 8 points fully inside each, 6 after the margins
        self.assertGreaterEqual(len(busy), 4 * CYCLES, f"expected >= {4 * CYCLES} points inside busy phases, "
                                f"got {len(busy)}; points: {self.points}")
        self.assertGreaterEqual(len(idle), 4 * CYCLES, f"expected >= {4 * CYCLES} points inside idle phases, "
                                f"got {len(idle)}")
        self.assertGreaterEqual(len(full), len(busy) // 2,
                                f"the workload was preempted in {len(starved)} of {len(busy)} busy points: "
                                f"machine too loaded to test; (time, cpu_pct, ran %): {starved}")
        low = [(t, v) for t, v in full if v < 90.0]
        self.assertEqual(low, [], "points inside busy phases (workload on the CPU >= 95 % of the interval by its "
                         "own clock) must show >= 90 % CPU; these (time, cpu_pct) did not")
        off = [(t, v, ran) for t, v, ran in starved if abs(v - ran) > 10.0]
        self.assertEqual(off, [], "busy points in which the workload was preempted must show the share it ran "
                         "(within 10 points); these (time, cpu_pct, ran %) did not")
        high_busy = [(t, v) for t, v, _ in busy if v > 110.0]
        self.assertEqual(high_busy, [], "a single thread cannot use more than one core (110 % with jitter)")
        high = [(t, v) for t, v, _ in idle if v > 5.0]
        self.assertEqual(high, [], "points inside idle phases must show <= 5 % CPU; these (time, cpu_pct) did not")

    def test_crosscheck_proc(self):
        proc_s = self.cpu1 - self.cpu0
        bpf_s = cpu_seconds(self.points, self.t0, self.t1)
        err = abs(bpf_s - proc_s) / proc_s
        self_cpu = float(self.w.find("cpu")[0][2])
        report("cpu_crosscheck", bpf_s=bpf_s, proc_s=proc_s, err_pct=100 * err, workload_self_cpu_s=self_cpu)
        expect = BUSY_MS * CYCLES / 1000
        self.assertGreater(proc_s, 0.8 * expect, f"the workload itself got {proc_s} s of CPU, expected ~{expect} s: "
                           "machine too loaded for this test")
        self.assertLessEqual(err, 0.05, f"CPU between T0 and T1: series says {bpf_s:.3f} s, /proc/PID/stat says "
                             f"{proc_s:.3f} s; expected within 5 %, got {100 * err:.2f} %")

    def test_cpu_source_is_bpf(self):
        st = self.d.call("status")
        self.assertEqual(st["bpf"]["cpu_source"], "bpf", f"status.bpf: {st['bpf']}")
        names = self.d.bpf_program_names()
        # the CPU/membership programs; the net, syscall (and heap) objects are loaded too
        self.assertLessEqual(osdtest.BPF_PROGRAMS, names, f"BPF programs held by the daemon: {names}")


if __name__ == "__main__":
    osdtest.main()
