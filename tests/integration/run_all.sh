#!/usr/bin/env bash
# run_all.sh — runs every tests/integration/<scenario>/run.sh in turn (what ctest does)
# and prints a PASS/FAIL summary; e.g. PROXY_IMPL=kamailio IT_PORT_BASE=15400 ./run_all.sh
# Arguments, if any, name the scenarios to run.
cd "$(dirname "$0")" || exit 2
# By default the scenarios built on lib.sh (they share its port plan).
list=${*:-$(grep -l "lib.sh" */run.sh | xargs -n1 dirname)}
fails=0
for t in $list; do
	start=$SECONDS
	if bash "$t/run.sh" >"/tmp/sipit-last-$t.log" 2>&1; then r=PASS; else r=FAIL; fails=$((fails + 1)); fi
	printf '%-14s %s (%ss, log /tmp/sipit-last-%s.log)\n' "$t" "$r" $((SECONDS - start)) "$t"
done
exit $((fails > 0))
