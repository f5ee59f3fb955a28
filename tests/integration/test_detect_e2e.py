"""test_detect_e2e.py - online detection end to end: osdetd watches a quiet workload (100 ms
interval) that bursts CPU and later grows its memory at known times; each must be
reported as an anomaly of the right metric within two strides of its start, go to the
journal with the structured fields, reach a subscriber, and survive a daemon restart
through the durable anomaly log."""
import json
import time

import osdtest
from journal import ANOMALY_MESSAGE_ID, Journal
from osdtest import OsdTestCase, report

INTERVAL_MS = 100
STRIDE = 10
CALIB = 200
TWO_STRIDES_S = 2 * STRIDE * INTERVAL_MS / 1000


class DetectEndToEnd(OsdTestCase):
    def test_burst_and_surge_reported(self):
        journal = Journal()
        self.addCleanup(journal.stop)
        d = self.start_daemon()
        sub = d.connect()
        self.addCleanup(sub.close)
        sub.call("subscribe", {})
        # quiet long enough for SPOT to fill its model (110 points), calibrate (CALIB) and settle:
        # 310 points are 31 s at 100 ms, with room for a loaded machine's late ticks
        w = self.start_workload("bursts", "--quiet-ms", 50000, "--burst-ms", 3000, "--gap-ms", 10000,
                                "--mem-mb", 256, "--tail-ms", 6000, nice=osdtest.BUSY_NICE)
        w.wait_for("quiet", timeout=10)
        t = d.call("watch", {"pid": w.pid, "interval_ms": INTERVAL_MS, "detector": "spot", "stride": STRIDE,
                             "calib": CALIB})["target"]
        self.assertEqual(t["options"]["detect"]["detector"], "spot")
        self.assertEqual(w.wait_exit(timeout=120), 0, w.output())
        burst_t = float(w.find("cpu_burst")[0][1])
        surge_t = float(w.find("mem_surge")[0][1])
        time.sleep(3 * STRIDE * INTERVAL_MS / 1000)  # let the last windows be judged

        anomalies = d.call("anomalies", {"pid": w.pid})["anomalies"]
        text = json.dumps(anomalies, indent=1)

        def first_after(metric, t0):
            hits = [a for a in anomalies if metric in a["metrics"] and a["start"] >= t0 - INTERVAL_MS / 1000]
            return min(hits, key=lambda a: a["start"]) if hits else None

        cpu = first_after("cpu_pct", burst_t)
        mem = first_after("rss_bytes", surge_t)
        det = [x["detection"] for x in d.call("list")["targets"] if x["pid"] == w.pid]
        self.assertIsNotNone(cpu, f"no cpu_pct anomaly after the burst at {burst_t:.3f}; detection: {det}; "
                             f"anomalies:\n{text}")
        self.assertIsNotNone(mem, f"no rss_bytes anomaly after the surge at {surge_t:.3f}; anomalies:\n{text}")
        false_alarms = [a for a in anomalies if a["start"] < burst_t - INTERVAL_MS / 1000]
        report("detect_e2e", cpu_delay_s=cpu["start"] - burst_t, mem_delay_s=mem["start"] - surge_t,
               anomalies=len(anomalies), before_burst=len(false_alarms))
        self.assertLessEqual(cpu["start"] - burst_t, TWO_STRIDES_S,
                             f"CPU burst reported {cpu['start'] - burst_t:.2f} s late (limit {TWO_STRIDES_S} s)")
        self.assertLessEqual(mem["start"] - surge_t, TWO_STRIDES_S,
                             f"memory surge reported {mem['start'] - surge_t:.2f} s late (limit {TWO_STRIDES_S} s)")
        for a in (cpu, mem):
            self.assertEqual((a["pid"], a["comm"], a["detector"], a["kind"]), (w.pid, "bursts", "spot", "anomaly"))
            self.assertGreater(a["peak_score"], a["threshold"], f"peak over threshold: {a}")

        # the journal has each one with the structured fields
        entries = journal.entries(f"MESSAGE_ID={ANOMALY_MESSAGE_ID}", f"OSD_PID={w.pid}", "OSD_EVENT=begin",
                                  want=2)
        by_id = {int(e["OSD_ANOMALY_ID"]): e for e in entries}
        for a in (cpu, mem):
            self.assertIn(a["id"], by_id, f"journal entries for anomaly {a['id']}: {entries}")
            e = by_id[a["id"]]
            self.assertEqual((e["OSD_COMM"], e["OSD_METRIC"], e["OSD_DETECTOR"], e["PRIORITY"]),
                             ("bursts", a["metrics"], "spot", "4"), f"journal entry {e}")
            self.assertAlmostEqual(float(e["OSD_THRESHOLD"]), a["threshold"], delta=abs(a["threshold"]) * 1e-4 + 1e-9)
            self.assertIn("OSD_SCORE", e)

        # the subscriber heard the same begins
        heard = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not {cpu["id"], mem["id"]} <= {h["anomaly"]["id"] for h in heard}:
            msg = json.loads(sub.recv_line(timeout=deadline - time.monotonic()))
            if msg.get("method") == "anomaly":
                heard.append(msg["params"])
        self.assertLessEqual({cpu["id"], mem["id"]}, {h["anomaly"]["id"] for h in heard if h["event"] == "begin"},
                             f"notifications received: {heard}")

        # history survives a restart (same state directory)
        state = d.state_dir
        d.stop(self)
        d2 = self.start_daemon(extra_args=["--state-dir", state])
        again = d2.call("anomalies", {"pid": w.pid})["anomalies"]
        self.assertEqual([(a["id"], a["metrics"], a["start"]) for a in again],
                         [(a["id"], a["metrics"], a["start"]) for a in anomalies],
                         "anomaly history after a restart")
        self.assertTrue(all(a["state"] == "closed" for a in again), f"all ended: {again}")


if __name__ == "__main__":
    osdtest.main()
