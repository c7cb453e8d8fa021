#!/usr/bin/env bash
# bench/failover.sh — failover time of one SIP Server HA pair by each detection
# path, sipproxy against Kamailio's dispatcher (bench/kamailio-dispatcher.cfg)
# in front of the same simulated pair: two sipsim members (127.0.0.21 primary,
# 127.0.0.22 backup; a backup answers 503, a silenced member nothing), one proxy
# on 127.0.0.1, sipp calls (2 s long) from 127.0.0.2. Each path is ROUNDS
# switchovers, alternating which member is the primary; before each switch a
# random wait (0 to one probe interval) so the switch falls anywhere between
# two probes. Paths:
#   probe5   probing alone, no traffic: the primary silenced (role dead) and the
#            backup made active; oos-check 5, oos-force 5 (the defaults; Kamailio:
#            OPTIONS every 5 s)
#   probe1   the same with oos-check 1, oos-force 1 (sipproxy only)
#   passive  the same switch with 20 calls/s through the proxy
#            (cluster.no-response-timeout 2000 ms, the default; oos-check 5;
#            Kamailio: fr_timer 2 s and a failure_route to the next destination)
#   passive500  the same with cluster.no-response-timeout 500 ms (sipproxy only)
#   request  20 calls/s; the backup made active places one call through the
#            proxy; 1 s later the old primary is demoted (role backup)
# Measured per switchover, from the first switch command (hawatch.py):
#   switch   until the proxy routes new calls to the new member: sipproxy's
#            /nodes names it primary; Kamailio's dispatcher.list has it as the
#            first active destination by priority. request: "ignored" when
#            that did not happen within 1 s of the backup's request (before the
#            demotion), and then "after": the time from the demotion.
#            (Kamailio may also switch within that second without heeding the
#            request: when the new member is the higher-priority one and its
#            5 s probe happens to find it active.)
#   reach    until the new member received its first new INVITE (traffic paths;
#            a retried INVITE counts)
#   failed   sipp's failed calls in that round
#   earlier  calls open on the old member at the switch, and how many BYEs of
#            calls set up before the switch the new member got (its BYEs minus
#            its INVITEs): where the earlier calls' BYEs went (the two may differ
#            by one when a request crosses the reading of the old member's
#            counters, a few ms before the switch)
# Printed: one line per switchover, then per path median and worst of switch
# and reach, failed calls (total, worst round), earlier calls' BYEs at the new
# member.
#
# usage: bench/failover.sh [--quick] [--rounds N] [--impl sipproxy|kamailio|both]
#                          [--paths "probe5 probe1 passive passive500 request"]
#   --quick   3 rounds per path (smoke test); default 20
# environment:
#   SIPPROXY_BUILD_DIR  where sipproxy and sipsim are (default build/)
#   BENCH_PORT_BASE     (5060) proxy +0, admin +1, callee +10, sipp +20,
#                       members +30 (control +31)
#   BENCH_KEEP=1        keep the work directory (logs, sipp screens, rounds.tsv)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
SIPPROXY_BUILD_DIR=${SIPPROXY_BUILD_DIR:-$SRC/build}
BASE=${BENCH_PORT_BASE:-5060}
PPORT=$BASE APORT=$((BASE + 1)) CPORT=$((BASE + 10)) UPORT=$((BASE + 20))
MPORT=$((BASE + 30)) MCTL=$((BASE + 31))
PADDR=127.0.0.1 M1=127.0.0.21 M2=127.0.0.22 UAC=127.0.0.2 CALLEE=127.0.0.5
RATE=20 HOLD_MS=2000 ROUNDS=20 IMPL=both PATHS="probe5 probe1 passive passive500 request"

while [ $# -gt 0 ]; do
	case $1 in
	--quick) ROUNDS=3 ;;
	--rounds) ROUNDS=$2; shift ;;
	--impl) IMPL=$2; shift ;;
	--paths) PATHS=$2; shift ;;
	-h | --help) sed -n '2,48p' "$0"; exit 0 ;;
	*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $IMPL in sipproxy) IMPLS=sipproxy ;; kamailio) IMPLS=kamailio ;; both) IMPLS="sipproxy kamailio" ;;
*) echo "--impl sipproxy|kamailio|both" >&2; exit 2 ;; esac

