#!/usr/bin/env bash
# registrar_sipp — the registrar against another SIP Server: sipp plays the
# registrar. (1) a sipp endpoint registers with digest auth (401 then 200) through
# the proxy and the binding is stored from the 200; (2) RFC 3261 §10.3 step 7:
# REGISTER CSeq 5 (expires 300) then CSeq 4 (expires 10) on one Call-ID — the older
# refresh must not overwrite the newer binding.
. "$(dirname "$0")/../lib.sh"

CTL=$SIPPROXY_BUILD_DIR/sipproxyctl
it_need_bin "$CTL"
it_proxy_conf servers="$A_UAS:$P_UAS:udp" extra='registrar = { domains = [ "sipproxy.test" ]; };'
it_proxy_start
export SIPPROXY_ADMIN=127.0.0.1:$P_ADMIN
PROXY=$(it_hostport "$A_PROXY" "$P_PROXY")

# 1. digest through the proxy against sipp
it_sipp_bg reg_uas -sf "$IT_SCEN_DIR/registrar_auth.xml" -i "$A_UAS" -p "$P_UAS" -t u1 -m 1
uas=$IT_LAST_PID
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$uas"
printf 'SEQUENTIAL\ncarol;\n' >"$IT_TMP/carol.csv"
it_sipp_ok reg -sf "$SIPPROXY_SOURCE_DIR/tests/integration/registrar_load/register_csv.xml" \
	-inf "$IT_TMP/carol.csv" -i "$A_UAC" -p "$P_UAC" -t u1 -m 1 -au carol -ap secret "$PROXY"
rc=0; it_wait_exit "$uas" reg_uas 15 || rc=$?
[ $rc = 0 ] || it_fail "sipp registrar exit $rc (did the retry carry Authorization?)"
"$CTL" registrations sip:carol@sipproxy.test >"$IT_TMP/carol.json" || it_fail "no binding for carol"
it_assert_grep "$IT_TMP/carol.json" "\"contact\": \"sip:carol@$A_UAC:$P_UAC\"" "carol's binding"

# 2. out-of-order CSeq
it_sipp_bg reg_uas2 -sf "$IT_SCEN_DIR/registrar_twice.xml" -i "$A_UAS" -p "$P_UAS" -t u1 -m 1
uas=$IT_LAST_PID
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$uas"
python3 - "$A_UAC" "$P_SEND" "$A_PROXY" "$P_PROXY" <<'PY' || it_fail "raw REGISTERs got no 200"
import socket, sys
host, port, ph, pp = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, port))
s.settimeout(5)
for cseq, exp in ((5, 300), (4, 10)):
    msg = ("REGISTER sip:sipproxy.test SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bKooo%d;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:dave@sipproxy.test>;tag=d1\r\nTo: <sip:dave@sipproxy.test>\r\n"
           "Call-ID: ooo-1@%s\r\nCSeq: %d REGISTER\r\nContact: <sip:dave@%s:%d>;expires=%d\r\n"
           "Content-Length: 0\r\n\r\n" % (host, port, cseq, host, cseq, host, port, exp))
    s.sendto(msg.encode(), (ph, pp))
    while True:
        data = s.recv(65535).decode()
        code = int(data.split(" ", 2)[1])
        if code >= 200:
            break
    if code != 200:
        sys.exit(1)
PY
rc=0; it_wait_exit "$uas" reg_uas2 15 || rc=$?
[ $rc = 0 ] || it_fail "sipp registrar (twice) exit $rc"
"$CTL" registrations sip:dave@sipproxy.test >"$IT_TMP/dave.json" || it_fail "no binding for dave"
left=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bindings"][0]["expires_in"])' "$IT_TMP/dave.json")
[ "$left" -gt 200 ] || it_fail "the older refresh (CSeq 4, expires 10) overwrote CSeq 5: expires_in=$left"
it_proxy_alive
it_pass
