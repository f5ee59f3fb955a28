"""test_exit.py - a watched process that exits: the target turns "exited" with exited_at,
its series stay queryable and stop growing, and unwatch frees it (and its BPF entries)."""
import time

import osdtest
from osdtest import OsdTestCase, report, wait_until

INTERVAL_MS = 200


class Exit(OsdTestCase):
    def test_exit_then_unwatch(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.start_workload("cpu_phases", "--busy-ms", 500, "--idle-ms", 500, "--cycles", 1,
                                "--start-idle-ms", 1000)
        w.wait_for("phase", "idle", timeout=10)
        t = d.call("watch", {"pid": w.pid, "interval_ms": INTERVAL_MS})["target"]
        self.assertEqual((t["state"], t["exited_at"]), ("running", None), f"fresh target: {t}")
        self.assertEqual(d.call("status")["bpf"]["watched_entries"], 1, "one process watched")
        self.assertEqual(w.wait_exit(timeout=15), 0, w.output())
        exit_ts = time.time()

        t = wait_until(lambda: next((x for x in d.call("list")["targets"] if x["state"] == "exited"), None),
                       10 * INTERVAL_MS / 1000, "list to show the target as exited")
        report("exit", exited_at_minus_exit=t["exited_at"] - exit_ts, samples=t["samples"])
        self.assertEqual(t["pid"], w.pid)
        self.assertIsInstance(t["exited_at"], float, f"exited_at should be epoch seconds, got {t['exited_at']!r}")
        self.assertGreaterEqual(t["exited_at"], t["watched_at"])
        self.assertLess(abs(t["exited_at"] - exit_ts), 2.0,
                        f"exited_at {t['exited_at']:.3f} should be within 2 s of the exit ({exit_ts:.3f})")
        self.assertEqual(t["members"], 0, f"an exited tree has no live members: {t}")
        st = d.call("status")
        self.assertEqual((st["targets"], st["targets_running"], st["targets_exited"]), (1, 0, 1),
                         "status (targets, targets_running, targets_exited)")

        # queryable after the exit, and no longer growing once the last entries are reaped
        wait_until(lambda: d.call("status")["bpf"]["watched_entries"] == 0, 10 * INTERVAL_MS / 1000,
                   "the dead process's BPF entry to be reaped")
        cpu1, mem1 = d.series(w.pid, "cpu"), d.series(w.pid, "mem")
        time.sleep(3 * INTERVAL_MS / 1000)
        cpu2, mem2 = d.series(w.pid, "cpu"), d.series(w.pid, "mem")
        self.assertEqual((len(cpu2), len(mem2)), (len(cpu1), len(mem1)),
                         "series of an exited target must stop growing (cpu, mem point counts)")
        self.assertGreater(len(cpu2), 5, f"cpu points of the run: {cpu2}")
        # the kept series holds the run's CPU up to the exit (what the workload says it used)
        own = float(w.find("cpu")[0][2])
        kept = osdtest.cpu_seconds(cpu2)
        report("exit_cpu", series_s=kept, workload_s=own)
        self.assertGreater(own, 0.05, f"the workload used {own} s of CPU: machine too loaded to test")
        self.assertLessEqual(abs(kept - own), max(0.03, 0.1 * own), f"CPU in the kept series {kept:.3f} s, "
                             f"the workload's own count {own:.3f} s: expected within 10 %")
        self.assertLessEqual(mem2[-1]["time"], t["exited_at"] + 0.001,
                             "no mem point may be taken after the exit")
        self.assertEqual(d.call("list")["targets"][0]["samples"], len(cpu2), "list.samples = stored cpu points")

        res = d.call("unwatch", {"pid": w.pid})
        self.assertEqual(res, {"pid": w.pid, "cgroup": None, "unit": None, "samples": len(cpu2)}, "unwatch result")
        self.assertEqual(d.call("list")["targets"], [], "list after unwatch")
        st = d.call("status")
        self.assertEqual((st["targets"], st["bpf"]["watched_entries"], st["bpf"]["cpu_entries"],
                          st["memory"]["series_bytes"]), (0, 0, 0, 0),
                         "status after unwatch (targets, watched_entries, cpu_entries, series_bytes)")
        self.assertRpcError(lambda: d.call("series", {"pid": w.pid, "metric": "cpu"}), osdtest.E_NOT_WATCHED,
                            str(w.pid))
        self.assertRpcError(lambda: d.call("unwatch", {"pid": w.pid}), osdtest.E_NOT_WATCHED, str(w.pid))


if __name__ == "__main__":
    osdtest.main()
