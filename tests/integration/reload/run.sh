#!/usr/bin/env bash
# reload — the cluster definition (cluster.conf, @included by the proxy's own
# file) changed under load: sipp places ~30 calls/s through one proxy the whole
# time (xml/uac_user.xml, 1 s calls, round-robin over the nodes), and not one
# call fails:
#  1. node c added to the file, SIGHUP: c gets new calls, a and b keep theirs;
#  2. node a removed the way that cuts no call (docs/architecture.md): taken
#     out (`sipproxyctl node a out`: no new call, the ~10 it holds end at a,
#     their BYEs reach it, /nodes active_calls back to 0), then deleted from
#     the file, `sipproxyctl reload`: gone from /nodes, still no new call;
#  3. a syntax error in cluster.conf: `sipproxyctl reload` fails (non-zero,
#     "HTTP status 409"), its answer and the proxy's log name cluster.conf and
#     the line; the running definition stays (b and c in /nodes, both still
#     getting calls);
#  4. an unknown key in cluster.conf, SIGHUP: refused, the log names
#     cluster.conf, the line and the key; traffic unchanged;
#  5. node c removed from the file while it holds calls, SIGHUP, no drain:
#     it retires (/nodes state "retiring"): no new call goes there, the calls
#     it holds still end there (their BYEs reach c), then it leaves /nodes;
# /metrics: sipproxy_reloads_total{result="applied"} 3, {result="rejected"} 2.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"

A=127.0.0.21 B=127.0.0.22 C=127.0.0.23 EP=127.0.0.2
it_cluster_def nodes="a:$A b:$B"
it_sim a $A active
it_sim b $B active
it_sim c $C active
it_cluster_proxy p1 "$P_ADMIN"
PROXY_PID=$PID_p1
CTL="$SIPPROXY_BUILD_DIR/sipproxyctl -a 127.0.0.1:$P_ADMIN"
it_wait_primary "$P_ADMIN" a "UDP:$A:$P_SIM" 5 >/dev/null
it_wait_primary "$P_ADMIN" b "UDP:$B:$P_SIM" 5 >/dev/null
it_users "$IT_TMP/one.csv" sipp

CALLS=720 # 24 s at 30 calls/s
it_sipp_bg load -sf "$IT_XML/uac_user.xml" -inf "$IT_TMP/one.csv" -i $EP -p "$P_UAC" -t u1 \
	-m $CALLS -r 30 -l 100 -d 1000 -s 1000 "$IT_PROXY_LISTEN:$IT_PROXY_PORT"
LOAD=$IT_LAST_PID
inv() { it_sim_stat "$1" invites; }
# grows LABEL IP SECONDS: the member at IP gets new INVITEs within SECONDS
grows() {
	local n0 i
	n0=$(inv "$2")
	for i in $(seq 1 $(($3 * 10))); do
		[ "$(inv "$2")" -gt "$n0" ] && return 0
		sleep 0.1
	done
	it_fail "$1: no new call at $2 within $3 s (still $n0)"
}
# nodes: the node names in /nodes, in order
nodes() { it_nodes "$P_ADMIN" | "$IT_PY" -c 'import json, sys; print(" ".join(n["name"] for n in json.load(sys.stdin)["nodes"]))'; }
sleep 3
grows "before any change" $A 2
grows "before any change" $B 2
it_assert_eq "$(inv $C)" 0 "c, not in the definition yet, got nothing"

# 1. add c, SIGHUP
it_cluster_def nodes="a:$A b:$B c:$C"
kill -HUP "$PID_p1"
for i in $(seq 1 50); do grep -q 'event=reload result=applied' "$IT_TMP/p1.log" && break; sleep 0.1; done
it_assert_grep "$IT_TMP/p1.log" 'event=reload result=applied .*nodes=3' "SIGHUP applied the new definition"
it_assert_eq "$(nodes)" "a b c" "/nodes after adding c"
grows "after adding c" $C 3
grows "after adding c" $A 2
grows "after adding c" $B 2

# 2. remove a: drained first (taken out: no new call, those in progress end
# at a), then out of the definition, sipproxyctl reload
[ "$(it_node_field "$P_ADMIN" a active_calls)" -gt 0 ] || it_fail "a holds no call to drain"
text_calls() { $CTL nodes | awk -v n="$1" '$1 == n { print $4 }'; } # the CALLS column
[[ $(text_calls a) =~ ^[1-9][0-9]*$ ]] || it_fail "sipproxyctl nodes: CALLS of a is '$(text_calls a)'"
$CTL node a out >/dev/null || it_fail "node a out refused"
sleep 0.3 # an INVITE already on its way to a
a_after=$(inv $A)
grows "a taken out" $B 2
grows "a taken out" $C 2
t=$(it_wait_node "$P_ADMIN" a active_calls 0 5)
it_log "a drained in ${t}s"
it_assert_eq "$(text_calls a)" 0 "sipproxyctl nodes: a drained"
it_assert_eq "$(inv $A)" "$a_after" "a gets no new call once taken out"
it_assert_eq "$(it_sim_stat $A byes)" "$a_after" "every call a held ended at a (its BYE)"
it_cluster_def nodes="b:$B c:$C"
$CTL reload >"$IT_TMP/reload2.out" 2>&1 || it_fail "reload without a refused: $(cat "$IT_TMP/reload2.out")"
it_assert_grep "$IT_TMP/reload2.out" '^applied' "sipproxyctl reload answer"
it_assert_eq "$(nodes)" "b c" "/nodes after removing a"
grows "after removing a" $B 2
grows "after removing a" $C 2
it_assert_eq "$(inv $A)" "$a_after" "a gets no new call once removed"

