# Complaints (reklamacje): filed on an order, opened as a case in the ERP once; the ERP's decision
# reaches the customer as one note; an accepted complaint ending in a refund flows on as a return.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup
woo_hook "$WOO_A_PORT" "$WHSEC_A"
complain() {
	curl -s -o "$IT_DIR/complaint.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d "$1" "http://127.0.0.1:$ORDER_PORT/admin/complaints"
}

a=$(woo_order "$WOO_A_PORT")
check "order $a is booked" wait_for 30 order_booked woo-a "$a"
line=$(woo_api "$WOO_A_PORT" GET "/wp-json/wc/v3/orders/$a" | jq -r '.line_items[0].id')
body="{\"shop\":\"woo-a\",\"order_id\":\"$a\",\"complaint_id\":\"RMA-$a\",\"reason\":\"defective\",\"requested_remedy\":\"refund\",\"note\":\"emalia odpada po tygodniu\",\"lines\":[{\"line_id\":\"$line\",\"quantity\":1,\"reason\":\"emalia odpada\"}]}"
check "a complaint is filed (202)" [ "$(complain "$body")" = 202 ]
check "filing it again changes nothing (200)" [ "$(complain "$body")" = 200 ]
check "a complaint on a line the order does not have is 422" [ "$(complain "{\"shop\":\"woo-a\",\"order_id\":\"$a\",\"requested_remedy\":\"repair\",\"lines\":[{\"line_id\":\"999999\",\"quantity\":1}]}")" = 422 ]
check "a complaint on an unknown order is 404" [ "$(complain "{\"shop\":\"woo-a\",\"order_id\":\"424242\",\"requested_remedy\":\"repair\",\"lines\":[{\"line_id\":\"1\",\"quantity\":1}]}")" = 404 ]
cases() { erp_api GET "/api/v1/complaints?external_ref=woo-a%7C$a%7CRMA-$a"; }
check "the ERP has one complaint case" wait_for 30 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/complaints?external_ref=woo-a%7C$a%7CRMA-$a' | jq '.items | length')\" = 1 ]"
cid=$(cases | jq -r '.items[0].id')
check "asking for a refund" [ "$(cases | jq -r '.items[0].requested_remedy')" = refund ]
erp_api POST "/sandbox/complaints/$cid/decision" '{"status":"accepted","resolution":"refund","note":"Zwrot 55,35 zł na konto.","refund_minor":5535}' >/dev/null
check "the decision reaches the customer as a note" wait_for 30 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/wp-json/wc/v3/orders/$a/notes | jq '[.[] | select(.note | contains(\"RMA-$a\")) | select(.customer_note)] | length')\" = 1 ]"
check "the accepted refund becomes a return document in the ERP" wait_for 30 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/returns?external_ref=woo-a%7C$a%7CRMA-$a-refund' | jq '.items | length')\" = 1 ]"
check "for the refund the ERP decided" [ "$(erp_api GET "/api/v1/returns?external_ref=woo-a%7C$a%7CRMA-$a-refund" | jq '.items[0].total_minor')" = 5535 ]
check "every returns.v1 record is consumed" wait_for 30 all_claimed "$IT_RETURNS_TOPIC"
check "one decision note only" [ "$(woo_notes "$WOO_A_PORT" "$a" | jq "[.[] | select(.note | contains(\"RMA-$a\"))] | length")" = 1 ]
check "order-sync shows the case" bash -c "curl -s http://127.0.0.1:$ORDER_PORT/admin/orders/woo-a/$a | jq -e '.returns | map(.id) | index(\"RMA-$a\")' >/dev/null"
