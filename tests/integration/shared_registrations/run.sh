#!/usr/bin/env bash
# shared_registrations — one registration store for the cluster (Redis): two
# proxies p1 (127.0.0.1) and p2 (127.0.0.11), one SIP Server node n1 (sipsim on
# 127.0.0.21), Redis on 127.0.0.1:P_REDIS, domain example.test.
#  1. 1001 registers through p1 (digest, UDP); p2 holds the binding too, and
#     the SIP Server reaches 1001 through p2 (a call to a sipp UAS at the
#     endpoint's Contact);
#  2. 1002 (tests/integration/registrar/endpoint.py) registers through p1 over
#     TCP: p2 sends the call to p1, which holds the connection, and p1 sends it
#     down the flow; the BYE takes the same way (the route set names p2 with
#     p1's flow token: the proxies share cluster.secret); both calls end with
#     a 2xx to the SIP Server's BYE;
#  3. the same AOR (bob) registered through p1 and p2 at once (two contacts, one
#     REGISTER each, in parallel, 20 times over): both proxies and Redis hold
#     every contact;
#  4. a removal (Expires 0) through p2 of a binding made through p1: gone at
#     both.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"
. "$IT_LIB_DIR/redis_lib.sh"

N1=127.0.0.21 EP=127.0.0.2
it_redis 0
it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$N1"
it_sim n1 $N1 active
it_shared_proxies

# reg NAME PROXY_IP TRANSPORT USER CONTACT_PORT [EXPIRES]: one digest REGISTER
reg() {
	local name=$1 ip=$2 tp=$3 user=$4 cport=$5 exp=${6:-600}
	printf 'SEQUENTIAL\n%s;example.test;%s;[authentication username=%s password=%spass];%s\n' "$user" "$cport" "$user" "$user" "$exp" >"$IT_TMP/$name.csv"
	it_sipp_ok "$name" -sf "$IT_XML/register_at.xml" -inf "$IT_TMP/$name.csv" -i $EP \
		-p "$P_UAC" -t "$tp" -m 1 "$ip:$P_PROXY"
}
# wait_contacts ADMIN AOR WANT SECONDS: the proxy holds exactly WANT (sorted, space-separated)
wait_contacts() {
	local deadline=$((SECONDS + $4)) got
	while :; do
		got=$(it_contacts "$1" "$2" 2>/dev/null | tr '\n' ' ' | sed 's/ $//' || true)
		[ "$got" = "$3" ] && return 0
		[ $SECONDS -ge $deadline ] && it_fail "admin $1: $2 has '$got', want '$3'"
		sleep 0.05
	done
}

# 1. through p1, reached through p2
reg reg1001 127.0.0.1 u1 1001 "$P_UAS"
wait_contacts "$P_ADMIN" sip:1001@example.test "sip:1001@$EP:$P_UAS" 1
wait_contacts "$P_ADMIN2" sip:1001@example.test "sip:1001@$EP:$P_UAS" 5
it_sipp_bg uas1001 -sf "$IT_XML/uas_call.xml" -i $EP -p "$P_UAS" -t u1 -m 1
out=$(it_sim_ctl $N1 call 1001@example.test via "127.0.0.11:$P_PROXY" hold 200) ||
	it_fail "sipsim call command: $out"
it_wait_exit "$IT_LAST_PID" uas1001 15 || it_fail "the call through p2 did not reach 1001"
it_assert_eq "$(it_sipp_stat uas1001 'Successful call')" 1 "call to 1001 through p2"
it_log "1001: registered through p1, reached through p2"

# 2. over TCP through p1: p1 holds the connection, so p2 sends the call to p1
EPY="python3 $SIPPROXY_SOURCE_DIR/tests/integration/registrar/endpoint.py"
it_start ep1002 $EPY --proto tcp --local "$EP:$P_UAC2" --proxy "127.0.0.1:$P_PROXY" --user 1002 \
	--password 1002pass --domain example.test --answer 1 --timeout 40
