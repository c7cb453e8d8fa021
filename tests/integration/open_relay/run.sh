#!/usr/bin/env bash
# open_relay — RFC 3261 §26.1 (no open relay, no reflection): an untrusted endpoint
# (127.0.0.5, or ::1 from its own port) must not make the proxy send a single byte
# to a third host. Victims: sinks on 127.0.0.9, 127.0.0.1, ::1 and 127.0.0.10 at
# P_VICTIM (the IPv4 ones also at the senders' ports), UDP and TCP; a TCP
# connection accepted counts even without data.
#  A. Requests (§16.4 route preprocessing, §16.5 targets): whatever the Request-URI
#     or Route names (loose, strict, transport, maddr, IPv6, IPv4-mapped, localhost,
#     %-escapes, sips:, tel:, 300-char host, in dialog, every method), an untrusted
#     request reaches the SIP Server or gets a final answer from the proxy.
#  B. Stray responses (§16.7 would forward them statelessly): a response from an
#     untrusted host matching no transaction is dropped, whatever its Via stack
#     (our sent-by on top, a victim below, in every spelling), and counted in
#     /metrics.
#  C. Reflection (§18.2.2 with RFC 3581): a response to an untrusted request goes
#     only back to the request's source IP (at the source port when the top Via
#     has rport, on the same connection over TCP, or a new connection to the
#     source IP when that one is gone); a Via naming a victim (sent-by, maddr,
#     received, IPv6, mapped, compact, comma-joined) changes nothing. Each answer
#     path: local 483/420/416/200/400, INVITE 100 + 420, relayed 200 and 486.
# Every case is named; the run prints each outcome and "cases: N, failed: M".
. "$(dirname "$0")/../lib.sh"

ATT=127.0.0.5 ATT6=::1 V=$P_VICTIM PP=$P_PROXY PX=$A_PROXY
# Source ports of the cases (sipsend --jobs takes a free one for each send).
P_POOL=$((IT_PORT_BASE + 50)) POOL=50
# Name server the proxy is given: nobody answers there, and no query leaves loopback.
SERVER_DELAY=1
WATCH=(--log-accept --log-bytes)
# The IPv4 victims also listen on the senders' ports: a reflection aimed at the
# victim host at the sender's own port is seen too. (Not ::1: the IPv6 attacker
# sends from those ports.)
WATCH4=("${WATCH[@]}" --extra-ports "$P_POOL-$((P_POOL + POOL - 1))")

it_proxy_conf servers="$A_UAS:$P_UAS:udp" listen6=::1 \
	extra="dns = { servers = \"127.0.0.1:$P_DNS\"; };"
# The SIP Server answers everything (INVITE with 486); the "connection gone" cases'
# answers SERVER_DELAY s late.
it_sink server "$A_UAS" "$P_UAS" '*' --delay "$SERVER_DELAY" --delay-match or-gone_
VICTIMS=(victim9 victim1 victim6 victim10)
it_sink victim9 127.0.0.9 "$V" "" "${WATCH4[@]}"
it_sink victim1 127.0.0.1 "$V" "" "${WATCH4[@]}"
it_sink victim6 ::1 "$V" "" "${WATCH[@]}"
it_sink victim10 127.0.0.10 "$V" "" "${WATCH4[@]}"
# The attacker's own host at the victim port: allowed, watched to tell where an
# answer went (the Via port when there is no rport, a new TCP connection back).
it_sink attacker "$ATT" "$V" "" "${WATCH[@]}"
it_proxy_start

metric_stray() {
	curl -s --max-time 3 "http://127.0.0.1:$P_ADMIN/metrics" 2>/dev/null |
		awk '/^sipproxy_(responses_dropped|stray_responses)_total[ {]/ { s += $NF; f = 1 }
		     END { if (f) print s }' || true
}
STRAY_BEFORE=$(metric_stray)

