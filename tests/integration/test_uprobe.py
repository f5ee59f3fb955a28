"""test_uprobe.py - user-function tracing (trace with `uprobe`). The `ufunc` workload calls
search(n, "item-<n>") exactly CALLS times per round (n = round*1000 + i) and it returns n if
n is even, -n if odd; the third round runs in a forked child. The trace messages must show
exactly those values, in order, from the right process; the per-function series must count
exactly the calls made while attached; a second tracer (osdctl, its own format and
--count) shares the probe; bad binaries, symbols and formats, and the slot limit, get clear
errors while the daemon and the running trace carry on; `watch` with `uprobes` counts
without streaming."""
import json
import os
import re
import signal
import subprocess
import time

import osdtest
from osdtest import E_INVALID_PARAMS, E_LIMIT, E_NOT_WATCHED, OsdTestCase, report, wait_until

INTERVAL_MS = 200
CALLS = 25
SLOTS = 64  # OSD_UP_SLOTS
BIN = os.path.join(osdtest.WORKLOADS, "ufunc")
SEARCH = f"{os.path.realpath(BIN)}:search"


def expected(rnd):
    """The (n, return value) of each search() call of a round."""
    ns = [rnd * 1000 + i for i in range(CALLS)]
    return [(n, n if n % 2 == 0 else -n) for n in ns]


