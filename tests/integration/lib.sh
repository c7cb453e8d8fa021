# shellcheck shell=bash disable=SC2034
# lib.sh — helpers sourced by every tests/integration/<scenario>/run.sh: find the
# binaries, a temp dir, background processes with log files, port waits, sipp with
# standard flags, assertions, and a cleanup trap that kills what we started and
# dumps the logs on failure. PROXY_IMPL=kamailio runs Kamailio 5.6 (generated cfg)
# as the reference RFC 3261 §16 proxy instead of sipproxy.
#
# Environment:
#   SIPPROXY_BUILD_DIR  build dir holding sipproxy, sipsim (default /work/main/build)
#   SIPPROXY_SOURCE_DIR repository (default: two levels above this file)
#   PROXY_IMPL          sipproxy (default) | kamailio
#   IT_PORT_BASE        first port of the 100-port block used (default 25000)
#   IT_KEEP=1           keep the temp dir (printed) after the run
#   IT_VERBOSE=1        dump all logs even on success
#   IT_HARVEST_DIR      when set, the proxy's logs are copied there as
#                       $IT_NAME-proxy*.log (seeds for tests/fuzz/fuzz_proxy)
set -euo pipefail

IT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_SCEN_DIR=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
IT_NAME=$(basename "$IT_SCEN_DIR")
SIPPROXY_SOURCE_DIR=${SIPPROXY_SOURCE_DIR:-$(cd "$IT_LIB_DIR/../.." && pwd)}
SIPPROXY_BUILD_DIR=${SIPPROXY_BUILD_DIR:-/work/main/build}
PROXY_IMPL=${PROXY_IMPL:-sipproxy}
IT_PORT_BASE=${IT_PORT_BASE:-25000}
IT_XML=$IT_LIB_DIR/xml
# The interpreter itself, not a wrapper (pyenv shims fork: killing the shim's pid
# would leave the python process running).
IT_PY=$(python3 -c 'import sys; print(sys.executable)')
SIPSEND="$IT_PY $IT_LIB_DIR/sipsend.py"
SIPSINK="$IT_PY $IT_LIB_DIR/sipsink.py"

# Port plan: offsets inside the block. Scenarios run one at a time (ctest
# RUN_SERIAL), so all of them share the same block.
P_PROXY=$((IT_PORT_BASE + 0))
P_ADMIN=$((IT_PORT_BASE + 1))
P_UAS=$((IT_PORT_BASE + 10))
P_UAS2=$((IT_PORT_BASE + 11))
P_UAC=$((IT_PORT_BASE + 20))
P_UAC2=$((IT_PORT_BASE + 21))
P_SEND=$((IT_PORT_BASE + 25))
P_VICTIM=$((IT_PORT_BASE + 30))
P_SIM=$((IT_PORT_BASE + 40))
P_SIM_CTL=$((IT_PORT_BASE + 41)) # sipsim --control-port
P_SIM2=$((IT_PORT_BASE + 42))    # further simulators (tests/integration/sipsim)
P_SIM3=$((IT_PORT_BASE + 43))
P_DNS=$((IT_PORT_BASE + 45))      # a test's own dnsmasq (it_dnsmasq), or a dead resolver
P_ADMIN2=$((IT_PORT_BASE + 2))    # admin of further proxies (cluster_lib.sh)
P_ADMIN3=$((IT_PORT_BASE + 3))
P_ADMIN4=$((IT_PORT_BASE + 4))
P_RTP=$((IT_PORT_BASE + 50))      # media a test sends itself (RTP echo checks)
P_REDIS=$((IT_PORT_BASE + 60))    # a test's own redis-server(s) (redis_lib.sh): +60..+64
P_SENTINEL=$((IT_PORT_BASE + 65)) # its redis-sentinels: +65..+69

# The user part of the proxy's Record-Route values: a flow token (RFC 5626 §5.2)
# when the dialog has an endpoint on one side (a regex: optional, hex).
IT_RR_USER='([0-9a-f]+@)?'

# Addresses: UAC on .2, SIP Server on .3, proxy on .1 (brief's layout).
A_PROXY=${A_PROXY:-127.0.0.1}
A_UAC=${A_UAC:-127.0.0.2}
A_UAS=${A_UAS:-127.0.0.3}

IT_TMP=$(mktemp -d "/tmp/sipit.$IT_NAME.XXXXXX")
IT_PIDS=()
IT_OK=0
PROXY_PID=""

