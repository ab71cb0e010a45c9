# PostgreSQL drops stock-sync's sessions in the middle of a stream (as a failover or an operator's
# pg_terminate_backend does): the apply lanes, the writer's connection and every shop's connection
# are cut, several times, while records arrive and shops are written. stock-sync reconnects each
# of them; every event is applied once, both shops end equal to the rule, nothing is left dirty and
# nothing goes to a dead-letter topic.
. "$(dirname "$0")/../lib.sh"
it_setup 50
check "stock-sync has its partitions" stock_assigned 1

SKUS=50
shop_all() {
	[ "$(curl -s -u ck_it:cs_it "http://127.0.0.1:$1/sandbox/stock" |
		jq --argjson n "$2" '[to_entries[] | select(.value == $n)] | length')" -eq "$SKUS" ]
}
inbox_is() { [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox")" -eq "$1" ]; }
drained() { [ "$(psql_q "SELECT (SELECT count(*) FROM stock_sync.shop_dirty) + (SELECT count(*) FROM stock_sync.shop_mark)")" -eq 0 ]; }
# every session of stock-sync, cut; prints how many
cut_sessions() {
	psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'erpsync-stock_sync'"
}
# at least two sessions whose last statement took a shop's dirty SKUs: each shop's own connection
shop_sessions() {
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'erpsync-stock_sync' AND query LIKE '%FROM shop_dirty d%'")" -ge 2 ]
}

check "each shop's cycle has a session of its own (2 taking from shop_dirty)" wait_for 10 shop_sessions

# 3,000 records of 50 SKUs at 600/s (5 s): 60 rounds, the last quantity 200 + 59 = 259 (version 60);
# shop A 259 - 2 = 257, shop B 259 - 5 = 254. Sessions are cut every 0.7 s meanwhile.
stockgen -n 3000 -s "$SKUS" -q 200 -r 600 -e pgcut >/dev/null &
gen=$!
cuts=0 rounds=0
for _ in 1 2 3 4 5 6; do
	sleep 0.7
	n=$(cut_sessions)
	cuts=$((cuts + ${n:-0}))
	[ "${n:-0}" -ge 1 ] && rounds=$((rounds + 1))
done
wait "$gen"
echo "   (cut $cuts sessions in six rounds)"
check "sessions were cut in every one of the six rounds, mid-stream" [ "$rounds" -eq 6 ]
check "every one of the 3,000 events is applied" wait_for 60 inbox_is 3000
check "shop A ends equal to the rule for all 50 SKUs (257)" wait_for 30 shop_all "$WOO_A_PORT" 257
check "shop B ends equal to the rule for all 50 SKUs (254)" wait_for 30 shop_all "$WOO_B_PORT" 254
check "nothing left to write" wait_for 10 drained
check "each SKU holds its last version (60)" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.stock WHERE version = 60 AND available_milli = 259000")" -eq "$SKUS" ]
check "stock-sync reconnected its sessions" \
	[ "$(grep -c '"message":"pg: reconnected to PostgreSQL' "$IT_DIR/stock-sync.log")" -ge 3 ]
check "the shops' sessions are back (2 taking from shop_dirty)" wait_for 10 shop_sessions
check "nothing went to a dead-letter topic" [ "$(metric erpsync_kafka_dlq_total)" -eq 0 ]
check "stock-sync is still ready" stock_ready 5

# a change after the cuts is written as usual: quantity 300 + 0 (version 100)
stockgen -n 50 -s "$SKUS" -q 300 -v 99 -e after >/dev/null
check "a later change reaches shop A (298)" wait_for 30 shop_all "$WOO_A_PORT" 298
check "a later change reaches shop B (295)" wait_for 30 shop_all "$WOO_B_PORT" 295