# 3. syntax error in the included file: sipproxyctl reload refused
it_cluster_def nodes="b:$B c:$C"
sed -i 's/^  sip-servers = (/  sip-servers = ( {{ oops/' "$IT_TMP/cluster.conf"
bad_line=$(grep -n 'oops' "$IT_TMP/cluster.conf" | cut -d: -f1)
rc=0
$CTL reload >"$IT_TMP/reload3.out" 2>"$IT_TMP/reload3.err" || rc=$?
[ $rc != 0 ] || it_fail "a definition with a syntax error was applied"
it_assert_grep "$IT_TMP/reload3.err" 'HTTP status 409' "sipproxyctl reload fails"
it_assert_grep "$IT_TMP/reload3.out" "^rejected: (.*/)?cluster\.conf:$bad_line: syntax" "the answer names the file and line"
it_assert_grep "$IT_TMP/p1.log" "event=reload result=rejected reason=\"(.*/)?cluster\.conf:$bad_line: syntax" "logged with file and line"
it_assert_eq "$(nodes)" "b c" "the running definition stays"
grows "after the refused reload" $B 2
grows "after the refused reload" $C 2

# 4. unknown key in the included file: SIGHUP refused
it_cluster_def nodes="b:$B c:$C" opts='no-such-key = 1;'
bad_line=$(grep -n 'no-such-key' "$IT_TMP/cluster.conf" | cut -d: -f1)
kill -HUP "$PID_p1"
for i in $(seq 1 50); do [ "$(grep -c 'event=reload result=rejected' "$IT_TMP/p1.log")" = 2 ] && break; sleep 0.1; done
it_assert_grep "$IT_TMP/p1.log" "event=reload result=rejected reason=\"(.*/)?cluster\.conf:$bad_line: cluster\.no-such-key" "SIGHUP: unknown key logged with file, line and key"
it_assert_eq "$(nodes)" "b c" "the running definition stays"
grows "after the refused SIGHUP" $B 2
grows "after the refused SIGHUP" $C 2
it_assert_eq "$(inv $A)" "$a_after" "a still gets nothing"

# 5. remove c at once, calls in progress: it retires
[ "$(it_node_field "$P_ADMIN" c active_calls)" -gt 0 ] || it_fail "c holds no call"
it_cluster_def nodes="b:$B"
kill -HUP "$PID_p1"
for i in $(seq 1 50); do [ "$(grep -c 'event=reload result=applied' "$IT_TMP/p1.log")" = 3 ] && break; sleep 0.1; done
it_assert_grep "$IT_TMP/p1.log" 'event=node_retiring node=c calls=[1-9]' "c retires with its calls"
it_assert_eq "$(it_node_field "$P_ADMIN" c state)" retiring "/nodes shows c retiring"
sleep 0.3 # an INVITE already on its way to c
c_after=$(inv $C)
grows "c removed" $B 2
for i in $(seq 1 50); do [ "$(nodes)" = b ] && break; sleep 0.1; done
it_assert_eq "$(nodes)" b "c left /nodes once its calls were over"
it_assert_eq "$(inv $C)" "$c_after" "c got no new call once removed"
it_assert_eq "$(it_sim_stat $C byes)" "$(inv $C)" "every call c held ended at c (its BYE)"

rc=0
it_wait_exit "$LOAD" "sipp load" 40 || rc=$?
[ $rc = 0 ] || it_fail "calls failed during the reloads (sipp exit $rc); see load.err.log"
it_assert_eq "$(it_sipp_stat load 'Successful call')" $CALLS "every call under load succeeded"
it_assert_eq "$(it_sipp_stat load 'Failed call')" 0 "no failed call"
it_log "a: $a_after calls, each ended at a; none after it was taken out"
$CTL metrics >"$IT_TMP/metrics.txt"
it_assert_grep "$IT_TMP/metrics.txt" '^sipproxy_reloads_total\{result="applied"\} 3$' "applied reloads counted"
it_assert_grep "$IT_TMP/metrics.txt" '^sipproxy_reloads_total\{result="rejected"\} 2$' "rejected reloads counted"
it_proxy_alive
it_pass
