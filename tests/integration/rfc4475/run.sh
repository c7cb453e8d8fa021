#!/usr/bin/env bash
# rfc4475 — RFC 4475 (SIP torture test messages) against the proxy: every message of
# tests/data/rfc4475 is sent raw over UDP from an endpoint; the proxy must
# stay up (it still proxies an OPTIONS at the end), answer invalid requests 400 (505
# for badvers, §3.1.2.16), drop invalid and foreign responses (§3.1.2.5, .19, 3.3.10),
# forward valid requests to the SIP Server, and apply §16.3: zeromf 483 (§3.3.11),
# bext01 420 (§3.3.5), unkscm 416 (§3.3.2); novelsc (§3.3.3) may be forwarded or 416.
# Messages whose syntax error lies in a header a proxy need not parse (Date, Contact,
# display names, escaped R-URI headers) may also be forwarded ("400|fwd").
# sipsend.py adds ";rport" to the first Via (RFC 3581) so answers come back to it.
# Some files share a server-transaction key (method, top Via sent-by and branch,
# RFC 3261 §17.2.3): unkscm/novelsc, cparam01/cparam02, escnull/regescrt. The later
# one is a retransmission if the first transaction is still alive, so it is sent from
# the same port, and the first one's answer resent is accepted too.
. "$(dirname "$0")/../lib.sh"

DIR=${RFC4475_DIR:-$SIPPROXY_SOURCE_DIR/tests/data/rfc4475}
[ -f "$DIR/CASES.tsv" ] || it_fail "no torture messages in $DIR"

# file -> expectation: fwd | drop | CODE | CODE|fwd | CODE|CODE
declare -A want=(
	[wsinv]=fwd [intmeth]=fwd [esc01]=fwd [escnull]=fwd [esc02]=fwd [lwsdisp]=fwd
	[longreq]=fwd [dblreq]=fwd [semiuri]=fwd [transports]=fwd [mpart01]=fwd
	[unreason]=drop [noreason]=drop
	[badinv01]=400 [clerr]=400 [ncl]=400 [scalar02]=400 [scalarlg]=drop
	[quotbal]='400|fwd' [ltgtruri]=400 [lwsruri]=400 [lwsstart]=400 [trws]=400
	[escruri]='400|fwd' [baddate]='400|fwd' [regbadct]='400|fwd' [badaspec]='400|fwd'
	[baddn]='400|fwd' [badvers]='505|400' [mismatch01]=400 [mismatch02]=400 [bigcode]=drop
	[badbranch]=fwd
	[insuf]=400 [unkscm]=416 [novelsc]='416|fwd' [unksm2]=fwd [bext01]=420 [invut]=fwd
	[regaut01]=fwd [multi01]=400 [mcl01]=400 [bcast]=drop [zeromf]=483
	[cparam01]=fwd [cparam02]=fwd [regescrt]=fwd [sdp01]=fwd [inv2543]=fwd
)

it_proxy_conf servers="$A_UAS:$P_UAS:udp"
# The server answers every request (INVITE with 486) so that no late 408 arrives.
it_sink server "$A_UAS" "$P_UAS" '*'
it_proxy_start

fails="" n=0
declare -A txn_port=() txn_code=()
while IFS=$'\t' read -r file section _title group; do
	[ "$file" = file ] && continue
	base=${file%.dat}
	exp=${want[$base]:-}
	[ -n "$exp" ] || { fails="$fails $base(no expectation)"; continue; }
	n=$((n + 1))
	# Each message from its own port (base+50..99): a late answer to one cannot be
	# mistaken for the answer to the next (except for a shared transaction key).
	port=$((IT_PORT_BASE + 50 + n - 1))
	key="$(head -1 "$DIR/$file" | cut -d' ' -f1)|$(grep -a -m1 -iE '^(via|v)[ 	]*:' "$DIR/$file" | tr -d '\r' || true)"
	prev=""
	case $key in SIP/*) ;; *) [ -n "${txn_port[$key]:-}" ] && { port=${txn_port[$key]}; prev=${txn_code[$key]}; } ;; esac
	IT_SEND_PORT=$port it_send "t-$base" udp "$A_UAC" "$DIR/$file" --rport --any-call --wait 0.6 --count 1
	it_proxy_alive
	code=$(it_status "$IT_TMP/t-$base.out")
	cid=$(grep -m1 -aiE '^(call-id|i)[ 	]*:' "$DIR/$file" | sed 's/^[^:]*:[ 	]*//; s/\r$//' || true)
	fwd=0
	[ -n "$cid" ] && grep -qaF -- "$cid" "$IT_TMP/server.out" && fwd=1
	ok=0
	case "|$exp|" in
	*"|fwd|"*) [ $fwd = 1 ] && ok=1 ;;
	esac
	case "|$exp|" in
	*"|drop|"*) [ $fwd = 0 ] && [ -z "$code" ] && ok=1 ;;
	esac
	for c in ${exp//|/ }; do
		[[ $c =~ ^[0-9]+$ ]] && [ "$code" = "$c" ] && [ $fwd = 0 ] && ok=1
	done
	# A retransmission of an earlier transaction gets that transaction's answer again.
	[ -n "$prev" ] && [ "$code" = "$prev" ] && ok=1
	txn_port[$key]=$port
	txn_code[$key]=$code
	result="answer=${code:-none} forwarded=$fwd${prev:+ (same txn key as an earlier file, its answer $prev)}"
	if [ $ok = 1 ]; then
		it_log "ok   $base (§$section, $group): want $exp, $result"
	else
		it_log "FAIL $base (§$section, $group): want $exp, $result"
		fails="$fails $base"
	fi
done <"$DIR/CASES.tsv"

# §18.1.1: the SIP Server is configured "udp": the long messages (over 1300
# bytes) still reach it over UDP, since it cannot take TCP.
for base in longreq mpart01 wsinv; do
	cid=$(grep -m1 -aiE '^(call-id|i)[ 	]*:' "$DIR/$base.dat" | sed 's/^[^:]*:[ 	]*//; s/\r$//')
	grep -aF -- "$cid" "$IT_TMP/server.out" | grep -q '^udp ' ||
		fails="$fails $base(not over UDP to the UDP SIP Server)"
done

# Still alive and proxying.
it_mkreq "$IT_TMP/final.sip" udp "$A_UAC" OPTIONS "sip:alive@$A_PROXY:$P_PROXY" final-alive
it_send final udp "$A_UAC" "$IT_TMP/final.sip" --wait 3 --count 1
it_assert_eq "$(it_status "$IT_TMP/final.out")" 200 "OPTIONS after the torture messages"
it_proxy_alive
[ "$n" -ge 49 ] || it_fail "only $n torture messages ran"
[ -z "$fails" ] || it_fail "torture cases not handled as RFC 4475 says:$fails"
it_pass
