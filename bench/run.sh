#!/usr/bin/env bash
# bench/run.sh — call-throughput benchmark: sipp calls INVITE/180/200/ACK/BYE/200 with
# Record-Route and in-dialog loose routing (RFC 3261 §16.6 step 4, §16.12) through
# sipproxy (bench/sipproxy.conf) and through Kamailio 5.6 (bench/kamailio.cfg) side
# by side: a fixed-rate run, then a rate sweep. For each run it prints calls ok/failed
# (sipp's final screen), proxy CPU per call in µs (utime+stime from /proc over every
# process of the proxy's process group, i.e. all Kamailio children and all threads),
# peak RSS (VmHWM summed over those processes; Kamailio's shared memory is counted
# once per process) and the sipproxy/Kamailio CPU ratio.
#
# usage: bench/run.sh [--quick] [--rate CPS] [--duration S] [--sweep "R1 R2 ..."]
#                     [--no-sweep] [--impl sipproxy|kamailio|both] [--nodes N]
#   --quick      1 s at 100 calls/s, no sweep (smoke test)
#   --nodes N    sipproxy balances over N SIP Server nodes (N sipp UASes on ports
#                BENCH_UAS_PORT.. +N-1, round-robin) instead of one, and the run
#                ends with sipproxy's CPU per call with N nodes against one node
#   defaults     1000 calls/s for 20 s, then sweep 250 500 1000 2000 4000 (5 s each)
# environment:
#   SIPPROXY_BUILD_DIR  where sipproxy is (default: build/ next to this folder)
#   BENCH_PROXY_ADDR (127.0.0.1) BENCH_PROXY_PORT (5060) BENCH_UAS_PORT (5090)
#   BENCH_UAC_ADDR (127.0.0.2) BENCH_UAC_PORT (5070)    — override to run on other ports
#   BENCH_KEEP=1 keeps the work directory (logs, sipp screens)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SIPPROXY_BUILD_DIR=${SIPPROXY_BUILD_DIR:-$HERE/../build}
PADDR=${BENCH_PROXY_ADDR:-127.0.0.1}
PPORT=${BENCH_PROXY_PORT:-5060}
UPORT=${BENCH_UAS_PORT:-5090}
CADDR=${BENCH_UAC_ADDR:-127.0.0.2}
CPORT=${BENCH_UAC_PORT:-5070}
RATE=1000 DURATION=20 SWEEP="250 500 1000 2000 4000" SWEEP_DURATION=5 IMPL=both NODES=1

while [ $# -gt 0 ]; do
	case $1 in
	--quick) RATE=100 DURATION=1 SWEEP="" ;;
	--rate) RATE=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--sweep) SWEEP=$2; shift ;;
	--no-sweep) SWEEP="" ;;
	--impl) IMPL=$2; shift ;;
	--nodes) NODES=$2; shift ;;
	-h | --help) sed -n '2,24p' "$0"; exit 0 ;;
	*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $IMPL in sipproxy) IMPLS=sipproxy ;; kamailio) IMPLS=kamailio ;; both) IMPLS="sipproxy kamailio" ;;
*) echo "--impl sipproxy|kamailio|both" >&2; exit 2 ;; esac

. "$HERE/lib.sh"
bench_init sipbench

command -v sipp >/dev/null || die "sipp not installed"
TCK=$(getconf CLK_TCK)

# The configs name 5060/5090; move them to the chosen ports.
sed -e "s/5060/$PPORT/g" -e "s/5090/$UPORT/g" -e "s/127\.0\.0\.1/$PADDR/g" \
	"$HERE/sipproxy.conf" >"$WORK/sipproxy.conf"
sed -e "s/127\.0\.0\.1:5060/$PADDR:$PPORT/g" -e "s/5090/$UPORT/g" \
	"$HERE/kamailio.cfg" >"$WORK/kamailio.cfg"