. "$HERE/lib.sh"
bench_init sipfailover

command -v sipp >/dev/null || die "sipp not installed"
for b in sipproxy sipsim; do [ -x "$SIPPROXY_BUILD_DIR/$b" ] || die "no $SIPPROXY_BUILD_DIR/$b"; done
PY=$(python3 -c 'import sys; print(sys.executable)')
WATCH="$PY $SRC/tests/integration/hawatch.py"
SIM="$SIPPROXY_BUILD_DIR/sipsim"
KAMCTL="unix:$WORK/kamailio-dispatcher.ctl"

ctl() { "$SIM" ctl "$1:$MCTL" "${@:2}" >/dev/null; }
stat_of() { "$SIM" ctl "$1:$MCTL" stats | tr ' ' '\n' | awk -F= -v f="$2" '$1 == f { print $2 }'; }
screen_stat() { awk -v f="$2" 'index($0, f) { v = $(NF) } END { print v + 0 }' "$1"; }
rand_wait() { awk -v s="$1" -v r="$RANDOM" 'BEGIN { printf "%.3f", s * r / 32768 }'; }

start_members() {
	local ip role
	for ip in $M1 $M2; do
		role=backup
		[ "$ip" = "$M1" ] && role=active
		setsid "$SIM" --listen "$ip:$MPORT" --role "$role" --control-port "$MCTL" \
			--users "$SRC/etc/users.txt" --via-proxy "$PADDR:$PPORT" \
			>"$WORK/member-$ip.log" 2>&1 </dev/null &
		PIDS+=("$!")
		wait_port "$ip" "$MPORT" "$!"
	done
	MEMBER_PIDS="${PIDS[*]: -2}"
}

# start_proxy IMPL OOS_CHECK OOS_FORCE NO_RESPONSE_MS -> PX
start_proxy() {
	if [ "$1" = kamailio ]; then
		printf '1 sip:%s:%s 0 10\n1 sip:%s:%s 0 5\n' "$M1" "$MPORT" "$M2" "$MPORT" \
			>"$WORK/kamailio-dispatcher.list"
		sed -e "s/127\.0\.0\.1:5060/$PADDR:$PPORT/g" -e "s/:5090/:$MPORT/g" \
			-e "s#/tmp/kamailio-dispatcher#$WORK/kamailio-dispatcher#g" \
			"$HERE/kamailio-dispatcher.cfg" >"$WORK/kamailio-dispatcher.cfg"
		mkdir -p "$WORK/kamrun"
		setsid kamailio -f "$WORK/kamailio-dispatcher.cfg" -P "$WORK/kamailio.pid" \
			-Y "$WORK/kamrun" -DD -E -m 64 -M 16 >>"$WORK/kamailio.log" 2>&1 </dev/null &
	else
		cat >"$WORK/sipproxy.conf" <<EOF
# generated by bench/failover.sh: one proxy, one HA pair
cluster = {
  proxies = ( { name = "p1"; sip-address = "$PADDR"; sip-port = $PPORT; } );
  sip-servers = ( { name = "n1"; sip-address = "$M1"; sip-port = $MPORT;
                    backup-sip-address = "$M2"; oos-check = $2; oos-force = $3; } );
  no-response-timeout = $4;
};
log = { level = "info"; };
admin = { address = "127.0.0.1"; port = $APORT; };
EOF
		setsid "$SIPPROXY_BUILD_DIR/sipproxy" -c "$WORK/sipproxy.conf" --name p1 \
			>>"$WORK/sipproxy.log" 2>&1 </dev/null &
	fi
	PX=$!
	PIDS+=("$PX")
	wait_port "$PADDR" "$PPORT" "$PX"
}

