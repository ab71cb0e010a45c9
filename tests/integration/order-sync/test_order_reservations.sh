# stock-sync's reservations with order-sync producing shop.orders.v1 and erp.orders.v1 for real
# (no ordergen): an order placed in shop A holds its stock back from shop B at once; order-sync
# books it in the ERP, and the booking ends the hold.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
reset_schema
reset_order_schema
order_topics
start_erp 0
start_woo "$WOO_A_PORT" 20
start_woo "$WOO_B_PORT" 20
erp_set SKU-000005 WH-MAIN 20
erp_set SKU-000006 WH-MAIN 20
erp_set SKU-000007 WH-MAIN 20
start_stock
check "stock-sync becomes ready" stock_ready 30
check "the shops start at ERP stock minus buffer (B 15)" wait_for 30 qty_is "$WOO_B_PORT" SKU-000005 15
# the ERP holds its answer to order creates until released, so that the hold can be seen first
erp_api POST /sandbox/faults '{"mode":"slow","count":1,"delay_ms":4000,"path":"/api/v1/orders","method":"POST"}' >/dev/null
start_order
check "order-sync becomes ready" order_ready 30
order_assigned
woo_hook "$WOO_A_PORT" "$WHSEC_A"
a=$(woo_order "$WOO_A_PORT" '.line_items[0].sku = "SKU-000005" | .line_items[1].sku = "SKU-000006" | .line_items[2].sku = "SKU-000007"')
check "order $a placed in shop A lowers shop B before the ERP books it (B 15 - 2 = 13)" wait_for 20 qty_is "$WOO_B_PORT" SKU-000005 13
check "stock-sync holds the order's lines" [ "$(psql_q "SELECT sum(qty_milli) FROM stock_sync.reservation WHERE shop = 'woo-a' AND order_id = '$a'")" = 6000 ]
check "order-sync books it" wait_for 40 order_booked woo-a "$a"
check "the booking on erp.orders.v1 ends the hold" wait_for 30 bash -c "[ \"\$(psql '$PG_DSN' -XAtc \"SELECT count(*) FROM stock_sync.reservation WHERE order_id = '$a'\")\" = 0 ]"
# the ERP took the stock out when it booked the order (its own stock figure follows)
erp_set SKU-000005 WH-MAIN 18
check "the shops follow the ERP's stock, the order not counted twice (B 13)" wait_for 20 qty_is "$WOO_B_PORT" SKU-000005 13
