#!/usr/bin/env bash
# check-test-ports.sh — tests run side by side (ctest -j, several checkouts) must not
# fight over ports: unit/fuzz tests listen on port 0 and read the port back (no
# tp_listen/admin_new/bind on a literal or ALL_CAPS port, no #define *PORT* N), and an
# integration run.sh takes every port from lib.sh's P_* variables. Exits 1 on a hit.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0

# ---- unit and fuzz tests (C) -------------------------------------------------
# Per file: each listen-like call's port argument (tp_listen: 4th, admin_new: 3rd;
# the call may span 3 lines), the port set up in the 6 lines before a bind(), and
# #define NAME_PORT N.
c_hits=$(find tests/unit tests/fuzz -type f -name '*.[ch]' -print0 | sort -z |
	xargs -0 -r -n1 awk '
	function fixed(a) { gsub(/[ \t]/, "", a); return a ~ /^[1-9][0-9]*$/ || a ~ /^[A-Z][A-Z0-9_]*$/ }
	# The n-th argument of the call whose "(" ends s at position p.
	function arg(s, p, n,   i, c, depth, k, cur, q) {
		depth = 0; k = 1; cur = ""; q = 0
		for (i = p + 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (q) { if (c == "\\") { i++; continue } if (c == "\"") q = 0; cur = cur c; continue }
			if (c == "\"") { q = 1; cur = cur c; continue }
			if (c == "(") depth++
			if (c == ")") { if (depth == 0) break; depth-- }
			if (c == "," && depth == 0) { if (k == n) return cur; k++; cur = ""; continue }
			cur = cur c
		}
		return k == n ? cur : ""
	}
	function call_arg(i, name, n,   s, p) {
		s = L[i] " " L[i + 1] " " L[i + 2]
		p = index(s, name "(")
		return arg(s, p + length(name), n)
	}
	function hit(i) { sub(/^[ \t]+/, "", L[i]); printf "%s:%d: %s\n", FILENAME, i, L[i] }
	{ L[NR] = $0 }
	END {
		for (i = 1; i <= NR; i++) {
			if (L[i] ~ /tp_listen\(/ && fixed(call_arg(i, "tp_listen", 4))) hit(i)
			else if (L[i] ~ /admin_new\(/ && fixed(call_arg(i, "admin_new", 3))) hit(i)
			else if (L[i] ~ /^[ \t]*#[ \t]*define[ \t]+[A-Za-z0-9_]*PORT[A-Za-z0-9_]*[ \t]+[1-9][0-9]*[ \t]*($|\/)/) hit(i)
			else if (L[i] ~ /(^|[^A-Za-z0-9_])bind\(/) {
				for (j = (i > 6 ? i - 6 : 1); j <= i; j++) {
					if ((L[j] ~ /htons\(/ && fixed(call_arg(j, "htons", 1))) ||
					    (L[j] ~ /tp_addr_from_ip\(/ && fixed(call_arg(j, "tp_addr_from_ip", 2)))) {
						hit(j); break
					}
				}
			}
		}
	}')
if [ -n "$c_hits" ]; then
	echo "$c_hits"
	echo "check-test-ports: unit/fuzz tests above listen on a fixed port; use port 0 and read it back" >&2
	bad=1
fi

# ---- integration scenarios (bash) --------------------------------------------
# A 4-5 digit number used as a port: host:PORT (not sip:1001@), sipp -p/-mp PORT,
# *port = PORT / --control-port PORT, /dev/udp/HOST/PORT, ("HOST", PORT). Comments
# are skipped.
port_re=':[0-9]{4,5}([^0-9@]|$)|(^|[[:space:]])-m?p[[:space:]]+[0-9]{4,5}|port[[:space:]]*[=:]?[[:space:]]*[0-9]{4,5}'
port_re="$port_re"'|/dev/(udp|tcp)/[^/[:space:]]+/[0-9]{4,5}|"[0-9a-fA-F.:]+",[[:space:]]*[0-9]{4,5}\)'
sh_hits=$(grep -nE -- "$port_re" tests/integration/*/run.sh | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#' || true)
if [ -n "$sh_hits" ]; then
	echo "$sh_hits"
	echo "check-test-ports: run.sh lines above hard-code a port; use lib.sh's P_* variables" >&2
	bad=1
fi

[ "$bad" = 0 ] || exit 1
echo "check-test-ports: ok"
