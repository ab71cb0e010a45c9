# An ERP whose cursor does not advance (it answers next_cursor = since with has_more: true, again
# and again) cannot make stock-sync page for ever: the poll stops with an error and a metric and
# queues nothing twice, the reconciliation's ERP read stops with an error and the run finishes;
# once the ERP pages properly again, polling goes on. Also: ERP_URL is logged without the
# credentials it may carry.
. "$(dirname "$0")/../lib.sh"
it_setup 20 ERP_URL="http://it-user:it-url-secret@127.0.0.1:$ERP_PORT"

erp() { curl -s -H "Authorization: Bearer $ERP_TOKEN" "$@"; }
erp_fault() {
	erp -o /dev/null -w '%{http_code}' -X POST -d "$1" "http://127.0.0.1:$ERP_PORT/sandbox/faults" | grep -q '^200$'
}
erp_calls() { erp "http://127.0.0.1:$ERP_PORT/sandbox/stats" | jq -r .calls; }
calls_after() { [ "$(erp_calls)" -ge $(($1 + $2)) ]; }
cursor() { psql_q "SELECT cursor FROM stock_sync.erp_cursor WHERE source = 'erp'"; }
both_qty() { qty_is "$WOO_A_PORT" "$1" "$2" && qty_is "$WOO_B_PORT" "$1" "$3"; }
stuck() { metric erpsync_stock_erp_polls_total 'result="cursor_stuck"'; }
stuck_at_least() { [ "$(stuck)" -ge "$1" ]; }
queued() { psql_q "SELECT count(*) FROM stock_sync.inbox"; }

# ---- ERP_URL in the log -----------------------------------------------------------------------------
check "the effective configuration is logged with ERP_URL" grep -qF '\"ERP_URL\":' "$IT_DIR/stock-sync.log"
echo "   (ERP_URL logged as: $(grep -o 'ERP_URL[^,]*' "$IT_DIR/stock-sync.log" | head -1))"
check "the password in ERP_URL is never logged" bash -c "! grep -q 'it-url-secret' '$IT_DIR/stock-sync.log'"
erp_set SKU-000002 WH-MAIN 30
check "polling works with that ERP_URL (A 28, B 25)" wait_for 20 both_qty SKU-000002 28 25

# ---- the poller ---------------------------------------------------------------------------------------
check "a first change is applied once" wait_for 10 bash -c "[ \"\$(psql \"$PG_DSN\" -XAtc 'SELECT count(*) FROM stock_sync.inbox')\" = 1 ]"
c0=$(cursor)
calls0=$(erp_calls)
check "the repeat fault is armed" erp_fault '{"mode":"repeat","count":-1}'
erp_set SKU-000003 WH-MAIN 31
check "the ERP is asked (its repeating answers are received)" wait_for 20 calls_after "$calls0" 3
check "polls that do not advance stop and are counted (erpsync_stock_erp_polls_total{result=\"cursor_stuck\"} >= 2)" \
	wait_for 20 stuck_at_least 2
check "they are logged with the reason" grep -q 'did not advance' "$IT_DIR/stock-sync.log"
check "the cursor stays ($c0)" [ "$(cursor)" = "$c0" ]
check "nothing was queued again and again (the inbox holds 1 event, got $(queued))" [ "$(queued)" -le 2 ]
check "the fault is disarmed" erp_fault '{"mode":"none"}'
check "the change arrives once the ERP pages properly (A 29, B 26)" wait_for 20 both_qty SKU-000003 29 26
check "each change was applied exactly once (2 events)" [ "$(queued)" -eq 2 ]

# ---- reconciliation's ERP read ---------------------------------------------------------------------
admin() { curl -s "http://127.0.0.1:$STOCK_PORT/admin/reconcile"; }
run_done() {
	local s; s=$(admin)
	[ "$(jq -r .state <<<"$s")" = idle ] && [ "$(jq -r .finished_unix_us <<<"$s")" != "$1" ] &&
		[ "$(jq -r .finished_unix_us <<<"$s")" != 0 ]
}
is_leader() { [ "$(admin | jq -r .leader)" = true ]; }
check "this instance is the leader" wait_for 30 is_leader
before=$(admin | jq -r .finished_unix_us)
check "the repeat fault is armed again" erp_fault '{"mode":"repeat","count":-1}'
check "POST /admin/reconcile is accepted" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$STOCK_PORT/admin/reconcile")" = 202 ]
check "the reconciliation finishes although the ERP's cursor never advances" wait_for 30 run_done "$before"
echo "   (GET /admin/reconcile: $(admin))"
check "the run reports the cursor that did not advance" bash -c "admin() { curl -s http://127.0.0.1:$STOCK_PORT/admin/reconcile; }; admin | jq -r .error | grep -q 'did not advance'"
check "the fault is disarmed again" erp_fault '{"mode":"none"}'
erp_set SKU-000004 WH-MAIN 32
check "polling goes on (SKU-000004: A 30, B 27)" wait_for 20 both_qty SKU-000004 30 27