M=$IT_TMP/msg R=$IT_TMP/res
mkdir -p "$M" "$R"
CASES=$IT_TMP/cases # name|proto|expect
JOBS=$IT_TMP/jobs   # for sipsend --jobs: name proto bind-host to wait count file
: >"$CASES"
: >"$JOBS"
declare -A SEEN
# add_case NAME PROTO EXPECT: the message is $M/NAME.sip, its Call-ID or-NAME, the
# sender's port in it @SP@.
#   PROTO: udp tcp (from 127.0.0.5), udp6 tcp6 (from ::1), gone (TCP, closed at once)
#   EXPECT: relay (reaches the SIP Server or refused >= 300), quiet (nothing asked),
#           none (no answer, not forwarded anywhere), answer (the sender gets one),
#           any (an answer may go to the Via port at the source IP), gone
add_case() {
	local w=1.5 c=1 p=$2 host=$ATT to=$PX:$PP
	case $3 in none) w=1.0 c=0 ;; answer) w=2.0 ;; any | quiet) w=1.0 ;; esac
	case $2 in
	gone) w=0.05 c=0 p=tcp ;;
	udp6 | tcp6) p=${2%6} host=$ATT6 to="[::1]:$PP" ;;
	esac
	[ -z "${SEEN[$1]:-}" ] || it_fail "duplicate case name $1"
	SEEN[$1]=1
	echo "$1|$2|$3" >>"$CASES"
	echo "$1 $p $host $to $w $c $M/$1.sip" >>"$JOBS"
}

# set_dialog FILE: adds a To tag (an in-dialog request).
set_dialog() {
	sed -i 's/^\(To: <[^>]*>\)\r$/\1;tag=remote1\r/' "$1"
	grep -q 'tag=remote1' "$1" || it_fail "could not build the in-dialog request $1"
}

# or_req FILE FROM_HOST METHOD RURI CID VIAS [HEADER...]: a request with the given
# Via header lines ("~" between lines), like it_mkreq otherwise ("Max-Forwards: N"
# and "CSeq: ..." replace the default ones).
or_req() {
	local file=$1 host=$2 method=$3 ruri=$4 cid=$5 vias=$6 h mf="Max-Forwards: 70" extra=""
	local cseq="CSeq: 1 $method" vh=$2 l vl
	shift 6
	for h in "$@"; do
		case $h in
		Max-Forwards:*) mf=$h ;; CSeq:*) cseq=$h ;; *) extra="$extra$h"$'\r\n' ;;
		esac
	done
	case $host in *:*) vh="[$host]" ;; esac
	IFS='~' read -r -a vl <<<"$vias"
	{
		printf '%s %s SIP/2.0\r\n' "$method" "$ruri"
		for l in "${vl[@]}"; do printf '%s\r\n' "$l"; done
		printf '%s\r\n' "$mf"
		printf 'From: <sip:tester@%s>;tag=t-%s\r\n' "$vh" "$cid"
		printf 'To: <sip:target@%s>\r\n' "$vh"
		printf 'Call-ID: %s\r\n' "$cid"
		printf '%s\r\n' "$cseq"
		printf 'Contact: <sip:tester@%s:@SP@>\r\n' "$vh"
		printf '%s' "$extra"
		printf 'Content-Length: 0\r\n\r\n'
	} >"$file"
}

# ---- A. requests naming a victim ---------------------------------------------