# nodes_conf N: sipproxy.conf with N SIP Server nodes on UPORT.. (round-robin).
nodes_conf() {
	local i items=""
	for i in $(seq 0 $(($1 - 1))); do
		items="$items${items:+,}
    { name = \"bench-uas-$i\"; sip-address = \"$PADDR\"; sip-port = $((UPORT + i)); transport = \"udp\"; oos-check = 0; }"
	done
	awk -v items="$items" '
		/sip-servers = \(/ { print "  sip-servers = (" items; skip = 1; next }
		skip && /^  \);/ { skip = 0 }
		!skip' "$WORK/sipproxy.conf" >"$WORK/sipproxy-$1.conf"
}
nodes_conf 1
[ "$NODES" -gt 1 ] && nodes_conf "$NODES"
CONF_NODES=1 # how many nodes the next sipproxy run uses


# pgroup_pids PGID: every process of the group (Kamailio forks; sipproxy is one).
pgroup_pids() { ps -e -o pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'; }
# cpu_ticks PGID: utime+stime of all those processes (threads included).
cpu_ticks() {
	local p t=0 v
	for p in $(pgroup_pids "$1"); do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + v))
	done
	echo "$t"
}
hwm_kb() {
	local p t=0 v
	for p in $(pgroup_pids "$1"); do
		v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

start_proxy() { # IMPL -> sets PX (pid = pgid)
	if [ "$1" = kamailio ]; then
		mkdir -p "$WORK/kamrun"
		setsid kamailio -f "$WORK/kamailio.cfg" -P "$WORK/kamailio.pid" -Y "$WORK/kamrun" \
			-DD -E -m 256 -M 16 >"$WORK/kamailio.log" 2>&1 </dev/null &
	else
		[ -x "$SIPPROXY_BUILD_DIR/sipproxy" ] || die "no $SIPPROXY_BUILD_DIR/sipproxy"
		setsid "$SIPPROXY_BUILD_DIR/sipproxy" -c "$WORK/sipproxy-$CONF_NODES.conf" \
			>"$WORK/sipproxy.log" 2>&1 </dev/null &
	fi
	PX=$!
	PIDS+=("$PX")
	wait_port "$PADDR" "$PPORT" "$PX"
}
stat_of() { awk -v f="$2" 'index($0, f) { v = $(NF) } END { print v + 0 }' "$1"; }

# run_one IMPL RATE SECONDS -> prints a result line and sets CPU_US
run_one() {
	local impl=$1 rate=$2 secs=$3 calls tag n=1 i
	calls=$((rate * secs))
	[ "$impl" = sipproxy ] && n=$CONF_NODES
	tag="$impl-$rate-$n"
	start_proxy "$impl"
	local uases=()
	for i in $(seq 0 $((n - 1))); do
		setsid sipp -sf "$HERE/uas.xml" -i "$PADDR" -p $((UPORT + i)) -t u1 -nostdin -max_socket 4096 \
			-trace_screen -screen_file "$WORK/uas-$tag-$i.screen" -trace_err \
			-error_file "$WORK/uas-$tag-$i.err" >"$WORK/uas-$tag-$i.log" 2>&1 </dev/null &
		uases+=($!)
		PIDS+=($!)
		wait_port "$PADDR" $((UPORT + i)) "$!"
	done
	local c0 c1 rc=0
	c0=$(cpu_ticks "$PX")
	sipp -sf "$HERE/uac.xml" -i "$CADDR" -p "$CPORT" -t u1 -nostdin -max_socket 4096 \
		-r "$rate" -m "$calls" -l $((rate * 4 + 100)) -timeout $((secs + 40))s -timeout_error \
		-trace_screen -screen_file "$WORK/uac-$tag.screen" -trace_err -error_file "$WORK/uac-$tag.err" \
		-s bench "$PADDR:$PPORT" >"$WORK/uac-$tag.log" 2>&1 </dev/null || rc=$?
	c1=$(cpu_ticks "$PX")
	local hwm ok failed
	hwm=$(hwm_kb "$PX")
	kill -0 "$PX" 2>/dev/null || echo "bench: $impl died during the run (see logs)" >&2
	for i in "${uases[@]}"; do stop "$i"; done
	stop "$PX"
	ok=$(stat_of "$WORK/uac-$tag.screen" "Successful call")
	failed=$(stat_of "$WORK/uac-$tag.screen" "Failed call")
	CPU_US=$(awk -v d=$((c1 - c0)) -v t="$TCK" -v n="$ok" 'BEGIN { if (n > 0) printf "%.1f", d / t * 1e6 / n; else print "nan" }')
	printf '%-9s %5s %7s %6s %8s %8s %12s %10s %5s\n' "$impl" "$n" "$rate" "$secs" "$ok" "$failed" \
		"$CPU_US" "$((hwm / 1024))" "$rc"
}

header() {
	printf '%-9s %5s %7s %6s %8s %8s %12s %10s %5s\n' impl nodes cps secs ok failed cpu_us/call rss_MB sipp
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a != "nan" && b != "nan" && b > 0) printf "%.2f", a / b; else print "n/a" }'
}

compare() { # RATE SECONDS
	local s="" k="" impl
	for impl in $IMPLS; do
		run_one "$impl" "$1" "$2"
		[ "$impl" = sipproxy ] && s=$CPU_US
		[ "$impl" = kamailio ] && k=$CPU_US
	done
	[ -n "$s" ] && [ -n "$k" ] && echo "  -> sipproxy/kamailio CPU per call at $1 cps: $(ratio "$s" "$k")"
	return 0
}

echo "# bench: proxy $PADDR:$PPORT, UAS $PADDR:$UPORT, UAC $CADDR:$CPORT, CLK_TCK $TCK ($(nproc) cores)"
echo "# fixed rate"
header
compare "$RATE" "$DURATION"
if [ -n "$SWEEP" ]; then
	echo "# sweep (${SWEEP_DURATION} s per rate)"
	header
	for r in $SWEEP; do compare "$r" "$SWEEP_DURATION"; done
fi
if [ "$NODES" -gt 1 ] && [ "$IMPLS" != kamailio ]; then
	echo "# sipproxy over $NODES nodes against one node (${DURATION} s at $RATE cps each)"
	header
	CONF_NODES=1 run_one sipproxy "$RATE" "$DURATION"
	one=$CPU_US
	CONF_NODES=$NODES run_one sipproxy "$RATE" "$DURATION"
	echo "  -> sipproxy CPU per call, $NODES nodes / 1 node: $(ratio "$CPU_US" "$one")"
fi
