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

# it_store_conf [sentinels='0 1 2'] [extra=...]: the store section of a
# proxy's config, Redis server 0 or the given sentinels; domain example.test.
it_store_conf() {
	local sentinels="" kv list=""
	for kv in "$@"; do
		case $kv in sentinels=*) sentinels=${kv#*=} ;; *) it_fail "it_store_conf: unknown $kv" ;; esac
	done
	local i
	for i in $sentinels; do list="$list${list:+, }\"127.0.0.1:$((P_SENTINEL + i))\""; done
	cat <<EOF
registrar = { domains = [ "example.test" ]; };
store = { backend = "redis"; redis-address = "127.0.0.1:$P_REDIS"; redis-timeout = 1000;
          ${list:+redis-sentinels = [ $list ];} };
EOF
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
