"""test_mem.py - the memory series shows a known RSS step: memgrow maps and touches
256 MiB, and rss_bytes rises by that much."""

import osdtest
from osdtest import OsdTestCase, report, wait_until

INTERVAL_MS = 200
MB = 256


class Memory(OsdTestCase):
    def test_rss_step(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.start_workload("memgrow", "--mb", MB, "--delay-ms", 1500, "--hold-ms", 2500)
        w.wait_for("start", timeout=10)
        target = d.call("watch", {"pid": w.pid, "mem": True, "interval_ms": INTERVAL_MS})["target"]
        self.assertEqual((target["options"]["cpu"], target["options"]["mem"]), (False, True),
                         "watch with only mem:true: expected (cpu, mem) = (False, True)")
        self.assertEqual(w.find("alloc"), [], "memgrow allocated before the watch: raise --delay-ms")
        alloc_ts = float(w.wait_for("alloc", timeout=10)[1])
        grown = w.wait_for("grown", timeout=20)
        grown_ts, nbytes = float(grown[1]), int(grown[2])
        self.assertEqual(nbytes, MB << 20)
        # a couple of points after the step, while memgrow holds the memory
        wait_until(lambda: [p for p in d.series(w.pid, "mem") if p["time"] > grown_ts + 2 * INTERVAL_MS / 1000],
                   5, "mem points after the allocation")
        points = d.series(w.pid, "mem")
        self.assertEqual(w.find("done"), [], "memgrow released its memory before the points were read")
        before = [p for p in points if p["time"] < alloc_ts]
        after = [p for p in points if p["time"] > grown_ts]
        self.assertTrue(before, f"no mem point before the allocation at {alloc_ts}; points: {points}")
        self.assertTrue(after, f"no mem point after the allocation ended at {grown_ts}; points: {points}")
        base, top = before[-1]["rss_bytes"], after[-1]["rss_bytes"]
        delta = top - base
        err = abs(delta - nbytes) / nbytes
        report("mem_step", rss_before=base, rss_after=top, delta_mib=delta / 2**20, err_pct=100 * err)
        self.assertLessEqual(err, 0.05, f"rss_bytes should rise by {nbytes} (256 MiB) within 5 %: "
                             f"{base} -> {top}, a rise of {delta / 2**20:.1f} MiB ({100 * err:.2f} % off)")
        self.assertGreaterEqual(after[-1]["vm_bytes"], before[-1]["vm_bytes"] + nbytes,
                                "vm_bytes should grow by at least the mapping")
        last = d.call("list")["targets"][0]["last"]
        self.assertNotIn("cpu_pct", last, f"a mem-only target has no cpu_pct in last: {last}")
        self.assertRpcError(lambda: d.call("series", {"pid": w.pid, "metric": "cpu"}), osdtest.E_INVALID_PARAMS,
                            "cpu")
        self.assertEqual(w.wait_exit(timeout=10), 0, f"memgrow failed: {w.output()}")


if __name__ == "__main__":
    osdtest.main()
