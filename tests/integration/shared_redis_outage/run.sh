#!/usr/bin/env bash
# shared_redis_outage — Redis away, then back empty, under registration load
# through both proxies; then Redis refusing writes (OOM): no binding that got
# its 200 (RFC 3261 §10.3) is lost, and routing never waits on Redis. Two
# proxies p1 (127.0.0.1) and p2 (127.0.0.11), SIP Server node n1 (sipsim on
# 127.0.0.21, its own users file), Redis on 127.0.0.1:P_REDIS without
# persistence, domain example.test.
#  1. N digest REGISTERs through p1 (endpoints on 127.0.0.2) and N through p2
#     (127.0.0.4), RATE/s each, all along steps 2-4;
#  2. Redis SIGKILLed: both proxies' /store say "down", with writes queued;
#     meanwhile REGISTERs still get their 200, and the SIP Server's call
#     through p2 to an endpoint registered through p1 before the outage is
#     answered (lookups come from memory);
#  3. 10 s later a new, empty redis-server on the same port, p2 held
#     (SIGSTOP) until p1 is live on it: p1 writes to the new Redis first (as
#     when one proxy reconnects sooner), so its logs exist when p2 looks.
#     Each proxy flushes its queue, finds Redis lost data (/store lost_data
#     >= 1), writes back the bindings it owns and loads the rest (live);
#  4. once the loads are over: every AOR that got a 200 through either proxy
#     is in p1, p2 and Redis, and all three hold the same bindings (AOR,
#     Call-ID, CSeq);
#  5. Redis out of memory (CONFIG SET maxmemory 1, noeviction): REGISTERs
#     through both proxies still get their 200, the writes get OOM errors
#     (/store write_errors grows) and wait; maxmemory lifted: they go through,
#     and again p1, p2 and Redis hold every AOR that got a 200, the same.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"
. "$IT_LIB_DIR/redis_lib.sh"

N=${IT_REG_COUNT:-500} RATE=${IT_REG_RATE:-25} OUTAGE=10 M=100
IT_REG_TIMEOUT=6000 # covers p2's pause in step 3
N1=127.0.0.21 EA=127.0.0.2 EB=127.0.0.4
: >"$IT_TMP/users.txt"
it_reg_users a "$N" "$P_UAS"
it_reg_users b "$N" "$P_UAS"
it_reg_users c "$M" "$P_UAS"
it_reg_users d "$M" "$P_UAS"
it_redis 0
it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$N1"
it_sim n1 $N1 active --users "$IT_TMP/users.txt"
it_shared_proxies
PROXY_PID=$PID_p2

# 1. the loads
it_reg_load loada 127.0.0.1 $EA "$P_UAC" "$IT_TMP/a.csv" "$N" "$RATE"
LA=$IT_LAST_PID
it_reg_load loadb 127.0.0.11 $EB "$P_UAC" "$IT_TMP/b.csv" "$N" "$RATE"
LB=$IT_LAST_PID
it_wait_lines "$IT_TMP/loada.ok" 50 20
it_wait_lines "$IT_TMP/loadb.ok" 50 20

# 2. Redis away
it_redis_stop 0
t_stop=$SECONDS
before=$(wc -l <"$IT_TMP/loada.ok")
it_log "Redis SIGKILLed after $before + $(wc -l <"$IT_TMP/loadb.ok") REGISTERs got their 200"
it_sipp_bg uas -sf "$IT_XML/uas_call.xml" -i $EA -p "$P_UAS" -t u1 -m 1
UAS=$IT_LAST_PID
it_wait_port udp $EA "$P_UAS" 5 "$UAS"
callee=$(awk 'NR == 1 { print $2 }' "$IT_TMP/loada.ok")
out=$(it_sim_ctl $N1 call "$callee@example.test" via "127.0.0.11:$P_PROXY" hold 200) ||
	it_fail "sipsim call command: $out"
# wait_down ADMIN NAME: /store says down with writes queued (prints queued)
wait_down() {
	local deadline=$((SECONDS + 5)) js
	while :; do
		js=$(curl -s "http://127.0.0.1:$1/store")
		"$IT_PY" -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(not (j["state"] == "down" and j["queued"] > 0)); ' "$js" &&
			{ "$IT_PY" -c 'import json,sys; print(json.loads(sys.argv[1])["queued"])' "$js"; return 0; }
		[ $SECONDS -ge $deadline ] && it_fail "$2: /store never down with writes queued: $js"
		sleep 0.1
	done
}
q1=$(wait_down "$P_ADMIN" p1)
q2=$(wait_down "$P_ADMIN2" p2)
it_wait_exit "$UAS" uas 10 || it_fail "the call through p2 during the outage did not reach $callee"
it_assert_eq "$(it_sipp_stat uas 'Successful call')" 1 "call through p2 while Redis is down"
[ "$(it_store "$P_ADMIN2" state)" = down ] || it_fail "Redis came back before the call was over"
it_log "Redis down: p1 queued $q1, p2 queued $q2 writes; the call to $callee through p2 answered"

