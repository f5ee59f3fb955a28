"""osdtest.py - shared helpers of the osdetd integration tests.

Starts a real osdetd on a private socket and state directory, talks JSON-RPC to it,
starts workloads from tests/workloads, and stops everything it started (by pid only).
Every daemon is stopped with SIGTERM and must exit 0 within a few seconds, print no
sanitizer report, and leave none of its BPF programs or links loaded.

Environment (set by integration.cmake): OSDETD_BIN, OSD_WORKLOADS, optionally
OSDCTL_BIN, BPFTOOL and OSD_SANITIZED=1 (daemon built with ASan/UBSan: slower start).
Python 3 standard library only.
"""
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

OSDETD_BIN = os.environ.get("OSDETD_BIN", "")
WORKLOADS = os.environ.get("OSD_WORKLOADS", "")
OSDCTL_BIN = os.environ.get("OSDCTL_BIN", "")
SANITIZED = os.environ.get("OSD_SANITIZED") == "1"
# ASan makes start-up and shutdown several times slower; sampling itself is not timed by it.
SLOW = 3.0 if SANITIZED else 1.0
BPF_PROGRAMS = {"handle_runtime", "handle_switch", "handle_fork", "handle_exit", "handle_exec",
                "handle_cgroup_attach"}  # procmon.bpf.c
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")
CLK_TCK = os.sysconf("SC_CLK_TCK")
# nice value of workloads whose busy phases must get a whole core (see Workload)
BUSY_NICE = -15

# JSON-RPC error codes of proto/osd_proto.h
E_PARSE = -32700
E_INVALID_REQUEST = -32600
E_METHOD_NOT_FOUND = -32601
E_INVALID_PARAMS = -32602
E_INTERNAL = -32603
E_NO_SUCH_PROCESS = -32000
E_ALREADY_WATCHED = -32001
E_NOT_WATCHED = -32002
E_TOO_LARGE = -32003
E_LIMIT = -32004
MAX_MSG = 1024 * 1024


def report(name, **figures):
    """Prints a measured figure on stderr (ctest -V / --output-on-failure shows it)."""
    text = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    print(f"MEASURE {name}: {text}", file=sys.stderr, flush=True)


def wait_until(pred, timeout, what, step=0.05):
    """Polls pred() until it returns a true value, which is returned; fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what} (last value: {last!r})")
        time.sleep(step)


def proc_cpu_s(pid):
    """utime+stime of a live process from /proc/PID/stat, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def bpftool_path():
    path = os.environ.get("BPFTOOL") or shutil.which("bpftool")
    if not path and os.path.exists("/usr/sbin/bpftool"):
        path = "/usr/sbin/bpftool"
    return path


def bpftool_json(*args):
    """bpftool -j ARGS, parsed. Listing races with other tests' daemons loading and
    unloading objects (an id vanishes between bpftool's walk and its lookup, and it exits
    255), so a failed run is tried again a few times before it counts."""
    for attempt in range(5):
        r = subprocess.run([bpftool_path(), "-j", *args], capture_output=True, text=True, timeout=30)
        if r.returncode == 0:
            return json.loads(r.stdout) if r.stdout.strip() else []
        time.sleep(0.1 * (attempt + 1))
    raise AssertionError(f"bpftool {' '.join(args)} failed 5 times: {r.stderr.strip()}")


def bpf_fds_of(pid):
    """BPF programs and links a process holds, from /proc/PID/fdinfo: ({prog ids}, {link ids})."""
    progs, links = set(), set()
    fddir = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except OSError:
            continue
        if "link_id" in info:
            links.add(int(info["link_id"]))
        elif "prog_id" in info:
            progs.add(int(info["prog_id"]))
    return progs, links


class RpcError(Exception):
    def __init__(self, err):
        self.code = err.get("code")
        self.message = err.get("message", "")
        self.data = err.get("data")
        super().__init__(f"JSON-RPC error {self.code}: {self.message}")


