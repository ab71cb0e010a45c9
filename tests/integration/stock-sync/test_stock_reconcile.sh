# Reconciliation repairs drift on both sides. Shop drift: a quantity changed in the shop behind
# stock-sync's back is put back to the rule by POST /admin/reconcile. ERP drift: a change the
# poller never saw (poll interval 1 h) arrives through reconciliation. A second run right after
# finds nothing to repair.
. "$(dirname "$0")/../lib.sh"
it_setup 20

admin() { curl -s "http://127.0.0.1:$STOCK_PORT/admin/reconcile"; }
is_leader() { [ "$(admin | jq -r .leader)" = true ]; }
# run_done BEFORE: the last run is over and is not the one that had finished at BEFORE
run_done() {
	local s; s=$(admin)
	[ "$(jq -r .state <<<"$s")" = idle ] && [ "$(jq -r .finished_unix_us <<<"$s")" != "$1" ] &&
		[ "$(jq -r .finished_unix_us <<<"$s")" != 0 ]
}
# reconcile: POST /admin/reconcile answers 202, then waits for the run to finish; RUN = its status
reconcile() {
	local code before
	# only the instance holding the poller's leader lock runs reconciliations
	wait_for 30 is_leader || { echo "   (not the leader: $(admin))"; return 1; }
	before=$(admin | jq -r .finished_unix_us)
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$STOCK_PORT/admin/reconcile")
	[ "$code" = 202 ] || { echo "   (POST /admin/reconcile answered $code)"; return 1; }
	wait_for 30 run_done "$before" || { echo "   (the run did not finish: $(admin))"; return 1; }
	RUN=$(admin)
	echo "   (GET /admin/reconcile: $RUN)"
}
field() { jq -r ".$1" <<<"$RUN"; }
cursor() { psql_q "SELECT cursor FROM stock_sync.erp_cursor WHERE source = 'erp'"; }
erp_last_seq() { curl -s -H "Authorization: Bearer $ERP_TOKEN" "http://127.0.0.1:$ERP_PORT/sandbox/stats" | jq -r .last_seq; }
cursor_at_erp() { [ "$(cursor)" = "$(erp_last_seq)" ]; }
# both_qty SKU A B: shop A shows A and shop B shows B for SKU
both_qty() { qty_is "$WOO_A_PORT" "$1" "$2" && qty_is "$WOO_B_PORT" "$1" "$3"; }
drained() { [ "$(psql_q "SELECT (SELECT count(*) FROM stock_sync.shop_dirty) + (SELECT count(*) FROM stock_sync.shop_mark)")" -eq 0 ]; }

# ---- shop drift ---------------------------------------------------------------------------------
erp_set SKU-000004 WH-MAIN 50
check "shops start at the rule (A 48, B 45)" wait_for 20 both_qty SKU-000004 48 45
check "nothing left to write" wait_for 10 drained
check "shop A's quantity is changed behind stock-sync's back (999)" bash -c \
	"curl -s -u ck_it:cs_it -X PUT -d '{\"manage_stock\":true,\"stock_quantity\":999}' \
	 -o /dev/null -w '%{http_code}' http://127.0.0.1:$WOO_A_PORT/wp-json/wc/v3/products/1004 | grep -q '^200$'"
check "shop A shows 999" qty_is "$WOO_A_PORT" SKU-000004 999
check "POST /admin/reconcile is accepted (202) and the run finishes" reconcile
check "the run found the shop drift (shop_repairs >= 1, got $(field shop_repairs))" [ "$(field shop_repairs)" -ge 1 ]
check "the run read shop items" [ "$(field shop_items)" -ge 20 ]
check "the run reports no error" [ -z "$(field error)" ]
check "shop A is put back to the rule (48)" wait_for 20 qty_is "$WOO_A_PORT" SKU-000004 48
check "shop B was left alone (45)" qty_is "$WOO_B_PORT" SKU-000004 45
check "erpsync_stock_reconcile_repairs_total{side=\"shop\"} >= 1" \
	[ "$(metric erpsync_stock_reconcile_repairs_total 'side="shop"')" -ge 1 ]
check "the run is recorded in stock_sync.reconcile_run" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.reconcile_run WHERE trigger = 'request' AND shop_drift >= 1")" -ge 1 ]

# ---- ERP drift: a change the poller never sees ------------------------------------------------------
kill -TERM "$STOCK_PID"
wait "$STOCK_PID"
start_stock STOCK_POLL_INTERVAL=1h
check "stock-sync with a 1 h poll interval becomes ready" stock_ready 30
# its one poll at start finds nothing new; from now on it does not poll for an hour
polled_once() { [ "$(metric erpsync_stock_erp_polls_total 'result="ok"')" -ge 1 ] && cursor_at_erp; }
check "its start-up poll is done and caught up with the ERP" wait_for 20 polled_once
seen=$(cursor)
erp_set SKU-000009 WH-MAIN 70
erp_set SKU-000004 WH-SOUTH 10
sleep 2
unseen() { [ "$(cursor)" = "$seen" ] && both_qty SKU-000004 48 45 && both_qty SKU-000009 13 13; }   # 13: the demo quantity (7 x 9) mod 50
check "the poller did not see the changes (cursor still $seen, shops unchanged)" unseen
check "POST /admin/reconcile is accepted (202) and the run finishes" reconcile
check "the run found the ERP drift (erp_repairs = 2, got $(field erp_repairs))" [ "$(field erp_repairs)" -eq 2 ]
check "the run read every ERP record (3)" [ "$(field erp_records)" -eq 3 ]
check "erpsync_stock_reconcile_repairs_total{side=\"erp\"} is 2" \
	[ "$(metric erpsync_stock_reconcile_repairs_total 'side="erp"')" -eq 2 ]
check "the unseen changes arrive: SKU-000009 (A 68, B 65)" wait_for 20 both_qty SKU-000009 68 65
check "the unseen changes arrive: SKU-000004 WH-SOUTH counts in shop A only (A 58, B 45)" \
	wait_for 20 both_qty SKU-000004 58 45
check "the cursor was not moved by reconciliation (still $seen)" [ "$(cursor)" = "$seen" ]
check "nothing left to write" wait_for 10 drained

# ---- nothing left: a second run right after repairs nothing -------------------------------------
check "a second reconciliation is accepted (202) and finishes" reconcile
check "the second run finds no ERP drift (erp_repairs = 0)" [ "$(field erp_repairs)" -eq 0 ]
check "the second run finds no shop drift (shop_repairs = 0)" [ "$(field shop_repairs)" -eq 0 ]
check "the second run reports no error" [ -z "$(field error)" ]
# two requests back to back: the first is taken, the second finds it requested or running
twice() {
	local a b
	is_leader || return 1
	a=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$STOCK_PORT/admin/reconcile")
	b=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$STOCK_PORT/admin/reconcile")
	echo "   (two POSTs answered $a, $b)"
	[ "$a" = 202 ] && [ "$b" = 409 ]
}
check "POST /admin/reconcile twice at once: the second is refused with 409" twice
