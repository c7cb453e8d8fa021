#!/usr/bin/env bash
# shared_calls — the cluster's call data (dialog records) through Redis: two
# proxies p1 (127.0.0.1) and p2 (127.0.0.11), node n1 (sipsim on 127.0.0.21).
#  1. 10 calls from an endpoint (sipp, 127.0.0.2) through p1, held: both
#     proxies list all 10 in GET /calls (node n1, flow proxy p1, recorded by
#     p1), /calls/CALL-ID finds one, and p2's /nodes counts the 10 calls on n1
#     (least-calls balances on the cluster's calls); their BYEs through p1 end
#     them at both proxies;
#  2. a call set up through p1 whose endpoint sends its BYE to p2 after p1 was
#     killed (SIGKILL): p2 takes p1's Record-Route as its own, the BYE reaches
#     n1 and is answered 200, and the call leaves p2's /calls.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"
. "$IT_LIB_DIR/redis_lib.sh"

N1=127.0.0.21 EP=127.0.0.2
it_redis 0
it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$N1" opts='balance = "least-calls";'
it_sim n1 $N1 active
it_shared_proxies
CTL="$SIPPROXY_BUILD_DIR/sipproxyctl"

# ncalls ADMIN: how many calls the proxy lists
ncalls() { { $CTL -a "127.0.0.1:$1" calls || true; } | "$IT_PY" -c 'import json,sys; print(json.load(sys.stdin)["count"])' 2>/dev/null || echo "?"; }
# wait_calls ADMIN N SECONDS
wait_calls() {
	local deadline=$((SECONDS + $3)) n
	while :; do
		n=$(ncalls "$1")
		[ "$n" = "$2" ] && return 0
		[ $SECONDS -ge $deadline ] && it_fail "admin $1 lists $n calls, want $2"
		sleep 0.1
	done
}

# 1. calls through p1, listed by both
it_sipp_bg held -sf "$IT_XML/uac_hold.xml" -i $EP -p "$P_UAC" -t u1 -m 10 -r 20 -d 4000 -s agent \
	"127.0.0.1:$P_PROXY"
HELD=$IT_LAST_PID
wait_calls "$P_ADMIN" 10 10
wait_calls "$P_ADMIN2" 10 5
$CTL -a "127.0.0.1:$P_ADMIN2" calls >"$IT_TMP/calls.json"
it_assert_grep "$IT_TMP/calls.json" '"node": "n1", "flow_proxy": "p1"' "p2 lists p1's calls on n1"
it_assert_grep "$IT_TMP/calls.json" '"recorded_by": "p1"' "recorded by p1"
cid=$("$IT_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["calls"][0]["call_id"])' "$IT_TMP/calls.json")
$CTL -a "127.0.0.1:$P_ADMIN2" calls "$cid" >"$IT_TMP/one.json" || it_fail "/calls/$cid at p2"
it_assert_grep "$IT_TMP/one.json" '"count": 1' "/calls/CALL-ID"
it_assert_eq "$(it_node_field "$P_ADMIN2" n1 active_calls)" 10 "p2 counts p1's 10 calls on n1"
it_wait_exit "$HELD" held 30 || it_fail "held calls failed"
wait_calls "$P_ADMIN" 0 5
wait_calls "$P_ADMIN2" 0 5
it_assert_eq "$(it_node_field "$P_ADMIN2" n1 active_calls)" 0 "their BYEs ended them at p2 too"
it_log "10 calls through p1: listed and counted at p2, ended at both"

# 2. set up through p1, BYE through p2 after p1 died
sed "s/@BYE_HOST@/127.0.0.11/; s/@BYE_PORT@/$P_PROXY/" "$IT_SCEN_DIR/bye_elsewhere.xml" >"$IT_TMP/bye_elsewhere.xml"
it_sipp_bg moved -sf "$IT_TMP/bye_elsewhere.xml" -i $EP -p "$P_UAC" -t u1 -m 1 -d 4000 -s agent \
	"127.0.0.1:$P_PROXY"
MOVED=$IT_LAST_PID
wait_calls "$P_ADMIN2" 1 10
kill -KILL "$PID_p1"
it_log "p1 killed with the call up"
it_wait_exit "$MOVED" moved 30 || it_fail "the BYE through p2 failed: $(tail -5 "$IT_TMP/moved.err.log" 2>/dev/null)"
it_assert_eq "$(it_sipp_stat moved 'Successful call')" 1 "call ended by a BYE through p2"
wait_calls "$P_ADMIN2" 0 5
PROXY_PID=$PID_p2
it_pass
