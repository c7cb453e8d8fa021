#!/usr/bin/env bash
# abuse — the proxy under attack stays up and keeps serving (RFC 3261 §26, §18.3):
# 1,500 idle TCP connections and 100 slow senders from an untrusted host
# (127.0.0.5), connections past sip.tcp-max-connections, and 20,000 garbage or
# truncated datagrams. Meanwhile and afterwards real calls complete; idle and
# dribbling connections are closed after sip.tcp-idle-timeout; the refusals, idle
# closes and parse errors show in /metrics.
. "$(dirname "$0")/../lib.sh"

CTL=$SIPPROXY_BUILD_DIR/sipproxyctl
it_need_bin "$CTL"
it_proxy_conf servers="$A_UAS:$P_UAS:udp"
sed -i 's/^sip = { /sip = { tcp-max-connections = 1200; tcp-idle-timeout = 3; /' "$IT_TMP/proxy.conf"
sed -i 's/sip-trace = true/sip-trace = false/' "$IT_TMP/proxy.conf"
it_proxy_start
export SIPPROXY_ADMIN=127.0.0.1:$P_ADMIN
it_start abuse python3 "$IT_SCEN_DIR/abuse.py" --proxy "$A_PROXY:$P_PROXY" --hold 2
ABUSE=$IT_LAST_PID
for i in $(seq 1 200); do grep -q garbage_sent "$IT_TMP/abuse.log" && break; sleep 0.1; done
it_assert_grep "$IT_TMP/abuse.log" "garbage_sent=" "the attack ran"
# calls still go through while the attacker's connections are open
it_call during 10 u1 u1
it_proxy_alive
it_wait_exit "$ABUSE" abuse 30 || true
"$CTL" metrics >"$IT_TMP/metrics.txt"
val() { awk -v m="$1" '$1 == m { print int($2) }' "$IT_TMP/metrics.txt"; }
[ "$(val sipproxy_tcp_connections_refused_total)" -gt 0 ] || it_fail "no connection refused at the cap"
[ "$(val sipproxy_parse_errors_total)" -gt 1000 ] || it_fail "garbage not counted as parse errors"
# idle and dribbling connections go after tcp-idle-timeout (3 s)
for i in $(seq 1 100); do
	"$CTL" metrics >"$IT_TMP/metrics.txt"
	[ "$(val sipproxy_tcp_connections_open)" -lt 50 ] && break
	sleep 0.1
done
[ "$(val sipproxy_tcp_connections_open)" -lt 50 ] ||
	it_fail "idle connections not closed: $(val sipproxy_tcp_connections_open) open"
[ "$(val sipproxy_tcp_connections_idle_closed_total)" -gt 1000 ] || it_fail "idle closes not counted"
rm -f "$IT_TMP"/uas.* "$IT_TMP"/uac.*
it_call after 10 t1 u1
it_proxy_alive
it_pass
