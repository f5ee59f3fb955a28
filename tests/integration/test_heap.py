"""test_heap.py - heap collection (`heap: true`): uprobes on the target's libc.

A clean program making 1,000,000 mixed heap calls raises no misuse alert and its live
heap matches its own bookkeeping within 1 %; one program per misuse kind raises exactly
that alert, once, with the pid, tid, address, size and a symbolised stack; a process
without libc is refused with a clear error while the daemon keeps serving."""

import os
import signal
import time

import osdtest
from osdtest import OsdTestCase, report, wait_until

INTERVAL_MS = 200
E_BPF = -32006
MISUSE_KINDS = {"free-unknown", "double-free", "realloc-unknown", "realloc-freed", "zero-size"}


class Heap(OsdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = cls.start_daemon_cls(interval_ms=INTERVAL_MS)

    def watch(self, pid, **extra):
        params = {"pid": pid, "heap": True, "interval_ms": INTERVAL_MS, **extra}
        target = self.d.call("watch", params)["target"]
        self.addCleanup(self.unwatch, pid)
        self.assertTrue(target["options"]["heap"], f"watch with heap:true: options say {target['options']}")
        return target

    def unwatch(self, pid):
        try:
            self.d.call("unwatch", {"pid": pid})
        except osdtest.RpcError:
            pass

    def misuse_of(self, pid):
        return [a for a in self.d.call("anomalies", {"pid": pid})["anomalies"] if a["kind"] in MISUSE_KINDS]

    def test_clean_program(self):
        w = self.start_workload("heap_clean", "--calls", 1000000, "--hold-ms", 2500)
        w.wait_for("ready", timeout=10)
        self.watch(w.pid, cpu=False, mem=False)
        status = self.d.call("status")["heap"]
        self.assertTrue(status["attached"], f"status.heap while a target uses it: {status}")
        self.assertTrue(any(lib["path"].endswith("libc.so.6") for lib in status["libc"]),
                        f"status.heap.libc should name the target's libc.so.6: {status}")
        os.kill(w.pid, signal.SIGUSR1)
        quiet = w.wait_for("quiet", timeout=90 * osdtest.SLOW)
        quiet_ts, live, outstanding = float(quiet[1]), int(quiet[2]), int(quiet[3])
        points = wait_until(lambda: [p for p in self.d.series(w.pid, "heap")
                                     if p["time"] > quiet_ts + 2 * INTERVAL_MS / 1000],
                            10, "a heap point after the quiet line")
        self.assertEqual(w.find("done"), [], "heap_clean freed its blocks before the point was read")
        got = points[0]
        err = abs(got["live_bytes"] - live) / live
        report("heap_clean", live_expected=live, live_got=got["live_bytes"], err_pct=100 * err,
               outstanding_expected=outstanding, outstanding_got=got["outstanding"])
        self.assertLessEqual(err, 0.01, f"live_bytes should be the program's own count {live} within 1 %, "
                             f"got {got['live_bytes']} ({100 * err:.3f} % off)")
        self.assertLessEqual(abs(got["outstanding"] - outstanding), max(10, outstanding // 100),
                             f"outstanding blocks: expected {outstanding}, got {got['outstanding']}")
        w.wait_for("done", timeout=30)
        allocs = sum(p["alloc_rate"] * INTERVAL_MS / 1000 for p in self.d.series(w.pid, "heap"))
        self.assertGreater(allocs, 300000, f"alloc_rate x interval over the run should count the ~400k+ "
                           f"allocations, got {allocs:.0f}")
        self.assertEqual(w.wait_exit(timeout=10), 0, f"heap_clean failed: {w.output()}")
        self.assertEqual(self.misuse_of(w.pid), [], "a correct program raised misuse alerts")
        total = sum(p["misuse"] for p in self.d.series(w.pid, "heap"))
        self.assertEqual(total, 0, "the misuse column of a correct program should stay 0")

    def check_kind(self, kind, size, exec_first):
        args = [kind, "--hold-ms", 2000] + (["--exec"] if exec_first else [])
        w = self.start_workload("heap_misuse", *args)
        w.wait_for("ready", timeout=10)
        self.watch(w.pid, cpu=False)
        os.kill(w.pid, signal.SIGUSR1)
        done = w.wait_for("done", timeout=20)
        addr = int(done[2], 16)
        wait_until(lambda: self.misuse_of(w.pid), 10, f"a {kind} alert")
        time.sleep(1.0)  # anything else would have arrived by now
        alerts = self.misuse_of(w.pid)
        self.assertEqual([a["kind"] for a in alerts], [kind],
                         f"expected exactly one {kind} alert, got {alerts}")
        a = alerts[0]
        self.assertEqual((a["pid"], a["tgid"], a["tid"]), (w.pid, w.pid, w.pid), f"pid/tgid/tid of {a}")
        self.assertEqual(int(a["addr"], 16), addr, f"address: the program printed {addr:#x}; alert {a}")
        self.assertEqual(a["size"], size, f"size of the {kind} alert: {a}")
        frames = a["stack"].split(";")
        # pointer kinds are caught at the call's entry (innermost: the libc function);
        # zero-size at its return, which knows the address (innermost: the caller)
        inner = "heap_misuse!misuse+" if kind == "zero-size" else "libc.so.6!"
        self.assertTrue(frames[0].startswith(inner), f"innermost frame should start with {inner!r}: {a['stack']}")
        self.assertTrue(any(f.startswith("heap_misuse!") for f in frames),
                        f"the stack should reach the program's own code: {a['stack']}")
        self.assertEqual((a["metrics"], a["detector"], a["state"]), ("heap", "heap", "closed"), f"{a}")
        report("heap_misuse", kind=kind, stack=a["stack"])
        w.wait_exit(timeout=10)

    def test_double_free(self):
        self.check_kind("double-free", 40, False)
        a = [x for x in self.d.call("anomalies")["anomalies"] if x["kind"] == "double-free"][-1]
        self.assertTrue(a["stack"].startswith("libc.so.6!free+0x0;heap_misuse!misuse+"),
                        f"free (not its alias cfree), then the function that called it: {a['stack']}")

    def test_realloc_freed(self):
        self.check_kind("realloc-freed", 40, False)
        a = [x for x in self.d.call("anomalies")["anomalies"] if x["kind"] == "realloc-freed"][-1]
        self.assertTrue(a["stack"].startswith("libc.so.6!realloc+0x0;"), f"symbol of the probed function: {a}")

    def test_zero_size(self):
        self.check_kind("zero-size", 0, False)

    def test_free_unknown(self):
        self.check_kind("free-unknown", 0, True)

    def test_realloc_unknown(self):
        self.check_kind("realloc-unknown", 100, True)

    def test_unknown_needs_exec(self):
        """Without an exec under watch, blocks from before the watch cannot be told from bad
        pointers: no free-unknown alert, by design."""
        w = self.start_workload("heap_misuse", "free-unknown", "--hold-ms", 500)
        w.wait_for("ready", timeout=10)
        self.watch(w.pid, cpu=False)
        os.kill(w.pid, signal.SIGUSR1)
        w.wait_for("done", timeout=20)
        time.sleep(1.0)
        self.assertEqual(self.misuse_of(w.pid), [], "free-unknown is reported only for processes watched since exec")

    def test_no_libc(self):
        w = self.start_workload("heap_static")
        w.wait_for("ready", timeout=10)
        self.assertRpcError(lambda: self.d.call("watch", {"pid": w.pid, "heap": True}), E_BPF, "libc", str(w.pid))
        self.assertEqual(self.d.call("list")["targets"], [], "a refused watch must leave no target")
        self.d.call("watch", {"pid": w.pid, "cpu": True})  # the same process without heap is fine
        self.addCleanup(self.unwatch, w.pid)
        self.assertIn("heap", self.d.call("status"), "the daemon keeps serving")


class HeapDetach(OsdTestCase):
    def test_detach_after_last(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.start_workload("sleeper")
        d.call("watch", {"pid": w.pid, "heap": True})
        self.assertTrue(d.call("status")["heap"]["attached"])
        d.call("unwatch", {"pid": w.pid})
        st = d.call("status")["heap"]
        self.assertEqual((st["attached"], st["libc"]), (False, []), f"status.heap after the last unwatch: {st}")


if __name__ == "__main__":
    osdtest.main()