# 3. Redis back, empty
while [ $SECONDS -lt $((t_stop + OUTAGE)) ]; do sleep 0.2; done
during=$(($(wc -l <"$IT_TMP/loada.ok") - before))
kill -STOP "$PID_p2"
it_redis 0
t_back=$SECONDS
it_wait_store "$P_ADMIN" state live 10
kill -CONT "$PID_p2"
it_log "p1 live on the new Redis after $((SECONDS - t_back)) s (p2 held meanwhile)"
it_wait_store "$P_ADMIN2" state live 10
for a in "$P_ADMIN" "$P_ADMIN2"; do
	[ "$(it_store "$a" lost_data)" -ge 1 ] || it_fail "admin $a: Redis came back empty, lost_data $(it_store "$a" lost_data)"
done
it_log "Redis back empty after $((t_back - t_stop)) s ($during REGISTERs through p1 got their 200 meanwhile);" \
	"live again within $((SECONDS - t_back)) s"
grep -h 'store_write_back' "$IT_TMP/p1.log" "$IT_TMP/p2.log" >&2 || true

# 4. the loads over: nothing lost
it_wait_exit "$LA" loada 60 || it_fail "the load through p1 failed (see loada.err.log)"
it_wait_exit "$LB" loadb 60 || it_fail "the load through p2 failed (see loadb.err.log)"
it_reg_ok loada loadb >"$IT_TMP/ok.txt"
it_assert_eq "$(wc -l <"$IT_TMP/ok.txt")" $((2 * N)) "REGISTERs answered 200 across the outage"
it_wait_holds "$IT_TMP/ok.txt" 5 "Redis after the outage" it_redis_regs 0
it_wait_same 5 "p1 and Redis" "it_regs $P_ADMIN" "it_redis_regs 0"
it_wait_same 5 "p2 and Redis" "it_regs $P_ADMIN2" "it_redis_regs 0"
it_log "outage over: the $((2 * N)) AORs in p1, p2 and Redis alike"

# 5. Redis refusing writes (OOM), then taking them again
e1=$(it_store "$P_ADMIN" write_errors) e2=$(it_store "$P_ADMIN2" write_errors)
it_rcli 0 config set maxmemory-policy noeviction >/dev/null
it_rcli 0 config set maxmemory 1 >/dev/null
it_reg_load loadc 127.0.0.1 $EA "$P_UAC" "$IT_TMP/c.csv" "$M" 50
LC=$IT_LAST_PID
it_reg_load loadd 127.0.0.11 $EB "$P_UAC" "$IT_TMP/d.csv" "$M" 50
LD=$IT_LAST_PID
deadline=$((SECONDS + 10))
until [ "$(it_store "$P_ADMIN" write_errors)" -gt "$e1" ] && [ "$(it_store "$P_ADMIN2" write_errors)" -gt "$e2" ]; do
	[ $SECONDS -ge $deadline ] && it_fail "no write error counted under OOM"
	sleep 0.1
done
it_wait_exit "$LC" loadc 30 || it_fail "REGISTERs through p1 failed while Redis was out of memory"
it_wait_exit "$LD" loadd 30 || it_fail "REGISTERs through p2 failed while Redis was out of memory"
oom1=$(($(it_store "$P_ADMIN" write_errors) - e1)) oom2=$(($(it_store "$P_ADMIN2" write_errors) - e2))
it_rcli 0 config set maxmemory 0 >/dev/null
it_assert_grep "$IT_TMP/p1.log" 'event=store_write_error .*reply="OOM' "p1: the OOM answer logged"
it_assert_grep "$IT_TMP/p2.log" 'event=store_write_error .*reply="OOM' "p2: the OOM answer logged"
it_reg_ok loadc loadd >"$IT_TMP/ok2.txt"
it_assert_eq "$(wc -l <"$IT_TMP/ok2.txt")" $((2 * M)) "REGISTERs answered 200 while Redis was out of memory"
sort -m "$IT_TMP/ok.txt" "$IT_TMP/ok2.txt" >"$IT_TMP/okall.txt"
it_wait_holds "$IT_TMP/okall.txt" 10 "Redis after OOM" it_redis_regs 0
it_wait_same 5 "p1 and Redis after OOM" "it_regs $P_ADMIN" "it_redis_regs 0"
it_wait_same 5 "p2 and Redis after OOM" "it_regs $P_ADMIN2" "it_redis_regs 0"
for a in "$P_ADMIN" "$P_ADMIN2"; do
	it_assert_eq "$(it_store "$a" writes_failed) $(it_store "$a" queued)" "0 0" "admin $a: writes failed, queued"
done
it_log "OOM: p1 counted $oom1, p2 $oom2 write errors; all $((2 * N + 2 * M)) AORs in p1, p2 and Redis"
it_pass
