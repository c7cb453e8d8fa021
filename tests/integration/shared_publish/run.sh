#!/usr/bin/env bash
# shared_publish — one cluster definition, live: proxies p1 (127.0.0.1) and
# p2 (127.0.0.11) share Redis; their files name node n1 (sipsim 127.0.0.21).
#  1. `sipproxyctl cluster publish FILE` to p1 with n1 and a new node n2
#     (127.0.0.22): both proxies show n2 in /nodes (the time it took is
#     logged), then active (probed);
#  2. a definition with a syntax error, and one whose proxies list does not
#     name p1, are refused by p1 with "published:LINE: ..." and exit status
#     1, nothing is stored (the Redis record is unchanged) and /nodes stays;
#  3. p2 killed and restarted on its file (n1 only): once it has loaded the
#     store it runs the published definition (n2 in /nodes).
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"
. "$IT_LIB_DIR/redis_lib.sh"

N1=127.0.0.21 N2=127.0.0.22 EP=127.0.0.2
it_redis 0
it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$N1"
cp "$IT_TMP/cluster.conf" "$IT_TMP/cluster-file.conf"
it_sim n1 $N1 active
it_sim n2 $N2 active
it_shared_proxies
CTL="$SIPPROXY_BUILD_DIR/sipproxyctl"
it_assert_eq "$(it_node_field "$P_ADMIN2" n2 state)" absent "p2 starts without n2"

# the published definitions: it_cluster_def writes cluster.conf, kept aside
it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$N1 n2:$N2"
mv "$IT_TMP/cluster.conf" "$IT_TMP/two-nodes.conf"
cp "$IT_TMP/cluster-file.conf" "$IT_TMP/cluster.conf" # what the proxies' files include
# record: the stored definition's value in Redis ("" when none)
record() { it_rcli 0 --scan --pattern 'sp:{*}:c:*' | while read -r k; do it_rcli 0 hget "$k" definition | md5sum; done; }

# 1. publish through p1, applied by both
t0=$(date +%s.%N)
$CTL -a "127.0.0.1:$P_ADMIN" cluster publish "$IT_TMP/two-nodes.conf" >"$IT_TMP/pub1.out" ||
	it_fail "publish refused: $(cat "$IT_TMP/pub1.out")"
it_assert_grep "$IT_TMP/pub1.out" "^stored" "publish answer"
for admin in "$P_ADMIN" "$P_ADMIN2"; do
	for _ in $(seq 1 100); do [ "$(it_node_field "$admin" n2 state)" != absent ] && break; sleep 0.02; done
done
it_log "published n2: in both proxies' /nodes after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
it_wait_node "$P_ADMIN2" n2 state active 5 >/dev/null
it_wait_node "$P_ADMIN" n2 state active 5 >/dev/null
before=$(record)
[ -n "$before" ] || it_fail "no definition stored in Redis"

# 2. bad definitions are refused before they are stored
printf 'cluster = {\n  proxies = ( { name = "p1"; sip-address = "127.0.0.1"; }\n  oops\n};\n' >"$IT_TMP/bad-syntax.conf"
rc=0
$CTL -a "127.0.0.1:$P_ADMIN" cluster publish "$IT_TMP/bad-syntax.conf" >"$IT_TMP/pub2.out" 2>&1 || rc=$?
it_assert_eq "$rc" 1 "sipproxyctl status for a syntax error"
it_assert_grep "$IT_TMP/pub2.out" "refused: published:[0-9]+: syntax" "the error names the line"
it_cluster_def proxies="p9:127.0.0.9 p2:127.0.0.11" nodes="n1:$N1"
mv "$IT_TMP/cluster.conf" "$IT_TMP/without-p1.conf"
cp "$IT_TMP/cluster-file.conf" "$IT_TMP/cluster.conf"
rc=0
$CTL -a "127.0.0.1:$P_ADMIN" cluster publish "$IT_TMP/without-p1.conf" >"$IT_TMP/pub3.out" 2>&1 || rc=$?
it_assert_eq "$rc" 1 "sipproxyctl status for a definition without p1"
it_assert_grep "$IT_TMP/pub3.out" 'refused: published:[0-9]+: cluster.proxies: this proxy "p1" is not in the cluster definition; not applied' "p1 not in it"
it_assert_eq "$(record)" "$before" "nothing stored for a refused definition"
it_assert_eq "$(it_node_field "$P_ADMIN" n2 state)" active "p1 keeps the published definition"
it_assert_eq "$(it_node_field "$P_ADMIN2" n2 state)" active "p2 keeps it"

# 3. a restarted proxy takes the published definition over its file
kill -KILL "$PID_p2"
wait "$PID_p2" 2>/dev/null || true
it_cluster_proxy p2 "$P_ADMIN2" extra="$STORE"
it_wait_store "$P_ADMIN2" state live 10
it_wait_node "$P_ADMIN2" n2 state active 5 >/dev/null
it_log "p2 restarted on its file (n1 only) runs the published definition (n2)"
it_pass
