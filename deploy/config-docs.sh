#!/usr/bin/env bash
# Writes each program's `--config-reference` table into README.md between its markers
#   <!-- config:<program> --> ... <!-- /config -->
# so the README's configuration reference is generated from the config tables themselves.
#   deploy/config-docs.sh            rewrite README.md
#   deploy/config-docs.sh --check    exit 1 when README.md is not in sync (used by the tests)
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
BIN=$ROOT/${BUILD:-build}/bin
readme=$ROOT/README.md
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp".*' EXIT
cp "$readme" "$tmp"
for prog in $(grep -o '<!-- config:[a-z0-9-]* -->' "$readme" | sed 's/<!-- config:\(.*\) -->/\1/'); do
	"$BIN/$prog" --config-reference >"$tmp.table"
	awk -v prog="$prog" -v table="$tmp.table" '
		$0 == "<!-- config:" prog " -->" { print; while ((getline l < table) > 0) print l; skip = 1; next }
		skip && $0 == "<!-- /config -->" { skip = 0 }
		!skip { print }' "$tmp" >"$tmp.new"
	mv "$tmp.new" "$tmp"
done
if [ "${1:-}" = --check ]; then
	diff -u "$readme" "$tmp" >/dev/null || { diff -u "$readme" "$tmp" | head -20; exit 1; }
else
	cp "$tmp" "$readme"
fi
