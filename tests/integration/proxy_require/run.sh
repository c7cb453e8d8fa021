#!/usr/bin/env bash
# proxy_require — RFC 3261 §16.3 step 6 (and §8.2.2.3): a request whose Proxy-Require
# names an extension the proxy does not support is answered 420 Bad Extension with an
# Unsupported header listing it, and is not forwarded. Require (for the UAS only) is
# not the proxy's business: such a request is forwarded.
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
# Request-URIs name the SIP Server, not the proxy: an OPTIONS addressed to the proxy
# itself may be answered by it (§11), which would hide the forwarding under test.
it_sink server "$A_UAS" "$P_UAS" OPTIONS
it_proxy_start

for proto in udp tcp; do
	it_mkreq "$IT_TMP/pr.sip" "$proto" "$A_UAC" OPTIONS "sip:bob@$A_UAS:$P_UAS" "pr-$proto" \
		"Proxy-Require: foo"
	it_send "pr-$proto" "$proto" "$A_UAC" "$IT_TMP/pr.sip" --wait 3 --count 1
	it_assert_eq "$(it_status "$IT_TMP/pr-$proto.out")" 420 "Proxy-Require: foo over $proto"
	it_assert_grep "$IT_TMP/pr-$proto.out" "^(Unsupported|unsupported|UNSUPPORTED): *foo" "Unsupported: foo in the 420"
	it_assert_nogrep "$IT_TMP/server.out" "pr-$proto" "SIP Server received the Proxy-Require request"
done

it_mkreq "$IT_TMP/req.sip" udp "$A_UAC" OPTIONS "sip:bob@$A_UAS:$P_UAS" req-1 "Require: foo"
it_send req udp "$A_UAC" "$IT_TMP/req.sip" --wait 3 --count 1
it_assert_eq "$(it_status "$IT_TMP/req.out")" 200 "Require: foo is forwarded (server answers)"
it_assert_grep "$IT_TMP/server.out" "req-1" "server got the Require request"
it_proxy_alive
it_pass
