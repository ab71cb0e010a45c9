#!/usr/bin/env bash
# make bench, order-sync's part (after stock-sync's in tests/bench/run.sh; alone: tests/bench/order.sh,
# which then wipes, starts and stops the bench stack itself): order-sync on the local stack's "bench"
# instance with the sandbox ERP (the fixture's SKUs added) and one sandbox shop, webhooks from
# tools/webhookgen (signed bodies of tests/integration/order-sync/order_pl.json), next to the raw
# librdkafka figures of the same topic in the same run.
#   BENCH_ORDER_RATE (default 2000) webhooks/s offered for BENCH_ORDER_SECS (default 10) s, over
#     BENCH_ORDER_CONNS (default 16) keep-alive connections: the intake, with booking held (the ERP
#     refuses every /api/v1/orders call) so that the orders queue up in shop.orders.v1;
#   then booking is let go and the queue drains: orders booked per second;
#   BENCH_ORDER_LAT_RATE (default 100) orders/s for BENCH_ORDER_LAT_SECS (default 20) s: shop order ->
#     ERP order, from order-sync's histogram erpsync_order_shop_to_erp_seconds;
#   BENCH_ORDER_STEPS (default "3000 4000"): further offered rates, BENCH_ORDER_STEP_SECS (default 5)
#     s each, booking held again: where the intake stops keeping up.
#   BENCH_ORDER_ENV: more VAR=value settings for order-sync. BENCH_LOG_LEVEL (default info).
#   BENCH_PERF=<file>: also a system-wide perf profile of the drain into <file>.order (and of the
#     intake into <file>.intake).
# docs/benchmarks.md ("order-sync") keeps the reported figures and explains the method.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
BENCH_PORTS=(KAFKA_PORT="${BENCH_KAFKA_PORT:-39092}" KAFKA_CONTROLLER_PORT="${BENCH_KAFKA_CONTROLLER_PORT:-39093}"
	PG_PORT="${BENCH_PG_PORT:-35432}")
bench_stack() { env "${BENCH_PORTS[@]}" deploy/local/stack.sh "$1" bench; }
own_stack=0
if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
	bench_stack wipe >/dev/null || { echo "bench order: could not wipe the bench stack"; exit 1; }
	bench_stack start >/dev/null || { echo "bench order: stack did not start"; exit 1; }
	eval "$(bench_stack env)"
	own_stack=1
fi
# ports of their own: stock-sync's part may still be stopping its peers
export IT_ERP_PORT=39280 IT_WOO_A_PORT=39281 IT_WOO_B_PORT=39282 IT_ORDER_PORT=39102 IT_ORDER_POLL_INTERVAL=1h
RATE=${BENCH_ORDER_RATE:-2000}
SECS=${BENCH_ORDER_SECS:-10}
CONNS=${BENCH_ORDER_CONNS:-16}
LAT_RATE=${BENCH_ORDER_LAT_RATE:-100}
LAT_SECS=${BENCH_ORDER_LAT_SECS:-20}
STEPS=${BENCH_ORDER_STEPS:-3000 4000}
STEP_SECS=${BENCH_ORDER_STEP_SECS:-5}
. tests/integration/lib.sh
. tests/integration/order-sync/lib_order.sh
trap 'it_cleanup; [ "$own_stack" = 1 ] && bench_stack stop >/dev/null' EXIT
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }
secs() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }   # milliseconds as seconds
die() { echo "bench order: $*"; exit 1; }

