#!/usr/bin/env bash
# Installs every Debian package sipproxy needs to build, test and benchmark.
# Idempotent: packages already present are skipped, so the quick start stays fast.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libevent-dev libc-ares-dev libconfig-dev libcmocka-dev libhiredis-dev
  sip-tester kamailio redis-server redis-sentinel netcat-openbsd curl procps python3 valgrind dnsmasq-base iproute2
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # kamailio's and redis's packages enable services; the benchmark and the
  # tests start their own instances on their own ports.
  if command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now kamailio redis-server redis-sentinel >/dev/null 2>&1 || true
  fi
  pkill -x kamailio >/dev/null 2>&1 || true
  pkill -x redis-server >/dev/null 2>&1 || true
  pkill -x redis-sentinel >/dev/null 2>&1 || true
fi
