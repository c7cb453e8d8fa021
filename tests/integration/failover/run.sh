#!/usr/bin/env bash
# failover — RFC 3263 §4.3: "If a failure occurs (timeout, transport error) or a
# 503 is received, the client SHOULD try the next element in the list." A SIP
# Server (trusted) sends requests to sip:x@fo.test; the test's own dnsmasq gives
# two SRV targets, h1 (priority 10) then h2 (priority 20) (RFC 2782 order):
#  1. h1 answers 503 -> the proxy tries h2, which answers 200: the sender gets 200;
#  2. over TCP, nobody listens on h1 (connection refused) -> h2 at once;
#  3. h1 never answers (UDP, Timer F = 64*T1) -> h2;
#  4. both answer 503 -> the sender gets 500 (§16.7 step 6: a 503 is not passed on).
. "$(dirname "$0")/../lib.sh"

H1=127.0.0.21 H2=127.0.0.22 SRV=$A_UAS
it_dnsmasq "--srv-host=_sip._udp.fo.test,h1.fo.test,$P_UAS,10,0" \
	"--srv-host=_sip._udp.fo.test,h2.fo.test,$P_UAS2,20,0" \
	"--srv-host=_sip._tcp.fo.test,h1.fo.test,$P_UAS,10,0" \
	"--srv-host=_sip._tcp.fo.test,h2.fo.test,$P_UAS2,20,0" \
	"--srv-host=_sip._udp.both.test,h1.fo.test,$P_UAS,10,0" \
	"--srv-host=_sip._udp.both.test,h2.fo.test,$P_UAS2,20,0" \
	"--host-record=h1.fo.test,$H1" "--host-record=h2.fo.test,$H2"
it_proxy_conf servers="$SRV:$P_UAS:udp" extra="dns = { servers = \"127.0.0.1:$P_DNS\"; };"
it_proxy_start

# send NAME RURI [PROTO]: an OPTIONS from the SIP Server's address (trusted)
send() {
	it_mkreq "$IT_TMP/$1.sip" "${3:-udp}" "$SRV" OPTIONS "$2" "fo-$1"
	IT_SEND_PORT=$P_SEND it_send "$1" "${3:-udp}" "$SRV" "$IT_TMP/$1.sip" --wait 12 --count 1
}
got() { grep -c "fo-$2\$" "$IT_TMP/$1.out" || true; }

# 1. 503 from h1, 200 from h2
it_sink h1 "$H1" "$P_UAS" OPTIONS --code 503
H1PID=$IT_LAST_PID
it_sink h2 "$H2" "$P_UAS2" OPTIONS
H2PID=$IT_LAST_PID
send c503 "sip:x@fo.test"
it_assert_eq "$(it_status "$IT_TMP/c503.out")" 200 "503 from h1, then h2's 200"
it_assert_eq "$(got h1 c503)" 1 "h1 was tried first"
it_assert_eq "$(got h2 c503)" 1 "h2 was tried next"

# 2. TCP refused at h1: h1's sink is gone
kill "$H1PID"; wait "$H1PID" 2>/dev/null || true
send ctcp "sip:x@fo.test;transport=tcp" tcp
it_assert_eq "$(it_status "$IT_TMP/ctcp.out")" 200 "TCP refused at h1, then h2"
it_assert_grep "$IT_TMP/h2.out" "^tcp OPTIONS .*fo-ctcp" "h2 got it over TCP"

# 3. h1 silent (a sink that answers nothing): Timer F, then h2
it_sink h1 "$H1" "$P_UAS"
H1PID=$IT_LAST_PID
send ctimeout "sip:x@fo.test"
it_assert_eq "$(it_status "$IT_TMP/ctimeout.out")" 200 "h1 silent, then h2"
[ "$(got h1 ctimeout)" -ge 2 ] || it_fail "h1 was not tried (and retransmitted to) first"
it_assert_grep "$IT_TMP/proxy.log" "event=next_target .*status=408" "the timeout moved on"

# 4. both 503: every target tried, then 500 upstream
kill "$H1PID" "$H2PID"; wait "$H1PID" "$H2PID" 2>/dev/null || true
it_sink h1b "$H1" "$P_UAS" OPTIONS --code 503
it_sink h2b "$H2" "$P_UAS2" OPTIONS --code 503
send c2x503 "sip:x@both.test"
it_assert_eq "$(it_status "$IT_TMP/c2x503.out")" 500 "both 503: a 500 goes up (§16.7 step 6)"
it_assert_eq "$(got h1b c2x503)" 1 "h1 tried"
it_assert_eq "$(got h2b c2x503)" 1 "h2 tried"
it_proxy_alive
it_pass
