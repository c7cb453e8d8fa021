#!/usr/bin/env bash
# call_sipsim — RFC 3261 §16 stateful proxying in front of the SIP Server simulator:
# 20 calls INVITE/180/200/ACK/BYE/200 from a sipp UAC (127.0.0.2) through the proxy
# to sipsim (127.0.0.3); ACK/BYE follow Record-Route (§16.6 step 4, §16.12).
. "$(dirname "$0")/../lib.sh"

SIPSIM=$SIPPROXY_BUILD_DIR/sipsim
it_need_bin "$SIPSIM"
it_start sipsim "$SIPSIM" --listen "$A_UAS:$P_UAS"
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$IT_LAST_PID"
SIM_PID=$IT_LAST_PID

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
it_proxy_start
it_xml "$IT_XML/uac_call.xml" "$IT_TMP/uac_call.xml"
it_sipp_ok uac -sf "$IT_TMP/uac_call.xml" -i "$A_UAC" -p "$P_UAC" -t u1 -m 20 -r 20 -l 10 \
	-s sim "$(it_hostport "$A_PROXY" "$P_PROXY")"
it_assert_eq "$(it_sipp_stat uac 'Successful call')" 20 "UAC successful calls"
it_assert_grep "$IT_TMP/uac.msg.log" "^Record-Route: *<sip:$IT_RR_USER$A_PROXY:$P_PROXY;[^>]*lr" \
	"UAC sees the proxy's Record-Route (copied by sipsim into the 200)"
it_alive "$SIM_PID" sipsim
it_proxy_alive
it_pass
