#!/usr/bin/env bash
# check-layers.sh — STYLE rule 1, dependencies only downward: a file in src/<layer>/
# may #include "<other>/..." only for <other> the same layer or an earlier one of
# SIPPROXY_LAYERS in CMakeLists.txt (the order's single source); src/main.c may
# include anything. Prints FILE:LINE per violation; exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

# The words of set(SIPPROXY_LAYERS ...), which may span lines.
read -r -a layers <<<"$(awk '
	/set\(SIPPROXY_LAYERS/ { on = 1; sub(/.*set\(SIPPROXY_LAYERS/, "") }
	on { line = $0; done = sub(/\).*/, "", line); printf "%s ", line; if (done) exit }
' CMakeLists.txt)"
[ ${#layers[@]} -gt 0 ] || { echo "check-layers: no SIPPROXY_LAYERS in CMakeLists.txt" >&2; exit 1; }

declare -A rank=()
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done

bad=0
# A folder missing from the list is not even built (CMakeLists.txt globs by layer).
for dir in src/*/; do
	dir=${dir%/}
	[ -n "${rank[${dir#src/}]:-}" ] && continue
	echo "$dir/: not a layer of SIPPROXY_LAYERS"
	bad=$((bad + 1))
done
for layer in "${layers[@]}"; do
	[ -d "src/$layer" ] || continue
	# FILE:LINE:OTHER for every #include "OTHER/...".
	while IFS=: read -r file line other; do
		if [ -z "${rank[$other]:-}" ]; then
			echo "$file:$line: includes $other/... ($other is not a layer of SIPPROXY_LAYERS)"
			bad=$((bad + 1))
		elif [ "${rank[$other]}" -gt "${rank[$layer]}" ]; then
			echo "$file:$line: includes $other/... (layer $other above $layer)"
			bad=$((bad + 1))
		fi
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"/]+/' \
		--include='*.c' --include='*.h' -r "src/$layer" |
		sed -E 's/^([^:]+):([0-9]+):.*include[[:space:]]*"([^"/]+)\/.*/\1:\2:\3/' | sort -t: -k1,1 -k2,2n)
done

if [ "$bad" -gt 0 ]; then
	echo "check-layers: $bad include(s) against the layer order: ${layers[*]}" >&2
	exit 1
fi
echo "check-layers: ok (${layers[*]})"
