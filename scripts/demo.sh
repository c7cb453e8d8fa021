#!/usr/bin/env bash
# Quick start, command 1: installs dependencies, builds, and runs the proxy on
# its embedded default config (UDP+TCP 127.0.0.1:5060, admin 127.0.0.1:8060) in
# front of one SIP Server node: an HA pair of simulators, the primary on
# 127.0.0.1:5090 (control 5091) and the backup on 127.0.0.1:5092 (control 5093).
# Point sipp or a softphone at 127.0.0.1:5060 (users: etc/users.txt; calls get
# an RTP echo). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
sims=()
trap 'kill "${sims[@]}" 2>/dev/null || true' EXIT
./build/sipsim --listen 127.0.0.1:5090 --control-port 5091 --role active --users etc/users.txt --via-proxy 127.0.0.1:5060 &
sims+=($!)
./build/sipsim --listen 127.0.0.1:5092 --control-port 5093 --role backup --users etc/users.txt --via-proxy 127.0.0.1:5060 &
sims+=($!)
cat <<'TXT'
sipproxy: SIP on 127.0.0.1:5060 (udp, tcp); SIP Server node "sipserver-1" = primary
127.0.0.1:5090 (active) + backup 127.0.0.1:5092, probed with OPTIONS every 5 s.
In another terminal:
  sipp -sn uac -s 1000 127.0.0.1:5060 -r 5 -i 127.0.0.2     # calls through the proxy
  ./build/sipproxyctl nodes                                   # roles, probes, RTT, since when
  ./build/sipsim ctl 127.0.0.1:5091 role dead                 # silence the primary...
  ./build/sipsim ctl 127.0.0.1:5093 role active               # ...the backup takes over
  ./build/sipsim ctl 127.0.0.1:5093 stats                     # watch its INVITE count grow
  ./build/sipsim ctl 127.0.0.1:5093 call sip:1001@127.0.0.1   # it calls a registered phone
  ./build/sipproxyctl node sipserver-1 out                    # take the node out by hand
TXT
./build/sipproxy
