#!/usr/bin/env bash
# max_forwards — RFC 3261 §16.3 step 3: a request with Max-Forwards 0 is not
# forwarded; INVITE gets 483 Too Many Hops. For OPTIONS the proxy MAY answer itself
# (§16.3 step 3 / §11): 483 or 200 are accepted. The SIP Server must see neither;
# Max-Forwards 1 is still forwarded (decremented to 0, §16.6 step 3).
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
# Request-URIs name the SIP Server, not the proxy: an OPTIONS addressed to the proxy
# itself may be answered by it (§11), which would hide the forwarding under test.
it_sink server "$A_UAS" "$P_UAS" OPTIONS
it_proxy_start

it_mkreq "$IT_TMP/inv0.sip" udp "$A_UAC" INVITE "sip:bob@$A_UAS:$P_UAS" mf-inv-0 "Max-Forwards: 0"
it_send inv0 udp "$A_UAC" "$IT_TMP/inv0.sip" --wait 3 --count 1
it_assert_eq "$(it_status "$IT_TMP/inv0.out")" 483 "INVITE with Max-Forwards 0"

it_mkreq "$IT_TMP/opt0.sip" udp "$A_UAC" OPTIONS "sip:bob@$A_UAS:$P_UAS" mf-opt-0 "Max-Forwards: 0"
it_send opt0 udp "$A_UAC" "$IT_TMP/opt0.sip" --wait 3 --count 1
code=$(it_status "$IT_TMP/opt0.out")
case $code in 483 | 200) ;; *) it_fail "OPTIONS with Max-Forwards 0: expected 483 or 200, got '$code'" ;; esac

it_assert_nogrep "$IT_TMP/server.out" "mf-(inv|opt)-0" "SIP Server received a Max-Forwards 0 request"

# Max-Forwards 1 is forwarded with Max-Forwards 0 (the server answers OPTIONS 200).
it_mkreq "$IT_TMP/opt1.sip" udp "$A_UAC" OPTIONS "sip:bob@$A_UAS:$P_UAS" mf-opt-1 "Max-Forwards: 1"
it_send opt1 udp "$A_UAC" "$IT_TMP/opt1.sip" --wait 3 --count 1
it_assert_eq "$(it_status "$IT_TMP/opt1.out")" 200 "OPTIONS with Max-Forwards 1 (forwarded, answered by server)"
it_assert_grep "$IT_TMP/server.out" "mf-opt-1" "server got the Max-Forwards 1 OPTIONS"
it_proxy_alive
it_pass
