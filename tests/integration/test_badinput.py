"""test_badinput.py - bad input gets the right JSON-RPC error with a message naming the
problem, and the daemon keeps serving: after each case `status` answers on the same
connection (unless the protocol closes it) and on a new one. Also: 100 clients at once,
a client that never reads its replies, a client that leaves mid-message."""
import json
import os
import socket
import subprocess
import threading
import time

import osdtest
from osdtest import OsdTestCase, report, wait_until


def gone_pid():
    """A pid that existed a moment ago and is now reaped: no such process."""
    p = subprocess.Popen(["/bin/true"])
    p.wait()
    assert not os.path.exists(f"/proc/{p.pid}"), "pid reused at once"
    return p.pid


class BadInput(OsdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = cls.start_daemon_cls(interval_ms=500)
        cls.target = cls.start_workload_cls("sleeper", "--max-s", 170)
        cls.target.wait_for("ready", timeout=10)
        cls.d.call("watch", {"pid": cls.target.pid})

    def setUp(self):
        self.c = self.d.connect()
        self.addCleanup(self.c.close)

    def assert_alive(self, conn=None):
        """status answers on conn (if still open) and on a fresh connection."""
        if conn is not None:
            st = conn.call("status")
            self.assertEqual(st["pid"], self.d.pid, "status on the same connection")
        fresh = self.d.connect()
        try:
            st = fresh.call("status")
            self.assertEqual(st["pid"], self.d.pid, "status on a new connection")
        finally:
            fresh.close()
        return st

    def raw_error(self, line, code, *words):
        """Sends a raw line; expects one error reply with code and words in the message."""
        self.c.send_raw(line)
        resp = self.c.recv()
        self.assertNotIn("result", resp, f"expected an error for {line[:80]!r}, got {resp}")
        self.assertEqual(resp.get("jsonrpc"), "2.0", f"reply: {resp}")
        err = resp["error"]
        self.assertEqual(err["code"], code, f"for {line[:80]!r}: expected code {code}, got {err}")
        for w in words:
            self.assertIn(w, err["message"], f"for {line[:80]!r}: message should name {w!r}, got {err['message']!r}")
        return resp

    def call_error(self, method, params, code, *words, field=None):
        e = self.assertRpcError(lambda: self.c.call(method, params), code, *words)
        if field is not None:
            self.assertEqual(e.data, {"field": field}, f"error data for {method} {params}: {e.message!r}")
        self.assert_alive(self.c)
        return e

    def test_malformed_json(self):
        resp = self.raw_error(b'{"jsonrpc":"2.0","id":1,"method":"status"\n', osdtest.E_PARSE, "parse error")
        self.assertIsNone(resp["id"], "a line that does not parse has no id: expected null")
        self.raw_error(b'\xff\xfe{}\n', osdtest.E_PARSE, "parse error")
        self.assert_alive(self.c)

    def test_batch_and_non_objects(self):
        self.raw_error(b'[{"jsonrpc":"2.0","id":1,"method":"status"}]\n', osdtest.E_INVALID_REQUEST, "batch")
        self.raw_error(b'{"jsonrpc":"1.0","id":3,"method":"status"}\n', osdtest.E_INVALID_REQUEST, "jsonrpc")
        self.raw_error(b'{"jsonrpc":"2.0","id":4}\n', osdtest.E_INVALID_REQUEST, "method")
        self.raw_error(b'{"jsonrpc":"2.0","id":5,"method":7}\n', osdtest.E_INVALID_REQUEST, "method")
        self.raw_error(b'{"jsonrpc":"2.0","id":6,"method":"list","params":[1]}\n', osdtest.E_INVALID_PARAMS,
                       "params")
        self.assert_alive(self.c)

    def test_json_that_is_not_an_object(self):
        # valid JSON, but not a request object: "invalid request", not "parse error"
        for line in (b'42\n', b'"status"\n', b'null\n'):
            self.raw_error(line, osdtest.E_INVALID_REQUEST, "object")
        self.assert_alive(self.c)

    def test_unknown_method(self):
        self.call_error("frobnicate", None, osdtest.E_METHOD_NOT_FOUND, "frobnicate")

    def test_wrong_param_types(self):
        pid = self.target.pid
        self.call_error("watch", {"pid": str(pid)}, osdtest.E_INVALID_PARAMS, "pid", field="pid")
        self.call_error("watch", {"pid": pid, "cpu": 1}, osdtest.E_INVALID_PARAMS, "cpu", field="cpu")
        self.call_error("watch", {"pid": -5}, osdtest.E_INVALID_PARAMS, "pid", field="pid")
        self.call_error("watch", {"pid": 1.5}, osdtest.E_INVALID_PARAMS, "pid", field="pid")
        self.call_error("series", {"pid": pid, "metric": 3}, osdtest.E_INVALID_PARAMS, "metric", field="metric")
        self.call_error("series", {"pid": pid, "metric": "disk"}, osdtest.E_INVALID_PARAMS, "disk")
        self.call_error("series", {"pid": pid, "metric": "cpu", "since": "yesterday"}, osdtest.E_INVALID_PARAMS,
                        "since", field="since")

    def test_missing_pid(self):
        self.call_error("watch", {"cpu": True}, osdtest.E_INVALID_PARAMS, "pid", field="pid")
        self.call_error("unwatch", {}, osdtest.E_INVALID_PARAMS, "pid", field="pid")
        self.call_error("series", {"metric": "cpu"}, osdtest.E_INVALID_PARAMS, "pid", field="pid")

    def test_unknown_param(self):
        self.call_error("watch", {"pid": self.target.pid, "cpuu": True}, osdtest.E_INVALID_PARAMS, "cpuu")
        self.call_error("status", {"verbose": True}, osdtest.E_INVALID_PARAMS, "verbose")

    def test_no_such_pid(self):
        pid = gone_pid()
        self.call_error("watch", {"pid": pid}, osdtest.E_NO_SUCH_PROCESS, str(pid), field="pid")
        self.call_error("unwatch", {"pid": pid}, osdtest.E_NOT_WATCHED, str(pid))

    def test_watch_twice(self):
        pid = self.target.pid
        self.call_error("watch", {"pid": pid}, osdtest.E_ALREADY_WATCHED, str(pid), field="pid")
        self.assertEqual([t["pid"] for t in self.c.call("list")["targets"]], [pid], "still one target")

    def test_interval_out_of_range(self):
        pid = self.target.pid
        for iv in (99, 0, 60001):
            self.call_error("watch", {"pid": pid, "interval_ms": iv}, osdtest.E_INVALID_PARAMS, "interval_ms",
                            field="interval_ms")
        self.call_error("watch", {"pid": pid, "interval_ms": "fast"}, osdtest.E_INVALID_PARAMS, "interval_ms")
        # both ends of the range are accepted
        other = self.start_workload("sleeper", "--max-s", 60)
        other.wait_for("ready")
        for iv in (100, 60000):
            t = self.c.call("watch", {"pid": other.pid, "interval_ms": iv})["target"]
            self.assertEqual(t["options"]["interval_ms"], iv)
            self.c.call("unwatch", {"pid": other.pid})

    def test_nothing_to_collect(self):
        self.call_error("watch", {"pid": self.target.pid, "cpu": False, "mem": False}, osdtest.E_INVALID_PARAMS,
                        "cpu")

    def test_notification_gets_no_reply(self):
        self.c.send_raw(b'{"jsonrpc":"2.0","method":"status"}\n')
        self.c.send_raw(b'{"jsonrpc":"2.0","method":"frobnicate"}\n')
        resp = self.c.request("list")
        self.assertIn("result", resp, "the first reply must be the one to the request after the notifications")

    def test_line_too_long(self):
        # exactly 1 MiB before the newline is allowed
        body = b'{"jsonrpc":"2.0","id":77,"method":"status"}'
        self.c.send_raw(b" " * (osdtest.MAX_MSG - len(body)) + body + b"\n")
        resp = self.c.recv()
        self.assertEqual(resp.get("id"), 77, f"a line of exactly 1 MiB must be served, got {str(resp)[:300]}")
        # one byte more is refused and the connection closed
        try:
            self.c.send_raw(b" " * (osdtest.MAX_MSG + 1 - len(body)) + body + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: the reply is still queued for us
        resp = json.loads(self.c.recv_line())
        self.assertEqual(resp["error"]["code"], osdtest.E_TOO_LARGE, f"reply to a 1 MiB + 1 line: {resp}")
        self.assertIn("1048576", resp["error"]["message"], "the message should state the limit")
        self.assertTrue(self.c.peer_closed(5), "the connection should be closed after -32003")
        self.assert_alive()

    def test_half_message_then_disconnect(self):
        base = self.c.call("status")["clients"]
        half = self.d.connect()
        half.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"sta')
        time.sleep(0.2)
        half.close()
        big = self.d.connect()
        big.send_raw(b'{"jsonrpc":"2.0","id":2,"method":"status","params":{"x":"' + b"y" * 300000)
        big.close()
        wait_until(lambda: self.c.call("status")["clients"] == base, 5,
                   f"status.clients back to {base} after two clients left mid-message")
        self.assert_alive(self.c)

    def test_hundred_clients(self):
        base = self.c.call("status")["clients"]
        clients = [self.d.connect() for _ in range(100)]
        try:
            for i, c in enumerate(clients):
                c.send("status" if i % 2 else "list", req_id=1000 + i)
            t0 = time.monotonic()
            for i, c in enumerate(clients):
                resp = c.recv(timeout=10)
                self.assertEqual(resp.get("id"), 1000 + i, f"client {i}: wrong reply {str(resp)[:200]}")
                res = resp.get("result")
                self.assertIsNotNone(res, f"client {i}: {resp}")
                if i % 2:
                    self.assertEqual(res["clients"], base + 100, f"client {i}: status.clients")
                else:
                    self.assertEqual([t["pid"] for t in res["targets"]], [self.target.pid], f"client {i}: list")
            report("hundred_clients", all_replies_s=time.monotonic() - t0)
        finally:
            for c in clients:
                c.close()
        wait_until(lambda: self.c.call("status")["clients"] == base, 5, f"status.clients back to {base}")

    def test_client_that_never_reads(self):
        base = self.c.call("status")
        flood = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(flood.close)
        flood.connect(self.d.socket)
        flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # small: replies pile up in the daemon
        chunk = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"status"}\n' % i for i in range(2000))
        state = {"sent": 0, "blocked": False, "error": None}
        stop = threading.Event()

        def flooder():
            flood.settimeout(2.0)
            try:
                while not stop.is_set():
                    flood.sendall(chunk)
                    state["sent"] += 2000
            except socket.timeout:
                state["blocked"] = True  # the daemon stopped reading us: back-pressure
            except OSError as e:  # dropped by the daemon
                state["error"] = repr(e)

        th = threading.Thread(target=flooder, daemon=True)
        th.start()
        rtts = []
        deadline = time.monotonic() + 8
        while th.is_alive() and time.monotonic() < deadline:
            t0 = time.monotonic()
            self.c.call("status")
            rtts.append(time.monotonic() - t0)
            time.sleep(0.02)
        stop.set()
        th.join(5)
        st = self.c.call("status")
        report("never_reads", requests_sent=state["sent"], blocked=state["blocked"], error=state["error"],
               rtt_max_s=max(rtts), rtt_n=len(rtts), rss_before=base["memory"]["rss_bytes"],
               rss_after=st["memory"]["rss_bytes"])
        # a status round trip takes well under a millisecond on an idle daemon; half a second
        # (ASan: three times that) is a generous "stays fast" that still catches one client
        # monopolising the loop
        bound = 0.5 * osdtest.SLOW
        self.assertLess(max(rtts), bound, f"status round trips of another client while one floods: max "
                        f"{max(rtts):.3f} s, expected < {bound:.1f} s")
        self.assertGreater(len(rtts), 5, "too few round trips measured")
        self.assertTrue(state["blocked"] or state["error"],
                        f"the daemon should stop reading (or drop) a client that never reads; it took "
                        f"{state['sent']} requests without pushing back")
        if not osdtest.SANITIZED:  # ASan's quarantine keeps freed replies resident
            self.assertLess(st["memory"]["rss_bytes"] - base["memory"]["rss_bytes"], 100 << 20,
                            "daemon RSS grew by more than 100 MiB for one unread client")
        flood.close()
        wait_until(lambda: self.c.call("status")["clients"] == base["clients"], 10,
                   f"status.clients back to {base['clients']} after the flooder left")
        self.assert_alive(self.c)


if __name__ == "__main__":
    osdtest.main()
