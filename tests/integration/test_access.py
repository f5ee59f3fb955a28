"""test_access.py - access control by SO_PEERCRED: two unprivileged users (created for the
test) may watch only their own processes, see only their own targets and anomalies, and
get clear "permission denied" errors otherwise; root sees everything."""
import json
import os
import pwd
import signal
import subprocess
import sys

import osdtest
from osdtest import OsdTestCase

USERS = ("osdt-alice", "osdt-bob")

# Runs as the unprivileged user: one JSON-RPC call per argv item, prints the replies.
CLIENT = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
for i, req in enumerate(sys.argv[2:]):
    m = json.loads(req); m.update(jsonrpc="2.0", id=i + 1)
    s.sendall(json.dumps(m).encode() + b"\n")
    print(f.readline().decode().strip(), flush=True)
"""


def ensure_user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, timeout=30)
        return pwd.getpwnam(name)


def as_user(pw):
    def drop():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return drop


class Access(OsdTestCase):
    def rpc_as(self, pw, sock, *requests):
        r = subprocess.run([sys.executable, "-c", CLIENT, sock, *map(json.dumps, requests)],
                           preexec_fn=as_user(pw), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def spawn_as(self, pw):
        p = subprocess.Popen([os.path.join(osdtest.WORKLOADS, "sleeper")], preexec_fn=as_user(pw),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def reap():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
            p.wait()
        self.addCleanup(reap)
        return p

    def test_users_stay_in_their_lane(self):
        alice, bob = (ensure_user(u) for u in USERS)
        d = self.start_daemon()
        # the socket is 0660 root:root; the test stands in for the osdetd group
        os.chmod(d.tmpdir, 0o755)
        os.chmod(d.socket, 0o666)
        a_proc, b_proc = self.spawn_as(alice), self.spawn_as(bob)
        root_proc = self.start_workload("sleeper")

        r = self.rpc_as(alice, d.socket, {"method": "watch", "params": {"pid": a_proc.pid}},
                        {"method": "watch", "params": {"pid": root_proc.pid}},
                        {"method": "watch", "params": {"pid": b_proc.pid}},
                        {"method": "config.reload"},
                        {"method": "status"})
        self.assertEqual(r[0]["result"]["target"]["pid"], a_proc.pid, f"alice watches her process: {r[0]}")
        for reply, pid in ((r[1], root_proc.pid), (r[2], b_proc.pid)):
            self.assertEqual(reply["error"]["code"], -32005, f"alice watching pid {pid}: {reply}")
            self.assertIn("permission denied", reply["error"]["message"])
        self.assertEqual(r[3]["error"]["code"], -32005, f"config.reload by alice: {r[3]}")
        self.assertIn("result", r[4], "status is open to every client")

        r = self.rpc_as(bob, d.socket, {"method": "list"},
                        {"method": "series", "params": {"pid": a_proc.pid, "metric": "cpu"}},
                        {"method": "unwatch", "params": {"pid": a_proc.pid}},
                        {"method": "watch", "params": {"pid": b_proc.pid}},
                        {"method": "list"})
        self.assertEqual(r[0]["result"]["targets"], [], "bob sees none of alice's targets")
        for reply in r[1:3]:
            self.assertEqual(reply["error"]["code"], -32005, f"bob on alice's target: {reply}")
            self.assertIn("permission denied", reply["error"]["message"])
        self.assertEqual([t["pid"] for t in r[4]["result"]["targets"]], [b_proc.pid], "bob sees his own target")

        # root sees both; alice still sees only hers and may unwatch it
        self.assertEqual({t["pid"] for t in d.call("list")["targets"]}, {a_proc.pid, b_proc.pid})
        r = self.rpc_as(alice, d.socket, {"method": "list"}, {"method": "unwatch", "params": {"pid": a_proc.pid}})
        self.assertEqual([t["pid"] for t in r[0]["result"]["targets"]], [a_proc.pid])
        self.assertEqual(r[1]["result"]["pid"], a_proc.pid)
        self.assertEqual([t["pid"] for t in d.call("list")["targets"]], [b_proc.pid])


if __name__ == "__main__":
    osdtest.main()
