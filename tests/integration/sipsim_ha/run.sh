#!/usr/bin/env bash
# sipsim_ha — the SIP Server simulator as one member of an HA pair, alone (no
# proxy), switched and driven at run time by `sipsim ctl`: roles (active: OPTIONS
# 200; backup: 503 to every request, RFC 3261 sec. 21.5.4, and no request of its
# own, its calls dropped without a BYE; dead: no answer, no ICMP error, no RST, TCP
# connections kept open and silent), the "call" command towards sipp UASes on
# another loopback address over UDP and TCP, leaving from the member's own IP,
# the "stats" counters, SDP offer/answer (RFC 3264 sec. 6) with an RTP echo per
# call, and REGISTER with a wrong password answered 401 again and again (RFC 2617
# sec. 3.2.1; stale=true only for a right digest on an expired nonce).
. "$(dirname "$0")/../lib.sh"
HERE=$IT_SCEN_DIR
SIM=$SIPPROXY_BUILD_DIR/sipsim
A_SIM=127.0.0.4   # the member under test
A_SIM_B=127.0.0.5 # a second member (short-lived nonces)
SIMADDR=$A_SIM:$P_SIM
CTLADDR=$A_SIM:$P_SIM_CTL
PROBE="$IT_PY $HERE/probe.py"

it_need_bin "$SIM"
command -v sipp >/dev/null || it_fail "sipp not installed"

ctl() { "$SIM" ctl "$CTLADDR" "$@"; }
# ctl_ok WANT COMMAND...: the reply must be WANT.
ctl_ok() {
	local want=$1 out rc=0
	shift
	out=$(ctl "$@") || rc=$?
	[ $rc = 0 ] && [ "$out" = "$want" ] || it_fail "sipsim ctl $*: '$out' (exit $rc), want '$want'"
}
# stat KEY: one counter of "stats".
stat() { ctl stats | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
# wait_idle: until the member has no call of its own in flight.
wait_idle() {
	local i
	for i in $(seq 1 200); do
		[ "$(stat active_calls)" = 0 ] && return 0
		sleep 0.1
	done
	it_fail "calls still in flight: $(ctl stats)"
}
# sipp_probe NAME TRANSPORT SCENARIO [ARGS...]: sipp from 127.0.0.1, one call.
sipp_probe() {
	local name=$1 t=$2 sf=$3 p=$P_UAC rc=0
	shift 3
	[ "$t" = t1 ] && p=$P_UAC2
	timeout 30 sipp -i 127.0.0.1 -p "$p" -t "$t" -m 1 -nostdin -timeout 10 -timeout_error \
		-trace_msg -message_file "$IT_TMP/$name.msg.log" -sf "$sf" "$@" "$SIMADDR" \
		>"$IT_TMP/$name.log" 2>&1 || rc=$?
	return $rc
}
sipp_ok() { sipp_probe "$@" || it_fail "sipp $1 failed; see $1.log"; }

printf 'alice secret\nbob pw2\n' >"$IT_TMP/users"
it_start sipsim "$SIM" --listen "$SIMADDR" --control-port "$P_SIM_CTL" --users "$IT_TMP/users" \
	--verbose
SIMPID=$IT_LAST_PID
it_wait_port udp "$A_SIM" "$P_SIM" 10 "$SIMPID"
it_wait_port tcp "$A_SIM" "$P_SIM" 10 "$SIMPID"
it_wait_port udp "$A_SIM" "$P_SIM_CTL" 10 "$SIMPID"

# ---- roles --------------------------------------------------------------------
[ "$(stat role)" = active ] || it_fail "not active at start: $(ctl stats)"
for t in u1 t1; do sipp_ok "options-active-$t" $t "$IT_XML/options_200.xml"; done
ctl_ok "ok role=backup" role backup
for t in u1 t1; do sipp_ok "options-backup-$t" $t "$IT_XML/options_503.xml"; done
$PROBE backup "$SIMADDR" "127.0.0.1:$P_SEND" || it_fail "backup answers"
rc=0
out=$(ctl call bob@example.test via "$A_UAS:$P_UAS") || rc=$?
[ $rc = 1 ] && [ "$out" = "err role=backup" ] || it_fail "a backup took a call command: '$out' ($rc)"
ctl_ok "ok role=dead" role dead
for t in u1 t1; do
	rc=0
	sipp_probe "options-dead-$t" $t "$IT_XML/options_200.xml" -timeout 3 || rc=$?
	[ $rc != 0 ] || it_fail "OPTIONS answered while dead ($t)"
	it_assert_nogrep "$IT_TMP/options-dead-$t.msg.log" "message received" "nothing from a dead member ($t)"
done
it_assert_nogrep "$IT_TMP/options-dead-t1.log" "[Rr]efused|reset" "TCP to a dead member is not refused"
# the probe switches dead -> active itself, between its own sends
ctl_ok "ok role=active" role active
$PROBE dead "$SIMADDR" "127.0.0.1:$P_SEND" "$SIM" "$CTLADDR" || it_fail "dead role"
kill -USR1 "$SIMPID"
sleep 0.2
[ "$(stat role)" = backup ] || it_fail "SIGUSR1 did not flip to backup"
ctl_ok "ok role=active" role=active # the first control grammar
for r in active backup dead active; do
	it_assert_grep "$IT_TMP/sipsim.log" "event=sipsim_role role=$r" "role change to $r logged"
done

# ---- stats, SDP, RTP echo -----------------------------------------------------
ctl_ok "ok reset" reset
$PROBE media "$SIMADDR" "127.0.0.1:$P_SEND" || it_fail "media"
st=$(ctl stats)
for kv in invites=3 acks=3 byes=3 registers=1 options=2 rtp_echoed=10 media=0 calls_placed=0; do
	case " $st " in *" $kv "*) ;; *) it_fail "stats: want $kv in '$st'" ;; esac
