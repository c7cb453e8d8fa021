#!/usr/bin/env bash
# overload — proxy.overload-ctrl-dialog-rate = 50 (the vendor's option: new
# INVITEs per second above the rate are refused with 503): one node (sipsim),
# one proxy, sipp calls held 0.5 s (uac_overload.xml):
#  1. 150 calls at 30 calls/s: not one 503, every call reaches the node;
#  2. 1,200 calls at 150 calls/s: about (150 - 50) / 150 of them get 503 with
#     Retry-After (RFC 3261 §21.5.4; the share within 10 points; admitted:
#     50/s over the time the INVITEs took, plus at most the bucket's one
#     second's worth, ±5 %), each counted in /metrics
#     sipproxy_overload_rejected_total and none reaching the node; every
#     admitted call's ACK and BYE pass (in-dialog requests are never refused:
#     no 503 to a BYE, every BYE gets its 200 and reaches the node).
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"

N1=127.0.0.21 EP=127.0.0.2
it_cluster_def nodes="n1:$N1"
it_sim n1 $N1 active
it_cluster_proxy p1 "$P_ADMIN" extra='proxy = { overload-ctrl-dialog-rate = 50; };'
PROXY_PID=$PID_p1
it_wait_primary "$P_ADMIN" n1 "UDP:$N1:$P_SIM" 5 >/dev/null

rejected() {
	"$SIPPROXY_BUILD_DIR/sipproxyctl" -a "127.0.0.1:$P_ADMIN" metrics |
		awk '$1 == "sipproxy_overload_rejected_total" { print $2 }'
}
# run NAME COUNT RATE: the calls; sets OK (answered 200), REFUSED (503 with
# Retry-After), BYES (200s to a BYE) from sipp's message log
run() {
	it_sim_ctl $N1 reset >/dev/null
	it_sipp_ok "$1" -sf "$IT_SCEN_DIR/uac_overload.xml" -i $EP -p "$P_UAC" -t u1 -m "$2" -r "$3" \
		-l 1000 -d 500 -s 1000 "$IT_PROXY_LISTEN:$IT_PROXY_PORT"
	it_assert_eq "$(it_sipp_stat "$1" 'Successful call')" "$2" "$1: every call ended as planned"
	local log="$IT_TMP/$1.msg.log"
	OK=$(it_msg_count "$log" '^SIP/2.0 200' '^CSeq: 1 INVITE')
	REFUSED=$(it_msg_count "$log" '^SIP/2.0 503' '^Retry-After: [0-9]+')
	BYES=$(it_msg_count "$log" '^SIP/2.0 200' '^CSeq: 2 BYE')
	it_assert_eq "$(it_msg_count "$log" '^SIP/2.0 503' '')" "$REFUSED" "$1: every 503 has Retry-After"
	it_assert_eq "$(it_msg_count "$log" '^SIP/2.0 503' '^CSeq: 2 BYE')" 0 "$1: no BYE refused"
	it_assert_eq $((OK + REFUSED)) "$2" "$1: every INVITE answered 200 or 503"
	it_assert_eq "$BYES" "$OK" "$1: every admitted call's BYE got its 200"
	it_assert_eq "$(it_sim_stat $N1 invites)" "$OK" "$1: the node got the admitted INVITEs only"
	it_assert_eq "$(it_sim_stat $N1 byes)" "$OK" "$1: the node got every BYE"
	it_log "$1: $2 calls at $3/s: $OK admitted, $REFUSED refused"
}

# 1. under the rate
run slow 150 30
it_assert_eq "$REFUSED" 0 "30 calls/s: no 503"
it_assert_eq "$(rejected)" 0 "30 calls/s: sipproxy_overload_rejected_total"

# 2. three times the rate
run fast 1200 150
# The INVITEs went out over SPAN seconds (sipp may fall short of 150/s on a
# busy machine): the bucket admits 50/s of them plus at most a second's worth.
span=$("$IT_PY" - "$IT_TMP/fast.msg.log" <<'PY'
import re, sys
from datetime import datetime
t = re.findall(r"-{20,} (\S+ \S+)\n\w+ message sent[^\n]*\n\s*\nINVITE ", open(sys.argv[1]).read())
ts = [datetime.strptime(x, "%Y-%m-%d %H:%M:%S.%f").timestamp() for x in t]
print("%.2f" % (max(ts) - min(ts)))
PY
)
it_log "the 1200 INVITEs went out in ${span}s"
awk -v a="$OK" -v t="$span" 'BEGIN { exit !(a >= 50 * t * 0.95 && a <= (50 * t + 50) * 1.05) }' ||
	it_fail "150 calls/s: $OK admitted in ${span}s, want 50/s plus a burst of at most 50"
awk -v r="$REFUSED" 'BEGIN { s = 100 * r / 1200; exit !(s >= 100 * 100 / 150 - 10 && s <= 100 * 100 / 150 + 10) }' ||
	it_fail "150 calls/s: $REFUSED of 1200 refused, want about 2/3"
it_assert_eq "$(rejected)" "$REFUSED" "sipproxy_overload_rejected_total counts every 503"
it_proxy_alive
it_pass
