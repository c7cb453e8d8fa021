#!/usr/bin/env bash
# dn_ownership — "DN ownership is defined by REGISTER": two nodes n1, n2
# (sipsim on 127.0.0.21, .22), round-robin balance, one proxy:
#  1. a digest REGISTER of user 1001 (register.xml: 401, then 200) lands on one
#     node, the owner, chosen by the hash of the AOR; a second REGISTER of the
#     same AOR lands there again; /registrations shows "node": OWNER;
#  2. 20 calls from that endpoint (From sip:1001@proxy) all go to the owner,
#     while 20 calls from an unregistered user split 10/10 (round-robin);
#  3. `sipproxyctl node OWNER out`: 1001's calls go to the other node;
#  4. `sipproxyctl node OWNER in`: they are back on the owner.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"

N1=127.0.0.21 N2=127.0.0.22 EP=127.0.0.2
declare -A IP=([n1]=$N1 [n2]=$N2)
it_cluster_def nodes="n1:$N1 n2:$N2"
it_sim n1 $N1 active
it_sim n2 $N2 active
it_cluster_proxy p1 "$P_ADMIN"
PROXY_PID=$PID_p1
CTL="$SIPPROXY_BUILD_DIR/sipproxyctl -a 127.0.0.1:$P_ADMIN"
it_wait_primary "$P_ADMIN" n1 "UDP:$N1:$P_SIM" 5 >/dev/null
it_wait_primary "$P_ADMIN" n2 "UDP:$N2:$P_SIM" 5 >/dev/null
it_users "$IT_TMP/1001.csv" 1001
it_users "$IT_TMP/other.csv" sipp

# got WHAT: "N1 N2" counters WHAT (invites, registers) since the last call
got() {
	local a b
	a=$(it_sim_stat $N1 "$1") b=$(it_sim_stat $N2 "$1")
	it_sim_ctl $N1 reset >/dev/null
	it_sim_ctl $N2 reset >/dev/null
	echo "$a $b"
}
# calls NAME USERS: 20 calls from the endpoint, all must succeed
calls() {
	it_ucalls "$1" $EP "$P_UAC" "$2" 20 50 || it_fail "$1: calls failed"
	it_assert_eq "$(it_sipp_stat "$1" 'Successful call')" 20 "$1: successful calls"
}
# want LABEL N_OWNER N_OTHER: INVITEs at the owner and the other node
want() {
	local c
	c=$(got invites)
	declare -A n=([n1]=${c% *} [n2]=${c#* })
	it_log "$1: INVITEs at $OWNER ${n[$OWNER]}, at $OTHER ${n[$OTHER]}"
	it_assert_eq "${n[$OWNER]} ${n[$OTHER]}" "$2 $3" "$1: INVITEs at $OWNER and $OTHER"
}

# 1. the REGISTER picks the owner
it_sipp_ok reg1 -sf "$IT_SCEN_DIR/register.xml" -inf "$IT_TMP/1001.csv" -i $EP -p "$P_UAC" -t u1 \
	-m 1 -au 1001 -ap 1001pass "$IT_PROXY_LISTEN:$IT_PROXY_PORT"
case $(got registers) in
"2 0") OWNER=n1 OTHER=n2 ;;
"0 2") OWNER=n2 OTHER=n1 ;;
*) it_fail "the digest REGISTER (2 requests) did not land on one node" ;;
esac
it_log "1001 registered at $OWNER"
it_sipp_ok reg2 -sf "$IT_SCEN_DIR/register.xml" -inf "$IT_TMP/1001.csv" -i $EP -p "$P_UAC" -t u1 \
	-m 1 -au 1001 -ap 1001pass "$IT_PROXY_LISTEN:$IT_PROXY_PORT"
r=$(got registers)
declare -A R=([n1]=${r% *} [n2]=${r#* })
it_assert_eq "${R[$OWNER]} ${R[$OTHER]}" "2 0" "the same AOR registers at the same node"
$CTL registrations "sip:1001@127.0.0.1" >"$IT_TMP/reg.json" || it_fail "no /registrations"
it_assert_grep "$IT_TMP/reg.json" "\"node\": \"$OWNER\"" "/registrations names the owner node"
it_assert_grep "$IT_TMP/reg.json" "\"contact\": \"sip:1001@$EP:$P_UAC" "the binding"

# 2. the owner takes the endpoint's calls; others are balanced
calls owned "$IT_TMP/1001.csv"
want "calls from 1001" 20 0
calls others "$IT_TMP/other.csv"
want "calls from an unregistered user" 10 10

# 3. owner out: elsewhere
$CTL node $OWNER out >/dev/null || it_fail "node $OWNER out refused"
calls owner_out "$IT_TMP/1001.csv"
want "owner taken out" 0 20

# 4. owner back in
$CTL node $OWNER in >/dev/null || it_fail "node $OWNER in refused"
calls owner_in "$IT_TMP/1001.csv"
want "owner back in" 20 0
it_proxy_alive
it_pass
