#!/usr/bin/env bash
# large_tcp — RFC 3261 §18.1.1: a request larger than 1300 bytes (path MTU unknown)
# MUST go over a congestion-controlled transport. A UDP UAC sends a ~2 KB INVITE; the
# proxy forwards it to the SIP Server (configured "udp") over TCP, which also makes it
# double Record-Route (UDP in, TCP out). Then a 40 KB INVITE over TCP end to end.
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
it_proxy_start
it_call big 5 u1 t1 2000
size=$(awk '/message received \[[0-9]+\] bytes/ && /TCP/ { gsub(/[^0-9]/, "", $4); print $4; exit }' "$IT_TMP/uas.msg.log")
it_assert_grep "$IT_TMP/uas.msg.log" "^TCP message received" "UAS got the big INVITE over TCP (size $size)"
it_assert_grep "$IT_TMP/uas.msg.log" "^Via: SIP/2.0/TCP $A_PROXY:$P_PROXY;" "proxy Via says TCP"
[ "${size:-0}" -gt 1300 ] || it_fail "first TCP message at UAS is only ${size:-0} bytes"
it_proxy_stop

# 40 KB over TCP both sides (sip.max-message-size default 65536).
rm -f "$IT_TMP"/uas.* "$IT_TMP"/uac.*
it_proxy_conf servers="$A_UAS:$P_UAS:tcp"
it_proxy_start
it_call huge 3 t1 t1 40000
it_assert_grep "$IT_TMP/uas.msg.log" "^TCP message received \[4[0-9]{4}\] bytes" "40 KB INVITE at UAS"
it_proxy_alive
it_pass
