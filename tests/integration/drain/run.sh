#!/usr/bin/env bash
# drain — SIGTERM (README "Running it"): the proxy stops taking new work and
# exits as soon as no transaction can still send a message upstream or
# downstream; transactions that only wait out their absorb timers (RFC 3261
# §17: Timers D, I, J, K; RFC 6026: L, M) do not hold it. With T1 = 2 s those
# timers run for 128 s, far beyond shutdown-timeout = 20 s: a proxy that waited
# for them would log result=timeout. A request still unanswered at SIGTERM is
# waited for: its late answer is relayed, then the proxy exits (result=idle).
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp" t1=2000 shutdown=20 noresp=0
it_sink server "$A_UAS" "$P_UAS" OPTIONS,MESSAGE --delay 3 --delay-match late
it_proxy_start

# answered requests: their transactions now only absorb retransmissions
for i in 1 2 3; do
	it_mkreq "$IT_TMP/m$i.sip" udp "$A_UAC" MESSAGE "sip:bob@$A_UAS:$P_UAS" "drain-$i"
	it_send "m$i" udp "$A_UAC" "$IT_TMP/m$i.sip" --wait 2 --count 1
	it_assert_eq "$(it_status "$IT_TMP/m$i.out")" 200 "MESSAGE $i answered"
done
# one request the server answers only 3 s later, in flight at SIGTERM
it_mkreq "$IT_TMP/late.sip" udp "$A_UAC" MESSAGE "sip:bob@$A_UAS:$P_UAS" "drain-late"
IT_SEND_PORT=$P_UAC2 it_send late udp "$A_UAC" "$IT_TMP/late.sip" --wait 10 --count 1 &
SENDER=$!
for i in $(seq 1 50); do grep -q "drain-late" "$IT_TMP/server.out" && break; sleep 0.1; done
it_assert_grep "$IT_TMP/server.out" "drain-late" "the late MESSAGE reached the server"
kill -TERM "$PROXY_PID"
wait "$SENDER" || true
it_assert_eq "$(it_status "$IT_TMP/late.out")" 200 "the answer in flight at SIGTERM was relayed"
rc=0
for i in $(seq 1 150); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PROXY_PID" 2>/dev/null && it_fail "still running 15 s after SIGTERM"
wait "$PROXY_PID" || rc=$?
it_assert_eq "$rc" 0 "exit status after SIGTERM"
it_assert_grep "$IT_TMP/proxy.log" "event=drained result=idle" "drain ended on its own"
it_assert_nogrep "$IT_TMP/proxy.log" "event=drained result=timeout" "drain did not wait out the absorb timers"
PROXY_PID=""
it_pass