it_log() { printf '[%s %s] %s\n' "$IT_NAME" "$(date +%T)" "$*" >&2; }

it_dump_logs() {
	local f
	for f in "$IT_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $(basename "$f") (last 80 lines) -----" >&2
		tail -n 80 "$f" >&2
	done
}

it_cleanup() {
	local rc=$? pid i
	# Ask politely first (lets sipp/kamailio flush), then kill what is left.
	for pid in "${IT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for i in $(seq 1 50); do
		local alive=0
		for pid in "${IT_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "${IT_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	# Kamailio forks children into its own process group (we start it with setsid).
	if [ -f "$IT_TMP/kamailio.pid" ]; then
		local pg
		pg=$(cat "$IT_TMP/kamailio.pgid" 2>/dev/null || true)
		[ -n "$pg" ] && kill -KILL -- "-$pg" 2>/dev/null || true
	fi
	if [ "$IT_OK" != 1 ] || [ "${IT_VERBOSE:-0}" = 1 ]; then
		it_dump_logs
		[ "$IT_OK" = 1 ] || echo "FAIL [$IT_NAME] (impl=$PROXY_IMPL, logs in $IT_TMP)" >&2
	fi
	if [ -n "${IT_HARVEST_DIR:-}" ]; then
		local log
		mkdir -p "$IT_HARVEST_DIR" || true
		for log in "$IT_TMP"/proxy*.log; do
			[ -f "$log" ] && cp "$log" "$IT_HARVEST_DIR/$IT_NAME-$(basename "$log")" || true
		done
	fi
	if [ "${IT_KEEP:-0}" = 1 ] || [ "$IT_OK" != 1 ]; then
		echo "[$IT_NAME] temp dir kept: $IT_TMP" >&2
	else
		rm -rf "$IT_TMP"
	fi
	[ "$IT_OK" = 1 ] && exit 0
	[ "$rc" = 0 ] && rc=1
	exit "$rc"
}
trap it_cleanup EXIT
trap 'exit 130' INT TERM

it_fail() {
	echo "FAIL [$IT_NAME]: $*" >&2
	exit 1
}
# it_proxy_shutdown: a clean shutdown — SIGTERM must end sipproxy with status 0
# within its shutdown-timeout (a sanitizer report at exit makes it non-zero).
# Returns 1 with the reason in IT_SHUTDOWN_ERR otherwise; 0 when there is no
# running sipproxy. (Not in a subshell: it waits for the proxy.)
it_proxy_shutdown() {
	IT_SHUTDOWN_ERR=""
	if [ "$PROXY_IMPL" = sipproxy ] && [ -n "$PROXY_PID" ] && kill -0 "$PROXY_PID" 2>/dev/null; then
		local rc=0 _
		kill -TERM "$PROXY_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$PROXY_PID" 2>/dev/null; then
			IT_SHUTDOWN_ERR="sipproxy still running 10 s after SIGTERM"
			return 1
		fi
		wait "$PROXY_PID" || rc=$?
		if [ "$rc" != 0 ]; then
			IT_SHUTDOWN_ERR="sipproxy exited with status $rc on SIGTERM (see proxy.log)"
			return 1
		fi
	fi
	return 0
}
it_pass() {
	it_proxy_shutdown || it_fail "$IT_SHUTDOWN_ERR"
	IT_OK=1
	echo "PASS [$IT_NAME] (impl=$PROXY_IMPL)"
	exit 0
}

# it_need_bin PATH: a missing binary is a failure (never a silent skip).
it_need_bin() { [ -x "$1" ] || it_fail "missing executable $1 (build it first)"; }

# it_start NAME CMD...: runs CMD in the background, output to $IT_TMP/NAME.log;
# sets IT_LAST_PID.
it_start() {
	local name=$1
	shift
	"$@" >"$IT_TMP/$name.log" 2>&1 </dev/null &
	IT_LAST_PID=$!
	IT_PIDS+=("$IT_LAST_PID")
	it_log "started $name (pid $IT_LAST_PID): $*"
}

# it_alive PID NAME: fails when the process has exited.
it_alive() { kill -0 "$1" 2>/dev/null || it_fail "$2 (pid $1) is not running"; }

# it_wait_port udp|tcp ADDR PORT [SECONDS] [PID]: polls ss until something listens
# on ADDR:PORT (or the wildcard). Fails after SECONDS (default 10) or when PID dies.
it_wait_port() {
	local proto=$1 addr=$2 port=$3 secs=${4:-10} pid=${5:-}
	local flag=-lnu want deadline
	[ "$proto" = tcp ] && flag=-lnt
	case $addr in *:*) want="[$addr]:$port" ;; *) want="$addr:$port" ;; esac
	deadline=$((SECONDS + secs))
	while [ $SECONDS -le $deadline ]; do
		if ss -H $flag "( sport = :$port )" 2>/dev/null | awk '{print $4}' |
			grep -qxF -e "$want" -e "0.0.0.0:$port" -e "*:$port" -e "[::]:$port"; then
			return 0
		fi
		[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && it_fail "process $pid died before binding $proto $want"
		sleep 0.05
	done
	it_fail "nothing listens on $proto $want after ${secs}s"
}

