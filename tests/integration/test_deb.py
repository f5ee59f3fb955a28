"""test_deb.py - packaging: `cpack -G DEB` in the build tree makes a .deb that installs
cleanly with dpkg -i (group osdetd, units, config as a conffile, man pages), whose daemon
and client work from their installed paths and whose units verify with systemd-analyze;
dpkg -P removes it again. Skipped when a different osdetd package is already installed,
so a developer's own installation is never replaced."""
import os
import shutil
import subprocess
import tempfile
import unittest

import osdtest
from osdtest import Client, OsdTestCase

BUILD = os.environ.get("OSD_BUILD_DIR", "")


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=kw.pop("timeout", 300), **kw)


class Deb(OsdTestCase):
    def test_build_install_remove(self):
        st = run("dpkg-query", "-W", "-f=${Status}", "osdetd")
        if "install ok installed" in st.stdout:
            raise unittest.SkipTest("an osdetd package is already installed on this machine; not touching it")
        out = tempfile.mkdtemp(prefix="osddeb-")
        self.addCleanup(shutil.rmtree, out, True)
        r = run("cpack", "-G", "DEB", "-B", out, cwd=BUILD)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        self.assertEqual(len(debs), 1, f"packages made: {os.listdir(out)}")
        deb = os.path.join(out, debs[0])
        files = {line.split()[-1].lstrip(".") for line in run("dpkg-deb", "-c", deb).stdout.splitlines()}
        for f in ("/usr/sbin/osdetd", "/usr/bin/osdctl", "/etc/osdetd/osdetd.conf",
                  "/usr/lib/systemd/system/osdetd.service", "/usr/lib/systemd/system/osdetd.socket",
                  "/usr/lib/sysusers.d/osdetd.conf", "/usr/lib/tmpfiles.d/osdetd.conf",
                  "/usr/share/man/man8/osdetd.8", "/usr/share/man/man1/osdctl.1"):
            self.assertIn(f, files, f"{f} in the package")

        r = run("dpkg", "-i", deb)
        self.addCleanup(run, "dpkg", "-P", "osdetd")
        self.assertEqual(r.returncode, 0, f"dpkg -i: {r.stdout}{r.stderr}")
        self.assertEqual(run("getent", "group", "osdetd").returncode, 0, "the osdetd group exists")
        self.assertEqual(run("dpkg-query", "-W", "-f=${Conffiles}", "osdetd").stdout.split()[0],
                         "/etc/osdetd/osdetd.conf", "the configuration is a conffile")
        r = run("systemd-analyze", "verify", "/usr/lib/systemd/system/osdetd.service",
                "/usr/lib/systemd/system/osdetd.socket")
        ours = [l for l in (r.stdout + r.stderr).splitlines() if "osdetd" in l]
        self.assertEqual(ours, [], f"systemd-analyze verify of the installed units:\n{r.stdout}{r.stderr}")
        self.assertIn("osdetd", run("man", "-w", "osdetd").stdout)
        self.assertIn("osdctl", run("man", "-w", "osdctl").stdout)

        # the installed daemon reads the installed config and serves the installed client
        tmp = tempfile.mkdtemp(prefix="osddebrun-")
        self.addCleanup(shutil.rmtree, tmp, True)
        sock = os.path.join(tmp, "s.sock")
        p = subprocess.Popen(["/usr/sbin/osdetd", "--socket", sock, "--state-dir", os.path.join(tmp, "state")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            osdtest.wait_until(lambda: os.path.exists(sock), 15, "the installed daemon's socket")
            osdtest.wait_until(lambda: Client(sock).call("status"), 5, "status")
            r = run("/usr/bin/osdctl", "--socket", sock, "--json", "config")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("/etc/osdetd/osdetd.conf", r.stdout, "the daemon used the installed config file")
        finally:
            p.terminate()
            self.assertEqual(p.wait(timeout=20), 0, p.stderr.read())
            p.stderr.close()

        r = run("dpkg", "-P", "osdetd")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(os.path.exists("/usr/sbin/osdetd"), "purged")
        self.assertFalse(os.path.exists("/etc/osdetd/osdetd.conf"), "purge removes the conffile")


if __name__ == "__main__":
    osdtest.main()
