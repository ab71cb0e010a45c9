# The real order body: lines at 23, 8 and 5 % VAT, a coupon, parcel-locker shipping, a fee and the
# buyer's NIP book in the ERP with the totals equal to the grosz, the payment registered once; an
# order whose lines do not add up to its total is held with both figures, and the rest goes on.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup
woo_hook "$WOO_A_PORT" "$WHSEC_A"

id=$(woo_order "$WOO_A_PORT")
check "the shop has the order ($id)" [ -n "$id" ] && [ "$id" != null ]
check "it is booked in the ERP" wait_for 30 order_booked woo-a "$id"
erp=$(erp_order_json woo-a "$id")
echo "$erp" >"$IT_DIR/erp-order.json"
check "the ERP's total is the shop's to the grosz (199.71)" [ "$(jq '.totals.gross_minor' <<<"$erp")" = 19971 ]
check "the ERP's tax is the shop's (28.80)" [ "$(jq '.totals.tax_minor' <<<"$erp")" = 2880 ]
check "the lines carry 23, 5 and 8 % VAT" [ "$(jq -c '[.lines[] | select(.kind == "item") | .vat_rate_bp]' <<<"$erp")" = '[2300,500,800]' ]
check "the ERP's lines add up to its total" [ "$(jq '[.lines[].gross_minor] | add' <<<"$erp")" = 19971 ]
check "shipping and the fee are lines" [ "$(jq '[.lines[] | select(.kind == "shipping" or .kind == "fee")] | length' <<<"$erp")" = 2 ]
check "the parcel locker is the pickup point" [ "$(jq -r '.pickup_point' <<<"$erp")" = KRA010M ]
cust=$(jq -r '.customer_id' <<<"$erp")
check "the buyer was found or created by NIP" [ "$(erp_api GET "/api/v1/customers?nip=5261040828" | jq -r '.items[0].id')" = "$cust" ]
check "the payment is registered once against the order" \
	wait_for 20 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/payments?external_ref=woo-a%7C$id%7CP24-991-22' | jq '.items | length')\" = 1 ]"
check "for the order's amount" [ "$(erp_api GET "/api/v1/payments?external_ref=woo-a%7C$id%7CP24-991-22" | jq '.items[0].amount_minor')" = 19971 ]
check "erp.orders.v1 carries the booking with the ERP's number" \
	wait_for 20 bash -c "[ \$(kcat -b $KAFKA_BOOTSTRAP_SERVERS -C -t $IT_ERP_ORDERS_TOPIC -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c '^woo-a|$id\$') -ge 1 ]"

# one grosz off: held, with both figures, and the next order still books
bad=$(woo_order "$WOO_A_PORT" '.total = "199.72"')
good=$(woo_order "$WOO_A_PORT")
check "an order after the bad one is booked" wait_for 30 order_booked woo-a "$good"
dlq_of() { kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_ORDERS_TOPIC.dlq" -o beginning -e -q -f '%k %h\n' 2>/dev/null | grep "^woo-a|$1 "; }
check "the bad one is in the DLQ" wait_for 20 bash -c "$(declare -f dlq_of); KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS IT_ORDERS_TOPIC=$IT_ORDERS_TOPIC dlq_of $bad >/dev/null"
dlq=$(dlq_of "$bad")
echo "$dlq" | head -c 600; echo
check "it is not booked" [ -z "$(order_row woo-a "$bad" erp_id)" ]
check "nothing in the ERP for it" [ "$(erp_orders_of woo-a "$bad")" = 0 ]
check "the reason names the shop's total and the computed one" bash -c "grep -q '199.72' <<<'$dlq' && grep -q '199.71' <<<'$dlq'"
check "held orders are counted by reason" [ "$(omet erpsync_order_held_total 'reason="totals"')" -ge 1 ]
check "the booking latency is measured" [ "$(omet erpsync_order_shop_to_erp_seconds_count)" -ge 2 ]
