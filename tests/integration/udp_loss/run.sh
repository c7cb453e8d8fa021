#!/usr/bin/env bash
# udp_loss — RFC 3261 §17.1.1.2 / §17.1.2.2 / §17.2.1 (UDP retransmissions, timers A,
# E, G) through a stateful proxy (§16): both sipp ends drop 10% of the messages they
# send (lost="10" on every <send>; sipp has no seed option, so the pattern varies by
# run); retransmissions by the proxy and the ends must still complete all 20 calls.
# Not sipp's global -lost: it also drops received messages, and sipp then ignores
# every retransmission of a dropped one (the call can never complete).
. "$(dirname "$0")/../lib.sh"

it_proxy_conf servers="$A_UAS:$P_UAS:udp" t1=100
it_proxy_start
# The server side is udp_loss/uas_loss.xml; the client is xml/uac_call.xml with
# lost="10" on every <send>.
sed -e 's/<send\( [^>]*\)\{0,1\}>/<send\1 lost="10">/' "$IT_XML/uac_call.xml" >"$IT_TMP/uac_loss.xml"
[ "$(grep -c 'lost="10"' "$IT_TMP/uac_loss.xml")" = 3 ] || it_fail "uac_loss.xml: expected 3 lossy sends"
IT_UAS_XML=$IT_SCEN_DIR/uas_loss.xml IT_UAC_XML=$IT_TMP/uac_loss.xml IT_RATE=10 it_call loss 20 u1 u1
lost=$(cat "$IT_TMP/uac.msg.log" "$IT_TMP/uas.msg.log" | grep -c 'voluntary lost' || true)
it_log "messages sipp dropped: $lost"
[ "$lost" -gt 0 ] || it_fail "sipp dropped nothing: the loss scenario did not run"
it_proxy_alive
it_pass
