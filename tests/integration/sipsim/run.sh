#!/usr/bin/env bash
# sipsim — the SIP Server simulator driven by sipp over UDP and TCP on loopback
# (lib.sh's ports: sipsim on P_SIM, sipp on P_UAC/P_UAC2): INVITE/ACK/BYE (RFC 3261
# sec. 13, 15), CANCEL (sec. 9.2), REGISTER with digest (sec. 22.4, RFC 2617), a
# wrong password or unknown user challenged again (401), OPTIONS 200 -> 503 after
# SIGUSR1 and back via the UDP control socket, and calling out (--call) to a sipp
# UAS. Exits non-zero on the first failure. (Run-time control: sipsim_ha.)
. "$(dirname "$0")/../lib.sh"
HERE=$IT_SCEN_DIR
SIM=$SIPPROXY_BUILD_DIR/sipsim
SIMADDR=127.0.0.1:$P_SIM

it_need_bin "$SIM"
command -v sipp >/dev/null || it_fail "sipp not installed"

# sipp in the foreground: -nostdin, bounded by -timeout, one call.
run_sipp() { # name local_port args...
	local name=$1 lport=$2 rc=0
	shift 2
	timeout 30 sipp -i 127.0.0.1 -p "$lport" -m 1 -nostdin \
		-timeout 15 -timeout_error "$@" >"$IT_TMP/$name.log" 2>&1 || rc=$?
	[ $rc = 0 ] || it_fail "sipp $name (exit $rc)"
	echo "ok $name"
}

printf 'alice secret\nbob pw2\n' >"$IT_TMP/users"
it_start sipsim "$SIM" --listen "$SIMADDR" --control-port "$P_SIM_CTL" --users "$IT_TMP/users" \
	--max-expires 60 --verbose
SIMPID=$IT_LAST_PID
sleep 0.5
kill -0 "$SIMPID" 2>/dev/null || it_fail "sipsim did not start"

for t in u1 t1; do
	p=$P_UAC; [ $t = t1 ] && p=$P_UAC2
	run_sipp "invite-$t" "$p" -t $t -sn uac -s bob -d 100 "$SIMADDR"
	run_sipp "register-$t" "$p" -t $t -sf "$HERE/register.xml" -s alice \
		-au alice -ap secret "$SIMADDR"
	run_sipp "register-wrongpw-$t" "$p" -t $t -sf "$HERE/register_wrong.xml" -s alice \
		-au alice -ap nope "$SIMADDR"
	run_sipp "register-nouser-$t" "$p" -t $t -sf "$HERE/register_wrong.xml" -s carol \
		-au carol -ap secret "$SIMADDR"
	run_sipp "options-active-$t" "$p" -t $t -sf "$IT_XML/options_200.xml" "$SIMADDR"
done

# RFC 3261 sec. 17.2.2: a retransmitted request (same Call-ID, CSeq, branch)
# gets the very same response (same To tag, same nonce); a new branch does not.
"$IT_PY" - "$P_SEND" "$P_SIM" <<'PY' || it_fail "retransmission check"
import socket, sys
me, sim = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", me))
s.settimeout(5)
def reg(branch):
    msg = ("REGISTER sip:127.0.0.1:%d SIP/2.0\r\n" % sim +
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s\r\n" % (me, branch) +
           "Max-Forwards: 70\r\nFrom: <sip:alice@sipproxy.test>;tag=rt1\r\n"
           "To: <sip:alice@sipproxy.test>\r\nCall-ID: rtx-check\r\nCSeq: 7 REGISTER\r\n"
           "Contact: <sip:alice@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n" % me)
    s.sendto(msg.encode(), ("127.0.0.1", sim))
    return s.recv(65536)
a, b, c = reg("rtx1"), reg("rtx1"), reg("rtx2")
ok = a == b and a.startswith(b"SIP/2.0 401") and a != c and b"WWW-Authenticate" in a
print("ok retransmission" if ok else "bad:\n%r\n%r\n%r" % (a, b, c))
if not ok:
    sys.exit(1)
# RFC 3261 sec. 13.3.1.4: without an ACK the 2xx to an INVITE is sent again.
inv = ("INVITE sip:bob@127.0.0.1:%d SIP/2.0\r\n" % sim +
       "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKinv1\r\n" % me +
       "Max-Forwards: 70\r\nFrom: <sip:alice@sipproxy.test>;tag=it1\r\n"
       "To: <sip:bob@sipproxy.test>\r\nCall-ID: rtx-invite\r\nCSeq: 1 INVITE\r\n"
       "Contact: <sip:alice@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n" % me)
s.sendto(inv.encode(), ("127.0.0.1", sim))
got = [s.recv(65536) for _ in range(3)]
ok = (got[0].startswith(b"SIP/2.0 180") and got[1].startswith(b"SIP/2.0 200")
      and got[2] == got[1] and b"application/sdp" in got[1] and b"Contact:" in got[1])
ack = inv.replace("INVITE sip", "ACK sip").replace("1 INVITE", "1 ACK").replace("inv1", "ack1")
to = [l for l in got[1].decode().split("\r\n") if l.startswith("To:")][0]
s.sendto(ack.replace("To: <sip:bob@sipproxy.test>", to).encode(), ("127.0.0.1", sim))
print("ok 2xx-retransmission" if ok else "bad 2xx:\n%r" % got)
sys.exit(0 if ok else 1)
PY

# Role: SIGUSR1 toggles to backup (503), the control socket sets it back.
kill -USR1 "$SIMPID"
sleep 0.3
run_sipp options-backup "$P_UAC" -sf "$IT_XML/options_503.xml" "$SIMADDR"
echo role=active >"/dev/udp/127.0.0.1/$P_SIM_CTL"
sleep 0.3
run_sipp options-active-again "$P_UAC" -sf "$IT_XML/options_200.xml" "$SIMADDR"

# CANCEL while ringing: a second simulator that answers late.
it_start sipsim-late "$SIM" --listen "127.0.0.1:$P_SIM2" --answer-delay-ms 5000
sleep 0.5
run_sipp cancel "$P_UAC" -sf "$HERE/cancel.xml" -s bob "127.0.0.1:$P_SIM2"

# Calling out: sipsim --call through a sipp UAS standing in for the proxy.
it_start uas timeout 30 sipp -sn uas -i 127.0.0.1 -p "$P_PROXY" -m 2 -nostdin -timeout 20
UAS=$IT_LAST_PID
sleep 0.5
rc=0
timeout 30 "$SIM" --listen "127.0.0.1:$P_SIM3" --call bob@example.test \
	--via-proxy "127.0.0.1:$P_PROXY" --calls 2 --hold-ms 100 >"$IT_TMP/call.out" \
	2>"$IT_TMP/call.log" || rc=$?
[ $rc = 0 ] || it_fail "sipsim --call exit $rc"
[ "$(grep -c 'status=200 bye=200' "$IT_TMP/call.out")" = 2 ] ||
	it_fail "call results: $(cat "$IT_TMP/call.out")"
rc=0
wait "$UAS" || rc=$?
[ $rc = 0 ] || it_fail "sipp uas (exit $rc)"
echo "ok call-out"

# Clean exit on SIGTERM.
kill -TERM "$SIMPID"
rc=0
wait "$SIMPID" || rc=$?
[ $rc = 0 ] || it_fail "sipsim exit status $rc on SIGTERM"
it_pass
