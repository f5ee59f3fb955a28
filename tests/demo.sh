#!/usr/bin/env bash
# The main job, for the README: installs what is missing, builds, starts osdetd on its
# embedded defaults (socket /run/osdetd/osdetd.sock, state /var/lib/osdetd) and runs a
# demo workload under watch, printing live samples and the anomalies osdetd finds until
# the demo ends (about 80 s) or Ctrl-C. A daemon already listening on the default socket
# is used as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
echo "=== building (build-demo/)"
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-demo -j"$(nproc)" --target osdetd osdctl demo_workload >/dev/null
OSDETD=build-demo/daemon/osdetd
OSDCTL=build-demo/client/osdctl
DEMO=build-demo/tests/demo/demo_workload
INTERVAL_MS=${INTERVAL_MS:-200}
# SPOT scores after depth+gap (110) + calib (100) points: 42 s at 200 ms; the quiet phase is longer
QUIET_S=${QUIET_S:-50}

daemon_pid= follower_pid=
cleanup() {
    [ -n "$follower_pid" ] && kill "$follower_pid" 2>/dev/null || true
    if [ -n "$daemon_pid" ]; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
        echo "=== osdetd stopped (its log: build-demo/osdetd.log)"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if "$OSDCTL" status >/dev/null 2>&1; then
    echo "=== using the osdetd already listening on /run/osdetd/osdetd.sock"
else
    echo "=== starting osdetd (embedded defaults)"
    "$OSDETD" >build-demo/osdetd.log 2>&1 &
    daemon_pid=$!
    for _ in $(seq 100); do
        "$OSDCTL" status >/dev/null 2>&1 && break
        kill -0 "$daemon_pid" 2>/dev/null || { cat build-demo/osdetd.log; exit 1; }
        sleep 0.1
    done
fi
"$OSDCTL" status
echo
echo "=== anomalies, as osdetd reports them (also in journald and /var/lib/osdetd/anomalies.jsonl):"
"$OSDCTL" anomalies --follow --since 1s > >(sed -u 's/^/[anomaly] /') &
follower_pid=$! # osdctl itself, so the cleanup stops it before the daemon goes
sleep 0.5
echo "=== watching demo_workload from its first instruction; samples every ${INTERVAL_MS} ms"
echo "    (quiet for ${QUIET_S} s while the detector calibrates, then a CPU burst, then a memory surge)"
"$OSDCTL" watch --interval "$INTERVAL_MS" --calib 100 --stride 8 --exec --follow -- "$DEMO" "$QUIET_S"
sleep 1
echo
echo "=== what osdetd found:"
"$OSDCTL" anomalies --since 5m
