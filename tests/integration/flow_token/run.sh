#!/usr/bin/env bash
# flow_token — RFC 5626 §5.2/§5.3: in-dialog requests reach an endpoint by the
# flow token the proxy put in its own Record-Route, never by a Contact string
# somebody registered ("Contact takeover"). alice registers over TCP with a
# Contact nobody can connect to (as behind NAT); an attacker (1001, another AOR,
# another host) registers the very same Contact. The SIP Server (sipsim) calls
# alice: the INVITE goes down her connection (location service), and so do the
# ACK of the 2xx and the BYE, whose Request-URI is that shared Contact. Then the
# attacker unregisters the Contact and a second call still reaches alice the same
# way. The attacker's host receives nothing at all.
. "$(dirname "$0")/../lib.sh"

SIPSIM=$SIPPROXY_BUILD_DIR/sipsim
CTL=$SIPPROXY_BUILD_DIR/sipproxyctl
EP="python3 $SIPPROXY_SOURCE_DIR/tests/integration/registrar/endpoint.py"
it_need_bin "$SIPSIM"
it_start sipsim "$SIPSIM" --listen "$A_UAS:$P_UAS" --users "$SIPPROXY_SOURCE_DIR/etc/users.txt"
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$IT_LAST_PID"
it_proxy_conf servers="$A_UAS:$P_UAS:udp" extra='registrar = { domains = [ "sipproxy.test" ]; };'
it_proxy_start
PROXY=$(it_hostport "$A_PROXY" "$P_PROXY")
export SIPPROXY_ADMIN=127.0.0.1:$P_ADMIN
ATT=127.0.0.5
C="sip:alice@$A_UAC:$P_VICTIM;transport=tcp"

it_start alice $EP --proto tcp --local "$A_UAC:$P_UAC" --proxy "$PROXY" --user alice \
	--password alice-secret --advertise "$A_UAC:$P_VICTIM" --answer 2 --timeout 40
ALICE=$IT_LAST_PID
for i in $(seq 1 50); do grep -q register=200 "$IT_TMP/alice.log" && break; sleep 0.1; done
it_assert_grep "$IT_TMP/alice.log" register=200 "alice registered"

# the attacker registers alice's Contact under its own AOR
$EP --local "$ATT:$P_SEND" --proxy "$PROXY" --user 1001 --password 1001pass --contact "$C" \
	>"$IT_TMP/att1.out" 2>&1 || it_fail "attacker registration: $(cat "$IT_TMP/att1.out")"
it_assert_grep "$IT_TMP/att1.out" register=200 "the attacker's REGISTER was accepted"
"$CTL" registrations sip:1001@sipproxy.test >"$IT_TMP/att.json"
it_assert_grep "$IT_TMP/att.json" "alice@$A_UAC:$P_VICTIM" "the attacker holds the same Contact"
# from now on everything sent to the attacker's host is caught
it_sink attacker "$ATT" "$P_SEND" '' --log-bytes --log-accept

call() { # N: the SIP Server calls alice's AOR and hangs up
	"$SIPSIM" --listen "$A_UAS:$P_SIM" --call alice@sipproxy.test --via-proxy "$PROXY" \
		--hold-ms 200 >"$IT_TMP/call$1.out" 2>&1 || it_fail "call $1: $(cat "$IT_TMP/call$1.out")"
	it_assert_grep "$IT_TMP/call$1.out" "status=200" "call $1 answered by alice"
}
call 1
for i in $(seq 1 50); do grep -q "bye=1" "$IT_TMP/alice.log" && break; sleep 0.1; done
it_assert_grep "$IT_TMP/alice.log" "ack=1" "the ACK of the 2xx went down alice's connection"
it_assert_grep "$IT_TMP/alice.log" "bye=1" "the BYE (Request-URI = the shared Contact) reached alice"
it_assert_grep "$IT_TMP/proxy.log" "dir=out .*msg=\"BYE sip:alice@$A_UAC:$P_VICTIM" "BYE forwarded"

# the attacker takes its binding of the shared Contact away
kill "$(pgrep -f "sipsink.py --listen $ATT:$P_SEND")" 2>/dev/null || true
sleep 0.2
$EP --local "$ATT:$P_SEND" --proxy "$PROXY" --user 1001 --password 1001pass --contact "$C" \
	--then unregister >"$IT_TMP/att2.out" 2>&1 || it_fail "attacker unregister"
it_assert_grep "$IT_TMP/att2.out" "unregister=200" "the attacker's Contact removed"
it_sink attacker2 "$ATT" "$P_SEND" '' --log-bytes --log-accept
call 2
it_wait_exit "$ALICE" alice 20 || it_fail "alice did not take both calls"
it_assert_grep "$IT_TMP/alice.log" "bye=2" "the second call's BYE reached alice too"
it_assert_grep "$IT_TMP/alice.log" "ack=2" "and its ACK"
for f in attacker attacker2; do
	[ -s "$IT_TMP/$f.out" ] && it_fail "the attacker's host received: $(head -3 "$IT_TMP/$f.out")"
done
it_proxy_alive
it_pass
