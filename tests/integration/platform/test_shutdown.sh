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
sleep 4
check "nothing is re-delivered after a clean stop (committed offsets)" [ "$(metric erpsync_stock_events_duplicate_total)" -eq 0 ]
