# Reconciliation finishes when this instance is the poller's leader but another instance writes to
# the shops (the writer's leader lock is held elsewhere). The ERP side runs with the poller, the
# shop side (reading each shop and marking what differs) where the ERP side ran: the run ends,
# is recorded, and the next one can start. The marks wait for whichever instance writes.
. "$(dirname "$0")/../lib.sh"
writer_key="hashtext('stock-sync:writer')"
# the writer's lock is taken before stock-sync starts: another instance writes to the shops
PGAPPNAME=it-lock-holder psql "$PG_DSN" -Xq -c "SELECT pg_advisory_lock($writer_key)" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
holder=$!
# the session must end, not only psql: a backend in pg_sleep does not notice its client is gone
release_lock() {
	psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'it-lock-holder'" >/dev/null
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	return 0
}
trap 'release_lock; it_cleanup' EXIT
lock_held() { [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'it-lock-holder' AND query = 'SELECT pg_sleep(600)' AND state = 'active'")" -ge 1 ]; }
check "another session holds the writer's leader lock" wait_for 10 lock_held
it_setup 10

admin() { curl -s "http://127.0.0.1:$STOCK_PORT/admin/reconcile"; }
is_leader() { [ "$(admin | jq -r .leader)" = true ]; }
check "this instance leads the poller" wait_for 30 is_leader
check "it does not lead the writer" bash -c "! grep -q '\"message\":\"writer: this instance is the leader' '$IT_DIR/stock-sync.log'"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$STOCK_PORT/admin/reconcile")
check "POST /admin/reconcile is accepted (202, got $code)" [ "$code" = 202 ]
finished() {
	local s; s=$(admin)
	[ "$(jq -r .state <<<"$s")" = idle ] && [ "$(jq -r .finished_unix_us <<<"$s")" != 0 ]
}
check "the run finishes although the writer leads elsewhere" wait_for 30 finished
echo "   (GET /admin/reconcile: $(admin))"
check "the run is recorded" [ "$(psql_q "SELECT count(*) FROM stock_sync.reconcile_run WHERE finished_at IS NOT NULL")" -eq 1 ]
check "both shops were read (10 items each)" [ "$(admin | jq -r .shop_items)" -eq 20 ]
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$STOCK_PORT/admin/reconcile")
check "a second run can start (202, got $code)" [ "$code" = 202 ]
check "and finishes" wait_for 30 bash -c "[ \"\$(psql \"$PG_DSN\" -XAtc 'SELECT count(*) FROM stock_sync.reconcile_run')\" -eq 2 ]"
release_lock
