"""test_cgroup.py - watching a cgroup v2 (by path or by systemd unit name): processes that are
in it, that enter it after the watch (started into it, moved into it, forked by a member, in a
child cgroup) are members and their CPU is counted; bad paths and unit names get clear errors;
removing the cgroup makes the target exited. Test cgroups are made under the cgroup2 mount and
removed at the end."""
import os
import subprocess
import time

import osdtest
from osdtest import OsdTestCase, cpu_seconds, report, wait_until

INTERVAL_MS = 200
BUSY_NICE = str(osdtest.BUSY_NICE)


class Cgroup(OsdTestCase):
    @classmethod
    def setUpClass(cls):
        mounts = osdtest.mount_of("cgroup2")
        if not mounts:
            raise AssertionError("no cgroup2 mount in /proc/self/mountinfo: cgroup targets cannot be tested")
        cls.cg2 = mounts[0]

    def make_cgroup(self, path):
        """mkdir; removed at clean-up, after the processes started later (cleanups run last first)."""
        os.mkdir(path)
        self.addCleanup(osdtest.rmdir_retry, path)
        return path

    def spawn(self, cgroup, name, *args):
        """Starts a workload; with cgroup, it writes its own pid to cgroup.procs before exec."""
        exe = os.path.join(osdtest.WORKLOADS, name)
        argv = [exe, *map(str, args)]
        if cgroup:
            argv = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, *argv]
        env = dict(os.environ, OSD_WL_NICE=BUSY_NICE)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env=env)
        self.addCleanup(self.reap, p)
        return p

    @staticmethod
    def reap(p):
        """Kills (by its pid) and waits for a process this test started; idempotent."""
        if p.poll() is None:
            p.kill()
        p.wait()
        if p.stdout and not p.stdout.closed:
            p.stdout.close()

    @staticmethod
    def lines(out, word):
        return [line.split() for line in out.splitlines() if line.split()[:1] == [word]]

    def target(self, d, key, value):
        for t in d.call("list")["targets"]:
            if t.get(key) == value:
                return t
        return None

    def test_cgroup_members_cpu_and_exit(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        cg = self.make_cgroup(os.path.join(self.cg2, f"osdtest-{os.getpid()}"))
        sub = self.make_cgroup(os.path.join(cg, "sub"))
        sleeper = self.spawn(cg, "sleeper", "--max-s", 60)
        wait_until(lambda: str(sleeper.pid) in open(os.path.join(cg, "cgroup.procs")).read().split(), 5,
                   "the sleeper in the cgroup")

        t = d.call("watch", {"cgroup": cg, "interval_ms": INTERVAL_MS})["target"]
        self.assertEqual((t["pid"], t["cgroup"], t["unit"], t["state"]), (0, cg, None, "running"),
                         f"target object of a cgroup watch: {t}")
        self.assertEqual(t["members"], 1, f"the sleeper already in the cgroup is a member: {t}")

        # the same cgroup again, by a relative path and a trailing slash: already watched
        self.assertRpcError(lambda: d.call("watch", {"cgroup": os.path.relpath(cg, self.cg2) + "/"}),
                            osdtest.E_ALREADY_WATCHED, cg)
        # a pid target keeps its process when that process is moved into the cgroup
        loner = self.spawn(None, "sleeper", "--max-s", 60)
        time.sleep(0.2)
        d.call("watch", {"pid": loner.pid, "interval_ms": INTERVAL_MS})

        joins0 = d.call("status")["bpf"]["cgroup_joins"]
        # after the watch: a forker started into the cgroup (its children fork there), a burner
        # moved into the child cgroup while it idles, the pid target's process moved in too
        forker = self.spawn(cg, "forker", "--children", 2, "--burn-ms", 600, "--concurrent", 1,
                            "--start-delay-ms", 300, "--linger-ms", 300)
        mover = self.spawn(None, "cpu_phases", "--start-idle-ms", 500, "--busy-ms", 1000, "--idle-ms", 100,
                           "--cycles", 1, "--end-idle-ms", 200)
        time.sleep(0.2)
        mover_before = osdtest.proc_cpu_s(mover.pid)
        with open(os.path.join(sub, "cgroup.procs"), "w") as f:
            f.write(str(mover.pid))
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(loner.pid))
        wait_until(lambda: self.target(d, "cgroup", cg)["members"] >= 3, 5,
                   "members: sleeper, forker and the moved burner")

        fout, _ = forker.communicate(timeout=30)
        mout, _ = mover.communicate(timeout=30)
        children = self.lines(fout, "children")
        selfl = self.lines(fout, "self")
        mcpu = self.lines(mout, "cpu")
        self.assertTrue(children and selfl and mcpu, f"workload output:\nforker:\n{fout}\nmover:\n{mout}")
        self.assertEqual(int(children[0][2]), 2, f"forker reaped {children[0][2]} children, expected 2")
        expected = float(children[0][3]) + float(selfl[0][2]) + float(mcpu[0][2]) - mover_before
        expected += osdtest.proc_cpu_s(sleeper.pid)
        # the exits are reaped within two ticks; one more for the last point
        wait_until(lambda: self.target(d, "cgroup", cg)["members"] == 1, 10, "members back to the sleeper alone")
        time.sleep(3 * INTERVAL_MS / 1000)
        got = cpu_seconds(self.series(d, {"cgroup": cg}, "cpu"))
        err = abs(got - expected) / expected
        joins = d.call("status")["bpf"]["cgroup_joins"] - joins0
        report("cgroup_cpu", series_s=got, rusage_s=expected, err_pct=100 * err, joins=joins)
        self.assertGreater(expected, 1.0, f"the workloads got only {expected:.2f} s of CPU: machine too loaded")
        self.assertLessEqual(err, 0.10, f"cgroup target CPU {got:.3f} s should equal the members' own CPU after "
                             f"they entered ({expected:.3f} s) within 10 %; got {100 * err:.1f} %")
        self.assertGreaterEqual(joins, 2, "status.bpf.cgroup_joins should count the started and the moved process")

        pt = self.target(d, "pid", loner.pid)
        self.assertEqual(pt["members"], 1, f"the pid target keeps its process moved into the cgroup: {pt}")
        ct = self.target(d, "cgroup", cg)
        self.assertEqual(ct["members"], 1, f"the moved pid-target process is not a cgroup member: {ct}")

        # memory sums over current members; series and unwatch by cgroup path
        mem = self.series(d, {"cgroup": cg}, "mem")
        self.assertGreater(mem[-1]["rss_bytes"], 0, f"rss of the sleeper: {mem[-1]}")

        # the cgroup goes away once its processes are gone: the target is exited
        for p in (sleeper, loner):
            self.reap(p)
        osdtest.rmdir_retry(sub)
        osdtest.rmdir_retry(cg)
        t = wait_until(lambda: (self.target(d, "cgroup", cg) or {}).get("state") == "exited"
                       and self.target(d, "cgroup", cg), 10 * INTERVAL_MS / 1000 + 2, "target exited")
        self.assertIsNotNone(t["exited_at"], f"exited target: {t}")
        res = d.call("unwatch", {"cgroup": cg})
        self.assertEqual((res["pid"], res["cgroup"]), (0, cg), f"unwatch reply: {res}")
        self.assertIsNone(self.target(d, "cgroup", cg), "unwatched target still listed")

    def series(self, d, key, metric):
        res = d.call("series", dict(key, metric=metric))
        return [dict(zip(res["columns"], p)) for p in res["points"]]

    def test_unit_and_errors(self):
        d = self.start_daemon(interval_ms=INTERVAL_MS)
        slice_dir = os.path.join(self.cg2, "system.slice")
        if not os.path.isdir(slice_dir):
            self.make_cgroup(slice_dir)
        unit = f"osdtest-{os.getpid()}.service"
        ucg = self.make_cgroup(os.path.join(slice_dir, unit))
        sleeper = self.spawn(ucg, "sleeper", "--max-s", 60)
        wait_until(lambda: str(sleeper.pid) in open(os.path.join(ucg, "cgroup.procs")).read().split(), 5,
                   "the sleeper in the unit's cgroup")

        t = d.call("watch", {"unit": unit, "interval_ms": INTERVAL_MS})["target"]
        self.assertEqual((t["pid"], t["cgroup"], t["unit"], t["members"]), (0, ucg, unit, 1),
                         f"target of watch --unit: {t}")
        self.assertRpcError(lambda: d.call("watch", {"unit": unit}), osdtest.E_ALREADY_WATCHED, unit)
        self.assertRpcError(lambda: d.call("watch", {"cgroup": ucg}), osdtest.E_ALREADY_WATCHED, ucg)

        # a restart with the same state directory re-watches the unit (its cgroup still exists)
        state = d.state_dir
        d.stop(self)
        d = self.start_daemon(interval_ms=INTERVAL_MS, extra_args=["--state-dir", state])
        t = self.target(d, "unit", unit)
        self.assertIsNotNone(t, f"unit target not restored from targets.json: {d.call('list')}")
        self.assertEqual((t["pid"], t["cgroup"], t["members"], t["options"]["interval_ms"]),
                         (0, ucg, 1, INTERVAL_MS), f"restored target: {t}")

        # errors name what was wrong; the daemon keeps serving
        missing = os.path.join(self.cg2, f"osdtest-missing-{os.getpid()}")
        self.assertRpcError(lambda: d.call("watch", {"cgroup": missing}), osdtest.E_NO_SUCH_PROCESS,
                            "no such cgroup", missing)
        self.assertRpcError(lambda: d.call("watch", {"cgroup": os.path.join(ucg, "cgroup.procs")}),
                            osdtest.E_INVALID_PARAMS, "is a file", "cgroup.procs")
        self.assertRpcError(lambda: d.call("watch", {"unit": f"osdtest-none-{os.getpid()}.service"}),
                            osdtest.E_NO_SUCH_PROCESS, "no such unit", f"osdtest-none-{os.getpid()}.service")
        self.assertRpcError(lambda: d.call("watch", {"cgroup": self.cg2}), osdtest.E_INVALID_PARAMS, "root cgroup")
        self.assertRpcError(lambda: d.call("watch", {"cgroup": "../etc"}), osdtest.E_INVALID_PARAMS, "..")
        self.assertRpcError(lambda: d.call("watch", {"cgroup": "/etc"}), osdtest.E_INVALID_PARAMS, "/etc",
                            "not under the cgroup2 mount")
        self.assertRpcError(lambda: d.call("watch", {"pid": sleeper.pid, "unit": unit}), osdtest.E_INVALID_PARAMS,
                            "only one of")
        v1 = [m for m in osdtest.mount_of("cgroup") if os.path.basename(m) == "cpu"]
        if v1:
            self.assertRpcError(lambda: d.call("watch", {"cgroup": v1[0]}), osdtest.E_INVALID_PARAMS, v1[0],
                                "cgroup v1")
        else:
            report("cgroup_v1", skipped="no cgroup v1 cpu hierarchy mounted")
        self.assertRpcError(lambda: d.call("series", {"unit": "nothing-here.service", "metric": "cpu"}),
                            osdtest.E_NOT_WATCHED, "unit nothing-here.service")
        self.assertEqual(len(d.call("list")["targets"]), 1, "failed watches left targets behind")

        # osdctl: a unit name where a PID goes
        if osdtest.OSDCTL_BIN:
            def osdctl(*args):
                return subprocess.run([osdtest.OSDCTL_BIN, "--socket", d.socket, *args], capture_output=True,
                                      text=True, timeout=20)
            time.sleep(3 * INTERVAL_MS / 1000)
            r = osdctl("list")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(unit, r.stdout, f"osdctl list should name the unit:\n{r.stdout}")
            r = osdctl("series", unit, "--metric", "cpu", "--json")
            self.assertEqual(r.returncode, 0, f"osdctl series {unit}: {r.stderr}")
            self.assertIn(ucg, r.stdout, "series reply names the cgroup")
            r = osdctl("watch", "--unit", unit)
            self.assertEqual(r.returncode, 1, f"second osdctl watch --unit: expected exit 1, got {r.returncode}")
            self.assertIn("already watched", r.stderr)
            r = osdctl("watch", "--cgroup", os.path.join(self.cg2, "osdtest-x"), "1")
            self.assertEqual(r.returncode, 2, f"PID and --cgroup together: expected usage error 2: {r.stderr}")
            r = osdctl("unwatch", unit)
            self.assertEqual(r.returncode, 0, f"osdctl unwatch {unit}: {r.stderr}")
            self.assertIn(f"unwatched {unit}", r.stdout)
        else:
            d.call("unwatch", {"unit": unit})
        self.assertEqual(d.call("list")["targets"], [], "the unit's target is gone after unwatch")
        self.assertRpcError(lambda: d.call("unwatch", {"unit": unit}), osdtest.E_NOT_WATCHED, unit)


if __name__ == "__main__":
    osdtest.main()
