#!/usr/bin/env bash
# Static checks that need no Kafka and no PostgreSQL (`make lint`; also the first part of `make test`):
#   banned   no function of the banned list in our C (unbounded or unchecked: use snprintf, the
#            buf_* helpers, memcpy with a checked length, strtol/strtoll with an end pointer)
#   format   every .c/.h of ours is as .clang-format lays it out (clang-format -i fixes it)
#   config   the README's configuration reference is every program's --config-reference
#   topics   every topic a program names by default is declared in deploy/topics.tsv, with its .dlq
# Prints "PASS <check>" or "FAIL <check>: ..." per check; exits 1 when any failed.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT" || exit 2
BIN=${BUILD:-build}/bin
fails=0
pass() { echo "PASS lint $1"; }
fail() { echo "FAIL lint $1"; fails=$((fails + 1)); }

mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find common adapters services sandbox tools tests -name '*.[ch]')

banned='sprintf|vsprintf|strcpy|stpcpy|strcat|strncpy|strncat|atoi|atol|atoll|atof|gets|strtok|tmpnam|mktemp'
hits=$(grep -nE "\b($banned)[[:space:]]*\(" "${sources[@]}" 2>/dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)')
if [ -z "$hits" ]; then pass "banned: none of $banned"; else fail "banned functions:"; echo "$hits" | sed 's/^/    /'; fi

if ! command -v clang-format >/dev/null 2>&1; then
	fail "format: clang-format is not installed (make deps installs it)"
else
	bad=()
	for f in "${sources[@]}"; do
		clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
	done
	if [ ${#bad[@]} -eq 0 ]; then pass "format: ${#sources[@]} files as .clang-format lays them out"
	else fail "format: ${#bad[@]} file(s) differ (clang-format -i <file>): ${bad[*]:0:10}"; fi
fi

if deploy/config-docs.sh --check >/dev/null 2>&1; then pass "config: README reference = --config-reference"
else fail "config: README reference differs (deploy/config-docs.sh --check)"; fi

declared=$(awk -F'\t' '!/^#/ && NF >= 4 {print $1}' deploy/topics.tsv)
missing=()
for p in "$BIN"/*; do
	[ -x "$p" ] || continue
	"$p" --config-reference >/tmp/lint-ref.$$ 2>/dev/null || continue
	while read -r t; do
		for want in "$t" "$t.dlq"; do
			grep -qxF "$want" <<<"$declared" || missing+=("$(basename "$p"): $want")
		done
	done < <(awk -F'|' '$2 ~ /_TOPIC`/ {gsub(/[ `]/, "", $4); if ($4 != "" && $4 != "—") print $4}' /tmp/lint-ref.$$)
done
rm -f /tmp/lint-ref.$$
if [ ${#missing[@]} -eq 0 ]; then pass "topics: every default topic and its .dlq is in deploy/topics.tsv"
else fail "topics: not declared: ${missing[*]}"; fi

[ "$fails" -eq 0 ]
