#!/usr/bin/env bash
# bench/shared_store.sh — the shared registration store (store.backend = "redis",
# docs/shared-state.md) against the issue's figures, in one run, on loopback:
#   lag     replication lag p50/p99 (target p99 < 50 ms): proxies p1 (127.0.0.1) and
#           p2 (127.0.0.11), one Redis, a SIP Server simulator (sipsim) on 127.0.0.21;
#           sipp endpoints (127.0.0.2) REGISTER with digest through p1 at a steady
#           rate, each a new AOR (a CSV of users); p2's histogram
#           sipproxy_store_replication_lag_seconds (from Redis logging p1's change,
#           the stream id's ms, to p2 applying it) read before and after: p50/p99
#           interpolated linearly inside its buckets (1,2,5,10,20,50,... ms), the
#           mean exact (its _sum / _count), "max<=" the upper bound of the highest
#           bucket used. Resolution: ms, both clocks the same (one host). Also Redis's
#           cost per change: script calls and XREADs (INFO commandstats).
#   resync  full load of N bindings (target < 5 s for 1,000,000): Redis filled with
#           bench/store/store_fill (the store library on a real event loop: every
#           write through the Lua script, as a proxy writes; writes/s and Redis's
#           CPU per write are reported), then a proxy started on it: /store
#           last_load_ms and last_load_records once live, its RSS against the
#           same proxy live on an empty store (bytes per binding), Redis's
#           used_memory per binding (with and without the change logs, which hold
#           at most partitions x redis-log-length entries whatever N), and
#           store_fill load (the same load without the rest of the proxy). CPU
#           seconds of proxy and Redis too: on a shared 2-core machine the wall
#           time follows whatever else runs; the CPU is what a load costs.
#           Sizes grow: the second fill adds to the first.
#   reg     registrations per second, memory store against Redis: the same sipp load
#           through one proxy (fresh proxy and an empty store each run) at each rate
#           of a sweep: achieved rate, the proxy's CPU per registration (utime+stime
#           from /proc, after every write is answered), Redis's, then the
#           redis/memory ratios, and Redis's script and XREAD cost per registration.
#           sipsim's own cost is in both (not counted).
# Prints one table and writes it to the results file. No figure is asserted.
#
# usage: bench/shared_store.sh [--quick] [--parts "lag resync reg"] [--out FILE]
#          [--lag-rate R] [--lag-secs S] [--sizes "N1 N2"] [--reg-rates "R1 R2"]
#          [--reg-secs S]
#   --quick   smoke run: lag 200/s for 3 s, sizes 10000 50000, reg 300/s for 2 s
#   defaults  lag 500/s for 20 s; sizes 100000 1000000; reg 1000 2500 5000/s, 8 s each
#   --out     results file (default $SIPPROXY_BUILD_DIR/shared_store-results.txt)
# environment:
#   SIPPROXY_BUILD_DIR  sipproxy, sipsim, bench/store/store_fill (default build/)
#   BENCH_PORT_BASE     (36400) proxies +0 (p1, p2 on their own IPs), admin +1 +2,
#                       sipp +20, sipsim +30, Redis +40
#   BENCH_KEEP=1        keep the work directory (logs, sipp screens, metrics)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
SIPPROXY_BUILD_DIR=${SIPPROXY_BUILD_DIR:-$SRC/build}
BASE=${BENCH_PORT_BASE:-36400}
PPORT=$BASE ADMIN1=$((BASE + 1)) ADMIN2=$((BASE + 2)) UPORT=$((BASE + 20))
SPORT=$((BASE + 30)) RPORT=$((BASE + 40))
P1=127.0.0.1 P2=127.0.0.11 UAC=127.0.0.2 SIM=127.0.0.21
PARTS="lag resync reg" LAG_RATE=500 LAG_SECS=20 SIZES="100000 1000000"
REG_RATES="1000 2500 5000" REG_SECS=8 OUT=""

