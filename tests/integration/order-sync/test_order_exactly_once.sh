# Exactly one ERP order per shop order, whatever fails: order-sync killed with SIGKILL after the
# ERP created the order but before order-sync committed it; the ERP answering 500; the ERP creating
# the order and its answer never arriving. Each time the order is looked up by its external
# reference before any create, so the ERP ends with exactly one.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup
woo_hook "$WOO_A_PORT" "$WHSEC_A"
posts() { erp_stats | jq '.calls_by_endpoint["POST /api/v1/orders"] // 0'; }

# 1. killed between the ERP's create and order-sync's commit: the ERP creates the order and holds
#    its answer; order-sync is killed while it waits
erp_fault lost_answer 1 /api/v1/orders
before=$(posts)
a=$(woo_order "$WOO_A_PORT")
check "the ERP created order $a (its answer held back)" wait_for 20 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/orders?external_ref=woo-a%7C$a' | jq '.items | length')\" = 1 ]"
kill -KILL "$ORDER_PID"
wait "$ORDER_PID" 2>/dev/null
check "order-sync had not recorded the booking when it died" [ -z "$(order_row woo-a "$a" erp_id)" ]
start_order
check "order-sync is ready again" order_ready 30
check "after the restart the order is booked" wait_for 40 order_booked woo-a "$a"
check "the ERP holds exactly one order for it" [ "$(erp_orders_of woo-a "$a")" = 1 ]
check "the booking adopted the ERP's order (found by its reference)" [ "$(order_row woo-a "$a" erp_id)" = "$(erp_order_json woo-a "$a" | jq -r .id)" ]
check "found, not created again: one create call" [ $(($(posts) - before)) -eq 1 ]

# 2. the ERP answers 500 three times, then takes it
erp_fault 500 3 /api/v1/orders
b=$(woo_order "$WOO_A_PORT")
check "after three 500s the order is booked" wait_for 40 order_booked woo-a "$b"
check "exactly one ERP order" [ "$(erp_orders_of woo-a "$b")" = 1 ]

# 3. the ERP creates it and the answer is lost (order-sync times out): the lookup resolves it
erp_fault lost_answer 1 /api/v1/orders
c=$(woo_order "$WOO_A_PORT")
check "an order whose create answer was lost is booked" wait_for 60 order_booked woo-a "$c"
check "exactly one ERP order" [ "$(erp_orders_of woo-a "$c")" = 1 ]
check "resolved by lookup is counted" [ "$(omet erpsync_order_booking_found_total)" -ge 1 ]
check "no ERP reference is held by two orders" [ "$(erp_stats | jq '.duplicated_external_refs')" = 0 ]

# 4. the ERP creates it and answers after order-sync gave up waiting (its 10 s timeout)
erp_api POST /sandbox/faults '{"mode":"timeout_after_commit","count":1,"delay_ms":11000,"path":"/api/v1/orders","method":"POST"}' >/dev/null
d=$(woo_order "$WOO_A_PORT")
check "an order whose create timed out is booked" wait_for 60 order_booked woo-a "$d"
check "exactly one ERP order" [ "$(erp_orders_of woo-a "$d")" = 1 ]
check "the timeout was seen and resolved by lookup" grep -q "ERP create of woo-a|$d" "$IT_DIR/order-sync.log"
