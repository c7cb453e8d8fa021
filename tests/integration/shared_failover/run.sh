#!/usr/bin/env bash
# shared_failover — a proxy of the cluster SIGKILLed under registration load
# loses no binding it acknowledged (RFC 3261 §10.3: a 200 to a REGISTER means
# the binding is stored): two proxies p1 (127.0.0.1) and p2 (127.0.0.11), one
# SIP Server node n1 (sipsim on 127.0.0.21, its own users file of N users),
# Redis on 127.0.0.1:P_REDIS, domain example.test. Every endpoint's Contact is
# its own address, 127.0.0.2:P_UAS (one sipp UAS answers for all).
#  1. N digest REGISTERs (UDP, N distinct AORs) through p1 at RATE/s;
#  2. once a third of them got their 200, p1 is SIGKILLed; the REGISTERs
#     after that get none (sipp gives each up after 3 s). Right after the
#     kill, before p2 can have found p1 dead (cluster.peer-check), the SIP
#     Server calls one of the AORs through p2: p2 sends the INVITE straight
#     to the endpoint's Contact over UDP, not through p1;
#  3. every AOR that got a 200 is held by p2 and is in Redis, and p2 holds
#     exactly what Redis holds (AOR, Call-ID, CSeq of each binding);
#  4. p2 finds p1 dead (OPTIONS, cluster.peer-check); the SIP Server's calls
#     through p2 to four more AORs registered through p1 reach the endpoint
#     the same way; all five calls are answered and ended (BYE 2xx);
#  5. the endpoints that got no 200 register again, through p2: now every AOR
#     is in p2 and in Redis;
#  6. p1 restarted loads the store from Redis (/store full_loads >= 1, state
#     live) and then holds exactly what p2 holds (every field of every
#     binding but its expiry and connection id), and what Redis holds.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"
. "$IT_LIB_DIR/redis_lib.sh"

N=${IT_REG_COUNT:-450} RATE=${IT_REG_RATE:-80} CALLS=5
N1=127.0.0.21 EP=127.0.0.2
: >"$IT_TMP/users.txt"
it_reg_users f "$N" "$P_UAS"
it_redis 0
it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$N1"
it_sim n1 $N1 active --users "$IT_TMP/users.txt"
it_shared_proxies
PROXY_PID=$PID_p2

# 1-2. the load through p1, p1 killed a third of the way
it_sipp_bg uas -sf "$IT_XML/uas_call.xml" -i $EP -p "$P_UAS" -t u1 -m $CALLS
UAS=$IT_LAST_PID
it_wait_port udp $EP "$P_UAS" 5 "$UAS"
# call AOR: the SIP Server calls AOR through p2
call() {
	local out
	out=$(it_sim_ctl $N1 call "${1#sip:}" via "127.0.0.11:$P_PROXY" hold 200) ||
		it_fail "sipsim call command: $out"
}
it_reg_load load "127.0.0.1" $EP "$P_UAC" "$IT_TMP/f.csv" "$N" "$RATE"
LOAD=$IT_LAST_PID
it_wait_lines "$IT_TMP/load.ok" $((N / 3)) 30
t_kill=$(date +%s.%N)
kill -KILL "$PID_p1"
wait "$PID_p1" 2>/dev/null || true
at_kill=$(wc -l <"$IT_TMP/load.ok")
first=$(awk 'NR == 1 { print "sip:" $2 "@example.test" }' "$IT_TMP/load.ok")
call "$first"
it_log "p1 SIGKILLed after $at_kill REGISTERs got their 200; $first called through p2 (p1 alive at p2: $(it_peer_alive "$P_ADMIN2" p1))"
rc=0
it_wait_exit "$LOAD" load 40 || rc=$?
it_reg_ok load >"$IT_TMP/ok.txt"
ok=$(wc -l <"$IT_TMP/ok.txt")
[ "$ok" -ge "$at_kill" ] && [ "$ok" -lt "$N" ] ||
	it_fail "the load (sipp exit $rc): $ok of $N REGISTERs got a 200; p1 was killed after $at_kill"
it_log "load over: $ok of $N REGISTERs through p1 got their 200"

