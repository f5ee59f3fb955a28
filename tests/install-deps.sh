#!/usr/bin/env bash
# Installs the Debian 12 packages osdetd needs to build, run and test. Idempotent: runs
# apt-get only when something is missing.
set -euo pipefail
PKGS=(build-essential cmake pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
      libuv1-dev libjansson-dev libsystemd-dev libgsl-dev libclang-rt-14-dev python3 systemd
      man-db adduser) # man-db, adduser: the .deb test (man -w, postinst addgroup)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: need root to install: ${missing[*]}" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# BPF tracepoints need tracefs for some tools; harmless when already mounted.
if [ -d /sys/kernel/tracing ] && [ -z "$(ls -A /sys/kernel/tracing 2>/dev/null)" ]; then
    mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi
