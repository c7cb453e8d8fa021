#!/usr/bin/env bash
# bench/register.sh — registrations per second through sipproxy (registrar issue):
# sipp endpoints REGISTER with digest auth (401 then 200) through the proxy to the
# SIP Server simulator, which grants the bindings; the proxy stores each on the 200.
# For each rate it prints registrations ok/failed, the rate achieved, proxy CPU time
# per registration (both REGISTER transactions and the store write) and peak RSS.
# usage: bench/register.sh [--count N] [--rates "500 1000 2000"]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
BUILD=${SIPPROXY_BUILD_DIR:-$SRC/build}
COUNT=10000 RATES="500 1000 2000 4000"
while [ $# -gt 0 ]; do
	case $1 in
	--count) COUNT=$2; shift ;;
	--rates) RATES=$2; shift ;;
	-h | --help) sed -n '2,7p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
WORK=$(mktemp -d /tmp/sipregbench.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
TCK=$(getconf CLK_TCK)
echo "loaduser loadpw" >"$WORK/users.txt"
{ echo SEQUENTIAL; for i in $(seq 0 $((COUNT - 1))); do printf 'ep%06d;\n' "$i"; done; } >"$WORK/users.csv"
cat "$HERE/sipproxy.conf" - >"$WORK/proxy.conf" <<'EOF2'
registrar = { domains = [ "sipproxy.test" ]; };
EOF2
wait_udp() { for _ in $(seq 1 100); do ss -H -lnu "( sport = :$1 )" | grep -q . && return 0; sleep 0.05; done; return 1; }
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

printf '%-10s %6s %8s %8s %10s %12s %8s\n' impl rate ok failed "achieved/s" "cpu_us/reg" rss_MB
for rate in $RATES; do
	"$BUILD/sipsim" --listen 127.0.0.1:5090 --users "$WORK/users.txt" --max-expires 3600 \
		>"$WORK/sim.log" 2>&1 &
	PIDS+=($!)
	"$BUILD/sipproxy" -c "$WORK/proxy.conf" >"$WORK/proxy.log" 2>&1 &
	px=$!
	PIDS+=($px)
	wait_udp 5090 && wait_udp 5060
	c0=$(ticks "$px")
	t0=$(date +%s.%N)
	sipp -sf "$SRC/tests/integration/registrar_load/register_csv.xml" -inf "$WORK/users.csv" \
		-i 127.0.0.2 -p 5070 -t u1 -m "$COUNT" -r "$rate" -l $((rate * 4)) -au loaduser \
		-ap loadpw -nostdin -timeout 120s -trace_screen -screen_file "$WORK/reg.screen" \
		127.0.0.1:5060 >"$WORK/sipp.log" 2>&1 || true
	t1=$(date +%s.%N)
	c1=$(ticks "$px")
	rss=$(awk '/^VmHWM:/ { printf "%d", $2 / 1024 }' "/proc/$px/status")
	ok=$(awk 'index($0, "Successful call") { v = $(NF) } END { print v + 0 }' "$WORK/reg.screen")
	failed=$(awk 'index($0, "Failed call") { v = $(NF) } END { print v + 0 }' "$WORK/reg.screen")
	awk -v r="$rate" -v ok="$ok" -v f="$failed" -v c="$((c1 - c0))" -v tck="$TCK" -v t0="$t0" \
		-v t1="$t1" -v rss="$rss" 'BEGIN {
		printf "%-10s %6d %8d %8d %10.0f %12.1f %8d\n", "sipproxy", r, ok, f, ok / (t1 - t0),
			ok ? c * 1e6 / tck / ok : 0, rss }'
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
done