# ---- proxy under test -------------------------------------------------------

# it_proxy_conf [key=value...]: writes $IT_TMP/proxy.conf for sipproxy.
#   sbcs='IP ...' (cluster.sbcs: edge peers whose Path counts, RFC 3327)
#   shutdown=SECONDS (shutdown-timeout, default 1)
#   listen=ADDR port=N transports='"udp", "tcp"' servers='ADDR:PORT:udp ...'
#   t1=MS extra='libconfig text appended'
#   noresp=MS     cluster.no-response-timeout (passive detection; default: the
#                 product's 2000; 0 = only Timer B/F, for servers that answer late)
#   listen6=ADDR  an extra UDP+TCP listener on ADDR (e.g. ::1) at the same port,
#                 written as proxy.listen (docs/config.md)
it_proxy_conf() {
	local listen=$A_PROXY port=$P_PROXY transports='"udp", "tcp"' servers="$A_UAS:$P_UAS:udp"
	local t1=100 extra="" listen6="" sbcs="" shutdown=1 noresp="" kv
	for kv in "$@"; do
		case $kv in
		listen=*) listen=${kv#*=} ;; port=*) port=${kv#*=} ;;
		listen6=*) listen6=${kv#*=} ;; sbcs=*) sbcs=${kv#*=} ;;
		shutdown=*) shutdown=${kv#*=} ;;
		transports=*) transports=${kv#*=} ;; servers=*) servers=${kv#*=} ;;
		t1=*) t1=${kv#*=} ;; extra=*) extra=${kv#*=} ;;
		noresp=*) noresp="
  no-response-timeout = ${kv#*=};" ;;
		*) it_fail "it_proxy_conf: unknown $kv" ;;
		esac
	done
	IT_PROXY_LISTEN=$listen IT_PROXY_PORT=$port IT_PROXY_SERVERS=$servers
	IT_PROXY_TRANSPORTS=$transports IT_PROXY_LISTEN6=$listen6
	local listens=""
	[ -z "$listen6" ] || listens="
  listen = ( { transport = \"udp\"; address = \"$listen6\"; port = $port; },
             { transport = \"tcp\"; address = \"$listen6\"; port = $port; } );"
	local sbc_items="" a
	for a in $sbcs; do
		sbc_items="$sbc_items${sbc_items:+,} { name = \"sbc-$a\"; sip-address = \"$a\"; }"
	done
	[ -z "$sbc_items" ] || sbc_items="
  sbcs = ( $sbc_items );"
	local n=0 s items="" host rest sport tp
	for s in $servers; do
		n=$((n + 1))
		tp=${s##*:}; rest=${s%:*}; sport=${rest##*:}; host=${rest%:*}
		[ -n "$items" ] && items="$items,"
		items="$items
    { name = \"server$n\"; sip-address = \"$host\"; sip-port = $sport; transport = \"$tp\"; oos-check = 0; }"
	done
	cat >"$IT_TMP/proxy.conf" <<EOF
# generated by tests/integration/lib.sh for scenario $IT_NAME
proxy = {
  name = "it-proxy";
  sip-address = "$listen";
  sip-port = $port;
  transports = [ $transports ];$listens
};
cluster = {
  proxies = ( { name = "it-proxy"; sip-address = "$listen"; sip-port = $port; } );
  sip-servers = ( $items
  );$sbc_items$noresp
};
sip = { t1 = $t1; t2 = 4000; timer-c = 20000; };
log = { level = "debug"; sip-trace = true; };
admin = { address = "127.0.0.1"; port = $P_ADMIN; };
shutdown-timeout = $shutdown;
$extra
EOF
}

# Kamailio reference config doing the same job as sipproxy: endpoint requests go to
# the first sip-server, requests from a sip-server are routed by Route/R-URI,
# record_route, loose_route in dialog, 483/420/416/400 via maxfwd and sanity.
it_kamailio_cfg() {
	local first=${IT_PROXY_SERVERS%% *} tp host rest sport trusted="" dst_ok="" s
	tp=${first##*:}; rest=${first%:*}; sport=${rest##*:}; host=${rest%:*}
	local hostu=$host
	case $host in *:*) hostu="[$host]" ;; esac
	for s in $IT_PROXY_SERVERS; do
		local r=${s%:*} h p
		h=${r%:*} p=${r##*:}
		[ -n "$trusted" ] && trusted="$trusted || "
		trusted="$trusted(\$si == \"$h\" && \$sp == $p)"
		[ -n "$dst_ok" ] && dst_ok="$dst_ok || "
		dst_ok="$dst_ok((\$rd == \"$h\" || \$rd == \"[$h]\") && \$rp == $p)"
	done
	local la=$IT_PROXY_LISTEN
	case $la in *:*) la="[$la]" ;; esac
	local listens=""
	case $IT_PROXY_TRANSPORTS in *udp*) listens="listen=udp:$la:$IT_PROXY_PORT" ;; esac
	case $IT_PROXY_TRANSPORTS in *tcp*) listens="$listens
listen=tcp:$la:$IT_PROXY_PORT" ;; esac
	[ -z "${IT_PROXY_LISTEN6:-}" ] || listens="$listens
listen=udp:[$IT_PROXY_LISTEN6]:$IT_PROXY_PORT
listen=tcp:[$IT_PROXY_LISTEN6]:$IT_PROXY_PORT"
	mkdir -p "$IT_TMP/kamrun"
	cat >"$IT_TMP/kamailio.cfg" <<EOF
#!KAMAILIO
# generated by tests/integration/lib.sh (reference proxy for $IT_NAME)
debug=2
log_stderror=yes
fork=yes
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=no
# RFC 3261 §18.1.1: requests over 1300 bytes go over TCP.
udp_mtu=1300
udp_mtu_try_proto=TCP
tcp_rd_buf_size=65536
$listens
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 20000)
modparam("rr", "enable_double_rr", 1)
request_route {
	if (!mf_process_maxfwd_header("70")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (!sanity_check("1007", "7")) { exit; }
	if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
	if (has_totag()) {
		if (loose_route()) {
			# An endpoint may only reach a SIP Server (no open relay, RFC 3261 §26.1).
			if (!($trusted) && !($dst_ok)) { sl_send_reply("403", "Not a SIP Server"); exit; }
			t_relay();
			exit;
		}
		if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
		sl_send_reply("404", "Not here");
		exit;
	}
	t_check_trans();
	if (is_method("INVITE|SUBSCRIBE")) { record_route(); }
	if ($trusted) {
		loose_route();
		if (!t_relay()) { sl_reply_error(); }
		exit;
	}
	# Endpoint: whatever its Request-URI or Route, it goes to the SIP Server.
	\$du = "sip:$hostu:$sport;transport=$tp";
	if (!t_relay()) { sl_reply_error(); }
	exit;
}
EOF
}

# it_proxy_start: starts the proxy for $IT_TMP/proxy.conf (or Kamailio) and waits
# for its ports. Sets PROXY_PID.
it_proxy_start() {
	local bindwait=udp
	case $IT_PROXY_TRANSPORTS in *udp*) ;; *) bindwait=tcp ;; esac
	if [ "$PROXY_IMPL" = kamailio ]; then
		it_kamailio_cfg
		kamailio -c -f "$IT_TMP/kamailio.cfg" >"$IT_TMP/kamailio-check.log" 2>&1 ||
			{ cat "$IT_TMP/kamailio-check.log" >&2; it_fail "kamailio cfg rejected"; }
		it_start proxy setsid kamailio -f "$IT_TMP/kamailio.cfg" -P "$IT_TMP/kamailio.pid" \
			-Y "$IT_TMP/kamrun" -DD -E -m 64 -M 8
		PROXY_PID=$IT_LAST_PID
		echo "$PROXY_PID" >"$IT_TMP/kamailio.pgid"
	else
		it_need_bin "$SIPPROXY_BUILD_DIR/sipproxy"
		"$SIPPROXY_BUILD_DIR/sipproxy" --check-config "$IT_TMP/proxy.conf" \
			>"$IT_TMP/check-config.log" 2>&1 ||
			{ cat "$IT_TMP/check-config.log" >&2; it_fail "sipproxy --check-config rejected the config"; }
		it_start proxy "$SIPPROXY_BUILD_DIR/sipproxy" -c "$IT_TMP/proxy.conf"
		PROXY_PID=$IT_LAST_PID
	fi
	it_wait_port $bindwait "$IT_PROXY_LISTEN" "$IT_PROXY_PORT" 15 "$PROXY_PID"
	case $IT_PROXY_TRANSPORTS in *tcp*) it_wait_port tcp "$IT_PROXY_LISTEN" "$IT_PROXY_PORT" 15 "$PROXY_PID" ;; esac
	if [ -n "${IT_PROXY_LISTEN6:-}" ]; then
		it_wait_port udp "$IT_PROXY_LISTEN6" "$IT_PROXY_PORT" 15 "$PROXY_PID"
		it_wait_port tcp "$IT_PROXY_LISTEN6" "$IT_PROXY_PORT" 15 "$PROXY_PID"
	fi
}

