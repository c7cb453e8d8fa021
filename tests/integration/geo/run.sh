#!/usr/bin/env bash
# geo — data centers (geo-location): proxy p1 in dc1; node a in dc1 (an HA
# pair, 127.0.0.21 primary, .22 backup), node b in dc2 (.23), node c in dc3
# (.24). New calls from an endpoint:
#  1. go to a, the only local node (/nodes: a local, b and c not);
#  2. both members of a down (role dead): a goes out of service and calls go
#     to the first other data center, dc2 (b: cluster.remote-dcs empty = the
#     order of cluster.sip-servers);
#  3. cluster.remote-dcs = [ "dc3", "dc2" ] (reload): they go to c;
#  4. a's primary back in service: traffic returns to a at once;
#  5. cluster.forward-remote = false (reload) and a down again: an INVITE gets
#     503 with Retry-After (cluster.retry-after = 9); b and c get nothing;
#  6. a's backup turns active: a is back (its backup now primary) and takes
#     the calls.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"

M1=127.0.0.21 M2=127.0.0.22 B=127.0.0.23 C=127.0.0.24 EP=127.0.0.2
defn() { # defn OPTS
	it_cluster_def proxies="p1:127.0.0.1:dc1" nodes="a:$M1:$M2:dc1 b:$B:-:dc2 c:$C:-:dc3" \
		opts="retry-after = 9; $1"
}
defn ""
it_sim m1 $M1 active
it_sim m2 $M2 backup
it_sim b $B active
it_sim c $C active
it_cluster_proxy p1 "$P_ADMIN"
PROXY_PID=$PID_p1
CTL="$SIPPROXY_BUILD_DIR/sipproxyctl -a 127.0.0.1:$P_ADMIN"
it_wait_primary "$P_ADMIN" a "UDP:$M1:$P_SIM" 5 >/dev/null
it_wait_primary "$P_ADMIN" b "UDP:$B:$P_SIM" 5 >/dev/null
it_wait_primary "$P_ADMIN" c "UDP:$C:$P_SIM" 5 >/dev/null
it_users "$IT_TMP/one.csv" sipp

# calls NAME: 20 calls from the endpoint, all must succeed
calls() {
	it_ucalls "$1" $EP "$P_UAC" "$IT_TMP/one.csv" 20 50 || it_fail "$1: calls failed"
	it_assert_eq "$(it_sipp_stat "$1" 'Successful call')" 20 "$1: successful calls"
}
# went LABEL "N_M1 N_M2 N_B N_C": INVITEs each member got since the last check
went() {
	local got="" ip
	for ip in $M1 $M2 $B $C; do
		got="$got${got:+ }$(it_sim_stat $ip invites)"
		it_sim_ctl $ip reset >/dev/null
	done
	it_log "$1: INVITEs at a(m1 m2) b c = $got"
	it_assert_eq "$got" "$2" "$1: INVITEs at a(m1 m2) b c"
}
reload() { $CTL reload >/dev/null || it_fail "reload refused"; }

# 1. local first
it_assert_eq "$(it_node_field "$P_ADMIN" a local)" true "a is local"
it_assert_eq "$(it_node_field "$P_ADMIN" b local)" false "b is remote"
it_assert_eq "$(it_node_field "$P_ADMIN" c local)" false "c is remote"
calls local
went "all in service" "20 0 0 0"

# 2. both members of a down: the next data center
it_sim_ctl $M1 role dead >/dev/null
it_sim_ctl $M2 role dead >/dev/null
t=$(it_wait_node "$P_ADMIN" a state out-of-service 8)
it_log "a out of service after ${t}s"
calls remote
went "a down" "0 0 20 0"

# 3. the order of cluster.remote-dcs
defn 'remote-dcs = [ "dc3", "dc2" ];'
reload
calls remote_order
went "remote-dcs dc3, dc2" "0 0 0 20"

# 4. a back: traffic returns
it_sim_ctl $M1 role active >/dev/null
t=$(it_wait_primary "$P_ADMIN" a "UDP:$M1:$P_SIM" 5)
it_log "a back in service after ${t}s"
calls back
went "a back" "20 0 0 0"

# 5. forward-remote = false: 503 with Retry-After when no local node is in service
defn 'forward-remote = false;'
reload
it_sim_ctl $M1 role dead >/dev/null
it_wait_node "$P_ADMIN" a state out-of-service 8 >/dev/null
for i in 1 2 3; do
	it_mkreq "$IT_TMP/inv$i.sip" udp $EP INVITE "sip:1000@127.0.0.1:$P_PROXY" "geo-local-only-$i"
	it_send inv$i udp $EP "$IT_TMP/inv$i.sip" --wait 3 --count 1
	it_assert_eq "$(it_status "$IT_TMP/inv$i.out")" 503 "no local node, forward-remote off: 503"
	it_assert_grep "$IT_TMP/inv$i.out" "^Retry-After: 9" "503 with cluster.retry-after"
done
went "forward-remote off" "0 0 0 0"

# 6. a's backup takes over: a is in service again and local calls go to it
it_sim_ctl $M2 role active >/dev/null
t=$(it_wait_primary "$P_ADMIN" a "UDP:$M2:$P_SIM" 5)
it_log "a back (backup active) after ${t}s"
calls backup
went "a's backup active" "0 20 0 0"
it_proxy_alive
it_pass
