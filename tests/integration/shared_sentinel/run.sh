#!/usr/bin/env bash
# shared_sentinel — the shared store's Redis master SIGKILLed under
# registration load, Redis Sentinel failing over to a replica: both proxies
# follow it and no binding that got its 200 (RFC 3261 §10.3) is lost. Two
# proxies p1 (127.0.0.1) and p2 (127.0.0.11), SIP Server node n1 (sipsim on
# 127.0.0.21, its own users file), domain example.test; redis-server 0 the
# master, 1 and 2 its replicas, three sentinels (quorum 2, down after 1 s);
# the proxies know only the sentinels (store.redis-sentinels).
#  1. the sentinels know each other and both replicas; both proxies are live
#     on server 0, the master the sentinels name (GET /store master);
#  2. N digest REGISTERs through p1 (endpoints on 127.0.0.2) and N through p2
#     (127.0.0.4), RATE/s each;
#  3. once a third got their 200, server 0 is SIGKILLed; the sentinels
#     promote a replica; both proxies' /store name it as master and are live
#     again (the time from the kill is printed; bound 20 s);
#  4. the loads over, with REGISTERs that went unanswered meanwhile retried
#     by their endpoints (once more, through the same proxy): every AOR that
#     got a 200 is in both proxies and in the new master, and all three hold
#     the same bindings (AOR, Call-ID, CSeq); the other replica follows the
#     new master and holds them too.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"
. "$IT_LIB_DIR/redis_lib.sh"

N=${IT_REG_COUNT:-300} RATE=${IT_REG_RATE:-40}
N1=127.0.0.21 EA=127.0.0.2 EB=127.0.0.4
: >"$IT_TMP/users.txt"
it_reg_users a "$N" "$P_UAS"
it_reg_users b "$N" "$P_UAS"
it_redis 0
it_redis 1 --replicaof 127.0.0.1 "$P_REDIS"
it_redis 2 --replicaof 127.0.0.1 "$P_REDIS"
for i in 0 1 2; do it_sentinel $i 0 2; done

# sentinel_field I FIELD: one field of sentinel I's view of the master
sentinel_field() {
	redis-cli -p $((P_SENTINEL + $1)) sentinel master sipproxy 2>/dev/null |
		awk -v f="$2" 'prev == f { print; exit } { prev = $0 }'
}
# sentinel_master I: the port of the master sentinel I names
sentinel_master() {
	redis-cli -p $((P_SENTINEL + $1)) sentinel get-master-addr-by-name sipproxy 2>/dev/null | sed -n 2p
}
deadline=$((SECONDS + 15))
for i in 0 1 2; do
	until [ "$(sentinel_field $i num-other-sentinels)" = 2 ] && [ "$(sentinel_field $i num-slaves)" = 2 ]; do
		[ $SECONDS -ge $deadline ] &&
			it_fail "sentinel $i: $(sentinel_field $i num-other-sentinels) other sentinels, $(sentinel_field $i num-slaves) replicas"
		sleep 0.1
	done
done
it_log "sentinels ready: each knows the two others and both replicas"

it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$N1"
it_sim n1 $N1 active --users "$IT_TMP/users.txt"
it_shared_proxies sentinels='0 1 2'
PROXY_PID=$PID_p2
for a in "$P_ADMIN" "$P_ADMIN2"; do
	it_assert_eq "$(it_store "$a" master)" "127.0.0.1:$P_REDIS" "admin $a: the master before the failover"
done

# 2-3. the loads; the master killed a third of the way
it_reg_load loada 127.0.0.1 $EA "$P_UAC" "$IT_TMP/a.csv" "$N" "$RATE"
LA=$IT_LAST_PID
it_reg_load loadb 127.0.0.11 $EB "$P_UAC" "$IT_TMP/b.csv" "$N" "$RATE"
LB=$IT_LAST_PID
it_wait_lines "$IT_TMP/loada.ok" $((N / 3)) 20
t0=$(date +%s.%N)
it_redis_stop 0
it_log "master (server 0) SIGKILLed after $(wc -l <"$IT_TMP/loada.ok") + $(wc -l <"$IT_TMP/loadb.ok") REGISTERs got their 200"
deadline=$((SECONDS + 20))
until m=$(sentinel_master 0) && [ -n "$m" ] && [ "$m" != "$P_REDIS" ]; do
	[ $SECONDS -ge $deadline ] && it_fail "the sentinels did not fail over within 20 s"
	sleep 0.05
