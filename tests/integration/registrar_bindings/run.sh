#!/usr/bin/env bash
# registrar_bindings — what the registrar does with bindings, end to end with the
# SIP Server simulator granting them:
#  - forking (RFC 3261 §16.5-§16.7): two contacts of one AOR ring in parallel; the
#    first 2xx goes up and the other branch is CANCELled;
#  - unregister one (expires=0) and all (Contact: *, §10.2.2), then 480 (§16.5);
#  - expiry: a binding granted 2 s is gone after it (never used expired);
#  - Path (RFC 3327): a contact registered through a configured SBC is reached
#    through it; a Path from an endpoint is removed before the SIP Server sees the
#    REGISTER, never stored, and calls go to the endpoint's own flow;
#  - restart: the snapshot written at SIGTERM brings the binding back, and a call
#    reaches the endpoint through the restarted proxy.
. "$(dirname "$0")/../lib.sh"

SIPSIM=$SIPPROXY_BUILD_DIR/sipsim
CTL=$SIPPROXY_BUILD_DIR/sipproxyctl
EP="python3 $SIPPROXY_SOURCE_DIR/tests/integration/registrar/endpoint.py"
it_need_bin "$SIPSIM"
it_need_bin "$CTL"
it_start sipsim "$SIPSIM" --listen "$A_UAS:$P_UAS" --users "$SIPPROXY_SOURCE_DIR/etc/users.txt" \
	--max-expires 600
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$IT_LAST_PID"
SIM_PID=$IT_LAST_PID
SBC_SRC=127.0.0.5
it_proxy_conf servers="$A_UAS:$P_UAS:udp" sbcs="$SBC_SRC" \
	extra="registrar = { domains = [ \"sipproxy.test\" ]; snapshot = \"$IT_TMP/bindings.snap\"; };"
it_proxy_start
PROXY=$(it_hostport "$A_PROXY" "$P_PROXY")
export SIPPROXY_ADMIN=127.0.0.1:$P_ADMIN

# bindings AOR: how many live bindings /registrations lists
bindings() { # (sipproxyctl exits 1 on the 404 of an AOR without bindings)
	{ "$CTL" registrations "$1" 2>/dev/null || true; } |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'
}
# wait_bindings AOR N: until N bindings (bounded)
wait_bindings() {
	local i
	for i in $(seq 1 50); do
		[ "$(bindings "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	it_fail "$1: expected $2 bindings, have $(bindings "$1")"
}
call() { # AOR -> prints sipsim's result line (sipsim exits 1 on a failed call)
	{ "$SIPSIM" --call "$1" --via-proxy "$PROXY" --hold-ms 100 2>&1 || true; } | tail -1
}

# 1. forking: A answers, B only rings and must be CANCELled.
it_start ep_a $EP --local "$A_UAC:$P_UAC" --proxy "$PROXY" --user bob --password bob-secret --answer 1
A=$IT_LAST_PID
it_start ep_b $EP --local "$A_UAC:$P_UAC2" --proxy "$PROXY" --user bob --password bob-secret \
	--answer 1 --ring-only
B=$IT_LAST_PID
wait_bindings sip:bob@sipproxy.test 2
r=$(call bob@sipproxy.test)
case $r in *status=200*) ;; *) it_fail "forked call: $r" ;; esac
it_wait_exit "$A" ep_a 15 || it_fail "endpoint A failed"
it_wait_exit "$B" ep_b 15 || it_fail "endpoint B failed"
it_assert_grep "$IT_TMP/ep_a.log" "bye=1" "A answered and got the BYE"
it_assert_grep "$IT_TMP/ep_b.log" "cancel=1" "B's branch was CANCELled after A's 2xx (§16.7 step 10)"

# 1b. q-value groups (RFC 3261 §16.6): the q=1.0 contact is tried first and
# declines; only then does the q=0.5 contact ring, and it answers.
it_start ep_hi $EP --local "$A_UAC:$P_UAC" --proxy "$PROXY" --user 1001 --password 1001pass \
	--answer 1 --reject 486 --q 1.0
