#!/usr/bin/env bash
# open_relay — RFC 3261 §26.1 / §16.4 (route information preprocessing) and §16.5
# (determining targets): an untrusted endpoint (127.0.0.5) must not use the proxy to
# reach a host that is not a SIP Server. The Request-URI, Route (loose, strict, with
# transport, maddr, IPv6, "localhost", %-escaped host, sips:, tel:) or an in-dialog
# request all name a victim (sinks on 127.0.0.9, 127.0.0.1 and ::1, port P_VICTIM)
# that must receive NOTHING; each request either reaches the SIP Server or is
# answered with a final response by the proxy.
. "$(dirname "$0")/../lib.sh"

ATT=127.0.0.5 V=$P_VICTIM PP=$P_PROXY PX=$A_PROXY
it_proxy_conf servers="$A_UAS:$P_UAS:udp"
it_sink server "$A_UAS" "$P_UAS" OPTIONS,MESSAGE
it_sink victim9 127.0.0.9 "$V"
it_sink victim1 127.0.0.1 "$V"
it_sink victim6 ::1 "$V"
it_proxy_start

# name | proto | method | Request-URI | extra header(s) separated by "~"
cases=$(cat <<CASES
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
CASES
)

n=0
while IFS='|' read -r name proto method ruri hdrs; do
	[ -n "$name" ] || continue
	n=$((n + 1))
	IFS='~' read -r -a hl <<<"$hdrs"
	it_mkreq "$IT_TMP/$name.sip" "$proto" "$ATT" "$method" "$ruri" "relay-$name" "${hl[@]}"
	it_send "$name" "$proto" "$ATT" "$IT_TMP/$name.sip" --wait 1.5 --count 1
done <<<"$cases"

# An in-dialog request (To tag) routed through the proxy with the victim as target.
it_mkreq "$IT_TMP/dialog.sip" udp "$ATT" OPTIONS "sip:victim@127.0.0.9:$V" relay-dialog \
	"Route: <sip:$PX:$PP;lr>"
sed -i 's/^\(To: <[^>]*>\)\r$/\1;tag=remote1\r/' "$IT_TMP/dialog.sip"
grep -q 'tag=remote1' "$IT_TMP/dialog.sip" || it_fail "could not build the in-dialog request"
it_send dialog udp "$ATT" "$IT_TMP/dialog.sip" --wait 1.5 --count 1
cases="$cases
dialog|udp|OPTIONS||"

# Every victim must have received nothing; print what it got otherwise.
for v in victim9 victim1 victim6; do
	if [ -s "$IT_TMP/$v.out" ]; then
		cat "$IT_TMP/$v.out" >&2
		it_fail "open relay: $v received $(wc -l <"$IT_TMP/$v.out") message(s) (above)"
	fi
done
# Each request reached the SIP Server or got a final answer from the proxy.
bad=""
while IFS='|' read -r name _; do
	[ -n "$name" ] || continue
	code=$(it_status "$IT_TMP/$name.out")
	if grep -q "relay-$name\$" "$IT_TMP/server.out"; then
		it_log "$name: delivered to the SIP Server (answer ${code:-none})"
	elif [ -n "$code" ] && [ "$code" -ge 300 ]; then
		it_log "$name: refused by the proxy with $code"
	else
		bad="$bad $name(${code:-no answer})"
	fi
done <<<"$cases"
[ -z "$bad" ] || it_fail "neither delivered to the SIP Server nor refused:$bad"
it_proxy_alive
it_pass
