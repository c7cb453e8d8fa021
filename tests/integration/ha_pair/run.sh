#!/usr/bin/env bash
# ha_pair — one SIP Server node as an HA pair (two sipsim members, no virtual
# IP) behind one proxy, OPTIONS probing every second (oos-check = oos-force = 1):
#  1. the configured primary answers: calls go to it;
#  2. it is demoted (answers 503) and the backup made active: probing moves the
#     traffic to the backup within 2*oos-check + oos-force + 1 s;
#  3. the active member is silenced (role dead): no member answers as active,
#     the pair goes out of service (log "HA pair unavailable") and calls get
#     503 with Retry-After; the other member turns active: back in service;
#  4. a request from the backup (it places a call) makes it the primary at once;
#  5. sipproxyctl node NAME out|in takes the node out by hand and back.
. "$(dirname "$0")/../lib.sh"
. "$IT_LIB_DIR/cluster_lib.sh"

M1=127.0.0.21 M2=127.0.0.22
it_cluster_def nodes="n1:$M1:$M2"
it_sim m1 "$M1" active --via-proxy "127.0.0.1:$P_PROXY"
it_sim m2 "$M2" backup --via-proxy "127.0.0.1:$P_PROXY"
it_cluster_proxy p1 "$P_ADMIN"
PROXY_PID=$PID_p1

calls() { # NAME COUNT: sipp calls from 127.0.0.2, all must succeed
	it_sipp_ok "$1" -sn uac -s 1000 "127.0.0.1:$P_PROXY" -i 127.0.0.2 -p "$P_UAC" -m "$2" -r 20
}

it_wait_primary "$P_ADMIN" n1 "UDP:$M1:$P_SIM" 5 >/dev/null
calls c1 10
it_assert_eq "$(it_sim_stat $M1 invites)" 10 "calls went to the configured primary"

# 2. demoted primary, promoted backup
it_sim_ctl $M1 role backup >/dev/null
it_sim_ctl $M2 role active >/dev/null
t=$(it_wait_primary "$P_ADMIN" n1 "UDP:$M2:$P_SIM" 4)
it_log "demotion found by probing in ${t}s"
calls c2 10
it_assert_eq "$(it_sim_stat $M2 invites)" 10 "calls went to the new primary"

# 3. silence: out of service, 503 with Retry-After, then back
it_sim_ctl $M2 role dead >/dev/null
it_wait_primary "$P_ADMIN" n1 none 6 >/dev/null
for i in $(seq 1 40); do grep -q "event=ha_pair_unavailable node=n1" "$IT_TMP/p1.log" && break; sleep 0.1; done
it_assert_grep "$IT_TMP/p1.log" 'event=ha_pair_unavailable node=n1 reason="HA pair unavailable' "logged"
it_mkreq "$IT_TMP/oos.sip" udp 127.0.0.2 INVITE "sip:1000@127.0.0.1:$P_PROXY" oos-1
it_send oos udp 127.0.0.2 "$IT_TMP/oos.sip" --wait 3 --count 1
it_assert_eq "$(it_status "$IT_TMP/oos.out")" 503 "no member in service: 503"
it_assert_grep "$IT_TMP/oos.out" "Retry-After: 5" "with Retry-After"
it_sim_ctl $M1 role active >/dev/null
it_wait_primary "$P_ADMIN" n1 "UDP:$M1:$P_SIM" 4 >/dev/null

# 4. the backup's own request: immediate switchover
it_sim_ctl $M2 role active >/dev/null
it_sipp_bg uas -sn uas -i 127.0.0.5 -p "$P_UAS" -m 1
it_wait_port udp 127.0.0.5 "$P_UAS" 5
it_sim_ctl $M2 call "sip:x@127.0.0.5:$P_UAS" count 1 hold 100 >/dev/null
t=$(it_wait_primary "$P_ADMIN" n1 "UDP:$M2:$P_SIM" 1)
it_log "backup's request switched the pair in ${t}s"
it_assert_grep "$IT_TMP/p1.log" 'event=node_state node=n1 state=active .*reason="request from member 2' "takeover logged"

# 5. by hand
"$SIPPROXY_BUILD_DIR/sipproxyctl" -a "127.0.0.1:$P_ADMIN" node n1 out >/dev/null
it_assert_eq "$(it_primary "$P_ADMIN" n1)" none "taken out"
"$SIPPROXY_BUILD_DIR/sipproxyctl" -a "127.0.0.1:$P_ADMIN" node n1 in >/dev/null
it_assert_eq "$(it_primary "$P_ADMIN" n1)" "UDP:$M2:$P_SIM" "back in"
"$SIPPROXY_BUILD_DIR/sipproxyctl" -a "127.0.0.1:$P_ADMIN" node nosuch out >/dev/null 2>&1 &&
	it_fail "an unknown node was accepted"
it_pass