class Client:
    """One connection to the daemon: newline-framed JSON, replies of any length."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.buf = b""
        self.next_id = 1

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, method, params=None, req_id=None):
        if req_id is None:
            req_id = self.next_id
            self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": req_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send_raw(json.dumps(msg).encode() + b"\n")
        return req_id

    def recv_line(self, timeout=10.0):
        """Returns the next line without its newline; b"" if the peer closed first."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no reply within {timeout} s (have {len(self.buf)} bytes of a line)")
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                return b""
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def recv(self, timeout=10.0):
        line = self.recv_line(timeout)
        if not line:
            raise AssertionError("the daemon closed the connection instead of replying")
        return json.loads(line)

    def request(self, method, params=None, timeout=10.0):
        """Sends one request, returns the whole response object (checked for id and jsonrpc)."""
        req_id = self.send(method, params)
        resp = self.recv(timeout)
        if resp.get("jsonrpc") != "2.0" or resp.get("id") != req_id:
            raise AssertionError(f"expected a JSON-RPC 2.0 reply with id {req_id}, got {resp!r}")
        return resp

    def call(self, method, params=None, timeout=10.0):
        resp = self.request(method, params, timeout)
        if "error" in resp:
            raise RpcError(resp["error"])
        return resp["result"]

    def peer_closed(self, timeout=5.0):
        """True if the peer closes the connection (EOF or reset) within timeout, data discarded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
        return False


class Daemon:
    """A real osdetd on a temporary socket and state directory."""

    def __init__(self, no_bpf=False, interval_ms=None, extra_args=(), env=None):
        """env: extra environment variables for the daemon (e.g. OSDETD_NET_SOURCE)."""
        if not OSDETD_BIN or not os.access(OSDETD_BIN, os.X_OK):
            raise AssertionError(f"OSDETD_BIN is not an executable: {OSDETD_BIN!r}")
        self.no_bpf = no_bpf
        self.tmpdir = tempfile.mkdtemp(prefix="osdit-")
        self.socket = os.path.join(self.tmpdir, "osd.sock")
        self.state_dir = os.path.join(self.tmpdir, "state")
        self.stderr_path = os.path.join(self.tmpdir, "stderr.log")
        args = [OSDETD_BIN, "--socket", self.socket, "--state-dir", self.state_dir]
        if "--config" not in extra_args:
            # an empty configuration of its own: never /etc/osdetd/osdetd.conf, which the
            # .deb test installs for a while (and an administrator might have)
            conf = os.path.join(self.tmpdir, "osdetd.conf")
            with open(conf, "w") as f:
                f.write("{}\n")
            args += ["--config", conf]
        if interval_ms:
            args += ["--interval", str(interval_ms)]
        if no_bpf:
            args.append("--no-bpf")
        args += list(extra_args)
        self.stderr_file = open(self.stderr_path, "w+")
        extra_env, env = env or {}, dict(os.environ)
        env.pop("OSDETD_SOCKET", None)
        env.pop("NOTIFY_SOCKET", None)  # not under systemd: no sd_notify to the test's manager
        env.pop("LISTEN_FDS", None)
        env.update(extra_env)
        # If this test process is killed outright (SIGKILL, no cleanups), the daemon must not
        # outlive it: setpriv sets PR_SET_PDEATHSIG and execs it (same pid). The signal
        # follows the creating *thread*, so daemons are started from the main thread.
        setpriv = shutil.which("setpriv")
        if setpriv:
            args = [setpriv, "--pdeathsig", "KILL", "--", *args]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.stderr_file,
                                     stderr=self.stderr_file, env=env)
        self.pid = self.proc.pid
        self.stopped = False
        self.client = None
        self.prog_ids, self.link_ids = set(), set()
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise

    def stderr_text(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def _wait_ready(self):
        deadline = time.monotonic() + 15 * SLOW
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError(f"osdetd exited with {rc} before listening; stderr:\n{self.stderr_text()}")
            try:
                self.client = Client(self.socket)
                self.client.call("status")
                break
            except (OSError, AssertionError):
                if self.client:
                    self.client.close()
                    self.client = None
                if time.monotonic() >= deadline:
                    raise AssertionError(f"osdetd did not answer on {self.socket} within {15 * SLOW:.0f} s; "
                                         f"stderr:\n{self.stderr_text()}")
                time.sleep(0.05)
        self.prog_ids, self.link_ids = bpf_fds_of(self.pid)

    def connect(self, timeout=10.0):
        return Client(self.socket, timeout)

    def call(self, method, params=None, timeout=10.0):
        return self.client.call(method, params, timeout)

    def request(self, method, params=None, timeout=10.0):
        return self.client.request(method, params, timeout)

    def bpf_program_names(self):
        """Names of the BPF programs this daemon holds (bpftool prog show id ...)."""
        return {bpftool_json("prog", "show", "id", str(i))["name"] for i in self.prog_ids}

    def series(self, pid, metric, **params):
        """Points of a series as dicts keyed by column name."""
        res = self.call("series", dict(pid=pid, metric=metric, **params))
        cols = res["columns"]
        return [dict(zip(cols, p)) for p in res["points"]]

    def kill(self):
        """Unchecked stop, for cleanup after a failure: SIGKILL our daemon by pid."""
        if self.client:
            self.client.close()
            self.client = None
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait()
        self.stopped = True

    def drain_probes(self, timeout=60.0):
        """Waits until no uprobe is still being detached (status.heap.retiring,
        status.uprobe.detaching): the kernel takes ~0.1-0.2 s per uprobe, the daemon does it
        on a worker thread and a stop waits for it; the stop timing below is the daemon's
        own, not that backlog's. Best effort: a daemon that no longer answers is left to stop."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                st = self.call("status")
            except Exception:
                return
            if not (st.get("heap") or {}).get("retiring") and not (st.get("uprobe") or {}).get("detaching"):
                return
            time.sleep(0.1)

    def stop(self, tc):
        """SIGTERM; asserts exit 0 within a few seconds, a clean stderr, no BPF left behind."""
        if self.stopped:
            return
        self.drain_probes()
        self.stopped = True
        if self.client:
            self.client.close()
            self.client = None
        t0 = time.monotonic()
        os.kill(self.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=5 * SLOW)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait()
            tc.fail(f"osdetd did not exit within {5 * SLOW:.0f} s of SIGTERM; stderr:\n{self.stderr_text()}")
        report("daemon_stop", seconds=time.monotonic() - t0, rc=rc)
        err = self.stderr_text()
        tc.assertEqual(rc, 0, f"osdetd exit status after SIGTERM: expected 0, got {rc}; stderr:\n{err}")
        bad = [line for line in err.splitlines() if any(m in line for m in SANITIZER_MARKERS)]
        tc.assertEqual(bad, [], f"sanitizer reports on osdetd stderr:\n{err}")
        if self.no_bpf:
            tc.assertEqual((self.prog_ids, self.link_ids), (set(), set()),
                           "osdetd --no-bpf held BPF programs/links (prog ids, link ids)")
            return
        # Freed asynchronously after the last reference goes: poll briefly.
        def leftovers():
            live_p = {p["id"] for p in bpftool_json("prog", "list")} & self.prog_ids
            live_l = {link["id"] for link in bpftool_json("link", "list")} & self.link_ids
            return (live_p, live_l)
        deadline = time.monotonic() + 5
        left = leftovers()
        while any(left) and time.monotonic() < deadline:
            time.sleep(0.1)
            left = leftovers()
        tc.assertEqual(left, (set(), set()),
                       f"BPF programs/links of osdetd pid {self.pid} still loaded after it exited "
                       f"(prog ids, link ids)")

    def cleanup(self):
        self.kill()
        self.stderr_file.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class Workload:
    """A workload from tests/workloads; its output lines are collected as token lists.

    nice: a nice value the workload sets for itself before it starts working (see
    wl_safety() in tests/workloads/wl.h). Tests that expect a busy phase to get a whole
    core use a negative one: this 2-core machine is shared with parallel builds and tests,
    and a busy phase that the scheduler shares out tests the scheduler, not osdetd."""

    def __init__(self, name, *args, nice=None):
        path = os.path.join(WORKLOADS, name)
        if not os.access(path, os.X_OK):
            raise AssertionError(f"workload {name} not built: {path!r} (OSD_WORKLOADS={WORKLOADS!r})")
        self.name = name
        env = dict(os.environ)
        env.pop("OSD_WL_NICE", None)
        if nice is not None:
            env["OSD_WL_NICE"] = str(nice)
        self.proc = subprocess.Popen([path, *map(str, args)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1, env=env)
        self.pid = self.proc.pid
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.split())
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def output(self):
        with self.cond:
            return "\n".join(" ".join(t) for t in self.lines)

    def find(self, *prefix):
        """Every line starting with these words, as token lists."""
        with self.cond:
            return [t for t in self.lines if tuple(t[:len(prefix)]) == prefix]

    def wait_for(self, *prefix, timeout=30.0, count=1):
        """Waits for the count-th line starting with prefix; returns it as tokens."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [t for t in self.lines if tuple(t[:len(prefix)]) == prefix]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    why = "it exited" if self.eof else f"{timeout:.0f} s passed"
                    raise AssertionError(f"{self.name}: expected line #{count} starting with {' '.join(prefix)!r}, "
                                         f"but {why}; output:\n{self.output()}")
                self.cond.wait(left)

    def wait_exit(self, timeout=30.0):
        rc = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait()
        self.reader.join(timeout=5)
        self.proc.stdout.close()


def cpu_seconds(points, t0=None, t1=None):
    """CPU seconds in a cpu series: sum of cpu_pct/100 x the point's own interval (the gap to
    the previous point's time; points are interval ends), for points with t0 < time <= t1."""
    total = 0.0
    prev = None
    for p in points:
        t = p["time"]
        if prev is not None and (t0 is None or t > t0) and (t1 is None or t <= t1):
            total += p["cpu_pct"] / 100.0 * (t - prev)
        prev = t
    return total


