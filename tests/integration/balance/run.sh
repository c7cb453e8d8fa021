#!/usr/bin/env bash
# balance — cluster.balance spreads new calls from endpoints over the in-service
# nodes of the proxy's data center. Three single-member nodes a, b, c (sipsim on
# 127.0.0.21-23), one proxy; each node's count from its member's sipsim stats
# (INVITEs received) and from /nodes (requests) must agree.
#  1. round-robin (the default): 3,000 short calls at 300 calls/s, every node
#     gets 1/3 of them within ±5 %;
#  2. weighted, weights 1, 2, 3 (applied by SIGHUP): 1,200 calls, shares 1/6,
#     2/6, 3/6 within ±2 %;
#  3. least-calls: 30 calls held 12 s on a (b, c taken out meanwhile,
#     `sipproxyctl node NAME out`); with b and c back, 600 short calls go to b
#     and c only, about half each; the held calls then end normally and a's
#     active_calls is back to 0;
#  4. hash-from-user: 30 users x 10 calls; every call of a user lands on one
#     node (the node named in the 200's Record-Route, ;sn=), each node holds
#     some users; after a reload (a change elsewhere) the same users land
#     where they did.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"

A=127.0.0.21 B=127.0.0.22 C=127.0.0.23
declare -A IP=([a]=$A [b]=$B [c]=$C)
EP=127.0.0.2
defn() { # defn WEIGHT_A WEIGHT_B WEIGHT_C OPTS: the cluster definition
	it_cluster_def nodes="a:$A:-:-:$1 b:$B:-:-:$2 c:$C:-:-:$3" opts="$4"
}
defn 1 1 1 ""
it_sim a $A active
it_sim b $B active
it_sim c $C active
it_cluster_proxy p1 "$P_ADMIN"
PROXY_PID=$PID_p1
CTL="$SIPPROXY_BUILD_DIR/sipproxyctl -a 127.0.0.1:$P_ADMIN"
for n in a b c; do it_wait_primary "$P_ADMIN" $n "UDP:${IP[$n]}:$P_SIM" 5 >/dev/null; done
it_users "$IT_TMP/one.csv" sipp

# counts LABEL: per node the INVITEs since the last reset (sipsim) and the new
# requests since the last call (/nodes); both must agree. Sets NA NB NC.
declare -A REQ0=([a]=0 [b]=0 [c]=0) GOT
counts() {
	local n ip inv req
	for n in a b c; do
		ip=${IP[$n]}
		inv=$(it_sim_stat "$ip" invites)
		req=$(it_node_field "$P_ADMIN" $n requests)
		[ $((req - REQ0[$n])) = "$inv" ] ||
			it_fail "$1: node $n: sipsim saw $inv INVITEs, /nodes counts $((req - REQ0[$n])) requests"
		REQ0[$n]=$req
		it_sim_ctl "$ip" reset >/dev/null
		GOT[$n]=$inv
	done
	NA=${GOT[a]} NB=${GOT[b]} NC=${GOT[c]}
	it_log "$1: a b c = $NA $NB $NC"
}
# share LABEL COUNT TOTAL WANT_NUM WANT_DEN TOL_PERCENT: COUNT/TOTAL within
# TOL percentage points of WANT_NUM/WANT_DEN.
share() {
	awk -v c="$2" -v t="$3" -v n="$4" -v d="$5" -v tol="$6" \
		'BEGIN { s = 100 * c / t; w = 100 * n / d; exit !(s >= w - tol && s <= w + tol) }' ||
		it_fail "$1: $2 of $3 calls, want $4/$5 ± $6 %"
}
ok_calls() { # ok_calls NAME COUNT: sipp NAME placed COUNT calls, all successful
	it_assert_eq "$(it_sipp_stat "$1" 'Successful call')" "$2" "$1: successful calls"
	it_assert_eq "$(it_sipp_stat "$1" 'Failed call')" 0 "$1: failed calls"
}

# 1. round-robin
t0=$SECONDS
it_ucalls rr $EP "$P_UAC" "$IT_TMP/one.csv" 3000 300 || it_fail "round-robin calls failed"
ok_calls rr 3000
it_log "3000 calls in $((SECONDS - t0)) s"
counts round-robin
for x in $NA $NB $NC; do share round-robin "$x" 3000 1 3 5; done

# 2. weighted 1:2:3, by reload
defn 1 2 3 'balance = "weighted";'
kill -HUP "$PID_p1"
for i in $(seq 1 50); do grep -q 'event=reload result=applied' "$IT_TMP/p1.log" && break; sleep 0.1; done
it_assert_grep "$IT_TMP/p1.log" 'event=reload result=applied' "weights applied by SIGHUP"
it_ucalls wrr $EP "$P_UAC" "$IT_TMP/one.csv" 1200 300 || it_fail "weighted calls failed"
ok_calls wrr 1200
counts weighted
share "weighted a" "$NA" 1200 1 6 2
share "weighted b" "$NB" 1200 2 6 2
share "weighted c" "$NC" 1200 3 6 2