# it_proxy_stop: stops the proxy (and Kamailio's children) before a restart.
it_proxy_stop() {
	kill -TERM "$PROXY_PID" 2>/dev/null || true
	if [ "$PROXY_IMPL" = kamailio ]; then kill -TERM -- "-$PROXY_PID" 2>/dev/null || true; fi
	local i
	for i in $(seq 1 50); do
		kill -0 "$PROXY_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$PROXY_PID" 2>/dev/null || true
	if [ "$PROXY_IMPL" = kamailio ]; then kill -KILL -- "-$PROXY_PID" 2>/dev/null || true; fi
	wait "$PROXY_PID" 2>/dev/null || true
}

# it_proxy_alive: the proxy must still be running (no crash).
it_proxy_alive() { it_alive "$PROXY_PID" "proxy ($PROXY_IMPL)"; }

# it_dnsmasq ARGS...: a dnsmasq of the test's own on 127.0.0.1:$P_DNS serving only
# the records given (--host-record=..., --srv-host=...), nothing else; waits for it.
it_dnsmasq() {
	command -v dnsmasq >/dev/null || it_fail "dnsmasq missing (scripts/install-deps.sh installs dnsmasq-base)"
	it_start dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts --port="$P_DNS" \
		--listen-address=127.0.0.1 --bind-interfaces --conf-file=/dev/null --pid-file= \
		--local=/test/ --local-ttl=300 --log-queries --log-facility=- "$@"
	it_wait_port udp 127.0.0.1 "$P_DNS" 10 "$IT_LAST_PID"
}

