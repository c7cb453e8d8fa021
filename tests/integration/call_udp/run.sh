#!/usr/bin/env bash
# call_udp — RFC 3261 §16 (stateful proxy) and §16.6 step 4 / §16.12 (Record-Route,
# loose routing): 50 calls INVITE/100/180/200/ACK/BYE/200 over UDP, sipp UAC on
# 127.0.0.2 -> proxy on 127.0.0.1 -> sipp UAS (the SIP Server) on 127.0.0.3. ACK and
# BYE follow the route set learnt from Record-Route; both ends must see the proxy's RR.
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
it_proxy_start
it_call call 50 u1 u1

rr="<sip:$IT_RR_USER$A_PROXY:$P_PROXY;[^>]*lr"
it_assert_grep "$IT_TMP/uas.msg.log" "^Record-Route: *$rr" "UAS sees the proxy's Record-Route"
it_assert_grep "$IT_TMP/uac.msg.log" "^Record-Route: *$rr" "UAC sees the proxy's Record-Route"
# §16.12: in-dialog BYE carries Route to the proxy and the proxy strips it.
it_assert_grep "$IT_TMP/uac.msg.log" "^Route: *$rr" "UAC BYE carries Route to the proxy"
it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^BYE ' '')" 50 "BYEs at the UAS"
it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^BYE ' '^Route:')" 0 "proxy removed its Route from BYE"
it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^ACK ' '')" 50 "ACKs (2xx, end to end) at the UAS"
# §16.6 step 8: the proxy's Via is on top of what the UAS receives.
it_assert_grep "$IT_TMP/uas.msg.log" "^Via: SIP/2.0/UDP $A_PROXY:$P_PROXY;branch=z9hG4bK" "proxy Via on top"
# §8.1.1.3/16.6: 100 Trying is hop-by-hop from the proxy (INVITE).
it_assert_grep "$IT_TMP/uac.msg.log" "SIP/2.0 100 " "UAC got 100 Trying"
it_proxy_alive
it_pass
