#!/usr/bin/env bash
# cancel — RFC 3261 §16.10 (CANCEL processing) and §9: 10 calls INVITE / 180 /
# CANCEL from the UAC; the proxy answers the CANCEL 200 and CANCELs its own client
# transaction toward the SIP Server (same branch as the INVITE it sent); the server's
# 487 reaches the UAC, whose ACK is absorbed (hop-by-hop, §17.1.1.3).
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
it_proxy_start
it_sipp_bg uas -sf "$IT_SCEN_DIR/uas_cancel.xml" -i "$A_UAS" -p "$P_UAS" -t u1 -m 10
uas=$IT_LAST_PID
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$uas"
it_sipp_ok uac -sf "$IT_SCEN_DIR/uac_cancel.xml" -i "$A_UAC" -p "$P_UAC" -t u1 -m 10 -r 10 \
	-s cancel "$A_PROXY:$P_PROXY"
rc=0; it_wait_exit "$uas" uas 20 || rc=$?
[ $rc = 0 ] || it_fail "UAS exit $rc; see uas.err.log"
it_assert_eq "$(it_sipp_stat uac 'Successful call')" 10 "UAC calls (200 CANCEL + 487 INVITE)"
it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^CANCEL ' '')" 10 "CANCELs at the server"
# The ACK for the 487 at the server is the proxy's own (only its Via).
it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^ACK ' "^Via:.*$A_UAC")" 0 "ACK for 487 is hop-by-hop"
it_proxy_alive
it_pass
