#!/usr/bin/env bash
# A cluster on one machine: Redis (127.0.0.1:6390), two proxies of one data
# center sharing it — p1 on 127.0.0.1:5060 (admin 8060) and p2 on
# 127.0.0.11:5060 (admin 8061) — and one SIP Server node, an HA pair of
# simulators (primary 127.0.0.1:5090, backup 127.0.0.1:5092). It then shows
# the point of the shared store: phone 1001 registers through p1 (over TCP:
# p1 holds its connection) and the SIP Server calls it through p2, which
# sends the call to p1, down the phone's connection. Everything stays up
# until Ctrl-C; the commands to try next are printed. Installs and builds
# first, like scripts/demo.sh. Files go to a temporary directory, removed at
# the end. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
DIR=$(mktemp -d /tmp/sipproxy-cluster-demo.XXXXXX)
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

redis-server --bind 127.0.0.1 --port 6390 --dir "$DIR" --save '' --appendonly no \
	--protected-mode no >"$DIR/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p 6390 ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done

cat >"$DIR/cluster.conf" <<'EOF'
# The cluster definition both proxies include (see etc/cluster.conf for every key).
cluster = {
  proxies = (
    { name = "p1"; sip-address = "127.0.0.1";  sip-port = 5060; geo-location = "dc1"; },
    { name = "p2"; sip-address = "127.0.0.11"; sip-port = 5060; geo-location = "dc1"; }
  );
  sip-servers = (
    { name = "sipserver-1"; sip-address = "127.0.0.1"; sip-port = 5090;
      backup-sip-address = "127.0.0.1"; backup-sip-port = 5092; geo-location = "dc1"; }
  );
  secret = "cluster-demo-secret-change-me";   # the proxies' shared flow-token key
};
EOF
for p in p1:8060 p2:8061; do
	name=${p%:*} admin=${p#*:}
	cat >"$DIR/$name.conf" <<EOF
@include "cluster.conf"
registrar = { domains = [ "example.com" ]; };
store = { backend = "redis"; redis-address = "127.0.0.1:6390"; };
admin = { address = "127.0.0.1"; port = $admin; };
log = { level = "info"; };
EOF
	./build/sipproxy -c "$DIR/$name.conf" --name "$name" >"$DIR/$name.log" 2>&1 &
	pids+=($!)
done
./build/sipsim --listen 127.0.0.1:5090 --control-port 5091 --role active --users etc/users.txt \
	--via-proxy 127.0.0.11:5060 >"$DIR/sim-primary.log" 2>&1 &
pids+=($!)
./build/sipsim --listen 127.0.0.1:5092 --control-port 5093 --role backup --users etc/users.txt \
	--via-proxy 127.0.0.11:5060 >"$DIR/sim-backup.log" 2>&1 &
pids+=($!)

store_live() { curl -s "http://127.0.0.1:$1/store" | grep -q '"state":"live"'; }
for _ in $(seq 1 100); do store_live 8060 && store_live 8061 && break; sleep 0.1; done
store_live 8060 && store_live 8061 || {
	echo "the proxies did not reach Redis; logs in $DIR" >&2
	tail -5 "$DIR"/p*.log >&2
	exit 1
}

echo "== phone 1001 registers through p1 over TCP"
python3 tests/integration/registrar/endpoint.py --proto tcp --local 127.0.0.2:40000 \
	--proxy 127.0.0.1:5060 --user 1001 --password 1001pass --domain example.com \
	--answer 1 --timeout 30 >"$DIR/phone.log" 2>&1 &
PHONE=$!
pids+=("$PHONE")
for _ in $(seq 1 100); do grep -q register= "$DIR/phone.log" && break; sleep 0.1; done
echo "   phone: $(head -1 "$DIR/phone.log")"
for _ in $(seq 1 50); do
	./build/sipproxyctl -a 127.0.0.1:8061 registrations sip:1001@example.com >/dev/null 2>&1 && break
	sleep 0.1
done
echo "== p2 holds the binding too (owner p1: the proxy with the phone's connection):"
./build/sipproxyctl -a 127.0.0.1:8061 registrations sip:1001@example.com
echo "== the SIP Server calls 1001 through p2"
./build/sipsim ctl 127.0.0.1:5091 call 1001@example.com via 127.0.0.11:5060 hold 2000 >/dev/null
for _ in $(seq 1 50); do grep -q invite=answered "$DIR/phone.log" && break; sleep 0.1; done
sleep 0.5
echo "== the cluster's calls, as p1 lists them (recorded by p2, the phone's flow at p1):"
./build/sipproxyctl -a 127.0.0.1:8060 calls
wait "$PHONE" 2>/dev/null || true
echo "   phone: $(tr '\n' ' ' <"$DIR/phone.log")"
cat <<TXT

The cluster keeps running (Ctrl-C stops it; logs in $DIR). Try:
  ./build/sipproxyctl -a 127.0.0.1:8060 store          # Redis state, queue, loads, lag
  ./build/sipproxyctl -a 127.0.0.1:8061 nodes          # the node, and the other proxy (alive?)
  sipp -sn uac -s 1001 127.0.0.11:5060 -m 5 -i 127.0.0.3  # calls in through p2
  ./build/sipproxyctl -a 127.0.0.1:8060 calls          # ...listed by p1 as well
  redis-cli -p 6390 --scan --pattern 'sp:*'            # the shared records
  ./build/sipproxyctl -a 127.0.0.1:8060 cluster publish $DIR/cluster.conf   # one definition, live
TXT
wait