EP1002=$IT_LAST_PID
for _ in $(seq 1 100); do grep -q register=200 "$IT_TMP/ep1002.log" && break; sleep 0.1; done
it_assert_grep "$IT_TMP/ep1002.log" register=200 "1002 registered over TCP"
wait_contacts "$P_ADMIN2" sip:1002@example.test "sip:1002@$EP:$P_UAC2;transport=tcp" 5
out=$(it_sim_ctl $N1 call 1002@example.test via "127.0.0.11:$P_PROXY" hold 200) ||
	it_fail "sipsim call command: $out"
it_wait_exit "$EP1002" ep1002 20 || it_fail "the endpoint on TCP did not end its call: $(cat "$IT_TMP/ep1002.log")"
it_assert_grep "$IT_TMP/ep1002.log" "invite=answered" "the INVITE through p2 came down 1002's connection to p1"
it_assert_grep "$IT_TMP/ep1002.log" "bye=1" "and its BYE"
# both calls ended with a 2xx to the SIP Server's BYE (through p2, then p1 for 1002)
for _ in $(seq 1 50); do [ "$(it_sim_stat $N1 calls_ok)" = 2 ] && break; sleep 0.1; done
it_assert_eq "$(it_sim_stat $N1 calls_ok) $(it_sim_stat $N1 calls_failed)" "2 0" \
	"SIP Server's calls (INVITE 2xx and BYE 2xx)"
it_log "1002: on TCP to p1, reached through p2 via p1"

# 3. one AOR (bob) through both proxies at once: no contact lost
for round in $(seq 1 20); do
	printf 'SEQUENTIAL\nbob;example.test;%s;[authentication username=bob password=bob-secret];600\n' \
		$((P_UAS + round)) >"$IT_TMP/a$round.csv"
	printf 'SEQUENTIAL\nbob;example.test;%s;[authentication username=bob password=bob-secret];600\n' \
		$((P_UAS + 40 + round)) >"$IT_TMP/b$round.csv"
	it_sipp_bg "ra$round" -sf "$IT_XML/register_at.xml" -inf "$IT_TMP/a$round.csv" -i $EP \
		-p "$P_UAC" -t u1 -m 1 "127.0.0.1:$P_PROXY"
	A=$IT_LAST_PID
	it_sipp_bg "rb$round" -sf "$IT_XML/register_at.xml" -inf "$IT_TMP/b$round.csv" -i 127.0.0.4 \
		-p "$P_UAC" -t u1 -m 1 "127.0.0.11:$P_PROXY"
	B=$IT_LAST_PID
	it_wait_exit "$A" "ra$round" 20 || it_fail "round $round: REGISTER through p1 failed"
	it_wait_exit "$B" "rb$round" 20 || it_fail "round $round: REGISTER through p2 failed"
done
want=$(for round in $(seq 1 20); do
	echo "sip:bob@$EP:$((P_UAS + round))"
	echo "sip:bob@127.0.0.4:$((P_UAS + 40 + round))"
done | sort | tr '\n' ' ' | sed 's/ $//')
wait_contacts "$P_ADMIN" sip:bob@example.test "$want" 5
wait_contacts "$P_ADMIN2" sip:bob@example.test "$want" 5
it_assert_eq "$(it_redis_groups 0 r | grep -c '^sip:bob@example.test ')" 40 \
	"Redis holds all 40 contacts of bob"
it_log "bob: 40 contacts registered 20 pairs at a time through both proxies, none lost"

# 4. a removal through p2 of a binding made through p1
reg unreg1001 127.0.0.11 u1 1001 "$P_UAS" 0
wait_contacts "$P_ADMIN" sip:1001@example.test "" 5
wait_contacts "$P_ADMIN2" sip:1001@example.test "" 5
it_assert_eq "$(it_redis_groups 0 r | grep -c '^sip:1001@example.test ')" 0 \
	"1001's group is gone from Redis"
it_pass
