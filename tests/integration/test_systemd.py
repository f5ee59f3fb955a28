"""test_systemd.py - osdetd as a systemd service, without systemd as PID 1: the units pass
`systemd-analyze verify`; the notify protocol is checked with our own NOTIFY_SOCKET
listener (READY=1 only once BPF is attached and the socket answers, STATUS=, WATCHDOG=1
at half the watchdog period, STOPPING=1 on SIGTERM); socket activation (LISTEN_FDS) is
checked by handing the daemon a listening socket we bound."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import osdtest
from osdtest import Client, OsdTestCase, bpf_fds_of, report

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(log):
    with open(log.name) as f:
        return f.read()


class Notify:
    """An AF_UNIX datagram socket standing in for the service manager."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []  # (monotonic time, {key: value})

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        fields = dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
        self.messages.append((time.monotonic(), fields))
        return fields

    def wait_for(self, key, value=None, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.recv(deadline - time.monotonic())
            if m and key in m and (value is None or m[key] == value):
                return m
        raise AssertionError(f"no {key}={value or '*'} notification within {timeout} s; got {self.messages}")

    def close(self):
        self.sock.close()


class Systemd(OsdTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="osdsd-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def spawn(self, env_extra, pass_fd=None, shell_listen_pid=False):
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
                                                                "WATCHDOG_USEC", "WATCHDOG_PID", "OSDETD_SOCKET")}
        env.update(env_extra)
        sock = os.path.join(self.tmp, "osd.sock")
        args = [osdtest.OSDETD_BIN, "--socket", sock, "--state-dir", os.path.join(self.tmp, "state")]
        kw = {}
        if pass_fd is not None:
            # LISTEN_PID must be the daemon's own pid: let a shell set it and exec.
            args = ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh", *args]
            kw = dict(pass_fds=[3], preexec_fn=lambda: os.dup2(pass_fd, 3))
        log = open(os.path.join(self.tmp, "stderr.log"), "w+")
        self.addCleanup(log.close)
        p = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, **kw)

        def reap():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
        self.addCleanup(reap)
        return p, sock, log

    def test_units_verify(self):
        # ExecStart must name an existing binary: verify copies of the units pointing at ours.
        unitdir = os.path.join(self.tmp, "units")
        os.makedirs(unitdir)
        for name in ("osdetd.service", "osdetd.socket"):
            with open(os.path.join(SRC, "systemd", name)) as f:
                text = f.read().replace("/usr/sbin/osdetd", osdtest.OSDETD_BIN)
            with open(os.path.join(unitdir, name), "w") as f:
                f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", os.path.join(unitdir, "osdetd.service"),
                            os.path.join(unitdir, "osdetd.socket")], capture_output=True, text=True, timeout=60)
        # verify also reports on unrelated units of the host; keep the lines about ours
        ours = [l for l in (r.stdout + r.stderr).splitlines() if "osdetd" in l]
        self.assertEqual(ours, [], f"systemd-analyze verify complained (rc {r.returncode}):\n{r.stdout}{r.stderr}")
        with open(os.path.join(SRC, "systemd", "osdetd.service")) as f:
            unit = f.read()
        for key in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=osdetd",
                    "RuntimeDirectory=osdetd", "ConfigurationDirectory=osdetd", "CapabilityBoundingSet=",
                    "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes"):
            self.assertIn(key, unit)

    def test_notify_protocol(self):
        n = Notify(os.path.join(self.tmp, "notify.sock"))
        self.addCleanup(n.close)
        t0 = time.monotonic()
        p, sock, log = self.spawn({"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "400000"})
        n.wait_for("READY", "1", timeout=15 * osdtest.SLOW)
        ready_s = time.monotonic() - t0
        # READY means: BPF attached and the socket answers, right now
        progs, links = bpf_fds_of(p.pid)
        self.assertTrue(progs and links, f"READY=1 before BPF was attached (prog fds {progs}, links {links})")
        c = Client(sock, timeout=2)
        self.addCleanup(c.close)
        st = c.call("status")
        self.assertEqual(st["bpf"]["cpu_source"], "bpf")
        m = n.wait_for("STATUS", timeout=5)
        self.assertIn("0 targets", m["STATUS"], f"STATUS after start: {n.messages}")

        w = self.start_workload("sleeper")
        c.call("watch", {"pid": w.pid})
        m = n.wait_for("STATUS", timeout=5)
        while "1 targets" not in m["STATUS"]:
            m = n.wait_for("STATUS", timeout=5)

        # WATCHDOG=1 every WATCHDOG_USEC/2 = 200 ms
        start = time.monotonic()
        while time.monotonic() - start < 1.5:
            n.recv(0.5)
        dogs = [t for t, m in n.messages if m.get("WATCHDOG") == "1" and t >= start]
        report("sd_notify", ready_s=ready_s, watchdogs_in_1_5s=len(dogs))
        self.assertGreaterEqual(len(dogs), 5, f"WATCHDOG=1 pings in 1.5 s at a 400 ms watchdog: {len(dogs)}")

        os.kill(p.pid, signal.SIGTERM)
        n.wait_for("STOPPING", "1", timeout=5)
        self.assertEqual(p.wait(timeout=10 * osdtest.SLOW), 0, read(log))
        self.assertFalse(os.path.exists(sock), "the socket file is removed at exit")

    def test_socket_activation(self):
        path = os.path.join(self.tmp, "activated.sock")
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(ls.close)
        ls.bind(path)
        ls.listen(16)
        # a client may connect before the daemon even runs: systemd queues it
        early = Client.__new__(Client)
        early.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        early.sock.connect(path)
        early.buf, early.next_id = b"", 1
        self.addCleanup(early.close)
        early.send("status")
        p, sock, log = self.spawn({"LISTEN_FDS": "1"}, pass_fd=ls.fileno())
        st = early.recv(timeout=15 * osdtest.SLOW)
        self.assertIn("result", st, f"reply on the activated socket: {st}")
        self.assertFalse(os.path.exists(sock), "with an activated socket the daemon must not bind --socket")
        os.kill(p.pid, signal.SIGTERM)
        self.assertEqual(p.wait(timeout=10 * osdtest.SLOW), 0, read(log))
        self.assertTrue(os.path.exists(path), "an activated socket belongs to systemd: not unlinked")
        self.assertTrue(re.search(r"socket passed by systemd", read(log)), read(log))


if __name__ == "__main__":
    osdtest.main()