# 3. least-calls: 30 long calls on a alone, then short ones with b, c back
defn 1 1 1 'balance = "least-calls";'
$CTL reload >/dev/null || it_fail "reload to least-calls refused"
$CTL node b out >/dev/null
$CTL node c out >/dev/null
it_sipp_bg long -sf "$IT_XML/uac_user.xml" -inf "$IT_TMP/one.csv" -i $EP -p "$P_UAC2" -t u1 \
	-m 30 -r 30 -l 100 -d 12000 -s 1000 "$IT_PROXY_LISTEN:$IT_PROXY_PORT"
LONG=$IT_LAST_PID
for i in $(seq 1 60); do [ "$(it_node_field "$P_ADMIN" a active_calls)" = 30 ] && break; sleep 0.1; done
it_assert_eq "$(it_node_field "$P_ADMIN" a active_calls)" 30 "a holds the 30 long calls"
$CTL node b in >/dev/null
$CTL node c in >/dev/null
# one call at a time (-l 1): b and c tie at 0 calls for every INVITE, so they
# must take turns
it_ucalls lc $EP "$P_UAC" "$IT_TMP/one.csv" 600 200 -l 1 || it_fail "least-calls calls failed"
ok_calls lc 600
it_assert_eq "$(it_node_field "$P_ADMIN" a active_calls)" 30 "a still holds the long calls"
counts least-calls
it_assert_eq "$NA" 30 "least-calls: a got only the long calls"
share "least-calls b" "$NB" 600 1 2 2
share "least-calls c" "$NC" 600 1 2 2
rc=0
it_wait_exit "$LONG" "long calls" 30 || rc=$?
[ $rc = 0 ] || it_fail "long calls failed (sipp exit $rc)"
ok_calls long 30
it_assert_eq "$(it_node_field "$P_ADMIN" a active_calls)" 0 "a's calls ended"
counts "after the long calls"

# 4. hash-from-user: where every user's calls land, from the 200's Record-Route
users=()
for i in $(seq 1 30); do users+=("u$i"); done
it_users "$IT_TMP/users.csv" "${users[@]}"
# where NAME: "user node" for every 200 to an INVITE sipp NAME received
where() {
	"$IT_PY" - "$IT_TMP/$1.msg.log" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
for m in re.split(r"\n-{10,}[^\n]*\n", text):
    if "message received" not in m or "SIP/2.0 200" not in m:
        continue
    if not re.search(r"^CSeq:\s*1 INVITE", m, re.M | re.I):
        continue
    u = re.search(r"^From:\s*<sip:([^@>]+)@", m, re.M | re.I)
    n = re.search(r"^Record-Route:.*;sn=([A-Za-z0-9._-]+)", m, re.M | re.I)
    if u and n:
        print(u.group(1), n.group(1))
PY
}
defn 1 1 1 'balance = "hash-from-user";'
$CTL reload >/dev/null || it_fail "reload to hash-from-user refused"
it_ucalls h1 $EP "$P_UAC" "$IT_TMP/users.csv" 300 200 || it_fail "hash calls failed"
ok_calls h1 300
counts hash-from-user
where h1 | sort -u >"$IT_TMP/h1.map"
it_assert_eq "$(wc -l <"$IT_TMP/h1.map")" 30 "each of the 30 users on exactly one node"
for n in a b c; do
	k=$(awk -v n=$n '$2 == n' "$IT_TMP/h1.map" | wc -l)
	[ "$k" -ge 3 ] || it_fail "hash-from-user: node $n holds only $k of 30 users"
done
it_assert_eq "$(where h1 | wc -l)" 300 "every 200 names its node"
defn 1 1 1 'balance = "hash-from-user"; retry-after = 7;'
$CTL reload >/dev/null || it_fail "reload refused"
it_ucalls h2 $EP "$P_UAC" "$IT_TMP/users.csv" 90 200 || it_fail "hash calls failed"
where h2 | sort -u >"$IT_TMP/h2.map"
comm -13 "$IT_TMP/h1.map" "$IT_TMP/h2.map" >"$IT_TMP/moved"
[ -s "$IT_TMP/moved" ] && it_fail "users moved after a reload: $(tr '\n' ' ' <"$IT_TMP/moved")"
it_assert_eq "$(wc -l <"$IT_TMP/h2.map")" 30 "the same 30 users"
it_proxy_alive
it_pass
