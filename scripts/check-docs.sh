#!/usr/bin/env bash
# check-docs.sh BUILD_DIR — the docs' tables list what exists: README.md's Layout
# table has a row per src/ folder, tests/integration/README.md one per <dir>/run.sh
# (and none for a missing one), and docs/config.md equals BUILD_DIR/sipproxy
# --config-docs. Prints each difference; exits 1 if there is one.
set -euo pipefail
build=${1:?usage: check-docs.sh BUILD_DIR}
build=$(cd "$build" && pwd)
cd "$(dirname "$0")/.."
bad=0

# compare WHAT DOC_LIST REAL_LIST: both lists sorted, one name a line.
compare() {
	local what=$1 doc=$2 real=$3 name
	for name in $(comm -13 <(echo "$doc") <(echo "$real")); do
		echo "$what: no row for $name"
		bad=1
	done
	for name in $(comm -23 <(echo "$doc") <(echo "$real")); do
		echo "$what: row for $name, which does not exist"
		bad=1
	done
}

# The first column of the Markdown table whose header row starts with "| $2 |".
table_col1() {
	awk -v h="$2" '
		!on && $0 ~ "^\\| *" h " *\\|" { on = 1; getline; next } # header, then |---|
		on && !/^\|/ { exit }
		on { split($0, c, "|"); gsub(/^[ \t`]+|[ \t`]+$/, "", c[2]); print c[2] }
	' "$1"
}

# (i) README.md: | `src/<folder>/` | ... |
doc=$(table_col1 README.md folder | sed -n 's#^src/\([^/]*\)/$#\1#p' | sort)
real=$(find src -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
compare "README.md Layout table" "$doc" "$real"

# (ii) tests/integration/README.md: | <scenario> | proves |
doc=$(table_col1 tests/integration/README.md scenario | sort)
real=$(for f in tests/integration/*/run.sh; do basename "$(dirname "$f")"; done | sort)
compare "tests/integration/README.md scenario table" "$doc" "$real"

# (iii) docs/config.md is generated from the option table (STYLE rule 8).
[ -x "$build/sipproxy" ] || { echo "check-docs: no $build/sipproxy (build it first)" >&2; exit 1; }
gen=$(mktemp)
trap 'rm -f "$gen"' EXIT
"$build/sipproxy" --config-docs >"$gen"
if ! diff -u docs/config.md "$gen"; then
	echo "docs/config.md differs from sipproxy --config-docs (regenerate it)"
	bad=1
fi

[ "$bad" = 0 ] || { echo "check-docs: the docs above do not match the tree" >&2; exit 1; }
echo "check-docs: ok"