HI=$IT_LAST_PID
it_start ep_lo $EP --local "$A_UAC:$P_UAC2" --proxy "$PROXY" --user 1001 --password 1001pass \
	--answer 1 --q 0.5
LO=$IT_LAST_PID
wait_bindings sip:1001@sipproxy.test 2
r=$(call 1001@sipproxy.test)
case $r in *status=200*) ;; *) it_fail "q-group call: $r" ;; esac
it_wait_exit "$HI" ep_hi 15 || it_fail "endpoint q=1.0 failed"
it_wait_exit "$LO" ep_lo 15 || it_fail "endpoint q=0.5 failed"
it_assert_grep "$IT_TMP/ep_hi.log" "invite=rejected" "q=1.0 tried (and declined)"
it_assert_grep "$IT_TMP/ep_lo.log" "bye=1" "q=0.5 answered after the first group failed"
# serial, not parallel: the INVITE to q=0.5 leaves only after q=1.0's 486 came in
rej=$(grep -n "dir=in proto=UDP peer=$A_UAC:$P_UAC .*msg=\"SIP/2.0 486" "$IT_TMP/proxy.log" | head -1 | cut -d: -f1)
inv=$(grep -n "dir=out proto=UDP peer=$A_UAC:$P_UAC2 .*msg=\"INVITE sip:1001@" "$IT_TMP/proxy.log" | head -1 | cut -d: -f1)
[ -n "$rej" ] && [ -n "$inv" ] && [ "$rej" -lt "$inv" ] ||
	it_fail "q=0.5 was tried before q=1.0 declined (486 at line ${rej:-none}, INVITE at ${inv:-none})"
$EP --local "$A_UAC:$P_UAC" --proxy "$PROXY" --user 1001 --password 1001pass \
	--then unregister-all >/dev/null 2>&1 || it_fail "clearing 1001"

# 2. unregister one, then all.
$EP --local "$A_UAC:$P_SEND" --proxy "$PROXY" --user alice --password alice-secret \
	--then unregister >"$IT_TMP/unreg.out" 2>&1 || it_fail "unregister: $(cat "$IT_TMP/unreg.out")"
it_assert_grep "$IT_TMP/unreg.out" "unregister=200" "expires=0 accepted"
it_assert_eq "$(bindings sip:alice@sipproxy.test)" 0 "alice after expires=0"
# A's and B's bindings are still live; C refreshes A's contact (same URI, new
# Call-ID), so bob keeps two bindings.
it_start ep_c $EP --local "$A_UAC:$P_UAC" --proxy "$PROXY" --user bob --password bob-secret
it_wait_exit "$IT_LAST_PID" ep_c 15 || it_fail "endpoint C failed"
wait_bindings sip:bob@sipproxy.test 2
$EP --local "$A_UAC:$P_SEND" --proxy "$PROXY" --user bob --password bob-secret \
	--then unregister-all >"$IT_TMP/unreg_all.out" 2>&1 || it_fail "Contact: *: $(cat "$IT_TMP/unreg_all.out")"
it_assert_grep "$IT_TMP/unreg_all.out" "unregister=200" "Contact: * accepted"
it_assert_eq "$(bindings sip:bob@sipproxy.test)" 0 "bob after Contact: *"
r=$(call bob@sipproxy.test)
case $r in *status=480*) ;; *) it_fail "call after unregister: $r (want 480)" ;; esac

# 3. expiry: granted 2 s, gone after it.
$EP --local "$A_UAC:$P_SEND" --proxy "$PROXY" --user 1002 --password 1002pass --expires 2 \
	>"$IT_TMP/short.out" 2>&1 || it_fail "short registration failed"
