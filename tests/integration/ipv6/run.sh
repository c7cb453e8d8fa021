#!/usr/bin/env bash
# ipv6 — RFC 3261 §19.1.1/§25.1 (IPv6 references in SIP URIs and Via) with §16
# proxying: sipp UAC on [::1] -> proxy listening on [::1] -> sipp UAS on [::1]; 20 calls.
. "$(dirname "$0")/../lib.sh"

# shellcheck disable=SC2034 # read by lib.sh
A_UAC=::1 A_UAS=::1 A_PROXY=::1
it_proxy_conf listen=::1 servers="::1:$P_UAS:udp"
it_proxy_start
# On ::1 every process shares one address, so an implementation trusting sip-servers
# by address alone would route the UAC's INVITE by Request-URI: aim it at the UAS so
# the call completes either way; what is checked is the IPv6 Via/Record-Route.
IT_RURI_HOST="[remote_ip]:$P_UAS" it_call v6 20 u1 u1
it_assert_grep "$IT_TMP/uas.msg.log" "^Record-Route: *<sip:$IT_RR_USER\[::1\]:$P_PROXY;[^>]*lr" "IPv6 Record-Route at UAS"
it_assert_grep "$IT_TMP/uas.msg.log" "^Via: SIP/2.0/UDP \[::1\]:$P_PROXY;branch=" "IPv6 Via of the proxy"
it_proxy_alive
it_pass
