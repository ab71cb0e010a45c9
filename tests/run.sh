#!/usr/bin/env bash
# Runs every test: the unit binaries (no I/O), then the integration scripts against a real Kafka
# broker and PostgreSQL of their own (the local stack's "test" instance, started fresh and stopped
# after). Prints each result and ends with "N passed, N failed"; exits 1 on any failure.
#
#   tests/run.sh [--unit-only] [--keep-stack] [integration-script-name ...]
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
BUILD=${BUILD:-build}
export BUILD
# Another stack instance (own ports: KAFKA_PORT, KAFKA_CONTROLLER_PORT, PG_PORT, and IT_*_PORT for
# the peers) lets two test runs share a machine.
INSTANCE=${ERPSYNC_TEST_INSTANCE:-test}

passed=0
failed=0
failures=()
unit_only=0
keep_stack=0
only=()
for a in "$@"; do
	case $a in
	--unit-only) unit_only=1 ;;
	--keep-stack) keep_stack=1 ;;
	*) only+=("$a") ;;
	esac
done

# Counts "PASS name" / "FAIL name" lines of a test program's output; a program that exits non-zero
# without reporting a failure counts as one failure of its own.
tally() {
	local name=$1 out=$2 rc=$3 p f
	printf '%s\n' "$out"
	p=$(grep -c '^PASS ' <<<"$out")
	f=$(grep -c '^FAIL ' <<<"$out")
	passed=$((passed + p))
	failed=$((failed + f))
	while read -r line; do failures+=("$name: ${line#FAIL }"); done < <(grep '^FAIL ' <<<"$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name (exit $rc without a result)"
		failed=$((failed + 1))
		failures+=("$name: exit $rc")
	fi
}

if [ ${#only[@]} -eq 0 ] && [ $unit_only -eq 0 ]; then
	echo "== static checks (no stack)"
	out=$(tools/lint.sh 2>&1); rc=$?
	tally lint "$out" "$rc"
	# the sanitizer build must compile cleanly too (its binaries are for by-hand runs: make SANITIZE=1)
	if out=$(make --no-print-directory -j2 SANITIZE=1 BUILD=build/san all 2>&1); then
		echo "PASS sanitizer build: make SANITIZE=1 compiles every program and test"
	else
		printf '%s\n' "$out" | grep -E 'error|Error' | head -20
		echo "FAIL sanitizer build: make SANITIZE=1 does not compile"
		failed=$((failed + 1)); failures+=("sanitizer build")
	fi
	if command -v docker-compose >/dev/null 2>&1 && docker-compose -f docker-compose.yml config -q 2>/dev/null; then
		echo "PASS compose: docker-compose config -q accepts docker-compose.yml"
	else
		echo "FAIL compose: docker-compose config -q refuses docker-compose.yml (or docker-compose is missing)"
		failed=$((failed + 1)); failures+=("compose")
	fi
fi

if [ ${#only[@]} -eq 0 ]; then
	echo "== unit tests"
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		out=$("$t" 2>&1); rc=$?
		tally "$(basename "$t")" "$out" "$rc"
	done
fi

if [ $unit_only -eq 0 ]; then
	echo "== integration tests (real Kafka + PostgreSQL: local stack instance '$INSTANCE')"
	start_ms=$(date +%s%3N)
	if deploy/local/stack.sh wipe "$INSTANCE" >/dev/null 2>&1 && deploy/local/stack.sh start "$INSTANCE"; then
		echo "stack ready in $(( ($(date +%s%3N) - start_ms) )) ms"
		eval "$(deploy/local/stack.sh env "$INSTANCE")"
		stack_ports=("KAFKA_PORT=${KAFKA_PORT:-}" "KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-}" "PG_PORT=${PG_PORT:-}")
		IT_STACK_ENV="${stack_ports[*]}"
		export IT_STACK_ENV ERPSYNC_INSTANCE="$INSTANCE"
		# KAFKA_* variables reach librdkafka in every program: the stack's port settings must not
		unset KAFKA_PORT KAFKA_CONTROLLER_PORT
		for s in tests/integration/*/test_*.sh; do
			name=$(basename "$s" .sh)
			if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " == *" $name "* ]]; then
				continue
			fi
			echo "-- $name"
			t0=$(date +%s%3N)
			out=$(timeout 600 bash "$s" 2>&1); rc=$?
			tally "$name" "$out" "$rc"
			echo "   ($name: $(( ($(date +%s%3N) - t0) )) ms)"
		done
		[ $keep_stack -eq 1 ] || env "${stack_ports[@]}" deploy/local/stack.sh stop "$INSTANCE"
	else
		echo "FAIL integration: the local stack did not start"
		failed=$((failed + 1))
		failures+=("stack start")
		deploy/local/stack.sh stop "$INSTANCE" >/dev/null 2>&1
	fi
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "== failures"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
