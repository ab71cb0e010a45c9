#!/usr/bin/env bash
# make bench: stock-sync against a real broker and PostgreSQL (the local stack's "bench" instance),
# next to the raw librdkafka consume rate (kcat) and delivery latency (kafkalat) of the same topic in
# the same run.
#   BENCH_EVENTS (default 200000) records of BENCH_SKUS (default 1000) SKUs.
#   BENCH_BATCH_MAX (default 6000): STOCK_BATCH_MAX of the run (docs/benchmarks.md says why).
#   BENCH_LANES (default 3): STOCK_APPLY_LANES of the run.
#   BENCH_STOCK_ENV: more VAR=value settings for stock-sync (e.g. STOCK_COALESCE_WINDOW=1s).
#   BENCH_LOG_LEVEL (default info): stock-sync's LOG_LEVEL; with IT_KEEP=1 its log stays in /tmp.
#   BENCH_PERF=<file>: a system-wide perf profile of the catch-up into <file> (perf must be installed).
#   BENCH_ORDER=0: without order-sync's part (tests/bench/order.sh, which says what it measures).
# Prints the figures; docs/benchmarks.md keeps the reported ones and explains the method.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
BENCH_PORTS=(KAFKA_PORT="${BENCH_KAFKA_PORT:-39092}" KAFKA_CONTROLLER_PORT="${BENCH_KAFKA_CONTROLLER_PORT:-39093}"
	PG_PORT="${BENCH_PG_PORT:-35432}")
bench_stack() { env "${BENCH_PORTS[@]}" deploy/local/stack.sh "$1" bench; }
# Every run starts from an empty broker and database, as a machine in CI does: the topics of earlier
# runs are not kept (a broker carrying 77 runs' topics, 1,885 partition folders and 7.8 GB, was what
# runs were measured against before, and it cost broker CPU in every run).
bench_stack wipe >/dev/null || { echo "bench: could not wipe the bench stack"; exit 1; }
bench_stack start >/dev/null || { echo "bench: stack did not start"; exit 1; }
eval "$(bench_stack env)"
export IT_ERP_PORT=39180 IT_WOO_A_PORT=39181 IT_WOO_B_PORT=39182 IT_STOCK_PORT=39101 IT_POLL_INTERVAL=1h
N=${BENCH_EVENTS:-200000}
SKUS=${BENCH_SKUS:-1000}
BATCH_MAX=${BENCH_BATCH_MAX:-6000}
RATE=1000               # offered changes per second in the latency run
LAT_SECS=10
. tests/integration/lib.sh
trap 'it_cleanup; bench_stack stop >/dev/null' EXIT
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }
secs() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }   # milliseconds as seconds

