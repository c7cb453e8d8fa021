#!/usr/bin/env bash
# ha_detect — how a switchover is found when there is no traffic to help: two
# proxies, p1 (127.0.0.1) and p2 (127.0.0.11), node n1 (sipsim members
# 127.0.0.21 and .22), no calls during the switch.
#  1. Probing alone (oos-check = oos-force = 1): the primary SIGKILLed, then
#     silenced (role dead), then demoted (503), the backup made active each
#     time: both proxies name the new primary within 2*oos-check + oos-force
#     + 1 = 4 s (the issue's bound; measured times logged), found by their
#     own OPTIONS ("probe: ... did not answer" / "answered 503").
#  2. Passive detection is sooner than probing can be: the definition is
#     reloaded with oos-check = oos-force = 5 (sipproxyctl reload: the node
#     keeps its state), the primary silenced and the backup made active, and
#     one call placed through p1. Probing cannot notice before an OPTIONS
#     times out, >= oos-check = 5 s after the silence; p1 switches when the
#     call's INVITE is unanswered for cluster.no-response-timeout (2 s) and
#     retries it on the new primary (the call succeeds); p2, which carries
#     no traffic, switches later, by probing, within 2*5 + 5 + 1 = 16 s.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"

M1=127.0.0.21 M2=127.0.0.22
it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$M1:$M2"
it_sim m1 "$M1" active
it_sim m2 "$M2" backup
it_cluster_proxy p1 "$P_ADMIN"
it_cluster_proxy p2 "$P_ADMIN2"
PROXY_PID=$PID_p1
it_wait_primary "$P_ADMIN" n1 "UDP:$M1:$P_SIM" 5 >/dev/null
it_wait_primary "$P_ADMIN2" n1 "UDP:$M1:$P_SIM" 5 >/dev/null

# watch NAME BOUND ACTION...: the actions, then both proxies must name
# NEW_IP's member primary within BOUND s; sets TIMES ("p1=S p2=S").
watch() {
	local name=$1 bound=$2 want="UDP:$NEW_IP:$P_SIM" a acts=()
	shift 2
	for a in "$@"; do acts+=(--act "$a"); done
	TIMES=$("$IT_PY" "$IT_LIB_DIR/hawatch.py" "${acts[@]}" --poll 20 --timeout "$bound" \
		--primary "p1=127.0.0.1:$P_ADMIN=$want" --primary "p2=127.0.0.1:$P_ADMIN2=$want") ||
		it_fail "$name: n1 not on $NEW_IP within ${bound}s: $TIMES"
}

# 1. probing alone
quiet() { # WAY OLD OLD_IP NEW_IP
	local way=$1 old=$2 n1 n2
	OLD_IP=$3 NEW_IP=$4
	n1=$(wc -l <"$IT_TMP/p1.log") n2=$(wc -l <"$IT_TMP/p2.log")
	case $way in
	kill) local pv="SIMPID_$old"
		watch "$way" 4 "kill ${!pv}" "ctl $NEW_IP:$P_SIM_CTL role active"
		it_sim "$old" "$OLD_IP" backup ;;
	dead) watch "$way" 4 "ctl $OLD_IP:$P_SIM_CTL role dead" "ctl $NEW_IP:$P_SIM_CTL role active"
		it_sim_ctl "$OLD_IP" role backup >/dev/null ;;
	demote) watch "$way" 4 "ctl $NEW_IP:$P_SIM_CTL role active" "ctl $OLD_IP:$P_SIM_CTL role backup" ;;
	esac
	it_log "probing alone, $way $OLD_IP -> $NEW_IP: $TIMES (s)"
	it_log "  p1: $(it_ha_reasons p1 "$n1")"
	it_log "  p2: $(it_ha_reasons p2 "$n2")"
	local r
	for r in "$(it_ha_reasons p1 "$n1")" "$(it_ha_reasons p2 "$n2")"; do
		case $r in probe:*) ;; *) it_fail "$way: not found by probing: $r" ;; esac
	done
}
quiet kill m1 "$M1" "$M2"
quiet dead m2 "$M2" "$M1"
quiet demote m1 "$M1" "$M2"

# 2. passive detection (one call) against probing every 5 s
it_cluster_def proxies="p1:127.0.0.1 p2:127.0.0.11" nodes="n1:$M1:$M2" \
	node_opts='oos-check = 5; oos-force = 5;'
for a in "$P_ADMIN" "$P_ADMIN2"; do
	"$SIPPROXY_BUILD_DIR/sipproxyctl" -a "127.0.0.1:$a" reload >/dev/null || it_fail "reload refused"
done
sleep 1.5 # the probe timers armed at 1 s have fired: the next ones are 5 s apart
it_assert_eq "$(it_primary "$P_ADMIN" n1)" "UDP:$M2:$P_SIM" "n1 kept its state on reload"
n1=$(wc -l <"$IT_TMP/p1.log") n2=$(wc -l <"$IT_TMP/p2.log")
want="UDP:$M1:$P_SIM"
"$IT_PY" "$IT_LIB_DIR/hawatch.py" --act "ctl $M2:$P_SIM_CTL role dead" \
	--act "ctl $M1:$P_SIM_CTL role active" --poll 20 --timeout 16 \
	--primary "p1=127.0.0.1:$P_ADMIN=$want" --primary "p2=127.0.0.1:$P_ADMIN2=$want" \
	>"$IT_TMP/watch.out" 2>&1 &
wpid=$!
sleep 0.2
it_sipp_ok call -sn uac -s 1000 "127.0.0.1:$P_PROXY" -i 127.0.0.2 -p "$P_UAC" -m 1
wait "$wpid" || it_fail "passive: n1 not on $M1 within 16 s: $(cat "$IT_TMP/watch.out")"
TIMES=$(cat "$IT_TMP/watch.out")
it_log "passive (one call through p1) vs probing every 5 s: $TIMES (s)"
it_log "  p1: $(it_ha_reasons p1 "$n1")"
it_log "  p2: $(it_ha_reasons p2 "$n2")"
t1=$(sed -n 's/.*p1=\([0-9.]*\).*/\1/p' <<<"$TIMES")
t2=$(sed -n 's/.*p2=\([0-9.]*\).*/\1/p' <<<"$TIMES")
awk -v a="$t1" 'BEGIN { exit !(a < 5) }' || it_fail "p1 took ${t1}s: no sooner than probing could"
awk -v b="$t2" 'BEGIN { exit !(b >= 5) }' || it_fail "p2 took ${t2}s without traffic: faster than a probe can time out?"
case $(it_ha_reasons p1 "$n1") in "passive: no response from member 2"*) ;;
*) it_fail "p1 did not switch by passive detection" ;; esac
case $(it_ha_reasons p2 "$n2") in "probe: member 2 did not answer"*) ;;
*) it_fail "p2 did not switch by probing" ;; esac
it_assert_eq "$(it_sim_stat "$M1" invites)" 1 "the call's INVITE retried on the new primary"

it_alive "$PID_p2" p2
it_pass