printf -v LONGHOST "%059d.%059d.%059d.%059d.%060d" 0 0 0 0 0
LONGHOST=${LONGHOST//0/a}
[ ${#LONGHOST} = 300 ] || it_fail "long host is ${#LONGHOST} chars"
DLG="@dialog"
# name | proto | method | Request-URI | extra header(s) separated by "~" (@dialog: To tag)
# The original 23 cases, as they were:
requests=$(cat <<CASES
ruri|udp|OPTIONS|sip:victim@127.0.0.9:$V|
route_lr|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:127.0.0.9:$V;lr>
route_nolr|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:127.0.0.9:$V>
route_tcp|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:127.0.0.9:$V;lr;transport=tcp>
route_maddr|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:$PX:$PP;lr;maddr=127.0.0.9>
strict|udp|OPTIONS|sip:$PX:$PP|Route: <sip:victim@127.0.0.9:$V>
strict_lr_self|udp|OPTIONS|sip:$PX:$PP;lr|Route: <sip:victim@127.0.0.9:$V;lr>
ruri_maddr|udp|OPTIONS|sip:victim@$PX:$V;maddr=127.0.0.9|
ruri_v6|udp|OPTIONS|sip:victim@[::1]:$V|
route_v6|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:[::1]:$V;lr>
ruri_localhost|udp|OPTIONS|sip:victim@localhost:$V|
route_localhost|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:localhost:$V;lr>
ruri_escaped|udp|OPTIONS|sip:victim@%31%32%37.0.0.9:$V|
route_escaped|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:%31%32%37.0.0.9:$V;lr>
ruri_sips|udp|OPTIONS|sips:victim@127.0.0.9:$V|
tel_route|udp|OPTIONS|tel:+15551234567|Route: <sip:127.0.0.9:$V;lr>
preloaded|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:$PX:$PP;lr>, <sip:127.0.0.9:$V;lr>
two_routes|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:$PX:$PP;lr>~Route: <sip:127.0.0.9:$V;lr>
message|udp|MESSAGE|sip:victim@127.0.0.9:$V|
invite|udp|INVITE|sip:victim@127.0.0.9:$V|
tcp_ruri|tcp|OPTIONS|sip:victim@127.0.0.9:$V|
tcp_route|tcp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:127.0.0.9:$V;lr>
dialog|udp|OPTIONS|sip:victim@127.0.0.9:$V|Route: <sip:$PX:$PP;lr>~$DLG
CASES
)
# New spellings, each sent over UDP and (name_tcp) over TCP:
requests_both=$(cat <<CASES
ruri_mapped|udp|OPTIONS|sip:victim@[::ffff:127.0.0.9]:$V|
route_mapped|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:[::ffff:127.0.0.9]:$V;lr>
ruri_mapped_full|udp|OPTIONS|sip:victim@[0:0:0:0:0:ffff:7f00:9]:$V|
route_mapped_full|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:[0:0:0:0:0:ffff:7f00:9]:$V;lr>
route_transport_upper|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:127.0.0.9:$V;lr;transport=TCP>
ruri_nouser_lr|udp|OPTIONS|sip:127.0.0.9:$V;lr|
maddr_both|udp|OPTIONS|sip:victim@$PX:$V;maddr=127.0.0.9|Route: <sip:$PX:$PP;lr;maddr=127.0.0.9>
route_hdr_part|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:127.0.0.9:$V;lr?Subject=relay&X-Next=1>
ruri_transport_tcp|udp|OPTIONS|sip:victim@127.0.0.9:$V;transport=tcp|
ruri_transport_sctp|udp|OPTIONS|sip:victim@127.0.0.9:$V;transport=sctp|
ruri_transport_tls|udp|OPTIONS|sip:victim@127.0.0.9:$V;transport=tls|
ruri_sips_tcp|udp|OPTIONS|sips:victim@127.0.0.9:$V;transport=tcp|
ruri_long_host|udp|OPTIONS|sip:victim@$LONGHOST:$V|
route_long_host|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:$LONGHOST:$V;lr>
ruri_v10|udp|OPTIONS|sip:victim@127.0.0.10:$V|
ruri_self_host|udp|OPTIONS|sip:victim@$PX:$V|
route_self_host|udp|OPTIONS|sip:bob@$PX:$PP|Route: <sip:$PX:$V;lr>
dialog_next_route|udp|OPTIONS|sip:victim@127.0.0.9:$V|Route: <sip:$PX:$PP;lr>, <sip:127.0.0.9:$V;lr>~$DLG
dialog_invite|udp|INVITE|sip:victim@127.0.0.9:$V|Route: <sip:$PX:$PP;lr>~Route: <sip:127.0.0.9:$V;lr>~$DLG
register|udp|REGISTER|sip:127.0.0.9:$V|
subscribe|udp|SUBSCRIBE|sip:victim@127.0.0.9:$V|Event: presence~Expires: 60
notify|udp|NOTIFY|sip:victim@127.0.0.9:$V|Event: presence~Subscription-State: active
notify_dialog|udp|NOTIFY|sip:victim@127.0.0.9:$V|Route: <sip:$PX:$PP;lr>~Event: presence~Subscription-State: active~$DLG
bye|udp|BYE|sip:victim@127.0.0.9:$V|
bye_dialog|udp|BYE|sip:victim@127.0.0.9:$V|Route: <sip:$PX:$PP;lr>, <sip:127.0.0.9:$V;lr>~$DLG
cancel|udp|CANCEL|sip:victim@127.0.0.9:$V|
ack|udp|ACK|sip:victim@127.0.0.9:$V|
ack_dialog|udp|ACK|sip:victim@127.0.0.9:$V|Route: <sip:$PX:$PP;lr>, <sip:127.0.0.9:$V;lr>~$DLG
CASES
)
# From the IPv6 attacker ::1 (to [::1]:P_PROXY), over UDP and (name_tcp) TCP:
requests_v6=$(cat <<CASES
v6src_ruri|udp6|OPTIONS|sip:victim@127.0.0.9:$V|
v6src_ruri_v6|udp6|OPTIONS|sip:victim@[::1]:$V|
v6src_ruri_mapped|udp6|OPTIONS|sip:victim@[::ffff:127.0.0.9]:$V|
v6src_route|udp6|OPTIONS|sip:bob@[::1]:$PP|Route: <sip:127.0.0.9:$V;lr>
v6src_route_v6|udp6|OPTIONS|sip:bob@[::1]:$PP|Route: <sip:[::1]:$V;lr>
v6src_strict|udp6|OPTIONS|sip:[::1]:$PP|Route: <sip:victim@[::1]:$V>
v6src_invite|udp6|INVITE|sip:victim@[::1]:$V|
CASES
)
add_request() {
	local name=$1 proto=$2 method=$3 ruri=$4 hdrs=$5 host=$ATT hl=() h dlg=0 kept=()
	case $proto in *6) host=$ATT6 ;; esac
	IFS='~' read -r -a hl <<<"$hdrs"
	for h in "${hl[@]}"; do
		if [ "$h" = "$DLG" ]; then dlg=1; else kept+=("$h"); fi
	done
	P_SEND=@SP@ it_mkreq "$M/$name.sip" "${proto%6}" "$host" "$method" "$ruri" "or-$name" "${kept[@]}"
	[ $dlg = 0 ] || set_dialog "$M/$name.sip"
	local expect=relay
	case $method in ACK | CANCEL | BYE) expect=quiet ;; esac
	add_case "$name" "$proto" "$expect"
}
while IFS='|' read -r name proto method ruri hdrs; do
	add_request "$name" "$proto" "$method" "$ruri" "$hdrs"
done <<<"$requests"
while IFS='|' read -r name proto method ruri hdrs; do
	add_request "$name" "$proto" "$method" "$ruri" "$hdrs"
	add_request "${name}_tcp" "${proto/udp/tcp}" "$method" "$ruri" "$hdrs"
done <<<"$requests_both
$requests_v6"

# ---- B. stray responses -------------------------------------------------------

CODES=(100 180 183 200 202 302 404 486 503 603)
declare -A REASON=([100]=Trying [180]=Ringing [183]="Session Progress" [200]=OK [202]=Accepted
	[302]="Moved Temporarily" [404]="Not Found" [486]="Busy Here" [503]="Service Unavailable"
	[603]=Decline)
# Our own sent-by as the top Via: UDP and TCP on 127.0.0.1, UDP on [::1].
TOPS=(u4 t4 u6)
top_via() { # TOP -> TOPV
	local b
	printf -v b 'z9hG4bK%04x%04x%04x%04x' $RANDOM $RANDOM $RANDOM $RANDOM
	case $1 in
	u4) TOPV="SIP/2.0/UDP $PX:$PP;branch=$b" ;;
	t4) TOPV="SIP/2.0/TCP $PX:$PP;branch=$b" ;;
	u6) TOPV="SIP/2.0/UDP [::1]:$PP;branch=$b" ;;
	esac
}
# stray_vias SPELLING -> VIAS: the Via lines ("~" between lines), ours (TOPV) on top,
# a victim second.
STRAY_SPELLINGS=(v9udp v9tcp v6 mapped received maddr self v10 compact comma fold ws lower)
stray_vias() {
	local t=$TOPV b=z9hG4bKvictim
	case $1 in
	v9udp) VIAS="Via: $t~Via: SIP/2.0/UDP 127.0.0.9:$V;branch=$b" ;;
	v9tcp) VIAS="Via: $t~Via: SIP/2.0/TCP 127.0.0.9:$V;branch=$b" ;;
	v6) VIAS="Via: $t~Via: SIP/2.0/UDP [::1]:$V;branch=$b" ;;
	mapped) VIAS="Via: $t~Via: SIP/2.0/UDP [::ffff:127.0.0.9]:$V;branch=$b" ;;
	received) VIAS="Via: $t~Via: SIP/2.0/UDP 127.0.0.10:$V;received=127.0.0.9;rport=$V;branch=$b" ;;
	maddr) VIAS="Via: $t~Via: SIP/2.0/UDP 127.0.0.10:$V;maddr=127.0.0.9;branch=$b" ;;
	self) VIAS="Via: $t~Via: SIP/2.0/UDP $PX:$V;branch=$b" ;;
	v10) VIAS="Via: $t~Via: SIP/2.0/UDP 127.0.0.10:$V;branch=$b" ;;
	compact) VIAS="v: $t~v: SIP/2.0/UDP 127.0.0.9:$V;branch=$b" ;;
	comma) VIAS="Via: $t, SIP/2.0/UDP 127.0.0.9:$V;branch=$b" ;;
	fold) VIAS="Via: $t,~"$'\t'"SIP / 2.0 / UDP  127.0.0.9 : $V ;branch=$b" ;;
	ws) VIAS="Via:   $t  ~Via  :  SIP/2.0/UDP    127.0.0.9:$V  ;branch=$b ;rport  " ;;
	lower) VIAS="via: ${t,,}~via: sip/2.0/udp 127.0.0.9:$V;branch=$b" ;;
	esac
}
# The classic cross-protocol payload as the body.
BODY=$'GET / HTTP/1.0\r\n\r\n'
# or_rsp FILE CODE CID VIAS BODY(0|1)
or_rsp() {
	local file=$1 code=$2 cid=$3 vias=$4 body=$5 l vl method=INVITE
	[ "$code" != 202 ] || method=SUBSCRIBE
	IFS='~' read -r -a vl <<<"$vias"
	{
		printf 'SIP/2.0 %s %s\r\n' "$code" "${REASON[$code]}"
		for l in "${vl[@]}"; do printf '%s\r\n' "$l"; done
		printf 'From: <sip:tester@%s>;tag=t-%s\r\n' "$ATT" "$cid"
		printf 'To: <sip:victim@127.0.0.9:%s>;tag=v-%s\r\n' "$V" "$cid"
		printf 'Call-ID: %s\r\n' "$cid"
		printf 'CSeq: 1 %s\r\n' "$method"
		if [ "$body" = 1 ]; then
			printf 'Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s' ${#BODY} "$BODY"
		else
			printf 'Content-Length: 0\r\n\r\n'
		fi
	} >"$file"
}
N_STRAY=0
add_stray() { # NAME PROTO CODE SPELLING TOP BODY
	top_via "$5"
	stray_vias "$4"
	or_rsp "$M/$1.sip" "$3" "or-$1" "$VIAS" "$6"
	add_case "$1" "$2" none
	N_STRAY=$((N_STRAY + 1))
}
si=0
for sp in "${STRAY_SPELLINGS[@]}"; do
	# Every status code over UDP without a body, the top Via rotating.
	ci=0
	for code in "${CODES[@]}"; do
		top=${TOPS[$(((si + ci) % 3))]}
		add_stray "stray_udp_${code}_${sp}_$top" udp "$code" "$sp" "$top" 0
		ci=$((ci + 1))
	done
	# With the payload over UDP; over TCP with and without it.
	c1=${CODES[$((si % 10))]} c2=${CODES[$(((si + 3) % 10))]} c3=${CODES[$(((si + 6) % 10))]}
	add_stray "stray_udp_body_${c1}_$sp" udp "$c1" "$sp" u4 1
	add_stray "stray_tcp_${c2}_$sp" tcp "$c2" "$sp" t4 0
	add_stray "stray_tcp_body_${c3}_$sp" tcp "$c3" "$sp" t4 1
	si=$((si + 1))
done
# From the IPv6 attacker to [::1]:P_PROXY.
add_stray stray_udp6_180_v9udp_u6 udp6 180 v9udp u6 0
add_stray stray_udp6_body_200_v6_u6 udp6 200 v6 u6 1
add_stray stray_tcp6_183_v9tcp_u6 tcp6 183 v9tcp u6 0
add_stray stray_tcp6_body_603_mapped_u6 tcp6 603 mapped u6 1

# ---- C. answers to a request whose top Via names a victim ----------------------

# refl_vias SPELLING TRANSPORT CID SENDER -> VIAS, and KIND (rport or norport).
REFL_SPELLINGS=(v9 v9rport v9rportval received maddr_rport maddr v6 v6rport mapped self v10 compact comma)
refl_vias() {
	local t=$2 b=z9hG4bK-$3 me=$4
	case $me in *:*) me="[$me]" ;; esac
	KIND=rport
	case $1 in
	v9) KIND=norport VIAS="Via: SIP/2.0/$t 127.0.0.9:$V;branch=$b" ;;
	v9rport) VIAS="Via: SIP/2.0/$t 127.0.0.9:$V;branch=$b;rport" ;;
	v9rportval) VIAS="Via: SIP/2.0/$t 127.0.0.9:$V;branch=$b;rport=$V" ;;
	received) VIAS="Via: SIP/2.0/$t $me:@SP@;branch=$b;received=127.0.0.9;rport" ;;
	maddr_rport) VIAS="Via: SIP/2.0/$t $me:@SP@;branch=$b;maddr=127.0.0.9;rport" ;;
	maddr) KIND=norport VIAS="Via: SIP/2.0/$t $me:$V;branch=$b;maddr=127.0.0.9" ;;
	v6) KIND=norport VIAS="Via: SIP/2.0/$t [::1]:$V;branch=$b" ;;
	v6rport) VIAS="Via: SIP/2.0/$t [::1]:$V;branch=$b;rport" ;;
	mapped) KIND=norport VIAS="Via: SIP/2.0/$t [::ffff:127.0.0.9]:$V;branch=$b" ;;
	self) KIND=norport VIAS="Via: SIP/2.0/$t $PX:$V;branch=$b" ;;
	v10) KIND=norport VIAS="Via: SIP/2.0/$t 127.0.0.10:$V;branch=$b" ;;
	compact) VIAS="v: SIP/2.0/$t 127.0.0.9:$V;branch=$b;rport" ;;
	comma) VIAS="Via: SIP/2.0/$t 127.0.0.9:$V;branch=$b;rport, SIP/2.0/$t $me:@SP@;branch=z9hG4bK-2nd-$3" ;;
	esac
}
# Answer paths: local 483 / 420 / 416 / 200 (OPTIONS to the proxy) / INVITE 100+420 /
# 400 (bad CSeq), relayed from the SIP Server: OPTIONS 200, MESSAGE 200, INVITE 486.
REFL_PATHS=(mf0 preq scheme self inv420 bad opt msg inv)
add_refl() { # NAME PROTO SPELLING PATH
	local name=$1 proto=$2 path=$4 host=$ATT t=UDP f=$M/$1.sip srv=sip:bob@$A_UAS:$P_UAS
	case $proto in tcp* | gone) t=TCP ;; esac
	case $proto in *6) host=$ATT6 ;; esac
	refl_vias "$3" "$t" "or-$name" "$host"
	case $path in
	mf0) or_req "$f" "$host" OPTIONS "sip:victim@127.0.0.9:$V" "or-$name" "$VIAS" "Max-Forwards: 0" ;;
	preq) or_req "$f" "$host" OPTIONS "$srv" "or-$name" "$VIAS" "Proxy-Require: foo" ;;
	scheme) or_req "$f" "$host" OPTIONS "xyz:abc" "or-$name" "$VIAS" ;;
	self) or_req "$f" "$host" OPTIONS "sip:$PX:$PP" "or-$name" "$VIAS" ;;
	inv420) or_req "$f" "$host" INVITE "$srv" "or-$name" "$VIAS" "Proxy-Require: foo" ;;
	bad) or_req "$f" "$host" OPTIONS "$srv" "or-$name" "$VIAS" "CSeq: abc OPTIONS" ;;
	opt) or_req "$f" "$host" OPTIONS "$srv" "or-$name" "$VIAS" ;;
	msg) or_req "$f" "$host" MESSAGE "$srv" "or-$name" "$VIAS" ;;
	inv) or_req "$f" "$host" INVITE "sip:victim@127.0.0.9:$V" "or-$name" "$VIAS" ;;
	esac
	# rport (RFC 3581) or a TCP connection still open: the answer comes back to us.
	local expect=any
	case $proto in
	gone) expect=gone ;;
	tcp*) expect=answer ;;
	*) [ "$KIND" != rport ] || expect=answer ;;
	esac
	add_case "$name" "$proto" "$expect"
}
# "Connection gone": over TCP, closed at once; the SIP Server answers SERVER_DELAY s
# later, so the proxy holds a response for a closed connection. It may connect to
# the source IP (127.0.0.5) again, never to a host the Via names.
add_refl gone_v9 gone v9 opt
add_refl gone_v9rport gone v9rport opt
add_refl gone_maddr gone maddr opt
add_refl gone_v9_invite gone v9 inv
for x in maddr received; do
	# the victim's own sent-by, and maddr= / received= the victim
	n=gone_v9_$x
	or_req "$M/$n.sip" "$ATT" OPTIONS "sip:bob@$A_UAS:$P_UAS" "or-$n" \
		"Via: SIP/2.0/TCP 127.0.0.9:$V;branch=z9hG4bK-or-$n;$x=127.0.0.9"
	add_case "$n" gone gone
