# Applied event ids are kept INBOX_KEEP_DAYS (14) and then pruned (by the leader, at its start and
# hourly), in batches, whatever the index on applied_at; ids younger than that stay, so a late
# redelivery of them is still recognised.
. "$(dirname "$0")/../lib.sh"
it_setup 5

check "applied_at has a block-range index, not a B-tree (common migration 3)" \
	[ "$(psql_q "SELECT string_agg(indexname || ':' || substring(indexdef from 'USING (\w+)'), ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'stock_sync' AND tablename = 'inbox' AND indexdef LIKE '%applied_at%'")" = "inbox_applied_at_brin:brin" ]
psql_q "INSERT INTO stock_sync.inbox (consumer, event_id, applied_at)
	SELECT 'stock-sync', 'old-' || g, now() - interval '20 days' - g * interval '1 second' FROM generate_series(1, 12000) g;
	INSERT INTO stock_sync.inbox (consumer, event_id, applied_at)
	SELECT 'stock-sync', 'recent-' || g, now() - interval '13 days' FROM generate_series(1, 300) g" >/dev/null
kill -TERM "$STOCK_PID"
wait "$STOCK_PID" 2>/dev/null
start_stock
stock_ready 30
pruned() { [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox WHERE event_id LIKE 'old-%'")" -eq 0 ]; }
check "ids older than 14 days are pruned at start (12,000, more than one batch)" wait_for 20 pruned
check "ids younger than 14 days stay" [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox WHERE event_id LIKE 'recent-%'")" -eq 300 ]
check "the prune is logged with its count" grep -q '"message":"inbox: pruned 12000 event ids older than 14 days"' "$IT_DIR/stock-sync.log"
stockgen -n 1 -s 1 -q 7 -v 100 -e after-prune >/dev/null
check "consumption goes on" wait_for 15 bash -c \
	"[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT count(*) FROM stock_sync.inbox WHERE event_id = 'after-prune-0'\")\" = 1 ]"
