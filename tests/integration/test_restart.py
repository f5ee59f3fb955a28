"""test_restart.py - durable state: after kill -9 of the daemon no BPF program or link
outlives it; a restart on the same state directory watches again the targets whose
process still lives (same pid and same start time), skips the one that exited and the
one whose pid now names another process, and keeps the anomaly history."""
import json
import os
import signal
import time

import osdtest
from osdtest import OsdTestCase, bpftool_json, report, wait_until


class Restart(OsdTestCase):
    def test_kill9_restart(self):
        d = self.start_daemon()
        state = d.state_dir
        alive = self.start_workload("sleeper")
        gone = self.start_workload("sleeper")
        reused = self.start_workload("sleeper")
        burst = self.start_workload("bursts", "--quiet-ms", 20000, "--burst-ms", 2000, "--gap-ms", 1000,
                                    "--mem-mb", 1, "--tail-ms", 1000, nice=osdtest.BUSY_NICE)
        for w in (alive, gone, reused):
            d.call("watch", {"pid": w.pid, "interval_ms": 200})
        d.call("watch", {"pid": burst.pid, "interval_ms": 100, "calib": 60, "stride": 5})
        self.assertEqual(burst.wait_exit(timeout=60), 0, burst.output())
        before = wait_until(lambda: d.call("anomalies", {"pid": burst.pid})["anomalies"], 10,
                            "an anomaly for the CPU burst")
        wait_until(lambda: [t for t in d.call("list")["targets"] if t["pid"] == burst.pid and t["state"] == "exited"],
                   5, "the burst target to be marked exited")
        path = os.path.join(state, "targets.json")

        def saved_pids():
            try:
                with open(path) as f:
                    return {t["pid"] for t in json.load(f)["targets"]}
            except (OSError, ValueError):
                return None
        # saves are coalesced (STATE_SAVE_DELAY_MS): wait for the one that drops it
        wait_until(lambda: (lambda p: p is not None and burst.pid not in p)(saved_pids()), 5,
                   "targets.json to drop the exited target")
        progs, links = d.prog_ids, d.link_ids
        self.assertTrue(progs and links)

        d.kill()  # SIGKILL: no chance to clean up
        left = wait_until(lambda: not ({p["id"] for p in bpftool_json("prog", "list")} & progs or
                                       {l["id"] for l in bpftool_json("link", "list")} & links) or None, 10,
                          "the killed daemon's BPF programs and links to be released")
        self.assertTrue(left)
        gone.kill()
        # a reused pid: same number, another process - simulated by a different start time
        with open(path) as f:
            saved = json.load(f)
        pids = {t["pid"] for t in saved["targets"]}
        self.assertEqual(pids, {alive.pid, gone.pid, reused.pid}, f"saved running targets: {saved}")
        for t in saved["targets"]:
            if t["pid"] == reused.pid:
                t["start_ticks"] += 12345
        with open(path, "w") as f:
            json.dump(saved, f)

        t0 = time.monotonic()
        d2 = self.start_daemon(extra_args=["--state-dir", state])
        report("restart", ready_s=time.monotonic() - t0)
        targets = {t["pid"]: t for t in d2.call("list")["targets"]}
        self.assertEqual(set(targets), {alive.pid}, f"re-watched targets: {targets}")
        t = targets[alive.pid]
        self.assertEqual((t["state"], t["options"]["interval_ms"]), ("running", 200), f"restored target {t}")
        wait_until(lambda: d2.series(alive.pid, "mem"), 5, "new samples of the restored target")
        log = d2.stderr_text()
        self.assertIn(f"not re-watching pid {gone.pid}", log)
        self.assertIn(f"not re-watching pid {reused.pid}", log)
        self.assertIn("belongs to another process", log)
        after = d2.call("anomalies", {"pid": burst.pid})["anomalies"]
        self.assertEqual([(a["id"], a["start"], a["metrics"]) for a in after],
                         [(a["id"], a["start"], a["metrics"]) for a in before], "anomaly history after kill -9")
        # the file now lists only what is watched
        with open(path) as f:
            self.assertEqual([x["pid"] for x in json.load(f)["targets"]], [alive.pid])


if __name__ == "__main__":
    osdtest.main()
