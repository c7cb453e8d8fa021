#!/usr/bin/env bash
# Quick start, command 2 (and CI, via .ci/run): installs dependencies, builds
# the release and the sanitizer flavours, and runs every test: unit tests,
# integration tests with real sipp/sipsim/proxy processes on loopback, the
# RFC 4475 torture messages, and a time-bounded libFuzzer run on the parser —
# all under ASan+UBSan. The last line printed is ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
bash scripts/build.sh asan
# Sanitizer reports of every process a test starts land in build-asan/asan-logs/,
# checked by the last test (sanitizers/no_reports).
rm -rf build-asan/asan-logs && mkdir -p build-asan/asan-logs
logs=$(pwd)/build-asan/asan-logs
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:log_path=$logs/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan}
exec ctest --test-dir build-asan --output-on-failure --timeout 600
