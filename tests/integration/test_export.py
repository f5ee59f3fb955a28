"""test_export.py - osdctl export: a target watched with every family is written to a new
directory as cpu.csv, mem.csv, net.csv and syscall.csv, whose headers are the series columns
(the first named timestamp) and whose rows are the series points; existing files are refused
without --force and replaced with it; osdctl analyze accepts cpu.csv."""
import csv
import os
import shutil
import tempfile

import osdtest
from osdtest import OsdTestCase, wait_until

INTERVAL_MS = 200
FAMILIES = ["cpu", "mem", "net", "syscall"]


class Export(OsdTestCase):
    def setUp(self):
        if not osdtest.OSDCTL_BIN or not os.access(osdtest.OSDCTL_BIN, os.X_OK):
            raise AssertionError(f"OSDCTL_BIN is not an executable: {osdtest.OSDCTL_BIN!r}")
        self.tmp = tempfile.mkdtemp(prefix="osdit-export-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def osdctl(self, d, *args, rc=0):
        p = self.run_osdctl(d, *args, rc=rc, timeout=60)
        return p.stdout, p.stderr

    def read_csv(self, path):
        with open(path, newline="") as f:
            return list(csv.reader(f))

    def test_export(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.start_workload("syscalls", "--getppid", 20000, "--fail-open", 200, "--start-delay-ms", 1000,
                                "--linger-ms", 2000)
        w.wait_for("ready", timeout=10)
        d.call("watch", {"pid": w.pid, "cpu": True, "mem": True, "net": True, "syscall": True,
                         "interval_ms": INTERVAL_MS})
        self.assertEqual(w.wait_exit(timeout=30), 0, f"syscalls workload failed: {w.output()}")
        # Once exited, the series no longer grow: the export and the series are the same points.
        wait_until(lambda: [t for t in d.call("list")["targets"] if t["pid"] == w.pid and t["state"] == "exited"],
                   10, "the target to be reported exited")
        series = {f: d.call("series", {"pid": w.pid, "metric": f}) for f in FAMILIES}

        out_dir = os.path.join(self.tmp, "run", "1")
        out, _ = self.osdctl(d, "export", w.pid, "--dir", out_dir)
        self.assertEqual(sorted(os.listdir(out_dir)), sorted(f"{f}.csv" for f in FAMILIES),
                         "export writes one file per family the target collects, nothing else")
        for f in FAMILIES:
            s = series[f]
            rows = self.read_csv(os.path.join(out_dir, f"{f}.csv"))
            self.assertIn(f"{out_dir}/{f}.csv: {len(s['points'])} rows", out, f"export reports what it wrote: {out}")
            self.assertEqual(rows[0], ["timestamp"] + s["columns"][1:], f"{f}.csv header")
            self.assertEqual(len(rows) - 1, len(s["points"]), f"{f}.csv: one row per series point")
            self.assertGreaterEqual(len(rows) - 1, 3, f"{f}.csv: expected a few points of a 3 s run")
            for r, p in zip(rows[1:], s["points"]):
                self.assertEqual(r[0], f"{p[0]:.3f}", f"{f}.csv: timestamp with 3 decimals")
                for col, cell, v in zip(s["columns"][1:], r[1:], p[1:]):
                    if v is None:
                        self.assertEqual(cell, "", f"{f}.csv {col}: a null is an empty cell")
                    else:
                        self.assertAlmostEqual(float(cell), v, delta=abs(v) * 1e-12,
                                               msg=f"{f}.csv {col} at {r[0]}: {cell} vs the series' {v}")
        syscall_rows = self.read_csv(os.path.join(out_dir, "syscall.csv"))
        calls = syscall_rows[0].index("calls")
        self.assertGreaterEqual(sum(int(r[calls]) for r in syscall_rows[1:]), 20200,
                                "syscall.csv holds the loop's calls")

        # Existing files are refused, and nothing is written then.
        os.remove(os.path.join(out_dir, "net.csv"))
        _, err = self.osdctl(d, "export", w.pid, "--dir", out_dir, rc=1)
        self.assertIn("cpu.csv exists", err, "the refusal names the file")
        self.assertFalse(os.path.exists(os.path.join(out_dir, "net.csv")), "nothing is written after a refusal")
        with open(os.path.join(out_dir, "mem.csv"), "w") as fh:
            fh.write("stale\n")
        self.osdctl(d, "export", w.pid, "--dir", out_dir, "--force", "--since", "1h")
        self.assertEqual(self.read_csv(os.path.join(out_dir, "mem.csv"))[0], ["timestamp", "rss_bytes", "vm_bytes"],
                         "--force replaces an existing file")
        self.assertTrue(os.path.exists(os.path.join(out_dir, "net.csv")), "--force writes the missing file too")

        # The files are osdctl analyze's input.
        cpu_csv = os.path.join(out_dir, "cpu.csv")
        out, err = self.osdctl(d, "analyze", cpu_csv, "--detector", "mad")
        lines = out.splitlines()
        self.assertEqual(lines[0], "timestamp,score,threshold,anomaly", f"analyze output header; stderr: {err}")
        self.assertEqual(len(lines), len(self.read_csv(cpu_csv)), "analyze: one output row per input row")

        # Not a target: the daemon's error, exit 1, no directory.
        missing = os.path.join(self.tmp, "none")
        _, err = self.osdctl(d, "export", 2 ** 22 + 7, "--dir", missing, rc=1)
        self.assertIn("code", err, f"the daemon's error is shown: {err}")
        self.assertFalse(os.path.exists(missing), "a failed export creates no directory")


if __name__ == "__main__":
    osdtest.main()
