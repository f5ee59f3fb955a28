"""test_fork.py - children forked by a watched process are followed: their CPU is in the
target's series, `members` counts them while they live, `forks_followed` grows."""
import time

import osdtest
from osdtest import OsdTestCase, cpu_seconds, report, wait_until

INTERVAL_MS = 200
CHILDREN, BURN_MS, CONCURRENT = 6, 1000, 2


class Fork(OsdTestCase):
    def test_children_followed(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        st0 = d.call("status")["bpf"]
        w = self.start_workload("forker", "--children", CHILDREN, "--burn-ms", BURN_MS, "--concurrent", CONCURRENT,
                                "--start-delay-ms", 1000, "--linger-ms", 1500, nice=osdtest.BUSY_NICE)
        w.wait_for("start", timeout=10)
        d.call("watch", {"pid": w.pid, "interval_ms": INTERVAL_MS})
        self.assertEqual(w.find("child", "start"), [], "children were forked before the watch: raise --start-delay-ms")

        # members while the children run, by polling list (points are taken every interval)
        seen = []
        deadline = time.monotonic() + CHILDREN * BURN_MS / CONCURRENT / 1000 + 15
        while not w.find("children") and time.monotonic() < deadline:
            t = d.call("list")["targets"][0]
            if w.find("child", "start"):
                seen.append(t["members"])
            time.sleep(0.1)
        total = w.wait_for("children", timeout=10)
        self.assertEqual(int(total[2]), CHILDREN, f"forker reaped {total[2]} children, expected {CHILDREN}")
        children_cpu = float(total[3])
        report("fork_members", max_members=max(seen, default=0), polls=len(seen))
        self.assertIn(1 + CONCURRENT, seen, f"expected list.members to reach 1 + {CONCURRENT} (root + running "
                      f"children) while children ran; values seen: {sorted(set(seen))}")
        self.assertLessEqual(max(seen), 1 + CONCURRENT, f"at most {CONCURRENT} children live at once; members "
                             f"seen: {sorted(set(seen))}")
        # after the children: the root alone, within a few intervals
        wait_until(lambda: d.call("list")["targets"][0]["members"] == 1, 10 * INTERVAL_MS / 1000,
                   "list.members back to 1 after the children exited")

        self_line = w.wait_for("self", timeout=10)
        parent_cpu = float(self_line[2])
        time.sleep(2 * INTERVAL_MS / 1000)  # the parent is lingering idle: let a tick pass
        points = d.series(w.pid, "cpu")
        series_cpu = cpu_seconds(points)
        err = abs(series_cpu - parent_cpu - children_cpu) / children_cpu
        report("fork_cpu", series_s=series_cpu, children_rusage_s=children_cpu, parent_s=parent_cpu,
               err_pct=100 * err)
        self.assertGreater(children_cpu, 0.5 * CHILDREN * BURN_MS / 1000,
                           f"children got {children_cpu:.2f} s of CPU for {CHILDREN * BURN_MS / 1000} s of spinning: "
                           "machine too loaded to test")
        self.assertLessEqual(err, 0.10, f"target CPU series total {series_cpu:.3f} s should equal the children's "
                             f"wait4 rusage {children_cpu:.3f} s + the parent's {parent_cpu:.3f} s within 10 % of "
                             f"the children's; got {100 * err:.2f} %")

        st1 = d.call("status")["bpf"]
        report("fork_status", forks_followed_before=st0["forks_followed"], forks_followed_after=st1["forks_followed"])
        self.assertGreaterEqual(st1["forks_followed"] - st0["forks_followed"], CHILDREN,
                                f"status.bpf.forks_followed should grow by >= {CHILDREN}: {st0['forks_followed']} "
                                f"-> {st1['forks_followed']}")
        self.assertEqual(st1["watched_full"], 0, f"status.bpf: {st1}")


if __name__ == "__main__":
    osdtest.main()
