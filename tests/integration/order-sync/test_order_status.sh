# The status round-trip: ERP status changes (ready to ship, shipped, completed, cancelled) reach the
# shop order through erp.orders.v1 and SHOP_<ID>_STATUS_MAP; a cancellation in the shop cancels
# the ERP order while it may, and becomes a return case once the ERP invoiced it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup SHOP_WOO_A_STATUS_MAP=confirmed=processing,ready_to_ship=processing,shipped=on-hold,completed=completed,cancelled=cancelled
woo_hook "$WOO_A_PORT" "$WHSEC_A"
erp_status() { erp_api POST "/sandbox/orders/$1/status" "{\"status\":\"$2\"}" >/dev/null; }

a=$(woo_order "$WOO_A_PORT")
check "order $a is booked" wait_for 30 order_booked woo-a "$a"
ea=$(order_row woo-a "$a" erp_id)
erp_status "$ea" shipped
check "the ERP's 'shipped' reaches the shop as the mapped status (on-hold)" wait_for 20 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/wp-json/wc/v3/orders/$a | jq -r .status)\" = on-hold ]"
erp_status "$ea" completed
check "the ERP's 'completed' reaches the shop" wait_for 20 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/wp-json/wc/v3/orders/$a | jq -r .status)\" = completed ]"
check "the ERP status is kept" [ "$(order_row woo-a "$a" erp_status)" = completed ]
check "erp.orders.v1 carries the status changes" wait_for 20 bash -c "[ \$(kcat -b $KAFKA_BOOTSTRAP_SERVERS -C -t $IT_ERP_ORDERS_TOPIC -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c '^woo-a|$a\$') -ge 3 ]"

# cancelled in the shop while the ERP may still cancel: cancelled there
b=$(woo_order "$WOO_A_PORT")
check "order $b is booked" wait_for 30 order_booked woo-a "$b"
woo_api "$WOO_A_PORT" PUT "/wp-json/wc/v3/orders/$b" '{"status":"cancelled"}' >/dev/null
check "a shop cancellation cancels the ERP order" wait_for 20 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/orders?external_ref=woo-a%7C$b' | jq -r '.items[0].status')\" = cancelled ]"

# cancelled in the shop after the ERP invoiced it: a return case instead
c=$(woo_order "$WOO_A_PORT")
check "order $c is booked" wait_for 30 order_booked woo-a "$c"
erp_api POST "/sandbox/orders/$(order_row woo-a "$c" erp_id)/invoiced" >/dev/null
woo_api "$WOO_A_PORT" PUT "/wp-json/wc/v3/orders/$c" '{"status":"cancelled"}' >/dev/null
check "the invoiced order's cancellation becomes a return document in the ERP" wait_for 30 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/returns?external_ref=woo-a%7C$c%7Ccancellation' | jq '.items | length')\" = 1 ]"
check "the ERP order stays (not cancelled)" [ "$(erp_order_json woo-a "$c" | jq -r .status)" != cancelled ]
