"""test_threads_all.py - every family per thread: threads_mixed, watched with cpu, net,
syscall, heap and threads: true before its threads start working, has one thread that sends
N bytes over loopback TCP, one that receives them, one that makes exactly M getppid() calls
and one that allocates K blocks and keeps them. The `threads` answer must give each thread
exactly its own work (bytes within 2 %, the getppid count and the live bytes exact, the other
threads none of it), the per-thread figures must add up to the target's totals, `sort` must
put the right thread first, osdctl threads must show the extra columns, and once the worker
threads have exited their slots must be reaped while the target totals stay."""
import json
import os
import signal
import time

import osdtest
from osdtest import OsdTestCase, report, wait_until

INTERVAL_MS = 200
BYTES = 4 << 20
CALLS = 20000
BLOCKS = 300
BLOCK_SIZE = 1000
LINGER_MS = 3000
ROLES = ("send", "recv", "sys", "alloc")


class ThreadsAll(OsdTestCase):
    def osdctl(self, d, *args):
        return self.run_osdctl(d, *args).stdout

    def settled(self, d, pid, after):
        """The `threads` answer of a tick at least two intervals after `after` (epoch s),
        once two consecutive ticks agree on every total (the workload is idle)."""
        def totals(r):
            return [(th["tid"], th["net"]["tx_bytes_total"], th["net"]["rx_bytes_total"],
                     th["syscall"]["calls_total"], th["heap"]["live_bytes"]) for th in r["threads"]]
        prev = None
        deadline = time.monotonic() + 15 * osdtest.SLOW
        while time.monotonic() < deadline:
            r = d.call("threads", {"pid": pid})
            if r["time"] >= after + 2 * INTERVAL_MS / 1000:
                if prev and prev["time"] != r["time"] and totals(prev) == totals(r):
                    return r
                if not prev or prev["time"] != r["time"]:
                    prev = r
            time.sleep(INTERVAL_MS / 4000)
        self.fail(f"the per-thread totals did not settle within 15 s after {after}; last {prev}")

    def test_per_thread_families(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.start_workload("threads_mixed", "--bytes", BYTES, "--getppid", CALLS, "--blocks", BLOCKS,
                                "--block-size", BLOCK_SIZE, "--linger-ms", LINGER_MS)
        tid_of = {line[2]: int(line[3]) for line in (w.wait_for("thread", count=i + 1, timeout=10)
                                                      for i in range(len(ROLES)))}
        self.assertEqual(set(tid_of), set(ROLES), f"workload threads: {w.output()}")
        w.wait_for("ready", timeout=10)
        target = d.call("watch", {"pid": w.pid, "cpu": True, "net": True, "syscall": True, "heap": True,
                                  "threads": True, "interval_ms": INTERVAL_MS, "detector": "none"})["target"]
        self.assertTrue(target["options"]["threads"], f"watch options: {target['options']}")
        self.assertEqual(w.find("go"), [], "threads_mixed started before the watch")
        os.kill(w.pid, signal.SIGUSR1)
        done = {line[2]: int(line[4]) for line in (w.wait_for("done", count=i + 1, timeout=30)
                                                    for i in range(len(ROLES)))}
        self.assertEqual(done, {"send": BYTES, "recv": BYTES, "sys": CALLS, "alloc": BLOCKS * BLOCK_SIZE},
                         f"the workload did not do what it was asked: {w.output()}")
        alldone = float(w.wait_for("alldone", timeout=10)[1])

        r = self.settled(d, w.pid, alldone)
        by_tid = {th["tid"]: th for th in r["threads"]}
        for role, tid in tid_of.items():
            self.assertIn(tid, by_tid, f"thread {role} ({tid}) missing from 'threads': {r}")
        main = by_tid.get(w.pid)
        self.assertIsNotNone(main, f"the main thread {w.pid} is missing from 'threads': {r}")
        th = {role: by_tid[tid] for role, tid in tid_of.items()}
        th["main"] = main
        for name, t in th.items():
            for fam, keys in (("net", ("tx_bytes", "rx_bytes", "tx_calls", "rx_calls", "tx_bytes_total",
                                       "rx_bytes_total", "tx_calls_total", "rx_calls_total")),
                              ("syscall", ("calls", "errors", "p50_ns", "p99_ns", "calls_total", "errors_total",
                                           "total_ns", "top")),
                              ("heap", ("live_bytes", "outstanding", "allocs", "frees", "alloc_bytes",
                                        "allocs_total", "frees_total", "alloc_bytes_total"))):
                for k in keys:
                    self.assertIn(k, t.get(fam, {}), f"thread {name}: '{fam}' lacks {k}: {t}")
        report("threads_all", send_tx=th["send"]["net"]["tx_bytes_total"], recv_rx=th["recv"]["net"]["rx_bytes_total"],
               sys_calls=th["sys"]["syscall"]["calls_total"], alloc_live=th["alloc"]["heap"]["live_bytes"])

        # Network: each direction on the thread that did it, and nowhere else.
        for name, key in (("send", "tx_bytes_total"), ("recv", "rx_bytes_total")):
            got = th[name]["net"][key]
            self.assertLessEqual(abs(got - BYTES), 0.02 * BYTES,
                                 f"thread {name}: {key} expected {BYTES} within 2 %, got {got}: {th[name]}")
        self.assertEqual(th["send"]["net"]["rx_bytes_total"], 0, f"the sender received nothing: {th['send']}")
        self.assertEqual(th["recv"]["net"]["tx_bytes_total"], 0, f"the receiver sent nothing: {th['recv']}")
        for name in ("sys", "alloc", "main"):
            n = th[name]["net"]
            self.assertEqual((n["tx_bytes_total"], n["rx_bytes_total"]), (0, 0),
                             f"thread {name} used no socket, but has net figures: {th[name]}")

        # Syscalls: exactly CALLS getppid on the sys thread, none elsewhere.
        def getppid(t):
            return sum(s["count"] for s in t["syscall"]["top"] if s["name"] == "getppid")
        self.assertEqual(getppid(th["sys"]), CALLS, f"sys thread: getppid count in its top syscalls: "
                         f"{th['sys']['syscall']}")
        self.assertEqual(th["sys"]["syscall"]["top"][0]["name"], "getppid",
                         f"getppid is the sys thread's most frequent syscall: {th['sys']['syscall']['top']}")
        self.assertGreaterEqual(th["sys"]["syscall"]["calls_total"], CALLS, f"sys thread: {th['sys']}")
        for name in ("send", "recv", "alloc", "main"):
            self.assertEqual(getppid(th[name]), 0, f"thread {name} made no getppid: {th[name]['syscall']}")

        # Heap: the kept blocks are the alloc thread's, exactly.
        h = th["alloc"]["heap"]
        self.assertEqual((h["live_bytes"], h["outstanding"], h["allocs_total"], h["frees_total"]),
                         (BLOCKS * BLOCK_SIZE, BLOCKS, BLOCKS, 0),
                         f"alloc thread (live_bytes, outstanding, allocs_total, frees_total): {h}")
        for name in ("send", "recv", "sys", "main"):
            self.assertEqual(th[name]["heap"]["live_bytes"], 0, f"thread {name} allocated nothing: {th[name]}")

        # The threads add up to the target's totals.
        net = d.series(w.pid, "net")
        for col, key in (("tx_bytes", "tx_bytes_total"), ("rx_bytes", "rx_bytes_total"),
                         ("tx_calls", "tx_calls_total"), ("rx_calls", "rx_calls_total")):
            want = sum(p[col] for p in net)
            got = sum(t["net"][key] for t in r["threads"])
            self.assertEqual(got, want, f"net: the threads' {key} add up to {got}, the target's {col} series to "
                             f"{want}")
        calls = d.call("syscalls", {"pid": w.pid})["syscalls"]
        for key, field in (("calls_total", "count"), ("errors_total", "errors")):
            want = sum(s[field] for s in calls)
            got = sum(t["syscall"][key] for t in r["threads"])
            self.assertEqual(got, want, f"syscall: the threads' {key} add up to {got}, the target's syscalls "
                             f"{field} to {want}")
        last = [t for t in d.call("list")["targets"] if t["pid"] == w.pid][0]["last"]
        got = sum(t["heap"]["live_bytes"] for t in r["threads"])
        self.assertEqual(got, last["live_bytes"], f"heap: the threads' live_bytes add up to {got}, the target's "
                         f"to {last['live_bytes']}")
        self.assertEqual(sum(t["heap"]["outstanding"] for t in r["threads"]), last["outstanding"],
                         f"heap: the threads' outstanding blocks vs the target's: {last}")

        # sort: the thread that did the most of each comes first (idle now: by totals).
        for sort, first in (("net", {"send", "recv"}), ("syscall", {"sys"}), ("heap", {"alloc"})):
            rs = d.call("threads", {"pid": w.pid, "sort": sort})
            self.assertEqual(rs["sort"], sort, f"threads sort={sort}: {rs}")
            self.assertIn(rs["threads"][0]["tid"], {tid_of[x] for x in first},
                          f"sort={sort}: expected one of {first} first, got {rs['threads'][0]}")
        self.assertRpcError(lambda: d.call("threads", {"pid": w.pid, "sort": "disk"}), -32602, "sort", "disk")

        # status: the per-thread maps, bounded and not full.
        st = d.call("status")
        for fam in ("net", "syscall", "heap"):
            m = st[fam]["threads"]
            self.assertGreater(m["entries"], 0, f"status.{fam}.threads: {m}")
            self.assertLessEqual(m["entries"], m["max"], f"status.{fam}.threads: {m}")
            self.assertEqual(m["full"], 0, f"status.{fam}.threads: {m}")

        # osdctl: the extra columns, and --json gives the same objects.
        text = self.osdctl(d, "threads", w.pid, "--sort", "syscall")
        header = [x for x in text.splitlines() if x.split()[:1] == ["TID"]]
        self.assertTrue(header, f"osdctl threads: no header line:\n{text}")
        for col in ("NET-TX", "NET-RX", "SYSCALLS", "HEAP-LIVE"):
            self.assertIn(col, header[0], f"osdctl threads: column {col} missing:\n{text}")
        rows = [x.split() for x in text.splitlines() if x.split()[:1] == [str(tid_of["sys"])]]
        self.assertTrue(rows, f"osdctl threads: no row for the sys thread {tid_of['sys']}:\n{text}")
        js = json.loads(self.osdctl(d, "threads", w.pid, "--json"))
        self.assertEqual({t["tid"] for t in js["threads"]}, set(by_tid), "osdctl threads --json: the same threads")
        self.assertIn("top", js["threads"][0]["syscall"], f"osdctl threads --json: {js['threads'][0]}")

        # The workers exit (the main thread lingers): their slots go, the totals stay.
        sys_before = d.call("status")["syscall"]["threads"]["entries"]
        w.wait_for("joined", timeout=15)
        wait_until(lambda: {t["tid"] for t in d.call("threads", {"pid": w.pid})["threads"]} == {w.pid},
                   10 * osdtest.SLOW, "only the main thread listed after the workers exited")

        def entries():
            st = d.call("status")
            return {fam: st[fam]["threads"]["entries"] for fam in ("net", "syscall", "heap")}
        # the main thread keeps its syscall slots; it has no net or heap slot
        wait_until(lambda: entries()["net"] == 0 and entries()["heap"] == 0, 10 * osdtest.SLOW,
                   f"the exited threads' net and heap slots reaped (status: {entries()})")
        # one slot per (thread, syscall): the main thread alone made a handful of kinds
        self.assertLess(entries()["syscall"], sys_before, f"syscall slots before the workers exited: "
                        f"{sys_before}, after: {entries()}")
        self.assertLessEqual(entries()["syscall"], 16, f"syscall slots left after the workers exited: {entries()}")
        names = {s["name"]: s for s in d.call("syscalls", {"pid": w.pid})["syscalls"]}
        self.assertEqual(names["getppid"]["count"], CALLS, f"the target still counts the exited thread's getppid "
                         f"calls: {names['getppid']}")
        time.sleep(2 * INTERVAL_MS / 1000)
        last = [t for t in d.call("list")["targets"] if t["pid"] == w.pid][0]["last"]
        self.assertEqual(last["live_bytes"], BLOCKS * BLOCK_SIZE,
                         f"the blocks of the exited alloc thread are still the process's: {last}")
        net = d.series(w.pid, "net")
        self.assertEqual(sum(p["tx_bytes"] for p in net), th["send"]["net"]["tx_bytes_total"],
                         "the target's tx bytes after the sender exited")
        self.assertEqual(w.wait_exit(timeout=20), 0, w.output())


if __name__ == "__main__":
    osdtest.main()