done
t_sw=$(date +%s.%N)
new=$((m - P_REDIS)) other=$((3 - m + P_REDIS))
# store_at ADMIN: "STATE MASTER" of the proxy's /store (one request)
store_at() {
	curl -s "http://127.0.0.1:$1/store" | "$IT_PY" -c '
import json, sys
j = json.load(sys.stdin)
print(j["state"], j["master"])'
}
# since_kill PROXY: seconds from the kill to PROXY's last redis_up (its log)
since_kill() {
	local ts
	ts=$(grep 'event=redis_up' "$IT_TMP/$1.log" | tail -n 1 | sed 's/^ts=\([^ ]*\) .*/\1/')
	awk -v a="$t0" -v b="$(date -d "$ts" +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
}
for a in "$P_ADMIN" "$P_ADMIN2"; do
	until [ "$(store_at "$a")" = "live 127.0.0.1:$m" ]; do
		[ $SECONDS -ge $deadline ] &&
			it_fail "admin $a: /store '$(store_at "$a")', not live on 127.0.0.1:$m, 20 s after the kill"
		sleep 0.05
	done
done
it_log "failover to server $new (port $m): sentinels switched after" \
	"$(awk -v a="$t0" -v b="$t_sw" 'BEGIN { printf "%.2f", b - a }') s; p1 connected to it after" \
	"$(since_kill p1) s, p2 after $(since_kill p2) s; both live"

# 4. the loads over; unanswered REGISTERs tried once more
it_wait_exit "$LA" loada 60 || true
it_wait_exit "$LB" loadb 60 || true
# retry NAME CSV PROXY_IP EP: the users of CSV without a 200 in NAME.ok, again
retry() {
	local name=$1 csv=$2 ip=$3 ep=$4 n
	awk '$1 == "200" { print $2 ";" }' "$IT_TMP/$name.ok" >"$IT_TMP/$name.got"
	{ echo SEQUENTIAL; sed 1d "$csv" | grep -v -F -f "$IT_TMP/$name.got" || true; } >"$IT_TMP/$name-retry.csv"
	n=$(($(wc -l <"$IT_TMP/$name-retry.csv") - 1))
	it_log "$name: $n REGISTERs without a 200, tried again"
	[ "$n" = 0 ] && { : >"$IT_TMP/$name-retry.ok"; return 0; }
	it_reg_load "$name-retry" "$ip" "$ep" "$P_UAC" "$IT_TMP/$name-retry.csv" "$n" 50
	it_wait_exit "$IT_LAST_PID" "$name-retry" 30 || it_fail "$name: REGISTERs tried again failed"
}
retry loada "$IT_TMP/a.csv" 127.0.0.1 $EA
retry loadb "$IT_TMP/b.csv" 127.0.0.11 $EB
it_reg_ok loada loadb loada-retry loadb-retry >"$IT_TMP/ok.txt"
it_assert_eq "$(wc -l <"$IT_TMP/ok.txt")" $((2 * N)) "AORs registered (200) through the failover"
it_wait_holds "$IT_TMP/ok.txt" 5 "the new master" it_redis_regs $new
it_wait_same 5 "p1 and the new master" "it_regs $P_ADMIN" "it_redis_regs $new"
it_wait_same 5 "p2 and the new master" "it_regs $P_ADMIN2" "it_redis_regs $new"
it_wait_same 10 "the other replica and the new master" "it_redis_regs $other" "it_redis_regs $new"
for a in "$P_ADMIN" "$P_ADMIN2"; do
	it_log "admin $a: $(curl -s "http://127.0.0.1:$a/store")"
done
it_log "all $((2 * N)) AORs in p1, p2, the new master and its replica"
it_pass
