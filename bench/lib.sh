# shellcheck shell=bash disable=SC2034
# bench/lib.sh — what the benchmarks share, sourced by run.sh and failover.sh:
# a work directory removed at exit (kept with BENCH_KEEP=1), the processes
# started (killed with their process groups at exit), waiting for a UDP port
# and stopping a process group.

# bench_init PREFIX: WORK=/tmp/PREFIX.XXXXXX, PIDS=(), the exit trap.
bench_init() {
	WORK=$(mktemp -d "/tmp/$1.XXXXXX")
	PIDS=()
	trap bench_cleanup EXIT
}
bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "work dir: $WORK" >&2; else rm -rf "$WORK"; fi
}
die() { echo "bench: $*" >&2; exit 1; }

# wait_port ADDR PORT PID: until something binds UDP ADDR:PORT; dies when PID does.
wait_port() {
	local _
	for _ in $(seq 1 200); do
		ss -H -lnu "( sport = :$2 )" | awk '{print $4}' | grep -qxF "$1:$2" && return 0
		kill -0 "$3" 2>/dev/null || die "process $3 died before binding $1:$2"
		sleep 0.05
	done
	die "nothing bound $1:$2"
}
# stop PID: TERM to the process group PID leads, KILL after 3 s.
stop() {
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || true
	local _
	for _ in $(seq 1 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL -- "-$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
