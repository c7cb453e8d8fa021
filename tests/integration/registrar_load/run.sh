#!/usr/bin/env bash
# registrar_load — 10,000 endpoints register with digest authentication through the
# proxy at 500 registrations/s (registrar issue): every one must get its 200 from the
# SIP Server (the simulator) and every binding must be in the store afterwards
# (/registrations count), with the proxy still up.
. "$(dirname "$0")/../lib.sh"

N=${REG_LOAD_N:-10000}
RATE=${REG_LOAD_RATE:-500}
SIPSIM=$SIPPROXY_BUILD_DIR/sipsim
CTL=$SIPPROXY_BUILD_DIR/sipproxyctl
it_need_bin "$SIPSIM"
it_need_bin "$CTL"
python3 - "$N" "$IT_TMP/users.txt" "$IT_TMP/users.csv" <<'PY'
import sys
n, users, csv = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(users, "w") as u, open(csv, "w") as c:
    u.write("loaduser loadpw\n")
    c.write("SEQUENTIAL\n")
    for i in range(n):
        c.write("ep%05d;\n" % i)
PY
it_start sipsim "$SIPSIM" --listen "$A_UAS:$P_UAS" --users "$IT_TMP/users.txt" --max-expires 600
it_wait_port udp "$A_UAS" "$P_UAS" 10 "$IT_LAST_PID"
SIM_PID=$IT_LAST_PID
it_proxy_conf servers="$A_UAS:$P_UAS:udp" t1=500 \
	extra='registrar = { domains = [ "sipproxy.test" ]; };'
sed -i 's/sip-trace = true/sip-trace = false/; s/level = "debug"/level = "info"/' "$IT_TMP/proxy.conf"
it_proxy_start
it_sipp_ok reg -sf "$IT_SCEN_DIR/register_csv.xml" -inf "$IT_TMP/users.csv" -i "$A_UAC" \
	-p "$P_UAC" -t u1 -m "$N" -r "$RATE" -l 2000 -au loaduser -ap loadpw "$(it_hostport "$A_PROXY" "$P_PROXY")"
it_assert_eq "$(it_sipp_stat reg 'Successful call')" "$N" "successful registrations"
it_assert_eq "$(it_sipp_stat reg 'Failed call')" 0 "failed registrations"
SIPPROXY_ADMIN=127.0.0.1:$P_ADMIN "$CTL" registrations >"$IT_TMP/all.json"
count=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["count"])' "$IT_TMP/all.json")
it_assert_eq "$count" "$N" "bindings in the store"
it_alive "$SIM_PID" sipsim
it_proxy_alive
it_pass