while [ $# -gt 0 ]; do
	case $1 in
	--quick) LAG_RATE=200 LAG_SECS=3 SIZES="10000 50000" REG_RATES=300 REG_SECS=2 ;;
	--parts) PARTS=$2; shift ;;
	--out) OUT=$2; shift ;;
	--lag-rate) LAG_RATE=$2; shift ;;
	--lag-secs) LAG_SECS=$2; shift ;;
	--sizes) SIZES=$2; shift ;;
	--reg-rates) REG_RATES=$2; shift ;;
	--reg-secs) REG_SECS=$2; shift ;;
	-h | --help) sed -n '2,44p' "$0"; exit 0 ;;
	*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
OUT=${OUT:-$SIPPROXY_BUILD_DIR/shared_store-results.txt}

. "$HERE/lib.sh"
bench_init sipstorebench

for c in sipp redis-server redis-cli curl jq; do command -v "$c" >/dev/null || die "$c not installed"; done
FILL=$SIPPROXY_BUILD_DIR/bench/store/store_fill
for b in sipproxy sipsim; do [ -x "$SIPPROXY_BUILD_DIR/$b" ] || die "no $SIPPROXY_BUILD_DIR/$b"; done
case " $PARTS " in *" resync "*) [ -x "$FILL" ] || die "no $FILL (make store_fill)" ;; esac
TCK=$(getconf CLK_TCK)
RESULTS=$WORK/results.txt

