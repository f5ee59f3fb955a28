#!/bin/bash
# bench_cgroup.sh BUILD_DIR - cost of the cgroup-target checks in procmon's handle_fork and
# handle_exec: kernel bpf_stats (run_time_ns / run_cnt) over 2,000 spawns of /bin/true, first
# with no cgroup target, then with one (an empty test cgroup). Root; turns
# kernel.bpf_stats_enabled on for the run and restores it; removes its cgroup and state.
set -euo pipefail
B=${1:?usage: bench_cgroup.sh BUILD_DIR}
T=$(mktemp -d)
CG2=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
    /proc/self/mountinfo | head -1)
CG=$CG2/osdbench-$$
old=$(cat /proc/sys/kernel/bpf_stats_enabled)
D=
cleanup() {
    [ -n "$D" ] && kill "$D" 2>/dev/null && wait "$D" 2>/dev/null || true
    rmdir "$CG" 2>/dev/null || true
    echo "$old" > /proc/sys/kernel/bpf_stats_enabled
    rm -rf "$T"
}
trap cleanup EXIT
echo 1 > /proc/sys/kernel/bpf_stats_enabled
"$B/daemon/osdetd" --socket "$T/s.sock" --state-dir "$T/state" > "$T/log" 2>&1 &
D=$!
sleep 1
measure() {
    python3 - "$1" "$D" <<'PY'
import glob, json, subprocess, sys
label, dpid = sys.argv[1], sys.argv[2]
ids = set()  # this daemon's programs: the prog_id of its BPF fds
for fi in glob.glob(f"/proc/{dpid}/fdinfo/*"):
    try:
        ids |= {line.split()[1] for line in open(fi) if line.startswith("prog_id:")}
    except OSError:
        pass
def progs():
    out = {}
    for i in ids:
        p = json.loads(subprocess.run(["bpftool", "-j", "prog", "show", "id", i], capture_output=True, text=True).stdout)
        if p.get("name") in ("handle_fork", "handle_exec"):
            out[p["name"]] = (p.get("run_cnt", 0), p.get("run_time_ns", 0))
    return out
a = progs()
for _ in range(2000):
    subprocess.run(["/bin/true"])
b = progs()
for n in sorted(b):
    c, t = b[n][0] - a[n][0], b[n][1] - a[n][1]
    print(f"{label}: {n}: {c} runs, {t / max(c, 1):.0f} ns/run")
PY
}
measure "no cgroup target"
mkdir "$CG"
"$B/client/osdctl" --socket "$T/s.sock" watch --cgroup "$CG" > /dev/null
measure "one cgroup target"