it_assert_eq "$(bindings sip:1002@sipproxy.test)" 1 "1002 registered for 2 s"
sleep 2.5
it_assert_eq "$(bindings sip:1002@sipproxy.test)" 0 "1002 after its 2 s"
r=$(call 1002@sipproxy.test)
case $r in *status=480*) ;; *) it_fail "call to an expired binding: $r (want 480)" ;; esac

# 4. Path: the contact is reached through the SBC that put itself in Path (the SBC
# sends from 127.0.0.5, a configured cluster.sbcs entry; its other side, where it
# takes requests for the endpoint, is the sink on 127.0.0.4).
SBC=127.0.0.4
it_sink sbc "$SBC" "$P_VICTIM" INVITE
$EP --local "$SBC_SRC:$P_SEND" --proxy "$PROXY" --user 1001 --password 1001pass \
	--path "<sip:$SBC:$P_VICTIM;lr>" >"$IT_TMP/path.out" 2>&1 || it_fail "Path registration failed"
r=$(call 1001@sipproxy.test)
it_assert_grep "$IT_TMP/sbc.out" "INVITE sip:1001@$SBC_SRC:$P_SEND" \
	"INVITE for the Path contact went to the SBC, Request-URI = contact (RFC 3327 §5.3)"
case $r in *status=486*) ;; *) it_fail "call through the SBC: $r (the sink answers 486)" ;; esac

# 4b. Path from an endpoint (not an SBC): removed before forwarding, never stored;
# the call reaches the endpoint's own flow and the "Path" host gets nothing.
it_sink fakepath 127.0.0.9 "$P_VICTIM" INVITE
it_start ep_p $EP --local "$A_UAC:$P_UAC" --proxy "$PROXY" --user alice --password alice-secret \
	--path "<sip:127.0.0.9:$P_VICTIM;lr>" --answer 1
PEP=$IT_LAST_PID
wait_bindings sip:alice@sipproxy.test 1
"$CTL" registrations sip:alice@sipproxy.test >"$IT_TMP/reg_path.json"
it_assert_nogrep "$IT_TMP/reg_path.json" "127.0.0.9" "an endpoint's Path is not stored"
it_assert_grep "$IT_TMP/proxy.log" 'dir=out .*REGISTER sip:' "REGISTER forwarded"
grep -E 'dir=out .*msg="REGISTER .*alice@' "$IT_TMP/proxy.log" | grep -qiE '\\r\\nPath:' &&
	it_fail "the SIP Server saw the endpoint's Path"
r=$(call alice@sipproxy.test)
case $r in *status=200*) ;; *) it_fail "call to the endpoint that wrote a Path: $r" ;; esac
it_wait_exit "$PEP" "endpoint alice (Path)" 15 || it_fail "endpoint alice (Path) failed"
[ -s "$IT_TMP/fakepath.out" ] && it_fail "the endpoint's Path host received: $(cat "$IT_TMP/fakepath.out")"
# leave no binding behind for the restart step
$EP --local "$A_UAC:$P_UAC" --proxy "$PROXY" --user alice --password alice-secret \
	--then unregister-all >/dev/null 2>&1 || it_fail "unregister alice"
wait_bindings sip:alice@sipproxy.test 0

# 5. restart: the snapshot brings the binding back.
it_start ep_d $EP --local "$A_UAC:$P_UAC2" --proxy "$PROXY" --user alice --password alice-secret \
	--answer 1 --timeout 40
D=$IT_LAST_PID
wait_bindings sip:alice@sipproxy.test 1
it_proxy_stop
[ -s "$IT_TMP/bindings.snap" ] || it_fail "no snapshot written at shutdown"
it_proxy_start
it_assert_eq "$(bindings sip:alice@sipproxy.test)" 1 "alice after restart (snapshot)"
r=$(call alice@sipproxy.test)
case $r in *status=200*) ;; *) it_fail "call after restart: $r" ;; esac
it_wait_exit "$D" ep_d 15 || it_fail "endpoint D failed"

it_alive "$SIM_PID" sipsim
it_proxy_alive
it_pass