# BOOKED: orders booked so far, read with bash's own /dev/tcp every 50 ms (as run.sh's consumed())
booked() {
	local line
	BOOKED=0
	exec 3<>"/dev/tcp/127.0.0.1/$ORDER_PORT" || return 0
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	mapfile -t -u 3 METRICS_LINES
	exec 3<&-
	for line in "${METRICS_LINES[@]}"; do
		case $line in
		erpsync_order_booked_total\{*)
			line=${line##* }
			BOOKED=$((BOOKED + ${line%%.*})) ;;
		esac
	done
}
# wait_booked N SECONDS: until N orders are booked; false after SECONDS. Every 0.2 s: a read costs
# ~6 ms of CPU (perf: bash at 6 % of the machine while polling every 50 ms during the drain).
wait_booked() {
	local deadline=$(($(now_ms) + $2 * 1000))
	while booked; [ "$BOOKED" -lt "$1" ]; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
# the shop -> ERP buckets, one "le count" pair per line
ohist() {
	curl -s "http://127.0.0.1:$ORDER_PORT/metrics" |
		awk '$1 ~ /^erpsync_order_shop_to_erp_seconds_bucket\{/ { match($1, /le="[^"]*"/); print substr($1, RSTART + 4, RLENGTH - 5), $2 }'
}
# pct H0 H1 P: as run.sh's (Prometheus' histogram_quantile, linear in the bucket), "(le B)" its bound
pct() {
	paste "$1" "$2" | awk -v p="$3" '{ n++; le[n] = $1; c[n] = $4 - $2 }
		END { total = c[n]; want = total * p / 100; lo = 0; prev = 0
			for (i = 1; i <= n; i++) {
				if (c[i] >= want) {
					if (le[i] == "+Inf") { printf "> %s s (le +Inf)", lo; exit }
					printf "%.3f s (le %s)", lo + (le[i] - lo) * (want - prev) / (c[i] - prev == 0 ? 1 : c[i] - prev), le[i]
					exit
				}
				lo = le[i]; prev = c[i] } }'
}
samples() { paste "$1" "$2" | awk 'END { print $4 - $2 }'; }
cpu_cs() {   # user + system centiseconds of the processes given by pid
	local p t=0 f
	for p in "$@"; do
		read -r -a f <"/proc/$p/stat" 2>/dev/null || continue
		t=$((t + f[13] + f[14]))
	done
	echo "$t"
}
cpu_tree_cs() {   # of a process and its children, those that ended included (PostgreSQL's backends)
	local c t f
	read -r -a f <"/proc/$1/stat" 2>/dev/null || { echo 0; return; }
	t=$((f[13] + f[14] + f[15] + f[16]))
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		read -r -a f <"/proc/$c/stat" 2>/dev/null || continue
		t=$((t + f[13] + f[14] + f[15] + f[16]))
	done
	echo "$t"
}
cpu_all() { echo "$(cpu_cs "$ORDER_PID") $(cpu_tree_cs "$postmaster") $(cpu_cs "$broker") $(cpu_cs "$ERP_PID")"; }
# cpu_line "before" "after": order-sync, PostgreSQL, broker, ERP seconds between two cpu_all
cpu_line() {
	local -a a b
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	echo "order-sync $(secs $(((b[0] - a[0]) * 10))) s, PostgreSQL $(secs $(((b[1] - a[1]) * 10))) s, Kafka broker $(secs $(((b[2] - a[2]) * 10))) s, ERP $(secs $(((b[3] - a[3]) * 10))) s"
}
# hooks N RATE FIRST-ID [CONNS]: N webhooks at RATE/s to shop woo-a, ids from FIRST-ID; webhookgen's report
hooks() {
	"$BIN/webhookgen" -u "http://127.0.0.1:$ORDER_PORT/webhooks/shop/woo-a" -k "$WHSEC_A" -f "$ORDER_FIXTURE" \
		-n "$1" -r "$2" -i "$3" -c "${4:-$CONNS}" -e "bench$3"
}
hold_booking() { erp_fault 500 -1 /api/v1/orders; }
release_booking() { erp_fault none; }
perf_start() {
	perf_pid=
	[ -n "${BENCH_PERF:-}" ] || return 0
	perf record -q -a -g -F 997 -o "$BENCH_PERF.$1" >/dev/null 2>&1 &
	perf_pid=$!
}
perf_stop() { [ -z "$perf_pid" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }; }

reset_order_schema
order_topics
start_erp 0
erp_sku KUB-001 && erp_sku KSI-7 && erp_sku KAW-250-Z
start_woo "$WOO_A_PORT" 0
# The ERP's status feed is left out (ORDER_ERP_POLL_INTERVAL 1h): these orders exist in no shop, and
# a status the shop refuses for an order it does not know is retried, holding up the consumer.
start_order ERPSYNC_SHOPS=woo-a SHOP_WOO_A_WAREHOUSES=WH-MAIN ERP_RATE=10000 ORDER_ERP_POLL_INTERVAL=1h LOG_LEVEL="${BENCH_LOG_LEVEL:-info}" ${BENCH_ORDER_ENV:-}
order_ready 60 || die "order-sync not ready"
order_assigned || die "order-sync has no partitions"
broker=$(<"$ERPSYNC_STATE_DIR/kafka/kafka.pid")
postmaster=$(head -1 "$ERPSYNC_PG_DATA/postmaster.pid")

# Warm-up: the paths of both loads run once (the broker's JIT, order-sync's connections, the ERP's
# customer created by the first order), and their orders are booked before anything is measured.
hooks 2000 1000 1000000 >/dev/null || die "the warm-up's webhooks were not all taken"
wait_booked 2000 300 || die "the warm-up's 2000 orders were not booked in 300 s"

# (a) intake at a fixed offered rate, booking held
N=$((RATE * SECS))
hold_booking
cpu0=$(cpu_all)
perf_start intake
t0=$(now_ms)
hooks "$N" "$RATE" 2000000 >"$IT_DIR/intake" || echo "bench order: WARNING: not every webhook was taken"
t1=$(now_ms)
perf_stop
cpu1=$(cpu_all)
wait_for 120 order_outbox_empty || die "the outbox was not relayed in 120 s"
t_relayed=$(now_ms)

# (b) the drain: every queued order booked, once
booked; b0=$BOOKED
cpu2=$(cpu_all)
perf_start order
release_booking
deadline=$(($(now_ms) + 600000))
while booked; [ "$BOOKED" -eq "$b0" ]; do
	[ "$(now_ms)" -lt "$deadline" ] || die "nothing booked in 600 s"
	sleep 0.05
done
t2=$(now_ms); n2=$BOOKED
wait_booked $((b0 + N)) 600 || die "not every order was booked in 600 s (booked $((BOOKED - b0)) of $N)"
t3=$(now_ms)
perf_stop
cpu3=$(cpu_all)
drain_rate=$(((b0 + N - n2) * 1000 / (t3 - t2 > 0 ? t3 - t2 : 1)))
erp_stats >"$IT_DIR/erp_stats"
erp_orders=$(jq -r '.external_refs // empty' "$IT_DIR/erp_stats")
dup_refs=$(jq -r '.duplicated_external_refs // empty' "$IT_DIR/erp_stats")
erp_calls=$(jq -r --argjson n $((b0 + N)) '.calls_by_endpoint // {} | to_entries
	| map(select(.value > 0) | "\(.key) \(.value * 100 / $n | floor / 100)") | join(", ")' "$IT_DIR/erp_stats")

# the raw baseline: a plain librdkafka read of the same topic (now holding every order's record)
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_ORDERS_TOPIC" -o beginning -e -q -f 'x\n' >/dev/null
t4=$(now_ms)
raw_n=$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_ORDERS_TOPIC" -o beginning -e -q -f 'x\n' | wc -l)
t5=$(now_ms)
raw_rate=$((raw_n * 1000 / (t5 - t4 > 0 ? t5 - t4 : 1)))

# (c) shop order -> ERP order at a steady LAT_RATE/s, next to a plain consumer of the same topic
LN=$((LAT_RATE * LAT_SECS))
ohist >"$IT_DIR/h0"
booked; b4=$BOOKED
cpu4=$(cpu_all)
t6=$(now_ms)
"$BIN/kafkalat" -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$IT_ORDERS_TOPIC" -d $((LAT_SECS + 4)) >"$IT_DIR/raw_lat" &
raw_lat_pid=$!
sleep 1
hooks "$LN" "$LAT_RATE" 3000000 4 >"$IT_DIR/lat_hooks" || echo "bench order: WARNING: not every webhook was taken"
wait_booked $((b4 + LN)) 120 || die "the latency run's orders were not booked in 120 s"
wait "$raw_lat_pid"
t7=$(now_ms)
cpu5=$(cpu_all)
ohist >"$IT_DIR/h1"

# (d) where the intake stops keeping up: more offered rates, booking held (these orders stay queued)
hold_booking
steps=""
id=4000000
for r in $STEPS; do
	hooks $((r * STEP_SECS)) "$r" "$id" >"$IT_DIR/step$r" || true
	steps+=$(awk -v r="$r" '/achieved/ { a = $2 } /latency/ { p50 = $7; p99 = $13 }
		/status/ { sub(/^ *status +/, ""); s = $0 }
		END { printf "\n    offered %5d/s: achieved %s, p50 %s ms, p99 %s ms (%s)", r, a, p50, p99, s }' "$IT_DIR/step$r")
	id=$((id + 1000000))
done
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/"$ORDER_PID"/status)
inbox=$(psql_q "SELECT count(*) FROM order_sync.inbox WHERE topic = '$IT_ORDERS_TOPIC'")

cat <<TXT
bench order-sync: $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $CONNS connections, topics with 3 partitions, LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
  webhook intake at $RATE/s for $SECS s (booking held)
$(sed 's/^/    /' "$IT_DIR/intake")
    CPU in those $(secs $((t1 - t0))) s: $(cpu_line "$cpu0" "$cpu1"); outbox relayed $(secs $((t_relayed - t1))) s after the last answer
  booking of the $N queued orders (ERP lookup + customer + create, then payment)
    $drain_rate orders/s (first booking $(secs $((t2 - t_relayed))) s after release, the last $(secs $((t3 - t2))) s later)
    CPU in those $(secs $((t3 - t2))) s: $(cpu_line "$cpu2" "$cpu3")
    ERP: ${erp_orders:-?} external references, ${dup_refs:-?} held by more than one order; inbox: $inbox shop.orders records claimed
    ERP calls per order booked so far: $erp_calls
  raw librdkafka consume (kcat)       $raw_rate records/s ($raw_n records of the same topic)
  shop order -> ERP order at $LAT_RATE/s   p50 $(pct "$IT_DIR/h0" "$IT_DIR/h1" 50), p99 $(pct "$IT_DIR/h0" "$IT_DIR/h1" 99); $(samples "$IT_DIR/h0" "$IT_DIR/h1") orders
    webhook answers at $LAT_RATE/s: $(grep latency "$IT_DIR/lat_hooks" | sed 's/^ *latency from the due time: //')
  raw librdkafka delivery (kafkalat)  $(cat "$IT_DIR/raw_lat") (record made -> handed to a plain consumer)
    CPU in those $(secs $((t7 - t6))) s: $(cpu_line "$cpu4" "$cpu5")
  intake at higher offered rates (booking held, $STEP_SECS s each):$steps
  order-sync peak resident memory     $((rss_kb / 1024)) MB
TXT
