"""journal.py - a real systemd-journald for the alert tests. If none is listening on
/run/systemd/journal/socket, starts /lib/systemd/systemd-journald standalone (PID 1 is
not systemd on the test machines) and stops it afterwards, by pid. Entries are read back
with journalctl -o json."""
import json
import os
import signal
import socket
import subprocess
import time

JOURNAL_SOCKET = "/run/systemd/journal/socket"
JOURNALD = "/lib/systemd/systemd-journald"
ANOMALY_MESSAGE_ID = "4f5d0e6c8b2a4f7e9c1d3b5a7e9f1c2d"


def _listening():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(JOURNAL_SOCKET)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Journal:
    def __init__(self):
        self.proc = None
        if _listening():
            return
        os.makedirs("/run/systemd/journal", exist_ok=True)
        self.proc = subprocess.Popen([JOURNALD], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _listening():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{JOURNALD} did not start listening on {JOURNAL_SOCKET}")
            time.sleep(0.05)

    def entries(self, *matches, timeout=10.0, want=1):
        """journalctl -o json entries with these FIELD=value matches; waits for `want`."""
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(["journalctl", "--no-pager", "-o", "json", *matches], capture_output=True,
                                 text=True, timeout=30).stdout
            got = [json.loads(line) for line in out.splitlines() if line.strip()]
            if len(got) >= want or time.monotonic() > deadline:
                return got
            time.sleep(0.2)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