done
for sp in "${REFL_SPELLINGS[@]}"; do
	for path in "${REFL_PATHS[@]}"; do
		add_refl "refl_udp_${path}_$sp" udp "$sp" "$path"
		add_refl "refl_tcp_${path}_$sp" tcp "$sp" "$path"
	done
done
# From the IPv6 attacker (always with rport: without it the Via port at ::1 would
# be victim6's own address).
for sp in v9rport maddr_rport received; do
	for path in opt mf0; do
		add_refl "refl_udp6_${path}_$sp" udp6 "$sp" "$path"
		add_refl "refl_tcp6_${path}_$sp" tcp6 "$sp" "$path"
	done
done

# ---- send: up to POOL at once, one source port each ----------------------------

N_CASES=${#SEEN[@]}
it_log "$N_CASES cases ($N_STRAY stray responses), $POOL at a time"
t0=$SECONDS
$SIPSEND --jobs "$JOBS" --ports "$P_POOL-$((P_POOL + POOL - 1))" --outdir "$R" \
	>"$IT_TMP/summary" 2>"$IT_TMP/sipsend.log" || it_fail "sipsend --jobs failed (sipsend.log)"
# Late traffic: the delayed answers, retransmitted answers to INVITEs never ACKed.
sleep $((SERVER_DELAY + 1))
it_log "sent in $((SECONDS - t0)) s"

# ---- verdicts -----------------------------------------------------------------

# What the watched sinks received, by Call-ID: "<proto> <first line> at <local>".
declare -A HIT SRV ATTV FIRST FINAL
for v in "${VICTIMS[@]}" attacker; do
	at=""
	while IFS= read -r line; do
		case $line in
		udp-bytes\ * | tcp-bytes\ *) at=${line##* } ;;
		*" | Call-ID: "*)
			cid=${line##*| Call-ID: }x what="${line% | Call-ID: *} at $at"
			if [ "$v" = attacker ]; then
				ATTV[$cid]=$what
			elif [ -z "${HIT[$cid]:-}" ]; then
				HIT[$cid]="$v: $what"
			fi ;;
		esac
	done <"$IT_TMP/$v.out"
done
while IFS= read -r line; do
	case $line in *" | Call-ID: "*) SRV[${line##*| Call-ID: }x]=1 ;; esac
done <"$IT_TMP/server.out"
while read -r name _ first final; do
	FIRST[$name]=$first FINAL[$name]=$final
done <"$IT_TMP/summary"

failed=() n=0
verdict() { # NAME ok|FAIL DETAIL
	n=$((n + 1))
	printf '  %-4s %-36s %s\n' "$2" "$1" "$3"
	[ "$2" = ok ] || failed+=("$1")
}
while IFS='|' read -r name proto expect; do
	cid=or-${name}x first=${FIRST[$name]:-ERROR} code=${FINAL[$name]:--}
	[ "$code" != - ] || code=""
	where=""
	[ -z "${ATTV[$cid]:-}" ] || where=" (answer at $ATT:$V: ${ATTV[$cid]})"
	if [ "$first" = ERROR ]; then
		verdict "$name" FAIL "sipsend: $(head -n1 "$R/$name.out" 2>/dev/null)"
	elif [ -n "${HIT[$cid]:-}" ]; then
		verdict "$name" FAIL "sent to ${HIT[$cid]}"
	else
		case $expect in
		relay)
			if [ -n "${SRV[$cid]:-}" ]; then
				verdict "$name" ok "delivered to the SIP Server (answer ${code:-none})"
			elif [ -n "$code" ] && [ "$code" -ge 300 ]; then
				verdict "$name" ok "refused by the proxy with $code"
			else
				verdict "$name" FAIL "neither delivered to the SIP Server nor refused (${code:-no answer})"
			fi ;;
		quiet) verdict "$name" ok "victims silent (answer ${code:-none})" ;;
		none)
			if [ "$first" != - ]; then
				verdict "$name" FAIL "the attacker got an answer ($first)"
			elif [ -n "${SRV[$cid]:-}" ]; then
				verdict "$name" FAIL "forwarded to the SIP Server"
			elif [ -n "${ATTV[$cid]:-}" ]; then
				verdict "$name" FAIL "forwarded to $ATT:$V: ${ATTV[$cid]}"
			else
				verdict "$name" ok "dropped"
			fi ;;
		answer)
			if [ "$first" != - ]; then
				verdict "$name" ok "answered the sender (${code:-$first})"
			else
				verdict "$name" FAIL "no answer to the sender$where"
			fi ;;
		any) verdict "$name" ok "answer ${code:-not to the sender}$where" ;;
		gone) verdict "$name" ok "victims silent${where:- (no new connection to $ATT:$V)}" ;;
		esac
	fi