# ---- sipp ---------------------------------------------------------------------

# Standard flags; NAME picks the log files $IT_TMP/NAME.{log,err.log,msg.log,screen.log}.
it_sipp_flags() {
	local name=$1
	echo -nostdin -max_socket 1000 -timeout 30s -timeout_error -trace_err -error_file "$IT_TMP/$name.err.log" \
		-trace_msg -message_file "$IT_TMP/$name.msg.log" \
		-trace_screen -screen_file "$IT_TMP/$name.screen.log"
}

# it_sipp_bg NAME ARGS...: sipp in the background (e.g. the UAS); sets IT_LAST_PID.
it_sipp_bg() {
	local name=$1
	shift
	# shellcheck disable=SC2046
	it_start "$name" sipp $(it_sipp_flags "$name") "$@"
}

# it_sipp NAME ARGS...: sipp in the foreground (the UAC); returns sipp's status
# (0 = all calls succeeded, 1 = some failed, others = fatal).
it_sipp() {
	local name=$1 rc=0
	shift
	it_log "sipp $name: $*"
	# shellcheck disable=SC2046
	sipp $(it_sipp_flags "$name") "$@" >"$IT_TMP/$name.log" 2>&1 </dev/null || rc=$?
	it_log "sipp $name exited $rc"
	return $rc
}

# it_sipp_ok NAME ARGS...: it_sipp that must succeed.
it_sipp_ok() {
	local name=$1 rc=0
	it_sipp "$@" || rc=$?
	[ $rc = 0 ] || it_fail "sipp $name failed (exit $rc); see $name.err.log"
}

