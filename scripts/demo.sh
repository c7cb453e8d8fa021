#!/usr/bin/env bash
# Quick start, command 1: installs dependencies, builds, and runs the proxy on
# its embedded default config (UDP+TCP 127.0.0.1:5060, admin 127.0.0.1:8060)
# with the SIP Server simulator behind it on 127.0.0.1:5090.
# Point sipp or a softphone at 127.0.0.1:5060 (users: etc/users.txt). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
./build/sipsim --listen 127.0.0.1:5090 --users etc/users.txt &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
echo "sipproxy: SIP on 127.0.0.1:5060 (udp, tcp), SIP Server simulator on 127.0.0.1:5090"
echo "try: sipp -sn uac -s 1000 127.0.0.1:5060 -m 1 -i 127.0.0.2   (another terminal)"
./build/sipproxy