class Uprobe(OsdTestCase):
    def setUp(self):
        if not osdtest.OSDCTL_BIN or not os.access(osdtest.OSDCTL_BIN, os.X_OK):
            raise AssertionError(f"OSDCTL_BIN is not an executable: {osdtest.OSDCTL_BIN!r}")

    def osdctl(self, d, *args, timeout=30):
        return self.run_osdctl(d, *args, rc=None, timeout=timeout)

    def ufunc(self, d, rounds, **kw):
        args = ["--calls", CALLS, "--rounds", rounds, "--linger-ms", 60000, "--max-s", 110]
        for k, v in kw.items():
            args += [f"--{k.replace('_', '-')}", v]
        w = self.start_workload("ufunc", *args)
        w.wait_for("ready")
        return w

    def recv_trace(self, c, n, timeout=10.0):
        """The params of the next n trace notifications on connection c."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            msg = c.recv(timeout=max(0.1, deadline - time.monotonic()))
            if msg.get("method") == "trace":
                out.append(msg["params"])
            else:
                self.assertEqual(msg.get("method"), "trace.dropped", f"unexpected message {msg}")
                self.fail(f"events dropped with a nearly idle ring buffer: {msg}")
        return out

    def check_round(self, events, rnd, tgid):
        want = []
        for n, ret in expected(rnd):
            want += [("enter", f"n={n} name=item-{n}", [n, f"item-{n}"]), ("return", f"ret={ret}", [ret])]
        got = [(e["event"], e["message"], e["args"]) for e in events]
        self.assertEqual(got, want, f"round {rnd}: messages, in order, with the call's values")
        for e in events:
            self.assertEqual(e["function"], SEARCH, "every event names the function")
            self.assertEqual(e["tgid"], tgid, f"round {rnd} runs in process {tgid}: {e}")
            if e["event"] == "return":
                self.assertGreater(e["latency_ns"], 0, f"a return carries its latency: {e}")
                self.assertEqual(e["retval"] & 0xffffffff, e["args"][0] & 0xffffffff, "retval is the register")
        times = [e["time"] for e in events]
        self.assertEqual(times, sorted(times), "events come in time order")

    def series_calls(self, d, pid, function=SEARCH):
        return sum(p["calls"] for p in d.series(pid, "func", function=function))

    def test_trace_values_counts_fork(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.ufunc(d, 3, fork_round=3)
        d.call("watch", {"pid": w.pid})
        c = d.connect()
        self.addCleanup(c.close)
        r = c.call("trace", {"pid": w.pid, "uprobe": f"{BIN}:search", "enter": "n=%d name=%s arg1, arg2",
                             "return": "'ret=%d' % (retval)"})
        self.assertEqual((r["tracing"], r["function"], r["enter"], r["return"]),
                         (True, SEARCH, "n=%d name=%s", "ret=%d"), f"trace reply: {r}")
        st = d.call("status")["uprobe"]
        self.assertEqual((st["attached"], st["slots_max"], [p["function"] for p in st["probes"]]), (1, SLOTS, [SEARCH]),
                         f"status.uprobe while tracing: {st}")

        os.kill(w.pid, signal.SIGUSR1)
        self.check_round(self.recv_trace(c, 2 * CALLS), 1, w.pid)

        # A second tracer of the same function with its own format, through osdctl.
        tr = subprocess.Popen([osdtest.OSDCTL_BIN, "--socket", d.socket, "trace", str(w.pid), "--uprobe",
                               f"{BIN}:search", "--enter", "'got %d' % arg1", "--count", "4"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: tr.poll() is None and tr.kill())
        wait_until(lambda: [p for p in d.call("status")["uprobe"]["probes"] if p["tracers"] == 2], 10,
                   "osdctl to join the probe")
        self.assertEqual(d.call("status")["uprobe"]["attached"], 1, "two tracers of one function share a probe")
        os.kill(w.pid, signal.SIGUSR1)
        self.check_round(self.recv_trace(c, 2 * CALLS), 2, w.pid)
        out, err = tr.communicate(timeout=15)
        self.assertEqual(tr.returncode, 0, f"osdctl trace --count 4: exit {tr.returncode}; stderr:\n{err}")
        lines = out.splitlines()
        line_re = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} (\d+) ufunc:search (enter|return) (.*)$")
        parsed = [line_re.match(x) for x in lines]
        self.assertTrue(all(parsed) and len(lines) == 4, f"4 lines 'TIME TID ufunc:search EVENT MESSAGE':\n{out}")
        self.assertEqual([(m[2], m[3]) for m in parsed],
                         [("enter", "got 2000"), ("return", "return search ret=2000"),
                          ("enter", "got 2001"), ("return", f"return search ret={2**32 - 2001}")],
                         "osdctl's own enter format, the default return format (%ld of the whole register: "
                         "an int's -2001 has zero upper bits)")
        wait_until(lambda: d.call("status")["uprobe"]["probes"][0]["tracers"] == 1, 10,
                   "osdctl's tracer to leave when it exits")

        # Round 3 runs in a forked child: the probe follows the tree.
        os.kill(w.pid, signal.SIGUSR1)
        done = w.wait_for("done", "3")
        child = int(done[3])
        self.assertNotEqual(child, w.pid, "round 3 runs in a child")
        self.check_round(self.recv_trace(c, 2 * CALLS), 3, child)

        total = 3 * CALLS
        wait_until(lambda: self.series_calls(d, w.pid) == total, 10,
                   f"the func series to count exactly {total} calls")
        pts = d.series(w.pid, "func", function=SEARCH)
        busy = [p for p in pts if p["calls"]]
        self.assertTrue(all(p["p50_ns"] > 0 and p["p99_ns"] >= p["p50_ns"] and p["avg_ns"] > 0 for p in busy),
                        f"intervals with calls have latencies: {busy}")
        st = d.call("status")["uprobe"]
        self.assertEqual(st["probes"][0]["calls"], total, f"status counts the calls: {st}")
        self.assertIsInstance(st["events_dropped"], int, f"status.uprobe.events_dropped: {st}")
        self.assertGreaterEqual(st["events"], 2 * total, f"status.uprobe.events: {st}")
        report("uprobe_trace", events=st["events"], dropped=st["events_dropped"], calls=total)

        # The trace ends with its connection; the series stays until unwatch.
        c.close()
        wait_until(lambda: d.call("status")["uprobe"]["attached"] == 0, 10, "the probe to detach")
        os.kill(w.pid, signal.SIGUSR1)  # a fourth signal: no round is left, nothing is counted
        time.sleep(3 * INTERVAL_MS / 1000)
        self.assertEqual(self.series_calls(d, w.pid), total, "the series is kept, and exact, after detaching")
        res = d.call("series", {"pid": w.pid, "metric": "func", "function": SEARCH})
        self.assertFalse(res["attached"], f"series says the probe is gone: {res['attached']}")
        target = d.call("list")["targets"][0]
        self.assertEqual(target["functions"], [SEARCH], f"list shows the traced function: {target}")

        p = self.osdctl(d, "--json", "series", w.pid, "--metric", "func", "--function", f"{BIN}:search")
        self.assertEqual(p.returncode, 0, f"osdctl series --metric func: {p.stderr}")
        got = json.loads(p.stdout)
        self.assertEqual(sum(row[got["columns"].index("calls")] for row in got["points"]), total,
                         f"osdctl series --metric func --json: {p.stdout[:500]}")
        p = self.osdctl(d, "series", w.pid, "--metric", "func")
        self.assertEqual(p.returncode, 2, f"--metric func without --function is a usage error: {p.stderr}")
        self.assertIn("--function", p.stderr)

        d.call("unwatch", {"pid": w.pid})
        wait_until(lambda: d.call("status")["uprobe"]["slots_used"] == 0, 10, "unwatch to free the slot")

    def test_bad_input(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.ufunc(d, 1)
        d.call("watch", {"pid": w.pid})
        live = d.connect()
        self.addCleanup(live.close)
        live.call("trace", {"pid": w.pid, "uprobe": f"{BIN}:search", "enter": "n=%d arg1"})

        def trace(params):
            c = d.connect()
            try:
                return c.call("trace", dict({"pid": w.pid}, **params))
            finally:
                c.close()

        cases = [
            ({"uprobe": "/nonexistent/osd-uprobe-bin:main"}, E_INVALID_PARAMS, ["no such binary",
                                                                                "/nonexistent/osd-uprobe-bin"]),
            ({"uprobe": f"{BIN}:no_such_function"}, E_INVALID_PARAMS, ["no symbol 'no_such_function'", BIN]),
            ({"uprobe": f"{BIN}_stripped:search"}, E_INVALID_PARAMS, ["no symbol 'search'", "stripped"]),
            ({"uprobe": f"{os.path.abspath(__file__)}:main"}, E_INVALID_PARAMS, ["not an ELF file"]),
            ({"uprobe": "search"}, E_INVALID_PARAMS, ["BINARY:FUNCTION"]),
            ({"uprobe": "bin/ufunc:search"}, E_INVALID_PARAMS, ["absolute path"]),
            ({"uprobe": "nosuchlib.so:search"}, E_INVALID_PARAMS, ["maps no file named 'nosuchlib.so'"]),
            ({"uprobe": f"{BIN}:search", "enter": "n=%d"}, E_INVALID_PARAMS, ["enter", "1 conversion but 0"]),
            ({"uprobe": f"{BIN}:search", "enter": "n=%d arg1 arg2"}, E_INVALID_PARAMS, ["1 conversion but 2"]),
            ({"uprobe": f"{BIN}:search", "enter": "n=%d argx"}, E_INVALID_PARAMS, ["unknown argument name 'argx'"]),
            ({"uprobe": f"{BIN}:search", "enter": "r=%d retval"}, E_INVALID_PARAMS, ["'retval' is only available"]),
            ({"uprobe": f"{BIN}:search", "return": "r=%d arg1"}, E_INVALID_PARAMS, ["return", "'arg1' is not"]),
            ({"uprobe": f"{BIN}:search", "enter": "v=%f arg1"}, E_INVALID_PARAMS, ["unsupported conversion '%f'"]),
            ({"uprobe": f"{BIN}:search", "syscalls": True}, E_INVALID_PARAMS, ["not both"]),
            ({"syscalls": True, "enter": "x"}, E_INVALID_PARAMS, ["go with 'uprobe'"]),
        ]
        for params, code, words in cases:
            self.assertRpcError(lambda: trace(params), code, *words)
            self.assertEqual(d.call("status")["uprobe"]["attached"], 1, f"after {params}: nothing else disturbed")
        # The basename of a file the target maps names it.
        self.assertEqual(trace({"uprobe": "ufunc:search"})["function"], SEARCH)
        self.assertRpcError(lambda: d.connect().call("trace", {"pid": 999999999 // 1000, "uprobe": f"{BIN}:search"}),
                            E_NOT_WATCHED, "not watched")
        self.assertRpcError(lambda: live.call("trace", {"pid": w.pid, "uprobe": f"{BIN}:label"}), E_INVALID_PARAMS,
                            "already traces")
        self.assertRpcError(lambda: d.call("series", {"pid": w.pid, "metric": "func"}), E_INVALID_PARAMS,
                            "function", SEARCH)
        self.assertRpcError(lambda: d.call("series", {"pid": w.pid, "metric": "func", "function": f"{BIN}:f01"}),
                            E_INVALID_PARAMS, "no series")
        p = self.osdctl(d, "trace", w.pid, "--uprobe", f"{BIN}:nope")
        self.assertEqual(p.returncode, 1, f"osdctl trace of a missing symbol exits 1: {p.stderr}")
        self.assertIn("no symbol 'nope'", p.stderr)
        p = self.osdctl(d, "trace", w.pid, "--uprobe", "nocolon")
        self.assertEqual(p.returncode, 2, f"a malformed --uprobe is a usage error: {p.stderr}")
        # The first trace never stopped.
        os.kill(w.pid, signal.SIGUSR1)
        msgs = [e["message"] for e in self.recv_trace(live, 2 * CALLS)]
        self.assertEqual(msgs[:4], ["n=1000", "return search ret=1000", "n=1001", f"return search ret={2**32 - 1001}"],
                         "the running trace carries on after every refused request (default return format)")

    def test_slot_limit_and_watch_counting(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.ufunc(d, 1)
        d.call("watch", {"pid": w.pid, "uprobes": [f"{BIN}:search"]})
        st = d.call("status")["uprobe"]
        self.assertEqual([(p["function"], p["counting"], p["tracers"]) for p in st["probes"]], [(SEARCH, True, 0)],
                         f"watch with uprobes counts without a tracer: {st}")
        conns = []
        self.addCleanup(lambda: [c.close() for c in conns])
        t0 = time.monotonic()
        for k in range(SLOTS - 1):
            c = d.connect()
            conns.append(c)
            c.call("trace", {"pid": w.pid, "uprobe": f"{BIN}:f{k:02d}"})
        report("uprobe_attach", probes=SLOTS, seconds=time.monotonic() - t0)
        self.assertEqual(d.call("status")["uprobe"]["slots_used"], SLOTS)
        extra = d.connect()
        conns.append(extra)
        e = self.assertRpcError(lambda: extra.call("trace", {"pid": w.pid, "uprobe": f"{BIN}:f{SLOTS:02d}"}),
                                E_LIMIT, "too many uprobes")
        self.assertEqual(e.data.get("field"), "uprobe", f"error data names the param: {e.data}")
        self.assertEqual(d.call("status")["uprobe"]["slots_used"], SLOTS, "the refused probe took no slot")
        conns.pop(0).close()
        wait_until(lambda: d.call("status")["uprobe"]["slots_used"] == SLOTS - 1, 10, "a slot to free up")
        extra.call("trace", {"pid": w.pid, "uprobe": f"{BIN}:f{SLOTS:02d}"})

        # The counted function: exact, without anyone tracing it.
        os.kill(w.pid, signal.SIGUSR1)
        w.wait_for("done", "1")
        wait_until(lambda: self.series_calls(d, w.pid) == CALLS, 10, f"the watch-counted series to reach {CALLS}")
        for c in conns:
            c.close()
        conns.clear()
        # The kernel takes ~0.2 s per probe to detach (one grace period per link, one at a time).
        wait_until(lambda: d.call("status")["uprobe"]["slots_used"] == 1, 60, "the traced probes to detach")
        d.call("unwatch", {"pid": w.pid})
        self.assertEqual(d.call("status")["uprobe"]["attached"], 0, "unwatch detaches the counted probe")
        wait_until(lambda: d.call("status")["uprobe"]["slots_used"] == 0, 10, "its slot to be free again")
        self.assertRpcError(lambda: d.call("watch", {"pid": w.pid, "uprobes": [f"{BIN}:nope"]}), E_INVALID_PARAMS,
                            "no symbol 'nope'")
        self.assertEqual(d.call("list")["targets"], [], "a refused watch leaves no target")


if __name__ == "__main__":
    osdtest.main()
