# The polling backstop: an order whose webhook never came is found by the poll; an order that
# came by webhook and is listed by the poll too is one ERP order; both publish the same OrderEvent.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup ORDER_POLL_INTERVAL=2s
woo_hook "$WOO_A_PORT" "$WHSEC_A"

a=$(woo_order "$WOO_A_PORT")
check "an order delivered by webhook is booked" wait_for 30 order_booked woo-a "$a"
woo_hook_fault "$WOO_A_PORT" drop 1
b=$(woo_order "$WOO_A_PORT")
check "the shop dropped its webhook" wait_for 10 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/webhooks/stats | jq '.dropped')\" -ge 1 ]"
check "the poll finds the order whose webhook never came, and it is booked" wait_for 30 order_booked woo-a "$b"
check "it came by the poll (counted)" [ "$(omet erpsync_order_polled_total 'shop="woo-a"')" -ge 1 ]
# the polls since the webhook's order was taken listed it too (from the cursor's start), the one
# that found the second among them: still one event, one ERP order
check "the polls did not publish the webhook's order again" [ "$(order_row woo-a "$a" version)" = 1 ]
check "exactly one ERP order each" bash -c "[ $(erp_orders_of woo-a "$a") = 1 ] && [ $(erp_orders_of woo-a "$b") = 1 ]"
check "the poll cursor is kept in PostgreSQL" [ -n "$(psql_q "SELECT value FROM order_sync.cursor WHERE name = 'shop:woo-a:modified'")" ]
# duplicated deliveries from the shop (its retry after a lost answer): still one
woo_hook_fault "$WOO_A_PORT" duplicate 1
c=$(woo_order "$WOO_A_PORT")
check "an order whose webhook the shop sent twice is booked" wait_for 30 order_booked woo-a "$c"
check "once" [ "$(erp_orders_of woo-a "$c")" = 1 ]
check "the second delivery was a duplicate" [ "$(omet erpsync_order_webhooks_total 'outcome="duplicate"')" -ge 1 ]