# The check hawatch.py polls: "name=..." for --primary or --until.
switched_check() { # IMPL NEW_IP
	if [ "$1" = sipproxy ]; then
		echo "--primary switch=127.0.0.1:$APORT=UDP:$2:$MPORT"
	else
		echo "--until switch=kamcmd -s $KAMCTL dispatcher.list | awk '/URI:/ { u = \$2 } /FLAGS:/ { f = \$2 }
			/PRIORITY:/ { if (f ~ /^A/ && (b == \"\" || \$2 > bp)) { bp = \$2; b = u } }
			END { exit !(b == \"sip:$2:$MPORT\") }'"
	fi
}
# Kamailio's steady state before a switch: it knows the backup as inactive.
kam_settled() { # BACKUP_IP
	local _
	for _ in $(seq 1 150); do
		kamcmd -s "$KAMCTL" dispatcher.list 2>/dev/null |
			awk -v u="sip:$1:$MPORT" '/URI:/ { x = ($2 == u) } x && /FLAGS:/ { exit !($2 ~ /^I/) }' && return 0
		sleep 0.1
	done
	return 0 # report it anyway
}
field() { # NAME OUTPUT: the value hawatch.py printed for NAME, "-" if none
	local v
	v=$(sed -n "s/.*\\b$1=\\([0-9][0-9.]*\\|timeout\\).*/\\1/p" <<<"$2" | tail -n 1)
	echo "${v:--}"
}

# one_round IMPL PATH ROUND OLD NEW INTERVAL -> a line in rounds.tsv
one_round() {
	local impl=$1 path=$2 r=$3 old=$4 new=$5 iv=$6 sipp_pid="" tag="$1-$2-$3" out sw reach after=-
	local check
	check=$(switched_check "$impl" "$new")
	[ "$impl" = kamailio ] && kam_settled "$new"
	ctl "$old" reset
	ctl "$new" reset
	if [ "$path" != probe5 ] && [ "$path" != probe1 ]; then
		setsid sipp -sf "$SRC/tests/integration/xml/uac_hold.xml" -i "$UAC" -p "$UPORT" -t u1 \
			-nostdin -r "$RATE" -m 100000 -d "$HOLD_MS" -l 2000 -timeout 120s -timeout_error \
			-trace_screen -screen_file "$WORK/uac-$tag.screen" -trace_err -error_file "$WORK/uac-$tag.err" \
			-s 1000 "$PADDR:$PPORT" >"$WORK/uac-$tag.log" 2>&1 </dev/null &
		sipp_pid=$!
		PIDS+=("$sipp_pid")
		sleep 2
	fi
	sleep "$(rand_wait "$iv")"
	local acts=()
	case $path in
	probe*) acts=(--act "ctl $old:$MCTL role dead" --act "ctl $new:$MCTL role active") ;;
	passive*) acts=(--act "ctl $old:$MCTL role dead" --act "ctl $new:$MCTL role active" --reach "$new:$MCTL") ;;
	request) acts=(--act "ctl $new:$MCTL role active"
		--act "ctl $new:$MCTL call sip:agent@$CALLEE:$CPORT count 1 hold 500 via $PADDR:$PPORT"
		--reach "$new:$MCTL") ;;
	esac
	local timeout=20
	[ "$path" = request ] && timeout=1
	# shellcheck disable=SC2086 # $check is one option and its value
	out=$($WATCH --stats "$old:$MCTL" "${acts[@]}" "${check%% *}" "${check#* }" --poll 10 \
		--timeout "$timeout" 2>&1) || true
	echo "$out" >"$WORK/watch-$tag.out"
	sw=$(field switch "$out")
	reach=$(field reach "$out")
	local open
	open=$(awk '$1 == "stats" { split($3, i, "="); split($4, b, "="); print i[2] - b[2] }' <<<"$out")
	if [ "$path" = request ]; then
		# The old primary steps down (a real takeover); a proxy that ignored
		# the backup's request finds out now.
		local out2
		out2=$($WATCH --act "ctl $old:$MCTL role backup" "${check%% *}" "${check#* }" --poll 10 \
			--timeout 20 2>&1) || true
		echo "$out2" >>"$WORK/watch-$tag.out"
		if [ "$sw" = timeout ]; then
			sw=ignored
			after=$(field switch "$out2")
		fi
		[ "$reach" = timeout ] && reach=ignored
	fi
	local failed=- earlier=-
	if [ -n "$sipp_pid" ]; then
		sleep 2
		kill -USR1 "$sipp_pid" 2>/dev/null || true
		local _
		for _ in $(seq 1 300); do kill -0 "$sipp_pid" 2>/dev/null || break; sleep 0.1; done
		stop "$sipp_pid"
		failed=$(screen_stat "$WORK/uac-$tag.screen" "Failed call")
		local ni nb
		ni=$(stat_of "$new" invites) nb=$(stat_of "$new" byes)
		earlier="$open/$((nb - ni))"
	fi
	[ "$path" = request ] || ctl "$old" role backup
	printf '%s\t%s\t%s\t%s>%s\t%s\t%s\t%s\t%s\t%s\n' "$impl" "$path" "$r" "${old##*.}" "${new##*.}" \
		"$sw" "$after" "$reach" "$failed" "$earlier" | tee -a "$WORK/rounds.tsv"
}

run_path() { # IMPL PATH
	local impl=$1 path=$2 iv=5 c=5 f=5 nr=2000
	case $path in
	probe5 | passive | request) ;;
	probe1) iv=1 c=1 f=1 ;;
	passive500) nr=500 ;;
	*) die "unknown path $path" ;;
	esac
	case $impl-$path in kamailio-probe1 | kamailio-passive500) return 0 ;; esac
	start_members
	start_proxy "$impl" "$c" "$f" "$nr"
	local callee=""
	if [ "$path" = request ]; then
		setsid sipp -sn uas -i "$CALLEE" -p "$CPORT" -t u1 -nostdin >"$WORK/callee.log" 2>&1 </dev/null &
		callee=$!
		PIDS+=("$callee")
		wait_port "$CALLEE" "$CPORT" "$callee"
	fi
	sleep 2 # first probes answered: M1 primary, M2 known as the backup
	local r old=$M1 new=$M2
	for r in $(seq 1 "$ROUNDS"); do
		one_round "$impl" "$path" "$r" "$old" "$new" "$iv"
		local t=$old
		old=$new new=$t
	done
	[ -z "$callee" ] || stop "$callee"
	stop "$PX"
	local p
	for p in $MEMBER_PIDS; do stop "$p"; done
}