# Reads stock-sync's /metrics with bash's own /dev/tcp and sets CONSUMED to the records it has
# applied or found applied before. No process is started and no regular expression compiled per line:
# the probe runs every 50 ms on the two cores it measures (with `[[ =~ ]]` per line it took 23 ms of
# CPU per read, 12 % of the machine in a perf profile of the catch-up; this takes ~2 ms).
consumed() {
	local line
	CONSUMED=0
	exec 3<>"/dev/tcp/127.0.0.1/$STOCK_PORT" || return 0
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	mapfile -t -u 3 METRICS_LINES
	exec 3<&-
	for line in "${METRICS_LINES[@]}"; do
		case $line in
		erpsync_stock_events_applied_total\{* | erpsync_stock_events_duplicate_total\{*)
			line=${line##* }
			CONSUMED=$((CONSUMED + ${line%%.*})) ;;
		esac
	done
}
# hist SHOP: the e2e latency buckets of a shop, one "le count" pair per line; without SHOP, those
# of the apply lag (source time -> committed in stock-sync)
hist() {
	local series='^erpsync_stock_apply_lag_seconds_bucket\\{'
	[ -n "${1:-}" ] && series='^erpsync_stock_e2e_latency_seconds_bucket\\{shop="'$1'"'
	curl -s "http://127.0.0.1:$STOCK_PORT/metrics" |
		awk -v s="$series" '$1 ~ s { match($1, /le="[^"]*"/); print substr($1, RSTART + 4, RLENGTH - 5), $2 }'
}
# pct H0 H1 P: the P-th percentile of the samples between two snapshots, interpolated linearly in
# its bucket as Prometheus' histogram_quantile does, then "(le B)": the bucket's upper bound
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

# CPU seconds (user + system, centiseconds) used so far by the processes given by pid
cpu_cs() {
	local p t=0 f
	for p in "$@"; do
		read -r -a f <"/proc/$p/stat" 2>/dev/null || continue
		t=$((t + f[13] + f[14]))
	done
	echo "$t"
}
# CPU seconds (centiseconds) of a process and its children, those that ended included (PostgreSQL's
# autovacuum workers come and go): its own and its reaped children's times, and each live child's
cpu_tree_cs() {
	local c t f
	read -r -a f <"/proc/$1/stat" 2>/dev/null || { echo 0; return; }
	t=$((f[13] + f[14] + f[15] + f[16]))
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		read -r -a f <"/proc/$c/stat" 2>/dev/null || continue
		t=$((t + f[13] + f[14] + f[15] + f[16]))
	done
	echo "$t"
}
# the whole machine from /proc/stat, in centiseconds: "busy steal" (busy without steal)
machine_cs() {
	local _ u n s i w irq sirq st
	read -r _ u n s i w irq sirq st _ </proc/stat
	echo "$((u + n + s + irq + sirq)) $st"
}
# the role of each of stock-sync's PostgreSQL sessions, from its last statement: "pid role" lines
backend_roles() {
	psql_q "SELECT pid, CASE WHEN query LIKE '%INTO stock AS s%' OR query LIKE '%INTO inbox%' OR query LIKE '%FROM reservation)%' THEN 'apply'
		WHEN query LIKE '%FROM shop_mark%' OR query LIKE '%shop_dirty%' OR query LIKE '%shop_stock%' OR query LIKE '%LISTEN%' OR query LIKE '%sku_map%' OR query LIKE '%unknown_sku%' THEN 'writer'
		ELSE 'other' END FROM pg_stat_activity WHERE application_name = 'erpsync-stock_sync'"
}
stock_backends() { psql_q "SELECT pid FROM pg_stat_activity WHERE application_name = 'erpsync-stock_sync'"; }

reset_schema
it_topics
start_erp 0
start_woo "$WOO_A_PORT" "$SKUS"
WOO_PIDS=("$LAST_PID")
start_woo "$WOO_B_PORT" "$SKUS"
WOO_PIDS+=("$LAST_PID")

# The broker is a JVM started for this run: until its JIT has compiled the paths a load takes, the
# compiler thread takes most of a core (seen with top -H: "C2 CompilerThread" at 65-90 % during the
# latency run of a cold broker, the broker 10-12 CPU-s in 14 s instead of ~4). A broker in service
# has long done that, so both loads run once on a scratch topic first, read by a consumer as below.
warm="bench.warmup.$$"
printf '%s\t3\tdelete\t-1\twarm-up\n' "$warm" >"$IT_DIR/warm.tsv"
"$BIN/erpsyncctl" topics create -b "$KAFKA_BOOTSTRAP_SERVERS" -f "$IT_DIR/warm.tsv" >/dev/null
"$BIN/kafkalat" -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$warm" -d 24 >/dev/null &
warm_pid=$!
sleep 1
"$BIN/stockgen" -t "$warm" -n 20000 -s "$SKUS" -r 1000 >/dev/null
"$BIN/stockgen" -t "$warm" -n "$N" -s "$SKUS" >/dev/null
wait "$warm_pid"
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$warm" -o beginning -e -q -f 'x\n' >/dev/null
# ... and stock-sync itself reads the scratch topic once, in its own group: the broker's paths for
# a group member (joins, fetches of its size, offset commits) are compiled too, not only a plain
# consumer's. (In a perf profile of the catch-up without this, the broker's C2 compiler thread
# took 13 % of the machine.) Its schema is dropped afterwards, so the measurement starts empty.
start_stock STOCK_TOPIC="$warm" STOCK_GROUP_ID="bench-warmup" STOCK_BATCH_MAX="$BATCH_MAX" \
	STOCK_APPLY_LANES="${BENCH_LANES:-3}" ${BENCH_STOCK_ENV:-} LOG_LEVEL=warn
stock_ready 60 || { echo "bench: stock-sync (warm-up) not ready"; exit 1; }
warm_deadline=$(($(now_ms) + 600000))
while consumed; [ "$CONSUMED" -lt $((N + 20000)) ]; do
	[ "$(now_ms)" -lt "$warm_deadline" ] || { echo "bench: the warm-up did not finish in 600 s"; exit 1; }
	sleep 0.2
done
kill -TERM "$STOCK_PID"
wait "$STOCK_PID" || true
reset_schema

t0=$(now_ms); stockgen -n "$N" -s "$SKUS" -q 1000 >/dev/null; t1=$(now_ms)
produce_rate=$((N * 1000 / (t1 - t0)))
# The broker was just started: a first pass over the topic warms its fetch path (the JVM compiles
# it), then the measured one. Both read with librdkafka; kcat's is the reference rate.
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_TOPIC" -o beginning -e -q -f 'x\n' >/dev/null
t0=$(now_ms)
got=$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_TOPIC" -o beginning -e -q -f 'x\n' | wc -l)
t1=$(now_ms)
raw_rate=$((got * 1000 / (t1 - t0)))

start_stock STOCK_BATCH_MAX="$BATCH_MAX" STOCK_APPLY_LANES="${BENCH_LANES:-3}" ${BENCH_STOCK_ENV:-} LOG_LEVEL="${BENCH_LOG_LEVEL:-info}"
stock_ready 60 || { echo "bench: stock-sync not ready"; exit 1; }
# The rate counts from the first records applied to the last: joining the consumer group (which on
# a freshly started broker waits for its coordinator) is reported apart, as start-up.
t_ready=$(now_ms)
deadline=$((t_ready + 600000))
mapfile -t backends < <(stock_backends)
broker=$(<"$ERPSYNC_STATE_DIR/kafka/kafka.pid")
postmaster=$(head -1 "$ERPSYNC_PG_DATA/postmaster.pid")
cpu0=("$(cpu_cs "$STOCK_PID")" "$(cpu_cs "$broker")" "$(cpu_tree_cs "$postmaster")" \
	"$(cpu_cs "${WOO_PIDS[@]}")")
read -r -a mach0 < <(machine_cs)
declare -A be_cs0
for b in "${backends[@]}"; do be_cs0[$b]=$(cpu_cs "$b"); done
# BENCH_PERF=<file>: a system-wide perf profile of the catch-up, for `perf report -i <file>`
perf_pid=
if [ -n "${BENCH_PERF:-}" ]; then
	perf record -q -a -g -F 997 -o "$BENCH_PERF" >/dev/null 2>&1 &
	perf_pid=$!
fi
while consumed; n0=$CONSUMED; [ "$n0" -eq 0 ]; do
	[ "$(now_ms)" -lt "$deadline" ] || { echo "bench: stock-sync applied nothing in 600 s"; exit 1; }
	sleep 0.05
done
t0=$(now_ms)
while consumed; [ "$CONSUMED" -lt "$N" ]; do
	[ "$(now_ms)" -lt "$deadline" ] || { echo "bench: stock-sync did not apply $N records in 600 s"; exit 1; }
	sleep 0.05
done
t1=$(now_ms)
[ -z "$perf_pid" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
cpu1=("$(cpu_cs "$STOCK_PID")" "$(cpu_cs "$broker")" "$(cpu_tree_cs "$postmaster")" \
	"$(cpu_cs "${WOO_PIDS[@]}")")
read -r -a mach1 < <(machine_cs)
# by role, the sessions there now: one opened since ready (a shop's, a lane's) counts from 0
declare -A role_cs=()
sessions_cs=0
while read -r b role; do
	used=$(( $(cpu_cs "$b") - ${be_cs0[$b]:-0} ))
	role_cs[$role]=$(( ${role_cs[$role]:-0} + used ))
	sessions_cs=$((sessions_cs + used))
done < <(backend_roles | tr '|' ' ')
session_split=""
for role in apply writer other; do
	[ -n "${role_cs[$role]:-}" ] && session_split+="${session_split:+, }$role $(secs $((role_cs[$role] * 10))) s"
done
stock_rate=$(((N - n0) * 1000 / (t1 - t0)))
startup_ms=$((t0 - t_ready))
ready_rate=$((N * 1000 / (t1 - t_ready)))
inbox=$(psql_q "SELECT count(*) FROM stock_sync.inbox")
[ "$inbox" -eq "$N" ] || echo "bench: WARNING: the inbox holds $inbox event ids, not $N"
rss_catchup_kb=$(awk '/VmHWM/ {print $2}' /proc/"$STOCK_PID"/status)
# the backlog of dirty SKUs is written out before the next measurement
wait_for 60 bash -c "[ \$(psql \"$PG_DSN\" -XAtc 'SELECT (SELECT count(*) FROM stock_sync.shop_dirty) + (SELECT count(*) FROM stock_sync.shop_mark)') -eq 0 ]"
sleep 1

# shop calls for one change of each of $SKUS distinct SKUs
calls0=$(curl -s -u ck_it:cs_it "http://127.0.0.1:$WOO_A_PORT/sandbox/stats" | jq .batch_calls)
stockgen -n "$SKUS" -s "$SKUS" -q 5000 -v 1000000 >/dev/null
wait_for 60 bash -c "[ \$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stock | jq '[to_entries[] | select(.value == 5998)] | length') -ge $SKUS ]"
sleep 1
calls1=$(curl -s -u ck_it:cs_it "http://127.0.0.1:$WOO_A_PORT/sandbox/stats" | jq .batch_calls)

# latency ERP change -> shop write at an offered $RATE changes/s for $LAT_SECS s
hist woo-a >"$IT_DIR/a0"
hist woo-b >"$IT_DIR/b0"
hist >"$IT_DIR/l0"
mapfile -t backends < <(stock_backends)
cpu2=("$(cpu_cs "$STOCK_PID")" "$(cpu_cs "${backends[@]}")" "$(cpu_cs "$broker")" "$(cpu_cs "${WOO_PIDS[@]}")")
t2=$(now_ms)
# the raw baseline: a plain librdkafka consumer of the same records, at the same time
"$BIN/kafkalat" -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$IT_TOPIC" -d $((LAT_SECS + 3)) >"$IT_DIR/raw_lat" &
raw_lat_pid=$!
sleep 1
stockgen -n $((RATE * LAT_SECS)) -s "$SKUS" -q 7000 -v 2000000 -r "$RATE" >/dev/null
wait "$raw_lat_pid"
sleep 1
t3=$(now_ms)
cpu3=("$(cpu_cs "$STOCK_PID")" "$(cpu_cs "${backends[@]}")" "$(cpu_cs "$broker")" "$(cpu_cs "${WOO_PIDS[@]}")")
hist woo-a >"$IT_DIR/a1"
hist woo-b >"$IT_DIR/b1"
hist >"$IT_DIR/l1"
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/"$STOCK_PID"/status)

cat <<TXT
bench: $(date -u +%FT%TZ), $(nproc) cores, $N records of $SKUS SKUs, topic with 3 partitions, STOCK_BATCH_MAX=$BATCH_MAX
  raw librdkafka consume (kcat)           $raw_rate records/s
  stock-sync apply (inbox+state+dirty)    $stock_rate records/s (first records $startup_ms ms after ready; $ready_rate/s counted from ready)
    CPU in those $(secs $((t1 - t_ready))) s: stock-sync $(secs $(((cpu1[0] - cpu0[0]) * 10))) s, its PostgreSQL sessions $(secs $((sessions_cs * 10))) s ($session_split), Kafka broker $(secs $(((cpu1[1] - cpu0[1]) * 10))) s
    whole machine: $(secs $(((mach1[0] - mach0[0]) * 10))) of $(secs $(((t1 - t_ready) * $(nproc)))) CPU-s busy (steal $(secs $(((mach1[1] - mach0[1]) * 10))) s); all of PostgreSQL $(secs $(((cpu1[2] - cpu0[2]) * 10))) s, both shops $(secs $(((cpu1[3] - cpu0[3]) * 10))) s
  stockgen produce (idempotent, acks=all) $produce_rate records/s
  shop calls for $SKUS distinct SKUs        $((calls1 - calls0)) (batch calls to shop A)
  ERP change -> shop write at $RATE/s      shop A: p50 $(pct "$IT_DIR/a0" "$IT_DIR/a1" 50), p99 $(pct "$IT_DIR/a0" "$IT_DIR/a1" 99); $(samples "$IT_DIR/a0" "$IT_DIR/a1") writes
                                          shop B: p50 $(pct "$IT_DIR/b0" "$IT_DIR/b1" 50), p99 $(pct "$IT_DIR/b0" "$IT_DIR/b1" 99); $(samples "$IT_DIR/b0" "$IT_DIR/b1") writes
    of which ERP change -> applied         p50 $(pct "$IT_DIR/l0" "$IT_DIR/l1" 50), p99 $(pct "$IT_DIR/l0" "$IT_DIR/l1" 99); $(samples "$IT_DIR/l0" "$IT_DIR/l1") records
  raw librdkafka delivery (kafkalat)      $(cat "$IT_DIR/raw_lat") (record made -> handed to a plain consumer)
    CPU in those $(secs $((t3 - t2))) s: stock-sync $(secs $(((cpu3[0] - cpu2[0]) * 10))) s, its PostgreSQL sessions $(secs $(((cpu3[1] - cpu2[1]) * 10))) s, Kafka broker $(secs $(((cpu3[2] - cpu2[2]) * 10))) s, both shops $(secs $(((cpu3[3] - cpu2[3]) * 10))) s
  stock-sync peak resident memory         $((rss_kb / 1024)) MB (after the catch-up: $((rss_catchup_kb / 1024)) MB)
TXT

# order-sync's part (tests/bench/order.sh) on the same stack, once stock-sync and its peers stopped;
# BENCH_ORDER=0 leaves it out
if [ "${BENCH_ORDER:-1}" = 1 ]; then
	it_cleanup
	trap 'bench_stack stop >/dev/null' EXIT
	tests/bench/order.sh
fi
