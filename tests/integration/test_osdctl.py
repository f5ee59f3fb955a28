"""test_osdctl.py - the osdctl client against a real daemon: watch, list, series (CSV and
JSON), status, unwatch, and its exit codes (0 ok, 1 daemon error, 2 usage, 3 unreachable).
Registered only when the osdctl target exists (see integration.cmake)."""
import csv
import io
import json
import os
import socket
import subprocess
import tempfile

import osdtest
from osdtest import OsdTestCase, wait_until


class Osdctl(OsdTestCase):
    @classmethod
    def setUpClass(cls):
        if not osdtest.OSDCTL_BIN or not os.access(osdtest.OSDCTL_BIN, os.X_OK):
            raise AssertionError(f"OSDCTL_BIN is not an executable: {osdtest.OSDCTL_BIN!r}")
        cls.d = cls.start_daemon_cls(interval_ms=200)

    def osdctl(self, *args, socket_path=None, env_socket=None, rc=None):
        """Runs osdctl; asserts its exit status if rc is given; returns (rc, stdout, stderr)."""
        env = dict(os.environ)
        env.pop("OSDETD_SOCKET", None)
        argv = [osdtest.OSDCTL_BIN]
        if env_socket is not None:
            env["OSDETD_SOCKET"] = env_socket
        else:
            argv += ["--socket", socket_path or self.d.socket]
        p = subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True, env=env, timeout=30)
        if rc is not None:
            self.assertEqual(p.returncode, rc, f"osdctl {' '.join(map(str, args))}: expected exit {rc}, got "
                             f"{p.returncode}; stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p.returncode, p.stdout, p.stderr

    def sleeper(self):
        w = self.start_workload("sleeper", "--max-s", 100)
        w.wait_for("ready")
        return w

    def test_watch_list_series_unwatch(self):
        w = self.sleeper()
        _, out, _ = self.osdctl("watch", w.pid, "--interval", 200, rc=0)
        self.assertIn(str(w.pid), out, "watch output should name the pid")
        t = [x for x in self.d.call("list")["targets"] if x["pid"] == w.pid]
        self.assertEqual(len(t), 1, "the daemon should list the target osdctl watched")
        self.assertEqual(t[0]["options"]["interval_ms"], 200, "--interval reaches the daemon")

        _, out, err = self.osdctl("watch", w.pid, rc=1)
        self.assertIn("already watched", err, "a daemon error is printed on stderr")

        _, out, _ = self.osdctl("list", rc=0)
        self.assertIn(str(w.pid), out)
        self.assertIn("sleeper", out)
        _, out, _ = self.osdctl("list", "--json", rc=0)
        listed = json.loads(out)
        self.assertIn(w.pid, [x["pid"] for x in listed["targets"]], f"list --json: {out}")

        wait_until(lambda: len(self.d.series(w.pid, "cpu")) >= 3, 5, "three points")
        _, out, _ = self.osdctl("series", w.pid, "--csv", rc=0)
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(rows[0], ["time", "cpu_pct", "ctx_voluntary", "ctx_involuntary"], "CSV header")
        rpc_times = {p["time"] for p in self.d.series(w.pid, "cpu")}
        self.assertGreaterEqual(len(rows) - 1, 3, f"CSV rows: {out}")
        for r in rows[1:]:
            vals = [float(x) for x in r]
            self.assertIn(vals[0], rpc_times, f"CSV time {r[0]} is not a point of the series")
        _, out, _ = self.osdctl("series", w.pid, "--metric", "mem", "--csv", rc=0)
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(rows[0], ["time", "rss_bytes", "vm_bytes"], "mem CSV header")
        self.assertTrue(all(int(r[1]) > 0 for r in rows[1:]), f"rss_bytes > 0: {out}")
        _, out, _ = self.osdctl("series", w.pid, "--json", rc=0)
        js = json.loads(out)
        self.assertEqual(js["columns"], ["time", "cpu_pct", "ctx_voluntary", "ctx_involuntary"])
        self.assertTrue({p[0] for p in js["points"]} <= {p["time"] for p in self.d.series(w.pid, "cpu")},
                        "series --json points are the daemon's points")

        _, out, _ = self.osdctl("unwatch", w.pid, rc=0)
        self.assertIn(str(w.pid), out)
        self.assertNotIn(w.pid, [x["pid"] for x in self.d.call("list")["targets"]], "unwatched at the daemon")
        _, _, err = self.osdctl("unwatch", w.pid, rc=1)
        self.assertIn("not watched", err)

    def test_watch_json_and_env_socket(self):
        w = self.sleeper()
        _, out, _ = self.osdctl("watch", w.pid, "--mem", "--json", env_socket=self.d.socket, rc=0)
        t = json.loads(out)
        t = t.get("target", t)
        self.assertEqual((t["pid"], t["options"]["cpu"], t["options"]["mem"]), (w.pid, False, True),
                         f"watch --mem --json through $OSDETD_SOCKET: {out}")
        _, _, err = self.osdctl("series", w.pid, "--metric", "cpu", rc=1)
        self.assertIn("cpu", err, "series of a family the target does not collect names it")
        self.osdctl("unwatch", w.pid, rc=0)

    def test_status(self):
        _, out, _ = self.osdctl("status", rc=0)
        self.assertIn(str(self.d.pid), out, "status shows the daemon's pid")
        _, out, _ = self.osdctl("status", "--json", rc=0)
        st = json.loads(out)
        self.assertEqual((st["pid"], st["socket"], st["bpf"]["cpu_source"]), (self.d.pid, self.d.socket, "bpf"))

    def test_daemon_errors_exit_1(self):
        p = subprocess.Popen(["/bin/true"])
        p.wait()
        _, _, err = self.osdctl("watch", p.pid, rc=1)
        self.assertIn(str(p.pid), err, "the no-such-process error names the pid")
        self.osdctl("series", p.pid, rc=1)
        self.osdctl("threads", p.pid, rc=1)

    def test_usage_exit_2(self):
        for args in (["frobnicate"], ["watch"], ["watch", "abc"], ["unwatch"], ["watch", "1", "--interval", "5"],
                     ["series", "1", "--metric"], ["series", "1", "--since", "soon"], ["list", "--bogus"], []):
            _, _, err = self.osdctl(*args, rc=2)
            self.assertTrue(err.strip(), f"osdctl {' '.join(args)}: a usage error says something on stderr")

    def test_unreachable_exit_3(self):
        with tempfile.TemporaryDirectory(prefix="osdit-") as tmp:
            _, _, err = self.osdctl("status", socket_path=os.path.join(tmp, "none.sock"), rc=3)
            self.assertIn("none.sock", err, "the unreachable socket is named")
            stale = os.path.join(tmp, "stale.sock")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(stale)
            s.close()  # a socket file nobody listens on
            self.osdctl("list", socket_path=stale, rc=3)
            self.osdctl("status", env_socket=os.path.join(tmp, "none.sock"), rc=3)


if __name__ == "__main__":
    osdtest.main()
