#!/usr/bin/env bash
# tcp_call — RFC 3261 §18 (TCP transport) with §16 proxying: 20 calls, sipp UAC over
# TCP -> proxy -> sipp UAS over TCP (sip-server transport "tcp"); responses return on
# the UAC's connection (§18.2.2), ACK/BYE follow Record-Route (§16.6 step 4).
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:tcp"
it_proxy_start
it_call tcp 20 t1 t1
rr="<sip:$IT_RR_USER$A_PROXY:$P_PROXY;[^>]*lr"
it_assert_grep "$IT_TMP/uas.msg.log" "^Record-Route: *$rr" "UAS sees the proxy's Record-Route"
it_assert_grep "$IT_TMP/uas.msg.log" "^Via: SIP/2.0/TCP $A_PROXY:$P_PROXY;" "proxy Via says TCP"
it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^BYE ' '')" 20 "BYEs at the UAS"
it_proxy_alive
it_pass
