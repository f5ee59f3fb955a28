"""test_syscall_slots.py - the syscall counters live in OSD_SYS_SLOTS - 1 (63) per-target slots
of kernel arrays, and membership is one byte per tgid set in the kernel at fork. A child
forked after the watch makes exactly N getppid() calls and N failing opens: the target
counts exactly those. When the target's processes are gone, it keeps its totals and frees
its slot. With every slot taken, one more `syscall` watch fails with -32004 naming the
limit and the daemon keeps serving; a slot freed by an exited target serves a new target
from zero (the previous owner's getppid calls do not leak into it); after an unwatch the
freed slot serves a new target whose forked child is counted exactly again. Pid reuse: an
unwatched process that gets the pid of a dead member (through ns_last_pid) before the
daemon reaps that member is not counted for the target. A process moved into a watched
cgroup (`cgroup.procs`) is counted exactly from its next syscall: the kernel sets its slot
at the cgroup attach, not the daemon's next tick."""
import os
import signal
import subprocess

import osdtest
from osdtest import OsdTestCase, RpcError, report, wait_until

INTERVAL_MS = 200
N = 3000
SLOTS = 63


class SyscallSlots(OsdTestCase):
    def sleeper(self):
        p = subprocess.Popen(["sleep", "120"])

        def stop():
            if p.poll() is None:
                p.kill()
            p.wait()
        self.addCleanup(stop)
        return p

    def forked_run(self, d, linger_ms=20000):
        """Watches a `syscalls --fork` workload, lets its child run; returns (workload, child pid)."""
        w = self.start_workload("syscalls", "--getppid", N, "--fail-open", N, "--fork", "--start-delay-ms", 30000,
                                "--linger-ms", linger_ms)
        w.wait_for("ready", timeout=10)
        d.call("watch", {"pid": w.pid, "syscall": True, "interval_ms": INTERVAL_MS, "detector": "none"})
        os.kill(w.pid, signal.SIGUSR1)
        child = int(w.wait_for("child", timeout=10)[2])
        done = w.wait_for("done", timeout=30)
        self.assertEqual((int(done[2]), int(done[3])), (N, N), f"the workload's own counts: {w.output()}")
        return w, child

    def counts(self, d, pid):
        return {s["name"]: s for s in d.call("syscalls", {"pid": pid})["syscalls"]}

    def assert_exact(self, d, w, child, what):
        wait_until(lambda: self.counts(d, w.pid).get("getppid", {}).get("count", 0) >= N, 10,
                   f"{what}: {N} getppid calls of child {child} counted")
        c = self.counts(d, w.pid)
        self.assertEqual(c["getppid"]["count"], N,
                         f"{what}: getppid calls of the forked child {child}: expected exactly {N}, got {c['getppid']}")
        self.assertEqual(c["getppid"]["errors"], 0, f"{what}: getppid errors: expected 0, got {c['getppid']}")
        opens = c.get("openat") or c.get("open") or {}
        self.assertEqual((opens.get("count"), opens.get("errors")), (N, N),
                         f"{what}: failed opens of the child: expected count = errors = {N}, got {opens}")
        return c

    def test_fork_and_slot_limit(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        first, child = self.forked_run(d, linger_ms=1000)
        self.assert_exact(d, first, child, "first target")
        wait_until(lambda: d.call("status")["syscall"]["slots"] == 0, 15,
                   "the first target, its processes gone, frees its slot (status.syscall.slots 0)")
        self.assert_exact(d, first, child, "first target after it exited (kept totals)")

        sleepers = [self.sleeper() for _ in range(SLOTS + 1)]
        for p in sleepers[:SLOTS]:
            d.call("watch", {"pid": p.pid, "syscall": True, "detector": "none"})
        for p in sleepers[:SLOTS]:
            got = {s["name"]: s["count"] for s in d.call("syscalls", {"pid": p.pid})["syscalls"]}
            self.assertNotIn("getppid", got, f"sleeper {p.pid} made no getppid call; counts leaked from a "
                             f"previous owner of its slot: {got}")
        st = d.call("status")["syscall"]
        self.assertEqual((st["slots"], st["slots_max"]), (SLOTS, SLOTS),
                         f"status.syscall slots with {SLOTS} syscall targets: expected ({SLOTS}, {SLOTS}), got {st}")
        try:
            d.call("watch", {"pid": sleepers[-1].pid, "syscall": True, "detector": "none"})
            self.fail(f"watch of a {SLOTS + 1}th syscall target succeeded; expected error -32004")
        except RpcError as e:
            self.assertEqual(e.code, -32004, f"the {SLOTS + 1}th syscall target: expected -32004, got {e}")
            self.assertIn("too many syscall targets", e.message, f"error message names the limit: {e}")
        # without syscall the same process is welcome, and the daemon serves on
        d.call("watch", {"pid": sleepers[-1].pid, "cpu": True, "detector": "none"})
        self.assertEqual(d.call("status")["syscall"]["slots"], SLOTS, "a watch without syscall took no slot")

        d.call("unwatch", {"pid": sleepers[0].pid})
        second, child2 = self.forked_run(d)  # the freed slot: must start from zero
        c = self.assert_exact(d, second, child2, "target on a reused slot")
        report("syscall_slots", slots=SLOTS, reused_slot_getppid=c["getppid"]["count"])


    def test_cgroup_join(self):
        # a long interval: no tick between the join and the calls, only the kernel can count them
        d = self.start_daemon(interval_ms=5000)
        mounts = osdtest.mount_of("cgroup2")
        self.assertTrue(mounts, "no cgroup2 mount in /proc/self/mountinfo")
        cg = os.path.join(mounts[0], f"osdtest-sys-{os.getpid()}")
        os.mkdir(cg)
        self.addCleanup(osdtest.rmdir_retry, cg)
        w = self.start_workload("syscalls", "--getppid", N, "--fail-open", N, "--start-delay-ms", 30000,
                                "--linger-ms", 0)
        w.wait_for("ready", timeout=10)
        d.call("watch", {"cgroup": cg, "syscall": True, "interval_ms": 5000, "detector": "none"})
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(w.pid))
        os.kill(w.pid, signal.SIGUSR1)
        w.wait_for("done", timeout=30)
        got = {s["name"]: s for s in d.call("syscalls", {"cgroup": cg})["syscalls"]}
        self.assertEqual(got.get("getppid", {}).get("count"), N,
                         f"getppid calls of a process moved into the watched cgroup just before: expected {N}, "
                         f"got {got.get('getppid')}")
        opens = got.get("openat") or got.get("open") or {}
        self.assertEqual((opens.get("count"), opens.get("errors")), (N, N),
                         f"its failed opens: expected count = errors = {N}, got {opens}")

    def test_pid_reuse(self):
        # a long interval: the dead child stays in `watched` (flagged dead) until reaped
        d = self.start_daemon(interval_ms=5000)
        w, child = self.forked_run(d)
        self.assert_exact(d, w, child, "target")
        other = None
        for _ in range(20):  # other processes on the machine may take the pid first
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(child - 1))
            cand = self.start_workload("syscalls", "--getppid", 2 * N, "--fail-open", 0, "--linger-ms", 0)
            if cand.pid == child:
                other = cand
                break
            cand.wait_for("done", timeout=10)
        if other is None:
            self.skipTest(f"could not get pid {child} again for a new process (the machine forks too much)")
        other.wait_for("done", timeout=10)
        c = self.counts(d, w.pid)
        self.assertEqual(c["getppid"]["count"], N,
                         f"pid {child} reused by an unwatched process making {2 * N} getppid calls before the "
                         f"dead member was reaped: expected the target's count to stay {N}, got {c['getppid']}")
        report("syscall_pid_reuse", reused_pid=child, target_getppid=c["getppid"]["count"])


if __name__ == "__main__":
    osdtest.main()
