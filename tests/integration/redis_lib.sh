# shellcheck shell=bash disable=SC2034
# redis_lib.sh — the shared store's scenarios, sourced after lib.sh (and
# cluster_lib.sh): a test's own redis-server and redis-sentinel processes on
# loopback ports P_REDIS+i / P_SENTINEL+i, no persistence unless asked, data
# in $IT_TMP; stopped with the test like every process it starts.

# it_redis I [redis-server args...]: redis-server on 127.0.0.1:$((P_REDIS+I)).
# Sets REDISPID_I and REDIS_PORT_I.
it_redis() {
	local i=$1 port=$((P_REDIS + $1))
	shift
	command -v redis-server >/dev/null || it_fail "redis-server missing (scripts/install-deps.sh)"
	mkdir -p "$IT_TMP/redis$i"
	it_start "redis$i" redis-server --bind 127.0.0.1 --port "$port" --dir "$IT_TMP/redis$i" \
		--save '' --appendonly no --protected-mode no "$@"
	printf -v "REDISPID_$i" %s "$IT_LAST_PID"
	printf -v "REDIS_PORT_$i" %s "$port"
	local t
	for t in $(seq 1 100); do
		redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
		kill -0 "$IT_LAST_PID" 2>/dev/null || it_fail "redis-server on $port died"
		sleep 0.05
	done
	it_fail "redis-server on $port does not answer"
}

# it_rcli I ARGS...: redis-cli against server I.
it_rcli() {
	local i=$1
	shift
	redis-cli -p $((P_REDIS + i)) "$@"
}

