#!/usr/bin/env bash
# check-format.sh — STYLE rule 10: every *.c/*.h under src/ tools/ tests/ bench/ is
# formatted as the committed .clang-format says (Debian clang-format 14; CLANG_FORMAT
# overrides the binary). Prints each file clang-format would change; exits 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
cf=${CLANG_FORMAT:-clang-format}
command -v "$cf" >/dev/null || { echo "check-format: $cf not found" >&2; exit 1; }

# One clang-format run over all files; it names each file that would change in an
# "error: code should be clang-formatted" line.
rc=0
out=$(find src tools tests bench -type f -name '*.[ch]' -print0 | sort -z |
	xargs -0 "$cf" --style=file --dry-run --Werror 2>&1 >/dev/null) || rc=$?
files=$(sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' \
	<<<"$out" | sort -u)
if [ -n "$files" ]; then
	echo "$files"
	echo "check-format: $(wc -l <<<"$files") file(s) differ from .clang-format (clang-format -i FILE)" >&2
	exit 1
fi
if [ "$rc" != 0 ]; then # failed for another reason (bad .clang-format, unreadable file)
	echo "$out" >&2
	exit 1
fi
echo "check-format: ok"
