#!/usr/bin/env bash
# sipsim — the SIP Server simulator driven by sipp over UDP and TCP on loopback
# (ports 15100-15199 only): INVITE/ACK/BYE (RFC 3261 sec. 13, 15), CANCEL (sec. 9.2),
# REGISTER with digest (sec. 22.4, RFC 2617) incl. 403, OPTIONS 200 -> 503 after
# SIGUSR1 and back via the UDP control socket, and calling out (--call) to a
# sipp UAS. Exits non-zero on the first failure.
set -u
BUILD=${SIPPROXY_BUILD_DIR:-/work/main/build}
HERE=$(cd "$(dirname "$0")" && pwd)
SIM=$BUILD/sipsim
WORK=$(mktemp -d /tmp/sipsim-test.XXXXXX)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -20 "$f" >&2; }; done
	exit 1
}

[ -x "$SIM" ] || fail "no $SIM"
command -v sipp >/dev/null || fail "sipp not installed"

# sipp in the foreground: -nostdin, bounded by -timeout, local port in range.
run_sipp() { # name local_port media_port args...
	local name=$1 lport=$2 mport=$3
	shift 3
	timeout 30 sipp -i 127.0.0.1 -p "$lport" -mp "$mport" -m 1 -nostdin \
		-timeout 15 -timeout_error "$@" >"$WORK/$name.log" 2>&1 ||
		fail "sipp $name (exit $?)"
	echo "ok $name"
}

printf 'alice secret\nbob pw2\n' >"$WORK/users"
"$SIM" --listen 127.0.0.1:15190 --control-port 15191 --users "$WORK/users" \
	--max-expires 60 --verbose 2>"$WORK/sipsim.log" &
PIDS+=($!)
SIMPID=$!
sleep 0.5
kill -0 "$SIMPID" 2>/dev/null || fail "sipsim did not start"

for t in u1 t1; do
	p=15101; [ $t = t1 ] && p=15102
	run_sipp "invite-$t" $p 15160 -t $t -sn uac -s bob -d 100 127.0.0.1:15190
	run_sipp "register-$t" $p 15160 -t $t -sf "$HERE/register.xml" -s alice \
		-au alice -ap secret 127.0.0.1:15190
	run_sipp "register-wrongpw-$t" $p 15160 -t $t -sf "$HERE/register_403.xml" -s alice \
		-au alice -ap nope 127.0.0.1:15190
	run_sipp "register-nouser-$t" $p 15160 -t $t -sf "$HERE/register_403.xml" -s carol \
		-au carol -ap secret 127.0.0.1:15190
	run_sipp "options-active-$t" $p 15160 -t $t -sf "$HERE/options_200.xml" 127.0.0.1:15190
done

# RFC 3261 sec. 17.2.2: a retransmitted request (same Call-ID, CSeq, branch)
# gets the very same response (same To tag, same nonce); a new branch does not.
command -v python3 >/dev/null || fail "python3 needed for the retransmission check"
python3 - <<'PY' || fail "retransmission check"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 15106))
s.settimeout(5)
def reg(branch):
    msg = ("REGISTER sip:127.0.0.1:15190 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:15106;branch=z9hG4bK" + branch + "\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:alice@sipproxy.test>;tag=rt1\r\n"
           "To: <sip:alice@sipproxy.test>\r\nCall-ID: rtx-check\r\nCSeq: 7 REGISTER\r\n"
           "Contact: <sip:alice@127.0.0.1:15106>\r\nContent-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), ("127.0.0.1", 15190))
    return s.recv(65536)
a, b, c = reg("rtx1"), reg("rtx1"), reg("rtx2")
ok = a == b and a.startswith(b"SIP/2.0 401") and a != c and b"WWW-Authenticate" in a
print("ok retransmission" if ok else "bad:\n%r\n%r\n%r" % (a, b, c))
if not ok:
    sys.exit(1)
# RFC 3261 sec. 13.3.1.4: without an ACK the 2xx to an INVITE is sent again.
inv = ("INVITE sip:bob@127.0.0.1:15190 SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:15106;branch=z9hG4bKinv1\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:alice@sipproxy.test>;tag=it1\r\n"
       "To: <sip:bob@sipproxy.test>\r\nCall-ID: rtx-invite\r\nCSeq: 1 INVITE\r\n"
       "Contact: <sip:alice@127.0.0.1:15106>\r\nContent-Length: 0\r\n\r\n")
s.sendto(inv.encode(), ("127.0.0.1", 15190))
got = [s.recv(65536) for _ in range(3)]
ok = (got[0].startswith(b"SIP/2.0 180") and got[1].startswith(b"SIP/2.0 200")
      and got[2] == got[1] and b"application/sdp" in got[1] and b"Contact:" in got[1])
ack = inv.replace("INVITE sip", "ACK sip").replace("1 INVITE", "1 ACK").replace("inv1", "ack1")
to = [l for l in got[1].decode().split("\r\n") if l.startswith("To:")][0]
s.sendto(ack.replace("To: <sip:bob@sipproxy.test>", to).encode(), ("127.0.0.1", 15190))
print("ok 2xx-retransmission" if ok else "bad 2xx:\n%r" % got)
sys.exit(0 if ok else 1)
PY

# Role: SIGUSR1 toggles to backup (503), the control socket sets it back.
kill -USR1 "$SIMPID"
sleep 0.3
run_sipp options-backup 15103 15160 -sf "$HERE/options_503.xml" 127.0.0.1:15190
echo role=active >/dev/udp/127.0.0.1/15191
sleep 0.3
run_sipp options-active-again 15103 15160 -sf "$HERE/options_200.xml" 127.0.0.1:15190

# CANCEL while ringing: a second simulator that answers late.
"$SIM" --listen 127.0.0.1:15192 --answer-delay-ms 5000 2>"$WORK/sipsim-late.log" &
PIDS+=($!)
sleep 0.5
run_sipp cancel 15104 15160 -sf "$HERE/cancel.xml" -s bob 127.0.0.1:15192

# Calling out: sipsim --call through a sipp UAS standing in for the proxy.
timeout 30 sipp -sn uas -i 127.0.0.1 -p 15105 -mp 15162 -m 2 -nostdin -timeout 20 \
	>"$WORK/uas.log" 2>&1 &
UAS=$!
PIDS+=($UAS)
sleep 0.5
timeout 30 "$SIM" --listen 127.0.0.1:15193 --call bob@example.test \
	--via-proxy 127.0.0.1:15105 --calls 2 --hold-ms 100 >"$WORK/call.out" 2>"$WORK/call.log" ||
	fail "sipsim --call exit $?"
[ "$(grep -c 'status=200 bye=200' "$WORK/call.out")" = 2 ] || fail "call results: $(cat "$WORK/call.out")"
wait "$UAS" || fail "sipp uas (exit $?)"
echo "ok call-out"

# Clean exit on SIGTERM.
kill -TERM "$SIMPID"
wait "$SIMPID" || fail "sipsim exit status $? on SIGTERM"
echo "PASS sipsim"