done <"$CASES"

# /metrics counts the stray responses dropped.
if [ "$PROXY_IMPL" = sipproxy ]; then
	after=$(metric_stray)
	grew=$((${after:-0} - ${STRAY_BEFORE:-0}))
	if [ -z "$after" ]; then
		verdict stray_metric FAIL \
			"neither sipproxy_responses_dropped_total nor sipproxy_stray_responses_total in /metrics"
	elif [ "$grew" -lt "$N_STRAY" ]; then
		verdict stray_metric FAIL "counter grew by $grew, $N_STRAY stray responses sent"
	else
		verdict stray_metric ok "counter grew by $grew (>= $N_STRAY)"
	fi
fi
# Every victim received nothing at all (a byte, a connection), whoever caused it.
for v in "${VICTIMS[@]}"; do
	f=$IT_TMP/$v.out
	if [ -s "$f" ]; then
		verdict "silent_$v" FAIL "$(grep -c '^tcp-accept' "$f") TCP connection(s),\
 $(grep -c -E '^(udp|tcp)-bytes' "$f") read(s), $(grep -c ' | Call-ID: ' "$f") message(s)"
	else
		verdict "silent_$v" ok "received nothing"
	fi
done
# The proxy survived all of it, and (what it_pass checks, here a named case so
# that it is reported when others failed) stops cleanly on SIGTERM.
if ! kill -0 "$PROXY_PID" 2>/dev/null; then
	verdict proxy_alive FAIL "the proxy died (proxy.log)"
else
	verdict proxy_alive ok "still running"
	if [ "$PROXY_IMPL" != sipproxy ]; then
		:
	elif it_proxy_shutdown; then
		verdict clean_shutdown ok "SIGTERM: exit status 0"
	else
		verdict clean_shutdown FAIL "$IT_SHUTDOWN_ERR"
	fi
fi

echo "cases: $n, failed: ${#failed[@]}"
[ ${#failed[@]} = 0 ] || it_fail "open relay: ${#failed[@]} failed case(s): ${failed[*]}"
it_pass
