"""test_fallback.py - osdetd --no-bpf samples /proc instead: CPU agrees with /proc/PID/stat,
memory is there, status says cpu_source "procfs", and no BPF program is loaded."""
import time

import osdtest
from osdtest import OsdTestCase, cpu_seconds, proc_cpu_s, report, wait_until

INTERVAL_MS = 200


class Fallback(OsdTestCase):
    def test_procfs_source(self):
        d = self.start_daemon(no_bpf=True, interval_ms=INTERVAL_MS)
        self.assertEqual((d.prog_ids, d.link_ids), (set(), set()), "osdetd --no-bpf holds BPF programs/links")
        st = d.call("status")
        self.assertEqual(st["bpf"]["cpu_source"], "procfs", f"status.bpf: {st['bpf']}")
        self.assertIn("no-bpf", st["bpf"].get("error", ""), f"status.bpf.error should say why: {st['bpf']}")

        w = self.start_workload("cpu_phases", "--busy-ms", 1500, "--idle-ms", 1000, "--cycles", 2,
                                "--start-idle-ms", 1500, nice=osdtest.BUSY_NICE)
        w.wait_for("phase", "idle", timeout=10)
        d.call("watch", {"pid": w.pid, "interval_ms": INTERVAL_MS})
        time.sleep(0.5)
        t0, cpu0 = time.time(), proc_cpu_s(w.pid)
        last_idle = w.wait_for("phase", "idle", count=3, timeout=20)
        time.sleep(max(0.0, float(last_idle[2]) + 0.5 - time.time()))
        t1, cpu1 = time.time(), proc_cpu_s(w.pid)
        w.wait_for("cpu", timeout=10)
        self.assertEqual(w.wait_exit(timeout=10), 0, w.output())
        time.sleep(3 * INTERVAL_MS / 1000)

        points = d.series(w.pid, "cpu")
        series_s, proc_s = cpu_seconds(points, t0, t1), cpu1 - cpu0
        err = abs(series_s - proc_s) / proc_s
        busy_pct = max(p["cpu_pct"] for p in points)
        report("fallback_cpu", series_s=series_s, proc_s=proc_s, err_pct=100 * err, max_cpu_pct=busy_pct)
        self.assertGreater(proc_s, 2.4, f"the workload got {proc_s} s of CPU for 3 s of spinning: machine too loaded")
        self.assertLessEqual(err, 0.10, f"procfs CPU between T0 and T1: series {series_s:.3f} s, /proc "
                             f"{proc_s:.3f} s; expected within 10 %, got {100 * err:.2f} %")
        self.assertGreater(busy_pct, 80, f"a busy phase should show in the series; max cpu_pct {busy_pct}")

        mem = d.series(w.pid, "mem")
        self.assertGreater(len(mem), 10, f"mem points: {mem}")
        rss = [p["rss_bytes"] for p in mem]
        self.assertTrue(all(100 << 10 < r < 64 << 20 for r in rss), f"cpu_phases' RSS should be a few hundred "
                        f"KiB to a few MiB; got {min(rss)}..{max(rss)}")
        self.assertTrue(all(p["vm_bytes"] >= p["rss_bytes"] for p in mem), "vm_bytes >= rss_bytes")
        t = wait_until(lambda: next((x for x in d.call("list")["targets"] if x["state"] == "exited"), None), 5,
                       "the target to show as exited")
        self.assertIsNotNone(t["exited_at"])


if __name__ == "__main__":
    osdtest.main()
