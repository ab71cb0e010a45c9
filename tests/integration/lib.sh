# Shared by the integration scripts: start the binaries against the test stack, wait for them,
# read their metrics and the database, report results. Source it; it cleans up on exit.
#
# Each script gets its own topic ("it_<script>.erp.stock.v1" and its .dlq), consumer group and a
# fresh database schema, so scripts do not see each other's records.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD/bin
: "${KAFKA_BOOTSTRAP_SERVERS:?run through tests/run.sh (needs the test stack environment)}"
: "${PG_DSN:?run through tests/run.sh}"
export KAFKA_BOOTSTRAP_SERVERS PG_DSN

IT_NAME=$(basename "${BASH_SOURCE[1]}" .sh)
IT_DIR=$(mktemp -d "/tmp/erpsync-$IT_NAME.XXXXXX")
IT_PREFIX="it_${IT_NAME}_$$"
IT_TOPIC="$IT_PREFIX.erp.stock.v1"
IT_ORDERS_TOPIC="$IT_PREFIX.shop.orders.v1"
IT_ERP_ORDERS_TOPIC="$IT_PREFIX.erp.orders.v1"
IT_RETURNS_TOPIC="$IT_PREFIX.returns.v1"
IT_ALERTS_TOPIC="$IT_PREFIX.stock.alerts.v1"
IT_PIDS=()

ERP_PORT=${IT_ERP_PORT:-29180}
WOO_A_PORT=${IT_WOO_A_PORT:-29181}
WOO_B_PORT=${IT_WOO_B_PORT:-29182}
STOCK_PORT=${IT_STOCK_PORT:-29101}
ERP_TOKEN=it-erp-token

pass() { echo "PASS $IT_NAME: $*"; }
fail() { echo "FAIL $IT_NAME: $*"; }
# check "description" command...: PASS when the command succeeds
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }

it_cleanup() {
	local p
	for p in "${IT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${IT_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ "${IT_KEEP:-0}" != 1 ]; then rm -rf "$IT_DIR"; fi
}
trap it_cleanup EXIT