# 3. nothing acknowledged is lost
it_wait_holds "$IT_TMP/ok.txt" 5 "p2 after p1's death" it_regs "$P_ADMIN2"
it_wait_holds "$IT_TMP/ok.txt" 5 "Redis after p1's death" it_redis_regs 0
it_wait_same 5 "p2 and Redis" "it_regs $P_ADMIN2" "it_redis_regs 0"
held=$(it_regs "$P_ADMIN2" | wc -l)
it_log "p2 and Redis hold the same $held bindings (>= the $ok acknowledged)"

# 4. p2 reaches endpoints registered through the dead p1
deadline=$((SECONDS + 5))
until [ "$(it_peer_alive "$P_ADMIN2" p1)" = false ]; do
	[ $SECONDS -ge $deadline ] && it_fail "p2 still takes p1 for alive 5 s after its death"
	sleep 0.1
done
ts=$(grep 'event=peer_down peer=p1' "$IT_TMP/p2.log" | tail -n 1 | sed 's/^ts=\([^ ]*\) .*/\1/')
it_log "p2 found p1 dead $(awk -v a="$t_kill" -v b="$(date -d "$ts" +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s after the kill"
for i in $(seq 2 $CALLS); do
	call "$(sed -n "$(((i - 1) * (ok - 1) / (CALLS - 1) + 1))p" "$IT_TMP/ok.txt")"
done
it_wait_exit "$UAS" uas 20 || it_fail "the UAS did not get its $CALLS calls through p2"
it_assert_eq "$(it_sipp_stat uas 'Successful call')" $CALLS "calls through p2 at the endpoint"
deadline=$((SECONDS + 5))
until [ "$(it_sim_stat $N1 calls_ok)" = $CALLS ]; do
	[ $SECONDS -ge $deadline ] && break
	sleep 0.1
done
it_assert_eq "$(it_sim_stat $N1 calls_ok) $(it_sim_stat $N1 calls_failed)" "$CALLS 0" \
	"SIP Server's calls through p2"
it_log "$CALLS calls through p2 reached endpoints registered through p1 (the first right after its death)"

# 5. the endpoints without a 200 register again, through p2
comm -13 <(sed 's/^sip:\(.*\)@example.test$/\1/' "$IT_TMP/ok.txt") \
	<(sed -n 's/^\([^;]*\);.*/\1/p' "$IT_TMP/f.csv" | sort) >"$IT_TMP/retry.users"
{ echo SEQUENTIAL; grep -F -f <(sed 's/$/;/' "$IT_TMP/retry.users") "$IT_TMP/f.csv"; } >"$IT_TMP/retry.csv"
retry=$(wc -l <"$IT_TMP/retry.users")
it_reg_load reload "127.0.0.11" $EP "$P_UAC2" "$IT_TMP/retry.csv" "$retry" 100
it_wait_exit "$IT_LAST_PID" reload 40 || it_fail "re-registering $retry endpoints through p2 failed"
it_assert_eq "$(it_reg_ok reload | wc -l)" "$retry" "endpoints registered again through p2"
sed -n 's/^\([^;]*\);.*/sip:\1@example.test/p' "$IT_TMP/f.csv" | sort >"$IT_TMP/all.txt"
it_wait_holds "$IT_TMP/all.txt" 5 "p2, every AOR" it_regs "$P_ADMIN2"
it_wait_same 5 "p2 and Redis, every AOR" "it_regs $P_ADMIN2" "it_redis_regs 0"
it_log "$retry endpoints registered again through p2: all $N AORs in p2 and Redis"

# 6. p1 back: a full load, then the same bindings as p2
mv "$IT_TMP/p1.log" "$IT_TMP/p1-killed.log"
it_cluster_proxy p1 "$P_ADMIN" extra="$STORE"
it_wait_store "$P_ADMIN" state live 10
[ "$(it_store "$P_ADMIN" full_loads)" -ge 1 ] || it_fail "p1 restarted without a full load"
it_wait_same 5 "p1 and p2 after p1's restart" "it_regs_full $P_ADMIN" "it_regs_full $P_ADMIN2"
it_wait_same 5 "p1 and Redis" "it_regs $P_ADMIN" "it_redis_regs 0"
it_log "p1 restarted: full load of $(it_store "$P_ADMIN" last_load_records) records in" \
	"$(it_store "$P_ADMIN" last_load_ms) ms, holds what p2 holds ($(it_regs "$P_ADMIN" | wc -l) bindings)"
it_pass
