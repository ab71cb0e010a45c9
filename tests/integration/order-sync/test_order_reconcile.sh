# Reconciliation: shop orders compared with ERP orders over a window; an order neither webhook nor
# poll brought is reported missing and booked; an order booked twice outside erpsync is reported
# duplicated; the findings are in the log, the metrics and GET /admin/reconcile.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup
woo_hook "$WOO_A_PORT" "$WHSEC_A"

a=$(woo_order "$WOO_A_PORT")
check "order $a is booked" wait_for 30 order_booked woo-a "$a"
woo_hook_fault "$WOO_A_PORT" drop 1
b=$(woo_order "$WOO_A_PORT")
# somebody booked order a a second time by hand in the ERP
erp_api POST /api/v1/orders "$(erp_order_json woo-a "$a" | jq -c '{external_ref, customer_id, currency, lines, totals, billing, shipping}')" >/dev/null
check "the ERP now holds two orders for $a" [ "$(erp_orders_of woo-a "$a")" = 2 ]
check "a reconciliation is started (202)" [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:$ORDER_PORT/admin/reconcile)" = 202 ]
rec() { curl -s "http://127.0.0.1:$ORDER_PORT/admin/reconcile"; }
check "it finishes" wait_for 30 bash -c "curl -s http://127.0.0.1:$ORDER_PORT/admin/reconcile | jq -e '.last.run and (.running | not)' >/dev/null"
rec | jq -c '.last | del(.findings)'
check "the order no webhook brought is reported missing" [ "$(rec | jq "[.last.findings[] | select(.kind == \"missing\" and .order == \"$b\")] | length")" = 1 ]
check "and booked" wait_for 30 order_booked woo-a "$b"
check "once" [ "$(erp_orders_of woo-a "$b")" = 1 ]
check "the order booked twice is reported duplicated" [ "$(rec | jq "[.last.findings[] | select(.kind == \"duplicated\" and .order == \"$a\")] | length")" = 1 ]
check "findings are counted" [ "$(omet erpsync_order_reconcile_findings_total 'kind="missing"')" -ge 1 ]
check "and logged" grep -q "reconciliation: missing order woo-a|$b" "$IT_DIR/order-sync.log"
check "and kept in PostgreSQL" [ "$(psql_q "SELECT count(*) FROM order_sync.reconcile_finding WHERE external_id = '$b' AND kind = 'missing'")" = 1 ]
