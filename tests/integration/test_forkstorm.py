"""test_forkstorm.py - a watched process forks 5000 children that exit at once: the daemon
stays responsive, follows every fork, and reaps the dead children's BPF map entries so
the maps return to their baseline within a few intervals."""
import threading
import time

import osdtest
from osdtest import OsdTestCase, report, wait_until

INTERVAL_MS = 200
CHILDREN = 5000


class ForkStorm(OsdTestCase):
    def test_storm(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        w = self.start_workload("forker", "--many", CHILDREN, "--start-delay-ms", 1000, "--linger-ms", 4000)
        w.wait_for("start", timeout=10)
        st0 = d.call("status")["bpf"]
        d.call("watch", {"pid": w.pid, "interval_ms": INTERVAL_MS})
        time.sleep(2 * INTERVAL_MS / 1000)
        base = d.call("status")["bpf"]
        self.assertEqual(base["watched_entries"], 1, f"baseline: the root alone is watched; status.bpf {base}")
        self.assertEqual(w.find("storm", "start"), [], "the storm began before the baseline: raise --start-delay-ms")

        # status round trips on a separate connection, all through the storm
        rtts, stop = [], threading.Event()
        errors = []

        def prober():
            c = d.connect(timeout=5)
            try:
                while not stop.is_set():
                    t0 = time.monotonic()
                    c.call("status", timeout=5)
                    rtts.append((time.monotonic() - t0, time.time()))
                    time.sleep(0.05)
            except Exception as e:  # reported below: the daemon stopped answering
                errors.append(repr(e))
            finally:
                c.close()

        th = threading.Thread(target=prober, daemon=True)
        th.start()
        end = w.wait_for("storm", "end", timeout=60)
        forked, failures = int(end[3]), int(end[4])
        storm_s = float(end[2]) - float(w.find("storm", "start")[0][2])
        # reaping: watched/cpu entries back to the baseline within a few intervals
        t_end = time.monotonic()
        # (the root has a cpu slot once it has run: one per live process, per-process mode)
        last = []

        def settled():
            last[:] = [d.call("status")["bpf"]]
            b = last[0]
            return b if b["watched_entries"] == base["watched_entries"] and b["cpu_entries"] <= 1 else None
        try:
            after = wait_until(settled, 15 * INTERVAL_MS / 1000,
                               f"BPF map entries back to the baseline (watched {base['watched_entries']}, cpu <= 1)")
        except AssertionError as e:
            raise AssertionError(f"{e}; last status.bpf: {last[0]}") from None
        reap_s = time.monotonic() - t_end
        stop.set()
        th.join(10)
        self.assertEqual(errors, [], "status prober failed during the storm")
        self.assertIsNone(d.proc.poll(), "the daemon died during the storm")
        worst = max(r for r, _ in rtts)
        report("forkstorm", forked=forked, fork_failures=failures, storm_s=storm_s, rtt_n=len(rtts),
               rtt_max_s=worst, reap_s=reap_s, forks_followed=after["forks_followed"] - st0["forks_followed"],
               exits_seen=after["exits_seen"] - st0["exits_seen"], watched_full=after["watched_full"],
               cpu_full=after["cpu_full"])
        self.assertEqual(forked, CHILDREN, f"forker forked {forked} of {CHILDREN} ({failures} failures)")
        self.assertGreater(len(rtts), 3, "too few status probes during the storm")
        self.assertLess(worst, 1.0, f"status round trip during the fork storm: max {worst:.3f} s, expected < 1 s")
        self.assertEqual(after["forks_followed"] - st0["forks_followed"], CHILDREN,
                         "status.bpf.forks_followed should grow by exactly the children forked")
        self.assertEqual(after["exits_seen"] - st0["exits_seen"], CHILDREN,
                         "status.bpf.exits_seen should grow by exactly the children that exited")
        self.assertEqual((after["watched_full"], after["cpu_full"]), (0, 0), "map-full counters")
        t = d.call("list")["targets"][0]
        self.assertEqual((t["state"], t["members"]), ("running", 1), f"the root lingers alone: {t}")
        # the storm's CPU is accounted to the target: it is not lost with the reaped children
        w.wait_for("self", timeout=15)
        time.sleep(2 * INTERVAL_MS / 1000)
        total = osdtest.cpu_seconds(d.series(w.pid, "cpu"))
        report("forkstorm_cpu", series_s=total)
        self.assertGreater(total, 0.05, f"5000 forks and exits cost CPU; the series total is {total:.3f} s")


if __name__ == "__main__":
    osdtest.main()
