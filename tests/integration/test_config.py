"""test_config.py - configuration: a bad file stops the daemon at start with a message that
names the key; SIGHUP and config.reload apply a valid file without dropping targets and
refuse an invalid one, keeping the old configuration."""
import os
import signal
import subprocess
import tempfile

import osdtest
from osdtest import OsdTestCase, wait_until


class Config(OsdTestCase):
    def write(self, text):
        fd, path = tempfile.mkstemp(prefix="osdconf-", suffix=".json")
        os.write(fd, text.encode())
        os.close(fd)
        self.addCleanup(os.unlink, path)
        return path

    def test_bad_file_at_start(self):
        for text, words in (('{"interval_ms": 5}', ["'interval_ms'", "between 100 and 60000", "got 5"]),
                            ('{"intervall_ms": 500}', ["unknown key 'intervall_ms'"]),
                            ('{"detector": "magic"}', ["'detector'", "spot, cs, mad, none"]),
                            ('{"socket": 3}', ["'socket'", "string"]),
                            ('{"interval_ms": 500', ["line 1"])):
            path = self.write(text)
            r = subprocess.run([osdtest.OSDETD_BIN, "--config", path, "--socket", "/nonexistent/x.sock"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, f"{text}: exit status; stderr {r.stderr}")
            for w in [path, *words]:
                self.assertIn(w, r.stderr, f"{text}: the error should name {w!r}")
        r = subprocess.run([osdtest.OSDETD_BIN, "--config", "/nonexistent.json"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent.json: No such file or directory", r.stderr)

    def test_reload(self):
        path = self.write('{"interval_ms": 500, "detector": "spot"}')
        d = self.start_daemon(extra_args=["--config", path])
        self.assertEqual(d.call("config.get")["config"]["interval_ms"], 500)
        w = self.start_workload("sleeper")
        d.call("watch", {"pid": w.pid})
        with open(path, "w") as f:
            f.write('{"interval_ms": 50}')
        self.assertRpcError(lambda: d.call("config.reload"), -32007, "'interval_ms'", "got 50")
        self.assertEqual(d.call("config.get")["config"]["interval_ms"], 500, "a refused file changes nothing")
        with open(path, "w") as f:
            f.write('{"interval_ms": 700, "detector": "mad", "retention_s": 60}')
        os.kill(d.pid, signal.SIGHUP)
        cfg = wait_until(lambda: (lambda c: c if c["interval_ms"] == 700 else None)(d.call("config.get")["config"]),
                         5, "SIGHUP to apply the new interval")
        self.assertEqual((cfg["detector"], cfg["retention_s"]), ("mad", 60))
        targets = d.call("list")["targets"]
        self.assertEqual([t["pid"] for t in targets], [w.pid], "targets survive a reload")
        self.assertEqual(targets[0]["options"]["interval_ms"], 500, "a kept target keeps its own interval")
        w2 = self.start_workload("sleeper")
        t2 = d.call("watch", {"pid": w2.pid})["target"]
        self.assertEqual((t2["options"]["interval_ms"], t2["options"]["detect"]["detector"]), (700, "mad"),
                         "new defaults apply to new targets")
        res = d.call("config.reload")
        self.assertEqual(res["path"], path)
        self.assertIn("configuration reloaded", d.stderr_text())


if __name__ == "__main__":
    osdtest.main()