def mount_of(fstype):
    """Mount points of a file system type, from /proc/self/mountinfo."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == fstype:
                found.append(left.split()[4])
    return found


def rmdir_retry(path):
    """Removes a test cgroup; a process that just exited may still count for a moment."""
    deadline = time.monotonic() + 5
    while os.path.isdir(path):
        try:
            os.rmdir(path)
        except OSError as e:
            if e.errno != errno.EBUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class OsdTestCase(unittest.TestCase):
    """Base class: daemons and workloads started through it are stopped by it."""

    maxDiff = None

    def run_osdctl(self, d, *args, rc=0, timeout=30):
        """osdctl against daemon d; asserts its exit status is rc (None: any). Returns the
        CompletedProcess (stdout, stderr as text)."""
        if not OSDCTL_BIN:
            self.skipTest("OSDCTL_BIN not set")
        p = subprocess.run([OSDCTL_BIN, "--socket", d.socket, *map(str, args)], capture_output=True, text=True,
                           timeout=timeout)
        if rc is not None:
            self.assertEqual(p.returncode, rc, f"osdctl {' '.join(map(str, args))}: expected exit {rc}, got "
                             f"{p.returncode}; stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    @classmethod
    def start_daemon_cls(cls, **kw):
        d = Daemon(**kw)
        cls.addClassCleanup(d.cleanup)
        cls.addClassCleanup(d.stop, cls._class_checker())
        return d

    @classmethod
    def start_workload_cls(cls, name, *args, nice=None):
        w = Workload(name, *args, nice=nice)
        cls.addClassCleanup(w.kill)
        return w

    @classmethod
    def _class_checker(cls):
        # assertions in class cleanups need a TestCase instance; any method name works
        return unittest.TestCase()

    def start_daemon(self, **kw):
        d = Daemon(**kw)
        self.addCleanup(d.cleanup)
        self.addCleanup(d.stop, self)
        return d

    def start_workload(self, name, *args, nice=None):
        w = Workload(name, *args, nice=nice)
        self.addCleanup(w.kill)
        return w

    def assertRpcError(self, fn, code, *words):
        """fn() must raise RpcError with this code and a message containing each word."""
        with self.assertRaises(RpcError, msg=f"expected JSON-RPC error {code}, got a result") as cm:
            fn()
        e = cm.exception
        self.assertEqual(e.code, code, f"expected error code {code}, got {e.code} ({e.message!r})")
        for w in words:
            self.assertIn(w, e.message, f"error message should name {w!r}; got {e.message!r}")
        return e


def main():
    unittest.main(verbosity=2)
