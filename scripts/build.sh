#!/usr/bin/env bash
# Configures and builds one flavour of sipproxy:
#   scripts/build.sh release   -> build/       (RelWithDebInfo, gcc)
#   scripts/build.sh asan      -> build-asan/  (clang, ASan+UBSan, libFuzzer targets)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=$(nproc 2>/dev/null || echo 2)
case "$flavour" in
  release)
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build -j"$jobs"
    ;;
  asan)
    CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
      -DSIPPROXY_SANITIZE=ON -DSIPPROXY_FUZZ=ON >/dev/null
    cmake --build build-asan -j"$jobs"
    ;;
  *) echo "usage: $0 release|asan" >&2; exit 2 ;;
esac
