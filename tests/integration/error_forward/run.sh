#!/usr/bin/env bash
# error_forward — RFC 3261 §16.7 (response processing): the SIP Server answers 486,
# 404, then 503; the UAC receives 486 and 404 as sent, and 500 for the 503 (§16.7
# step 6: a proxy SHOULD NOT forward a 503 upstream, it maps it to 500). The ACK for
# these non-2xx answers is hop-by-hop (§17.1.1.3): the server's ACK comes from the
# proxy, not the UAC.
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
it_proxy_start
for pair in 486:486 404:404 503:500; do
	sent=${pair%:*} want=${pair#*:}
	rm -f "$IT_TMP"/uas.* "$IT_TMP"/uac.*
	sed "s/@CODE@/$sent/" "$IT_SCEN_DIR/uas_error.xml" >"$IT_TMP/uas_error.xml"
	it_sipp_bg uas -sf "$IT_TMP/uas_error.xml" -i "$A_UAS" -p "$P_UAS" -t u1 -m 5
	uas=$IT_LAST_PID
	it_wait_port udp "$A_UAS" "$P_UAS" 10 "$uas"
	it_sipp_ok uac -sf "$IT_SCEN_DIR/uac_error.xml" -i "$A_UAC" -p "$P_UAC" -t u1 -m 5 -r 10 \
		-s err "$A_PROXY:$P_PROXY"
	rc=0; it_wait_exit "$uas" uas 20 || rc=$?
	[ $rc = 0 ] || it_fail "UAS ($sent) exit $rc; see uas.err.log"
	got=$(it_msg_count "$IT_TMP/uac.msg.log" "^SIP/2.0 $want " "")
	it_assert_eq "$got" 5 "server sent $sent: responses $want at the UAC"
	it_assert_eq "$(it_msg_count "$IT_TMP/uac.msg.log" "^SIP/2.0 503 " "")" 0 "503 forwarded as is"
	it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^ACK ' '')" 5 "ACKs at the server ($sent)"
	it_assert_eq "$(it_msg_count "$IT_TMP/uas.msg.log" '^ACK ' "^Via:.*$A_UAC")" 0 \
		"ACK for $sent is hop-by-hop (no UAC Via)"
	it_log "server $sent -> UAC $want: ok"
done
it_proxy_alive
it_pass
