# SIGTERM: stock-sync stops polling, finishes its batch, commits offsets, leaves the group and
# exits 0 within its bound; started again it re-reads nothing.
. "$(dirname "$0")/../lib.sh"
it_setup 50
stockgen -n 2000 -s 50 -q 10 -e term >/dev/null
check "2,000 events applied" wait_for 30 bash -c "[ \$(psql \"$PG_DSN\" -XAtc 'SELECT count(*) FROM stock_sync.inbox') -eq 2000 ]"
t0=$(date +%s%3N)
kill -TERM "$STOCK_PID"
wait "$STOCK_PID"
rc=$?
ms=$(( $(date +%s%3N) - t0 ))
echo "   (stopped in $ms ms)"
check "exit status 0 after SIGTERM (got $rc)" [ "$rc" -eq 0 ]
check "stopped within 15 s" [ "$ms" -lt 15000 ]
check "the log says it stopped" grep -q '"message":"stopped"' "$IT_DIR/stock-sync.log"
start_stock
check "stock-sync is ready again" stock_ready 30
# markers: one more record of each of the 50 SKUs (the same keys, so one behind the 2,000 on every
# partition that holds them). Without committed offsets the restarted consumer would read the
# 2,000 again before them. Records are counted per batch after its commit, batches in order: once
# the 50 are counted as applied, any re-delivered record before them is counted as a duplicate.
stockgen -n 50 -s 50 -q 60 -v 100 -e after-restart >/dev/null
markers_applied() {
	[ "$(psql_q "SELECT count(*) FROM stock_sync.inbox WHERE event_id LIKE 'after-restart-%'")" -eq 50 ] &&
		[ "$(metric erpsync_stock_events_applied_total)" -eq 50 ]
}
check "the 50 records produced after the restart are applied and counted" wait_for 30 markers_applied
check "nothing is re-delivered after a clean stop (committed offsets)" [ "$(metric erpsync_stock_events_duplicate_total)" -eq 0 ]
