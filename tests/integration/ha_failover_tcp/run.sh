#!/usr/bin/env bash
# ha_failover_tcp — ha_failover with the node reached over TCP (transport
# "tcp"; the endpoints stay on UDP): two proxies, 20 calls/s through each,
# calls held 5 s, probing every second, passive detection at 1000 ms. Over
# TCP a SIGKILLed primary resets its connections, a transport error that
# passive detection takes at once; a silenced one (role dead) keeps them open
# and says nothing, so the no-response timeout finds it; a demoted one
# answers 503; a backup's own request (a call over TCP, from a port of its
# choosing: its IP names it) makes it the primary. Same proofs as
# ha_failover: both proxies name the new primary and new calls reach it
# within 2*oos-check + oos-force + 1 = 4 s (a request: 1 s), no call fails,
# the BYEs of the calls set up before the switch reach the new primary, and
# the old member gets no INVITE and no BYE once the requests in flight at
# the switch are over.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"

M1=127.0.0.21 M2=127.0.0.22
IT_HA_PROTO=TCP IT_NORESP_MS=1000
it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$M1:$M2" \
	node_opts='oos-check = 1; oos-force = 1; transport = "tcp";' \
	opts="no-response-timeout = $IT_NORESP_MS;"
IT_SIM_ARGS=(--via-proxy "127.0.0.1:$P_PROXY" --transport tcp)
it_sim m1 "$M1" active "${IT_SIM_ARGS[@]}"
it_sim m2 "$M2" backup "${IT_SIM_ARGS[@]}"
it_cluster_proxy p1 "$P_ADMIN"
it_cluster_proxy p2 "$P_ADMIN2"
PROXY_PID=$PID_p1
it_wait_primary "$P_ADMIN" n1 "TCP:$M1:$P_SIM" 5 >/dev/null
it_wait_primary "$P_ADMIN2" n1 "TCP:$M1:$P_SIM" 5 >/dev/null

it_switchover kill m1 "$M1" m2 "$M2"
it_switchover dead m2 "$M2" m1 "$M1"
it_switchover demote m1 "$M1" m2 "$M2"
it_switchover request m2 "$M2" m1 "$M1"

it_alive "$PID_p2" p2
it_pass
