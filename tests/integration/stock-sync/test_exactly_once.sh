# Exactly once across a restart: stock-sync is killed with SIGKILL in the middle of a stream and
# restarted; records are re-delivered (offsets not yet committed) and some are sent twice on
# purpose. Every event is applied once: nothing lost, nothing applied twice.
. "$(dirname "$0")/../lib.sh"
it_setup 200
check "stock-sync has its partitions" stock_assigned 1

# 5,000 records of 200 SKUs at 2,500/s; the kill lands mid-stream
stockgen -n 5000 -s 200 -q 100 -r 2500 -e run1 >/dev/null &
gen=$!
wait_for 20 bash -c "[ \$(psql \"$PG_DSN\" -XAtc 'SELECT count(*) FROM stock_sync.inbox') -ge 300 ]"
kill -KILL "$STOCK_PID"
wait "$STOCK_PID" 2>/dev/null
applied_before=$(psql_q "SELECT count(*) FROM stock_sync.inbox")
wait "$gen"
# the same 1,000 event ids again, as a producer retry after a lost acknowledgement would send them
stockgen -n 1000 -s 200 -q 100 -e run1 >/dev/null
start_stock
check "stock-sync is ready again" stock_ready 30
check "every one of the 5,000 events is applied" wait_for 60 bash -c \
	"[ \$(psql \"$PG_DSN\" -XAtc 'SELECT count(*) FROM stock_sync.inbox') -eq 5000 ]"
echo "   (killed after $applied_before of 5000 applied)"
check "the kill came mid-stream ($applied_before applied before it)" \
	[ "$applied_before" -gt 0 -a "$applied_before" -lt 5000 ]
sleep 1
check "re-delivered and repeated events were skipped as duplicates" [ "$(metric erpsync_stock_events_duplicate_total)" -ge 1000 ]
# each SKU's last record: quantity 100 + 24 = 124, version 25
check "each of the 200 SKUs holds its last version" [ "$(psql_q "SELECT count(*) FROM stock_sync.stock WHERE version = 25 AND available_milli = 124000")" -eq 200 ]
check "shop A ends equal to the rule for all 200 SKUs (124 - 2)" wait_for 30 bash -c \
	"[ \$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stock | jq '[to_entries[] | select(.value == 122)] | length') -eq 200 ]"
check "shop B ends equal to the rule for all 200 SKUs (124 - 5)" wait_for 30 bash -c \
	"[ \$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_B_PORT/sandbox/stock | jq '[to_entries[] | select(.value == 119)] | length') -eq 200 ]"
