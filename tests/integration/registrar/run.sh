#!/usr/bin/env bash
# registrar — the seed's delegated registrar: "It passes REGISTER requests to SIP
# Server and waits for a response. If it receives the 200 OK response, the
# registration is stored. All responses are always forwarded to the initiator."
# An endpoint (sipp, 127.0.0.2) registers with digest auth through the proxy to the
# simulator; the binding appears in /registrations; the SIP Server then calls the
# AOR through the proxy (RFC 3261 §16.5 location service) and the endpoint answers
# over UDP, then over TCP on its own connection; the in-dialog BYE reaches it down
# that connection by the flow token in the proxy's Record-Route (RFC 5626 §5.3). A
# request to the registered Contact itself is not steered by the binding (Contacts
# are the endpoints' words: issue "Contact takeover"). A wrong password gets the
# server's second 401 (a SIP Server challenges again, RFC 2617 §3.2.1) and stores
# nothing.
. "$(dirname "$0")/../lib.sh"

SIPSIM=$SIPPROXY_BUILD_DIR/sipsim
CTL=$SIPPROXY_BUILD_DIR/sipproxyctl
it_need_bin "$SIPSIM"
it_need_bin "$CTL"
it_start sipsim "$SIPSIM" --listen "$A_UAS:$P_UAS" --users "$SIPPROXY_SOURCE_DIR/etc/users.txt"
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$IT_LAST_PID"
SIM_PID=$IT_LAST_PID

it_proxy_conf servers="$A_UAS:$P_UAS:udp" \
	extra='registrar = { domains = [ "sipproxy.test" ]; };'
it_proxy_start
PROXY=$(it_hostport "$A_PROXY" "$P_PROXY")
export SIPPROXY_ADMIN=127.0.0.1:$P_ADMIN

ENDPOINT="python3 $IT_SCEN_DIR/endpoint.py"
port=$P_UAC
for tp in udp tcp; do
	it_log "endpoint over $tp"
	calls=1 adv=$A_UAC:$port
	# over TCP the phone advertises a Contact nobody can connect to (as behind NAT)
	[ $tp = tcp ] && adv=$A_UAC:$P_VICTIM
	it_start ep_$tp $ENDPOINT --proto $tp --local "$A_UAC:$port" --proxy "$PROXY" \
		--user alice --password alice-secret --answer $calls --timeout 30 --advertise "$adv"
	EP=$IT_LAST_PID
	# the binding is stored once the SIP Server's 200 went back
	for i in $(seq 1 50); do
		"$CTL" registrations sip:alice@sipproxy.test >"$IT_TMP/reg_$tp.json" 2>/dev/null &&
			grep -q "$adv" "$IT_TMP/reg_$tp.json" && break
		sleep 0.1
	done
	it_assert_grep "$IT_TMP/reg_$tp.json" "\"contact\": \"sip:alice@$adv" "binding stored after 200"
	it_assert_grep "$IT_TMP/reg_$tp.json" "\"transport\": \"${tp^^}\"" \
		"binding records the flow's transport"
	# the SIP Server (trusted) calls the AOR through the proxy
	"$SIPSIM" --call alice@sipproxy.test --via-proxy "$PROXY" --hold-ms 200 \
		>"$IT_TMP/call_$tp.out" 2>&1 || it_fail "call to the registered AOR over $tp failed: $(cat "$IT_TMP/call_$tp.out")"
	it_assert_grep "$IT_TMP/call_$tp.out" "status=200" "call answered by the endpoint"
	if [ $tp = tcp ]; then
		# Request-URI = the registered Contact itself, out of any dialog: the proxy
		# sends it where the URI says (nobody listens there), not down the flow.
		"$SIPSIM" --call "alice@$adv;transport=tcp" --via-proxy "$PROXY" --hold-ms 200 \
			>"$IT_TMP/call_contact.out" 2>&1 || true
		it_assert_nogrep "$IT_TMP/call_contact.out" "status=200" \
			"a bare Contact is not routed by the binding"
	fi
	rc=0
	it_wait_exit "$EP" "endpoint $tp" 20 || rc=$?
	[ $rc = 0 ] || it_fail "endpoint ($tp) exit $rc"
	it_assert_grep "$IT_TMP/ep_$tp.log" "bye=$calls" "endpoint saw the BYE"
	port=$((port + 1))
done

# nobody registered for bob: 480 (RFC 3261 §16.5)
"$SIPSIM" --call bob@sipproxy.test --via-proxy "$PROXY" >"$IT_TMP/call_bob.out" 2>&1 || true
it_assert_grep "$IT_TMP/call_bob.out" "status=480" "unregistered AOR answered 480"

# wrong password: the renewed 401 reaches the endpoint and nothing is stored
$ENDPOINT --proto udp --local "$A_UAC:$P_SEND" --proxy "$PROXY" --user 1001 \
	--password wrong >"$IT_TMP/bad.out" 2>&1 || it_fail "endpoint with a wrong password failed"
it_assert_grep "$IT_TMP/bad.out" "register=401" "the SIP Server's second 401 reaches the endpoint"
rc=0
"$CTL" registrations sip:1001@sipproxy.test >"$IT_TMP/reg_bad.json" 2>&1 || rc=$?
it_assert_eq "$rc" 1 "no binding after 401 (404 from /registrations)"
it_assert_grep "$IT_TMP/reg_bad.json" '"count": 0' "empty binding list"

it_alive "$SIM_PID" sipsim
it_proxy_alive
it_pass
