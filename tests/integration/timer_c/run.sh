#!/usr/bin/env bash
# timer_c — RFC 3261 §16.8 (Timer C): the callee rings (180) and never answers. With
# sip.timer-c = 1 s the proxy cancels its branch itself (CANCEL toward the SIP
# Server, §16.8: "the proxy MUST generate a CANCEL"), the callee's 487 reaches the
# caller, and the ACK for it is hop-by-hop.
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
sed -i 's/timer-c = 20000/timer-c = 1000/' "$IT_TMP/proxy.conf"
it_proxy_start
it_sipp_bg uas -sf "$IT_SCEN_DIR/../cancel/uas_cancel.xml" -i "$A_UAS" -p "$P_UAS" -t u1 -m 3
uas=$IT_LAST_PID
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$uas"
it_sipp_ok uac -sf "$IT_SCEN_DIR/uac_timer_c.xml" -i "$A_UAC" -p "$P_UAC" -t u1 -m 3 -r 3 \
	-s timerc "$A_PROXY:$P_PROXY"
rc=0; it_wait_exit "$uas" uas 20 || rc=$?
[ $rc = 0 ] || it_fail "UAS exit $rc; see uas.err.log"
it_assert_eq "$(it_sipp_stat uac 'Successful call')" 3 "UAC calls ending in 487"
it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^CANCEL ' '')" 3 "CANCELs from the proxy's Timer C"
it_assert_eq "$(it_msg_count "$IT_TMP/uac.msg.log" '^CANCEL ' '')" 0 "the caller sent no CANCEL"
it_assert_grep "$IT_TMP/proxy.log" "event=timer_c" "Timer C logged"
it_proxy_alive
it_pass