# row SECTION METRIC VALUE [TARGET]: one line of the table.
row() { printf '%-8s %-44s %14s  %s\n' "$1" "$2" "$3" "${4:-}" | tee -a "$RESULTS"; }
note() { echo "# $*" | tee -a "$RESULTS"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# ---- Redis ----
start_redis() {
	mkdir -p "$WORK/redis"
	setsid redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$WORK/redis" --save '' \
		--appendonly no --protected-mode no >"$WORK/redis.log" 2>&1 </dev/null &
	REDIS=$!
	PIDS+=("$REDIS")
	local _
	for _ in $(seq 1 100); do
		rcli ping 2>/dev/null | grep -q PONG && return 0
		kill -0 "$REDIS" 2>/dev/null || die "redis-server died (see $WORK/redis.log)"
		sleep 0.05
	done
	die "redis-server on $RPORT does not answer"
}
rcli() { redis-cli -p "$RPORT" "$@"; }
redis_used() { rcli info memory | awk -F: '$1 == "used_memory" { print $2 + 0 }'; }
# Bytes the change logs (one stream per partition) take.
redis_logs() {
	local k t=0 v
	for k in $(rcli --scan --pattern 'sp:{*}:log'); do
		v=$(rcli memory usage "$k")
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# cmdstat NAME: "calls usec" of Redis command NAME since the last CONFIG RESETSTAT.
cmdstat() {
	rcli info commandstats | tr -d '\r' | awk -F'[:,=]' -v n="cmdstat_$1" \
		'$1 == n { c = $3; u = $5 } END { print c + 0, u + 0 }'
}

# ---- proxies ----
# conf NAME ADMIN BACKEND PREFIX PROXIES: $WORK/NAME.conf; PROXIES = "name:ip ...".
conf() {
	local name=$1 admin=$2 backend=$3 prefix=$4 p items="" pn pip
	for p in $5; do
		IFS=: read -r pn pip <<<"$p"
		items="$items${items:+,}
    { name = \"$pn\"; sip-address = \"$pip\"; sip-port = $PPORT; }"
	done
	cat >"$WORK/$name.conf" <<EOF
# generated by bench/shared_store.sh
cluster = {
  proxies = ( $items
  );
  sip-servers = (
    { name = "sim"; sip-address = "$SIM"; sip-port = $SPORT; transport = "udp"; oos-check = 0; }
  );
  secret = "bench-shared-store-secret";
};
registrar = { domains = [ "sipproxy.test" ]; };
store = { backend = "$backend"; redis-address = "127.0.0.1:$RPORT"; redis-prefix = "$prefix";
          redis-timeout = 10000; };
log = { level = "warn"; sip-trace = false; };
admin = { address = "127.0.0.1"; port = $admin; };
shutdown-timeout = 1;
EOF
}
# start_proxy NAME IP: sipproxy --name NAME on IP:PPORT; sets PX.
start_proxy() {
	setsid "$SIPPROXY_BUILD_DIR/sipproxy" -c "$WORK/$1.conf" --name "$1" \
		>>"$WORK/$1.log" 2>&1 </dev/null &
	PX=$!
	PIDS+=("$PX")
	wait_port "$2" "$PPORT" "$PX"
}
store_field() { curl -sf "http://127.0.0.1:$1/store" | jq -r ".$2"; }
# wait_live ADMIN SECONDS: until /store says live; prints the seconds waited
# (to 0.25 s: the load's own duration is /store's last_load_ms).
wait_live() {
	local t0 v
	t0=$(date +%s.%N)
	while :; do
		v=$(store_field "$1" state 2>/dev/null || echo none)
		[ "$v" = live ] && break
		awk -v a="$t0" -v b="$(date +%s.%N)" -v s="$2" 'BEGIN { exit !(b - a > s) }' &&
			die "proxy admin $1: store not live after $2 s (state $v)"
		sleep 0.25 # polling more often costs the loading proxy CPU (curl, jq, HTTP)
	done
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", b - a }'
}
# wait_written ADMIN SECONDS: until the proxy has no write queued or in flight.
wait_written() {
	local deadline=$((SECONDS + $2)) q
	while :; do
		q=$(curl -sf "http://127.0.0.1:$1/store" | jq -r '.queued + .in_flight')
		[ "$q" = 0 ] && return 0
		[ $SECONDS -ge $deadline ] && die "proxy admin $1: $q writes unanswered after $2 s"
		sleep 0.25
	done
}
start_sim() {
	setsid "$SIPPROXY_BUILD_DIR/sipsim" --listen "$SIM:$SPORT" --users "$WORK/users.txt" \
		--max-expires 3600 >"$WORK/sipsim.log" 2>&1 </dev/null &
	SIMPID=$!
	PIDS+=("$SIMPID")
	wait_port "$SIM" "$SPORT" "$SIMPID"
}
# users N: $WORK/users-N.csv, N AORs bs0000000.. (one digest account for all).
users() {
	[ -f "$WORK/users-$1.csv" ] && return 0
	awk -v n="$1" 'BEGIN { print "SEQUENTIAL"; for (i = 0; i < n; i++) printf "bs%07d;\n", i }' \
		>"$WORK/users-$1.csv"
}
# register TAG PROXY_IP COUNT RATE: sipp registrations; sets OK FAILED SECS.
register() {
	local tag=$1 t0 t1
	users "$3"
	t0=$(date +%s.%N)
	sipp -sf "$SRC/tests/integration/registrar_load/register_csv.xml" -inf "$WORK/users-$3.csv" \
		-i "$UAC" -p "$UPORT" -t u1 -m "$3" -r "$4" -l $(($4 * 4 + 100)) -au loaduser \
		-ap loadpw -nostdin -max_socket 4096 -timeout $(($3 / $4 + 60))s -trace_screen \
		-screen_file "$WORK/$tag.screen" -trace_err -error_file "$WORK/$tag.err" \
		"$2:$PPORT" >"$WORK/$tag.log" 2>&1 </dev/null || true
	t1=$(date +%s.%N)
	OK=$(awk 'index($0, "Successful call") { v = $(NF) } END { print v + 0 }' "$WORK/$tag.screen")
	FAILED=$(awk 'index($0, "Failed call") { v = $(NF) } END { print v + 0 }' "$WORK/$tag.screen")
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN { if (b > 0) printf f, a / b; else print "n/a" }'; }

echo "loaduser loadpw" >"$WORK/users.txt"
: >"$RESULTS"
note "bench/shared_store.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n): $(nproc) cores," \
	"load average $(loadavg); $(redis-server --version | cut -d' ' -f1-3)"
note "parts: $PARTS; lag ${LAG_RATE}/s x ${LAG_SECS} s; sizes $SIZES; reg $REG_RATES/s x ${REG_SECS} s"
printf '%-8s %-44s %14s  %s\n' section metric value target | tee -a "$RESULTS"
T0=$SECONDS
start_redis

# ---- 1. replication lag at p2 ----
# lag_hist ADMIN FILE: p2's histogram buckets "le count" (cumulative) and sum, count.
lag_hist() {
	curl -sf "http://127.0.0.1:$1/metrics" | awk '
		/^sipproxy_store_replication_lag_seconds_bucket/ {
			match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); print le, $2 }
		/^sipproxy_store_replication_lag_seconds_(sum|count)/ { sub(/.*_/, "", $1); print $1, $2 }' >"$2"
}
# lag_quantiles BEFORE AFTER: "p50 p99 mean max count b50 b99" in ms from the two
# snapshots (bNN: upper bound of the bucket holding the quantile).
lag_quantiles() {
	awk 'NR == FNR { a[$1] = $2; next } { d[$1] = $2 - a[$1]; if ($1 != "sum" && $1 != "count") le[++n] = $1 }
	# q(p): the p-quantile, linear inside its bucket; qb(p): the upper bound of that bucket
	function q(p,   i, lo, hi, c0, c1, want) {
		want = p * d["+Inf"]; lo = 0; c0 = 0
		for (i = 1; i <= n; i++) {
			c1 = d[le[i]]; hi = le[i] == "+Inf" ? lo : le[i] * 1000
			if (c1 >= want && c1 > c0) return lo + (hi - lo) * (want - c0) / (c1 - c0)
			lo = hi; c0 = c1
		}
		return lo
	}
	function qb(p,   i, want) {
		want = p * d["+Inf"]
		for (i = 1; i <= n; i++) if (d[le[i]] >= want) return le[i] == "+Inf" ? ">5000" : le[i] * 1000
		return "n/a"
	}
	END {
		if (d["+Inf"] <= 0) { print "n/a n/a n/a n/a 0 n/a n/a"; exit }
		mx = "n/a"; prev = 0
		for (i = 1; i <= n; i++) { if (d[le[i]] > prev) mx = le[i] == "+Inf" ? ">5000" : le[i] * 1000; prev = d[le[i]] }
		printf "%.1f %.1f %.2f %s %d %s %s\n", q(0.50), q(0.99), d["sum"] * 1000 / d["count"], mx,
			d["count"], qb(0.50), qb(0.99)
	}' "$1" "$2"
}

part_lag() {
	local n=$((LAG_RATE * LAG_SECS)) p1 p2
	rcli flushall >/dev/null
	start_sim
	conf p1 "$ADMIN1" redis sp "p1:$P1 p2:$P2"
	conf p2 "$ADMIN2" redis sp "p1:$P1 p2:$P2"
	start_proxy p1 "$P1"
	p1=$PX
	start_proxy p2 "$P2"
	p2=$PX
	wait_live "$ADMIN1" 30 >/dev/null
	wait_live "$ADMIN2" 30 >/dev/null
	lag_hist "$ADMIN2" "$WORK/lag0.txt"
	rcli config resetstat >/dev/null
	local c0 r0
	c0=$(ticks "$p2") r0=$(ticks "$REDIS")
	register lag "$P1" "$n" "$LAG_RATE"
	# every change reaches p2 within a second or two; then read the histogram
	local deadline=$((SECONDS + 30)) have
	while :; do
		have=$(store_field "$ADMIN2" bindings)
		[ "$have" -ge "$OK" ] || [ $SECONDS -ge $deadline ] && break
		sleep 0.1
	done
	lag_hist "$ADMIN2" "$WORK/lag1.txt"
	local c1 r1
	c1=$(ticks "$p2") r1=$(ticks "$REDIS")
	local q50 q99 mean mx cnt b50 b99
	read -r q50 q99 mean mx cnt b50 b99 < <(lag_quantiles "$WORK/lag0.txt" "$WORK/lag1.txt")
	note "lag: $OK of $n registrations ok ($FAILED failed) through p1 in $SECS s; p2 holds $have;" \
		"p2's histogram (ms buckets 1,2,5,10,20,50,...), load average $(loadavg)"
	row lag "registrations/s through p1 (offered $LAG_RATE)" "$(div "$OK" "$SECS" %.0f)"
	row lag "changes measured at p2" "$cnt"
	row lag "p50 ms (interpolated in bucket)" "$q50" "bucket <= $b50 ms"
	row lag "p99 ms (interpolated in bucket)" "$q99" "< 50; bucket <= $b99 ms"
	row lag "mean ms (exact, sum/count)" "$mean"
	row lag "max ms (<= upper bound of top bucket)" "$mx"
	row lag "p2 CPU us per change (whole run)" "$(div $(((c1 - c0) * 1000000 / TCK)) "$cnt")"
	row lag "Redis CPU us per registration (whole run)" "$(div $(((r1 - r0) * 1000000 / TCK)) "$OK")"
	local ec eu xc xu
	read -r ec eu < <(cmdstat evalsha)
	read -r xc xu < <(cmdstat xread)
	row lag "Redis: script calls, us per call" "$ec" "$(div "$eu" "$ec") us"
	row lag "Redis: XREADs per change (2 proxies tail)" "$(div "$xc" "$cnt" %.2f)" \
		"$(div "$xu" "$xc") us each"
	stop "$p2"
	stop "$p1"
	stop "$SIMPID"
}

# ---- 2. full resync ----
part_resync() {
	local from=0 n used0 logs used rss0 px t ms rec rssn hwm
	rcli flushall >/dev/null
	used0=$(redis_used)
	# the proxy live on an empty store: the RSS baseline
	conf r0 "$ADMIN1" redis empty "r0:$P1"
	start_proxy r0 "$P1"
	wait_live "$ADMIN1" 30 >/dev/null
	rss0=$(rss_kb "$PX" VmRSS)
	stop "$PX"
	row resync "proxy RSS live, empty store (MB)" "$(div "$rss0" 1024)"
	conf r0 "$ADMIN1" redis sp "r0:$P1"
	for n in $SIZES; do
		[ "$n" -gt "$from" ] || die "--sizes must grow ($n after $from)"
		local r0c r1c out
		r0c=$(ticks "$REDIS")
		out=$("$FILL" fill --redis "127.0.0.1:$RPORT" --from "$from" --count $((n - from)))
		r1c=$(ticks "$REDIS")
		echo "$out" >>"$WORK/fill.txt"
		local wps heap
		wps=$(sed -n 's/.* writes_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
		heap=$(sed -n 's/.* heap_bytes_per_binding=\([0-9.-]*\).*/\1/p' <<<"$out")
		row resync "N=$n: fill writes/s through the script" "$wps" "(+$((n - from)))"
		row resync "N=$n: Redis CPU us per scripted write" "$(div $(((r1c - r0c) * 1000000 / TCK)) $((n - from)))"
		from=$n
		used=$(redis_used)
		logs=$(redis_logs)
		row resync "N=$n: Redis used_memory (MB)" "$(div $((used - used0)) 1048576)"
		row resync "N=$n: Redis bytes/binding (all keys)" "$(div $((used - used0)) "$n" %.0f)"
		row resync "N=$n: Redis bytes/binding (w/o logs)" "$(div $((used - used0 - logs)) "$n" %.0f)" \
			"logs $(div "$logs" 1048576) MB"
		# the proxy's load
		r0c=$(ticks "$REDIS")
		start_proxy r0 "$P1"
		px=$PX
		t=$(wait_live "$ADMIN1" 300)
		r1c=$(ticks "$REDIS")
		ms=$(store_field "$ADMIN1" last_load_ms)
		rec=$(store_field "$ADMIN1" last_load_records)
		rssn=$(rss_kb "$px" VmRSS)
		hwm=$(rss_kb "$px" VmHWM)
		local pcpu
		pcpu=$(ticks "$px")
		stop "$px"
		row resync "N=$n: proxy full load ms (last_load_ms)" "$ms" "$([ "$n" -ge 1000000 ] && echo '< 5000 for 1M')"
		row resync "N=$n: records loaded (last_load_records)" "$rec"
		row resync "N=$n: load records/s" "$(div $((rec * 1000)) "$ms" %.0f)"
		row resync "N=$n: proxy start to live (s, polled)" "$t"
		row resync "N=$n: proxy CPU s to live (incl. start)" "$(div "$pcpu" "$TCK" %.2f)" \
			"$(div $((pcpu * 1000000 / TCK)) "$n") us/binding"
		row resync "N=$n: Redis CPU s during the load" "$(div $((r1c - r0c)) "$TCK" %.2f)" \
			"$(div $(((r1c - r0c) * 1000000 / TCK)) "$n") us/binding"
		row resync "N=$n: proxy RSS live (MB)" "$(div "$rssn" 1024)" "peak $(div "$hwm" 1024) MB"
		row resync "N=$n: proxy RSS bytes/binding" "$(div $(((rssn - rss0) * 1024)) "$n" %.0f)"
		out=$("$FILL" load --redis "127.0.0.1:$RPORT")
		echo "$out" >>"$WORK/fill.txt"
		row resync "N=$n: store alone load ms (store_fill)" \
			"$(sed -n 's/.* last_load_ms=\([0-9]*\).*/\1/p' <<<"$out")" \
			"cpu $(sed -n 's/.* cpu_s=\([0-9.]*\).*/\1/p' <<<"$out") s"
		row resync "N=$n: store heap bytes/binding (mallinfo)" \
			"$(sed -n 's/.* heap_bytes_per_binding=\([0-9.-]*\).*/\1/p' <<<"$out")" "fill: $heap"
	done
	note "resync: load average $(loadavg)"
}

# ---- 3. registrations/s, memory against Redis ----
part_reg() {
	local rate backend n px c0 c1 r0 r1 cpu rcpu achieved
	declare -A CPU RATE_OK
	note "reg: one proxy, a fresh one and an empty store each run; CPU after every write is answered"
	for rate in $REG_RATES; do
		n=$((rate * REG_SECS))
		for backend in memory redis; do
			rcli flushall >/dev/null
			start_sim
			conf g1 "$ADMIN1" "$backend" sp "g1:$P1"
			start_proxy g1 "$P1"
			px=$PX
			[ "$backend" = redis ] && wait_live "$ADMIN1" 30 >/dev/null
			rcli config resetstat >/dev/null
			c0=$(ticks "$px") r0=$(ticks "$REDIS")
			register "reg-$backend-$rate" "$P1" "$n" "$rate"
			[ "$backend" = redis ] && wait_written "$ADMIN1" 30
			c1=$(ticks "$px") r1=$(ticks "$REDIS")
			kill -0 "$px" 2>/dev/null || echo "bench: the proxy died (see $WORK/g1.log)" >&2
			stop "$px"
			stop "$SIMPID"
			cpu=$(div $(((c1 - c0) * 1000000 / TCK)) "$OK")
			achieved=$(div "$OK" "$SECS" %.0f)
			CPU[$backend]=$cpu RATE_OK[$backend]=$achieved
			rcpu=""
			[ "$backend" = redis ] && rcpu="redis $(div $(((r1 - r0) * 1000000 / TCK)) "$OK") us/reg"
			row reg "$backend $rate/s: ok/failed" "$OK/$FAILED"
			row reg "$backend $rate/s: achieved registrations/s" "$achieved"
			row reg "$backend $rate/s: proxy CPU us/registration" "$cpu" "$rcpu"
			if [ "$backend" = redis ]; then
				local ec eu xc xu
				read -r ec eu < <(cmdstat evalsha)
				read -r xc xu < <(cmdstat xread)
				row reg "redis $rate/s: script us/call, XREADs/reg" "$(div "$eu" "$ec")" \
					"$(div "$xc" "$OK" %.2f) XREADs/reg, $(div "$xu" "$xc") us each"
			fi
		done
		row reg "$rate/s: CPU/reg redis / memory" "$(awk -v a="${CPU[redis]}" -v b="${CPU[memory]}" \
			'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
		row reg "$rate/s: achieved rate redis / memory" "$(awk -v a="${RATE_OK[redis]}" \
			-v b="${RATE_OK[memory]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
	done
	note "reg: load average $(loadavg)"
}

for part in $PARTS; do
	case $part in
	lag) part_lag ;; resync) part_resync ;; reg) part_reg ;;
	*) die "unknown part $part (lag resync reg)" ;;
	esac
done
stop "$REDIS"
note "done in $((SECONDS - T0)) s"
mkdir -p "$(dirname "$OUT")"
cp "$RESULTS" "$OUT"
echo "results: $OUT"
