# Refunds: a partial refund in the shop (a line and its quantity, with shipping) becomes one
# return document in the ERP, once, even when the order is delivered to order-sync again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup
woo_hook "$WOO_A_PORT" "$WHSEC_A"

a=$(woo_order "$WOO_A_PORT")
check "order $a is booked" wait_for 30 order_booked woo-a "$a"
line=$(woo_api "$WOO_A_PORT" GET "/wp-json/wc/v3/orders/$a" | jq '.line_items[0].id')
ship=$(woo_api "$WOO_A_PORT" GET "/wp-json/wc/v3/orders/$a" | jq '.shipping_lines[0].id')
r=$(woo_api "$WOO_A_PORT" POST "/wp-json/wc/v3/orders/$a/refunds" \
	"{\"amount\":\"71.34\",\"reason\":\"jeden kubek pęknięty\",\"line_items\":[{\"id\":$line,\"quantity\":1,\"refund_total\":\"45.00\",\"refund_tax\":[{\"id\":1,\"refund_total\":\"10.35\"}]},{\"id\":$ship,\"refund_total\":\"13.00\",\"refund_tax\":[{\"id\":1,\"refund_total\":\"2.99\"}]}],\"api_refund\":false}" | jq -r .id)
check "the shop recorded refund $r" [ -n "$r" ] && [ "$r" != null ]
ret() { erp_api GET "/api/v1/returns?external_ref=woo-a%7C$a%7C$r"; }
check "one return document in the ERP" wait_for 30 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/returns?external_ref=woo-a%7C$a%7C$r' | jq '.items | length')\" = 1 ]"
doc=$(ret | jq -c '.items[0]')
echo "$doc" | head -c 800; echo
check "for 71.34" [ "$(jq .total_minor <<<"$doc")" = 7134 ]
check "returning one KUB-001" [ "$(jq -c '[.lines[] | select(.sku == "KUB-001") | .quantity_milli]' <<<"$doc")" = '[1000]' ]
check "with the shipping refunded" [ "$(jq '.shipping_net_minor + .shipping_tax_minor' <<<"$doc")" = 1599 ]
check "returns.v1 carries it" wait_for 20 bash -c "[ \$(kcat -b $KAFKA_BOOTSTRAP_SERVERS -C -t $IT_RETURNS_TOPIC -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c '^woo-a|$a\$') -ge 1 ]"
# the order is delivered again (a later change): the refund is not registered twice
woo_api "$WOO_A_PORT" PUT "/wp-json/wc/v3/orders/$a" '{"status":"on-hold"}' >/dev/null
check "the later change is taken" wait_for 20 bash -c "[ \"\$(psql '$PG_DSN' -XAtc \"SELECT status FROM order_sync.orders WHERE external_id = '$a'\")\" = on-hold ]"
check "every shop.orders.v1 record so far is consumed" wait_for 30 all_claimed "$IT_ORDERS_TOPIC"
check "still one return document" [ "$(ret | jq '.items | length')" = 1 ]
