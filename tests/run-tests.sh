#!/usr/bin/env bash
# The test command (README, .ci/run): installs dependencies, builds osdetd twice (normal,
# and ASan+UBSan), runs the whole ctest suite in both. Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
JOBS=${JOBS:-$(nproc)}
status=0
for variant in release asan; do
    dir=build-test-$variant
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    [ "$variant" = asan ] && flags+=(-DOSD_SANITIZE=ON)
    echo "=== $variant: configure and build ($dir)"
    cmake -S . -B "$dir" "${flags[@]}" >/dev/null
    cmake --build "$dir" -j"$JOBS"
    echo "=== $variant: ctest"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    if ! (cd "$dir" && ctest --output-on-failure -j2 -LE bench -E "${OSD_TEST_EXCLUDE:-^$}"); then
        echo "=== $variant: FAILED"
        status=1
    fi
done
exit $status
