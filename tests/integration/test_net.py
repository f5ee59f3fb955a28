"""test_net.py - network bytes of a watched tree: net_pair moves a known number of bytes over
loopback TCP between a parent and its child (the reply back too) and then datagrams over UDP;
the `net` series of the tree, watched with net: true, must sum to what both sides' send and
recv calls returned within 2 %, in each direction, in total and per protocol. osdctl shows
the family in list and prints the series as CSV."""
import csv
import io
import os
import signal
import time

import osdtest
from osdtest import OsdTestCase, report, wait_until

INTERVAL_MS = 200
BYTES = 8 << 20
CHUNK = 64 << 10
REPLY = 1 << 20
UDP = 256 << 10
TOLERANCE = 0.02
COLUMNS = ["time", "tx_bytes", "rx_bytes", "tx_calls", "rx_calls", "tcp_tx_bytes", "tcp_rx_bytes",
           "udp_tx_bytes", "udp_rx_bytes"]


def counts(tokens):
    """{"tcp_tx": n, ...} from "child <ts> tcp_rx N tcp_tx N udp_rx N" style tokens."""
    return {tokens[i]: int(tokens[i + 1]) for i in range(2, len(tokens) - 1, 2)}


class Net(OsdTestCase):
    def osdctl(self, d, *args):
        return self.run_osdctl(d, *args).stdout

    def assertNear(self, got, want, what):
        err = abs(got - want) / max(want, 1)
        self.assertLessEqual(err, TOLERANCE, f"{what}: expected {want} bytes within {100 * TOLERANCE:.0f} %, the "
                             f"net series sums to {got} ({100 * err:.2f} % off)")

    def test_tcp_udp_bytes(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.start_workload("net_pair", "--bytes", BYTES, "--chunk", CHUNK, "--reply", REPLY, "--udp", UDP,
                                "--start-delay-ms", 30000, "--linger-ms", 5 * INTERVAL_MS)
        ready = w.wait_for("ready", timeout=10)
        child_pid = int(ready[3])
        target = d.call("watch", {"pid": w.pid, "net": True, "interval_ms": INTERVAL_MS})["target"]
        opts = target["options"]
        self.assertEqual((opts.get("cpu"), opts.get("mem"), opts.get("net"), opts.get("children")),
                         (False, False, True, True),
                         f"watch with only net:true: expected (cpu, mem, net, children) = (False, False, True, "
                         f"True), got {opts}")
        wait_until(lambda: [t for t in d.call("list")["targets"] if t["pid"] == w.pid and t["members"] == 2],
                   5, f"the child {child_pid} counted as a member of the target")
        self.assertEqual(w.find("go"), [], "net_pair started before the watch")
        os.kill(w.pid, signal.SIGUSR1)
        child = counts(w.wait_for("child", timeout=30))
        parent = counts(w.wait_for("parent", timeout=30))
        w.wait_for("done", timeout=30)
        self.assertEqual(w.wait_exit(timeout=10), 0, f"net_pair failed: {w.output()}")
        self.assertEqual((parent["tcp_tx"], child["tcp_rx"], child["tcp_tx"], parent["tcp_rx"], parent["udp_tx"]),
                         (BYTES, BYTES, REPLY, REPLY, UDP), f"net_pair did not move what it was asked to: "
                         f"{w.output()}")
        wait_until(lambda: [t for t in d.call("list")["targets"] if t["pid"] == w.pid and t["state"] == "exited"
                            and t["members"] == 0],
                   10, "the target to be reported exited with no member left")
        # a member's last point comes at the tick that reaps it: let that tick pass, so the
        # RPC and osdctl reads below see the same, final series
        time.sleep(3 * INTERVAL_MS / 1000)

        res = d.call("series", {"pid": w.pid, "metric": "net"})
        self.assertEqual(res["columns"], COLUMNS, "net series columns")
        points = [dict(zip(res["columns"], p)) for p in res["points"]]
        self.assertTrue(points, "no net points")
        total = {c: sum(p[c] for p in points) for c in COLUMNS[1:]}
        want = {
            "tcp_tx_bytes": parent["tcp_tx"] + child["tcp_tx"],
            "tcp_rx_bytes": parent["tcp_rx"] + child["tcp_rx"],
            "udp_tx_bytes": parent["udp_tx"],
            "udp_rx_bytes": child["udp_rx"],
        }
        want["tx_bytes"] = want["tcp_tx_bytes"] + want["udp_tx_bytes"]
        want["rx_bytes"] = want["tcp_rx_bytes"] + want["udp_rx_bytes"]
        report("net_sums", **{k: total[k] for k in want}, udp_lost=UDP - child["udp_rx"], points=len(points))
        for col in ("tx_bytes", "rx_bytes", "tcp_tx_bytes", "tcp_rx_bytes", "udp_tx_bytes", "udp_rx_bytes"):
            self.assertNear(total[col], want[col], col)
        # Every send/recv call moved at most CHUNK bytes (UDP: at most 8 KiB), so at least this many:
        self.assertGreaterEqual(total["tx_calls"], (BYTES + REPLY) // CHUNK + UDP // 8192,
                                f"tx_calls {total['tx_calls']} is fewer than the sends needed")
        self.assertGreaterEqual(total["rx_calls"], (BYTES + REPLY) // CHUNK,
                                f"rx_calls {total['rx_calls']} is fewer than the receives needed")
        for p in points:
            self.assertGreaterEqual(p["tx_bytes"], p["tcp_tx_bytes"] + p["udp_tx_bytes"],
                                    f"a point's tx_bytes is less than its TCP and UDP parts: {p}")
            self.assertGreaterEqual(p["rx_bytes"], p["tcp_rx_bytes"] + p["udp_rx_bytes"],
                                    f"a point's rx_bytes is less than its TCP and UDP parts: {p}")

        # The client: the family in list, the series as CSV with the same points.
        out = self.osdctl(d, "list")
        line = [x for x in out.splitlines() if x.split()[:1] == [str(w.pid)]]
        self.assertTrue(line and " net " in f" {line[0]} ", f"osdctl list should show the net family: {out}")
        rows = list(csv.reader(io.StringIO(self.osdctl(d, "series", w.pid, "--metric", "net", "--csv"))))
        self.assertEqual(rows[0], COLUMNS, "osdctl series --metric net --csv header")
        self.assertEqual(len(rows) - 1, len(points), "osdctl series --metric net: one row per point")
        self.assertEqual(sum(int(r[1]) for r in rows[1:]), total["tx_bytes"], "CSV tx_bytes sum")
        text = self.osdctl(d, "series", w.pid, "--metric", "net")
        self.assertIn("TCP-TX", text, "osdctl series --metric net text header")
        self.assertIn("MiB", text, "megabytes moved in an interval are shown humanised")


if __name__ == "__main__":
    osdtest.main()
