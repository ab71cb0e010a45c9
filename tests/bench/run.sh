#!/usr/bin/env bash
# make bench: stock-sync against a real broker and PostgreSQL (the local stack's "bench" instance),
# next to the raw librdkafka consume rate (kcat) of the same topic in the same run.
#   BENCH_EVENTS (default 200000) records of BENCH_SKUS (default 1000) SKUs.
# Prints the figures; docs/benchmarks.md keeps the reported ones.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
BENCH_PORTS=(KAFKA_PORT="${BENCH_KAFKA_PORT:-39092}" KAFKA_CONTROLLER_PORT="${BENCH_KAFKA_CONTROLLER_PORT:-39093}"
	PG_PORT="${BENCH_PG_PORT:-35432}")
bench_stack() { env "${BENCH_PORTS[@]}" deploy/local/stack.sh "$1" bench; }
bench_stack start >/dev/null || { echo "bench: stack did not start"; exit 1; }
eval "$(bench_stack env)"
export IT_ERP_PORT=39180 IT_WOO_A_PORT=39181 IT_WOO_B_PORT=39182 IT_STOCK_PORT=39101 IT_POLL_INTERVAL=1h
N=${BENCH_EVENTS:-200000}
SKUS=${BENCH_SKUS:-1000}
. tests/integration/lib.sh
trap 'it_cleanup; bench_stack stop >/dev/null' EXIT
now_ms() { date +%s%3N; }
inbox() { psql_q "SELECT count(*) FROM stock_sync.inbox"; }

reset_schema
it_topics
start_erp 0
start_woo "$WOO_A_PORT" "$SKUS"
start_woo "$WOO_B_PORT" "$SKUS"

t0=$(now_ms); stockgen -n "$N" -s "$SKUS" -q 1000 >/dev/null; t1=$(now_ms)
produce_rate=$(( N * 1000 / (t1 - t0) ))
t0=$(now_ms)
got=$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_TOPIC" -o beginning -e -q -f 'x\n' | wc -l)
t1=$(now_ms)
raw_rate=$(( got * 1000 / (t1 - t0) ))

start_stock
stock_ready 60 || { echo "bench: stock-sync not ready"; exit 1; }
t0=$(now_ms)
wait_for 600 bash -c "[ \$(psql \"$PG_DSN\" -XAtc 'SELECT count(*) FROM stock_sync.inbox') -ge $N ]"
t1=$(now_ms)
stock_rate=$(( N * 1000 / (t1 - t0) ))
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/"$STOCK_PID"/status)
sleep 2

# shop calls for one change of each of $SKUS distinct SKUs
calls0=$(curl -s -u ck_it:cs_it "http://127.0.0.1:$WOO_A_PORT/sandbox/stats" | jq .batch_calls)
stockgen -n "$SKUS" -s "$SKUS" -q 5000 -v 1000000 >/dev/null
wait_for 60 bash -c "[ \$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stock | jq '[to_entries[] | select(.value == 5998)] | length') -ge $SKUS ]"
calls1=$(curl -s -u ck_it:cs_it "http://127.0.0.1:$WOO_A_PORT/sandbox/stats" | jq .batch_calls)

# latency ERP change -> shop write at an offered 1,000 changes/s for 10 s
hist() { curl -s "http://127.0.0.1:$STOCK_PORT/metrics" | grep "^erpsync_stock_e2e_latency_seconds_bucket{shop=\"woo-a\""; }
hist >"$IT_DIR/h0"
stockgen -n 10000 -s "$SKUS" -q 7000 -v 2000000 -r 1000 >/dev/null
sleep 3
hist >"$IT_DIR/h1"
pct() {   # pct P: the upper bound of the bucket holding the P-th percentile of the samples between h0 and h1
	paste "$IT_DIR/h0" "$IT_DIR/h1" | awk -v p="$1" '{
		match($1, /le="[^"]*"/); le = substr($1, RSTART + 4, RLENGTH - 5)
		n++; bound[n] = le; c[n] = $4 - $2 }
		END { total = c[n]; for (i = 1; i <= n; i++) if (c[i] >= total * p / 100) { print bound[i]; exit } }'
}
p50=$(pct 50); p99=$(pct 99)

cat <<TXT
bench: $(date -u +%FT%TZ), $(nproc) cores, $N records of $SKUS SKUs, topic with 3 partitions
  raw librdkafka consume (kcat)           $raw_rate records/s
  stock-sync apply (inbox+state+dirty)    $stock_rate records/s
  stockgen produce (idempotent, acks=all) $produce_rate records/s
  shop calls for $SKUS distinct SKUs        $((calls1 - calls0)) (batch calls to shop A)
  ERP change -> shop write at 1000/s      p50 <= ${p50} s, p99 <= ${p99} s (histogram bucket bounds)
  stock-sync peak resident memory         $((rss_kb / 1024)) MB
TXT