# it_wait_exit PID NAME [SECONDS]: waits for a background process (e.g. the UAS
# started with -m N) to end by itself; returns its exit status.
it_wait_exit() {
	local pid=$1 name=$2 secs=${3:-15} deadline rc=0
	deadline=$((SECONDS + secs))
	while kill -0 "$pid" 2>/dev/null; do
		[ $SECONDS -gt $deadline ] && it_fail "$name (pid $pid) did not finish within ${secs}s"
		sleep 0.1
	done
	wait "$pid" || rc=$?
	return $rc
}

# it_sipp_stat NAME FIELD: a counter from sipp's final screen ("Successful call",
# "Failed call").
it_sipp_stat() {
	awk -v f="$2" 'index($0, f) { v = $(NF) } END { print v + 0 }' "$IT_TMP/$1.screen.log"
}

# ---- assertions ---------------------------------------------------------------

it_assert_eq() { [ "$1" = "$2" ] || it_fail "$3: expected '$2', got '$1'"; }
# it_assert_grep FILE REGEX WHAT: FILE must contain REGEX (extended).
it_assert_grep() { grep -qE -- "$2" "$1" || it_fail "$3: /$2/ not found in $(basename "$1")"; }
it_assert_nogrep() { ! grep -qE -- "$2" "$1" || it_fail "$3: /$2/ found in $(basename "$1")"; }
# it_count FILE REGEX: number of matching lines.
it_count() { grep -cE -- "$2" "$1" || true; }

# it_status OUTPUT_FILE: first status code sipsend.py printed ("STATUS 483 ...").
it_status() { awk '$1 == "STATUS" && $2 != "100" { print $2; exit }' "$1"; }

# it_xml SRC DST [PAD_BYTES]: copies a scenario, replacing the line "@PAD@" with
# PAD_BYTES of SDP attribute lines (a=x-pad:...), for large-message tests.
it_xml() {
	local src=$1 dst=$2 pad=${3:-0}
	python3 - "$src" "$dst" "$pad" "${IT_RURI_HOST:-[remote_ip]:[remote_port]}" <<'PY'
import sys
src, dst, pad = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = []
while pad > 0:
    n = min(pad, 72)
    lines.append("      a=x-pad:" + "x" * max(1, n - 10))
    pad -= n
text = open(src).read().replace("@PAD@\n", "".join(l + "\n" for l in lines))
text = text.replace("@RURI_HOST@", sys.argv[4])
open(dst, "w").write(text)
PY
}

# it_call SCENARIO_LABEL CALLS UAC_TRANSPORT UAS_TRANSPORT [PAD]: the standard call
# flow (xml/uac_call.xml -> proxy -> xml/uas_call.xml) with CALLS calls; checks both
# sipp ends succeeded and that the proxy's Record-Route reached both ends.
it_call() {
	local label=$1 calls=$2 ut=$3 st=$4 pad=${5:-0}
	it_xml "${IT_UAC_XML:-$IT_XML/uac_call.xml}" "$IT_TMP/uac_call.xml" "$pad"
	# IT_UAS_XML / IT_UAC_XML override the scenarios; IT_SIPP_EXTRA adds flags to both ends.
	# shellcheck disable=SC2086
	it_sipp_bg uas -sf "${IT_UAS_XML:-$IT_XML/uas_call.xml}" -i "$A_UAS" -p "$P_UAS" -t "$st" \
		-m "$calls" ${IT_SIPP_EXTRA:-}
	local uas=$IT_LAST_PID
	it_wait_port "$(it_tp "$st")" "$A_UAS" "$P_UAS" 10 "$uas"
	# shellcheck disable=SC2086
	it_sipp_ok uac -sf "$IT_TMP/uac_call.xml" -i "$A_UAC" -p "$P_UAC" -t "$ut" -m "$calls" \
		-r "${IT_RATE:-50}" -l 20 ${IT_SIPP_EXTRA:-} -s "$label" "$(it_hostport "$IT_PROXY_LISTEN" "$IT_PROXY_PORT")"
	local rc=0
	it_wait_exit "$uas" uas 30 || rc=$?
	[ $rc = 0 ] || it_fail "sipp UAS exit $rc; see uas.err.log"
	it_assert_eq "$(it_sipp_stat uac 'Successful call')" "$calls" "UAC successful calls"
	it_assert_eq "$(it_sipp_stat uas 'Successful call')" "$calls" "UAS successful calls"
}

