#!/usr/bin/env bash
# The test command (README, .ci/run): installs dependencies, builds osdetd twice (normal,
# and ASan+UBSan), runs the whole ctest suite in both. Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
JOBS=${JOBS:-$(nproc)}
status=0
passed=0 failed=0
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
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
    if ! (cd "$dir" && ctest --output-on-failure -j2 -LE bench -E "${OSD_TEST_EXCLUDE:-^$}") | tee "$summary"; then
        echo "=== $variant: FAILED"
        status=1
    fi
    # "100% tests passed, 0 tests failed out of 49"
    line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$summary" | tail -1 || true)
    if [ -n "$line" ]; then
        f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
        n=$(sed -E 's/.* tests failed out of ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + n - f))
        failed=$((failed + f))
    else
        failed=$((failed + 1)) # ctest itself did not finish
    fi
done
# libFuzzer targets, each for a bounded time on its committed seed corpus (new inputs go
# to a scratch directory; a crash leaves its reproducer in build-test-fuzz/).
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
echo "=== fuzz: configure and build (build-test-fuzz, clang)"
CC=clang cmake -S . -B build-test-fuzz -DOSD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-test-fuzz -j"$JOBS"
for target in build-test-fuzz/tests/fuzz/fuzz_*; do
    name=$(basename "$target")
    corpus=tests/fuzz/corpus/${name#fuzz_}
    scratch=$(mktemp -d)
    echo "=== fuzz: $name for ${FUZZ_SECONDS}s"
    if (cd build-test-fuzz && "../$target" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -max_len=65536 \
            -print_final_stats=0 "$scratch" "../$corpus" 2>"$name.log"); then
        echo "$name: passed ($(grep -o 'Done [0-9]* runs' "build-test-fuzz/$name.log" || true))"
        passed=$((passed + 1))
    else
        echo "$name: FAILED"; tail -40 "build-test-fuzz/$name.log"
        status=1
        failed=$((failed + 1))
    fi
    rm -rf "$scratch"
done
# one line for the whole run: both ctest variants and the fuzzers
echo "all: $passed passed, $failed failed"
exit $status