done
echo "ok stats: $st"

# ---- calls out: from the member's own address ---------------------------------
ctl_ok "ok reset" reset
it_sipp_bg uas-udp -sn uas -i "$A_UAS" -p "$P_UAS" -t u1 -m 2
UAS=$IT_LAST_PID
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$UAS"
ctl_ok "ok calls=2" call bob@example.test via "$A_UAS:$P_UAS" count 2 hold 200
wait_idle
rc=0
it_wait_exit "$UAS" uas-udp 20 || rc=$?
[ $rc = 0 ] || it_fail "sipp UAS (udp) exit $rc"
it_assert_eq "$(it_sipp_stat uas-udp 'Successful call')" 2 "UDP calls at the sipp UAS"

it_sipp_bg uas-tcp -sn uas -i "$A_UAS" -p "$P_UAS2" -t t1 -m 2
UAS=$IT_LAST_PID
it_wait_port tcp "$A_UAS" "$P_UAS2" 10 "$UAS"
ctl_ok "ok calls=2" call bob@example.test via "$A_UAS:$P_UAS2" transport tcp count 2 rate 10 hold 1500
sleep 0.7
ss -Htn state established "( dport = :$P_UAS2 )" >"$IT_TMP/ss.txt"
it_log "TCP towards the UAS: $(cat "$IT_TMP/ss.txt")"
it_assert_grep "$IT_TMP/ss.txt" " $A_SIM:[0-9]+ +$A_UAS:$P_UAS2" "the TCP connection leaves from the member's IP"
wait_idle
rc=0
it_wait_exit "$UAS" uas-tcp 20 || rc=$?
[ $rc = 0 ] || it_fail "sipp UAS (tcp) exit $rc"
it_assert_eq "$(it_sipp_stat uas-tcp 'Successful call')" 2 "TCP calls at the sipp UAS"
[ "$(stat calls_ok)" = 4 ] && [ "$(stat calls_placed)" = 4 ] || it_fail "call counters: $(ctl stats)"

# Every byte the UAS gets comes from the member's address; a backup sends none.
it_sink sink "$A_UAS" "$P_UAS" INVITE,BYE --invite-code 200 --log-bytes --log-accept
ctl_ok "ok calls=1" call carol@example.test via "$A_UAS:$P_UAS" hold 100
wait_idle
ctl_ok "ok calls=1" call carol@example.test via "$A_UAS:$P_UAS" transport tcp hold 100
wait_idle
it_assert_grep "$IT_TMP/sink.out" "^udp BYE " "BYE over UDP"
it_assert_grep "$IT_TMP/sink.out" "^tcp BYE " "BYE over TCP"
it_assert_grep "$IT_TMP/sink.out" "^tcp-accept $A_SIM:[0-9]+ " "TCP connection from the member's IP"
grep '^udp-bytes' "$IT_TMP/sink.out" | grep -vq "^udp-bytes [0-9]* $A_SIM:$P_SIM " &&
	it_fail "a datagram from another address than $SIMADDR: $(grep '^udp-bytes' "$IT_TMP/sink.out")"
[ "$(stat calls_ok)" = 6 ] || it_fail "call counters: $(ctl stats)"
acks=$(it_count "$IT_TMP/sink.out" '^udp ACK ')
byes=$(it_count "$IT_TMP/sink.out" '^udp BYE ')
ctl_ok "ok calls=1" call dave@example.test via "$A_UAS:$P_UAS" hold 20000
for i in $(seq 1 50); do
	[ "$(it_count "$IT_TMP/sink.out" '^udp ACK ')" -gt "$acks" ] && break
	sleep 0.1
done
[ "$(stat active_calls)" = 1 ] || it_fail "the held call is not up: $(ctl stats)"
lines=$(wc -l <"$IT_TMP/sink.out")
ctl_ok "ok role=backup" role backup
[ "$(stat active_calls)" = 0 ] && [ "$(stat calls_failed)" = 1 ] ||
	it_fail "the backup kept its call: $(ctl stats)"
sleep 1
it_assert_eq "$(wc -l <"$IT_TMP/sink.out")" "$lines" "a backup sends nothing (no BYE)"
it_assert_eq "$(it_count "$IT_TMP/sink.out" '^udp BYE ')" "$byes" "no BYE from the backup"
ctl_ok "ok role=active" role active
echo "ok calls out"

# ---- REGISTER: a wrong password is challenged again ---------------------------
for t in u1 t1; do
	sipp_ok "register-401-loop-$t" $t "$HERE/register_401_loop.xml" -s alice -au alice -ap wrong
done
sipp_ok register-401-loop-nouser u1 "$HERE/register_401_loop.xml" -s carol -au carol -ap secret
it_start sipsim-b "$SIM" --listen "$A_SIM_B:$P_SIM2" --users "$IT_TMP/users" --nonce-ttl 1
it_wait_port udp "$A_SIM_B" "$P_SIM2" 10 "$IT_LAST_PID"
$PROBE digest "$A_SIM_B:$P_SIM2" "127.0.0.1:$P_SEND" alice secret 1 || it_fail "digest"

# Clean exit on SIGTERM.
kill -TERM "$SIMPID"
rc=0
wait "$SIMPID" || rc=$?
[ $rc = 0 ] || it_fail "sipsim exit status $rc on SIGTERM"
it_pass