psql_q() { psql "$PG_DSN" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# Creates this script's topics and their dead-letter topics.
it_topics() {
	local t
	for t in "$IT_TOPIC" "$IT_ORDERS_TOPIC" "$IT_ERP_ORDERS_TOPIC" "$IT_RETURNS_TOPIC" "$IT_ALERTS_TOPIC"; do
		printf '%s\t3\tdelete\t-1\tit\n%s.dlq\t1\tdelete\t-1\tit\n' "$t" "$t"
	done >"$IT_DIR/topics.tsv"
	"$BIN/erpsyncctl" topics create -b "$KAFKA_BOOTSTRAP_SERVERS" -f "$IT_DIR/topics.tsv" >/dev/null
}

# Starts a program in the background, its output in $IT_DIR/<name>.log; sets LAST_PID.
it_spawn() {
	local name=$1; shift
	"$@" >>"$IT_DIR/$name.log" 2>&1 &
	LAST_PID=$!
	IT_PIDS+=("$LAST_PID")
}

# wait_http URL [seconds] [expected-status]: until URL answers that status (default 200).
wait_http() {
	local url=$1 secs=${2:-30} want=${3:-200} i code
	for ((i = 0; i < secs * 10; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url")
		[ "$code" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_for SECONDS command...: until the command succeeds.
wait_for() {
	local secs=$1 i; shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# start_erp [DEMO_SKUS [VAR=value ...]]: the sandbox ERP; sets ERP_PID.
start_erp() {
	local demo=${1:-0}
	[ $# -gt 0 ] && shift
	it_spawn sandbox-erp env SANDBOX_ERP_PORT=$ERP_PORT SANDBOX_ERP_TOKEN=$ERP_TOKEN \
		SANDBOX_ERP_DEMO="$demo" "$@" "$BIN/sandbox-erp"
	ERP_PID=$LAST_PID
	wait_http "http://127.0.0.1:$ERP_PORT/healthz" 10
}

# restart_erp [DEMO_SKUS [VAR=value ...]]: stops the sandbox ERP and starts it again: its records
# and its change sequence are lost (a new change feed), as an ERP restored from a backup.
restart_erp() {
	kill -TERM "$ERP_PID" 2>/dev/null
	wait "$ERP_PID" 2>/dev/null
	start_erp "$@"
}

# start_woo PORT DEMO_SKUS [extra env...]
start_woo() {
	local port=$1 demo=$2; shift 2
	it_spawn "sandbox-woo-$port" env SANDBOX_WOO_PORT="$port" SANDBOX_WOO_CONSUMER_KEY=ck_it \
		SANDBOX_WOO_CONSUMER_SECRET=cs_it SANDBOX_WOO_DEMO="$demo" "$@" "$BIN/sandbox-woo"
	wait_http "http://127.0.0.1:$port/healthz" 10
}

# The environment stock-sync runs with in these tests: two shops, different buffers and warehouses.
stock_env() {
	cat <<ENV
PG_DSN=$PG_DSN
KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS
HTTP_PORT=$STOCK_PORT
KAFKA_SESSION_TIMEOUT_MS=6000
STOCK_TOPIC=$IT_TOPIC
STOCK_ORDERS_TOPIC=$IT_ORDERS_TOPIC
STOCK_ERP_ORDERS_TOPIC=$IT_ERP_ORDERS_TOPIC
STOCK_RETURNS_TOPIC=$IT_RETURNS_TOPIC
STOCK_ALERTS_TOPIC=$IT_ALERTS_TOPIC
STOCK_GROUP_ID=it-$IT_NAME-$$
ERP_URL=http://127.0.0.1:$ERP_PORT
ERP_TOKEN=$ERP_TOKEN
STOCK_POLL_INTERVAL=${IT_POLL_INTERVAL:-500ms}
ERPSYNC_SHOPS=woo-a,woo-b
SHOP_WOO_A_URL=http://127.0.0.1:$WOO_A_PORT
SHOP_WOO_A_KEY=ck_it
SHOP_WOO_A_SECRET=cs_it
SHOP_WOO_A_WAREHOUSES=WH-MAIN,WH-SOUTH
SHOP_WOO_A_BUFFER=2
SHOP_WOO_A_RATE=50
SHOP_WOO_B_URL=http://127.0.0.1:$WOO_B_PORT
SHOP_WOO_B_KEY=ck_it
SHOP_WOO_B_SECRET=cs_it
SHOP_WOO_B_WAREHOUSES=WH-MAIN
SHOP_WOO_B_BUFFER=5
SHOP_WOO_B_RATE=50
ENV
}

# start_stock [VAR=value ...]: stock-sync with stock_env plus overrides; sets STOCK_PID.
start_stock() {
	local -a envs
	mapfile -t envs < <(stock_env)
	it_spawn stock-sync env -i PATH="$PATH" "${envs[@]}" "$@" "$BIN/stock-sync"
	STOCK_PID=$LAST_PID
}

stock_ready() { wait_http "http://127.0.0.1:$STOCK_PORT/readyz" "${1:-30}"; }
# it_setup DEMO [VAR=value ...]: the usual start of a script: a fresh schema and topics, the ERP,
# two shops with DEMO products each, stock-sync (with the overrides), ready.
it_setup() {
	local demo=$1; shift
	reset_schema
	it_topics
	start_erp 0
	start_woo "$WOO_A_PORT" "$demo"
	start_woo "$WOO_B_PORT" "$demo"
	start_stock "$@"
	check "stock-sync becomes ready" stock_ready 30
}

# stock_assigned [N]: until the N-th (default 1st) start of stock-sync in this script has its partitions
stock_assigned() {
	local n=${1:-1}
	wait_for 30 bash -c "[ \$(grep -c '\"message\":\"kafka group .*: assigned' '$IT_DIR/stock-sync.log') -ge $n ]"
}

# metric NAME [LABEL-FILTER]: the sum of a metric's series of stock-sync (0 when absent).
metric() {
	curl -s "http://127.0.0.1:$STOCK_PORT/metrics" |
		awk -v n="$1" -v f="${2:-}" '$1 ~ "^"n"({|$)" && index($1, f) { s += $NF } END { printf "%d\n", s }'
}

# shop_qty PORT SKU: the stock quantity a sandbox shop shows for a SKU.
shop_qty() {
	curl -s -u ck_it:cs_it "http://127.0.0.1:$1/sandbox/stock" | jq -r --arg s "$2" '.[$s] // "none"'
}

erp_set() {   # erp_set SKU WAREHOUSE ON_HAND [RESERVED]
	curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ERP_TOKEN" \
		-d "{\"sku\":\"$1\",\"warehouse\":\"$2\",\"on_hand\":$3,\"reserved\":${4:-0}}" \
		"http://127.0.0.1:$ERP_PORT/sandbox/stock" | grep -q '^2'
}

reset_schema() { psql_q "DROP SCHEMA IF EXISTS stock_sync CASCADE" >/dev/null 2>&1; }

# stockgen ARGS...: produce erp.stock.v1 records to this script's topic.
stockgen() { "$BIN/stockgen" -t "$IT_TOPIC" "$@"; }

# order EVENT-ARGS...: an order event on this script's shop.orders topic (see tools/ordergen).
order() { "$BIN/ordergen" -t "$IT_ORDERS_TOPIC" "$@"; }
erp_order() { "$BIN/ordergen" -t "$IT_ERP_ORDERS_TOPIC" "$@"; }
# qty_is PORT SKU N: the shop shows N for SKU
qty_is() { [ "$(shop_qty "$1" "$2")" = "$3" ]; }

# ---- checks that something did NOT happen ----------------------------------------------------------
# Such a check passes just as well when the record under test was never consumed, so it must first
# wait for proof that it was: the record's own event id in the inbox (claimed in the transaction
# that applies it), or a marker produced after it with the same key (the same partition, which
# stock-sync consumes and commits in order) whose effect shows. Then, for effects outside that
# transaction, wait for what carries them on: the outbox relay (Kafka) or the writer (the shops).
# A fixed sleep proves neither.

# claimed EVENT-ID...: each of these event ids is in the inbox
claimed() {
	local id
	for id in "$@"; do
		[ "$(psql_q "SELECT count(*) FROM stock_sync.inbox WHERE event_id = '$id'")" = 1 ] || return 1
	done
}
# outbox_empty: every message committed to the outbox so far is in Kafka (the relay deletes a row
# only once the broker acknowledged it)
outbox_empty() { [ "$(psql_q "SELECT count(*) FROM stock_sync.outbox")" = 0 ]; }
# all_written: every change committed so far has been written to the shops (a dirty mark leaves
# shop_mark/shop_dirty only after its shop write)
all_written() {
	[ "$(psql_q "SELECT (SELECT count(*) FROM stock_sync.shop_dirty) + (SELECT count(*) FROM stock_sync.shop_mark)")" = 0 ]
}
