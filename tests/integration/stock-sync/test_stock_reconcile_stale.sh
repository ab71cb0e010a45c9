# Reconciliation never rolls stock back. When stock-sync already holds a newer version of a record
# than the ERP page it reads (a change applied between the read and the comparison, or a lagging
# ERP replica), the older page is left alone and counted; only a record stock-sync lacks or holds
# an older version of is repaired. (Lower versions are accepted only after a detected feed restart:
# test_stock_erp_feed_reset.)
. "$(dirname "$0")/../lib.sh"
# one poll at start (the ERP is empty then), none for an hour after: the ERP changes below are
# seen by reconciliation only
IT_POLL_INTERVAL=1h it_setup 20

admin() { curl -s "http://127.0.0.1:$STOCK_PORT/admin/reconcile"; }
is_leader() { [ "$(admin | jq -r .leader)" = true ]; }
run_done() {
	local s; s=$(admin)
	[ "$(jq -r .state <<<"$s")" = idle ] && [ "$(jq -r .finished_unix_us <<<"$s")" != "$1" ] &&
		[ "$(jq -r .finished_unix_us <<<"$s")" != 0 ]
}
reconcile() {
	local code before
	wait_for 30 is_leader || { echo "   (not the leader: $(admin))"; return 1; }
	before=$(admin | jq -r .finished_unix_us)
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$STOCK_PORT/admin/reconcile")
	[ "$code" = 202 ] || { echo "   (POST /admin/reconcile answered $code)"; return 1; }
	wait_for 30 run_done "$before" || { echo "   (the run did not finish: $(admin))"; return 1; }
	RUN=$(admin)
	echo "   (GET /admin/reconcile: $RUN)"
}
field() { jq -r ".$1" <<<"$RUN"; }
state() { psql_q "SELECT available_milli / 1000 || '/' || version FROM stock_sync.stock WHERE sku = '$1' AND warehouse = 'WH-MAIN'"; }
state_is() { [ "$(state "$1")" = "$2" ]; }
both_qty() { qty_is "$WOO_A_PORT" "$1" "$2" && qty_is "$WOO_B_PORT" "$1" "$3"; }
drained() { [ "$(psql_q "SELECT (SELECT count(*) FROM stock_sync.shop_dirty) + (SELECT count(*) FROM stock_sync.shop_mark)")" -eq 0 ]; }
polled_once() { [ "$(metric erpsync_stock_erp_polls_total 'result="ok"')" -ge 1 ]; }

check "the start-up poll is done" wait_for 20 polled_once
# the ERP: SKU-000001 50 at version 1, SKU-000003 30 at version 1 (neither polled)
erp_set SKU-000001 WH-MAIN 50
erp_set SKU-000003 WH-MAIN 30
# stock-sync meanwhile applied a newer SKU-000001 (version 100, 40) that this ERP page does not show yet
stockgen -n 1 -s 1 -q 40 -v 99 >/dev/null
check "stock-sync holds SKU-000001 at version 100 (40/100)" wait_for 20 state_is SKU-000001 40/100
check "the shops show it (A 38, B 35)" wait_for 20 both_qty SKU-000001 38 35
check "stock-sync does not know SKU-000003 yet" [ -z "$(state SKU-000003)" ]

check "POST /admin/reconcile is accepted (202) and the run finishes" reconcile
check "the run read both ERP records" [ "$(field erp_records)" -eq 2 ]
check "the run reports no error" [ -z "$(field error)" ]
check "the record stock-sync lacked is repaired (erp_repairs 1, got $(field erp_repairs))" [ "$(field erp_repairs)" -eq 1 ]
check "SKU-000003 reaches the shops (A 28, B 25)" wait_for 20 both_qty SKU-000003 28 25
check "the older ERP record did not overwrite the newer state (still 40/100, got $(state SKU-000001))" \
	state_is SKU-000001 40/100
check "nothing left to write" wait_for 10 drained
check "the shops still show the newer quantity (A 38, B 35)" both_qty SKU-000001 38 35
check "the older page is counted (erpsync_stock_reconcile_erp_stale_total 1)" \
	[ "$(metric erpsync_stock_reconcile_erp_stale_total)" -eq 1 ]
check "and not as a version reset" [ "$(metric erpsync_stock_reconcile_repairs_total 'side="erp_version_reset"')" -eq 0 ]
