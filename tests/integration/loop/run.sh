#!/usr/bin/env bash
# loop — RFC 3261 §16.3 step 4 (loop detection) with §16.6 step 8 (branch computed
# so that loops are detectable): the proxy's only SIP Server is the proxy itself, so
# the INVITE comes back with the proxy's own Via and an unchanged branch-relevant
# part; the proxy answers 482 Loop Detected. (Kamailio, the reference, has no loop
# detection: it runs Max-Forwards down and answers 483; accepted only for it.)
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_PROXY:$P_PROXY:udp"
it_proxy_start
it_mkreq "$IT_TMP/loop.sip" udp "$A_UAC" INVITE "sip:loop@$A_PROXY:$P_PROXY" loop-1
it_send loop udp "$A_UAC" "$IT_TMP/loop.sip" --wait 5 --count 1
code=$(it_status "$IT_TMP/loop.out")
if [ "$PROXY_IMPL" = kamailio ]; then
	case $code in 482 | 483) ;; *) it_fail "looping INVITE: expected 482 (or 483 for kamailio), got '$code'" ;; esac
else
	it_assert_eq "$code" 482 "looping INVITE"
fi
# Also over TCP and for a non-INVITE (MESSAGE: an OPTIONS naming the proxy may be
# answered by the proxy itself, §11).
it_mkreq "$IT_TMP/loop2.sip" tcp "$A_UAC" MESSAGE "sip:loop@$A_PROXY:$P_PROXY" loop-2
it_send loop2 tcp "$A_UAC" "$IT_TMP/loop2.sip" --wait 5 --count 1
code=$(it_status "$IT_TMP/loop2.out")
if [ "$PROXY_IMPL" = kamailio ]; then
	case $code in 482 | 483) ;; *) it_fail "looping MESSAGE/TCP: expected 482 or 483, got '$code'" ;; esac
else
	it_assert_eq "$code" 482 "looping MESSAGE over TCP"
fi
it_proxy_alive
it_pass
