#!/usr/bin/env bash
# cluster_identity — one cluster definition (cluster.conf: proxies p1 at
# 127.0.0.1 in dc1 and p2 at 127.0.0.11 in dc2; node x in dc1, y in dc2), every
# proxy's own file @including it, each proxy started with --name (the vendor:
# a proxy whose own entry is not in the cluster's list refuses to start):
#  1. --name p3, not in cluster.proxies: sipproxy exits non-zero at once, its
#     message names cluster.conf:LINE of the list; --check-config FILE --name
#     p3 says the same;
#  2. --name p1 and --name p2 from files without an address: each listens on
#     its entry's address and takes its geo-location (the log; /nodes: x is
#     local to p1, y to p2), and calls through each go to its local node;
#  3. a proxy.sip-address in p1's own file that is not its entry's: refused
#     to start, the message names that file, line and key (--check-config the
#     same); one that agrees is fine; a conflicting proxy.geo-location is
#     refused as well.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"

X=127.0.0.21 Y=127.0.0.22 EP=127.0.0.2
SIPPROXY=$SIPPROXY_BUILD_DIR/sipproxy
it_need_bin "$SIPPROXY"
it_cluster_def proxies="p1:127.0.0.1:dc1 p2:127.0.0.11:dc2" nodes="x:$X:-:dc1 y:$Y:-:dc2"
list_line=$(grep -n '^  proxies = (' "$IT_TMP/cluster.conf" | cut -d: -f1)

# own NAME [PROXY_GROUP]: a proxy's own file, $IT_TMP/NAME.conf, with an
# optional proxy = { ... } group; sets OWN_LINE to the line of that group
own() {
	cat >"$IT_TMP/$1.conf" <<EOF
# proxy file for $IT_NAME: the cluster is in cluster.conf
@include "cluster.conf"
${2:-}
admin = { address = "127.0.0.1"; port = $P_ADMIN3; };
EOF
	OWN_LINE=3
}
# refused LABEL FILE NAME REGEX: sipproxy -c FILE --name NAME exits non-zero
# within 5 s with REGEX on stderr; --check-config FILE --name NAME the same
refused() {
	local rc=0
	timeout 5 "$SIPPROXY" -c "$2" --name "$3" >"$IT_TMP/$1.out" 2>&1 || rc=$?
	[ $rc != 0 ] || it_fail "$1: sipproxy started"
	[ $rc != 124 ] || it_fail "$1: sipproxy still running after 5 s"
	it_assert_grep "$IT_TMP/$1.out" "$4" "$1: start-up message"
	rc=0
	"$SIPPROXY" --check-config "$2" --name "$3" >"$IT_TMP/$1.check" 2>&1 || rc=$?
	it_assert_eq "$rc" 1 "$1: --check-config status"
	it_assert_grep "$IT_TMP/$1.check" "$4" "$1: --check-config message"
}

# 1. not in the list
own plain
refused unknown "$IT_TMP/plain.conf" p3 \
	"^(.*/)?cluster\.conf:$list_line: cluster\.proxies: this proxy \"p3\" is not in the cluster definition; refusing to start"
it_log "$(cat "$IT_TMP/unknown.out")"

# 2. --name picks the entry: address and geo-location
"$SIPPROXY" --check-config "$IT_TMP/plain.conf" --name p2 >"$IT_TMP/p2.check" 2>&1 ||
	it_fail "--check-config --name p2: $(cat "$IT_TMP/p2.check")"
it_assert_grep "$IT_TMP/p2.check" "plain.conf: ok" "--check-config --name p2"
it_sim x $X active
it_sim y $Y active
it_cluster_proxy p1 "$P_ADMIN"
it_cluster_proxy p2 "$P_ADMIN2"
PROXY_PID=$PID_p1
it_assert_grep "$IT_TMP/p1.log" 'event=listening proto=UDP address=127\.0\.0\.1 ' "p1 listens on its entry's address"
it_assert_grep "$IT_TMP/p2.log" 'event=listening proto=UDP address=127\.0\.0\.11 ' "p2 listens on its entry's address"
it_assert_grep "$IT_TMP/p1.log" 'event=cluster .* geo=dc1$' "p1's geo-location from its entry"
it_assert_grep "$IT_TMP/p2.log" 'event=cluster .* geo=dc2$' "p2's geo-location from its entry"
it_assert_eq "$(it_node_field "$P_ADMIN" x local) $(it_node_field "$P_ADMIN" y local)" "true false" "p1: x local, y remote"
it_assert_eq "$(it_node_field "$P_ADMIN2" x local) $(it_node_field "$P_ADMIN2" y local)" "false true" "p2: y local, x remote"
it_wait_primary "$P_ADMIN" x "UDP:$X:$P_SIM" 5 >/dev/null
it_wait_primary "$P_ADMIN2" y "UDP:$Y:$P_SIM" 5 >/dev/null
it_users "$IT_TMP/one.csv" sipp
IT_PROXY_LISTEN=127.0.0.1
it_ucalls via_p1 $EP "$P_UAC" "$IT_TMP/one.csv" 10 50 || it_fail "calls through p1 failed"
IT_PROXY_LISTEN=127.0.0.11
it_ucalls via_p2 $EP "$P_UAC" "$IT_TMP/one.csv" 10 50 || it_fail "calls through p2 failed"
it_assert_eq "$(it_sim_stat $X invites) $(it_sim_stat $Y invites)" "10 10" "each proxy's calls went to its local node"
it_proxy_alive
it_alive "$PID_p2" p2

# 3. the proxy's own file disagrees with its entry
own bad_addr 'proxy = { sip-address = "127.0.0.5"; };'
refused bad_addr "$IT_TMP/bad_addr.conf" p1 \
	"^(.*/)?bad_addr\.conf:$OWN_LINE: proxy\.sip-address: 127\.0\.0\.5 is not the address of \"p1\" in cluster\.proxies \(127\.0\.0\.1\); refusing to start"
own same_addr 'proxy = { sip-address = "127.0.0.1"; };'
"$SIPPROXY" --check-config "$IT_TMP/same_addr.conf" --name p1 >"$IT_TMP/same_addr.check" 2>&1 ||
	it_fail "an agreeing proxy.sip-address refused: $(cat "$IT_TMP/same_addr.check")"
own bad_geo 'proxy = { geo-location = "dc2"; };'
refused bad_geo "$IT_TMP/bad_geo.conf" p1 \
	"^(.*/)?bad_geo\.conf:$OWN_LINE: proxy\.geo-location: \"dc2\" differs from \"p1\"'s geo-location in cluster\.proxies \(\"dc1\"\)"
it_pass
