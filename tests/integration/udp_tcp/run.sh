#!/usr/bin/env bash
# udp_tcp — RFC 3261 §16.6 step 4 and RFC 5658 (double Record-Route): UAC over UDP,
# SIP Server over TCP. The proxy inserts two Record-Route values, one per side; the
# one toward the server carries transport=tcp. 20 calls; ACK/BYE cross back over both.
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:tcp"
it_proxy_start
it_call udptcp 20 u1 t1
# The first INVITE at the UAS: count the proxy's RR values (one header or two).
first=$(awk '/^INVITE /{f=1} f && /^Record-Route:/{print} f && /^\r?$/{exit}' "$IT_TMP/uas.msg.log")
n=$(printf '%s\n' "$first" | grep -oE "<sip:$IT_RR_USER$A_PROXY:${P_PROXY}[^>]*>" | wc -l)
it_assert_eq "$n" 2 "Record-Route values of the proxy seen by the UAS ($first)"
printf '%s\n' "$first" | grep -q "transport=tcp" || it_fail "no transport=tcp Record-Route: $first"
it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^BYE ' '^Route:')" 0 "both Route entries removed from BYE"
it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^BYE ' '')" 20 "BYEs at the UAS"
it_proxy_alive
it_pass
