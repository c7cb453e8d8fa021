#!/usr/bin/env bash
# registrar_default_domain — with no registrar.domains configured the registrar
# serves the proxy's own address, so a softphone set up with just the proxy's
# address registers as user@<proxy> and can be called (RFC 3261 §10.3, §16.5).
. "$(dirname "$0")/../lib.sh"

SIPSIM=$SIPPROXY_BUILD_DIR/sipsim
it_need_bin "$SIPSIM"
it_start sipsim "$SIPSIM" --listen "$A_UAS:$P_UAS" --users "$SIPPROXY_SOURCE_DIR/etc/users.txt"
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$IT_LAST_PID"
it_proxy_conf servers="$A_UAS:$P_UAS:udp"
it_proxy_start
PROXY=$(it_hostport "$A_PROXY" "$P_PROXY")
it_start ep python3 "$SIPPROXY_SOURCE_DIR/tests/integration/registrar/endpoint.py" --proto udp \
	--local "$A_UAC:$P_UAC" --proxy "$PROXY" --user alice --password alice-secret \
	--domain "$A_PROXY" --answer 1 --timeout 20
EP=$IT_LAST_PID
for i in $(seq 1 50); do grep -q "register=200" "$IT_TMP/ep.log" && break; sleep 0.1; done
it_assert_grep "$IT_TMP/ep.log" "register=200" "registered as alice@$A_PROXY"
# the SIP Server (a second simulator on the server's host) calls the user
"$SIPSIM" --listen "$A_UAS:$P_SIM" --call "alice@$A_PROXY" --via-proxy "$PROXY" --hold-ms 100 \
	>"$IT_TMP/call.out" 2>&1 || it_fail "call to alice@$A_PROXY: $(cat "$IT_TMP/call.out")"
it_wait_exit "$EP" endpoint 15 || it_fail "endpoint failed"
it_assert_grep "$IT_TMP/ep.log" "bye=1" "the endpoint took the call"
it_proxy_alive
it_pass