# it_redis_stop I: SIGKILL server I (no goodbye to its clients) and wait.
it_redis_stop() {
	local pid
	pid=$(eval echo "\${REDISPID_$1:-}")
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

# it_sentinel I MASTER_I QUORUM: redis-sentinel on 127.0.0.1:$((P_SENTINEL+I))
# watching server MASTER_I as "sipproxy", fast timers (down after 1 s).
it_sentinel() {
	local i=$1 m=$2 q=${3:-2} port=$((P_SENTINEL + $1))
	cat >"$IT_TMP/sentinel$i.conf" <<EOF
port $port
bind 127.0.0.1
dir $IT_TMP
protected-mode no
sentinel monitor sipproxy 127.0.0.1 $((P_REDIS + m)) $q
sentinel down-after-milliseconds sipproxy 1000
sentinel failover-timeout sipproxy 5000
sentinel parallel-syncs sipproxy 1
EOF
	it_start "sentinel$i" redis-sentinel "$IT_TMP/sentinel$i.conf"
	printf -v "SENTPID_$i" %s "$IT_LAST_PID"
	it_wait_port tcp 127.0.0.1 "$port" 10 "$IT_LAST_PID"
}

# it_store_conf [sentinels='0 1 2']: the store section of a proxy's config,
# Redis server 0 (store.redis-address), or only the given sentinels
# (store.redis-sentinels, master name "sipproxy"); domain example.test.
it_store_conf() {
	local sentinels="" kv list=""
	for kv in "$@"; do
		case $kv in sentinels=*) sentinels=${kv#*=} ;; *) it_fail "it_store_conf: unknown $kv" ;; esac
	done
	local i
	for i in $sentinels; do list="$list${list:+, }\"127.0.0.1:$((P_SENTINEL + i))\""; done
	local where="redis-address = \"127.0.0.1:$P_REDIS\";"
	[ -z "$list" ] || where="redis-sentinels = [ $list ];"
	cat <<EOF
registrar = { domains = [ "example.test" ]; };
store = { backend = "redis"; redis-timeout = 1000; $where };
EOF
}

# it_shared_proxies [it_store_conf args...]: proxies p1 (127.0.0.1, admin
# P_ADMIN) and p2 (127.0.0.11, admin P_ADMIN2) of $IT_TMP/cluster.conf on the
# shared store, both live; sets STORE (their store section) and PROXY_PID (p1).
it_shared_proxies() {
	STORE=$(it_store_conf "$@")
	it_cluster_proxy p1 "$P_ADMIN" extra="$STORE"
	it_cluster_proxy p2 "$P_ADMIN2" extra="$STORE"
	PROXY_PID=$PID_p1
	it_wait_store "$P_ADMIN" state live 10
	it_wait_store "$P_ADMIN2" state live 10
}

# it_store ADMIN_PORT FIELD: one field of the proxy's GET /store.
it_store() {
	curl -s "http://127.0.0.1:$1/store" | "$IT_PY" -c '
import json, sys
print(json.load(sys.stdin).get(sys.argv[1], "absent"))' "$2"
}

# it_wait_store ADMIN_PORT FIELD VALUE SECONDS: polls /store until FIELD is VALUE.
it_wait_store() {
	local deadline=$((SECONDS + $4)) v
	while :; do
		v=$(it_store "$1" "$2")
		[ "$v" = "$3" ] && return 0
		[ $SECONDS -ge $deadline ] && it_fail "proxy admin $1: /store $2 is '$v', not '$3' after $4 s"
		sleep 0.1
	done
}

# it_aors ADMIN_PORT: the AORs the proxy holds, sorted, one per line
# (each AOR once, whatever its number of contacts).
it_aors() {
	"$SIPPROXY_BUILD_DIR/sipproxyctl" -a "127.0.0.1:$1" registrations | "$IT_PY" -c '
import json, sys
seen = sorted({b["aor"] for b in json.load(sys.stdin)["bindings"]})
print("\n".join(seen))'
}

# it_contacts ADMIN_PORT AOR: the AOR's contacts at the proxy, sorted, one per
# line; nothing when it has none.
it_contacts() {
	{ "$SIPPROXY_BUILD_DIR/sipproxyctl" -a "127.0.0.1:$1" registrations "$2" || true; } | "$IT_PY" -c '
import json, sys
text = sys.stdin.read()
b = json.loads(text)["bindings"] if text.strip().startswith("{") else []
print("\n".join(sorted(x["contact"] for x in b)))'
}

# ---- registration load against the shared store (shared_failover,
# shared_redis_outage, shared_sentinel) ---------------------------------------

# it_reg_users PREFIX N CONTACT_PORT: N users PREFIX0001.. (password pw-USER):
# appends them to $IT_TMP/users.txt (sipsim --users) and writes
# $IT_TMP/PREFIX.csv, one digest REGISTER each (xml/register_at.xml, Contact
# port CONTACT_PORT, Expires 600).
it_reg_users() {
	local prefix=$1 n=$2 cport=$3 i u
	echo SEQUENTIAL >"$IT_TMP/$prefix.csv"
	for i in $(seq -f %04g 1 "$n"); do
		u=$prefix$i
		echo "$u pw-$u" >>"$IT_TMP/users.txt"
		echo "$u;example.test;$cport;[authentication username=$u password=pw-$u];600" >>"$IT_TMP/$prefix.csv"
	done
}

# it_reg_load NAME PROXY_IP UAC_IP UAC_PORT CSV COUNT RATE [sipp args...]:
# COUNT REGISTERs of CSV's users from UAC_IP:UAC_PORT through the proxy at RATE
# per second, in the background; each answered 200 is a line "200 USER PORT"
# of $IT_TMP/NAME.ok (register_at.xml's log action); a REGISTER unanswered for
# IT_REG_TIMEOUT ms (3000) fails (its endpoint got no 200). Sets IT_LAST_PID.
it_reg_load() {
	local name=$1 ip=$2 uip=$3 uport=$4 csv=$5 count=$6 rate=$7
	shift 7
	: >"$IT_TMP/$name.ok"
	it_sipp_bg "$name" -sf "$IT_XML/register_at.xml" -inf "$csv" -i "$uip" -p "$uport" -t u1 \
		-m "$count" -r "$rate" -l 200 -recv_timeout "${IT_REG_TIMEOUT:-3000}" -trace_logs -log_file "$IT_TMP/$name.ok" \
		"$@" "$ip:$P_PROXY"
}

# it_reg_ok NAME...: the AORs (sip:USER@example.test) that got their 200 in
# those loads, sorted, once each.
it_reg_ok() {
	local n
	for n in "$@"; do awk '$1 == "200" { print "sip:" $2 "@example.test" }' "$IT_TMP/$n.ok"; done | sort -u
}

# it_wait_lines FILE N SECONDS: polls until FILE has at least N lines.
it_wait_lines() {
	local deadline=$((SECONDS + $3))
	while [ "$(wc -l <"$1")" -lt "$2" ]; do
		[ $SECONDS -ge $deadline ] && it_fail "$(basename "$1"): $(wc -l <"$1") lines, not $2, after $3 s"
		sleep 0.05
	done
}

# it_regs ADMIN_PORT: the proxy's bindings, one "AOR CALL-ID CSEQ" line each,
# sorted (what Redis holds too: it_redis_regs).
it_regs() {
	"$SIPPROXY_BUILD_DIR/sipproxyctl" -a "127.0.0.1:$1" registrations | "$IT_PY" -c '
import json, sys
for l in sorted("%s %s %s" % (b["aor"], b["call_id"], b["cseq"]) for b in json.load(sys.stdin)["bindings"]):
    print(l)'
}

# it_regs_full ADMIN_PORT: every field of every binding but its expiry and
# connection id (which only the proxy holding the flow knows), sorted.
it_regs_full() {
	"$SIPPROXY_BUILD_DIR/sipproxyctl" -a "127.0.0.1:$1" registrations | "$IT_PY" -c '
import json, sys
out = []
for b in json.load(sys.stdin)["bindings"]:
    b.pop("expires_in", None); b.pop("conn_id", None)
    out.append(json.dumps(b, sort_keys=True))
print("\n".join(sorted(out)))'
}

# it_redis_groups I KIND: the groups of kind KIND in Redis server I, one
# "GROUP KEY VERSION EXPIRES_MS CSEQ CALL-ID" line per record, lapsed ones too,
# sorted: SCAN over the buckets and HGETALL over RESP, each group's records
# framed and headed as store/repl.h documents ("<max expires>\n", then
# "<key len> <value len>\n<key><value>"; a value "<version> <expires_ms>
# <cseq> <call-id>\n<payload>"). A frame that does not parse fails.
it_redis_groups() {
	"$IT_PY" - $((P_REDIS + $1)) "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
def rd():
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t == b"-":
        sys.exit("redis: " + rest.decode())
    if t in (b"+", b":"):
        return rest
    n = int(rest)
    if n < 0:
        return None
    return f.read(n + 2)[:-2] if t == b"$" else [rd() for _ in range(n)]
def cmd(*a):
    a = [x.encode() for x in a]
    s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
    return rd()
cur, out = "0", []
while True:
    cur, keys = cmd("SCAN", cur, "MATCH", "sp:{*}:%s:*" % sys.argv[2], "COUNT", "1000", "TYPE", "hash")
    cur = cur.decode()
    for k in keys:
        v = cmd("HGETALL", k.decode())
        for group, g in zip(v[0::2], v[1::2]):
            p = g.index(b"\n") + 1
            while p < len(g):
                nl = g.index(b"\n", p)
                kl, vl = (int(x) for x in g[p:nl].split(b" "))
                key, val = g[nl + 1:nl + 1 + kl], g[nl + 1 + kl:nl + 1 + kl + vl]
                if len(val) != vl:
                    sys.exit("group %r: a frame runs past its value" % group)
                head = val.split(b"\n", 1)[0].decode()
                out.append("%s %s %s" % (group.decode(), key.decode(), head))
                p = nl + 1 + kl + vl
    if cur == "0":
        break
print("\n".join(sorted(out)))
PY
}

# it_redis_regs I: the live bindings in Redis server I, one "AOR CALL-ID CSEQ"
# line each, sorted (it_redis_groups of kind r).
it_redis_regs() {
	it_redis_groups "$1" r | awk -v now="$(date +%s%3N)" \
		'$4 > now { cid = $6; for (i = 7; i <= NF; i++) cid = cid " " $i; print $1, cid, $5 }' | sort
}

# it_aors_of CMD...: the AORs in CMD's "AOR ..." lines, sorted, once each.
it_aors_of() { "$@" | awk 'NF { print $1 }' | sort -u; }

# it_wait_holds WANT_FILE SECONDS WHAT CMD...: polls until the AORs of CMD's
# output (it_aors_of) include every line of WANT_FILE; fails naming some that
# are missing.
it_wait_holds() {
	local want=$1 secs=$2 what=$3 deadline=$((SECONDS + $2)) got miss
	shift 3
	got=$(mktemp "$IT_TMP/holds.XXXXXX")
	while :; do
		it_aors_of "$@" >"$got" 2>/dev/null || true
		miss=$(comm -23 "$want" "$got" | wc -l)
		[ "$miss" = 0 ] && return 0
		[ $SECONDS -ge $deadline ] &&
			it_fail "$what: $miss of $(wc -l <"$want") AORs missing after $secs s (e.g. $(comm -23 "$want" "$got" | head -3 | tr '\n' ' '))"
		sleep 0.2
	done
}

# it_wait_same SECONDS WHAT "CMD_A" "CMD_B": polls until both commands (each
# a string for eval) print the same lines; fails with the first differences.
it_wait_same() {
	local secs=$1 what=$2 a=$3 b=$4 deadline=$((SECONDS + $1)) fa fb
	fa=$(mktemp "$IT_TMP/same.XXXXXX") fb=$(mktemp "$IT_TMP/same.XXXXXX")
	while :; do
		eval "$a" >"$fa" 2>/dev/null || true
		eval "$b" >"$fb" 2>/dev/null || true
		[ -s "$fa" ] && cmp -s "$fa" "$fb" && return 0
		[ $SECONDS -ge $deadline ] &&
			it_fail "$what: '$a' ($(wc -l <"$fa") lines) and '$b' ($(wc -l <"$fb") lines) differ after $secs s: $(diff "$fa" "$fb" | head -4 | tr '\n' ' ')"
		sleep 0.2
	done
}

# it_peer_alive ADMIN_PORT PEER: true|false, the proxy's view of PEER (/nodes).
it_peer_alive() {
	it_nodes "$1" | "$IT_PY" -c '
import json, sys
print(next((str(p["alive"]).lower() for p in json.load(sys.stdin).get("proxies", []) if p["name"] == sys.argv[1]), "absent"))' "$2"
}
