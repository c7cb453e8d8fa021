#!/usr/bin/env bash
# large_tcp — RFC 3261 §18.1.1: a request larger than 1300 bytes (path MTU unknown)
# goes over a congestion-controlled transport where the next hop can take one, and
# falls back to UDP when that connection is refused. A SIP Server configured "udp"
# cannot: an endpoint's ~2 KB INVITE reaches it over UDP. A next hop resolved from
# a URI without a transport parameter can: a SIP Server (trusted, 127.0.0.3) calling
# out to sip:big@127.0.0.4 gets its INVITE there over TCP (double Record-Route, UDP
# in, TCP out); with nobody on TCP there, over UDP. Then 40 KB over TCP end to end.
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
it_proxy_start

# 1. configured udp: no switch
it_call big 3 u1 u1 2000
it_assert_grep "$IT_TMP/uas.msg.log" "^UDP message received \[[0-9]{4}\] bytes" \
	"the UDP SIP Server got the big INVITE over UDP"
it_assert_nogrep "$IT_TMP/uas.msg.log" "^TCP message" "nothing over TCP to a UDP SIP Server"

# 2. a resolved next hop that takes TCP: switched
rm -f "$IT_TMP"/uas.* "$IT_TMP"/uac.*
SERVER=$A_UAS
A_UAC=$SERVER A_UAS=127.0.0.4 IT_RURI_HOST="127.0.0.4:$P_UAS" it_call big 3 u1 t1 2000
size=$(awk '/message received \[[0-9]+\] bytes/ && /TCP/ { gsub(/[^0-9]/, "", $4); print $4; exit }' "$IT_TMP/uas.msg.log")
it_assert_grep "$IT_TMP/uas.msg.log" "^TCP message received" "UAS got the big INVITE over TCP (size $size)"
it_assert_grep "$IT_TMP/uas.msg.log" "^Via: SIP/2.0/TCP $A_PROXY:$P_PROXY;" "proxy Via says TCP"
[ "${size:-0}" -gt 1300 ] || it_fail "first TCP message at UAS is only ${size:-0} bytes"

# 3. the same next hop on UDP only: the refused connection falls back to UDP
rm -f "$IT_TMP"/uas.* "$IT_TMP"/uac.*
A_UAC=$SERVER A_UAS=127.0.0.4 IT_RURI_HOST="127.0.0.4:$P_UAS" it_call big 3 u1 u1 2000
it_assert_grep "$IT_TMP/uas.msg.log" "^UDP message received \[[0-9]{4}\] bytes" \
	"UDP-only next hop got the big INVITE over UDP"
it_assert_grep "$IT_TMP/proxy.log" "event=tcp_fallback_udp" "fallback logged"
it_proxy_stop

# 4. 40 KB over TCP both sides (sip.max-message-size default 65536).
rm -f "$IT_TMP"/uas.* "$IT_TMP"/uac.*
it_proxy_conf servers="$A_UAS:$P_UAS:tcp"
it_proxy_start
it_call huge 3 t1 t1 40000
it_assert_grep "$IT_TMP/uas.msg.log" "^TCP message received \[4[0-9]{4}\] bytes" "40 KB INVITE at UAS"
it_proxy_alive
it_pass