echo "# failover bench: proxy $PADDR:$PPORT, members $M1 / $M2 :$MPORT, $RATE calls/s of ${HOLD_MS} ms from $UAC, $ROUNDS switchovers per path ($(nproc) cores)"
echo "# switch: s from the command until the proxy routes to the new member; after: from the old primary's demotion (request, when ignored);"
echo "# reach: until the first new INVITE at the new member; earlier: calls open on the old member at the switch / their BYEs at the new one"
printf 'impl\tpath\tround\tmembers\tswitch_s\tafter_s\treach_s\tfailed\tearlier\n'
: >"$WORK/rounds.tsv"
for path in $PATHS; do
	for impl in $IMPLS; do run_path "$impl" "$path"; done
done

echo "# summary (median / worst in s; failed calls total, worst round; earlier calls' BYEs at the new member / calls open at the switch)"
"$PY" - "$WORK/rounds.tsv" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
def num(v):
    try:
        return float(v)
    except ValueError:
        return None
def mw(vals):
    v = [x for x in map(num, vals) if x is not None]
    bad = sum(1 for x in vals if x == "timeout")
    if not v:
        return "-" if not bad else "timeout x%d" % bad
    s = "%.3f / %.3f" % (statistics.median(v), max(v))
    return s + (" (+%d timeout)" % bad if bad else "")
print("%-9s %-10s %-24s %-24s %-24s %-12s %s" % ("impl", "path", "switch", "after demotion", "reach", "failed", "earlier BYEs"))
seen = []
for r in rows:
    if (r[0], r[1]) not in seen:
        seen.append((r[0], r[1]))
for impl, path in seen:
    rs = [r for r in rows if r[0] == impl and r[1] == path]
    sw = [r[4] for r in rs]
    ignored = sum(1 for x in sw if x == "ignored")
    swtxt = "ignored %d/%d" % (ignored, len(rs)) if ignored else mw(sw)
    failed = [int(r[7]) for r in rs if r[7] != "-"]
    ftxt = "%d, %d" % (sum(failed), max(failed)) if failed else "-"
    ear = [r[8].split("/") for r in rs if r[8] != "-"]
    etxt = "%d / %d" % (sum(int(b) for a, b in ear), sum(int(a) for a, b in ear)) if ear else "-"
    print("%-9s %-10s %-24s %-24s %-24s %-12s %s" % (impl, path, swtxt, mw([r[5] for r in rs]),
          mw([r[6] for r in rs]), ftxt, etxt))
PY