# it_hostport HOST PORT: HOST:PORT, bracketing IPv6.
it_hostport() {
	case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac
}

# it_tp SIPP_TRANSPORT: udp for sipp's -t un/u1, tcp otherwise.
it_tp() { case $1 in u*) echo udp ;; *) echo tcp ;; esac; }

# it_msg_count MSGLOG FIRSTLINE_RE LINE_RE: in a sipp -trace_msg log, the number of
# messages whose first line matches FIRSTLINE_RE and that contain a line matching
# LINE_RE ("" = any).
it_msg_count() {
	awk -v fl="$2" -v lr="$3" '
	function done() { if (infl && (lr == "" || hit)) n++; infl = 0; hit = 0 }
	/^--------------------/ { done(); expect = 0; next }
	/message (sent|received)/ { expect = 1; next }
	expect && NF == 0 { next }
	expect { expect = 0; first = $0; infl = (first ~ fl); next }
	infl && lr != "" && $0 ~ lr { hit = 1 }
	END { done(); print n + 0 }' "$1"
}

# ---- raw messages (sipsend.py / sipsink.py) -----------------------------------

# it_sink NAME ADDR PORT [METHODS [OPTION...]]: starts sipsink.py on UDP+TCP ADDR:PORT
# logging to $IT_TMP/NAME.out, answering 200 to METHODS (comma list); OPTIONs go to
# sipsink.py as they are (e.g. --log-accept --log-bytes, --delay 1). Sets IT_LAST_PID.
it_sink() {
	local name=$1 addr=$2 port=$3 methods=${4:-}
	shift 3
	[ $# = 0 ] || shift
	: >"$IT_TMP/$name.out"
	it_start "$name" $SIPSINK --listen "$(it_hostport "$addr" "$port")" --out "$IT_TMP/$name.out" \
		--reply "$methods" "$@"
	local pid=$IT_LAST_PID
	it_wait_port udp "$addr" "$port" 10 "$pid"
	it_wait_port tcp "$addr" "$port" 10 "$pid"
	IT_LAST_PID=$pid
}

# it_mkreq FILE PROTO FROM_HOST METHOD RURI CALLID [HEADER...]: writes a request with
# a well-formed Via (with rport, RFC 3581), From/To/Call-ID/CSeq/Max-Forwards 70.
# A HEADER "Max-Forwards: N" replaces the default one.
it_mkreq() {
	local file=$1 proto=$2 host=$3 method=$4 ruri=$5 cid=$6
	shift 6
	local mf="Max-Forwards: 70" h extra="" vh=$host
	case $host in *:*) vh="[$host]" ;; esac
	for h in "$@"; do
		case $h in Max-Forwards:*) mf=$h ;; *) extra="$extra$h"$'\r\n' ;; esac
	done
	{
		printf '%s %s SIP/2.0\r\n' "$method" "$ruri"
		printf 'Via: SIP/2.0/%s %s:%s;branch=z9hG4bK-%s;rport\r\n' "${proto^^}" "$vh" "$P_SEND" "$cid"
		printf '%s\r\n' "$mf"
		printf 'From: <sip:tester@%s>;tag=t-%s\r\n' "$vh" "$cid"
		printf 'To: <sip:target@%s>\r\n' "$vh"
		printf 'Call-ID: %s\r\n' "$cid"
		printf 'CSeq: 1 %s\r\n' "$method"
		printf 'Contact: <sip:tester@%s:%s>\r\n' "$vh" "$P_SEND"
		printf '%s' "$extra"
		printf 'Content-Length: 0\r\n\r\n'
	} >"$file"
}

# it_send OUT PROTO FROM_HOST FILE [sipsend options]: sends FILE from
# FROM_HOST:${IT_SEND_PORT:-P_SEND}
# to the proxy; the answers go to $IT_TMP/OUT.out (and stdout of sipsend, --full).
it_send() {
	local out=$1 proto=$2 host=$3 file=$4
	shift 4
	$SIPSEND --proto "$proto" --bind "$(it_hostport "$host" "${IT_SEND_PORT:-$P_SEND}")" \
		--to "$(it_hostport "$IT_PROXY_LISTEN" "$IT_PROXY_PORT")" --full "$@" "$file" \
		>"$IT_TMP/$out.out" 2>&1 || it_fail "sipsend failed: $(cat "$IT_TMP/$out.out")"
}
